#pragma once
// The key vault conditions of the ANF customer-managed keys page, with the exact messages of its two
// error tables (reference/anf-customer-managed-keys.md, "Error messages and troubleshooting"), and the
// emulator's reachability rules for a volume's key vault private endpoint.
//
// Where the emulator reports them:
//   - account PUT/PATCH/changeKeyVault: the account-table rows fail the request synchronously (400)
//     before anything changes; the identity's key access is checked when the long-running operation
//     runs and fails it (status Failed, kKeyUnusable) — as ANF validates the vault up front and
//     unwraps with the identity asynchronously;
//   - volume create: kAccountNotCmk and kKeySourceChange synchronously (400); kVaultUnreachable and
//     kKeyUnusable when the creation operation runs (volume provisioningState Failed).
// The error codes are the emulator's (Azure's own are not documented); the messages are the page's.
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "emulator/provider.h"
#include "emulator/providers/arm.h"

namespace anf::emulator::keychecks {

// Account table, in the page's order.
inline constexpr std::string_view kKeyNotFound = "The operation failed because the specified key vault key was not found";
inline constexpr std::string_view kKeyNotRsa = "Azure Key Vault key is not a valid RSA key";
inline constexpr std::string_view kKeyNotEnabled = "Azure Key Vault key is not enabled";
inline constexpr std::string_view kKeyExpired = "Azure Key Vault key is expired";
inline constexpr std::string_view kKeyNotActivated = "Azure Key Vault key has not been activated";
inline constexpr std::string_view kUriInvalid = "Key Vault URI is invalid";
inline constexpr std::string_view kNotRecoverable =
    "Azure Key Vault is not recoverable. Make sure that Soft-delete and Purge protection are both enabled on the Azure Key Vault";
inline constexpr std::string_view kRegionMismatch = "Account must be in the same region as the Vault";
// Volume table.
inline constexpr std::string_view kAccountNotCmk =
    "Volume cannot be encrypted with Microsoft.KeyVault, NetAppAccount has not been configured with KeyVault encryption";
inline constexpr std::string_view kKeySourceChange = "EncryptionKeySource cannot be changed";
inline constexpr std::string_view kKeyUnusable = "Unable to use the configured encryption key, please check if key is active";
inline constexpr std::string_view kVaultUnreachable = "Could not connect to the KeyVault";

// The codes that carry them.
inline constexpr std::string_view kCodeKeyNotFound = "KeyVaultKeyNotFound";
inline constexpr std::string_view kCodeKeyNotRsa = "KeyVaultKeyNotRsa";
inline constexpr std::string_view kCodeKeyNotEnabled = "KeyVaultKeyDisabled";
inline constexpr std::string_view kCodeKeyExpired = "KeyVaultKeyExpired";
inline constexpr std::string_view kCodeKeyNotActivated = "KeyVaultKeyNotActive";
inline constexpr std::string_view kCodeUriInvalid = "KeyVaultUriInvalid";
inline constexpr std::string_view kCodeNotRecoverable = "KeyVaultNotRecoverable";
inline constexpr std::string_view kCodeRegionMismatch = "KeyVaultRegionMismatch";
inline constexpr std::string_view kCodeAccountNotCmk = "AccountNotConfiguredForCmk";
inline constexpr std::string_view kCodeKeySourceChange = "EncryptionKeySourceCannotBeChanged";
inline constexpr std::string_view kCodeKeyUnusable = "EncryptionKeyUnusable";
inline constexpr std::string_view kCodeVaultUnreachable = "KeyVaultUnreachable";

/// An arm::Error (400) with one of the codes and messages above.
arm::Error error(std::string_view code, std::string_view message, std::string detail = "");

/// The vault and key an encryption setting names.
struct VaultKey {
  Json* vault = nullptr;
  Json* key = nullptr;
};

/// "https://{name}.vault.azure.net[:443][/]" -> lower-cased vault name, or nullopt when malformed.
std::optional<std::string> vaultNameFromUri(const std::string& keyVaultUri);
/// The stored vault whose vaultUri is `keyVaultUri` (any subscription, any tenant), or nullptr.
Json* vaultByUri(World& world, const std::string& keyVaultUri);

/// The account-table checks in order: URI well formed and naming an existing vault (consistent with
/// `keyVaultResourceId` when given), key found, RSA, enabled, not expired, activated (nbf), vault
/// recoverable (soft delete and purge protection), vault in `accountLocation`.
std::expected<VaultKey, arm::Error> checkAccountKey(World& world, const std::string& keyVaultUri, const std::string& keyName,
                                                    const std::string& keyVaultResourceId, const std::string& accountLocation);

/// The key-side part of kKeyUnusable: enabled, not expired, activated. Empty when usable, else why.
std::string keyUnusableReason(World& world, const Json& key);

/// kVaultUnreachable unless `privateEndpointId` names an existing private endpoint that targets
/// `vault`, lies in `virtualNetworkId`, not in a subnet delegated to Microsoft.NetApp/volumes, in a
/// subnet with private endpoint network policies Disabled, whose connection is Approved — and the
/// vault does not deny public access without the AzureServices bypass.
std::optional<arm::Error> checkVaultReachable(World& world, const Json& vault, const std::string& privateEndpointId,
                                              const std::string& virtualNetworkId);

/// The VNet id of a subnet id (".../virtualNetworks/v/subnets/s" -> ".../virtualNetworks/v").
std::string vnetOfSubnet(const std::string& subnetId);

}  // namespace anf::emulator::keychecks
