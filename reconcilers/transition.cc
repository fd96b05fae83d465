#include "reconcilers/transition.h"

#include <algorithm>

#include "azure/client.h"
#include "reconcilers/arm_bodies.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/documents.h"
#include "reconcilers/feature_registration.h"
#include "reconcilers/key_vault_checks.h"

namespace anf::reconcilers {

using controller::DocumentKey;

namespace {

std::string joinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : ", ") + line;
  return out;
}

Json recordedTransitions(const Json& facts) {
  if (facts.is_object() && facts.contains("transitions") && facts["transitions"].is_array())
    return facts["transitions"];
  return Json::array();
}

Json* entryFor(Json& transitions, const std::string& virtualNetworkId) {
  for (auto& entry : transitions)
    if (sameArmId(entry.value("virtualNetworkId", ""), virtualNetworkId)) return &entry;
  return nullptr;
}

}  // namespace

ObservedVolume ObservedVolume::fromArm(const Json& volume) {
  ObservedVolume out;
  out.id = volume.value("id", "");
  const Json properties = volume.value("properties", Json::object());
  out.subnetId = properties.value("subnetId", "");
  out.virtualNetworkId = virtualNetworkOf(out.subnetId);
  out.encryptionKeySource = properties.value("encryptionKeySource", std::string(kKeySourceNetApp));
  out.fileSystemId = properties.value("fileSystemId", "");
  return out;
}

bool ObservedVolume::cmk() const { return equalsIgnoreCase(encryptionKeySource, kKeySourceKeyVault); }

std::vector<DeclaredVolume> declaredVolumesOf(const controller::ReconcileContext& context) {
  std::vector<const controller::Document*> volumes;
  for (const auto* pool : referringDocuments(context, context.document.key, Kind::CapacityPool))
    for (const auto* volume : referringDocuments(context, pool->key, Kind::Volume)) volumes.push_back(volume);
  std::ranges::sort(volumes, {}, [](const controller::Document* d) -> const controller::DocumentKey& { return d->key; });
  std::vector<DeclaredVolume> out;
  for (const auto* document : volumes) {
    const auto& volume = *document;
    auto id = volumeIdOf(volume, context.desired);
    out.push_back(DeclaredVolume{
        .document = volume.key.str(),
        .expectedId = id ? id->str() : std::string(),
        .encryptionKeySource = volume.spec.value("encryptionKeySource", std::string(kKeySourceNetApp)),
        .virtualNetworkId = virtualNetworkOf(volume.spec.value("subnetId", "")),
    });
  }
  return out;
}

std::vector<VnetEndpoint> vnetEndpointsOf(const controller::ReconcileContext& context, const char* pointer) {
  std::vector<VnetEndpoint> out;
  const Json::json_pointer at{pointer};
  const Json entries = context.document.spec.contains(at) ? context.document.spec.at(at) : Json::array();
  for (const auto& entry : entries) {
    VnetEndpoint endpoint{.virtualNetworkId = entry.value("virtualNetworkId", ""),
                          .privateEndpointId = entry.value("privateEndpointId", ""),
                          .privateEndpointRef = entry.value("privateEndpointRef", "")};
    if (endpoint.privateEndpointId.empty() && !endpoint.privateEndpointRef.empty())
      endpoint.privateEndpointId =
          referencedFact(context, Kind::PrivateEndpoint, endpoint.privateEndpointRef, "resourceId").value_or("");
    out.push_back(std::move(endpoint));
  }
  return out;
}

std::vector<TransitionRequest> transitionRequestsOf(const controller::ReconcileContext& context) {
  return vnetEndpointsOf(context, "/transitionToCMK");
}

