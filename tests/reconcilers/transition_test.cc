#include "reconcilers/transition.h"

#include <gtest/gtest.h>

#include "reconcilers/key_source_reversal.h"
#include "tests/reconcilers/fake_azure_client.h"
#include "tests/reconcilers/reconcile_world.h"

namespace anf::reconcilers {
namespace {

using controller::Kind;
using testing::kAccountId;
using testing::kPoolId;
using testing::kVnet;
using testing::kVnet2;

const std::string kDelegated = kVnet + "/subnets/anf-delegated";
const std::string kDelegated2 = kVnet2 + "/subnets/anf-delegated";
const std::string kEndpointId = testing::kRg + "/providers/Microsoft.Network/privateEndpoints/pe1";
constexpr std::int64_t kNow = 1795424400;

Json armVolume(const std::string& name, const std::string& subnet, const std::string& keySource) {
  return {{"id", kPoolId + "/volumes/" + name},
          {"name", "acct/pool1/" + name},
          {"properties",
           {{"subnetId", subnet}, {"encryptionKeySource", keySource}, {"fileSystemId", "fs-" + name}}}};
}

const Json kCmkAccount = {{"properties",
                           {{"provisioningState", "Succeeded"},
                            {"encryption", {{"keySource", "Microsoft.KeyVault"}, {"keyVaultProperties", {{"status", "InUse"}}}}}}}};

struct TransitionWorld : testing::World {
  testing::FakeAzureClient client;
  testing::FakeAzureStore store;
  ActionWaits waits;

