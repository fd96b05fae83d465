// Microsoft.Authorization (2022-04-01): role definitions (built-ins by their real GUIDs, custom roles
// at subscription or resource scope) and role assignments at any scope. Key access for RBAC vaults is
// computed from these by key_access.h.
#include <regex>

#include "emulator/providers/arm.h"
#include "emulator/providers/directory.h"
#include "emulator/providers/key_access.h"

namespace anf::emulator {
namespace {

constexpr const char* kDefinitionType = "Microsoft.Authorization/roleDefinitions";
constexpr const char* kAssignmentType = "Microsoft.Authorization/roleAssignments";

std::string scopeOf(const ArmPath& path) {
  if (!path.scope.empty()) return path.scope;
  if (path.subscriptionId.empty()) return "";
  return "/subscriptions/" + path.subscriptionId + (path.resourceGroup.empty() ? "" : "/resourceGroups/" + path.resourceGroup);
}

std::string filterValue(const Request& request, const std::string& pattern) {
  auto it = request.query.find("$filter");
  if (it == request.query.end()) return "";
  std::smatch match;
  if (std::regex_search(it->second, match, std::regex(pattern, std::regex::icase))) return match[1].str();
  return "";
}

bool filterHas(const Request& request, const std::string& text) {
  auto it = request.query.find("$filter");
  return it != request.query.end() && arm::lower(it->second).find(arm::lower(text)) != std::string::npos;
}

std::string tenantOfScope(World& world, const std::string& scope, const Caller& caller) {
  if (const Tenant* tenant = world.tenantOfSubscription(arm::subscriptionOf(scope))) return tenant->tenantId;
  return caller.tenantId;
}

std::string compact(std::string guid) {
  std::erase(guid, '-');
  return guid;
}

class AuthorizationProvider final : public ResourceProvider {
 public:
  std::string providerNamespace() const override { return "Microsoft.Authorization"; }
  std::vector<std::string> apiVersions() const override { return {"2022-04-01"}; }

  Response handle(const Request& raw, const ArmPath& path, Context& context) override {
    const Request request = arm::withoutNulls(raw);
    std::string type = path.types.empty() ? "" : arm::lower(path.types.back());
    if (path.types.size() == 1 && type == "roledefinitions") return definitions(request, path, context.world());
    if (path.types.size() == 1 && type == "roleassignments") return assignments(request, path, context.world());
    return Response::error(400, "InvalidResourceType", "The resource type '" + path.resourceType() + "' could not be found.");
  }

 private:
  Response definitions(const Request& request, const ArmPath& path, World& world) {
    std::string scope = scopeOf(path);
    if (path.isCollection()) {
      if (request.method != "GET") return arm::methodNotAllowed(request);
      std::string wantedName = filterValue(request, R"(roleName\s+eq\s+'([^']*)')");
      std::string wantedType = filterValue(request, R"(type\s+eq\s+'([^']*)')");
      std::vector<Json> items;
      auto consider = [&](const Json& role) {
        if (!wantedName.empty() && !arm::iequals(arm::stringAt(role, "/properties/roleName"), wantedName)) return;
        if (!wantedType.empty() && !arm::iequals(arm::stringAt(role, "/properties/type"), wantedType)) return;
        items.push_back(arm::publicView(role));
      };
      for (const auto& role : keyaccess::builtInRoleDefinitions(scope)) consider(role);
      for (Json* role : customRolesOfTenant(world, tenantOfScope(world, scope, request.caller))) consider(*role);
      return arm::listPage(request, std::move(items));
    }
    std::string guid = path.names[0];
    std::string id = scope + "/providers/Microsoft.Authorization/roleDefinitions/" + guid;
    if (request.method == "GET") {
      auto role = keyaccess::roleDefinition(world, guid);
      if (!role) {
        return Response::error(404, "RoleDefinitionDoesNotExist", "The specified role definition with ID '" + compact(guid) + "' does not exist.");
      }
      if (arm::stringAt(*role, "/properties/type") == "BuiltInRole") (*role)["id"] = id;
      return arm::ok(*role);
    }
    if (request.method == "PUT") return putDefinition(request, world, scope, guid, id);
    if (request.method == "DELETE") {
      Json* existing = arm::findTyped(world, id, kDefinitionType);
      if (!existing) return Response::empty(204);
      for (Json* assignment : arm::ofType(world, kAssignmentType)) {
        if (arm::iequals(arm::lastSegment(arm::stringAt(*assignment, "/properties/roleDefinitionId")), guid)) {
          return Response::error(409, "RoleDefinitionHasAssignments",
                                 "There are existing role assignments referencing role (code: RoleDefinitionHasAssignments).");
        }
      }
      Json deleted = arm::publicView(*existing);
      world.erase(id);
      return Response::json(200, deleted);
    }
    return arm::methodNotAllowed(request);
  }

