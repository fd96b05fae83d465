// Microsoft.Network (2024-05-01, 2025-05-01): virtual networks with subnets (inline and as child
// resources; delegations; privateEndpointNetworkPolicies) and private endpoints to key vaults.
// A private endpoint's creation is a long-running operation; when it completes, the endpoint's
// connection appears on the vault: Approved for an automatic connection (the caller's tenant owns the
// vault), Pending for a manual one until the vault's owner approves it.
#include "emulator/providers/arm.h"
#include "emulator/providers/private_link.h"

namespace anf::emulator {
namespace privatelink {

std::string targetOf(const Json& privateEndpoint) {
  for (const char* list : {"privateLinkServiceConnections", "manualPrivateLinkServiceConnections"}) {
    const Json connections = privateEndpoint.contains("properties") ? privateEndpoint["properties"].value(list, Json::array()) : Json::array();
    for (const auto& connection : connections) {
      std::string target = arm::stringAt(connection, "/properties/privateLinkServiceId");
      if (!target.empty()) return target;
    }
  }
  return "";
}

std::string subnetOf(const Json& privateEndpoint) { return arm::stringAt(privateEndpoint, "/properties/subnet/id"); }

std::string connectionStatus(World& world, const Json& privateEndpoint) {
  std::string connectionId = privateEndpoint.value("_connectionId", std::string{});
  if (connectionId.empty()) return "Pending";  // creation still running
  Json* connection = arm::findTyped(world, connectionId, kConnectionType);
  if (connection == nullptr) return "Disconnected";
  return arm::stringAt(*connection, "/properties/privateLinkServiceConnectionState/status", "Pending");
}

bool isDelegatedTo(const Json& subnet, const std::string& serviceName) {
  const Json delegations = subnet.contains("properties") ? subnet["properties"].value("delegations", Json::array()) : Json::array();
  for (const auto& delegation : delegations) {
    if (arm::iequals(arm::stringAt(delegation, "/properties/serviceName"), serviceName)) return true;
  }
  return false;
}

}  // namespace privatelink

namespace {

constexpr const char* kVnetType = "Microsoft.Network/virtualNetworks";
using privatelink::kConnectionType;
using privatelink::kPrivateEndpointType;
using privatelink::kSubnetType;

// What uses a subnet (a volume or a private endpoint), or "".
std::string subnetUser(World& world, const std::string& subnetId) {
  for (Json* endpoint : arm::ofType(world, kPrivateEndpointType)) {
    if (arm::sameId(privatelink::subnetOf(*endpoint), subnetId)) return endpoint->value("id", std::string{});
  }
  for (Json* volume : arm::ofType(world, "Microsoft.NetApp/netAppAccounts/capacityPools/volumes")) {
    if (arm::sameId(arm::stringAt(*volume, "/properties/subnetId"), subnetId)) return volume->value("id", std::string{});
  }
  return "";
}

std::optional<Response> inUse(World& world, const std::string& subnetId) {
  std::string user = subnetUser(world, subnetId);
  if (user.empty()) return std::nullopt;
  return Response::error(400, "InUseSubnetCannotBeDeleted",
                         "Subnet " + arm::lastSegment(subnetId) + " is in use by " + user +
                             " and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. "
                             "See aka.ms/deletesubnet.");
}

Json delegationsOf(const std::string& subnetId, const Json& requested) {
  Json delegations = Json::array();
  for (const auto& delegation : requested.is_array() ? requested : Json::array()) {
    std::string service = arm::stringAt(delegation, "/properties/serviceName", delegation.value("serviceName", std::string{}));
    std::string name = delegation.value("name", std::string("delegation"));
    Json actions = Json::array();
    if (arm::iequals(service, "Microsoft.NetApp/volumes")) {
      actions = Json::array({"Microsoft.Network/networkinterfaces/*", "Microsoft.Network/virtualNetworks/subnets/join/action"});
    }
    delegations.push_back(Json{{"name", name},
                               {"id", subnetId + "/delegations/" + name},
                               {"type", "Microsoft.Network/virtualNetworks/subnets/delegations"},
                               {"properties", {{"serviceName", service}, {"actions", actions}, {"provisioningState", "Succeeded"}}}});
  }
  return delegations;
}

// The stored subnet for a subnet body (inline in a VNet or on its own).
std::optional<Json> buildSubnet(World& world, const std::string& subnetId, const Json& body, std::string& problem) {
  const Json properties = body.value("properties", Json::object());
  if (!properties.contains("addressPrefix") && !properties.contains("addressPrefixes")) {
    problem = "Subnet " + arm::lastSegment(subnetId) + " must have an addressPrefix.";
    return std::nullopt;
  }
  Json subnet{{"id", subnetId},
              {"name", arm::lastSegment(subnetId)},
              {"type", kSubnetType},
              {"etag", world.newEtag()},
              {"properties",
               {{"delegations", delegationsOf(subnetId, properties.value("delegations", Json::array()))},
                {"privateEndpointNetworkPolicies", properties.value("privateEndpointNetworkPolicies", std::string("Disabled"))},
                {"privateLinkServiceNetworkPolicies", properties.value("privateLinkServiceNetworkPolicies", std::string("Enabled"))},
                {"provisioningState", "Succeeded"}}}};
  for (const char* key : {"addressPrefix", "addressPrefixes", "networkSecurityGroup", "routeTable", "defaultOutboundAccess", "natGateway"}) {
    if (properties.contains(key)) subnet["properties"][key] = properties[key];
  }
  return subnet;
}

Json renderSubnet(World& world, const Json& subnet) {
  Json view = arm::publicView(subnet);
  Json endpoints = Json::array();
  for (Json* endpoint : arm::ofType(world, kPrivateEndpointType)) {
    if (arm::sameId(privatelink::subnetOf(*endpoint), subnet.value("id", std::string{}))) endpoints.push_back(Json{{"id", (*endpoint)["id"]}});
  }
  if (!endpoints.empty()) view["properties"]["privateEndpoints"] = endpoints;
  return view;
}

Json renderVnet(World& world, const Json& vnet) {
  Json view = arm::publicView(vnet);
  Json subnets = Json::array();
  for (Json* subnet : world.children(vnet.value("id", std::string{}), "subnets")) subnets.push_back(renderSubnet(world, *subnet));
  view["properties"]["subnets"] = subnets;
  return view;
}

Json renderEndpoint(World& world, const Json& endpoint) {
  Json view = arm::publicView(endpoint);
  std::string status = privatelink::connectionStatus(world, endpoint);
  Json* connection = arm::findTyped(world, endpoint.value("_connectionId", std::string{}), kConnectionType);
  for (const char* list : {"privateLinkServiceConnections", "manualPrivateLinkServiceConnections"}) {
    for (auto& item : view["properties"][list]) {
      Json& state = item["properties"]["privateLinkServiceConnectionState"];
      if (connection) {
        state = (*connection)["properties"]["privateLinkServiceConnectionState"];
      } else {
        state["status"] = status;
        if (status == "Disconnected") state["description"] = "The private endpoint connection was deleted by the resource owner.";
      }
    }
  }
  return view;
}

Response withEtag(Json view, int status = 200) {
  Response response = Response::json(status, std::move(view));
  if (response.body.contains("etag")) response.headers["ETag"] = response.body["etag"];
  return response;
}

class NetworkProvider final : public ResourceProvider {
 public:
  std::string providerNamespace() const override { return "Microsoft.Network"; }
  std::vector<std::string> apiVersions() const override { return {"2024-05-01", "2025-05-01"}; }

