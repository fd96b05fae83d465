#include "reconcilers/flows/transition.h"

#include <algorithm>

#include "reconcilers/arm_calls.h"
#include "reconcilers/documents.h"

namespace anf::reconcilers::flows {

using controller::DocumentKey;
using controller::Kind;

namespace {

std::string joinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : ", ") + line;
  return out;
}

ReconcileError terminal(std::string reason, std::string message) {
  return ReconcileError{.reason = std::move(reason), .message = std::move(message), .errorClass = controller::ErrorClass::NeedsDocumentChange};
}

Json recordedTransitions(const Json& facts) {
  if (facts.is_object() && facts.contains("transitions") && facts["transitions"].is_array())
    return facts["transitions"];
  return Json::array();
}

Json* entryFor(Json& transitions, const std::string& virtualNetworkId) {
  for (auto& entry : transitions)
    if (sameId(entry.value("virtualNetworkId", ""), virtualNetworkId)) return &entry;
  return nullptr;
}

}  // namespace

ObservedVolume ObservedVolume::fromArm(const Json& volume) {
  ObservedVolume out;
  out.id = volume.value("id", "");
  const Json properties = volume.value("properties", Json::object());
  out.subnetId = properties.value("subnetId", "");
  out.virtualNetworkId = virtualNetworkOfSubnet(out.subnetId);
  out.encryptionKeySource = properties.value("encryptionKeySource", std::string(kKeySourceNetApp));
  out.fileSystemId = properties.value("fileSystemId", "");
  return out;
}

bool ObservedVolume::cmk() const { return sameId(encryptionKeySource, kKeySourceKeyVault); }

std::string accountPathOf(const controller::Document& account) {
  auto id = reconcilers::accountIdOf(account);
  return id ? id->str() : std::string();
}

std::vector<DeclaredVolume> declaredVolumesOf(const controller::Document& account,
                                              const controller::DesiredState& desired) {
  std::vector<DeclaredVolume> out;
  for (const auto& [key, volume] : desired.documents) {
    if (key.kind != Kind::Volume) continue;
    const auto* pool = reconcilers::findDocument(desired, Kind::CapacityPool, volume.spec.value("poolRef", ""));
    if (!pool || pool->spec.value("accountRef", "") != account.key.name) continue;
    auto id = reconcilers::volumeIdOf(volume, desired);
    out.push_back(DeclaredVolume{
        .document = key.str(),
        .expectedId = id ? id->str() : std::string(),
        .encryptionKeySource = volume.spec.value("encryptionKeySource", std::string(kKeySourceNetApp)),
        .virtualNetworkId = virtualNetworkOfSubnet(volume.spec.value("subnetId", "")),
    });
  }
  return out;
}

std::vector<TransitionRequest> transitionRequestsOf(const controller::ReconcileContext& context) {
  std::vector<TransitionRequest> out;
  const Json requests = context.document.spec.value("transitionToCMK", Json::array());
  for (const auto& request : requests) {
    TransitionRequest entry{.virtualNetworkId = request.value("virtualNetworkId", ""),
                            .privateEndpointId = request.value("privateEndpointId", ""),
                            .privateEndpointRef = request.value("privateEndpointRef", "")};
    if (entry.privateEndpointId.empty() && !entry.privateEndpointRef.empty() && context.statusOf) {
      if (const auto* status = context.statusOf(DocumentKey{Kind::PrivateEndpoint, entry.privateEndpointRef}))
        entry.privateEndpointId = status->facts.value("resourceId", "");
    }
    out.push_back(std::move(entry));
  }
  return out;
}