std::optional<ReconcileError> checkUndeclaredVolumes(const std::string& virtualNetworkId,
                                                     const std::vector<ObservedVolume>& observed,
                                                     const std::vector<DeclaredVolume>& declared) {
  std::vector<std::string> undeclared;
  for (const auto& volume : observed) {
    if (volume.cmk() || !sameArmId(volume.virtualNetworkId, virtualNetworkId)) continue;
    bool declaredCmk = std::ranges::any_of(declared, [&](const DeclaredVolume& d) {
      return sameArmId(d.expectedId, volume.id) && equalsIgnoreCase(d.encryptionKeySource, kKeySourceKeyVault);
    });
    if (!declaredCmk) undeclared.push_back(volume.id);
  }
  if (undeclared.empty()) return std::nullopt;
  return refused("UndeclaredVolumesInTransition",
                  "transitiontocmk for virtual network " + virtualNetworkId + " would convert " +
                      std::to_string(undeclared.size()) +
                      " volume(s) to customer-managed keys that no Volume document declares with "
                      "encryptionKeySource: Microsoft.KeyVault: " +
                      joinLines(undeclared) +
                      ". The transition converts every volume of the account in that virtual network and cannot "
                      "be undone; declare each of them as a Volume document with encryptionKeySource: "
                      "Microsoft.KeyVault, then the transition goes on.");
}

std::optional<ReconcileError> checkNoReversal(const std::string& virtualNetworkId,
                                              const std::vector<DeclaredVolume>& declared) {
  std::vector<std::string> refusing;
  for (const auto& volume : declared)
    if (sameArmId(volume.virtualNetworkId, virtualNetworkId) && !equalsIgnoreCase(volume.encryptionKeySource, kKeySourceKeyVault))
      refusing.push_back(volume.document);
  if (refusing.empty()) return std::nullopt;
  return refused("TransitionIrreversible",
                  "spec.transitionToCMK converts every volume of virtual network " + virtualNetworkId +
                      " to customer-managed keys, irreversibly, but these documents declare "
                      "encryptionKeySource: Microsoft.NetApp: " +
                      joinLines(refusing) +
                      ". Volumes cannot return to platform-managed keys after the transition; declare them "
                      "Microsoft.KeyVault, or remove the virtual network from spec.transitionToCMK.");
}

bool transitionDone(const std::string& virtualNetworkId, const std::vector<ObservedVolume>& observed) {
  return std::ranges::all_of(observed, [&](const ObservedVolume& volume) {
    return volume.cmk() || !sameArmId(volume.virtualNetworkId, virtualNetworkId);
  });
}

std::optional<ReconcileError> checkAccountCmkReady(const Json& observedAccount) {
  const Json encryption = observedAccount.value("/properties/encryption"_json_pointer, Json::object());
  const std::string keySource = encryption.value("keySource", std::string(kKeySourceNetApp));
  const std::string state = observedAccount.value("/properties/provisioningState"_json_pointer, std::string());
  const std::string vaultStatus = encryption.value("/keyVaultProperties/status"_json_pointer, std::string());
  std::string problem;
  if (!equalsIgnoreCase(keySource, kKeySourceKeyVault))
    problem = "its encryption.keySource is " + keySource;
  else if (state != "Succeeded")
    problem = "its provisioningState is " + state;
  else if (vaultStatus == "Error" || vaultStatus == "Deleted")
    problem = "its key vault status is " + vaultStatus;
  if (problem.empty()) return std::nullopt;
  return waitingForAzure("AccountCmkNotReady", "transitiontocmk waits for the account to use customer-managed keys: " + problem);
}

Result<std::vector<ObservedVolume>> listAccountVolumes(azure::AzureClient& client, const controller::ReconcileContext& context,
                                                       bool fresh) {
  const std::string credential = credentialOf(context.document);
  const auto accountId = accountIdOf(context.document);
  if (!accountId) return std::unexpected(dependencyNotReady("the account's resource id"));
  if (fresh) invalidateList(context, *accountId, "capacityPools");
  auto pools = listForPass(client, context, credential, *accountId, "capacityPools");
  if (!pools) return std::unexpected(pools.error());
  std::vector<ObservedVolume> out;
  for (const auto& pool : *pools) {
    auto poolId = azure::ResourceId::parse(pool.value("id", ""));
    if (!poolId) continue;
    if (fresh) invalidateList(context, *poolId, "volumes");
    auto volumes = listForPass(client, context, credential, *poolId, "volumes");
    if (!volumes) return std::unexpected(volumes.error());
    for (const auto& volume : *volumes) out.push_back(ObservedVolume::fromArm(volume));
  }
  return out;
}

