#include "reconcilers/key_vault_checks.h"

#include <gtest/gtest.h>

#include "reconcilers/documented_errors.h"

namespace anf::reconcilers {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

Json goodVault() {
  return Json::parse(R"({
    "id": "/subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/providers/Microsoft.KeyVault/vaults/anfkv-provider",
    "name": "anfkv-provider", "location": "eastus",
    "properties": {"vaultUri": "https://anfkv-provider.vault.azure.net/", "enableSoftDelete": true,
                   "enablePurgeProtection": true, "enableRbacAuthorization": false,
                   "tenantId": "10000000-0000-4000-8000-000000000001", "publicNetworkAccess": "Enabled"}})");
}

Json goodKey() {
  return Json::parse(R"({"name": "anf-key", "properties": {"kty": "RSA", "keySize": 2048,
    "attributes": {"enabled": true, "exp": 1900000000, "nbf": 1700000000}}})");
}

KeyVaultCheckInput goodInput() {
  return {.vault = goodVault(), .key = goodKey(), .declaredUri = "https://anfkv-provider.vault.azure.net/",
          .accountLocation = "eastus", .nowUnixSeconds = kNow};
}

struct Case {
  std::string name;
  std::function<void(KeyVaultCheckInput&)> mutate;
  std::string reason;
  std::string message;
};

class KeyVaultChecksTest : public testing::TestWithParam<Case> {};

TEST_P(KeyVaultChecksTest, ReportsTheDocumentedTextAndResolution) {
  KeyVaultCheckInput input = goodInput();
  GetParam().mutate(input);
  auto result = checkKeyVault(input);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().reason, GetParam().reason);
  EXPECT_EQ(result.error().message, GetParam().message);
  // Re-checked later: the vault and key change without the document. A URI that names no vault is the
  // document's to fix: parked until it changes.
  const bool documentsFault = GetParam().reason == "KeyVaultUriInvalid";
  EXPECT_EQ(result.error().parked(), documentsFault);
  EXPECT_EQ(result.error().retryAfter.has_value(), !documentsFault);
  EXPECT_EQ(result.error().conditionType, std::optional<std::string>{"KeyVaultValid"});
}

INSTANTIATE_TEST_SUITE_P(
    DocumentedConditions, KeyVaultChecksTest,
    testing::Values(
        Case{"MissingKey", [](auto& i) { i.key.reset(); }, "KeyVaultKeyNotFound",
             "The operation failed because the specified key vault key was not found. Resolution: When entering key "
             "URI manually, ensure that the URI is correct."},
        Case{"MissingVault", [](auto& i) { i.vault.reset(); }, "KeyVaultKeyNotFound",
             "The operation failed because the specified key vault key was not found. Resolution: When entering key "
             "URI manually, ensure that the URI is correct."},
        Case{"EcKey", [](auto& i) { i.key->at("properties")["kty"] = "EC"; }, "KeyVaultKeyNotRsa",
             "Azure Key Vault key is not a valid RSA key. Resolution: Ensure that the selected key is of type RSA."},
        Case{"EcHsmKey", [](auto& i) { i.key->at("properties")["kty"] = "EC-HSM"; }, "KeyVaultKeyNotRsa",
             "Azure Key Vault key is not a valid RSA key. Resolution: Ensure that the selected key is of type RSA."},
        Case{"DisabledKey", [](auto& i) { i.key->at("properties")["attributes"]["enabled"] = false; },
             "KeyVaultKeyDisabled",
             "Azure Key Vault key is not enabled. Resolution: Ensure that the selected key is enabled."},
        Case{"ExpiredKey", [](auto& i) { i.key->at("properties")["attributes"]["exp"] = kNow - 1; },
             "KeyVaultKeyExpired", "Azure Key Vault key is expired. Resolution: Ensure that the selected key is valid."},
        Case{"NotYetActiveKey", [](auto& i) { i.key->at("properties")["attributes"]["nbf"] = kNow + 60; },
             "KeyVaultKeyNotActive",
             "Azure Key Vault key has not been activated. Resolution: Ensure that the selected key is active."},
        Case{"UriNotHttps", [](auto& i) { i.declaredUri = "http://anfkv-provider.vault.azure.net/"; },
             "KeyVaultUriInvalid",
             "Key Vault URI is invalid. Resolution: When entering key URI manually, ensure that the URI is correct."},
        Case{"UriOfAnotherVault", [](auto& i) { i.declaredUri = "https://other.vault.azure.net/"; },
             "KeyVaultUriInvalid",
             "Key Vault URI is invalid. Resolution: When entering key URI manually, ensure that the URI is correct."},
        Case{"UriWithKeyPath", [](auto& i) { i.declaredUri = "https://anfkv-provider.vault.azure.net/keys/anf-key"; },
             "KeyVaultUriInvalid",
             "Key Vault URI is invalid. Resolution: When entering key URI manually, ensure that the URI is correct."},
        Case{"NoPurgeProtection", [](auto& i) { i.vault->at("properties")["enablePurgeProtection"] = false; },
             "KeyVaultNotRecoverable",
             "Azure Key Vault is not recoverable. Make sure that Soft-delete and Purge protection are both enabled on "
             "the Azure Key Vault. Resolution: Update the key vault recovery level to: "
             "\u201cRecoverable/Recoverable+ProtectedSubscription/CustomizedRecoverable/"
             "CustomizedRecoverable+ProtectedSubscription\u201d"},
        Case{"NoSoftDelete", [](auto& i) { i.vault->at("properties")["enableSoftDelete"] = false; },
             "KeyVaultNotRecoverable",
             "Azure Key Vault is not recoverable. Make sure that Soft-delete and Purge protection are both enabled on "
             "the Azure Key Vault. Resolution: Update the key vault recovery level to: "
             "\u201cRecoverable/Recoverable+ProtectedSubscription/CustomizedRecoverable/"
             "CustomizedRecoverable+ProtectedSubscription\u201d"},
        Case{"VaultInAnotherRegion", [](auto& i) { (*i.vault)["location"] = "westeurope"; }, "KeyVaultRegionMismatch",
             "Account must be in the same region as the Vault. Resolution: Ensure the key vault is in the same region "
             "as the NetApp account."},
        Case{"PublicAccessDisabledWithoutBypass",
             [](auto& i) { i.vault->at("properties")["publicNetworkAccess"] = "Disabled"; },
             "KeyVaultPublicAccessBlocked",
             "Key vault public access is disabled and trusted Microsoft services are not allowed to bypass its "
             "firewall. Resolution: When selecting this option, you must also select Allow trusted Microsoft "
             "services to bypass this firewall to permit the Azure NetApp Files service to access your encryption "
             "key."},
        Case{"FirewallDenyWithBypassNone",
             [](auto& i) { i.vault->at("properties")["networkAcls"] = {{"defaultAction", "Deny"}, {"bypass", "None"}}; },
             "KeyVaultPublicAccessBlocked",
             "Key vault public access is disabled and trusted Microsoft services are not allowed to bypass its "
             "firewall. Resolution: When selecting this option, you must also select Allow trusted Microsoft "
             "services to bypass this firewall to permit the Azure NetApp Files service to access your encryption "
             "key."},
        Case{"UnsupportedRegion",
             [](auto& i) {
               i.accountLocation = "polandcentral";
               (*i.vault)["location"] = "polandcentral";
             },
             "RegionNotSupported",
             "Azure NetApp Files customer-managed keys is not supported in the account's region (polandcentral). "
             "Resolution: Use a region the page lists under Supported regions."}),
    [](const auto& info) { return info.param.name; });