  std::vector<Json*> customRolesOfTenant(World& world, const std::string& tenantId) {
    std::vector<Json*> roles;
    for (Json* role : arm::ofType(world, kDefinitionType)) {
      const Tenant* tenant = world.tenantOfSubscription(arm::subscriptionOf(role->value("id", std::string{})));
      if (tenant && arm::iequals(tenant->tenantId, tenantId)) roles.push_back(role);
    }
    return roles;
  }

  Response putDefinition(const Request& request, World& world, const std::string& scope, const std::string& guid,
                         const std::string& id) {
    if (auto invalid = arm::checkObjectBody(request)) return *invalid;
    if (!arm::isGuid(guid)) {
      return arm::badRequest("InvalidRoleDefinitionId", "The role definition ID '" + guid + "' is not valid. The role definition ID must be a GUID.");
    }
    for (const auto& builtIn : keyaccess::builtInRoleDefinitions()) {
      if (arm::iequals(builtIn.value("name", std::string{}), guid)) {
        return Response::error(403, "AuthorizationFailed", "Built-in role definitions cannot be modified.");
      }
    }
    const Json properties = request.body.value("properties", Json::object());
    std::string roleName = properties.value("roleName", std::string{});
    if (roleName.empty()) return arm::badRequest("InvalidRoleDefinitionRoleName", "The role definition name is required.", "properties.roleName");
    Json scopes = properties.value("assignableScopes", Json::array());
    if (!scopes.is_array() || scopes.empty()) {
      return arm::badRequest("InvalidAssignableScopes", "The role definition must have at least one assignable scope.",
                             "properties.assignableScopes");
    }
    Json permissions = properties.value("permissions", Json::array());
    if (!permissions.is_array()) return arm::badRequest("InvalidRoleDefinitionPermissions", "permissions must be an array.");
    std::string tenantId = tenantOfScope(world, scope, request.caller);
    for (const auto& builtIn : keyaccess::builtInRoleDefinitions()) {
      if (arm::iequals(arm::stringAt(builtIn, "/properties/roleName"), roleName)) {
        return Response::error(409, "RoleDefinitionWithSameNameExists",
                               "A custom role with the same name already exists in this directory. Use a different name.");
      }
    }
    for (Json* role : customRolesOfTenant(world, tenantId)) {
      if (arm::iequals(arm::stringAt(*role, "/properties/roleName"), roleName) &&
          !arm::iequals(role->value("name", std::string{}), guid)) {
        return Response::error(409, "RoleDefinitionWithSameNameExists",
                               "A custom role with the same name already exists in this directory. Use a different name.");
      }
    }
    Json* existing = arm::findTyped(world, id, kDefinitionType);
    Json normalized = Json::array();
    for (const auto& permission : permissions) {
      normalized.push_back(Json{{"actions", permission.value("actions", Json::array())},
                                {"notActions", permission.value("notActions", Json::array())},
                                {"dataActions", permission.value("dataActions", Json::array())},
                                {"notDataActions", permission.value("notDataActions", Json::array())}});
    }
    std::string now = world.clock.iso8601();
    Json role{{"id", id},
              {"name", guid},
              {"type", kDefinitionType},
              {"properties",
               {{"roleName", roleName},
                {"type", "CustomRole"},
                {"description", properties.value("description", std::string{})},
                {"assignableScopes", scopes},
                {"permissions", normalized},
                {"createdOn", existing ? arm::stringAt(*existing, "/properties/createdOn", now) : now},
                {"updatedOn", now},
                {"createdBy", request.caller.objectId},
                {"updatedBy", request.caller.objectId}}}};
    return arm::ok(world.put(std::move(role)), existing ? 200 : 201);
  }

