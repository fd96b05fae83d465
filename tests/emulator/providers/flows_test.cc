// The flows of the two ANF documentation pages, performed as their CLI / REST steps would do them.
#include <gtest/gtest.h>

#include "emulator/providers/arm.h"
#include "emulator/providers/key_checks.h"
#include "tests/emulator/providers/fake_azure.h"

namespace anf::emulator::testing {
namespace {

namespace kc = keychecks;

std::string uamiId(const std::string& name) { return rg("/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name); }
std::string volumeId(const std::string& name, const std::string& acct = "acct") { return account(acct) + "/capacityPools/pool1/volumes/" + name; }

Json keyVaultEncryption(const std::string& vaultName, const std::string& key) {
  return {{"keySource", "Microsoft.Keyvault"},  // the CLI page's spelling; documented as case-insensitive
          {"keyVaultProperties", {{"keyVaultUri", "https://" + vaultName + ".vault.azure.net/"}, {"keyName", key}}}};
}

Json userAssignedEncryption(const std::string& identityId, const std::string& vaultName) {
  Json encryption = keyVaultEncryption(vaultName, "anf-key");
  encryption["keyVaultProperties"]["keyVaultResourceId"] = vault(vaultName);
  encryption["identity"] = {{"userAssignedIdentity", identityId}};
  return {{"identity", {{"type", "UserAssigned"}, {"userAssignedIdentities", {{identityId, Json::object()}}}}},
          {"properties", {{"encryption", encryption}}}};
}

// "Use a system-assigned identity": account update --identity-type SystemAssigned, set-policy, update --key-source.
TEST(Flows, SystemAssignedIdentityWithAccessPolicy) {
  FakeAzure azure;
  azure.createAccount("acct");
  azure.ok("PATCH", account(), {{"identity", {{"type", "SystemAssigned"}}}});
  Json shown = azure.show(account());
  std::string principal = shown["identity"]["principalId"];
  ASSERT_TRUE(arm::isGuid(principal));
  EXPECT_EQ(shown["identity"]["tenantId"], kProviderTenant);
  azure.grantAccessPolicy(vault(), kProviderTenant, principal);

  Response patched = azure.call("PATCH", account(), {{"properties", {{"encryption", keyVaultEncryption("anfkv-provider", "anf-key")}}}});
  ASSERT_EQ(patched.status, 202) << patched.body.dump();
  EXPECT_TRUE(patched.headers.contains("Location"));
  EXPECT_EQ(patched.body["properties"]["provisioningState"], "Patching");
  EXPECT_TRUE(azure.settle().empty());

  Json encryption = azure.show(account())["properties"]["encryption"];
  EXPECT_EQ(encryption["keySource"], "Microsoft.KeyVault");
  EXPECT_EQ(encryption["keyVaultProperties"]["status"], "InUse");
  EXPECT_EQ(encryption["keyVaultProperties"]["keyVaultResourceId"], vault());
  EXPECT_TRUE(arm::isGuid(encryption["keyVaultProperties"]["keyVaultId"].get<std::string>()));
  EXPECT_EQ(encryption["identity"]["principalId"], principal);
  EXPECT_EQ(azure.show(account())["properties"]["provisioningState"], "Succeeded");
}

TEST(Flows, MissingAccessPolicyFailsTheOperationAndMarksTheKeyError) {
  FakeAzure azure;
  azure.createAccount("acct", true);
  ASSERT_EQ(azure.call("PATCH", account(), {{"properties", {{"encryption", keyVaultEncryption("anfkv-provider", "anf-key")}}}}).status, 202);
  auto errors = azure.settle();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["message"], std::string(kc::kKeyUnusable));
  EXPECT_NE(errors[0]["details"][0]["message"].get<std::string>().find("access policy"), std::string::npos);
  Json shown = azure.show(account());
  EXPECT_EQ(shown["properties"]["provisioningState"], "Failed");
  EXPECT_EQ(shown["properties"]["encryption"]["keyVaultProperties"]["status"], "Error");
}

// "Use a new user-assigned identity" with an access policy.
TEST(Flows, UserAssignedIdentityWithAccessPolicy) {
  FakeAzure azure;
  azure.createAccount("acct");
  Json identity = azure.createIdentity("ids");
  azure.grantAccessPolicy(vault(), kProviderTenant, identity["properties"]["principalId"]);
  azure.ok("PATCH", account(), userAssignedEncryption(uamiId("ids"), "anfkv-provider"));
  Json shown = azure.show(account());
  EXPECT_EQ(shown["identity"]["type"], "UserAssigned");
  EXPECT_EQ(shown["identity"]["userAssignedIdentities"][uamiId("ids")]["principalId"], identity["properties"]["principalId"]);
  EXPECT_EQ(shown["identity"]["userAssignedIdentities"][uamiId("ids")]["clientId"], identity["properties"]["clientId"]);
  EXPECT_EQ(shown["properties"]["encryption"]["identity"]["principalId"], identity["properties"]["principalId"]);
  EXPECT_EQ(shown["properties"]["encryption"]["identity"]["userAssignedIdentity"], uamiId("ids"));
}

TEST(Flows, MissingUserAssignedIdentityIsRefused) {
  FakeAzure azure;
  azure.createAccount("acct");
  Response response = azure.call("PATCH", account(), userAssignedEncryption(uamiId("ghost"), "anfkv-provider"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body["error"]["code"], "FailedIdentityOperation");
}

// "Use role-based access control": the minimal custom role of the page, assigned at vault scope.
TEST(Flows, RbacVaultWithMinimalCustomRole) {
  FakeAzure azure;
  azure.createAccount("acct");
  Json identity = azure.createIdentity("ids");
  std::string roleGuid = azure.world().newGuid();
  azure.ok("PUT", std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.Authorization/roleDefinitions/" + roleGuid,
           {{"properties",
             {{"roleName", "NetApp account"},
              {"description", "Has the necessary permissions for customer-managed key encryption: get key, encrypt and decrypt"},
              {"type", "CustomRole"},
              {"assignableScopes", {rg()}},
              {"permissions",
               {{{"actions", Json::array()},
                 {"notActions", Json::array()},
                 {"dataActions", {"Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/encrypt/action",
                                  "Microsoft.KeyVault/vaults/keys/decrypt/action"}},
                 {"notDataActions", Json::array()}}}}}}});

  // Before the assignment the account's encryption fails; with it, it succeeds.
  ASSERT_EQ(azure.call("PATCH", account(), userAssignedEncryption(uamiId("ids"), "anfkv-rbac")).status, 202);
  ASSERT_EQ(azure.settle().size(), 1u);
  azure.assignRole(vault("anfkv-rbac"), roleGuid, identity["properties"]["principalId"]);
  azure.ok("PATCH", account(), userAssignedEncryption(uamiId("ids"), "anfkv-rbac"));
  EXPECT_EQ(azure.show(account())["properties"]["encryption"]["keyVaultProperties"]["status"], "InUse");
}

TEST(Flows, ARoleAssignmentGrantsOnlyOnceItHasPropagated) {
  FakeAzure azure;
  azure.world().operationDurations["roleAssignmentPropagation"] = std::chrono::seconds(60);
  azure.createAccount("acct");
  Json identity = azure.createIdentity("ids");
  azure.assignRole(vault("anfkv-rbac"), kCryptoUser, identity["properties"]["principalId"]);
  ASSERT_EQ(azure.call("PATCH", account(), userAssignedEncryption(uamiId("ids"), "anfkv-rbac")).status, 202);
  auto failed = azure.settle();
  ASSERT_EQ(failed.size(), 1u) << "the grant was used before it propagated";
  EXPECT_EQ(failed[0]["code"], std::string(keychecks::kCodeKeyUnusable));
  azure.world().clock.advance(std::chrono::seconds(60));
  azure.ok("PATCH", account(), userAssignedEncryption(uamiId("ids"), "anfkv-rbac"));
  EXPECT_EQ(azure.show(account())["properties"]["encryption"]["keyVaultProperties"]["status"], "InUse");
}

TEST(Flows, RoleWithoutDecryptIsNotEnough) {
  FakeAzure azure;
  azure.createAccount("acct");
  Json identity = azure.createIdentity("ids");
  azure.assignRole(vault("anfkv-rbac"), "e147488a-f6f5-4113-8e2d-b22465e65bf6", identity["properties"]["principalId"]);
  ASSERT_EQ(azure.call("PATCH", account(), userAssignedEncryption(uamiId("ids"), "anfkv-rbac")).status, 202);
  auto errors = azure.settle();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0]["details"][0]["message"].get<std::string>().find("encrypt/action"), std::string::npos) << errors[0].dump();
}

// Fixture: a system-assigned CMK account with an approved endpoint, a pool and one CMK volume.
class CmkAccount : public ::testing::Test {
 protected:
  void SetUp() override {
    principal_ = azure_.createAccount("acct", true)["identity"]["principalId"];
    azure_.grantAccessPolicy(vault(), kProviderTenant, principal_);
    azure_.ok("PATCH", account(), {{"properties", {{"encryption", keyVaultEncryption("anfkv-provider", "anf-key")}}}});
    endpoint_ = azure_.createEndpoint("pe-kv", vault());
  }
  Response createCmkVolume(const std::string& name) {
    return azure_.createVolume("acct", name,
                               {{"encryptionKeySource", "Microsoft.KeyVault"}, {"networkFeatures", "Standard"},
                                {"keyVaultPrivateEndpointResourceId", endpoint_}});
  }
  FakeAzure azure_;
  std::string principal_;
  std::string endpoint_;
};

// "Create an Azure NetApp Files volume using customer-managed keys".
TEST_F(CmkAccount, CmkVolumeCreation) {
  Response created = createCmkVolume("vol1");
  ASSERT_EQ(created.status, 201) << created.body.dump();
  EXPECT_TRUE(created.headers.contains("Azure-AsyncOperation"));
  EXPECT_EQ(created.body["properties"]["provisioningState"], "Creating");
  EXPECT_EQ(created.body["name"], "acct/pool1/vol1");
  EXPECT_TRUE(azure_.settle().empty());
  Json volume = azure_.show(volumeId("vol1"));
  EXPECT_EQ(volume["properties"]["provisioningState"], "Succeeded");
  EXPECT_EQ(volume["properties"]["keyVaultPrivateEndpointResourceId"], endpoint_);
  EXPECT_TRUE(arm::isGuid(volume["properties"]["fileSystemId"].get<std::string>()));
  EXPECT_EQ(volume["properties"]["mountTargets"][0]["ipAddress"], "10.0.1.4");
  EXPECT_EQ(volume["type"], "Microsoft.NetApp/netAppAccounts/capacityPools/volumes");
}

// "Rekey all volumes under a NetApp account": another key of the same vault.
TEST_F(CmkAccount, Rekey) {
  ASSERT_EQ(createCmkVolume("vol1").status, 201);
  ASSERT_TRUE(azure_.settle().empty());
  azure_.ok("PATCH", account(), {{"properties", {{"encryption", keyVaultEncryption("anfkv-provider", "anf-key-2")}}}});
  Json kv = azure_.show(account())["properties"]["encryption"]["keyVaultProperties"];
  EXPECT_EQ(kv["keyName"], "anf-key-2");
  EXPECT_EQ(kv["status"], "InUse");
  EXPECT_EQ(azure_.show(volumeId("vol1"))["properties"]["provisioningState"], "Succeeded");
}

TEST_F(CmkAccount, VaultChangeByUpdateIsRefusedWhileCmkVolumesExist) {
  ASSERT_EQ(createCmkVolume("vol1").status, 201);
  ASSERT_TRUE(azure_.settle().empty());
  azure_.assignRole(vault("anfkv-rbac"), kCryptoUser, principal_);
  Response response = azure_.call("PATCH", account(), {{"properties", {{"encryption", keyVaultEncryption("anfkv-rbac", "anf-key")}}}});
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body["error"]["code"], "KeyVaultChangeNotSupported");
}

TEST_F(CmkAccount, CmkBackToPmkIsRefused) {
  Response response = azure_.call("PATCH", account(), {{"properties", {{"encryption", {{"keySource", "Microsoft.NetApp"}}}}}});
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body["error"]["code"], "InvalidKeySourceChange");
}

