// The two error tables of the ANF customer-managed keys page, row by row, with their exact messages,
// and the key access rules (access policies, role definitions with wildcards, scopes).
#include <functional>

#include <gtest/gtest.h>

#include "emulator/providers/key_access.h"
#include "emulator/providers/key_checks.h"
#include "tests/emulator/providers/fake_azure.h"

namespace anf::emulator::testing {
namespace {

namespace kc = keychecks;

Json encryptionPatch(const std::string& uri, const std::string& keyName) {
  return {{"properties",
           {{"encryption", {{"keySource", "Microsoft.KeyVault"}, {"keyVaultProperties", {{"keyVaultUri", uri}, {"keyName", keyName}}}}}}}};
}

std::string uriOf(const std::string& vaultName) { return "https://" + vaultName + ".vault.azure.net/"; }

void putKey(FakeAzure& azure, const std::string& vaultName, const std::string& key, const Json& properties) {
  azure.ok("PUT", vault(vaultName) + "/keys/" + key, {{"properties", properties}});
}

// A vault in the provider RG whose access policy lets `principal` use its key "anf-key".
void extraVault(FakeAzure& azure, const std::string& name, const std::string& location, bool purgeProtection, const std::string& principal) {
  azure.ok("PUT", rg("/providers/Microsoft.KeyVault/vaults/" + name),
           {{"location", location},
            {"properties",
             {{"tenantId", kProviderTenant}, {"sku", {{"family", "A"}, {"name", "standard"}}}, {"enablePurgeProtection", purgeProtection}}}});
  putKey(azure, name, "anf-key", {{"kty", "RSA"}});
  azure.grantAccessPolicy(rg("/providers/Microsoft.KeyVault/vaults/" + name), kProviderTenant, principal);
}

struct AccountRow {
  std::string name;
  std::string_view message;
  // Prepares the world for the row and returns {keyVaultUri, keyName} to configure.
  std::function<std::pair<std::string, std::string>(FakeAzure&, const std::string& principal)> prepare;
};

class AccountErrorTable : public ::testing::TestWithParam<AccountRow> {};

TEST_P(AccountErrorTable, RefusesEncryptionWithTheDocumentedMessage) {
  FakeAzure azure;
  Json created = azure.createAccount("acct", true);
  std::string principal = created["identity"]["principalId"];
  azure.grantAccessPolicy(vault(), kProviderTenant, principal);
  auto [uri, keyName] = GetParam().prepare(azure, principal);

  Response response = azure.call("PATCH", account(), encryptionPatch(uri, keyName));

  EXPECT_EQ(response.status, 400) << response.body.dump();
  EXPECT_EQ(response.body["error"]["message"], std::string(GetParam().message));
  EXPECT_EQ(azure.pending(), 0u);
  EXPECT_EQ(azure.show(account())["properties"]["encryption"]["keySource"], "Microsoft.NetApp") << "a refused request changes nothing";
}

INSTANTIATE_TEST_SUITE_P(
    Rows, AccountErrorTable,
    ::testing::Values(
        AccountRow{"KeyNotFound", kc::kKeyNotFound, [](FakeAzure&, const std::string&) { return std::pair{uriOf("anfkv-provider"), std::string("no-such-key")}; }},
        AccountRow{"KeyNotRsa", kc::kKeyNotRsa,
                   [](FakeAzure& azure, const std::string&) {
                     putKey(azure, "anfkv-provider", "ec-key", {{"kty", "EC"}, {"curveName", "P-256"}});
                     return std::pair{uriOf("anfkv-provider"), std::string("ec-key")};
                   }},
        AccountRow{"KeyNotEnabled", kc::kKeyNotEnabled,
                   [](FakeAzure& azure, const std::string&) {
                     putKey(azure, "anfkv-provider", "anf-key", {{"attributes", {{"enabled", false}}}});
                     return std::pair{uriOf("anfkv-provider"), std::string("anf-key")};
                   }},
        AccountRow{"KeyExpired", kc::kKeyExpired,
                   [](FakeAzure& azure, const std::string&) {
                     putKey(azure, "anfkv-provider", "anf-key", {{"attributes", {{"exp", azure.world().clock.unixSeconds() - 60}}}});
                     return std::pair{uriOf("anfkv-provider"), std::string("anf-key")};
                   }},
        AccountRow{"KeyNotActivated", kc::kKeyNotActivated,
                   [](FakeAzure& azure, const std::string&) {
                     putKey(azure, "anfkv-provider", "anf-key", {{"attributes", {{"nbf", azure.world().clock.unixSeconds() + 3600}}}});
                     return std::pair{uriOf("anfkv-provider"), std::string("anf-key")};
                   }},
        AccountRow{"UriMalformed", kc::kUriInvalid, [](FakeAzure&, const std::string&) { return std::pair{std::string("http://anfkv-provider.example.com"), std::string("anf-key")}; }},
        AccountRow{"UriOfNoVault", kc::kUriInvalid, [](FakeAzure&, const std::string&) { return std::pair{uriOf("no-such-vault"), std::string("anf-key")}; }},
        AccountRow{"VaultNotRecoverable", kc::kNotRecoverable,
                   [](FakeAzure& azure, const std::string& principal) {
                     extraVault(azure, "kv-purgeable", "eastus", false, principal);
                     return std::pair{uriOf("kv-purgeable"), std::string("anf-key")};
                   }},
        AccountRow{"VaultInOtherRegion", kc::kRegionMismatch,
                   [](FakeAzure& azure, const std::string& principal) {
                     extraVault(azure, "kv-westus", "westus", true, principal);
                     return std::pair{uriOf("kv-westus"), std::string("anf-key")};
                   }}),
    [](const auto& info) { return info.param.name; });

TEST(AccountErrorTable, KeyExpiringLaterOnTheEmulatorClockIsRefusedOnceExpired) {
  FakeAzure azure;
  std::string principal = azure.createAccount("acct", true)["identity"]["principalId"];
  azure.grantAccessPolicy(vault(), kProviderTenant, principal);
  putKey(azure, "anfkv-provider", "anf-key", {{"attributes", {{"exp", azure.world().clock.unixSeconds() + 600}}}});
  azure.world().clock.advance(std::chrono::seconds(601));
  Response response = azure.call("PATCH", account(), encryptionPatch(uriOf("anfkv-provider"), "anf-key"));
  EXPECT_EQ(response.body["error"]["message"], std::string(kc::kKeyExpired));
}

// ---------------------------------------------------------------- volume table

class VolumeTable : public ::testing::Test {
 protected:
  // A CMK account (system identity, access policy) with an approved endpoint in anf-vnet.
  void SetUp() override {
    principal_ = azure_.createAccount("acct", true)["identity"]["principalId"];
    azure_.grantAccessPolicy(vault(), kProviderTenant, principal_);
    azure_.ok("PATCH", account(), encryptionPatch(uriOf("anfkv-provider"), "anf-key"));
    endpoint_ = azure_.createEndpoint("pe-kv", vault());
  }
  Json cmk(const std::string& endpoint) {
    return {{"encryptionKeySource", "Microsoft.KeyVault"}, {"networkFeatures", "Standard"}, {"keyVaultPrivateEndpointResourceId", endpoint}};
  }
  // Creates a CMK volume and returns the failed operation's error (or null when it succeeded).
  Json failedCreation(const std::string& endpoint) {
    Response response = azure_.createVolume("acct", "vol1", cmk(endpoint));
    EXPECT_EQ(response.status, 201) << response.body.dump();
    auto errors = azure_.settle();
    return errors.empty() ? Json() : errors[0];
  }
  FakeAzure azure_;
  std::string principal_;
  std::string endpoint_;
};

TEST_F(VolumeTable, CmkVolumeOnPmkAccountIsRefused) {
  azure_.createAccount("plain");
  Response response = azure_.createVolume("plain", "vol1", cmk(endpoint_));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body["error"]["message"], std::string(kc::kAccountNotCmk));
}

TEST_F(VolumeTable, KeySourceCannotChangeByPatchOrPut) {
  Response created = azure_.createVolume("acct", "vol1", {{"networkFeatures", "Standard"}});
  ASSERT_EQ(created.status, 201);
  ASSERT_TRUE(azure_.settle().empty());
  std::string id = account() + "/capacityPools/pool1/volumes/vol1";
  Response patched = azure_.call("PATCH", id, {{"properties", cmk(endpoint_)}});
  EXPECT_EQ(patched.status, 400);
  EXPECT_EQ(patched.body["error"]["message"], std::string(kc::kKeySourceChange));
  Response put = azure_.createVolume("acct", "vol1", cmk(endpoint_));
  EXPECT_EQ(put.body["error"]["message"], std::string(kc::kKeySourceChange));
}

TEST_F(VolumeTable, CmkNeedsStandardNetworkFeatures) {
  Json properties = cmk(endpoint_);
  properties["networkFeatures"] = "Basic";
  Response response = azure_.createVolume("acct", "vol1", properties);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body["error"]["code"], "NetworkFeaturesNotSupported");
}

