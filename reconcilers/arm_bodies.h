#pragma once
// The ARM request bodies the reconcilers send, built from plain values taken from the typed specs,
// and the field-level comparison of a desired body with what ARM returns. Pure functions: tested
// without a network, shared by observe() (diff) and create()/update() (send).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "azure/resource_id.h"
#include "controller/reconciler.h"

namespace anf::reconcilers {

using controller::FieldDiff;
using controller::Json;

inline constexpr std::string_view kKeySourceKeyVault = "Microsoft.KeyVault";
inline constexpr std::string_view kKeySourceNetApp = "Microsoft.NetApp";

/// The data actions ANF needs on an RBAC vault (reference page, "Use role-based access control").
const std::vector<std::string>& minimalKeyDataActions();
/// The key permissions ANF needs in an access policy: get, encrypt, decrypt.
const std::vector<std::string>& minimalKeyPermissions();
/// Built-in Key Vault Crypto User role GUID: the one place it is written.
inline constexpr std::string_view kKeyVaultCryptoUserRoleGuid = "12338af0-0e69-4776-bea7-57ae8d297424";
/// The ARM id of role definition `guid` as a role assignment names it: under `subscriptionId`
/// ("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"), or the tenant-level
/// id of a built-in role ("/providers/Microsoft.Authorization/roleDefinitions/{guid}") when it is empty.
std::string roleDefinitionId(std::string_view guid, std::string_view subscriptionId = {});

// ---- NetApp account ----

/// The account's managed identity as ARM wants it.
struct AccountIdentity {
  std::string type;                  // "SystemAssigned" | "UserAssigned" | "None"
  std::string userAssignedIdentityId;  // ARM id, for UserAssigned
};
/// `identity`: {type, userAssignedIdentities: {<id>: {}}}.
Json accountIdentityBody(const AccountIdentity& identity);

/// The account's encryption settings.
struct AccountEncryption {
  std::string keySource{kKeySourceNetApp};
  std::string keyVaultUri;
  std::string keyName;
  std::string keyVaultResourceId;
  std::string userAssignedIdentity;  // encryption.identity.userAssignedIdentity (UserAssigned only)
  std::string federatedClientId;     // encryption.identity.federatedClientId (cross-tenant, issue 7)
};
/// `properties.encryption`: {keySource, keyVaultProperties: {keyVaultUri, keyName, keyVaultResourceId},
/// identity: {userAssignedIdentity, federatedClientId}}; only keySource for PMK.
Json accountEncryptionBody(const AccountEncryption& encryption);

/// PUT body of a new account: {location, identity?, properties: {encryption?}}.
Json accountPutBody(const std::string& location, const std::optional<AccountIdentity>& identity,
                    const std::optional<AccountEncryption>& encryption);
/// PATCH body: only the parts given.
Json accountPatchBody(const std::optional<AccountIdentity>& identity, const std::optional<AccountEncryption>& encryption);

// ---- capacity pool and volume ----

inline constexpr std::int64_t kGiB = 1024LL * 1024 * 1024;
inline constexpr std::int64_t kTiB = 1024LL * kGiB;

struct PoolSettings {
  std::string location;
  std::string serviceLevel{"Premium"};
  std::int64_t sizeTiB = 4;
  std::string qosType{"Auto"};
};
/// PUT body: {location, properties: {serviceLevel, size (bytes), qosType}}.
Json poolBody(const PoolSettings& pool);

struct VolumeSettings {
  std::string location;
  std::string creationToken;
  std::int64_t usageThresholdGiB = 100;
  std::string subnetId;
  std::string serviceLevel;  // empty: the pool's
  std::vector<std::string> protocolTypes{"NFSv3"};
  std::string networkFeatures{"Standard"};
  std::string encryptionKeySource{kKeySourceNetApp};
  std::string keyVaultPrivateEndpointResourceId;  // CMK only
};
/// PUT body: {location, properties: {creationToken, usageThreshold (bytes), subnetId, protocolTypes,
/// networkFeatures, encryptionKeySource, keyVaultPrivateEndpointResourceId?, serviceLevel?}}.
Json volumeBody(const VolumeSettings& volume);
/// Fields ARM accepts only at creation (a difference there is not an update).
const std::vector<std::string>& volumeCreateOnlyPaths();

// ---- network and key vault ----

struct PrivateEndpointSettings {
  std::string location;
  std::string subnetId;
  std::string keyVaultResourceId;
  bool manualApproval = false;   // cross-tenant: manualPrivateLinkServiceConnections
  std::string connectionName;    // the connection's name (the endpoint's name by default)
  std::string requestMessage;
};
/// PUT body with privateLinkServiceConnections (or manualPrivateLinkServiceConnections) to the vault,
/// groupIds ["vault"].
Json privateEndpointBody(const PrivateEndpointSettings& endpoint);
/// The connection state (Pending|Approved|Rejected|Disconnected) of an endpoint as ARM returns it, or "".
std::string privateEndpointConnectionState(const Json& endpoint);

/// PUT .../accessPolicies/add body granting `objectId` keys get/encrypt/decrypt.
Json accessPolicyAddBody(const std::string& tenantId, const std::string& objectId);
/// true when the vault has an access policy for `objectId` that includes get, encrypt and decrypt.
bool hasKeyAccessPolicy(const Json& vault, const std::string& objectId);

/// The custom role's name, unique per tenant as Azure requires (vault names are globally unique).
std::string minimalRoleName(const std::string& vaultResourceId);
/// PUT body of the minimal custom role: exactly the three data actions, assignable at the vault.
Json minimalRoleDefinitionBody(const std::string& vaultResourceId);
/// PUT body of a role assignment for a managed identity (principalType ServicePrincipal).
Json roleAssignmentBody(const std::string& roleDefinitionId, const std::string& principalId);

// ---- comparison ----

struct DiffOptions {
  std::vector<std::string> ignorePaths;         // dotted paths (and their children) not compared
  std::vector<std::string> caseSensitivePaths;  // string values compared exactly; others ignore case
};

/// Every field of `desired` whose value differs in `observed`. Only fields present in `desired`
/// are compared (what ARM adds — read-only fields, defaults — is not drift). Object keys match
/// case-insensitively (ARM ids used as keys, "KeySource"); string values compare case-insensitively
/// unless listed; numbers compare by value; arrays element by element. Paths are dotted:
/// "properties.encryption.keyVaultProperties.keyName"; map keys that contain dots or slashes are
/// written in brackets: "identity.userAssignedIdentities[/subscriptions/...]".
std::vector<FieldDiff> diffBodies(const Json& desired, const Json& observed, const DiffOptions& options = {});

/// Case-insensitive lookup of a member (ARM returns some names in other cases); nullptr when absent.
const Json* findMember(const Json& object, std::string_view name);

/// ARM ids and enums compared as Azure does: case-insensitively.
using azure::equalsIgnoreCase;

}  // namespace anf::reconcilers