  Response handle(const Request& raw, const ArmPath& path, Context& context) override {
    const Request request = arm::withoutNulls(raw);
    std::string top = path.types.empty() ? "" : arm::lower(path.types[0]);
    if (top == "virtualnetworks" && path.types.size() == 1) return vnets(request, path, context.world());
    if (top == "virtualnetworks" && path.types.size() == 2 && arm::iequals(path.types[1], "subnets")) {
      return subnets(request, path, context.world());
    }
    if (top == "privateendpoints" && path.types.size() == 1) return endpoints(request, path, context);
    return Response::error(400, "InvalidResourceType", "The resource type '" + path.resourceType() + "' could not be found.");
  }

 private:
  Response vnets(const Request& request, const ArmPath& path, World& world) {
    if (path.isCollection()) {
      if (request.method != "GET") return arm::methodNotAllowed(request);
      std::vector<Json> items;
      for (Json* vnet : arm::ofType(world, kVnetType, path.resourceId())) items.push_back(renderVnet(world, *vnet));
      return arm::listPage(request, std::move(items));
    }
    std::string id = path.resourceId();
    Json* existing = arm::findTyped(world, id, kVnetType);
    if (auto failed = arm::checkPreconditions(request, existing)) return *failed;
    if (request.method == "GET") return existing ? withEtag(renderVnet(world, *existing)) : arm::resourceNotFound(kVnetType, id);
    if (request.method == "DELETE") {
      if (!existing) return Response::empty(204);
      for (Json* subnet : world.children(id, "subnets")) {
        if (auto refused = inUse(world, subnet->value("id", std::string{}))) return *refused;
      }
      std::vector<std::string> doomed;
      for (Json* subnet : world.children(id, "subnets")) doomed.push_back(subnet->value("id", std::string{}));
      for (const auto& subnetId : doomed) world.erase(subnetId);
      world.erase(id);
      return Response::empty(200);
    }
    if (request.method != "PUT") return arm::methodNotAllowed(request);
    if (auto invalid = arm::checkObjectBody(request)) return *invalid;
    if (auto invalid = arm::checkName(path.names[0], R"(^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9_]$|^[a-zA-Z0-9]$)", kVnetType)) return *invalid;
    if (auto invalid = arm::checkLocation(request.body)) return *invalid;
    const Json properties = request.body.value("properties", Json::object());
    Json prefixes = properties.contains("addressSpace") ? properties["addressSpace"].value("addressPrefixes", Json::array()) : Json::array();
    if (!prefixes.is_array() || prefixes.empty()) {
      return arm::badRequest("InvalidAddressSpace", "The virtual network must have at least one address prefix.", "properties.addressSpace");
    }
    // Inline subnets replace the VNet's subnets, as in Azure; one still in use cannot go.
    std::vector<Json> wanted;
    for (const auto& body : properties.value("subnets", Json::array())) {
      if (!body.contains("name") || !body["name"].is_string() || body["name"].get<std::string>().empty()) {
        return arm::badRequest("InvalidRequestFormat", "Every subnet of a virtual network needs a name.");
      }
      std::string problem;
      auto subnet = buildSubnet(world, id + "/subnets/" + body.value("name", std::string{}), body, problem);
      if (!subnet) return arm::badRequest("InvalidRequestFormat", problem);
      wanted.push_back(std::move(*subnet));
    }
    std::vector<std::string> removed;
    for (Json* subnet : world.children(id, "subnets")) {
      std::string subnetId = subnet->value("id", std::string{});
      bool kept = std::ranges::any_of(wanted, [&](const Json& w) { return arm::sameId(w["id"].get<std::string>(), subnetId); });
      if (kept) continue;
      if (auto refused = inUse(world, subnetId)) return *refused;
      removed.push_back(subnetId);
    }
    for (const auto& subnetId : removed) world.erase(subnetId);
    Json vnet{{"id", id},
              {"name", existing ? existing->value("name", path.names[0]) : path.names[0]},
              {"type", kVnetType},
              {"location", request.body["location"]},
              {"tags", request.body.value("tags", Json::object())},
              {"etag", world.newEtag()},
              {"properties",
               {{"addressSpace", {{"addressPrefixes", prefixes}}},
                {"provisioningState", "Succeeded"},
                {"resourceGuid", existing ? arm::stringAt(*existing, "/properties/resourceGuid", world.newGuid()) : world.newGuid()},
                {"enableDdosProtection", properties.value("enableDdosProtection", false)}}}};
    Json& stored = world.put(std::move(vnet));
    for (auto& subnet : wanted) world.put(std::move(subnet));
    return withEtag(renderVnet(world, stored), existing ? 200 : 201);
  }