  TransitionWorld() {
    add(testing::document(Kind::NetAppAccount, "acct",
                          {{"encryption", {{"keySource", "Microsoft.KeyVault"}}},
                           {"transitionToCMK", {{{"virtualNetworkId", kVnet}, {"privateEndpointRef", "pe1"}}}}}));
    add(testing::document(Kind::CapacityPool, "pool1", {{"accountRef", "acct"}}));
    add(testing::document(Kind::PrivateEndpoint, "pe1", {{"subnetId", kVnet + "/subnets/endpoints"}}));
    statuses[{Kind::PrivateEndpoint, "pe1"}].facts = {{"resourceId", kEndpointId}};
    store.putArm(kPoolId, Json::object());
    endpoint(kVnet + "/subnets/endpoints", "Approved");
    store.serve(client);
    client.postFn = [](const std::string& credential, const azure::ResourceId& id, std::string_view action, const Json&,
                       const azure::RequestOptions&) -> azure::Expected<azure::ArmResult> {
      EXPECT_EQ(action, "transitiontocmk");
      auto result = testing::armOk(nullptr, 202);
      result.operation = azure::OperationState{.url = "https://op/1", .resourceId = id.str(), .method = "POST",
                                               .credential = credential, .action = std::string(action)};
      return result;
    };
  }
  void volumes(const std::vector<Json>& items) {
    for (const auto& item : items) store.putArm(item["id"].get<std::string>(), item);
  }
  void volumeDoc(const std::string& name, const std::string& keySource, const std::string& subnet = kDelegated) {
    add(testing::document(Kind::Volume, name,
                          {{"poolRef", "pool1"}, {"subnetId", subnet}, {"encryptionKeySource", keySource}}));
  }
  void endpoint(const std::string& subnet, const std::string& state) {
    store.putArm(kEndpointId, {{"properties",
                                {{"subnet", {{"id", subnet}}},
                                 {"privateLinkServiceConnections",
                                  {{{"properties", {{"privateLinkServiceConnectionState", {{"status", state}}}}}}}}}}});
  }
  Result<TransitionStep> run(const Json& account = kCmkAccount) {
    auto context = this->context({Kind::NetAppAccount, "acct"});
    auto seen = observeTransition(client, context, kNow);
    if (!seen) return std::unexpected(seen.error());
    return transitionStep(client, context, account, *seen, kNow, waits);
  }
};

TEST(UndeclaredVolumeGuard, ListsEveryPmkVolumeOfTheVnetWithoutACmkDocument) {
  std::vector<ObservedVolume> observed = {
      ObservedVolume::fromArm(armVolume("declared", kDelegated, "Microsoft.NetApp")),
      ObservedVolume::fromArm(armVolume("orphan-a", kDelegated, "Microsoft.NetApp")),
      ObservedVolume::fromArm(armVolume("orphan-b", kDelegated, "Microsoft.NetApp")),
      ObservedVolume::fromArm(armVolume("already-cmk", kDelegated, "Microsoft.KeyVault")),
      ObservedVolume::fromArm(armVolume("other-vnet", kDelegated2, "Microsoft.NetApp")),
  };
  std::vector<DeclaredVolume> declared = {
      {.document = "Volume/declared", .expectedId = kPoolId + "/volumes/declared",
       .encryptionKeySource = "Microsoft.KeyVault", .virtualNetworkId = kVnet}};
  auto error = checkUndeclaredVolumes(kVnet, observed, declared);
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(error->parked());
  EXPECT_EQ(error->reason, "UndeclaredVolumesInTransition");
  EXPECT_NE(error->message.find(kPoolId + "/volumes/orphan-a"), std::string::npos);
  EXPECT_NE(error->message.find(kPoolId + "/volumes/orphan-b"), std::string::npos);
  EXPECT_NE(error->message.find("2 volume(s)"), std::string::npos);
  EXPECT_EQ(error->message.find("volumes/declared"), std::string::npos);
  EXPECT_EQ(error->message.find("already-cmk"), std::string::npos);
  EXPECT_EQ(error->message.find("other-vnet"), std::string::npos);

  declared.push_back({.document = "Volume/orphan-a", .expectedId = kPoolId + "/volumes/ORPHAN-A",
                      .encryptionKeySource = "Microsoft.KeyVault", .virtualNetworkId = kVnet});
  declared.push_back({.document = "Volume/orphan-b", .expectedId = kPoolId + "/volumes/orphan-b",
                      .encryptionKeySource = "Microsoft.KeyVault", .virtualNetworkId = kVnet});
  EXPECT_FALSE(checkUndeclaredVolumes(kVnet, observed, declared).has_value());
}

TEST(Irreversibility, AVolumeDocumentAskingForPmkInATransitionedVnetIsRefused) {
  std::vector<DeclaredVolume> declared = {
      {.document = "Volume/stay-pmk", .encryptionKeySource = "Microsoft.NetApp", .virtualNetworkId = kVnet},
      {.document = "Volume/fine", .encryptionKeySource = "Microsoft.KeyVault", .virtualNetworkId = kVnet},
      {.document = "Volume/elsewhere", .encryptionKeySource = "Microsoft.NetApp", .virtualNetworkId = kVnet2}};
  auto error = checkNoReversal(kVnet, declared);
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(error->parked());
  EXPECT_EQ(error->reason, "TransitionIrreversible");
  EXPECT_NE(error->message.find("Volume/stay-pmk"), std::string::npos);
  EXPECT_EQ(error->message.find("Volume/fine"), std::string::npos);
  EXPECT_EQ(error->message.find("Volume/elsewhere"), std::string::npos);
}

TEST(Irreversibility, CmkVolumeCannotBeDeclaredBackToPmk) {
  auto error = refuseKeySourceReversal("Volume/v1", "Microsoft.NetApp", "Microsoft.KeyVault");
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(error->parked());
  EXPECT_NE(error->message.find("irreversible"), std::string::npos);
  EXPECT_FALSE(refuseKeySourceReversal("Volume/v1", "Microsoft.KeyVault", "Microsoft.KeyVault").has_value());
  EXPECT_FALSE(refuseKeySourceReversal("Volume/v1", "Microsoft.NetApp", "Microsoft.NetApp").has_value());
  EXPECT_FALSE(refuseKeySourceReversal("Volume/v1", "Microsoft.KeyVault", "Microsoft.NetApp").has_value());
}

TEST(TransitionFlow, SendsOnePostForTheVnetWithItsEndpointAndHandsTheOperationToTheEngine) {
  TransitionWorld world;
  world.volumeDoc("vol1", "Microsoft.KeyVault");
  world.volumes({armVolume("vol1", kDelegated, "Microsoft.NetApp"), armVolume("vol-other-vnet", kDelegated2, "Microsoft.NetApp")});
  auto step = world.run();
  ASSERT_TRUE(step.has_value()) << step.error().message;
  EXPECT_TRUE(step->sent);
  ASSERT_TRUE(step->outcome.operation.has_value());
  EXPECT_EQ((*step->outcome.operation)["action"], "transitiontocmk");
  auto posts = world.client.callsTo("POST", "/transitiontocmk");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, kAccountId + "/transitiontocmk");
  EXPECT_EQ(posts[0].credential, "provider");
  EXPECT_EQ(posts[0].body, (Json{{"virtualNetworkId", kVnet}, {"privateEndpointId", kEndpointId}}));
  EXPECT_EQ(step->outcome.facts["transitions"][0]["state"], "InProgress");
  EXPECT_EQ(step->outcome.facts["transitions"][0]["virtualNetworkId"], kVnet);
}

TEST(TransitionFlow, UndeclaredVolumeStopsEverythingBeforeSending) {
  TransitionWorld world;
  world.volumeDoc("vol1", "Microsoft.KeyVault");
  world.volumes({armVolume("vol1", kDelegated, "Microsoft.NetApp"), armVolume("legacy", kDelegated, "Microsoft.NetApp")});
  auto step = world.run();
  ASSERT_FALSE(step.has_value());
  EXPECT_EQ(step.error().reason, "UndeclaredVolumesInTransition");
  EXPECT_NE(step.error().message.find("volumes/legacy"), std::string::npos);
  EXPECT_TRUE(world.client.writes().empty());
}

TEST(TransitionFlow, ObservedDoneVnetIsRecordedAndNeverPostedAgain) {
  TransitionWorld world;
  world.volumeDoc("vol1", "Microsoft.KeyVault");
  world.volumes({armVolume("vol1", kDelegated, "Microsoft.KeyVault")});
  auto step = world.run();
  ASSERT_TRUE(step.has_value()) << step.error().message;
  EXPECT_FALSE(step->sent);
  EXPECT_TRUE(world.client.writes().empty());
  EXPECT_EQ(step->outcome.facts["transitions"][0],
            (Json{{"virtualNetworkId", kVnet}, {"state", "Succeeded"}, {"completedAt", kNow}}));
}

TEST(TransitionFlow, RecordedSucceededVnetIsSkippedAfterARestart) {
  TransitionWorld world;
  world.volumeDoc("vol1", "Microsoft.KeyVault");
  world.volumeDoc("vol-new", "Microsoft.KeyVault");
  // A volume created PMK after the transition: the completed VNet is still not posted again.
  world.volumes({armVolume("vol1", kDelegated, "Microsoft.KeyVault"), armVolume("vol-new", kDelegated, "Microsoft.NetApp")});
  world.self.facts = {{"transitions",
                       {{{"virtualNetworkId", kVnet}, {"state", "Succeeded"}, {"completedAt", kNow - 86400}}}}};
  auto step = world.run();
  ASSERT_TRUE(step.has_value()) << step.error().message;
  EXPECT_FALSE(step->sent);
  EXPECT_TRUE(world.client.callsTo("POST", "/transitiontocmk").empty());
}

TEST(TransitionFlow, EndpointInAnotherVnetIsRefused) {
  TransitionWorld world;
  world.volumeDoc("vol1", "Microsoft.KeyVault");
  world.volumes({armVolume("vol1", kDelegated, "Microsoft.NetApp")});
  world.endpoint(kVnet2 + "/subnets/endpoints", "Approved");
  auto step = world.run();
  ASSERT_FALSE(step.has_value());
  EXPECT_EQ(step.error().reason, "PrivateEndpointInWrongVnet");
  EXPECT_TRUE(step.error().parked());
  EXPECT_TRUE(world.client.writes().empty());
}

TEST(TransitionFlow, PendingEndpointWaitsWithoutSending) {
  TransitionWorld world;
  world.volumeDoc("vol1", "Microsoft.KeyVault");
  world.volumes({armVolume("vol1", kDelegated, "Microsoft.NetApp")});
  world.endpoint(kVnet + "/subnets/endpoints", "Pending");
  auto step = world.run();
  ASSERT_FALSE(step.has_value());
  EXPECT_EQ(step.error().reason, "PrivateEndpointNotApproved");
  EXPECT_FALSE(step.error().parked());
  EXPECT_TRUE(world.client.writes().empty());
}

// After a lost state file nothing records the POST: Azure's 409 AnotherOperationInProgress says an operation runs
// on the account (perhaps this transition). The operator waits for Azure (Retry-After when given) and observes
// again; it does not resend while the wait lasts, however often it is woken, and once the volumes are CMK it
// records the VNet done without any POST.
TEST(TransitionFlow, RefusedAsInProgressWaitsForAzureThenObservesTheTransitionDone) {
  TransitionWorld world;
  world.volumeDoc("vol1", "Microsoft.KeyVault");
  world.volumes({armVolume("vol1", kDelegated, "Microsoft.NetApp")});
  world.client.postFn = [](const std::string&, const azure::ResourceId&, std::string_view, const Json&,
                           const azure::RequestOptions&) -> azure::Expected<azure::ArmResult> {
    auto refusal = testing::azureError(409, "AnotherOperationInProgress", "Another operation is in progress on the account.");
    refusal.retryAfter = std::chrono::seconds(30);
    return std::unexpected(refusal);
  };
  for (int wake = 0; wake < 3; ++wake) {
    auto step = world.run();
    ASSERT_FALSE(step.has_value());
    EXPECT_EQ(step.error().reason, "AnotherOperationInProgress");
    EXPECT_EQ(step.error().errorClass, controller::ErrorClass::WaitsForAzure);
    EXPECT_FALSE(step.error().parked());
    ASSERT_TRUE(step.error().retryAfter.has_value());
    EXPECT_GT(*step.error().retryAfter, std::chrono::seconds(20)) << "Azure's Retry-After, wake " << wake;
  }
  EXPECT_EQ(world.client.callsTo("POST", "/transitiontocmk").size(), 1u) << "resent while Azure's operation runs";

  world.volumes({armVolume("vol1", kDelegated, "Microsoft.KeyVault")});  // the operation ended
  world.cache.clear();
  auto step = world.run();
  ASSERT_TRUE(step.has_value()) << step.error().message;
  EXPECT_FALSE(step->sent);
  EXPECT_EQ(step->outcome.facts["transitions"][0]["state"], "Succeeded");
  EXPECT_EQ(world.client.callsTo("POST", "/transitiontocmk").size(), 1u);
}

TEST(TransitionFlow, AccountShowingAnOperationWaitsWithoutSending) {
  TransitionWorld world;
  world.volumeDoc("vol1", "Microsoft.KeyVault");
  world.volumes({armVolume("vol1", kDelegated, "Microsoft.NetApp")});
  Json updating = kCmkAccount;
  updating["properties"]["provisioningState"] = "Updating";
  auto step = world.run(updating);
  ASSERT_FALSE(step.has_value());
  EXPECT_EQ(step.error().reason, "AccountOperationInProgress");
  EXPECT_FALSE(step.error().parked());
  EXPECT_TRUE(world.client.writes().empty());
}

TEST(TransitionFlow, AccountNotYetCmkWaits) {
  EXPECT_FALSE(checkAccountCmkReady(kCmkAccount).has_value());
  auto error = checkAccountCmkReady({{"properties", {{"provisioningState", "Succeeded"}}}});
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->reason, "AccountCmkNotReady");
  EXPECT_FALSE(error->parked());
}

TEST(TransitionFlow, ObservePlansTheVolumesAPendingVnetConverts) {
  TransitionWorld world;
  world.volumeDoc("vol1", "Microsoft.KeyVault");
  world.volumes({armVolume("vol1", kDelegated, "Microsoft.NetApp")});
  auto context = world.context({Kind::NetAppAccount, "acct"});
  auto seen = observeTransition(world.client, context, kNow);
  ASSERT_TRUE(seen.has_value());
  EXPECT_FALSE(seen->upToDate);
  ASSERT_EQ(seen->planNotes.size(), 1u);
  EXPECT_NE(seen->planNotes[0].find("volumes/vol1"), std::string::npos);
  EXPECT_NE(seen->planNotes[0].find("irreversible"), std::string::npos);
  EXPECT_TRUE(world.client.writes().empty());
}

}  // namespace
}  // namespace anf::reconcilers