TEST(KeyVaultChecks, AcceptsAValidVaultAndKey) { EXPECT_TRUE(checkKeyVault(goodInput()).has_value()); }

TEST(KeyVaultChecks, AcceptsRsaHsmKeyKeyWithoutDatesAndTheVaultsOwnUri) {
  KeyVaultCheckInput input = goodInput();
  input.key = Json::parse(R"({"properties": {"kty": "RSA-HSM", "attributes": {"enabled": true}}})");
  input.declaredUri.clear();
  EXPECT_TRUE(checkKeyVault(input).has_value());
}

TEST(KeyVaultChecks, AcceptsDisabledPublicAccessWhenTrustedServicesBypass) {
  KeyVaultCheckInput input = goodInput();
  input.vault->at("properties")["publicNetworkAccess"] = "disabled";
  input.vault->at("properties")["networkAcls"] = {{"defaultAction", "Deny"}, {"bypass", "AzureServices"}};
  EXPECT_TRUE(checkKeyVault(input).has_value());
}

TEST(KeyVaultChecks, ComparesUrisAndRegionsAsAzureDoes) {
  KeyVaultCheckInput input = goodInput();
  input.declaredUri = "https://ANFKV-provider.vault.azure.net";
  input.accountLocation = "East US";
  EXPECT_TRUE(checkKeyVault(input).has_value());
}

TEST(KeyVaultChecks, ReportsTheFirstConditionInThePagesOrder) {
  KeyVaultCheckInput input = goodInput();
  input.key->at("properties")["attributes"]["enabled"] = false;
  input.vault->at("properties")["enablePurgeProtection"] = false;
  EXPECT_EQ(checkKeyVault(input).error().reason, "KeyVaultKeyDisabled");
}

TEST(KeyVaultChecks, ExposesExpiryAndPermissionModel) {
  EXPECT_EQ(keyExpiry(goodKey()), std::optional<std::int64_t>{1900000000});
  EXPECT_EQ(keyExpiry(Json::parse(R"({"properties": {"attributes": {}}})")), std::nullopt);
  EXPECT_FALSE(vaultUsesRbac(goodVault()));
  EXPECT_EQ(effectiveVaultUri("", goodVault()), "https://anfkv-provider.vault.azure.net/");
}

}  // namespace
}  // namespace anf::reconcilers
