#pragma once
// The bad-input corpus shared by validation_test.cc (exact C++ messages) and schema_agreement_test.cc
// (the published JSON Schema must reject exactly the cases marked schemaLevel). In each case the first
// document is the one under test; the rest is a valid context of the emulator's demo world.
#include <ostream>
#include <string>
#include <vector>

namespace anf::controller::testing {

inline const std::string kSub = "10000000-0000-4000-8000-0000000000a1";
inline const std::string kVnet = "/subscriptions/" + kSub + "/resourceGroups/anf-rg/providers/Microsoft.Network/virtualNetworks/anf-vnet";
inline const std::string kDelegated = kVnet + "/subnets/anf-delegated";
inline const std::string kEndpoints = kVnet + "/subnets/endpoints";
inline const std::string kOtherVnet = "/subscriptions/" + kSub + "/resourceGroups/anf-rg/providers/Microsoft.Network/virtualNetworks/other-vnet";
inline const std::string kVault = "/subscriptions/" + kSub + "/resourceGroups/anf-rg/providers/Microsoft.KeyVault/vaults/anfkv-provider";
inline const std::string kIdentityId = "/subscriptions/" + kSub + "/resourceGroups/anf-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ids";
inline const std::string kPeId = "/subscriptions/" + kSub + "/resourceGroups/anf-rg/providers/Microsoft.Network/privateEndpoints/pe1";

/// A document whose spec lines start at line 6, column 3.
inline std::string doc(const std::string& kind, const std::string& name, const std::string& specLines) {
  return "apiVersion: anf-cmk.io/v1alpha1\nkind: " + kind + "\nmetadata:\n  name: " + name + "\nspec:\n" + specLines;
}

inline std::string accountSpec(const std::string& extra = "") {
  return "  identity:\n    type: SystemAssigned\n  encryption:\n    keySource: Microsoft.KeyVault\n    keyVault:\n"
         "      resourceId: " + kVault + "\n      keyName: anf-key\n" + extra;
}

inline std::string volumeSpec(const std::string& extra = "") {
  return "  poolRef: pool1\n  creationToken: vol1\n  subnetId: " + kDelegated + "\n" + extra;
}

inline const std::string kCmkVolume = "  networkFeatures: Standard\n  encryptionKeySource: Microsoft.KeyVault\n  keyVaultPrivateEndpointRef: pe1\n";

/// Valid documents the cases refer to: NetAppAccount/acct (CMK), PrivateEndpoint/pe1, CapacityPool/pool1,
/// UserAssignedIdentity/ids, CrossTenantApplication/app.
inline std::string context() {
  return "---\n" + doc("NetAppAccount", "acct", accountSpec()) + "---\n" +
         doc("PrivateEndpoint", "pe1", "  subnetId: " + kEndpoints + "\n  keyVaultResourceId: " + kVault + "\n") + "---\n" +
         doc("CapacityPool", "pool1", "  accountRef: acct\n") + "---\n" + doc("UserAssignedIdentity", "ids", "  {}\n") + "---\n" +
         doc("CrossTenantApplication", "app",
             "  displayName: anf-cmk-app\n  identityRef: ids\n  customer:\n    tenantId: 20000000-0000-4000-8000-000000000002\n"
             "    keyVaultResourceId: " + kVault + "\n");
}

struct BadCase {
  std::string name;
  std::string yaml;  // the document under test (context() is appended)
  std::vector<std::string> errors;  // exactly, in order, as ManifestError::str() for file "bad.yaml"
  bool schemaLevel;  // the JSON Schema must reject the document under test too
  bool withContext = true;
};

std::vector<BadCase> badCases();

}  // namespace anf::controller::testing

namespace anf::controller::testing {
inline void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }
}  // namespace anf::controller::testing
