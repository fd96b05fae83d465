#include "reconcilers/arm_bodies.h"

#include <gtest/gtest.h>

namespace anf::reconcilers {
namespace {

constexpr const char* kVault =
    "/subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/providers/Microsoft.KeyVault/vaults/anfkv-rbac";
constexpr const char* kIdentity =
    "/subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/ids";

TEST(ArmBodies, UserAssignedCmkAccount) {
  AccountEncryption encryption{.keySource = "Microsoft.KeyVault", .keyVaultUri = "https://anfkv-rbac.vault.azure.net/",
                               .keyName = "anf-key", .keyVaultResourceId = kVault, .userAssignedIdentity = kIdentity};
  Json body = accountPutBody("eastus", AccountIdentity{"UserAssigned", kIdentity}, encryption);
  EXPECT_EQ(body, Json::parse(std::string{R"({"location": "eastus",
    "identity": {"type": "UserAssigned", "userAssignedIdentities": {")"} + kIdentity + R"(": {}}},
    "properties": {"encryption": {"keySource": "Microsoft.KeyVault",
      "keyVaultProperties": {"keyVaultUri": "https://anfkv-rbac.vault.azure.net/", "keyName": "anf-key",
                             "keyVaultResourceId": ")" + kVault + R"("},
      "identity": {"userAssignedIdentity": ")" + kIdentity + R"("}}}})"));
}

TEST(ArmBodies, SystemAssignedIdentityPatchAndPmkEncryption) {
  EXPECT_EQ(accountPatchBody(AccountIdentity{"SystemAssigned", ""}, std::nullopt),
            Json::parse(R"({"identity": {"type": "SystemAssigned"}})"));
  EXPECT_EQ(accountEncryptionBody({}), Json::parse(R"({"keySource": "Microsoft.NetApp"})"));
  EXPECT_EQ(accountPutBody("eastus", std::nullopt, std::nullopt),
            Json::parse(R"({"location": "eastus", "properties": {}})"));
}

TEST(ArmBodies, PoolAndVolumeSizesInBytes) {
  EXPECT_EQ(poolBody({.location = "eastus", .serviceLevel = "Premium", .sizeTiB = 4})["properties"]["size"],
            4398046511104LL);
  Json volume = volumeBody({.location = "eastus", .creationToken = "vol1", .usageThresholdGiB = 100,
                            .subnetId = "/s/anf-delegated", .encryptionKeySource = "Microsoft.KeyVault",
                            .keyVaultPrivateEndpointResourceId = "/pe/pe1"});
  EXPECT_EQ(volume["properties"]["usageThreshold"], 107374182400LL);
  EXPECT_EQ(volume["properties"]["networkFeatures"], "Standard");
  EXPECT_EQ(volume["properties"]["encryptionKeySource"], "Microsoft.KeyVault");
  EXPECT_EQ(volume["properties"]["keyVaultPrivateEndpointResourceId"], "/pe/pe1");
  EXPECT_FALSE(volumeBody({.location = "eastus"})["properties"].contains("keyVaultPrivateEndpointResourceId"));
}

TEST(ArmBodies, PrivateEndpointAutomaticAndManual) {
  Json automatic = privateEndpointBody({.location = "eastus", .subnetId = "/s/endpoints", .keyVaultResourceId = kVault,
                                        .connectionName = "pe1"});
  EXPECT_EQ(automatic["properties"]["privateLinkServiceConnections"][0]["properties"]["groupIds"], Json::array({"vault"}));
  EXPECT_EQ(automatic["properties"]["privateLinkServiceConnections"][0]["properties"]["privateLinkServiceId"], kVault);
  EXPECT_EQ(automatic["properties"]["subnet"]["id"], "/s/endpoints");
  Json manual = privateEndpointBody({.location = "eastus", .subnetId = "/s", .keyVaultResourceId = kVault,
                                     .manualApproval = true, .connectionName = "pe1"});
  EXPECT_TRUE(manual["properties"].contains("manualPrivateLinkServiceConnections"));
  EXPECT_FALSE(manual["properties"].contains("privateLinkServiceConnections"));
  manual["properties"]["manualPrivateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"] =
      {{"status", "Pending"}};
  EXPECT_EQ(privateEndpointConnectionState(manual), "Pending");
  EXPECT_EQ(privateEndpointConnectionState(automatic), "");
}

TEST(ArmBodies, AccessPolicyGrantsExactlyGetEncryptDecrypt) {
  Json body = accessPolicyAddBody("tenant", "principal");
  EXPECT_EQ(body["properties"]["accessPolicies"][0]["permissions"], Json::parse(R"({"keys": ["get", "encrypt", "decrypt"]})"));
  Json vault{{"properties", {{"accessPolicies", body["properties"]["accessPolicies"]}}}};
  EXPECT_TRUE(hasKeyAccessPolicy(vault, "PRINCIPAL"));
  EXPECT_FALSE(hasKeyAccessPolicy(vault, "other"));
  vault["properties"]["accessPolicies"][0]["permissions"]["keys"] = {"get", "encrypt"};
  EXPECT_FALSE(hasKeyAccessPolicy(vault, "principal"));
}

TEST(ArmBodies, MinimalRoleHasExactlyTheThreeDataActionsAtTheVault) {
  Json body = minimalRoleDefinitionBody(kVault);
  EXPECT_EQ(body["properties"]["permissions"][0]["dataActions"],
            Json::parse(R"(["Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/encrypt/action",
                            "Microsoft.KeyVault/vaults/keys/decrypt/action"])"));
  EXPECT_EQ(body["properties"]["permissions"][0]["actions"], Json::array());
  EXPECT_EQ(body["properties"]["assignableScopes"], Json::array({kVault}));
  EXPECT_EQ(body["properties"]["roleName"], "ANF CMK key access (anfkv-rbac)");
  EXPECT_EQ(roleAssignmentBody("/r", "p")["properties"]["principalType"], "ServicePrincipal");
}

TEST(ArmBodies, DiffIgnoresReadOnlyFieldsAndCaseWhereAzureDoes) {
  Json desired = accountPutBody("eastus", AccountIdentity{"UserAssigned", kIdentity},
                                AccountEncryption{.keySource = "Microsoft.KeyVault", .keyVaultUri = "https://v/",
                                                  .keyName = "anf-key", .userAssignedIdentity = kIdentity});
  Json observed = desired;
  observed["id"] = "/x";
  observed["properties"]["provisioningState"] = "Succeeded";
  observed["properties"]["encryption"]["keySource"] = "microsoft.keyvault";
  observed["properties"]["encryption"]["keyVaultProperties"]["status"] = "InUse";
  observed["identity"]["userAssignedIdentities"] = {{std::string{kIdentity}.replace(15, 4, "0000"), nullptr}};
  observed["identity"]["userAssignedIdentities"] = Json::object();
  std::string upper = kIdentity;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  observed["identity"]["userAssignedIdentities"][upper] = {{"principalId", "p"}, {"clientId", "c"}};
  EXPECT_TRUE(diffBodies(desired, observed).empty());

  observed["properties"]["encryption"]["keyVaultProperties"]["keyName"] = "anf-key-2";
  auto diff = diffBodies(desired, observed);
  ASSERT_EQ(diff.size(), 1u);
  EXPECT_EQ(diff[0].path, "properties.encryption.keyVaultProperties.keyName");
  EXPECT_EQ(diff[0].desired, "anf-key");
  EXPECT_EQ(diff[0].observed, "anf-key-2");
  EXPECT_TRUE(diffBodies(desired, observed, {.ignorePaths = {"properties.encryption"}}).empty());
}

TEST(ArmBodies, DiffReportsMissingMapEntriesNumbersAndCaseSensitiveFields) {
  Json desired = accountIdentityBody({"UserAssigned", kIdentity});
  auto diff = diffBodies(desired, Json::parse(R"({"type": "SystemAssigned"})"));
  ASSERT_EQ(diff.size(), 2u);
  EXPECT_EQ(diff[0].path, "type");
  EXPECT_EQ(diff[1].path, std::string{"userAssignedIdentities"});

  Json volume = volumeBody({.location = "eastus", .creationToken = "vol1", .usageThresholdGiB = 100});
  Json observed = volume;
  observed["properties"]["usageThreshold"] = 200 * kGiB;
  observed["properties"]["creationToken"] = "VOL1";
  diff = diffBodies(volume, observed, {.caseSensitivePaths = {"properties.creationToken"}});
  ASSERT_EQ(diff.size(), 2u);
  EXPECT_EQ(diff[0].path, "properties.creationToken");
  EXPECT_EQ(diff[1].path, "properties.usageThreshold");
}

}  // namespace
}  // namespace anf::reconcilers
