#include "reconcilers/key_vault_change.h"

#include <gtest/gtest.h>

#include "tests/reconcilers/fake_azure_client.h"
#include "tests/reconcilers/reconcile_world.h"

namespace anf::reconcilers {
namespace {

using controller::Kind;
using testing::kAccountId;
using testing::kPoolId;
using testing::kVnet;
using testing::kVnet2;

const std::string kOldVault = testing::kRg + "/providers/Microsoft.KeyVault/vaults/anfkv-provider";
const std::string kNewVault = testing::kRg + "/providers/Microsoft.KeyVault/vaults/anfkv-rbac";
const std::string kPe1 = testing::kRg + "/providers/Microsoft.Network/privateEndpoints/pe-rbac-1";
const std::string kPe2 = testing::kRg + "/providers/Microsoft.Network/privateEndpoints/pe-rbac-2";
const KeyVaultTarget kTarget{.resourceId = kNewVault, .uri = "https://anfkv-rbac.vault.azure.net/", .keyName = "anf-key"};

Json account(const std::string& vault, const std::string& uri) {
  return {{"properties",
           {{"provisioningState", "Succeeded"},
            {"encryption",
             {{"keySource", "Microsoft.KeyVault"},
              {"keyVaultProperties", {{"keyVaultResourceId", vault}, {"keyVaultUri", uri}, {"keyName", "anf-key"}}}}}}}};
}

Json cmkVolume(const std::string& name, const std::string& vnet) {
  return {{"id", kPoolId + "/volumes/" + name},
          {"properties", {{"subnetId", vnet + "/subnets/anf-delegated"}, {"encryptionKeySource", "Microsoft.KeyVault"}}}};
}

TEST(ChangeKeyVaultBody, OneEndpointPerVnetWithCmkVolumes) {
  std::vector<ObservedVolume> volumes = {ObservedVolume::fromArm(cmkVolume("a", kVnet)),
                                         ObservedVolume::fromArm(cmkVolume("b", kVnet)),
                                         ObservedVolume::fromArm(cmkVolume("c", kVnet2))};
  auto vnets = vnetsNeedingEndpoints(volumes, Json::object());
  ASSERT_EQ(vnets, (std::vector<std::string>{kVnet, kVnet2}));
  auto body = buildChangeKeyVaultBody(kTarget, vnets,
                                      {{.virtualNetworkId = kVnet2, .privateEndpointId = kPe2},
                                       {.virtualNetworkId = kVnet, .privateEndpointId = kPe1}});
  ASSERT_TRUE(body.has_value()) << body.error().message;
  EXPECT_EQ(*body, (Json{{"keyVaultUri", "https://anfkv-rbac.vault.azure.net/"},
                         {"keyName", "anf-key"},
                         {"keyVaultResourceId", kNewVault},
                         {"keyVaultPrivateEndpoints",
                          {{{"virtualNetworkId", kVnet}, {"privateEndpointId", kPe1}},
                           {{"virtualNetworkId", kVnet2}, {"privateEndpointId", kPe2}}}}}));
}

TEST(ChangeKeyVaultBody, VnetsListedByGetKeyVaultStatusNeedEndpointsToo) {
  Json status = {{"properties", {{"keyVaultPrivateEndpoints", {{{"virtualNetworkId", kVnet2}, {"privateEndpointId", "x"}}}}}}};
  auto vnets = vnetsNeedingEndpoints({ObservedVolume::fromArm(cmkVolume("a", kVnet))}, status);
  EXPECT_EQ(vnets, (std::vector<std::string>{kVnet, kVnet2}));
}

TEST(ChangeKeyVaultBody, MissingEndpointIsATerminalErrorNamingTheVnet) {
  auto body = buildChangeKeyVaultBody(kTarget, {kVnet, kVnet2}, {{.virtualNetworkId = kVnet, .privateEndpointId = kPe1}});
  ASSERT_FALSE(body.has_value());
  EXPECT_EQ(body.error().reason, "MissingKeyVaultPrivateEndpoints");
  EXPECT_TRUE(body.error().parked());
  EXPECT_NE(body.error().message.find(kVnet2), std::string::npos);
  EXPECT_NE(body.error().message.find("spec.encryption.keyVault.privateEndpoints"), std::string::npos);
}

TEST(KeyVaultChangePending, ComparesIdsAndUrisLoosely) {
  Json spec = {{"encryption", {{"keyVault", {{"resourceId", kOldVault}, {"uri", "https://ANFKV-provider.vault.azure.net"}}}}}};
  EXPECT_FALSE(keyVaultChangePending(spec, account(kOldVault, "https://anfkv-provider.vault.azure.net/")));
  spec["encryption"]["keyVault"] = {{"resourceId", kNewVault}};
  EXPECT_TRUE(keyVaultChangePending(spec, account(kOldVault, "https://anfkv-provider.vault.azure.net/")));
  Json pmk = {{"properties", {{"encryption", {{"keySource", "Microsoft.NetApp"}}}}}};
  EXPECT_FALSE(keyVaultChangePending(spec, pmk));
}

// Issue 13 item 7: the schema accepts a vault URI with the default port; it is the same vault, not a change
// (key_vault_checks.cc already said so, key_vault_change.cc did not).
TEST(KeyVaultChangePending, AVaultUriWithTheDefaultPortIsTheSameVault) {
  Json spec = {{"encryption", {{"keyVault", {{"resourceId", kOldVault}, {"uri", "https://anfkv-provider.vault.azure.net:443/"}}}}}};
  EXPECT_FALSE(keyVaultChangePending(spec, account(kOldVault, "https://anfkv-provider.vault.azure.net/")));
  spec["encryption"]["keyVault"]["uri"] = "https://anfkv-provider.vault.azure.net";
  EXPECT_FALSE(keyVaultChangePending(spec, account(kOldVault, "https://ANFKV-provider.vault.azure.net:443")));
  spec["encryption"]["keyVault"]["uri"] = "https://anfkv-provider.vault.azure.net:8443/";
  EXPECT_TRUE(keyVaultChangePending(spec, account(kOldVault, "https://anfkv-provider.vault.azure.net/")));
}

struct ChangeWorld : testing::World {
  testing::FakeAzureClient client;
  testing::FakeAzureStore store;
  ActionWaits waits;
  ChangeWorld() {
    add(testing::document(
        Kind::NetAppAccount, "acct",
        {{"encryption",
          {{"keySource", "Microsoft.KeyVault"},
           {"keyVault",
            {{"resourceId", kNewVault},
             {"uri", "https://anfkv-rbac.vault.azure.net/"},
             {"keyName", "anf-key"},
             {"privateEndpoints", {{{"virtualNetworkId", kVnet}, {"privateEndpointRef", "pe-rbac-1"}}}}}}}}}));
    statuses[{Kind::PrivateEndpoint, "pe-rbac-1"}].facts = {{"resourceId", kPe1}};
    store.putArm(kPoolId, Json::object());
    store.serve(client);
    client.postFn = [](const std::string&, const azure::ResourceId& id, std::string_view action, const Json&,
                       const azure::RequestOptions&) -> azure::Expected<azure::ArmResult> {
      EXPECT_EQ(id.str(), kAccountId);
      if (action == "getKeyVaultStatus")
        return testing::armOk({{"properties", {{"keyVaultUri", "https://anfkv-provider.vault.azure.net/"},
                                               {"keyVaultPrivateEndpoints", Json::array()}}}});
      EXPECT_EQ(action, "changeKeyVault");
      auto result = testing::armOk(nullptr, 202);
      result.operation = azure::OperationState{.url = "https://op/2", .resourceId = id.str(), .method = "POST",
                                               .action = std::string(action)};
      return result;
    };
  }
  void volumes(const std::vector<Json>& items) {
    for (const auto& item : items) store.putArm(item["id"].get<std::string>(), item);
  }
};

TEST(ChangeKeyVault, SendsChangeKeyVaultWithOneEndpointPerVnetAndHandsTheOperationToTheEngine) {
  ChangeWorld world;
  world.volumes({cmkVolume("a", kVnet)});
  auto outcome = changeKeyVault(world.client, world.context({Kind::NetAppAccount, "acct"}), world.waits);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
  ASSERT_TRUE(outcome->operation.has_value());
  auto posts = world.client.callsTo("POST", "/changeKeyVault");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].body["keyVaultPrivateEndpoints"], (Json{{{"virtualNetworkId", kVnet}, {"privateEndpointId", kPe1}}}));
  EXPECT_EQ(posts[0].body["keyVaultResourceId"], kNewVault);
  EXPECT_EQ(world.client.callsTo("POST", "/getKeyVaultStatus").size(), 1u);
}