  Response subnets(const Request& request, const ArmPath& path, World& world) {
    std::string vnetId = path.isCollection() ? path.resourceId() : arm::parentId(path.resourceId());
    if (!arm::findTyped(world, vnetId, kVnetType)) return arm::parentNotFound(vnetId);
    if (path.isCollection()) {
      if (request.method != "GET") return arm::methodNotAllowed(request);
      std::vector<Json> items;
      for (Json* subnet : world.children(vnetId, "subnets")) items.push_back(renderSubnet(world, *subnet));
      return arm::listPage(request, std::move(items));
    }
    std::string id = path.resourceId();
    Json* existing = arm::findTyped(world, id, kSubnetType);
    if (auto failed = arm::checkPreconditions(request, existing)) return *failed;
    if (request.method == "GET") return existing ? withEtag(renderSubnet(world, *existing)) : arm::resourceNotFound(kSubnetType, id);
    if (request.method == "DELETE") {
      if (!existing) return Response::empty(204);
      if (auto refused = inUse(world, id)) return *refused;
      world.erase(id);
      return Response::empty(200);
    }
    if (request.method != "PUT") return arm::methodNotAllowed(request);
    if (auto invalid = arm::checkObjectBody(request)) return *invalid;
    std::string problem;
    auto subnet = buildSubnet(world, id, request.body, problem);
    if (!subnet) return arm::badRequest("InvalidRequestFormat", problem);
    if (existing && !subnetUser(world, id).empty() && privatelink::isDelegatedTo(*existing, "Microsoft.NetApp/volumes") &&
        !privatelink::isDelegatedTo(*subnet, "Microsoft.NetApp/volumes")) {
      return arm::badRequest("SubnetMissingRequiredDelegation",
                             "Subnet " + arm::lastSegment(id) + " requires any of the following delegation(s) [Microsoft.NetApp/volumes] "
                             "to reference service association link " + subnetUser(world, id) + ".");
    }
    return withEtag(renderSubnet(world, world.put(std::move(*subnet))), existing ? 200 : 201);
  }