// "Switch from system-assigned to user-assigned identity" with the page's PATCH payload, then renewCredentials.
TEST_F(CmkAccount, IdentitySwitchLeavesPrincipalStaleUntilRenewCredentials) {
  Json identity = azure_.createIdentity("ids");
  std::string userPrincipal = identity["properties"]["principalId"];
  azure_.grantAccessPolicy(vault(), kProviderTenant, userPrincipal);
  azure_.ok("PATCH", account(),
            {{"identity", {{"type", "UserAssigned"}, {"userAssignedIdentities", {{uamiId("ids"), Json::object()}}}}},
             {"properties", {{"encryption", {{"identity", {{"userAssignedIdentity", uamiId("ids")}}}}}}}});
  Json shown = azure_.show(account());
  EXPECT_FALSE(shown["identity"].contains("principalId"));
  EXPECT_EQ(shown["properties"]["encryption"]["keySource"], "Microsoft.KeyVault") << "the PATCH keeps what it does not name";
  EXPECT_EQ(shown["properties"]["encryption"]["identity"]["userAssignedIdentity"], uamiId("ids"));
  EXPECT_EQ(shown["properties"]["encryption"]["identity"]["principalId"], principal_) << "stale: still the old system principal";

  Response renewed = azure_.call("POST", account() + "/renewCredentials", Json::object());
  ASSERT_EQ(renewed.status, 202);
  EXPECT_TRUE(renewed.headers.contains("Location"));
  EXPECT_TRUE(azure_.settle().empty());
  EXPECT_EQ(azure_.show(account())["properties"]["encryption"]["identity"]["principalId"], userPrincipal);
}

