#pragma once
// Typed views of each kind's spec (SPEC §4), read from a validated Document (defaults applied by the
// loader: spec.azure filled, enums defaulted). Reconcilers use these instead of poking at JSON.
// Each `from` expects a Document of its kind that passed validation; it does not validate again.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/document.h"

namespace anf::controller {

/// A VNet with the private endpoint to the vault in it (changeKeyVault, transitionToCMK).
struct PrivateEndpointBinding {
  std::string virtualNetworkId;
  std::optional<std::string> privateEndpointRef;  // name of a PrivateEndpoint document
  std::optional<std::string> privateEndpointId;   // or an ARM id
};

struct UserAssignedIdentitySpec {
  AzureCoordinates azure;
  DeletionPolicy deletionPolicy = DeletionPolicy::Retain;
  static UserAssignedIdentitySpec from(const Document& document);
};

enum class IdentityType { SystemAssigned, UserAssigned, None };
enum class KeySource { NetApp, KeyVault };  // Microsoft.NetApp (PMK) | Microsoft.KeyVault (CMK)
enum class KeyAccessMode { AccessPolicy, RoleAssignment, None };
enum class KeyAccessRole { MinimalCustomRole, KeyVaultCryptoUser };

/// "Microsoft.NetApp" / "Microsoft.KeyVault", as Azure spells them.
std::string_view keySourceName(KeySource source);

struct NetAppAccountSpec {
  AzureCoordinates azure;
  DeletionPolicy deletionPolicy = DeletionPolicy::Retain;
  struct Identity {
    IdentityType type = IdentityType::None;
    std::optional<std::string> userAssignedIdentityRef;
    std::optional<std::string> userAssignedIdentityId;
  };
  std::optional<Identity> identity;  // absent: leave the account's identity alone
  struct KeyVault {
    std::string resourceId;
    std::optional<std::string> uri;  // optional when the vault is readable
    std::string keyName;
    std::vector<PrivateEndpointBinding> privateEndpoints;
  };
  struct Access {
    KeyAccessMode mode = KeyAccessMode::AccessPolicy;
    std::optional<KeyAccessRole> role;  // RoleAssignment only; absent means MinimalCustomRole
  };
  struct CrossTenant {
    std::optional<std::string> applicationRef;
    std::optional<std::string> federatedClientId;
  };
  struct Encryption {
    KeySource keySource = KeySource::NetApp;
    std::optional<KeyVault> keyVault;
    Access access;
    std::optional<CrossTenant> crossTenant;
  };
  Encryption encryption;
  std::vector<PrivateEndpointBinding> transitionToCMK;
  static NetAppAccountSpec from(const Document& document);
};

enum class PrivateEndpointApproval { Automatic, Manual };

struct PrivateEndpointSpec {
  AzureCoordinates azure;
  DeletionPolicy deletionPolicy = DeletionPolicy::Retain;
  std::string subnetId;
  std::string keyVaultResourceId;
  PrivateEndpointApproval approval = PrivateEndpointApproval::Automatic;
  static PrivateEndpointSpec from(const Document& document);
};

struct CapacityPoolSpec {
  AzureCoordinates azure;
  DeletionPolicy deletionPolicy = DeletionPolicy::Retain;
  std::string accountRef;
  std::string serviceLevel = "Premium";  // Standard | Premium | Ultra | StandardZRS | Flexible
  std::int64_t sizeTiB = 4;
  std::string qosType = "Auto";          // Auto | Manual
  std::string encryptionType = "Single"; // Single | Double (create only)
  std::int64_t sizeBytes() const { return sizeTiB * 1099511627776LL; }
  static CapacityPoolSpec from(const Document& document);
};

struct VolumeSpec {
  AzureCoordinates azure;
  DeletionPolicy deletionPolicy = DeletionPolicy::Retain;
  std::string poolRef;
  std::string creationToken;
  std::int64_t usageThresholdGiB = 100;
  std::string subnetId;
  std::vector<std::string> protocolTypes;  // NFSv3 | NFSv4.1 | CIFS
  std::string networkFeatures = "Basic";    // Basic | Standard | Basic_Standard | Standard_Basic
  KeySource encryptionKeySource = KeySource::NetApp;
  std::optional<std::string> keyVaultPrivateEndpointRef;
  std::optional<std::string> keyVaultPrivateEndpointId;
  std::int64_t usageThresholdBytes() const { return usageThresholdGiB * 1073741824LL; }
  /// The VNet of subnetId.
  std::string virtualNetworkId() const;
  static VolumeSpec from(const Document& document);
};

struct CrossTenantApplicationSpec {
  std::string tenant;  // credential name where the app is registered
  DeletionPolicy deletionPolicy = DeletionPolicy::Retain;
  std::string displayName;
  std::string identityRef;
  struct Customer {
    std::string tenantId;
    std::string keyVaultResourceId;
    std::optional<std::string> credential;  // with it the operator performs the customer's steps
  };
  Customer customer;
  static CrossTenantApplicationSpec from(const Document& document);
};

}  // namespace anf::controller
