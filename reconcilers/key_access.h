#pragma once
// Key access for the identity an account encrypts with (reference page: access policy with key
// permissions Get, Encrypt, Decrypt; or on an RBAC vault a role with exactly
// Microsoft.KeyVault/vaults/keys/read, .../keys/encrypt/action, .../keys/decrypt/action).
//
// Role definition and assignment names are deterministic (deterministic_names.h), so a crash between
// the PUT and the status write, followed by a retry, PUTs the same names again.
#include <string>

#include "azure/resource_id.h"
#include "controller/reconciler.h"

namespace anf::azure {
class AzureClient;
}

namespace anf::reconcilers {

/// How access is granted (spec.encryption.access).
enum class AccessMode { AccessPolicy, RoleAssignment, None };
enum class AccessRole { MinimalCustomRole, KeyVaultCryptoUser };

/// Who gets access to which vault, how.
struct KeyAccessRequest {
  std::string credential;      // operator credential acting on the vault
  azure::ResourceId vaultId;
  controller::Json vault;      // the vault as ARM returns it (tenantId, enableRbacAuthorization, accessPolicies)
  std::string principalId;     // object id of the identity
  AccessMode mode = AccessMode::AccessPolicy;
  AccessRole role = AccessRole::MinimalCustomRole;
};

/// spec.encryption.access of an account; mode defaults from the vault's permission model (RBAC vaults:
/// RoleAssignment, others AccessPolicy), role to MinimalCustomRole.
AccessMode accessModeOf(const controller::Json& spec, const controller::Json& vault);
AccessRole accessRoleOf(const controller::Json& spec);

/// The role definition id the assignment names: the minimal custom role (deterministic GUID at the
/// vault's subscription) or the built-in Key Vault Crypto User.
std::string roleDefinitionIdFor(const KeyAccessRequest& request);
/// The role assignment's ARM id at the vault scope (deterministic name).
azure::ResourceId roleAssignmentIdFor(const KeyAccessRequest& request);

class KeyAccess {
 public:
  explicit KeyAccess(azure::AzureClient& client) : client_(client) {}
  /// Whether the principal holds the access, as Azure says in this pass (reads only, shared through the
  /// context's ObservationCache: the vault JSON answers for access policies, one LIST of the vault's role
  /// assignments for all accounts). Mode None on an RBAC vault: a role assignment at or above the vault whose
  /// role allows keys read, encrypt and decrypt (Key Vault Crypto User, or a role definition read from Azure).
  controller::Result<bool> granted(const controller::ReconcileContext& context, const KeyAccessRequest& request);
  /// Grants it: PUT accessPolicies/add; or PUT the minimal role definition (when missing or not exactly
  /// the three data actions) and PUT the role assignment. Tells the client a grant was made; what the pass
  /// cached of the vault, definition and assignment is kept current.
  controller::Result<controller::Outcome> grant(const controller::ReconcileContext& context, const KeyAccessRequest& request);

 private:
  controller::Result<bool> roleDefinitionCurrent(const controller::ReconcileContext& context, const KeyAccessRequest& request);
  controller::Result<bool> holdsKeyRole(const controller::ReconcileContext& context, const KeyAccessRequest& request);
  /// PUT `body` at `id`, recorded in the pass's cache.
  controller::Result<void> put(const controller::ReconcileContext& context, const KeyAccessRequest& request,
                               const azure::ResourceId& id, controller::Json body);
  azure::AzureClient& client_;
};

}  // namespace anf::reconcilers