TEST_F(CmkAccount, IdentitySwitchNeedsTheTargetIdentityToHoldAccess) {
  azure_.createIdentity("ids");
  ASSERT_EQ(azure_.call("PATCH", account(), userAssignedEncryption(uamiId("ids"), "anfkv-provider")).status, 202);
  auto errors = azure_.settle();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["message"], std::string(kc::kKeyUnusable));
}

// "Transition an Azure NetApp Files volume to customer-managed keys".
TEST_F(CmkAccount, TransitionConvertsThePmkVolumesOfThatVnet) {
  ASSERT_EQ(azure_.createVolume("acct", "pmk1", {{"networkFeatures", "Standard"}}).status, 201);
  ASSERT_EQ(azure_.createVolume("acct", "pmk2", {{"networkFeatures", "Standard"}}).status, 201);
  // A PMK volume of the same account in another VNet stays as it is.
  azure_.ok("PUT", rg("/providers/Microsoft.Network/virtualNetworks/other-vnet"),
            {{"location", "eastus"},
             {"properties", {{"addressSpace", {{"addressPrefixes", {"10.9.0.0/16"}}}},
                             {"subnets", {{{"name", "anf-delegated"},
                                           {"properties", {{"addressPrefix", "10.9.1.0/24"},
                                                           {"delegations", {{{"name", "netapp"}, {"properties", {{"serviceName", "Microsoft.NetApp/volumes"}}}}}}}}}}}}}});
  ASSERT_EQ(azure_.createVolume("acct", "pmk-other", {{"networkFeatures", "Standard"}, {"subnetId", subnet("anf-delegated", "other-vnet")}}).status, 201);
  ASSERT_TRUE(azure_.settle().empty());
  Json before = azure_.show(volumeId("pmk1"));
  Json body{{"virtualNetworkId", rg("/providers/Microsoft.Network/virtualNetworks/anf-vnet")}, {"privateEndpointId", endpoint_}};

  Response refused = azure_.call("POST", account() + "/transitiontocmk", body);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body["error"]["code"], "FeatureNotRegistered");

  azure_.ok("POST", std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.Features/providers/Microsoft.NetApp/features/ANFMigratePmkToCmk/register");
  EXPECT_EQ(azure_.call("POST", account() + "/transitiontocmk", body).body["error"]["code"], "FeatureNotRegistered") << "still Registering";
  azure_.world().clock.advance(azure_.world().featureRegistrationDelay);

  Response accepted = azure_.call("POST", account() + "/transitiontocmk", body);
  ASSERT_EQ(accepted.status, 202) << accepted.body.dump();
  EXPECT_TRUE(accepted.headers.contains("Location"));
  EXPECT_TRUE(accepted.headers.contains("Azure-AsyncOperation"));
  EXPECT_TRUE(azure_.settle().empty());
  for (const char* name : {"pmk1", "pmk2"}) {
    Json after = azure_.show(volumeId(name));
    EXPECT_EQ(after["properties"]["encryptionKeySource"], "Microsoft.KeyVault") << name;
    EXPECT_EQ(after["properties"]["keyVaultPrivateEndpointResourceId"], endpoint_) << name;
  }
  EXPECT_EQ(azure_.show(volumeId("pmk-other"))["properties"]["encryptionKeySource"], "Microsoft.NetApp");
  Json after = azure_.show(volumeId("pmk1"));
  EXPECT_EQ(after["id"], before["id"]);
  EXPECT_EQ(after["properties"]["fileSystemId"], before["properties"]["fileSystemId"]);
}

