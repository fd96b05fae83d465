// Protocol behaviour of the providers (paging, ETags, long-running operations, conflicts) and the
// resource rules of Key Vault, Network, Authorization, Features and resource groups.
#include <set>

#include <gtest/gtest.h>

#include "emulator/providers/arm.h"
#include "tests/emulator/providers/fake_azure.h"

namespace anf::emulator::testing {
namespace {

std::string accountsOfRg() { return rg("/providers/Microsoft.NetApp/netAppAccounts"); }

std::map<std::string, std::string> queryOf(const std::string& nextLink) {
  std::map<std::string, std::string> query;
  auto start = nextLink.find('?');
  std::string rest = nextLink.substr(start + 1);
  for (std::size_t at = 0; at < rest.size();) {
    auto amp = rest.find('&', at);
    std::string pair = rest.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
    auto eq = pair.find('=');
    query[pair.substr(0, eq)] = pair.substr(eq + 1);
    if (amp == std::string::npos) break;
    at = amp + 1;
  }
  return query;
}

TEST(Paging, ListsFollowNextLinkAtBothScopes) {
  FakeAzure azure;
  for (int i = 0; i < 5; ++i) azure.createAccount("acct" + std::to_string(i));
  arm::setDefaultPageSize(2);
  for (const std::string& path : {accountsOfRg(), std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.NetApp/netAppAccounts"}) {
    std::set<std::string> names;
    std::map<std::string, std::string> query;
    int pages = 0;
    while (true) {
      Response page = azure.call("GET", path, nullptr, false, {}, query);
      ASSERT_EQ(page.status, 200);
      ++pages;
      for (const auto& item : page.body["value"]) names.insert(item["name"]);
      if (!page.body.contains("nextLink")) break;
      std::string link = page.body["nextLink"];
      EXPECT_TRUE(link.starts_with("https://127.0.0.1:8443" + path + "?")) << link;
      query = queryOf(link);
      query.erase("api-version");
    }
    EXPECT_EQ(pages, 3) << path;
    EXPECT_EQ(names.size(), 5u) << path;
  }
  arm::setDefaultPageSize(100);
}

TEST(ETags, IfMatchWithAStaleEtagIsRefused) {
  FakeAzure azure;
  azure.createAccount("acct");
  Response current = azure.get(account());
  std::string etag = current.body["etag"];
  EXPECT_EQ(current.headers["ETag"], etag);
  Response stale = azure.call("PATCH", account(), {{"tags", {{"a", "b"}}}}, false, {{"if-match", "W/\"stale\""}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(stale.body["error"]["code"], "PreconditionFailed");
  Response fresh = azure.call("PATCH", account(), {{"tags", {{"a", "b"}}}}, false, {{"if-match", etag}});
  EXPECT_EQ(fresh.status, 202);
  azure.settle();
  EXPECT_NE(azure.show(account())["etag"], etag);
  EXPECT_EQ(azure.call("PUT", account(), {{"location", "eastus"}}, false, {{"if-none-match", "*"}}).status, 412);
}

TEST(LongRunning, AnotherOperationOnTheAccountIsRefusedUntilTheFirstCompletes) {
  FakeAzure azure;
  azure.createAccount("acct");
  ASSERT_EQ(azure.call("PATCH", account(), {{"tags", {{"a", "1"}}}}).status, 202);
  EXPECT_EQ(azure.show(account())["properties"]["provisioningState"], "Patching");
  Response second = azure.call("PATCH", account(), {{"tags", {{"a", "2"}}}});
  EXPECT_EQ(second.status, 409);
  EXPECT_EQ(second.body["error"]["code"], "AnotherOperationInProgress");
  EXPECT_EQ(azure.call("POST", account() + "/renewCredentials").body["error"]["code"], "AnotherOperationInProgress");
  EXPECT_EQ(azure.call("DELETE", account()).body["error"]["code"], "AnotherOperationInProgress");
  azure.settle();
  EXPECT_EQ(azure.call("PATCH", account(), {{"tags", {{"a", "2"}}}}).status, 202);
}

TEST(LongRunning, AccountCreationProgressesFromCreatingToSucceeded) {
  FakeAzure azure;
  Response created = azure.call("PUT", account(), {{"location", "eastus"}});
  ASSERT_EQ(created.status, 201);
  EXPECT_TRUE(created.headers.contains("Azure-AsyncOperation"));
  EXPECT_EQ(created.body["properties"]["provisioningState"], "Creating");
  EXPECT_EQ(azure.show(account())["properties"]["provisioningState"], "Creating");
  azure.settle();
  EXPECT_EQ(azure.show(account())["properties"]["provisioningState"], "Succeeded");
}

TEST(NetApp, ReadOnlyFieldsAreIgnoredOnInputAndKeptOnOutput) {
  FakeAzure azure;
  std::string principal = azure.createAccount("acct", true)["identity"]["principalId"];
  azure.grantAccessPolicy(vault(), kProviderTenant, principal);
  azure.ok("PATCH", account(),
           {{"properties", {{"encryption", {{"keySource", "Microsoft.KeyVault"},
                                            {"keyVaultProperties", {{"keyVaultUri", "https://anfkv-provider.vault.azure.net/"}, {"keyName", "anf-key"}}}}}}}});
  Json before = azure.show(account());
  Json body = before;  // what a client GETs and PUTs back, with read-only fields tampered
  body["properties"]["provisioningState"] = "Failed";
  body["properties"]["encryption"]["keyVaultProperties"]["keyVaultId"] = "not-mine";
  body["properties"]["encryption"]["keyVaultProperties"]["status"] = "Deleted";
  body["properties"]["encryption"]["identity"]["principalId"] = "someone";
  body["identity"]["principalId"] = "someone";
  azure.ok("PUT", account(), body);
  Json after = azure.show(account());
  EXPECT_EQ(after["properties"]["encryption"]["keyVaultProperties"]["keyVaultId"], before["properties"]["encryption"]["keyVaultProperties"]["keyVaultId"]);
  EXPECT_EQ(after["properties"]["encryption"]["keyVaultProperties"]["status"], "InUse");
  EXPECT_EQ(after["properties"]["encryption"]["identity"]["principalId"], principal);
  EXPECT_EQ(after["identity"]["principalId"], principal);
  EXPECT_EQ(after["properties"]["provisioningState"], "Succeeded");
}

TEST(NetApp, NullFieldsMeanAbsentAndDetachInAPatch) {
  FakeAzure azure;
  Response created = azure.call("PUT", account(),
                                {{"location", "eastus"},
                                 {"tags", nullptr},
                                 {"identity", {{"type", "SystemAssigned"}, {"principalId", nullptr}, {"tenantId", nullptr}}},
                                 {"properties", {{"disableShowmount", nullptr},
                                                 {"encryption", {{"keySource", "Microsoft.NetApp"}, {"identity", {{"userAssignedIdentity", nullptr}}}}}}}});
  ASSERT_EQ(created.status, 201) << created.body.dump();
  azure.settle();
  std::string uami = azure.createIdentity("ids")["id"];
  azure.ok("PATCH", account(), {{"identity", {{"type", "SystemAssigned,UserAssigned"}, {"userAssignedIdentities", {{uami, Json::object()}}}}}});
  EXPECT_TRUE(azure.show(account())["identity"]["userAssignedIdentities"].contains(uami));
  azure.ok("PATCH", account(), {{"identity", {{"type", "SystemAssigned"}, {"userAssignedIdentities", {{uami, nullptr}}}}}});
  Json identity = azure.show(account())["identity"];
  EXPECT_EQ(identity["type"], "SystemAssigned");
  EXPECT_FALSE(identity.contains("userAssignedIdentities"));
}

TEST(NetApp, NestedResourcesBlockDeletion) {
  FakeAzure azure;
  azure.createAccount("acct");
  ASSERT_EQ(azure.createVolume("acct", "vol1", Json::object()).status, 201);
  azure.settle();
  Response account = azure.call("DELETE", testing::account());
  EXPECT_EQ(account.status, 409);
  EXPECT_EQ(account.body["error"]["code"], "CannotDeleteResource");
  EXPECT_EQ(azure.call("DELETE", testing::account() + "/capacityPools/pool1").status, 409);
  azure.ok("DELETE", testing::account() + "/capacityPools/pool1/volumes/vol1");
  azure.ok("DELETE", testing::account() + "/capacityPools/pool1");
  azure.ok("DELETE", testing::account());
  EXPECT_EQ(azure.get(testing::account()).status, 404);
}

TEST(NetApp, PoolAndVolumeValidation) {
  FakeAzure azure;
  azure.createAccount("acct");
  std::string pool = account() + "/capacityPools/pool1";
  auto poolError = [&](const Json& properties) {
    return azure.call("PUT", pool, {{"location", "eastus"}, {"properties", properties}}).body["error"]["code"];
  };
  EXPECT_EQ(poolError({{"size", 1099511627776LL + 1}, {"serviceLevel", "Premium"}}), "InvalidPoolSize");
  EXPECT_EQ(poolError({{"size", 1099511627776LL}, {"serviceLevel", "Gold"}}), "InvalidServiceLevel");
  EXPECT_EQ(poolError({{"size", 1099511627776LL}, {"serviceLevel", "Premium"}, {"qosType", "Fast"}}), "InvalidQosType");
  EXPECT_EQ(azure.call("PUT", account("ghost") + "/capacityPools/p", {{"location", "eastus"}}).body["error"]["code"], "ParentResourceNotFound");
  auto volumeError = [&](const std::string& name, const Json& properties) {
    return azure.createVolume("acct", name, properties).body["error"]["code"];
  };
  EXPECT_EQ(volumeError("v1", {{"usageThreshold", 53687091199LL}}), "InvalidValueReceived");
  EXPECT_EQ(volumeError("v1", {{"creationToken", "1bad"}}), "InvalidCreationToken");
  EXPECT_EQ(volumeError("v1", {{"subnetId", subnet("endpoints")}}), "SubnetNotDelegated");
  EXPECT_EQ(volumeError("v1", {{"subnetId", subnet("nope")}}), "InvalidSubnetId");
  EXPECT_EQ(volumeError("1v", Json::object()), "InvalidResourceName");
  ASSERT_EQ(azure.createVolume("acct", "v1", Json::object()).status, 201);
  azure.settle();
  EXPECT_EQ(volumeError("v2", {{"creationToken", "v1"}}), "CreationTokenIsAlreadyInUse");
}

// ---------------------------------------------------------------- Key Vault

TEST(KeyVault, SoftDeleteAndPurgeProtectionCannotBeTurnedOff) {
  FakeAzure azure;
  EXPECT_EQ(azure.call("PATCH", vault(), {{"properties", {{"enableSoftDelete", false}}}}).status, 400);
  EXPECT_EQ(azure.call("PATCH", vault(), {{"properties", {{"enablePurgeProtection", false}}}}).status, 400);
  Json shown = azure.show(vault());
  EXPECT_EQ(shown["properties"]["enableSoftDelete"], true);
  EXPECT_EQ(shown["properties"]["enablePurgeProtection"], true);
  EXPECT_EQ(shown["properties"]["vaultUri"], "https://anfkv-provider.vault.azure.net/");
}

TEST(KeyVault, KeyUpdateWritesANewVersionAndRecoveryLevelFollowsTheVault) {
  FakeAzure azure;
  Json first = azure.show(vault() + "/keys/anf-key");
  EXPECT_EQ(first["properties"]["kty"], "RSA");
  EXPECT_EQ(first["properties"]["keySize"], 2048);
  EXPECT_EQ(first["properties"]["keyUri"], "https://anfkv-provider.vault.azure.net:443/keys/anf-key");
  EXPECT_EQ(first["properties"]["attributes"]["recoveryLevel"], "Recoverable");
  azure.ok("PUT", vault() + "/keys/anf-key", {{"properties", {{"attributes", {{"enabled", false}}}}}});
  Json second = azure.show(vault() + "/keys/anf-key");
  EXPECT_NE(second["properties"]["keyUriWithVersion"], first["properties"]["keyUriWithVersion"]);
  EXPECT_EQ(second["properties"]["attributes"]["enabled"], false);
  EXPECT_EQ(azure.show(vault() + "/keys/anf-key/versions")["value"].size(), 2u);
}

TEST(KeyVault, AccessPolicyAddReplaceRemove) {
  FakeAzure azure;
  azure.grantAccessPolicy(vault(), kProviderTenant, "obj", {"get"});
  azure.grantAccessPolicy(vault(), kProviderTenant, "obj", {"encrypt", "decrypt"});
  Json policies = azure.show(vault())["properties"]["accessPolicies"];
  ASSERT_EQ(policies.size(), 1u);
  EXPECT_EQ(policies[0]["permissions"]["keys"], Json({"get", "encrypt", "decrypt"}));
  azure.ok("PUT", vault() + "/accessPolicies/remove",
           {{"properties", {{"accessPolicies", {{{"tenantId", kProviderTenant}, {"objectId", "obj"}, {"permissions", {{"keys", {"get", "encrypt", "decrypt"}}}}}}}}}});
  EXPECT_TRUE(azure.show(vault())["properties"]["accessPolicies"].empty());
}

// ---------------------------------------------------------------- Network and private endpoint connections

TEST(Network, EndpointConnectionLifecycleMirrorsTheVault) {
  FakeAzure azure;
  Response created = azure.call("PUT", rg("/providers/Microsoft.Network/privateEndpoints/pe1"),
                                {{"location", "eastus"},
                                 {"properties", {{"subnet", {{"id", subnet("endpoints")}}},
                                                 {"privateLinkServiceConnections", {{{"name", "c"}, {"properties", {{"privateLinkServiceId", vault()}, {"groupIds", {"vault"}}}}}}}}}});
  ASSERT_EQ(created.status, 201);
  EXPECT_TRUE(created.headers.contains("Azure-AsyncOperation"));
  EXPECT_TRUE(azure.settle().empty());
  std::string endpoint = rg("/providers/Microsoft.Network/privateEndpoints/pe1");
  auto state = [&] { return azure.show(endpoint)["properties"]["privateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"]["status"]; };
  EXPECT_EQ(state(), "Approved");
  Json shownEndpoint = azure.show(endpoint);
  EXPECT_EQ(shownEndpoint["properties"]["customDnsConfigs"][0]["fqdn"], "anfkv-provider.vault.azure.net");
  EXPECT_EQ(shownEndpoint["properties"]["networkInterfaces"].size(), 1u);
  Json vaultConnections = azure.show(vault())["properties"]["privateEndpointConnections"];
  ASSERT_EQ(vaultConnections.size(), 1u);
  EXPECT_EQ(vaultConnections[0]["properties"]["privateEndpoint"]["id"], endpoint);
  std::string connection = vaultConnections[0]["id"];
  azure.ok("PUT", connection, {{"properties", {{"privateLinkServiceConnectionState", {{"status", "Rejected"}}}}}});
  EXPECT_EQ(state(), "Rejected");
  azure.ok("DELETE", connection);
  EXPECT_EQ(state(), "Disconnected");
  azure.ok("DELETE", endpoint);
  EXPECT_TRUE(azure.show(vault())["properties"]["privateEndpointConnections"].empty());
}

TEST(Network, EndpointRules) {
  FakeAzure azure;
  auto put = [&](const std::string& subnetId, const Json& groupIds) {
    return azure.call("PUT", rg("/providers/Microsoft.Network/privateEndpoints/pe1"),
                      {{"location", "eastus"},
                       {"properties", {{"subnet", {{"id", subnetId}}},
                                       {"privateLinkServiceConnections", {{{"name", "c"}, {"properties", {{"privateLinkServiceId", vault()}, {"groupIds", groupIds}}}}}}}}});
  };
  EXPECT_EQ(put(subnet("nope"), {"vault"}).body["error"]["code"], "InvalidResourceReference");
  EXPECT_EQ(put(subnet("endpoints"), {"blob"}).body["error"]["code"], "PrivateEndpointBadRequest");
  ASSERT_EQ(put(subnet("endpoints"), {"vault"}).status, 201);
  azure.settle();
  Response inUse = azure.call("DELETE", subnet("endpoints"));
  EXPECT_EQ(inUse.status, 400);
  EXPECT_EQ(inUse.body["error"]["code"], "InUseSubnetCannotBeDeleted");
}

TEST(Network, VnetListsItsSubnetsWithDelegations) {
  FakeAzure azure;
  Json vnet = azure.show(rg("/providers/Microsoft.Network/virtualNetworks/anf-vnet"));
  ASSERT_EQ(vnet["properties"]["subnets"].size(), 2u);
  Json delegated = azure.show(subnet("anf-delegated"));
  EXPECT_EQ(delegated["properties"]["delegations"][0]["properties"]["serviceName"], "Microsoft.NetApp/volumes");
  EXPECT_EQ(azure.show(subnet("endpoints"))["properties"]["privateEndpointNetworkPolicies"], "Disabled");
}

// ---------------------------------------------------------------- Authorization

TEST(Authorization, RoleAssignmentRules) {
  FakeAzure azure;
  std::string principal = azure.createIdentity("ids")["properties"]["principalId"];
  auto assign = [&](const std::string& name, const std::string& who) {
    return azure.call("PUT", vault("anfkv-rbac") + "/providers/Microsoft.Authorization/roleAssignments/" + name,
                      {{"properties", {{"roleDefinitionId", std::string("/providers/Microsoft.Authorization/roleDefinitions/") + kCryptoUser},
                                       {"principalId", who}}}});
  };
  Response unknown = assign(azure.world().newGuid(), "30000000-0000-4000-8000-000000000003");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.body["error"]["code"], "PrincipalNotFound");
  Response customerPrincipal = assign(azure.world().newGuid(), kCustomerAdmin);
  EXPECT_EQ(customerPrincipal.body["error"]["code"], "PrincipalNotFound") << "a principal of another tenant";
  std::string name = azure.world().newGuid();
  Response created = assign(name, principal);
  ASSERT_EQ(created.status, 201) << created.body.dump();
  EXPECT_EQ(created.body["properties"]["scope"], vault("anfkv-rbac"));
  EXPECT_EQ(created.body["properties"]["roleDefinitionId"],
            std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.Authorization/roleDefinitions/" + kCryptoUser);
  EXPECT_EQ(assign(name, principal).status, 200) << "the same assignment again is idempotent";
  Response duplicate = assign(azure.world().newGuid(), principal);
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(duplicate.body["error"]["code"], "RoleAssignmentExists");

  azure.assignRole(rg(), "acdd72a7-3385-48ef-bd42-f606fba81ae7", principal);  // Reader on the RG
  auto list = [&](const std::string& scope, const std::string& filter) {
    return azure.call("GET", scope + "/providers/Microsoft.Authorization/roleAssignments", nullptr, false, {}, {{"$filter", filter}}).body["value"].size();
  };
  EXPECT_EQ(list(vault("anfkv-rbac"), "atScope()"), 2u) << "the vault's own and the RG's";
  EXPECT_EQ(list(rg(), "atScope()"), 1u);
  EXPECT_EQ(list(rg(), "principalId eq '" + principal + "'"), 2u) << "at, above and below";
  EXPECT_EQ(list(rg(), "principalId eq 'nobody'"), 0u);
}

TEST(Authorization, CustomRolesAndBuiltIns) {
  FakeAzure azure;
  Response builtIn = azure.get(std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.Authorization/roleDefinitions/" + kCryptoUser);
  ASSERT_EQ(builtIn.status, 200);
  EXPECT_EQ(builtIn.body["properties"]["roleName"], "Key Vault Crypto User");
  EXPECT_EQ(builtIn.body["properties"]["type"], "BuiltInRole");
  auto putRole = [&](const std::string& guid, const std::string& roleName) {
    return azure.call("PUT", std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.Authorization/roleDefinitions/" + guid,
                      {{"properties", {{"roleName", roleName}, {"assignableScopes", {rg()}},
                                       {"permissions", {{{"dataActions", {"Microsoft.KeyVault/vaults/keys/read"}}}}}}}});
  };
  std::string guid = azure.world().newGuid();
  ASSERT_EQ(putRole(guid, "NetApp account").status, 201);
  EXPECT_EQ(putRole(guid, "NetApp account").status, 200);
  Response sameName = putRole(azure.world().newGuid(), "NetApp account");
  EXPECT_EQ(sameName.status, 409);
  EXPECT_EQ(sameName.body["error"]["code"], "RoleDefinitionWithSameNameExists");
  Response listed = azure.call("GET", std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.Authorization/roleDefinitions",
                               nullptr, false, {}, {{"$filter", "roleName eq 'NetApp account'"}});
  ASSERT_EQ(listed.body["value"].size(), 1u);
  EXPECT_EQ(listed.body["value"][0]["name"], guid);
}

// ---------------------------------------------------------------- Features and resource groups

TEST(Features, RegistrationMovesToRegisteredAfterTheDelayOnTheEmulatorClock) {
  FakeAzure azure(false);
  std::string feature = std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.Features/providers/Microsoft.NetApp/features/ANFCrossTenantCMK";
  auto state = [&] { return azure.show(feature)["properties"]["state"]; };
  EXPECT_EQ(state(), "NotRegistered");
  Json registered = azure.ok("POST", feature + "/register");
  EXPECT_EQ(registered["properties"]["state"], "Registering");
  EXPECT_EQ(registered["name"], "Microsoft.NetApp/ANFCrossTenantCMK");
  azure.world().clock.advance(azure.world().featureRegistrationDelay - std::chrono::seconds(1));
  EXPECT_EQ(state(), "Registering");
  azure.world().clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(state(), "Registered");
  EXPECT_EQ(azure.show(std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.Features/providers/Microsoft.NetApp/features")["value"].size(), 1u);
  azure.ok("POST", feature + "/unregister");
  EXPECT_EQ(state(), "Unregistered");
}

TEST(ResourceGroups, CreateListDelete) {
  FakeAzure azure(false);
  std::string group = std::string("/subscriptions/") + kProviderSub + "/resourcegroups/rg1";
  Response created = azure.call("PUT", group, {{"location", "eastus"}});
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.body["id"], std::string("/subscriptions/") + kProviderSub + "/resourceGroups/rg1");
  EXPECT_EQ(azure.call("PUT", group, {{"location", "westus"}}).status, 409);
  EXPECT_EQ(azure.show(std::string("/subscriptions/") + kProviderSub + "/resourcegroups")["value"].size(), 1u);
  azure.ok("PUT", group + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ids", {{"location", "eastus"}});
  ASSERT_EQ(azure.call("DELETE", group).status, 202);
  azure.settle();
  EXPECT_EQ(azure.get(group).status, 404);
  EXPECT_EQ(azure.world().find(group + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ids"), nullptr);
}

}  // namespace
}  // namespace anf::emulator::testing