std::optional<ReconcileError> checkUndeclaredVolumes(const std::string& virtualNetworkId,
                                                     const std::vector<ObservedVolume>& observed,
                                                     const std::vector<DeclaredVolume>& declared) {
  std::vector<std::string> undeclared;
  for (const auto& volume : observed) {
    if (volume.cmk() || !sameId(volume.virtualNetworkId, virtualNetworkId)) continue;
    bool declaredCmk = std::ranges::any_of(declared, [&](const DeclaredVolume& d) {
      return sameId(d.expectedId, volume.id) && sameId(d.encryptionKeySource, kKeySourceKeyVault);
    });
    if (!declaredCmk) undeclared.push_back(volume.id);
  }
  if (undeclared.empty()) return std::nullopt;
  return terminal("UndeclaredVolumesInTransition",
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
    if (sameId(volume.virtualNetworkId, virtualNetworkId) && !sameId(volume.encryptionKeySource, kKeySourceKeyVault))
      refusing.push_back(volume.document);
  if (refusing.empty()) return std::nullopt;
  return terminal("TransitionIrreversible",
                  "spec.transitionToCMK converts every volume of virtual network " + virtualNetworkId +
                      " to customer-managed keys, irreversibly, but these documents declare "
                      "encryptionKeySource: Microsoft.NetApp: " +
                      joinLines(refusing) +
                      ". Volumes cannot return to platform-managed keys after the transition; declare them "
                      "Microsoft.KeyVault, or remove the virtual network from spec.transitionToCMK.");
}

bool transitionDone(const std::string& virtualNetworkId, const std::vector<ObservedVolume>& observed) {
  return std::ranges::all_of(observed, [&](const ObservedVolume& volume) {
    return volume.cmk() || !sameId(volume.virtualNetworkId, virtualNetworkId);
  });
}

std::optional<ReconcileError> checkAccountCmkReady(const Json& observedAccount) {
  const Json encryption = observedAccount.value("/properties/encryption"_json_pointer, Json::object());
  const std::string keySource = encryption.value("keySource", std::string(kKeySourceNetApp));
  const std::string state = observedAccount.value("/properties/provisioningState"_json_pointer, std::string());
  const std::string vaultStatus = encryption.value("/keyVaultProperties/status"_json_pointer, std::string());
  std::string problem;
  if (!sameId(keySource, kKeySourceKeyVault))
    problem = "its encryption.keySource is " + keySource;
  else if (state != "Succeeded")
    problem = "its provisioningState is " + state;
  else if (vaultStatus == "Error" || vaultStatus == "Deleted")
    problem = "its key vault status is " + vaultStatus;
  if (problem.empty()) return std::nullopt;
  return ReconcileError{.reason = "AccountCmkNotReady",
                        .message = "transitiontocmk waits for the account to use customer-managed keys: " + problem,
                        .errorClass = controller::ErrorClass::WaitsForAzure,
                        .retryAfter = std::chrono::seconds(30)};
}

Result<std::vector<ObservedVolume>> listAccountVolumes(FlowAzure& azure, const controller::ReconcileContext& context,
                                                       const std::string& accountId, bool fresh) {
  auto list = [&](const std::string& parentId, const std::string& child, const std::string& ns) -> Result<Json> {
    if (fresh) context.cache.invalidate(parentId + "/" + child);
    return context.cache.getOrLoad(parentId + "/" + child, [&]() -> Result<Json> {
      Json items = Json::array();
      std::string path = armPath(parentId + "/" + child, ns);
      while (!path.empty()) {
        auto reply = azure.arm(reconcilers::credentialOf(context.document), "GET", path, Json());
        if (!reply) return std::unexpected(reply.error());
        if (!reply->found()) break;
        for (const auto& item : reply->body.value("value", Json::array())) items.push_back(item);
        std::string next = reply->body.value("nextLink", "");
        auto at = next.find("/subscriptions/");
        path = at == std::string::npos ? std::string() : next.substr(at);
      }
      return items;
    });
  };
  auto pools = list(accountId, "capacityPools", "Microsoft.NetApp");
  if (!pools) return std::unexpected(pools.error());
  std::vector<ObservedVolume> out;
  for (const auto& pool : *pools) {
    if (fresh)  // the Volume reconciler's LIST of the pool, cached during the operation, is stale as well
      if (auto poolId = azure::ResourceId::parse(pool.value("id", ""))) reconcilers::invalidateList(context, *poolId, "volumes");
    auto volumes = list(pool.value("id", ""), "volumes", "Microsoft.NetApp");
    if (!volumes) return std::unexpected(volumes.error());
    for (const auto& volume : *volumes) out.push_back(ObservedVolume::fromArm(volume));
  }
  return out;
}

Result<TransitionObservation> TransitionFlow::observe(const controller::ReconcileContext& context,
                                                      const Json& observedAccount) {
  TransitionObservation seen;
  const auto requests = transitionRequestsOf(context);
  Json recorded = recordedTransitions(context.self.facts);
  if (requests.empty() && recorded.empty()) return seen;
  (void)observedAccount;
  // After a POST (a VNet InProgress), a LIST cached during the operation would still show the volumes as
  // PMK and the POST would be sent again: read them fresh.
  const bool sent = std::ranges::any_of(recorded, [](const Json& e) { return e.value("state", "") == "InProgress"; });
  auto volumes = listAccountVolumes(azure_, context, accountPathOf(context.document), sent);
  if (!volumes) return std::unexpected(volumes.error());
  seen.volumes = std::move(*volumes);

  Json transitions = Json::array();
  for (const auto& request : requests) {
    Json entry = {{"virtualNetworkId", request.virtualNetworkId}, {"state", "Pending"}};
    if (const Json* old = entryFor(recorded, request.virtualNetworkId)) entry = *old;
    if (entry.value("state", "") != "Succeeded" && transitionDone(request.virtualNetworkId, seen.volumes)) {
      entry["state"] = "Succeeded";
      if (!entry.contains("completedAt")) entry["completedAt"] = clock_();
    }
    if (entry.value("state", "") != "Succeeded") {
      seen.upToDate = false;
      std::vector<std::string> converts;
      for (const auto& volume : seen.volumes)
        if (!volume.cmk() && sameId(volume.virtualNetworkId, request.virtualNetworkId)) converts.push_back(volume.id);
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

std::optional<ReconcileError> TransitionFlow::checkEndpoint(const controller::ReconcileContext& context,
                                                            const TransitionRequest& request) {
  const std::string field = request.privateEndpointRef.empty()
                                ? "spec.transitionToCMK.privateEndpointId"
                                : "spec.transitionToCMK.privateEndpointRef (" + request.privateEndpointRef + ")";
  if (request.privateEndpointId.empty())
    return ReconcileError{.reason = "PrivateEndpointNotReady",
                          .message = field + ": the private endpoint has no resource id yet",
                          .retryAfter = std::chrono::seconds(30)};
  auto reply = azure_.arm(reconcilers::credentialOf(context.document), "GET",
                          armPath(request.privateEndpointId, "Microsoft.Network"), Json());
  if (!reply) return reply.error();
  if (!reply->found())
    return ReconcileError{.reason = "PrivateEndpointNotFound",
                          .message = field + ": private endpoint " + request.privateEndpointId + " does not exist",
                          .retryAfter = std::chrono::seconds(30)};
  const Json properties = reply->body.value("properties", Json::object());
  const std::string vnet = virtualNetworkOfSubnet(properties.value("/subnet/id"_json_pointer, std::string()));
  if (!sameId(vnet, request.virtualNetworkId))
    return terminal("PrivateEndpointInWrongVnet", field + ": private endpoint " + request.privateEndpointId +
                                                      " is in virtual network " + vnet + ", not in " +
                                                      request.virtualNetworkId +
                                                      "; the endpoint must be in the virtual network it transitions");
  std::string state;
  for (const char* list : {"privateLinkServiceConnections", "manualPrivateLinkServiceConnections"})
    for (const auto& connection : properties.value(list, Json::array()))
      state = connection.value("/properties/privateLinkServiceConnectionState/status"_json_pointer, state);
  if (state != "Approved")
    return ReconcileError{.reason = "PrivateEndpointNotApproved",
                          .message = field + ": the connection of private endpoint " + request.privateEndpointId +
                                     " to the key vault is " + (state.empty() ? std::string("unknown") : state) +
                                     ", not Approved; approve it on the key vault",
                          .retryAfter = std::chrono::seconds(30),
                          .conditionType = std::string("DependenciesReady")};
  return std::nullopt;
}

Result<TransitionStep> TransitionFlow::next(const controller::ReconcileContext& context, const Json& observedAccount,
                                            const TransitionObservation& seen) {
  TransitionStep step;
  step.outcome.facts = seen.facts;
  Json& transitions = step.outcome.facts["transitions"];
  if (!transitions.is_array()) transitions = Json::array();
  const auto declared = declaredVolumesOf(context.document, context.desired);
  for (const auto& request : transitionRequestsOf(context)) {
    Json* entry = entryFor(transitions, request.virtualNetworkId);
    if (entry && entry->value("state", "") == "Succeeded") continue;
    if (auto error = checkAccountCmkReady(observedAccount)) return std::unexpected(*error);
    if (auto error = checkNoReversal(request.virtualNetworkId, declared)) return std::unexpected(*error);
    if (auto error = checkUndeclaredVolumes(request.virtualNetworkId, seen.volumes, declared))
      return std::unexpected(*error);
    if (auto error = checkEndpoint(context, request)) return std::unexpected(*error);

    Json body = {{"virtualNetworkId", request.virtualNetworkId}, {"privateEndpointId", request.privateEndpointId}};
    auto reply = azure_.arm(reconcilers::credentialOf(context.document), "POST",
                            armPath(accountPathOf(context.document) + "/transitiontocmk", "Microsoft.NetApp"), body);
    if (!reply) return std::unexpected(reply.error());
    Json record = {{"virtualNetworkId", request.virtualNetworkId}, {"state", "InProgress"}, {"startedAt", clock_()}};
    if (!reply->operation) {  // finished synchronously
      record["state"] = "Succeeded";
      record["completedAt"] = clock_();
    }
    if (entry) *entry = record;
    else transitions.push_back(record);
    step.sent = true;
    step.outcome.operation = reply->operation;
    step.outcome.requeueAfter = std::chrono::milliseconds(0);
    step.outcome.description = "transitiontocmk sent for virtual network " + request.virtualNetworkId;
    return step;
  }
  return step;
}

}  // namespace anf::reconcilers::flows