TEST_F(CmkAccount, TransitionNeedsAnApprovedEndpointInThatVnet) {
  ASSERT_EQ(azure_.createVolume("acct", "pmk1", {{"networkFeatures", "Standard"}}).status, 201);
  ASSERT_TRUE(azure_.settle().empty());
  azure_.registerFeature("ANFMigratePmkToCmk");
  azure_.ok("PUT", rg("/providers/Microsoft.Network/virtualNetworks/other-vnet"),
            {{"location", "eastus"},
             {"properties", {{"addressSpace", {{"addressPrefixes", {"10.9.0.0/16"}}}},
                             {"subnets", {{{"name", "endpoints"}, {"properties", {{"addressPrefix", "10.9.2.0/24"}}}}}}}}});
  std::string otherEndpoint = azure_.createEndpoint("pe-other", vault(), subnet("endpoints", "other-vnet"));
  // An approved endpoint to the right vault, but in another VNet than the volumes'.
  ASSERT_EQ(azure_.call("POST", account() + "/transitiontocmk",
                        {{"virtualNetworkId", rg("/providers/Microsoft.Network/virtualNetworks/anf-vnet")}, {"privateEndpointId", otherEndpoint}})
                .status,
            202);
  auto errors = azure_.settle();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["message"], std::string(kc::kVaultUnreachable));
  EXPECT_EQ(azure_.show(volumeId("pmk1"))["properties"]["encryptionKeySource"], "Microsoft.NetApp");
}

