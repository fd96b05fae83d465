#pragma once
// The key vault checks an account runs before it writes anything (SPEC §1 "key vault checks"):
// pure functions of the vault and key as ARM returns them (Microsoft.KeyVault 2024-11-01), so that the
// documented conditions are decided here, tested without a network, and nothing is sent to the
// account when one fails.
#include <cstdint>
#include <expected>
#include <optional>
#include <string>

#include "controller/reconciler.h"
#include "reconcilers/key_vault_uri.h"  // sameVaultUri

namespace anf::reconcilers {

using controller::Json;

/// What the checks look at.
struct KeyVaultCheckInput {
  std::optional<Json> vault;      // GET .../vaults/{name}; nullopt when it does not exist
  std::optional<Json> key;        // GET .../vaults/{name}/keys/{key}; nullopt when it does not exist
  std::string declaredUri;        // spec.encryption.keyVault.uri; empty: the vault's own vaultUri is used
  std::string accountLocation;    // the NetApp account's location ("eastus")
  std::int64_t nowUnixSeconds = 0;
};

/// Runs the documented conditions in the page's order: key not found, not RSA (RSA and RSA-HSM
/// only), not enabled, expired (exp), not activated (nbf), URI invalid, vault not recoverable (soft
/// delete and purge protection), other region; then the prose requirements: when the vault's public
/// access is disabled or its firewall denies by default, the AzureServices bypass must be on; the
/// account's region must be one listed as supported. The first failure is returned as a terminal
/// ReconcileError with conditionType "KeyVaultValid" and the documented text and resolution.
std::expected<void, controller::ReconcileError> checkKeyVault(const KeyVaultCheckInput& input);

struct DocumentedError;
/// The documented condition that makes `key` unusable at `nowUnixSeconds` (not enabled, expired, not yet
/// activated), or nullptr when it is usable.
const DocumentedError* keyUnusableCondition(const Json& key, std::int64_t nowUnixSeconds);

/// Now, in Unix seconds (the unit of key attributes and of the grant timestamps in status).
std::int64_t nowUnixSeconds();

/// The key's expiry (attributes.exp, Unix seconds), when it has one.
std::optional<std::int64_t> keyExpiry(const Json& key);

/// The vault URI to configure on the account: the declared one, else the vault's properties.vaultUri.
std::string effectiveVaultUri(const std::string& declaredUri, const Json& vault);

/// true when the vault uses Azure RBAC for data-plane access (enableRbacAuthorization).
bool vaultUsesRbac(const Json& vault);

/// true for "https://<host>[:port]/" with nothing after the slash (a vault URI, not a key URI).
bool isWellFormedVaultUri(const std::string& uri);

}  // namespace anf::reconcilers