Result<TransitionObservation> observeTransition(azure::AzureClient& client, const controller::ReconcileContext& context,
                                                std::int64_t nowUnixSeconds) {
  TransitionObservation seen;
  const auto requests = transitionRequestsOf(context);
  Json recorded = recordedTransitions(context.self.facts);
  if (requests.empty() && recorded.empty()) return seen;
  // After a POST (a VNet InProgress), a LIST cached during the operation would still show the volumes as
  // PMK and the POST would be sent again: read them fresh.
  const bool sent = std::ranges::any_of(recorded, [](const Json& e) { return e.value("state", "") == "InProgress"; });
  auto volumes = listAccountVolumes(client, context, sent);
  if (!volumes) return std::unexpected(volumes.error());
  seen.volumes = std::move(*volumes);

  Json transitions = Json::array();
  for (const auto& request : requests) {
    Json entry = {{"virtualNetworkId", request.virtualNetworkId}, {"state", "Pending"}};
    if (const Json* old = entryFor(recorded, request.virtualNetworkId)) entry = *old;
    if (entry.value("state", "") != "Succeeded" && transitionDone(request.virtualNetworkId, seen.volumes)) {
      entry["state"] = "Succeeded";
      if (!entry.contains("completedAt")) entry["completedAt"] = nowUnixSeconds;
    }
    if (entry.value("state", "") != "Succeeded") {
      seen.upToDate = false;
      std::vector<std::string> converts;
      for (const auto& volume : seen.volumes)
        if (!volume.cmk() && sameArmId(volume.virtualNetworkId, request.virtualNetworkId)) converts.push_back(volume.id);
      seen.diff.push_back(controller::FieldDiff{.path = "status.transitions[" + request.virtualNetworkId + "]",
                                                .desired = "Succeeded",
                                                .observed = entry.value("state", "Pending")});
      seen.planNotes.push_back("transitiontocmk " + request.virtualNetworkId + " (irreversible): converts " +
                               (converts.empty() ? std::string("no volume") : joinLines(converts)));
    }
    transitions.push_back(std::move(entry));
  }
  // VNets transitioned earlier but no longer listed stay recorded: the transition cannot be undone.
  for (const auto& old : recorded)
    if (!entryFor(transitions, old.value("virtualNetworkId", ""))) transitions.push_back(old);
  seen.facts["transitions"] = std::move(transitions);
  return seen;
}

namespace {

/// The endpoint exists, is in the VNet it transitions, and its connection to the key vault is Approved.
std::optional<ReconcileError> checkEndpoint(azure::AzureClient& client, const controller::ReconcileContext& context,
                                            const TransitionRequest& request) {
  const std::string field = request.privateEndpointRef.empty()
                                ? "spec.transitionToCMK.privateEndpointId"
                                : "spec.transitionToCMK.privateEndpointRef (" + request.privateEndpointRef + ")";
  if (request.privateEndpointId.empty()) return dependencyNotReady(field + ": the private endpoint's resource id");
  auto id = azure::ResourceId::parse(request.privateEndpointId);
  if (!id) return refused("InvalidPrivateEndpointId", field + ": " + id.error());
  auto endpoint = getIfExists(client, credentialOf(context.document), *id);
  if (!endpoint) return endpoint.error();
  if (!*endpoint)
    return waitingForAzure("PrivateEndpointNotFound", field + ": private endpoint " + request.privateEndpointId + " does not exist");
  const Json properties = (*endpoint)->value("properties", Json::object());
  const std::string vnet = virtualNetworkOf(properties.value("/subnet/id"_json_pointer, std::string()));
  if (!sameArmId(vnet, request.virtualNetworkId))
    return refused("PrivateEndpointInWrongVnet", field + ": private endpoint " + request.privateEndpointId +
                                                     " is in virtual network " + vnet + ", not in " +
                                                     request.virtualNetworkId +
                                                     "; the endpoint must be in the virtual network it transitions");
  std::string state;
  for (const char* list : {"privateLinkServiceConnections", "manualPrivateLinkServiceConnections"})
    for (const auto& connection : properties.value(list, Json::array()))
      state = connection.value("/properties/privateLinkServiceConnectionState/status"_json_pointer, state);
  if (state == "Approved") return std::nullopt;
  ReconcileError error = waitingForAzure(
      "PrivateEndpointNotApproved", field + ": the connection of private endpoint " + request.privateEndpointId +
                                        " to the key vault is " + (state.empty() ? std::string("unknown") : state) +
                                        ", not Approved; approve it on the key vault");
  error.conditionType = "DependenciesReady";
  return error;
}

}  // namespace