TEST(Flows, TransitionNeedsACmkAccount) {
  FakeAzure azure;
  azure.createAccount("acct");
  azure.registerFeature("ANFMigratePmkToCmk");
  Response response = azure.call("POST", account() + "/transitiontocmk", Json::object());
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body["error"]["message"], std::string(kc::kAccountNotCmk));
}

// getKeyVaultStatus, then changeKeyVault with one endpoint per VNet.
TEST_F(CmkAccount, ChangeKeyVault) {
  ASSERT_EQ(createCmkVolume("vol1").status, 201);
  ASSERT_TRUE(azure_.settle().empty());
  Response status = azure_.call("POST", account() + "/getKeyVaultStatus");
  ASSERT_EQ(status.status, 200);
  EXPECT_EQ(status.body["properties"]["keyVaultUri"], "https://anfkv-provider.vault.azure.net/");
  ASSERT_EQ(status.body["properties"]["keyVaultPrivateEndpoints"].size(), 1u);
  EXPECT_EQ(status.body["properties"]["keyVaultPrivateEndpoints"][0]["privateEndpointId"], endpoint_);

  Json change = status.body["properties"];
  change["keyVaultUri"] = "https://anfkv-rbac.vault.azure.net/";
  change["keyVaultResourceId"] = vault("anfkv-rbac");
  change["keyVaultPrivateEndpoints"] = Json::array();
  Response missing = azure_.call("POST", account() + "/changeKeyVault", change);
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body["error"]["code"], "InvalidKeyVaultPrivateEndpoints");

  std::string newEndpoint = azure_.createEndpoint("pe-rbac", vault("anfkv-rbac"));
  change["keyVaultPrivateEndpoints"] = {{{"virtualNetworkId", rg("/providers/Microsoft.Network/virtualNetworks/anf-vnet")}, {"privateEndpointId", newEndpoint}}};
  ASSERT_EQ(azure_.call("POST", account() + "/changeKeyVault", change).status, 202);
  auto errors = azure_.settle();
  ASSERT_EQ(errors.size(), 1u) << "the system identity has no role on the RBAC vault yet";
  EXPECT_EQ(errors[0]["message"], std::string(kc::kKeyUnusable));

  azure_.assignRole(vault("anfkv-rbac"), kCryptoUser, principal_);
  Response accepted = azure_.call("POST", account() + "/changeKeyVault", change);
  ASSERT_EQ(accepted.status, 202);
  EXPECT_TRUE(accepted.headers.contains("Location"));
  EXPECT_TRUE(azure_.settle().empty());
  Json kv = azure_.show(account())["properties"]["encryption"]["keyVaultProperties"];
  EXPECT_EQ(kv["keyVaultUri"], "https://anfkv-rbac.vault.azure.net/");
  EXPECT_EQ(kv["keyVaultResourceId"], vault("anfkv-rbac"));
  EXPECT_EQ(azure_.show(volumeId("vol1"))["properties"]["keyVaultPrivateEndpointResourceId"], newEndpoint);
}

