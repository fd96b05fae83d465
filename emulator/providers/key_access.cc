#include "emulator/providers/key_access.h"

#include "emulator/providers/arm.h"

namespace anf::emulator::keyaccess {
namespace {

constexpr std::string_view kRoleDefinitionType = "Microsoft.Authorization/roleDefinitions";
constexpr std::string_view kRoleAssignmentType = "Microsoft.Authorization/roleAssignments";

struct BuiltIn {
  const char* guid;
  const char* name;
  const char* description;
  std::vector<std::string> actions;
  std::vector<std::string> notActions;
  std::vector<std::string> dataActions;
};

const std::vector<BuiltIn>& builtIns() {
  static const std::vector<BuiltIn> kRoles{
      {"8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner", "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.", {"*"}, {}, {}},
      {"b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor", "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
       {"*"}, {"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"}, {}},
      {"acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", "View all resources, but does not allow you to make any changes.", {"*/read"}, {}, {}},
      {"18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator", "Lets you manage user access to Azure resources.", {"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"}, {}, {}},
      {"00482a5a-887f-4fb3-b363-3b7fe8e74483", "Key Vault Administrator", "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets. Cannot manage key vault resources or manage role assignments. Only works for key vaults that use the 'Azure role-based access control' permission model.",
       {"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*", "Microsoft.KeyVault/checkNameAvailability/read", "Microsoft.KeyVault/deletedVaults/read", "Microsoft.KeyVault/locations/*/read", "Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/operations/read"},
       {}, {"Microsoft.KeyVault/vaults/*"}},
      {"14b46e9e-c2b7-41b4-b07b-48a6ebf60603", "Key Vault Crypto Officer", "Perform any action on the keys of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.",
       {"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*", "Microsoft.KeyVault/checkNameAvailability/read", "Microsoft.KeyVault/deletedVaults/read", "Microsoft.KeyVault/locations/*/read", "Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/operations/read"},
       {}, {"Microsoft.KeyVault/vaults/keys/*", "Microsoft.KeyVault/vaults/keyrotationpolicies/*"}},
      {"12338af0-0e69-4776-bea7-57ae8d297424", "Key Vault Crypto User", "Perform cryptographic operations using keys. Only works for key vaults that use the 'Azure role-based access control' permission model.",
       {"Microsoft.EventGrid/eventSubscriptions/write", "Microsoft.EventGrid/eventSubscriptions/read", "Microsoft.EventGrid/eventSubscriptions/delete"}, {},
       {"Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/update/action", "Microsoft.KeyVault/vaults/keys/backup/action", "Microsoft.KeyVault/vaults/keys/encrypt/action", "Microsoft.KeyVault/vaults/keys/decrypt/action", "Microsoft.KeyVault/vaults/keys/wrap/action", "Microsoft.KeyVault/vaults/keys/unwrap/action", "Microsoft.KeyVault/vaults/keys/sign/action", "Microsoft.KeyVault/vaults/keys/verify/action"}},
      {"e147488a-f6f5-4113-8e2d-b22465e65bf6", "Key Vault Crypto Service Encryption User", "Read metadata of keys and perform wrap/unwrap operations. Only works for key vaults that use the 'Azure role-based access control' permission model.",
       {"Microsoft.EventGrid/eventSubscriptions/write", "Microsoft.EventGrid/eventSubscriptions/read", "Microsoft.EventGrid/eventSubscriptions/delete"}, {},
       {"Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/wrap/action", "Microsoft.KeyVault/vaults/keys/unwrap/action"}},
  };
  return kRoles;
}

Json toJson(const BuiltIn& role, const std::string& scope) {
  return Json{{"id", scope + "/providers/Microsoft.Authorization/roleDefinitions/" + role.guid},
              {"name", role.guid},
              {"type", kRoleDefinitionType},
              {"properties",
               {{"roleName", role.name},
                {"type", "BuiltInRole"},
                {"description", role.description},
                {"assignableScopes", Json::array({"/"})},
                {"permissions", Json::array({Json{{"actions", role.actions},
                                                  {"notActions", role.notActions},
                                                  {"dataActions", role.dataActions},
                                                  {"notDataActions", Json::array()}}})},
                {"createdOn", "2015-02-02T21:55:09.8806423Z"},
                {"updatedOn", "2021-11-11T20:13:47.8628684Z"},
                {"createdBy", nullptr},
                {"updatedBy", nullptr}}}};
}

bool anyMatches(const Json& patterns, std::string_view action) {
  if (!patterns.is_array()) return false;
  for (const auto& pattern : patterns) {
    if (pattern.is_string() && actionMatches(pattern.get<std::string>(), action)) return true;
  }
  return false;
}

}  // namespace

const std::vector<std::string>& requiredDataActions() {
  static const std::vector<std::string> kActions{"Microsoft.KeyVault/vaults/keys/read",
                                                 "Microsoft.KeyVault/vaults/keys/encrypt/action",
                                                 "Microsoft.KeyVault/vaults/keys/decrypt/action"};
  return kActions;
}

std::vector<Json> builtInRoleDefinitions(const std::string& scope) {
  std::vector<Json> roles;
  for (const auto& role : builtIns()) roles.push_back(toJson(role, scope));
  return roles;
}

std::optional<Json> roleDefinition(World& world, const std::string& roleDefinitionId) {
  std::string guid = arm::lower(arm::lastSegment(roleDefinitionId));
  for (const auto& role : builtIns()) {
    if (guid == role.guid) return toJson(role, "");
  }
  std::string suffix = "/providers/microsoft.authorization/roledefinitions/" + guid;
  for (Json* resource : world.withPrefix("/")) {
    if (arm::lower(resource->value("id", std::string{})).ends_with(suffix) &&
        arm::iequals(resource->value("type", std::string{}), kRoleDefinitionType)) {
      return *resource;
    }
  }
  return std::nullopt;
}

bool actionMatches(std::string_view pattern, std::string_view action) {
  std::string p = arm::lower(pattern);
  std::string a = arm::lower(action);
  // Glob with '*' only: greedy match with backtracking over the last star.
  std::size_t pi = 0, ai = 0, star = std::string::npos, mark = 0;
  while (ai < a.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ai;
    } else if (pi < p.size() && p[pi] == a[ai]) {
      ++pi;
      ++ai;
    } else if (star != std::string::npos) {
      pi = star + 1;
      ai = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool grantsDataAction(const Json& roleDefinition, std::string_view dataAction) {
  const Json permissions = roleDefinition.contains("properties") ? roleDefinition["properties"].value("permissions", Json::array())
                                                                 : Json::array();
  for (const auto& permission : permissions) {
    if (anyMatches(permission.value("dataActions", Json::array()), dataAction) &&
        !anyMatches(permission.value("notDataActions", Json::array()), dataAction)) {
      return true;
    }
  }
  return false;
}

std::string vaultTenant(const Json& vault) { return arm::stringAt(vault, "/properties/tenantId"); }

std::string missingKeyAccess(World& world, const Json& vault, const std::string& tenantId, const std::string& objectId) {
  std::string vaultName = vault.value("name", std::string{});
  if (!arm::iequals(vaultTenant(vault), tenantId)) {
    return "The principal " + objectId + " belongs to tenant " + tenantId + ", but key vault " + vaultName +
           " accepts only tokens of tenant " + vaultTenant(vault) + ".";
  }
  bool rbac = vault.contains("properties") && vault["properties"].value("enableRbacAuthorization", false);
  if (!rbac) {
    for (const auto& policy : vault["properties"].value("accessPolicies", Json::array())) {
      if (!arm::iequals(policy.value("objectId", std::string{}), objectId) ||
          !arm::iequals(policy.value("tenantId", std::string{}), tenantId)) {
        continue;
      }
      const Json keys = policy.contains("permissions") ? policy["permissions"].value("keys", Json::array()) : Json::array();
      auto has = [&](std::string_view permission) {
        for (const auto& key : keys) {
          if (key.is_string() && (arm::iequals(key.get<std::string>(), permission) || arm::iequals(key.get<std::string>(), "all"))) {
            return true;
          }
        }
        return false;
      };
      if (has("get") && has("encrypt") && has("decrypt")) return "";
    }
    return "Key vault " + vaultName + " has no access policy granting the principal " + objectId +
           " the key permissions get, encrypt and decrypt.";
  }
  std::string vaultId = vault.value("id", std::string{});
  std::vector<Json> roles;
  for (Json* assignment : world.withPrefix("/")) {
    if (!arm::iequals(assignment->value("type", std::string{}), kRoleAssignmentType)) continue;
    if (assignment->value("_grantsFromMs", std::int64_t{0}) > world.clock.unixMilliseconds()) continue;  // still propagating
    const Json& properties = (*assignment)["properties"];
    if (!arm::iequals(properties.value("principalId", std::string{}), objectId)) continue;
    if (!arm::isAtOrBelow(vaultId, properties.value("scope", std::string{}))) continue;
    if (auto role = roleDefinition(world, properties.value("roleDefinitionId", std::string{}))) roles.push_back(*role);
  }
  std::string missing;
  for (const auto& action : requiredDataActions()) {
    bool granted = false;
    for (const auto& role : roles) granted = granted || grantsDataAction(role, action);
    if (!granted) missing += (missing.empty() ? "" : ", ") + action;
  }
  if (missing.empty()) return "";
  return "No role assignment at key vault " + vaultName + " or a parent scope grants the principal " + objectId +
         " the data actions " + missing + ".";
}

}  // namespace anf::emulator::keyaccess
