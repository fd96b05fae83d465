#include "reconcilers/key_access.h"

#include "azure/client.h"
#include "reconcilers/arm_bodies.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/deterministic_names.h"
#include "reconcilers/documented_errors.h"
#include "reconcilers/key_vault_checks.h"

namespace anf::reconcilers {
namespace {

constexpr std::string_view kRoleAssignments = "Microsoft.Authorization/roleAssignments";

std::string stringAt(const Json& json, const char* pointer) {
  const Json::json_pointer p{pointer};
  return json.contains(p) && json.at(p).is_string() ? json.at(p).get<std::string>() : "";
}

azure::ResourceId roleDefinitionResourceId(const KeyAccessRequest& request) {
  return azure::ResourceId::subscription(request.vaultId.subscriptionId())
      .child("Microsoft.Authorization/roleDefinitions",
             roleDefinitionName(request.vaultId.str(), minimalRoleName(request.vaultId.str())));
}

/// true when a role's `pattern` (data action, trailing "*" a wildcard) covers `action`.
bool covers(std::string_view pattern, std::string_view action) {
  if (!pattern.ends_with('*')) return equalsIgnoreCase(pattern, action);
  pattern.remove_suffix(1);
  return action.size() >= pattern.size() && equalsIgnoreCase(action.substr(0, pattern.size()), pattern);
}

/// true when the role definition allows the three key data actions ANF needs (and excludes none of them).
bool grantsKeyUse(const Json& role) {
  const Json permissions = role.value("/properties/permissions"_json_pointer, Json::array());
  return std::ranges::all_of(minimalKeyDataActions(), [&](const std::string& action) {
    return std::ranges::any_of(permissions, [&](const Json& block) {
      auto any = [&](const char* list) {
        return std::ranges::any_of(block.value(list, Json::array()),
                                   [&](const Json& p) { return p.is_string() && covers(p.get<std::string>(), action); });
      };
      return any("dataActions") && !any("notDataActions");
    });
  });
}

}  // namespace

AccessMode accessModeOf(const Json& spec, const Json& vault) {
  const std::string mode = stringAt(spec, "/encryption/access/mode");
  if (mode == "None") return AccessMode::None;
  if (mode == "RoleAssignment") return AccessMode::RoleAssignment;
  if (mode == "AccessPolicy") return AccessMode::AccessPolicy;
  return vaultUsesRbac(vault) ? AccessMode::RoleAssignment : AccessMode::AccessPolicy;
}

AccessRole accessRoleOf(const Json& spec) {
  return stringAt(spec, "/encryption/access/role") == "KeyVaultCryptoUser" ? AccessRole::KeyVaultCryptoUser
                                                                          : AccessRole::MinimalCustomRole;
}

std::string roleDefinitionIdFor(const KeyAccessRequest& request) {
  if (request.role == AccessRole::KeyVaultCryptoUser) return roleDefinitionId(kKeyVaultCryptoUserRoleGuid);
  return roleDefinitionResourceId(request).str();
}

azure::ResourceId roleAssignmentIdFor(const KeyAccessRequest& request) {
  return request.vaultId.child(
      "Microsoft.Authorization/roleAssignments",
      roleAssignmentName(request.vaultId.str(), request.principalId, roleDefinitionIdFor(request)));
}

Result<bool> KeyAccess::roleDefinitionCurrent(const ReconcileContext& context, const KeyAccessRequest& request) {
  auto definition = getForPass(client_, context, request.credential, roleDefinitionResourceId(request));
  if (!definition) return std::unexpected(definition.error());
  if (!*definition) return false;
  const Json desired = minimalRoleDefinitionBody(request.vaultId.str());
  const Json::json_pointer permissions{"/properties/permissions"};
  const Json::json_pointer scopes{"/properties/assignableScopes"};
  if (!(*definition)->contains(permissions) || !(*definition)->contains(scopes)) return false;
  return diffBodies(desired.at(permissions), (*definition)->at(permissions)).empty() &&
         diffBodies(desired.at(scopes), (*definition)->at(scopes)).empty();
}

Result<bool> KeyAccess::holdsKeyRole(const ReconcileContext& context, const KeyAccessRequest& request) {
  auto assignments = listForPass(client_, context, request.credential, request.vaultId, kRoleAssignments);
  if (!assignments) return std::unexpected(assignments.error());
  for (const Json& assignment : *assignments) {
    if (!equalsIgnoreCase(stringAt(assignment, "/properties/principalId"), request.principalId)) continue;
    const std::string roleId = stringAt(assignment, "/properties/roleDefinitionId");
    if (roleId.ends_with(kKeyVaultCryptoUserRoleGuid)) return true;
    auto id = azure::ResourceId::parse(roleId);
    if (!id) continue;
    auto role = getForPass(client_, context, request.credential, *id);
    if (!role) return std::unexpected(role.error());
    if (*role && grantsKeyUse(**role)) return true;
  }
  return false;
}

Result<bool> KeyAccess::granted(const ReconcileContext& context, const KeyAccessRequest& request) {
  switch (request.mode) {
    // Granted by someone else: read what Azure holds (the vault's policies or the role assignments at the
    // vault), so that a missing grant is known before the account is encrypted with a key it cannot use.
    case AccessMode::None:
      return vaultUsesRbac(request.vault) ? holdsKeyRole(context, request) : hasKeyAccessPolicy(request.vault, request.principalId);
    case AccessMode::AccessPolicy: return hasKeyAccessPolicy(request.vault, request.principalId);
    case AccessMode::RoleAssignment: break;
  }
  if (request.role == AccessRole::MinimalCustomRole) {
    auto current = roleDefinitionCurrent(context, request);
    if (!current || !*current) return current;
  }
  // The vault's one LIST of role assignments per pass answers for every account's deterministic assignment.
  auto assignments = listForPass(client_, context, request.credential, request.vaultId, kRoleAssignments);
  if (!assignments) return std::unexpected(assignments.error());
  return findByName(*assignments, roleAssignmentIdFor(request).name()).has_value();
}

Result<controller::Outcome> KeyAccess::grant(const ReconcileContext& context, const KeyAccessRequest& request) {
  if (request.mode == AccessMode::None) {  // not ours to grant: the documented error, checked again later
    controller::ReconcileError error = toReconcileError(kEncryptionKeyUnusable);
    error.message += " (spec.encryption.access.mode None: the identity " + request.principalId +
                     (vaultUsesRbac(request.vault)
                          ? " has no role with keys read, encrypt and decrypt on " + request.vaultId.name() +
                                "; assign one there, or let the operator assign it with mode RoleAssignment)"
                          : " has no access policy with get, encrypt, decrypt on " + request.vaultId.name() +
                                "; grant it there, or let the operator grant it with mode AccessPolicy)");
    return std::unexpected(std::move(error));
  }
  controller::Outcome outcome;
  if (request.mode == AccessMode::AccessPolicy) {
    const std::string tenantId = stringAt(request.vault, "/properties/tenantId");
    auto result = await(client_.put(request.credential, request.vaultId.child("accessPolicies", "add"),
                                    accessPolicyAddBody(tenantId, request.principalId)));
    forgetObserved(context.cache, request.vaultId);  // the vault's policies changed; the answer holds only the added ones
    if (!result) return std::unexpected(result.error());
    outcome.description = "added key access policy (get, encrypt, decrypt) for " + request.principalId;
  } else if (request.mode == AccessMode::RoleAssignment) {
    if (request.role == AccessRole::MinimalCustomRole) {
      auto current = roleDefinitionCurrent(context, request);
      if (!current) return std::unexpected(current.error());
      if (!*current)
        if (auto put = this->put(context, request, roleDefinitionResourceId(request), minimalRoleDefinitionBody(request.vaultId.str())); !put)
          return std::unexpected(put.error());
    }
    if (auto put = this->put(context, request, roleAssignmentIdFor(request),
                             roleAssignmentBody(roleDefinitionIdFor(request), request.principalId));
        !put)
      return std::unexpected(put.error());
    outcome.description = std::string{"assigned "} +
                          (request.role == AccessRole::KeyVaultCryptoUser ? "Key Vault Crypto User" : "the minimal key role") +
                          " on the vault to " + request.principalId;
  }
  client_.noteGrant(request.principalId);
  outcome.facts["accessGrantedAt"] = nowUnixSeconds();
  outcome.requeueAfter = std::chrono::milliseconds{1000};  // let the grant propagate before encrypting
  return outcome;
}

Result<void> KeyAccess::put(const ReconcileContext& context, const KeyAccessRequest& request, const azure::ResourceId& id,
                             Json body) {
  auto result = await(client_.put(request.credential, id, std::move(body)));
  if (!recordWrite(context.cache, id, result)) return std::unexpected(result.error());
  return {};
}

}  // namespace anf::reconcilers