// ---------------------------------------------------------------- cross-tenant

// The cross-tenant page end to end: provider app + FIC on the UAMI, customer SP + Key Vault Crypto User,
// manual endpoint approved by the customer, feature registered, account by az rest at 2024-01-01-preview.
class CrossTenant : public ::testing::Test {
 protected:
  void SetUp() override {
    identity_ = azure_.createIdentity("cross-ids");
    appId_ = azure_.createApplication(kProviderTenant, "anf-cmk-app");
    azure_.addFederatedCredential(kProviderTenant, appId_, identity_["properties"]["principalId"],
                                  std::string("https://login.microsoftonline.com/") + kProviderTenant + "/v2.0");
    servicePrincipal_ = azure_.createServicePrincipal(kCustomerTenant, appId_);
    azure_.assignRole(vault("anfkv-customer"), kCryptoUser, servicePrincipal_, true);
    azure_.registerFeature("ANFCrossTenantCMK");
    azure_.createAccount("acct");
  }
  Json accountBody() {
    std::string uami = uamiId("cross-ids");
    return {{"location", "eastus"},
            {"identity", {{"type", "userAssigned"}, {"userAssignedIdentities", {{uami, Json::object()}}}}},
            {"properties",
             {{"encryption",
               {{"keySource", "Microsoft.KeyVault"},
                {"keyVaultProperties",
                 {{"keyVaultUri", "https://anfkv-customer.vault.azure.net/"}, {"keyVaultResourceId", vault("anfkv-customer")}, {"keyName", "anf-key"}}},
                {"identity", {{"userAssignedIdentity", uami}, {"federatedClientId", appId_}}}}}}}};
  }
  // PUT the account and return the operation's error, or null.
  Json configure() {
    Response response = azure_.call("PUT", account(), accountBody());
    EXPECT_EQ(response.status, 201) << response.body.dump();
    auto errors = azure_.settle();
    return errors.empty() ? Json() : errors[0];
  }
  FakeAzure azure_;
  Json identity_;
  std::string appId_;
  std::string servicePrincipal_;
};