  Response assignments(const Request& request, const ArmPath& path, World& world) {
    std::string scope = scopeOf(path);
    if (path.isCollection()) {
      if (request.method != "GET") return arm::methodNotAllowed(request);
      bool atScope = filterHas(request, "atScope()");
      std::string principal = filterValue(request, R"(principalId\s+eq\s+'([^']*)')");
      if (principal.empty()) principal = filterValue(request, R"(assignedTo\('([^']*)'\))");
      std::vector<Json> items;
      for (Json* assignment : arm::ofType(world, kAssignmentType, "")) {
        std::string at = arm::stringAt(*assignment, "/properties/scope");
        bool above = arm::isAtOrBelow(scope, at);
        bool below = arm::isAtOrBelow(at, scope);
        if (!(above || (!atScope && below))) continue;
        if (!principal.empty() && !arm::iequals(arm::stringAt(*assignment, "/properties/principalId"), principal)) continue;
        items.push_back(arm::publicView(*assignment));
      }
      for (Json* assignment : world.withPrefix("/providers/Microsoft.Authorization/roleAssignments/")) {
        if (principal.empty() || arm::iequals(arm::stringAt(*assignment, "/properties/principalId"), principal)) {
          items.push_back(arm::publicView(*assignment));
        }
      }
      return arm::listPage(request, std::move(items));
    }
    std::string name = path.names[0];
    std::string id = scope + "/providers/Microsoft.Authorization/roleAssignments/" + name;
    Json* existing = arm::findTyped(world, id, kAssignmentType);
    if (request.method == "GET") {
      if (existing) return arm::ok(*existing);
      return Response::error(404, "RoleAssignmentNotFound", "The role assignment '" + name + "' is not found.");
    }
    if (request.method == "DELETE") {
      if (!existing) return Response::empty(204);
      Json deleted = arm::publicView(*existing);
      world.erase(id);
      return Response::json(200, deleted);
    }
    if (request.method != "PUT") return arm::methodNotAllowed(request);
    if (auto invalid = arm::checkObjectBody(request)) return *invalid;
    if (!arm::isGuid(name)) {
      return arm::badRequest("InvalidRoleAssignmentId", "The role assignment ID '" + name + "' is not valid. The role assignment ID must be a GUID.");
    }
    const Json properties = request.body.value("properties", Json::object());
    std::string roleDefinitionId = properties.value("roleDefinitionId", std::string{});
    std::string principalId = properties.value("principalId", std::string{});
    auto role = keyaccess::roleDefinition(world, roleDefinitionId);
    if (roleDefinitionId.empty() || !role) {
      return arm::badRequest("RoleDefinitionDoesNotExist",
                             "The specified role definition with ID '" + compact(arm::lastSegment(roleDefinitionId)) + "' does not exist.");
    }
    std::string tenantId = tenantOfScope(world, scope, request.caller);
    if (!directory::principalExists(world, tenantId, principalId)) {
      return arm::badRequest("PrincipalNotFound",
                             "Principal " + compact(principalId) + " does not exist in the directory " + tenantId +
                                 ". Check that you have the correct principal ID. If you are creating this principal and then "
                                 "immediately assigning a role, this error might be related to a replication delay. In this case, "
                                 "set the role assignment principalType property to a value, such as ServicePrincipal, User, or "
                                 "Group.  See https://aka.ms/docs-principaltype");
    }
    std::string guid = arm::lower(arm::lastSegment(roleDefinitionId));
    std::string subscription = arm::subscriptionOf(scope);
    std::string canonicalRoleId = (subscription.empty() ? "" : "/subscriptions/" + subscription) +
                                  "/providers/Microsoft.Authorization/roleDefinitions/" + guid;
    for (Json* other : arm::ofType(world, kAssignmentType, "")) {
      if (arm::sameId(other->value("id", std::string{}), id)) continue;
      if (arm::sameId(arm::stringAt(*other, "/properties/scope"), scope) &&
          arm::iequals(arm::stringAt(*other, "/properties/principalId"), principalId) &&
          arm::iequals(arm::lastSegment(arm::stringAt(*other, "/properties/roleDefinitionId")), guid)) {
        return Response::error(409, "RoleAssignmentExists", "The role assignment already exists.");
      }
    }
    if (existing) {
      if (!arm::iequals(arm::stringAt(*existing, "/properties/principalId"), principalId) ||
          !arm::iequals(arm::lastSegment(arm::stringAt(*existing, "/properties/roleDefinitionId")), guid)) {
        return Response::error(409, "RoleAssignmentUpdateNotPermitted",
                               "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.");
      }
      return arm::ok(*existing, 200);
    }
    std::string now = world.clock.iso8601();
    Json assignment{{"id", id},
                    {"name", name},
                    {"type", kAssignmentType},
                    {"properties",
                     {{"roleDefinitionId", canonicalRoleId},
                      {"principalId", principalId},
                      {"principalType", properties.value("principalType", std::string("ServicePrincipal"))},
                      {"scope", scope.empty() ? "/" : scope},
                      {"condition", properties.contains("condition") ? properties["condition"] : Json(nullptr)},
                      {"conditionVersion", properties.contains("conditionVersion") ? properties["conditionVersion"] : Json(nullptr)},
                      {"description", properties.contains("description") ? properties["description"] : Json(nullptr)},
                      {"createdOn", now},
                      {"updatedOn", now},
                      {"createdBy", request.caller.objectId},
                      {"updatedBy", request.caller.objectId}}},
                    // When the grant has propagated: key access checks (key_access.cc) ignore it until then.
                    {"_grantsFromMs", world.clock.unixMilliseconds() + world.durationOf("roleAssignmentPropagation").count()}};
    return arm::ok(world.put(std::move(assignment)), 201);
  }
};

}  // namespace

ResourceProviderPtr makeAuthorizationProvider() { return std::make_unique<AuthorizationProvider>(); }

}  // namespace anf::emulator
