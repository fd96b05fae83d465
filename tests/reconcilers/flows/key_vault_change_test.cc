#include "reconcilers/flows/key_vault_change.h"

#include <gtest/gtest.h>

#include "tests/reconcilers/flows/fake_azure.h"

namespace anf::reconcilers::flows {
namespace {

using controller::Kind;
using testing::FakeAzure;
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

struct ChangeWorld : testing::World {
  FakeAzure azure;
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
    azure.onJson("POST", kAccountId + "/getKeyVaultStatus",
                 {{"properties", {{"keyVaultUri", "https://anfkv-provider.vault.azure.net/"}, {"keyVaultPrivateEndpoints", Json::array()}}}});
    azure.onJson("GET", kAccountId + "/capacityPools", {{"value", {{{"id", kPoolId}}}}});
    azure.on("POST", kAccountId + "/changeKeyVault", [](const testing::Call&) -> Result<Reply> {
      return Reply{.status = 202, .operation = Json{{"url", "https://op/2"}}};
    });
  }
};

TEST(KeyVaultChangeFlow, ChecksAndGrantsTheNewVaultThenSendsChangeKeyVault) {
  ChangeWorld world;
  world.azure.onJson("GET", kPoolId + "/volumes", {{"value", {cmkVolume("a", kVnet)}}});
  std::vector<std::string> order;
  KeyVaultChangeFlow flow(world.azure, [&](const controller::ReconcileContext&, const KeyVaultTarget& target)
                                           -> Result<std::optional<controller::Outcome>> {
    order.push_back("prepare " + target.resourceId);
    EXPECT_TRUE(world.azure.callsTo("POST", "/changeKeyVault").empty());
    return std::optional<controller::Outcome>{};
  });
  auto outcome = flow.next(world.context({Kind::NetAppAccount, "acct"}), account(kOldVault, "x"));
  ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
  ASSERT_TRUE(outcome->operation.has_value());
  EXPECT_EQ(order, (std::vector<std::string>{"prepare " + kNewVault}));
  auto posts = world.azure.callsTo("POST", "/changeKeyVault");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].body["keyVaultPrivateEndpoints"],
            (Json{{{"virtualNetworkId", kVnet}, {"privateEndpointId", kPe1}}}));
  EXPECT_EQ(world.azure.callsTo("POST", "/getKeyVaultStatus").size(), 1u);
}

TEST(KeyVaultChangeFlow, MissingEndpointSendsNothingAndSkipsTheGrant) {
  ChangeWorld world;
  world.azure.onJson("GET", kPoolId + "/volumes", {{"value", {cmkVolume("a", kVnet), cmkVolume("b", kVnet2)}}});
  bool prepared = false;
  KeyVaultChangeFlow flow(world.azure, [&](const controller::ReconcileContext&, const KeyVaultTarget&)
                                           -> Result<std::optional<controller::Outcome>> {
    prepared = true;
    return std::optional<controller::Outcome>{};
  });
  auto outcome = flow.next(world.context({Kind::NetAppAccount, "acct"}), account(kOldVault, "x"));
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error().reason, "MissingKeyVaultPrivateEndpoints");
  EXPECT_NE(outcome.error().message.find(kVnet2), std::string::npos);
  EXPECT_FALSE(prepared);
  EXPECT_TRUE(world.azure.callsTo("POST", "/changeKeyVault").empty());
}

TEST(KeyVaultChangeFlow, AGrantStillPropagatingComesBackBeforeSending) {
  ChangeWorld world;
  world.azure.onJson("GET", kPoolId + "/volumes", {{"value", {cmkVolume("a", kVnet)}}});
  KeyVaultChangeFlow flow(world.azure, [&](const controller::ReconcileContext&, const KeyVaultTarget&)
                                           -> Result<std::optional<controller::Outcome>> {
    return std::optional<controller::Outcome>{controller::Outcome{.requeueAfter = std::chrono::seconds(10)}};
  });
  auto outcome = flow.next(world.context({Kind::NetAppAccount, "acct"}), account(kOldVault, "x"));
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->requeueAfter, std::chrono::milliseconds(10000));
  EXPECT_TRUE(world.azure.callsTo("POST", "/changeKeyVault").empty());
}

}  // namespace
}  // namespace anf::reconcilers::flows