TEST_F(CrossTenant, WholeChainEncryptsAndVolumeUsesTheApprovedManualEndpoint) {
  EXPECT_TRUE(configure().is_null());
  Json shown = azure_.show(account());
  EXPECT_EQ(shown["identity"]["type"], "UserAssigned");
  EXPECT_EQ(shown["properties"]["encryption"]["identity"]["federatedClientId"], appId_);
  EXPECT_EQ(shown["properties"]["encryption"]["identity"]["principalId"], identity_["properties"]["principalId"]);
  EXPECT_EQ(shown["properties"]["encryption"]["keyVaultProperties"]["status"], "InUse");

  // The automatic connection needs rights on the customer's vault: refused.
  std::string endpoint = rg("/providers/Microsoft.Network/privateEndpoints/pe-customer");
  Json automatic{{"location", "eastus"},
                 {"properties", {{"subnet", {{"id", subnet("endpoints")}}},
                                 {"privateLinkServiceConnections", {{{"name", "c"}, {"properties", {{"privateLinkServiceId", vault("anfkv-customer")}, {"groupIds", {"vault"}}}}}}}}}};
  Response refused = azure_.call("PUT", endpoint, automatic);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.body["error"]["code"], "LinkedAuthorizationFailed");

  Json manual = automatic;
  manual["properties"]["manualPrivateLinkServiceConnections"] = manual["properties"]["privateLinkServiceConnections"];
  manual["properties"].erase("privateLinkServiceConnections");
  azure_.ok("PUT", endpoint, manual);
  EXPECT_EQ(azure_.show(endpoint)["properties"]["manualPrivateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"]["status"],
            "Pending");

  // Before approval, the volume cannot reach the vault.
  Json cmk{{"encryptionKeySource", "Microsoft.KeyVault"}, {"networkFeatures", "Standard"}, {"keyVaultPrivateEndpointResourceId", endpoint}};
  ASSERT_EQ(azure_.createVolume("acct", "vol1", cmk).status, 201);
  auto errors = azure_.settle();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["message"], std::string(kc::kVaultUnreachable));
  azure_.ok("DELETE", volumeId("vol1"));

  // The customer approves the pending connection on the vault.
  Json connections = azure_.show(vault("anfkv-customer") + "/privateEndpointConnections", true)["value"];
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_EQ(connections[0]["properties"]["privateLinkServiceConnectionState"]["status"], "Pending");
  azure_.ok("PUT", connections[0]["id"], {{"properties", {{"privateLinkServiceConnectionState", {{"status", "Approved"}, {"description", "ok"}}}}}}, true);
  EXPECT_EQ(azure_.show(endpoint)["properties"]["manualPrivateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"]["status"],
            "Approved");

  ASSERT_EQ(azure_.createVolume("acct", "vol1", cmk).status, 201);
  EXPECT_TRUE(azure_.settle().empty());
  EXPECT_EQ(azure_.show(volumeId("vol1"))["properties"]["provisioningState"], "Succeeded");
}

TEST_F(CrossTenant, FeatureNotRegisteredIsRefusedSynchronously) {
  azure_.ok("POST", std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.Features/providers/Microsoft.NetApp/features/ANFCrossTenantCMK/unregister");
  Response response = azure_.call("PUT", account(), accountBody());
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body["error"]["code"], "FeatureNotRegistered");
}