  Response endpoints(const Request& request, const ArmPath& path, Context& context) {
    World& world = context.world();
    if (path.isCollection()) {
      if (request.method != "GET") return arm::methodNotAllowed(request);
      std::vector<Json> items;
      for (Json* endpoint : arm::ofType(world, kPrivateEndpointType, path.resourceId())) items.push_back(renderEndpoint(world, *endpoint));
      return arm::listPage(request, std::move(items));
    }
    std::string id = path.resourceId();
    Json* existing = arm::findTyped(world, id, kPrivateEndpointType);
    if (auto failed = arm::checkPreconditions(request, existing)) return *failed;
    if (request.method == "GET") return existing ? withEtag(renderEndpoint(world, *existing)) : arm::resourceNotFound(kPrivateEndpointType, id);
    if (request.method == "DELETE") {
      if (!existing) return Response::empty(204);
      world.erase(existing->value("_connectionId", std::string{}));
      world.erase(id);
      return Response::empty(200);
    }
    if (request.method != "PUT") return arm::methodNotAllowed(request);
    return putEndpoint(request, path, context, existing);
  }

  Response putEndpoint(const Request& request, const ArmPath& path, Context& context, Json* existing) {
    World& world = context.world();
    std::string id = path.resourceId();
    if (auto invalid = arm::checkObjectBody(request)) return *invalid;
    if (auto invalid = arm::checkName(path.names[0], R"(^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,78}[a-zA-Z0-9_]$|^[a-zA-Z0-9]$)", kPrivateEndpointType)) {
      return *invalid;
    }
    if (auto invalid = arm::checkLocation(request.body)) return *invalid;
    const Json properties = request.body.value("properties", Json::object());
    std::string subnetId = arm::stringAt(properties, "/subnet/id");
    Json* subnet = arm::findTyped(world, subnetId, kSubnetType);
    if (subnet == nullptr) {
      return arm::badRequest("InvalidResourceReference", "Resource " + subnetId + " referenced by resource " + id + " was not found. "
                                                         "Please make sure that the referenced resource exists, and that both resources are in the same region.");
    }
    if (!(*subnet)["properties"].value("delegations", Json::array()).empty()) {
      return arm::badRequest("PrivateEndpointCreationNotAllowedAsSubnetIsDelegated",
                             "Private endpoint " + id + " cannot be created as subnet " + subnetId + " is delegated.");
    }
    Json automatic = properties.value("privateLinkServiceConnections", Json::array());
    Json manual = properties.value("manualPrivateLinkServiceConnections", Json::array());
    if (automatic.size() + manual.size() != 1) {
      return arm::badRequest("InvalidPrivateEndpointConnections",
                             "Private endpoint " + id + " must have exactly one private link service connection.");
    }
    bool isManual = !manual.empty();
    Json connection = isManual ? manual[0] : automatic[0];
    std::string target = arm::stringAt(connection, "/properties/privateLinkServiceId");
    Json* vault = arm::findTyped(world, target, "Microsoft.KeyVault/vaults");
    if (vault == nullptr) {
      return arm::badRequest("InvalidResourceReference", "Resource " + target + " referenced by resource " + id + " was not found.");
    }
    Json groupIds = connection.contains("properties") ? connection["properties"].value("groupIds", Json::array()) : Json::array();
    if (groupIds != Json::array({"vault"})) {
      return arm::badRequest("PrivateEndpointBadRequest", "Call to Microsoft.KeyVault/vaults failed. Error message: The group id(s) " +
                                                              groupIds.dump() + " are not valid; a key vault supports only [\"vault\"].");
    }
    const Tenant* owner = world.tenantOfSubscription(arm::subscriptionOf(target));
    if (!isManual && (owner == nullptr || !arm::iequals(owner->tenantId, request.caller.tenantId))) {
      return Response::error(403, "LinkedAuthorizationFailed",
                             "The client '" + request.caller.objectId + "' with object id '" + request.caller.objectId +
                                 "' has permission to perform action 'Microsoft.Network/privateEndpoints/write' on scope '" + id +
                                 "'; however, it does not have permission to perform action(s) "
                                 "'Microsoft.KeyVault/vaults/privateEndpointConnectionsApproval/action' on the linked scope(s) '" +
                                 target + "' (respectively) or the linked scope(s) are invalid.");
    }
    if (existing && (!arm::sameId(privatelink::subnetOf(*existing), subnetId) || !arm::sameId(privatelink::targetOf(*existing), target))) {
      return arm::badRequest("CannotChangePrivateEndpointProperties",
                             "The subnet and the private link service of private endpoint " + id + " cannot be changed.");
    }
    std::string listName = isManual ? "manualPrivateLinkServiceConnections" : "privateLinkServiceConnections";
    std::string connectionName = connection.value("name", path.names[0]);
    std::string requestMessage = arm::stringAt(connection, "/properties/requestMessage");
    Json item{{"name", connectionName},
              {"id", id + "/" + listName + "/" + connectionName},
              {"type", "Microsoft.Network/privateEndpoints/privateLinkServiceConnections"},
              {"properties",
               {{"privateLinkServiceId", target},
                {"groupIds", groupIds},
                {"requestMessage", requestMessage},
                {"provisioningState", "Succeeded"},
                {"privateLinkServiceConnectionState",
                 {{"status", "Pending"}, {"description", isManual ? "Awaiting approval" : ""}, {"actionsRequired", "None"}}}}}};
    std::string ip = "10.0.0.4";
    std::string prefix = arm::stringAt(*subnet, "/properties/addressPrefix");
    if (auto dot = prefix.rfind('.'); dot != std::string::npos) {
      std::size_t used = 0;
      for (Json* other : arm::ofType(world, kPrivateEndpointType)) used += arm::sameId(privatelink::subnetOf(*other), subnetId) ? 1 : 0;
      ip = prefix.substr(0, dot) + "." + std::to_string(4 + used);
    }
    std::string vaultName = vault->value("name", std::string{});
    std::string nicId = "/subscriptions/" + path.subscriptionId + "/resourceGroups/" + path.resourceGroup +
                        "/providers/Microsoft.Network/networkInterfaces/" + path.names[0] + ".nic." + world.newGuid();
    Json endpoint = existing ? *existing : Json::object();
    endpoint["id"] = id;
    endpoint["name"] = path.names[0];
    endpoint["type"] = kPrivateEndpointType;
    endpoint["location"] = request.body["location"];
    endpoint["tags"] = request.body.value("tags", Json::object());
    endpoint["etag"] = world.newEtag();
    Json& props = endpoint["properties"];
    props["subnet"] = Json{{"id", subnetId}};
    props["privateLinkServiceConnections"] = isManual ? Json::array() : Json::array({item});
    props["manualPrivateLinkServiceConnections"] = isManual ? Json::array({item}) : Json::array();
    if (!existing) {
      props["networkInterfaces"] = Json::array({Json{{"id", nicId}}});
      props["customDnsConfigs"] = Json::array({Json{{"fqdn", vaultName + ".vault.azure.net"}, {"ipAddresses", Json::array({ip})}}});
      props["ipConfigurations"] = properties.value("ipConfigurations", Json::array());
      props["customNetworkInterfaceName"] = properties.value("customNetworkInterfaceName", std::string{});
      props["resourceGuid"] = world.newGuid();
    }
    props["provisioningState"] = existing ? "Succeeded" : "Updating";
    Json& stored = world.put(std::move(endpoint));
    if (existing) return withEtag(renderEndpoint(world, stored));

    LongRunningOperation operation;
    operation.subscriptionId = path.subscriptionId;
    operation.providerNamespace = "Microsoft.Network";
    operation.location = request.body["location"];
    operation.resourceId = id;
    operation.kind = "privateEndpoint";
    operation.poll = LongRunningOperation::Poll::AzureAsyncOperation;
    operation.initialStatus = 201;
    operation.initialBody = renderEndpoint(world, stored);
    std::string endpointName = path.names[0];
    operation.complete = [id, target, isManual, requestMessage, endpointName](World& w) -> std::optional<Json> {
      Json* endpoint = w.find(id);
      if (endpoint == nullptr) return Json{{"code", "NotFound"}, {"message", "The private endpoint was deleted."}};
      if (w.find(target) == nullptr) {
        (*endpoint)["properties"]["provisioningState"] = "Failed";
        return Json{{"code", "PrivateLinkServiceNotFound"}, {"message", "The key vault " + target + " no longer exists."}};
      }
      std::string connectionId = target + "/privateEndpointConnections/" + endpointName + "." + w.newGuid();
      w.put(Json{{"id", connectionId},
                 {"name", arm::lastSegment(connectionId)},
                 {"type", kConnectionType},
                 {"etag", w.newEtag()},
                 {"properties",
                  {{"provisioningState", "Succeeded"},
                   {"privateEndpoint", {{"id", id}}},
                   {"privateLinkServiceConnectionState",
                    {{"status", isManual ? "Pending" : "Approved"},
                     {"description", isManual ? (requestMessage.empty() ? "Awaiting approval" : requestMessage) : "Auto-Approved"},
                     {"actionsRequired", "None"}}}}}});
      endpoint = w.find(id);
      (*endpoint)["_connectionId"] = connectionId;
      (*endpoint)["properties"]["provisioningState"] = "Succeeded";
      return std::nullopt;
    };
    return context.startOperation(std::move(operation));
  }
};

}  // namespace

ResourceProviderPtr makeNetworkProvider() { return std::make_unique<NetworkProvider>(); }

}  // namespace anf::emulator
