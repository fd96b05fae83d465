#include "reconcilers/flows/key_vault_change.h"

#include <algorithm>

#include "azure/resource_id.h"
#include "reconcilers/documents.h"

namespace anf::reconcilers::flows {

namespace {

bool sameUri(std::string a, std::string b) {
  while (!a.empty() && a.back() == '/') a.pop_back();
  while (!b.empty() && b.back() == '/') b.pop_back();
  return azure::equalsIgnoreCase(a, b);
}

void addUnique(std::vector<std::string>& out, const std::string& id) {
  if (!id.empty() && std::ranges::none_of(out, [&](const std::string& v) { return sameId(v, id); }))
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
  if (!sameId(encryption.value("keySource", std::string(kKeySourceNetApp)), kKeySourceKeyVault)) return false;
  const auto target = KeyVaultTarget::fromSpec(spec);
  const Json current = encryption.value("keyVaultProperties", Json::object());
  const std::string currentId = current.value("keyVaultResourceId", "");
  if (!target.resourceId.empty() && !currentId.empty() && !sameId(target.resourceId, currentId)) return true;
  return !target.uri.empty() && !sameUri(target.uri, current.value("keyVaultUri", ""));
}

std::vector<VnetEndpoint> keyVaultEndpointsOf(const controller::ReconcileContext& context) {
  std::vector<VnetEndpoint> out;
  const Json entries = context.document.spec.value("/encryption/keyVault/privateEndpoints"_json_pointer, Json::array());
  for (const auto& entry : entries) {
    VnetEndpoint endpoint{.virtualNetworkId = entry.value("virtualNetworkId", ""),
                          .privateEndpointId = entry.value("privateEndpointId", ""),
                          .privateEndpointRef = entry.value("privateEndpointRef", "")};
    if (endpoint.privateEndpointId.empty() && !endpoint.privateEndpointRef.empty() && context.statusOf) {
      const auto* status =
          context.statusOf(controller::DocumentKey{controller::Kind::PrivateEndpoint, endpoint.privateEndpointRef});
      if (status) endpoint.privateEndpointId = status->facts.value("resourceId", "");
    }
    out.push_back(std::move(endpoint));
  }
  return out;
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
    auto it = std::ranges::find_if(endpoints, [&](const VnetEndpoint& e) { return sameId(e.virtualNetworkId, vnet); });
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
    return std::unexpected(ReconcileError{
        .reason = "MissingKeyVaultPrivateEndpoints",
        .message = "spec.encryption.keyVault.privateEndpoints: changing the key vault to " + target.resourceId +
                   " needs one private endpoint to the new vault in every virtual network with customer-managed-key "
                   "volumes; none is given for: " +
                   join(missing) + ". Add {virtualNetworkId, privateEndpointRef} for each; nothing was sent.",
        .errorClass = controller::ErrorClass::NeedsDocumentChange});
  if (!unresolved.empty())
    return std::unexpected(ReconcileError{
        .reason = "PrivateEndpointNotReady",
        .message = "spec.encryption.keyVault.privateEndpoints: the endpoint for " + join(unresolved) +
                   " has no resource id yet",
        .retryAfter = std::chrono::seconds(30)});
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

Result<controller::Outcome> KeyVaultChangeFlow::next(const controller::ReconcileContext& context,
                                                     const Json& observedAccount) {
  const std::string tenant = reconcilers::credentialOf(context.document);
  const std::string accountId = accountPathOf(context.document);
  auto target = KeyVaultTarget::fromSpec(context.document.spec);

  auto status = azure_.arm(tenant, "POST", armPath(accountId + "/getKeyVaultStatus", "Microsoft.NetApp"), Json());
  if (!status) return std::unexpected(status.error());
  if (!status->body.contains("properties") && status->operation) {
    // Azure answered asynchronously: let the engine follow it, then come back for the answer.
    return controller::Outcome{.operation = status->operation,
                               .description = "getKeyVaultStatus started before changing the key vault"};
  }
  auto volumes = listAccountVolumes(azure_, context, accountId);
  if (!volumes) return std::unexpected(volumes.error());
  const auto vnets = vnetsNeedingEndpoints(*volumes, status->body);

  if (target.uri.empty()) {
    auto vault = azure_.arm(tenant, "GET", armPath(target.resourceId, "Microsoft.KeyVault"), Json());
    if (!vault) return std::unexpected(vault.error());
    target.uri = vault->body.value("/properties/vaultUri"_json_pointer, std::string());
    if (target.uri.empty())
      return std::unexpected(ReconcileError{
          .reason = "KeyVaultUriUnknown",
          .message = "spec.encryption.keyVault.uri: the vault " + target.resourceId +
                     " cannot be read to learn its URI; give spec.encryption.keyVault.uri",
          .errorClass = controller::ErrorClass::NeedsDocumentChange});
  }
  auto body = buildChangeKeyVaultBody(target, vnets, keyVaultEndpointsOf(context));
  if (!body) return std::unexpected(body.error());

  if (prepare_) {
    auto prepared = prepare_(context, target);
    if (!prepared) return std::unexpected(prepared.error());
    if (*prepared) return **prepared;
  }
  (void)observedAccount;
  auto reply = azure_.arm(tenant, "POST", armPath(accountId + "/changeKeyVault", "Microsoft.NetApp"), *body);
  if (!reply) return std::unexpected(reply.error());
  return controller::Outcome{.operation = reply->operation,
                             .requeueAfter = std::chrono::milliseconds(0),
                             .description = "changeKeyVault to " + target.resourceId + " sent (" +
                                            std::to_string(vnets.size()) + " virtual network endpoint(s))"};
}

}  // namespace anf::reconcilers::flows