struct MissingLink {
  std::string name;
  std::string detailFragment;
  std::function<void(FakeAzure&, const std::string& appId, const std::string& servicePrincipal)> breakIt;
};

class CrossTenantMissingLink : public CrossTenant, public ::testing::WithParamInterface<MissingLink> {};

TEST_P(CrossTenantMissingLink, FailsWithKeyUnusableNamingTheLink) {
  GetParam().breakIt(azure_, appId_, servicePrincipal_);
  Json error = configure();
  EXPECT_EQ(error.value("message", ""), std::string(kc::kKeyUnusable));
  std::string detail = error["details"][0]["message"];
  EXPECT_NE(detail.find(GetParam().detailFragment), std::string::npos) << detail;
  EXPECT_EQ(azure_.show(account())["properties"]["encryption"]["keyVaultProperties"]["status"], "Error");
}

void eraseGraph(FakeAzure& azure, const std::string& prefix, const std::string& appId) {
  std::vector<std::string> doomed;
  for (Json* object : azure.world().withPrefix(prefix)) {
    if (object->value("appId", "") == appId || appId.empty()) doomed.push_back(object->value("id", ""));
  }
  for (const auto& id : doomed) azure.world().erase(id);
}

INSTANTIATE_TEST_SUITE_P(
    Links, CrossTenantMissingLink,
    ::testing::Values(
        MissingLink{"NoApplication", "AADSTS700016",
                    [](FakeAzure& azure, const std::string& appId, const std::string&) {
                      eraseGraph(azure, std::string("/tenants/") + kProviderTenant + "/applications/", appId);
                    }},
        MissingLink{"NoFederatedCredential", "AADSTS70021",
                    [](FakeAzure& azure, const std::string&, const std::string&) {
                      std::vector<std::string> doomed;
                      for (Json* object : azure.world().withPrefix(std::string("/tenants/") + kProviderTenant + "/applications/")) {
                        if (object->value("id", "").find("/federatedIdentityCredentials/") != std::string::npos) doomed.push_back(object->value("id", ""));
                      }
                      for (const auto& id : doomed) azure.world().erase(id);
                    }},
        MissingLink{"CredentialForAnotherSubject", "AADSTS70021",
                    [](FakeAzure& azure, const std::string& appId, const std::string&) {
                      for (Json* object : azure.world().withPrefix(std::string("/tenants/") + kProviderTenant + "/applications/")) {
                        if (object->value("id", "").find("/federatedIdentityCredentials/") != std::string::npos) (*object)["subject"] = "someone-else";
                      }
                      (void)appId;
                    }},
        MissingLink{"NoServicePrincipalInCustomerTenant", "not been installed",
                    [](FakeAzure& azure, const std::string& appId, const std::string&) {
                      eraseGraph(azure, std::string("/tenants/") + kCustomerTenant + "/servicePrincipals/", appId);
                    }},
        MissingLink{"NoRoleAssignment", "No role assignment",
                    [](FakeAzure& azure, const std::string&, const std::string& servicePrincipal) {
                      for (Json* assignment : arm::ofType(azure.world(), "Microsoft.Authorization/roleAssignments")) {
                        if ((*assignment)["properties"]["principalId"] == servicePrincipal) {
                          azure.ok("DELETE", (*assignment)["id"], nullptr, true);
                          break;
                        }
                      }
                    }}),
    [](const auto& info) { return info.param.name; });

TEST_F(CrossTenant, WithoutFederatedClientIdTheProviderIdentityCannotUseTheCustomersVault) {
  Json body = accountBody();
  body["properties"]["encryption"]["identity"].erase("federatedClientId");
  ASSERT_EQ(azure_.call("PUT", account(), body).status, 201);
  auto errors = azure_.settle();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0]["details"][0]["message"].get<std::string>().find("accepts only tokens of tenant"), std::string::npos);
}

}  // namespace
}  // namespace anf::emulator::testing
