#pragma once
// Data-plane key access, checked the way Key Vault does it: does a principal hold get, encrypt and
// decrypt on a vault's keys?
//   - access-policy vaults (enableRbacAuthorization false): an access policy of the vault's tenant
//     for the principal's object id whose key permissions include get, encrypt and decrypt (or all);
//   - RBAC vaults: role assignments for the principal at the vault or any parent scope whose role
//     definitions together grant the data actions Microsoft.KeyVault/vaults/keys/read,
//     .../keys/encrypt/action and .../keys/decrypt/action (wildcards honoured, notDataActions subtracted).
// Either way the principal must belong to the vault's tenant: a vault only accepts its own tenant's tokens.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/provider.h"

namespace anf::emulator::keyaccess {

/// The three data actions ANF needs (the ANF page's minimal custom role).
const std::vector<std::string>& requiredDataActions();

/// Built-in role definitions the emulator knows by their real GUIDs (Owner, Contributor, Reader,
/// Key Vault Administrator, Key Vault Crypto Officer, Key Vault Crypto User, Key Vault Crypto Service
/// Encryption User), as ARM returns them with `id` relative to `scope` ("" = tenant root).
std::vector<Json> builtInRoleDefinitions(const std::string& scope = "");
/// The role definition (built-in or custom) whose GUID is the last segment of `roleDefinitionId`.
std::optional<Json> roleDefinition(World& world, const std::string& roleDefinitionId);

/// Does the ARM action pattern (with '*' wildcards, case-insensitive) match `action`?
bool actionMatches(std::string_view pattern, std::string_view action);
/// Does this role definition grant `dataAction` (dataActions minus notDataActions)?
bool grantsDataAction(const Json& roleDefinition, std::string_view dataAction);

/// Why access is missing, in words for error details; empty when the principal has access.
std::string missingKeyAccess(World& world, const Json& vault, const std::string& tenantId, const std::string& objectId);
inline bool holdsKeyAccess(World& world, const Json& vault, const std::string& tenantId, const std::string& objectId) {
  return missingKeyAccess(world, vault, tenantId, objectId).empty();
}

/// The tenant a vault authenticates against (properties.tenantId).
std::string vaultTenant(const Json& vault);

}  // namespace anf::emulator::keyaccess
