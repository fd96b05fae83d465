// PrivateEndpoint: a private endpoint to a key vault (group "vault"), automatic or manual approval.
// Status facts: resourceId, connectionState, subnetId, virtualNetworkId.
// Refused before sending: a subnet delegated to Microsoft.NetApp/volumes, a subnet whose private
// endpoint network policies are not Disabled (the reference page requires them disabled). An
// endpoint that CMK volumes use is never deleted or replaced while they exist, whatever its
// deletionPolicy (reference page: changes to it make the volumes inaccessible).
#include "azure/client.h"
#include "reconcilers/arm_bodies.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/documents.h"
#include "reconcilers/registry.h"

namespace anf::reconcilers {
namespace {

constexpr std::string_view kEndpointType = "Microsoft.Network/privateEndpoints";

PrivateEndpointSettings settingsOf(const controller::Document& document) {
  return PrivateEndpointSettings{.location = document.azure->location,
                                 .subnetId = specString(document, "/subnetId"),
                                 .keyVaultResourceId = specString(document, "/keyVaultResourceId"),
                                 .manualApproval = specString(document, "/approval") == "Manual",
                                 .connectionName = document.azure->name};
}

class PrivateEndpointReconciler final : public controller::Reconciler {
 public:
  explicit PrivateEndpointReconciler(azure::AzureClient& client) : client_(client) {}
  Kind kind() const override { return Kind::PrivateEndpoint; }

  Result<Observation> observe(const ReconcileContext& context) override {
    auto listed = observeListed(client_, context, idOf(context), kEndpointType);  // one LIST per resource group and pass
    if (!listed) return std::unexpected(listed.error());
    auto& [observation, endpoint] = *listed;
    if (!endpoint) return observation;
    const Json& observed = *endpoint;
    observation.exists = true;
    const std::string subnetId = observed.contains("/properties/subnet/id"_json_pointer)
                                     ? observed.at("/properties/subnet/id"_json_pointer).get<std::string>() : "";
    observation.facts["connectionState"] = privateEndpointConnectionState(observed);
    observation.facts["subnetId"] = subnetId;
    observation.facts["virtualNetworkId"] = azure::virtualNetworkOf(subnetId);
    Json desired = privateEndpointBody(settingsOf(context.document));
    observation.diff = diffBodies(desired, observed, {.ignorePaths = {"location"}});
    observation.upToDate = observation.diff.empty();
    return observation;
  }

  Result<Outcome> create(const ReconcileContext& context, const Observation&) override {
    const PrivateEndpointSettings settings = settingsOf(context.document);
    if (auto error = checkSubnet(context, settings.subnetId)) return std::unexpected(*error);
    auto written = writeListed(client_, context, ListedWrite::Put, idOf(context), privateEndpointBody(settings),
                               "created private endpoint to " + settings.keyVaultResourceId);
    if (!written) return written;
    Outcome outcome = std::move(*written);
    outcome.facts["subnetId"] = settings.subnetId;
    outcome.facts["virtualNetworkId"] = azure::virtualNetworkOf(settings.subnetId);
    return outcome;
  }

  Result<Outcome> update(const ReconcileContext& context, const Observation& observed) override {
    // Subnet and target of an endpoint cannot change in place: that would be a replacement.
    std::string fields;
    for (const auto& d : observed.diff) fields += (fields.empty() ? "" : ", ") + d.path;
    auto users = cmkVolumesUsing(context);
    if (!users) return std::unexpected(users.error());
    std::string message = "spec: " + fields + " cannot change on an existing private endpoint (it would be replaced)";
    if (!users->empty())
      message += "; it is used by customer-managed key volumes (" + *users +
                 ") and is never replaced while they exist: changes to it make the volumes inaccessible";
    else
      message += "; declare a new PrivateEndpoint document instead";
    return std::unexpected(refused("PrivateEndpointImmutable", message));
  }

