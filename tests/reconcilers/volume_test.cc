// Volume against the strict fake: created when absent, nothing written when up to date, resized in place,
// never replaced (a change of any other field is refused, nothing sent), a failed creation created again.
#include <gtest/gtest.h>

#include "reconcilers/arm_bodies.h"
#include "reconcilers/registry.h"
#include "tests/reconcilers/reconciler_test.h"

namespace anf::reconcilers::testing {
namespace {

using controller::ErrorClass;
using controller::Kind;

constexpr std::int64_t kGiB = 1024LL * 1024 * 1024;
const std::string kVolumeId = kPoolId + "/volumes/vol1";
const std::string kDelegated = kVnet + "/subnets/anf-delegated";
const std::string kEndpointId = kRg + "/providers/Microsoft.Network/privateEndpoints/pe1";

class VolumeTest : public ReconcilerTest {
 protected:
  VolumeTest() : ReconcilerTest(Kind::Volume, "vol1", makeVolumeReconciler) {
    world.add(document(Kind::NetAppAccount, "acct", Json::object()));
    world.add(document(Kind::CapacityPool, "pool1", {{"accountRef", "acct"}}));
    world.add(document(Kind::Volume, "vol1",
                       {{"poolRef", "pool1"}, {"creationToken", "vol1"}, {"usageThresholdGiB", 100}, {"subnetId", kDelegated},
                        {"networkFeatures", "Standard"}, {"encryptionKeySource", "Microsoft.NetApp"}}));
  }
  /// The volume as Azure holds it after a PUT of the declared body.
  Json& volumeInAzure(std::string provisioningState = "Succeeded") {
    Json body = volumeBody({.location = "eastus", .creationToken = "vol1", .usageThresholdGiB = 100, .subnetId = kDelegated});
    body["properties"]["provisioningState"] = provisioningState;
    body["properties"]["fileSystemId"] = "fs-1";
    return store.putArm(kVolumeId, body);
  }
};

TEST_F(VolumeTest, CreatesTheVolumeWhenAbsent) {
  auto outcome = pass();
  ASSERT_TRUE(outcome) << outcome.error().message;
  const FakeCall write = onlyWrite();
  EXPECT_EQ(write.method, "PUT");
  EXPECT_TRUE(azure::equalsIgnoreCase(write.target, kVolumeId));
  EXPECT_EQ(write.body.at("/properties/usageThreshold"_json_pointer), 100 * kGiB);
}

TEST_F(VolumeTest, UpToDateWritesNothing) {
  volumeInAzure();
  auto observed = reconciler->observe(context());
  ASSERT_TRUE(observed) << observed.error().message;
  EXPECT_TRUE(observed->exists);
  EXPECT_TRUE(observed->upToDate) << (observed->diff.empty() ? "" : observed->diff[0].path);
  EXPECT_EQ(observed->facts.value("fileSystemId", ""), "fs-1");
  EXPECT_TRUE(client.writes().empty());
}

TEST_F(VolumeTest, ASizeChangeIsPatchedInPlace) {
  volumeInAzure();
  spec()["usageThresholdGiB"] = 200;
  auto outcome = pass();
  ASSERT_TRUE(outcome) << outcome.error().message;
  const FakeCall write = onlyWrite();
  EXPECT_EQ(write.method, "PATCH");
  EXPECT_EQ(write.body, (Json{{"properties", {{"usageThreshold", 200 * kGiB}}}}));
}

TEST_F(VolumeTest, IsNeverReplacedOrDeletedWhenAnImmutableFieldChanges) {
  volumeInAzure();
  spec()["creationToken"] = "renamed";
  auto observed = reconciler->observe(context());
  ASSERT_TRUE(observed) << observed.error().message;
  ASSERT_FALSE(observed->upToDate);
  ASSERT_FALSE(observed->conditions.empty()) << "the refusal is the Ready reason before anything is tried";
  EXPECT_EQ(observed->conditions[0].reason, "VolumeFieldImmutable");
  auto outcome = reconciler->update(context(), *observed);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().reason, "VolumeFieldImmutable");
  EXPECT_TRUE(outcome.error().parked());
  EXPECT_TRUE(client.writes().empty()) << client.writes()[0].method;
}

TEST_F(VolumeTest, AKeySourceChangeIsTheDocumentedRefusal) {
  volumeInAzure();
  spec()["encryptionKeySource"] = "Microsoft.KeyVault";
  spec()["keyVaultPrivateEndpointId"] = kEndpointId;
  auto outcome = pass();
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().reason, "EncryptionKeySourceCannotBeChanged");
  EXPECT_EQ(outcome.error().errorClass, ErrorClass::NeedsDocumentChange);
  EXPECT_TRUE(client.writes().empty());
}

TEST_F(VolumeTest, AFailedCreationIsCreatedAgainNotDeleted) {
  volumeInAzure("Failed");
  auto outcome = pass();
  ASSERT_TRUE(outcome) << outcome.error().message;
  const FakeCall write = onlyWrite();
  EXPECT_EQ(write.method, "PUT");
}

TEST_F(VolumeTest, ACmkVolumeWaitsForAPendingEndpointConnection) {
  spec()["encryptionKeySource"] = "Microsoft.KeyVault";
  spec()["keyVaultPrivateEndpointRef"] = "pe1";
  world.add(document(Kind::PrivateEndpoint, "pe1", {{"subnetId", kVnet + "/subnets/endpoints"}}));
  world.statuses[{Kind::PrivateEndpoint, "pe1"}].facts = {
      {"resourceId", kEndpointId}, {"subnetId", kVnet + "/subnets/endpoints"}, {"connectionState", "Pending"}};
  auto outcome = pass();
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().reason, "KeyVaultUnreachable");
  EXPECT_EQ(outcome.error().errorClass, ErrorClass::WaitsForAzure) << "someone approves the connection in Azure";
  EXPECT_TRUE(client.writes().empty());
}

}  // namespace
}  // namespace anf::reconcilers::testing