TEST_F(VolumeTable, CmkVolumeWithApprovedEndpointSucceeds) {
  EXPECT_TRUE(failedCreation(endpoint_).is_null());
  Json volume = azure_.show(account() + "/capacityPools/pool1/volumes/vol1");
  EXPECT_EQ(volume["properties"]["provisioningState"], "Succeeded");
  EXPECT_EQ(volume["properties"]["encryptionKeySource"], "Microsoft.KeyVault");
  EXPECT_EQ(volume["properties"]["encrypted"], true);
}

TEST_F(VolumeTable, UnreachableVaultConditionsFailTheCreation) {
  struct Case {
    std::string name;
    std::function<std::string(FakeAzure&)> endpoint;
  };
  std::vector<Case> cases{
      {"missing endpoint", [](FakeAzure&) { return rg("/providers/Microsoft.Network/privateEndpoints/nope"); }},
      {"pending manual connection",
       [](FakeAzure& azure) {
         std::string id = rg("/providers/Microsoft.Network/privateEndpoints/pe-manual");
         azure.ok("PUT", id,
                  {{"location", "eastus"},
                   {"properties",
                    {{"subnet", {{"id", subnet("endpoints")}}},
                     {"manualPrivateLinkServiceConnections",
                      {{{"name", "m"}, {"properties", {{"privateLinkServiceId", vault()}, {"groupIds", {"vault"}}}}}}}}}});
         return id;
       }},
      {"endpoint in another VNet",
       [](FakeAzure& azure) {
         azure.ok("PUT", rg("/providers/Microsoft.Network/virtualNetworks/other-vnet"),
                  {{"location", "eastus"},
                   {"properties", {{"addressSpace", {{"addressPrefixes", {"10.9.0.0/16"}}}},
                                   {"subnets", {{{"name", "endpoints"}, {"properties", {{"addressPrefix", "10.9.2.0/24"}}}}}}}}});
         return azure.createEndpoint("pe-other", vault(), subnet("endpoints", "other-vnet"));
       }},
      {"network policies enabled on the endpoint's subnet",
       [](FakeAzure& azure) {
         azure.ok("PUT", subnet("policies"), {{"properties", {{"addressPrefix", "10.0.3.0/24"}, {"privateEndpointNetworkPolicies", "Enabled"}}}});
         return azure.createEndpoint("pe-policies", vault(), subnet("policies"));
       }},
      {"vault denies public access without the trusted-services bypass",
       [](FakeAzure& azure) {
         azure.ok("PATCH", vault(), {{"properties", {{"publicNetworkAccess", "Disabled"}, {"networkAcls", {{"bypass", "None"}, {"defaultAction", "Deny"}}}}}});
         return azure.createEndpoint("pe-firewall", vault());
       }},
      {"rejected connection",
       [](FakeAzure& azure) {
         std::string id = azure.createEndpoint("pe-rejected", vault());
         for (Json* connection : azure.world().children(vault(), "privateEndpointConnections")) {
           if ((*connection)["properties"]["privateEndpoint"]["id"] == id) {
             azure.ok("PUT", (*connection)["id"], {{"properties", {{"privateLinkServiceConnectionState", {{"status", "Rejected"}}}}}});
           }
         }
         return id;
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeAzure& azure = azure_;
    std::string endpoint = c.endpoint(azure);
    Json error = failedCreation(endpoint);
    EXPECT_EQ(error.value("message", ""), std::string(kc::kVaultUnreachable)) << error.dump();
    EXPECT_EQ(azure.show(account() + "/capacityPools/pool1/volumes/vol1")["properties"]["provisioningState"], "Failed");
    azure.ok("DELETE", account() + "/capacityPools/pool1/volumes/vol1");
    azure.ok("PATCH", vault(), {{"properties", {{"publicNetworkAccess", "Enabled"}, {"networkAcls", {{"bypass", "AzureServices"}, {"defaultAction", "Allow"}}}}}});
  }
}

TEST_F(VolumeTable, EndpointInTheDelegatedSubnetIsRefusedByNetwork) {
  Response response = azure_.call(
      "PUT", rg("/providers/Microsoft.Network/privateEndpoints/pe-delegated"),
      {{"location", "eastus"},
       {"properties",
        {{"subnet", {{"id", subnet("anf-delegated")}}},
         {"privateLinkServiceConnections", {{{"name", "c"}, {"properties", {{"privateLinkServiceId", vault()}, {"groupIds", {"vault"}}}}}}}}}});
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body["error"]["code"], "PrivateEndpointCreationNotAllowedAsSubnetIsDelegated");
}

TEST_F(VolumeTable, KeyUnusableWhenAccessOrKeyStateChangedSinceTheAccountWasConfigured) {
  struct Case {
    std::string name;
    std::function<void(FakeAzure&, const std::string& principal)> breakIt;
    std::function<void(FakeAzure&, const std::string& principal)> repair;
  };
  std::vector<Case> cases{
      {"access policy removed",
       [](FakeAzure& azure, const std::string& principal) {
         azure.ok("PUT", vault() + "/accessPolicies/remove",
                  {{"properties", {{"accessPolicies", {{{"tenantId", kProviderTenant}, {"objectId", principal}, {"permissions", {{"keys", {"get", "encrypt", "decrypt"}}}}}}}}}});
       },
       [](FakeAzure& azure, const std::string& principal) { azure.grantAccessPolicy(vault(), kProviderTenant, principal); }},
      {"decrypt permission missing",
       [](FakeAzure& azure, const std::string& principal) {
         azure.ok("PUT", vault() + "/accessPolicies/replace",
                  {{"properties", {{"accessPolicies", {{{"tenantId", kProviderTenant}, {"objectId", principal}, {"permissions", {{"keys", {"get", "encrypt"}}}}}}}}}});
       },
       [](FakeAzure& azure, const std::string& principal) { azure.grantAccessPolicy(vault(), kProviderTenant, principal); }},
      {"key disabled", [](FakeAzure& azure, const std::string&) { putKey(azure, "anfkv-provider", "anf-key", {{"attributes", {{"enabled", false}}}}); },
       [](FakeAzure& azure, const std::string&) { putKey(azure, "anfkv-provider", "anf-key", {{"attributes", {{"enabled", true}}}}); }},
      {"key expired",
       [](FakeAzure& azure, const std::string&) {
         putKey(azure, "anfkv-provider", "anf-key", {{"attributes", {{"exp", azure.world().clock.unixSeconds() - 1}}}});
       },
       [](FakeAzure& azure, const std::string&) { putKey(azure, "anfkv-provider", "anf-key", {{"kty", "RSA"}}); }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    c.breakIt(azure_, principal_);
    Json error = failedCreation(endpoint_);
    EXPECT_EQ(error.value("message", ""), std::string(kc::kKeyUnusable)) << error.dump();
    azure_.ok("DELETE", account() + "/capacityPools/pool1/volumes/vol1");
    c.repair(azure_, principal_);
  }
  EXPECT_TRUE(failedCreation(endpoint_).is_null()) << "repaired, the same request succeeds";
}

// ---------------------------------------------------------------- key access rules

TEST(KeyAccess, WildcardsMatchActionsCaseInsensitively) {
  EXPECT_TRUE(keyaccess::actionMatches("Microsoft.KeyVault/vaults/*", "Microsoft.KeyVault/vaults/keys/decrypt/action"));
  EXPECT_TRUE(keyaccess::actionMatches("microsoft.keyvault/vaults/keys/*", "Microsoft.KeyVault/vaults/keys/read"));
  EXPECT_TRUE(keyaccess::actionMatches("*", "anything"));
  EXPECT_TRUE(keyaccess::actionMatches("Microsoft.KeyVault/*/read", "Microsoft.KeyVault/vaults/keys/read"));
  EXPECT_FALSE(keyaccess::actionMatches("Microsoft.KeyVault/vaults/secrets/*", "Microsoft.KeyVault/vaults/keys/read"));
  EXPECT_FALSE(keyaccess::actionMatches("Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/read/x"));
}

TEST(KeyAccess, BuiltInRolesGrantWhatTheirDataActionsSay) {
  FakeAzure azure(false);
  auto granted = [&](const std::string& guid) {
    auto role = keyaccess::roleDefinition(azure.world(), guid);
    EXPECT_TRUE(role.has_value()) << guid;
    return std::ranges::all_of(keyaccess::requiredDataActions(), [&](const std::string& a) { return keyaccess::grantsDataAction(*role, a); });
  };
  EXPECT_TRUE(granted(kCryptoUser));
  EXPECT_TRUE(granted("00482a5a-887f-4fb3-b363-3b7fe8e74483"));   // Key Vault Administrator
  EXPECT_TRUE(granted("14b46e9e-c2b7-41b4-b07b-48a6ebf60603"));   // Key Vault Crypto Officer
  EXPECT_FALSE(granted("e147488a-f6f5-4113-8e2d-b22465e65bf6"));  // Crypto Service Encryption User: wrap/unwrap only
  EXPECT_FALSE(granted("8e3af657-a8ff-443c-a75c-2fe8c4bcb635"));  // Owner: control plane only
  Json role{{"properties", {{"permissions", {{{"dataActions", {"Microsoft.KeyVault/vaults/keys/*"}}, {"notDataActions", {"Microsoft.KeyVault/vaults/keys/decrypt/action"}}}}}}}};
  EXPECT_FALSE(keyaccess::grantsDataAction(role, "Microsoft.KeyVault/vaults/keys/decrypt/action"));
  EXPECT_TRUE(keyaccess::grantsDataAction(role, "Microsoft.KeyVault/vaults/keys/encrypt/action"));
}

TEST(KeyAccess, RoleAssignmentCountsAtTheVaultOrAParentScopeOnly) {
  FakeAzure azure;
  std::string principal = azure.createIdentity("ids")["properties"]["principalId"];
  Json* rbac = azure.world().find(vault("anfkv-rbac"));
  EXPECT_FALSE(keyaccess::holdsKeyAccess(azure.world(), *rbac, kProviderTenant, principal));
  azure.assignRole(vault("anfkv-provider"), kCryptoUser, principal);  // a sibling vault: no effect
  EXPECT_FALSE(keyaccess::holdsKeyAccess(azure.world(), *rbac, kProviderTenant, principal));
  azure.assignRole(rg(), kCryptoUser, principal);  // the resource group: covers the vault
  EXPECT_TRUE(keyaccess::holdsKeyAccess(azure.world(), *azure.world().find(vault("anfkv-rbac")), kProviderTenant, principal));
}

TEST(KeyAccess, AccessPoliciesAreIgnoredOnRbacVaultsAndRolesOnPolicyVaults) {
  FakeAzure azure;
  std::string principal = azure.createIdentity("ids")["properties"]["principalId"];
  azure.grantAccessPolicy(vault("anfkv-rbac"), kProviderTenant, principal);
  azure.assignRole(vault("anfkv-provider"), kCryptoUser, principal);
  EXPECT_FALSE(keyaccess::holdsKeyAccess(azure.world(), *azure.world().find(vault("anfkv-rbac")), kProviderTenant, principal));
  EXPECT_FALSE(keyaccess::holdsKeyAccess(azure.world(), *azure.world().find(vault("anfkv-provider")), kProviderTenant, principal));
  azure.grantAccessPolicy(vault("anfkv-provider"), kProviderTenant, principal, {"all"});
  EXPECT_TRUE(keyaccess::holdsKeyAccess(azure.world(), *azure.world().find(vault("anfkv-provider")), kProviderTenant, principal));
}

}  // namespace
}  // namespace anf::emulator::testing