TEST(ChangeKeyVault, MissingEndpointSendsNothing) {
  ChangeWorld world;
  world.volumes({cmkVolume("a", kVnet), cmkVolume("b", kVnet2)});
  auto outcome = changeKeyVault(world.client, world.context({Kind::NetAppAccount, "acct"}), world.waits);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error().reason, "MissingKeyVaultPrivateEndpoints");
  EXPECT_NE(outcome.error().message.find(kVnet2), std::string::npos);
  EXPECT_TRUE(world.client.callsTo("POST", "/changeKeyVault").empty());
}

TEST(ChangeKeyVault, AStepOnlyWhileTheAccountUsesAnotherVault) {
  ChangeWorld world;
  world.volumes({cmkVolume("a", kVnet)});
  const auto context = world.context({Kind::NetAppAccount, "acct"});
  auto same = changeKeyVaultStep(world.client, context, account(kNewVault, "https://anfkv-rbac.vault.azure.net:443"), world.waits);
  ASSERT_TRUE(same.has_value()) << same.error().message;
  EXPECT_FALSE(same->has_value());
  EXPECT_TRUE(world.client.writes().empty());
  auto other = changeKeyVaultStep(world.client, context, account(kOldVault, "https://anfkv-provider.vault.azure.net/"), world.waits);
  ASSERT_TRUE(other.has_value()) << other.error().message;
  EXPECT_TRUE(other->has_value());
  EXPECT_EQ(world.client.callsTo("POST", "/changeKeyVault").size(), 1u);
}

