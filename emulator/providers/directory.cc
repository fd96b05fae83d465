#include "emulator/providers/directory.h"

#include "emulator/providers/arm.h"

namespace anf::emulator::directory {

std::string servicePrincipalId(const std::string& tenantId, const std::string& objectId) {
  return "/tenants/" + tenantId + "/servicePrincipals/" + objectId;
}

std::string objectIdOf(const Json& graphObject) {
  if (graphObject.contains("objectId") && graphObject["objectId"].is_string()) return graphObject["objectId"];
  return arm::lastSegment(graphObject.value("id", std::string{}));
}

void registerManagedIdentity(World& world, const std::string& tenantId, const std::string& objectId,
                             const std::string& clientId, const std::string& displayName,
                             const std::string& resourceId) {
  world.put(Json{{"id", servicePrincipalId(tenantId, objectId)},
                 {"objectId", objectId},
                 {"appId", clientId},
                 {"displayName", displayName},
                 {"servicePrincipalType", "ManagedIdentity"},
                 {"appOwnerOrganizationId", tenantId},
                 {"alternativeNames", Json::array({"isExplicit=" + std::string(resourceId.empty() ? "False" : "True"),
                                                   resourceId})}});
}

void unregisterPrincipal(World& world, const std::string& tenantId, const std::string& objectId) {
  world.erase(servicePrincipalId(tenantId, objectId));
}

void unregisterResourcePrincipal(World& world, const Json& resource) {
  if (arm::iequals(resource.value("type", std::string{}), "Microsoft.ManagedIdentity/userAssignedIdentities")) {
    unregisterPrincipal(world, arm::stringAt(resource, "/properties/tenantId"), arm::stringAt(resource, "/properties/principalId"));
  }
  std::string systemPrincipal = arm::stringAt(resource, "/identity/principalId");
  if (!systemPrincipal.empty()) unregisterPrincipal(world, arm::stringAt(resource, "/identity/tenantId"), systemPrincipal);
}

bool principalExists(World& world, const std::string& tenantId, const std::string& objectId) {
  if (objectId.empty()) return false;
  if (const Tenant* tenant = world.tenantById(tenantId)) {
    for (const auto& principal : tenant->principals) {
      if (arm::iequals(principal.objectId, objectId)) return true;
    }
  }
  if (world.find(servicePrincipalId(tenantId, objectId)) != nullptr) return true;
  for (Json* sp : world.withPrefix("/tenants/" + tenantId + "/servicePrincipals/")) {
    if (arm::iequals(objectIdOf(*sp), objectId)) return true;
  }
  return false;
}

Json* applicationByAppId(World& world, const std::string& tenantId, const std::string& appId) {
  for (Json* app : world.withPrefix("/tenants/" + tenantId + "/applications/")) {
    // Skip the applications' own children (federated identity credentials).
    std::string id = app->value("id", std::string{});
    if (arm::lower(id).find("/federatedidentitycredentials/") != std::string::npos) continue;
    if (arm::iequals(app->value("appId", std::string{}), appId)) return app;
  }
  return nullptr;
}

std::vector<Json*> federatedCredentials(World& world, const std::string& tenantId, const std::string& applicationObjectId) {
  return world.withPrefix("/tenants/" + tenantId + "/applications/" + applicationObjectId + "/federatedIdentityCredentials/");
}

std::optional<std::string> servicePrincipalOf(World& world, const std::string& tenantId, const std::string& appId) {
  for (Json* sp : world.withPrefix("/tenants/" + tenantId + "/servicePrincipals/")) {
    if (arm::iequals(sp->value("appId", std::string{}), appId)) return objectIdOf(*sp);
  }
  return std::nullopt;
}

}  // namespace anf::emulator::directory