Result<TransitionStep> transitionStep(azure::AzureClient& client, const controller::ReconcileContext& context,
                                      const Json& observedAccount, const TransitionObservation& seen,
                                      std::int64_t nowUnixSeconds, ActionWaits& waits) {
  TransitionStep step;
  step.outcome.facts = seen.facts;
  Json& transitions = step.outcome.facts["transitions"];
  if (!transitions.is_array()) transitions = Json::array();
  const auto declared = declaredVolumesOf(context);
  for (const auto& request : transitionRequestsOf(context)) {
    Json* entry = entryFor(transitions, request.virtualNetworkId);
    if (entry && entry->value("state", "") == "Succeeded") continue;
    if (auto busy = accountBusy(observedAccount, "transitiontocmk")) return std::unexpected(*busy);
    if (auto error = checkAccountCmkReady(observedAccount)) return std::unexpected(*error);
    if (auto error = checkNoReversal(request.virtualNetworkId, declared)) return std::unexpected(*error);
    if (auto error = checkUndeclaredVolumes(request.virtualNetworkId, seen.volumes, declared))
      return std::unexpected(*error);
    if (auto error = checkEndpoint(client, context, request)) return std::unexpected(*error);

    Json body = {{"virtualNetworkId", request.virtualNetworkId}, {"privateEndpointId", request.privateEndpointId}};
    auto reply = sendAccountAction(client, context, waits, *accountIdOf(context.document), "transitiontocmk", body);
    if (!reply) return std::unexpected(reply.error());
    Json record = {{"virtualNetworkId", request.virtualNetworkId}, {"state", "InProgress"}, {"startedAt", nowUnixSeconds}};
    if (!reply->operation) {  // finished synchronously
      record["state"] = "Succeeded";
      record["completedAt"] = nowUnixSeconds;
    }
    if (entry) *entry = record;
    else transitions.push_back(record);
    step.sent = true;
    const Json facts = step.outcome.facts;
    step.outcome = outcomeOf(*reply, "transitiontocmk sent for virtual network " + request.virtualNetworkId);
    step.outcome.facts = facts;
    step.outcome.requeueAfter = std::chrono::milliseconds(0);
    return step;
  }
  return step;
}

Result<void> observeTransitionInto(azure::AzureClient& client, const controller::ReconcileContext& context,
                                   controller::Observation& observation) {
  auto seen = observeTransition(client, context, nowUnixSeconds());
  if (!seen) return std::unexpected(seen.error());
  for (auto& [key, value] : seen->facts.items()) observation.facts[key] = value;
  for (auto& diff : seen->diff) observation.diff.push_back(std::move(diff));
  for (auto& note : seen->planNotes) observation.planNotes.push_back(std::move(note));
  if (seen->upToDate) return {};
  observation.upToDate = false;
  const auto feature = featureOf(context.document, kFeatureMigratePmkToCmk);
  auto state = FeatureGate(client).observe(feature);
  if (!state) return std::unexpected(state.error());
  observation.conditions.push_back(featureCondition(feature, *state));
  return {};
}

Result<std::optional<controller::Outcome>> nextTransitionStep(azure::AzureClient& client,
                                                              const controller::ReconcileContext& context,
                                                              const Json& observedAccount, ActionWaits& waits) {
  const auto now = nowUnixSeconds();
  auto seen = observeTransition(client, context, now);
  if (!seen) return std::unexpected(seen.error());
  if (seen->upToDate) return std::optional<controller::Outcome>{};
  auto wait = FeatureGate(client).ensure(featureOf(context.document, kFeatureMigratePmkToCmk), context.self.facts);
  if (!wait || *wait) return wait;
  auto step = transitionStep(client, context, observedAccount, *seen, now, waits);
  if (!step) return std::unexpected(step.error());
  if (!step->sent) return std::optional<controller::Outcome>{};
  return std::optional<controller::Outcome>{std::move(step->outcome)};
}

}  // namespace anf::reconcilers