// The account shows an operation running (a PATCH in flight: provisioningState Patching): nothing is sent.
TEST(ChangeKeyVault, AccountShowingAnOperationWaitsWithoutSending) {
  ChangeWorld world;
  world.volumes({cmkVolume("a", kVnet)});
  Json patching = account(kOldVault, "https://anfkv-provider.vault.azure.net/");
  patching["properties"]["provisioningState"] = "Patching";
  auto step = changeKeyVaultStep(world.client, world.context({Kind::NetAppAccount, "acct"}), patching, world.waits);
  ASSERT_FALSE(step.has_value());
  EXPECT_EQ(step.error().reason, "AccountOperationInProgress");
  EXPECT_EQ(step.error().errorClass, controller::ErrorClass::WaitsForAzure);
  EXPECT_TRUE(world.client.callsTo("POST", "/changeKeyVault").empty());
}

// Azure refuses changeKeyVault while an operation runs on the account (perhaps this change, sent before the state
// file was lost): the operator waits for Azure and does not send it again however often it is woken meanwhile.
TEST(ChangeKeyVault, RefusedAsInProgressWaitsForAzureAndIsNotResentDuringTheWait) {
  ChangeWorld world;
  world.volumes({cmkVolume("a", kVnet)});
  world.client.postFn = [](const std::string&, const azure::ResourceId&, std::string_view action, const Json&,
                           const azure::RequestOptions&) -> azure::Expected<azure::ArmResult> {
    if (action == "getKeyVaultStatus") return testing::armOk({{"properties", {{"keyVaultPrivateEndpoints", Json::array()}}}});
    return std::unexpected(testing::azureError(409, "AnotherOperationInProgress", "Another operation is in progress."));
  };
  const auto context = world.context({Kind::NetAppAccount, "acct"});
  for (int wake = 0; wake < 3; ++wake) {
    auto outcome = changeKeyVault(world.client, context, world.waits);
    ASSERT_FALSE(outcome.has_value());
    EXPECT_EQ(outcome.error().reason, "AnotherOperationInProgress");
    EXPECT_EQ(outcome.error().errorClass, controller::ErrorClass::WaitsForAzure);
    ASSERT_TRUE(outcome.error().retryAfter.has_value());
    EXPECT_GE(*outcome.error().retryAfter, std::chrono::seconds(5)) << "wake " << wake;
  }
  EXPECT_EQ(world.client.callsTo("POST", "/changeKeyVault").size(), 1u) << "resent while Azure's operation runs";
}

}  // namespace
}  // namespace anf::reconcilers
