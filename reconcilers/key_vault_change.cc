#include "reconcilers/key_vault_change.h"

#include <algorithm>

#include "azure/client.h"
#include "reconcilers/arm_bodies.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/documents.h"
#include "reconcilers/key_vault_uri.h"

namespace anf::reconcilers {

namespace {

void addUnique(std::vector<std::string>& out, const std::string& id) {
  if (!id.empty() && std::ranges::none_of(out, [&](const std::string& v) { return sameArmId(v, id); }))
    out.push_back(id);
}

}  // namespace

KeyVaultTarget KeyVaultTarget::fromSpec(const Json& spec) {
  const Json keyVault = spec.value("/encryption/keyVault"_json_pointer, Json::object());
  return {.resourceId = keyVault.value("resourceId", ""),
          .uri = keyVault.value("uri", ""),
          .keyName = keyVault.value("keyName", "")};
}

bool keyVaultChangePending(const Json& spec, const Json& observedAccount) {
  const Json encryption = observedAccount.value("/properties/encryption"_json_pointer, Json::object());
  if (!equalsIgnoreCase(encryption.value("keySource", std::string(kKeySourceNetApp)), kKeySourceKeyVault)) return false;
  const auto target = KeyVaultTarget::fromSpec(spec);
  const Json current = encryption.value("keyVaultProperties", Json::object());
  const std::string currentId = current.value("keyVaultResourceId", "");
  if (!target.resourceId.empty() && !currentId.empty() && !sameArmId(target.resourceId, currentId)) return true;
  return !target.uri.empty() && !sameVaultUri(target.uri, current.value("keyVaultUri", ""));
}

std::vector<VnetEndpoint> keyVaultEndpointsOf(const controller::ReconcileContext& context) {
  return vnetEndpointsOf(context, "/encryption/keyVault/privateEndpoints");
}

std::vector<std::string> vnetsNeedingEndpoints(const std::vector<ObservedVolume>& volumes, const Json& keyVaultStatus) {
  std::vector<std::string> out;
  for (const auto& volume : volumes)
    if (volume.cmk()) addUnique(out, volume.virtualNetworkId);
  const Json listed = keyVaultStatus.value("/properties/keyVaultPrivateEndpoints"_json_pointer, Json::array());
  for (const auto& entry : listed) addUnique(out, entry.value("virtualNetworkId", ""));
  return out;
}

Result<Json> buildChangeKeyVaultBody(const KeyVaultTarget& target, const std::vector<std::string>& vnets,
                                     const std::vector<VnetEndpoint>& endpoints) {
  Json privateEndpoints = Json::array();
  std::vector<std::string> missing;
  std::vector<std::string> unresolved;
  for (const auto& vnet : vnets) {
    auto it = std::ranges::find_if(endpoints, [&](const VnetEndpoint& e) { return sameArmId(e.virtualNetworkId, vnet); });
    if (it == endpoints.end()) {
      missing.push_back(vnet);
    } else if (it->privateEndpointId.empty()) {
      unresolved.push_back(vnet + " (privateEndpointRef " + it->privateEndpointRef + ")");
    } else {
      privateEndpoints.push_back({{"virtualNetworkId", vnet}, {"privateEndpointId", it->privateEndpointId}});
    }
  }
  auto join = [](const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
  };
  if (!missing.empty())
    return std::unexpected(refused(
        "MissingKeyVaultPrivateEndpoints",
        "spec.encryption.keyVault.privateEndpoints: changing the key vault to " + target.resourceId +
            " needs one private endpoint to the new vault in every virtual network with customer-managed-key "
            "volumes; none is given for: " +
            join(missing) + ". Add {virtualNetworkId, privateEndpointRef} for each; nothing was sent."));
  if (!unresolved.empty())
    return std::unexpected(
        dependencyNotReady("spec.encryption.keyVault.privateEndpoints: the resource id of the endpoint for " + join(unresolved)));
  Json body = {{"keyVaultUri", target.uri}, {"keyName", target.keyName}, {"keyVaultPrivateEndpoints", privateEndpoints}};
  if (!target.resourceId.empty()) body["keyVaultResourceId"] = target.resourceId;
  return body;
}

std::string keyVaultChangePlanNote(const Json& observedAccount, const KeyVaultTarget& target,
                                   const std::vector<std::string>& vnets) {
  std::string from = observedAccount.value(
      "/properties/encryption/keyVaultProperties/keyVaultResourceId"_json_pointer, std::string("(unknown)"));
  std::string note = "changeKeyVault " + from + " -> " + target.resourceId + " (key " + target.keyName +
                     "), endpoints for virtual networks:";
  for (const auto& vnet : vnets) note += " " + vnet;
  return note;
}

Result<controller::Outcome> changeKeyVault(azure::AzureClient& client, const controller::ReconcileContext& context,
                                           ActionWaits& waits) {
  const std::string credential = credentialOf(context.document);
  const auto accountId = accountIdOf(context.document);
  if (!accountId) return std::unexpected(dependencyNotReady("the account's resource id"));
  auto target = KeyVaultTarget::fromSpec(context.document.spec);

  auto status = await(client.post(credential, *accountId, "getKeyVaultStatus"));
  if (!status) return std::unexpected(status.error());
  const Json statusBody = status->body.is_object() ? status->body : Json::object();
  if (!statusBody.contains("properties") && status->operation)  // asynchronous: the engine follows it, then we come back
    return outcomeOf(*status, "getKeyVaultStatus started before changing the key vault");
  auto volumes = listAccountVolumes(client, context);
  if (!volumes) return std::unexpected(volumes.error());
  const auto vnets = vnetsNeedingEndpoints(*volumes, statusBody);

  if (target.uri.empty()) {
    auto vaultId = azure::ResourceId::parse(target.resourceId);
    if (!vaultId) return std::unexpected(refused("InvalidKeyVaultId", "spec.encryption.keyVault.resourceId: " + vaultId.error()));
    auto vault = getIfExists(client, credential, *vaultId);
    if (!vault) return std::unexpected(vault.error());
    target.uri = *vault ? (*vault)->value("/properties/vaultUri"_json_pointer, std::string()) : "";
    if (target.uri.empty())
      return std::unexpected(refused("KeyVaultUriUnknown", "spec.encryption.keyVault.uri: the vault " + target.resourceId +
                                                               " cannot be read to learn its URI; give spec.encryption.keyVault.uri"));
  }
  auto body = buildChangeKeyVaultBody(target, vnets, keyVaultEndpointsOf(context));
  if (!body) return std::unexpected(body.error());
  auto reply = sendAccountAction(client, context, waits, *accountId, "changeKeyVault", *body);
  if (!reply) return std::unexpected(reply.error());
  auto outcome = outcomeOf(*reply, "changeKeyVault to " + target.resourceId + " sent (" + std::to_string(vnets.size()) +
                                       " virtual network endpoint(s))");
  outcome.requeueAfter = std::chrono::milliseconds(0);
  return outcome;
}

void observeKeyVaultChange(const controller::ReconcileContext& context, const Json& account,
                           controller::Observation& observation) {
  if (!keyVaultChangePending(context.document.spec, account)) return;
  const auto target = KeyVaultTarget::fromSpec(context.document.spec);
  observation.upToDate = false;
  observation.diff.push_back(controller::FieldDiff{
      .path = "properties.encryption.keyVaultProperties.keyVaultResourceId",
      .desired = target.resourceId,
      .observed = account.value("/properties/encryption/keyVaultProperties/keyVaultResourceId"_json_pointer, std::string())});
  std::vector<std::string> vnets;
  for (const auto& endpoint : keyVaultEndpointsOf(context)) vnets.push_back(endpoint.virtualNetworkId);
  observation.planNotes.push_back(keyVaultChangePlanNote(account, target, vnets));
}

Result<std::optional<controller::Outcome>> changeKeyVaultStep(azure::AzureClient& client,
                                                              const controller::ReconcileContext& context,
                                                              const Json& account, ActionWaits& waits) {
  if (!keyVaultChangePending(context.document.spec, account)) return std::optional<controller::Outcome>{};
  if (auto busy = accountBusy(account, "changeKeyVault")) return std::unexpected(*busy);
  auto outcome = changeKeyVault(client, context, waits);
  if (!outcome) return std::unexpected(outcome.error());
  return std::optional<controller::Outcome>{std::move(*outcome)};
}

}  // namespace anf::reconcilers