  Result<Outcome> remove(const ReconcileContext& context, const Observation&) override {
    auto users = cmkVolumesUsing(context);
    if (!users) return std::unexpected(users.error());
    if (!users->empty())
      return std::unexpected(refused("PrivateEndpointInUse",
                                     "the private endpoint is used by customer-managed key volumes (" + *users +
                                         ") and is not deleted while they exist, whatever its deletionPolicy: "
                                         "deleting it makes the volumes inaccessible"));
    return writeListed(client_, context, ListedWrite::Delete, idOf(context), nullptr, "deleted private endpoint");
  }

 private:
  static azure::ResourceId idOf(const ReconcileContext& context) {
    return topLevelId(context.document, kEndpointType);
  }

  std::optional<ReconcileError> checkSubnet(const ReconcileContext& context, const std::string& subnetId) {
    auto id = azure::ResourceId::parse(subnetId);
    if (!id || !azure::isResourceType(subnetId, "Microsoft.Network/virtualNetworks/subnets"))
      return refused("InvalidSubnetId", "spec.subnetId: not a subnet id: " + subnetId);
    auto subnet = getIfExists(client_, credentialOf(context.document), *id);
    if (!subnet) return subnet.error();
    if (!*subnet) return waitingForAzure("SubnetNotFound", "spec.subnetId: the subnet " + subnetId + " does not exist");
    const Json properties = (*subnet)->value("properties", Json::object());
    for (const Json& delegation : properties.value("delegations", Json::array()))
      if (equalsIgnoreCase(delegation.value("/properties/serviceName"_json_pointer, std::string{}), "Microsoft.NetApp/volumes"))
        return refused("SubnetDelegatedToNetApp",
                       "spec.subnetId: the subnet is delegated to Microsoft.NetApp/volumes; the key vault's private "
                       "endpoint must reside in a different subnet than the one delegated to Azure NetApp Files");
    const std::string policies = properties.value("privateEndpointNetworkPolicies", std::string{"Disabled"});
    if (!equalsIgnoreCase(policies, "Disabled"))
      return waitingForAzure("PrivateEndpointNetworkPoliciesEnabled",
                     "spec.subnetId: the subnet's privateEndpointNetworkPolicies is " + policies +
                         "; Azure NetApp Files customer-managed keys require it to be Disabled");
    return std::nullopt;
  }

  /// CMK volumes that use this endpoint: the documents that name it (keyVaultPrivateEndpointRef), and those Azure
  /// has in the declared pools with its id (a volume that names it by keyVaultPrivateEndpointId, a Volume document
  /// removed with deletionPolicy Retain that left its volume behind).
  Result<std::string> cmkVolumesUsing(const ReconcileContext& context) {
    const std::string endpointId = idOf(context).str();
    std::vector<std::string> users;
    for (const auto* volume : referringDocuments(context, context.document.key, Kind::Volume))
      if (equalsIgnoreCase(specString(*volume, "/encryptionKeySource"), kKeySourceKeyVault)) users.push_back(volume->key.str());
    for (const auto* pool : documentsOfKind(context.desired, Kind::CapacityPool)) {
      auto poolId = poolIdOf(*pool, context.desired);
      if (!poolId) continue;
      auto volumes = listForPass(client_, context, credentialOf(*pool), *poolId, "volumes");
      if (!volumes) return std::unexpected(volumes.error());
      for (const Json& volume : *volumes)
        if (equalsIgnoreCase(volume.value("/properties/keyVaultPrivateEndpointResourceId"_json_pointer, std::string{}), endpointId))
          users.push_back(volume.value("id", ""));
    }
    std::string joined;
    for (const auto& user : users) joined += (joined.empty() ? "" : ", ") + user;
    return joined;
  }

  azure::AzureClient& client_;
};

}  // namespace

controller::ReconcilerPtr makePrivateEndpointReconciler(azure::AzureClient& client) {
  return std::make_unique<PrivateEndpointReconciler>(client);
}

}  // namespace anf::reconcilers
