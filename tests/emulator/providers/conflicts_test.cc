// Conflicts as ARM and ANF answer them: a write to a pool or volume whose operation runs (RequestConflict), a
// volume in a pool that is not Succeeded (PreconditionFailed), and, when asked for, ANF's refusal of concurrent
// volume creations in one account.
#include <gtest/gtest.h>

#include "emulator/providers/netapp_limits.h"
#include "tests/emulator/providers/fake_azure.h"

namespace anf::emulator::testing {
namespace {

constexpr std::int64_t kGiB = netapplimits::kGiB;
constexpr std::int64_t kTiB = netapplimits::kTiB;

std::string pool(const std::string& name = "pool1") { return account() + "/capacityPools/" + name; }

Json poolBody() { return {{"location", "eastus"}, {"properties", {{"size", 4 * kTiB}, {"serviceLevel", "Premium"}}}}; }

Json volumeBody(const std::string& name) {
  return {{"location", "eastus"},
          {"properties", {{"creationToken", name}, {"usageThreshold", 100 * kGiB}, {"subnetId", subnet("anf-delegated")}}}};
}

std::string requestConflict(const std::string& id) {
  return "Cannot modify resource with id '" + id + "' because the resource entity provisioning state is not terminal. Please wait for "
         "the provisioning state to become terminal and then retry the request.";
}

TEST(Conflicts, AWriteToAVolumeWhoseCreationRunsIsARequestConflict) {
  FakeAzure azure;
  azure.createAccount("acct");
  azure.ok("PUT", pool(), poolBody());
  std::string volume = pool() + "/volumes/v1";
  ASSERT_EQ(azure.call("PUT", volume, volumeBody("v1")).status, 201);
  Response patched = azure.call("PATCH", volume, {{"properties", {{"usageThreshold", 200 * kGiB}}}});
  EXPECT_EQ(patched.status, 409);
  EXPECT_EQ(patched.body["error"]["code"], "RequestConflict");
  EXPECT_EQ(patched.body["error"]["message"], requestConflict(volume));
  EXPECT_EQ(azure.call("DELETE", volume).body["error"]["code"], "RequestConflict");
  EXPECT_EQ(azure.call("PATCH", pool(), {{"tags", {{"a", "b"}}}}).body["error"]["code"], "AnotherOperationInProgress")
      << "the pool itself is Succeeded; an operation runs below it";
  azure.settle();
  EXPECT_EQ(azure.call("PATCH", volume, {{"properties", {{"usageThreshold", 200 * kGiB}}}}).status, 202);
}

TEST(Conflicts, AWriteToAPoolWhoseCreationRunsIsARequestConflict) {
  FakeAzure azure;
  azure.createAccount("acct");
  ASSERT_EQ(azure.call("PUT", pool(), poolBody()).status, 201);
  Response again = azure.call("PUT", pool(), poolBody());
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.body["error"]["message"], requestConflict(pool()));
}

TEST(Conflicts, AVolumeInAPoolThatIsNotSucceededIsAPreconditionFailure) {
  FakeAzure azure;
  azure.createAccount("acct");
  ASSERT_EQ(azure.call("PUT", pool(), poolBody()).status, 201);
  Response volume = azure.call("PUT", pool() + "/volumes/v1", volumeBody("v1"));
  EXPECT_EQ(volume.status, 400);
  EXPECT_EQ(volume.body["error"]["code"], "PreconditionFailed");
  EXPECT_EQ(volume.body["error"]["message"], "Volume Cannot be created in a pool that is not in state succeded.");
  azure.settle();
  EXPECT_EQ(azure.call("PUT", pool() + "/volumes/v1", volumeBody("v1")).status, 201);
}

TEST(Conflicts, ConcurrentVolumeCreationsInOneAccountAreAllowedByDefault) {
  FakeAzure azure;
  azure.createAccount("acct");
  azure.ok("PUT", pool(), poolBody());
  ASSERT_EQ(azure.call("PUT", pool() + "/volumes/v1", volumeBody("v1")).status, 201);
  ASSERT_EQ(azure.call("PUT", pool() + "/volumes/v2", volumeBody("v2")).status, 201);
  EXPECT_TRUE(azure.settle().empty());
}

TEST(Conflicts, WithSerialVolumeCreationASecondConcurrentCreationFailsWithAnfsWords) {
  FakeAzure azure;
  azure.world().serialVolumeCreation = true;
  azure.createAccount("acct");
  azure.ok("PUT", pool(), poolBody());
  ASSERT_EQ(azure.call("PUT", pool() + "/volumes/v1", volumeBody("v1")).status, 201);
  ASSERT_EQ(azure.call("PUT", pool() + "/volumes/v2", volumeBody("v2")).status, 201) << "Azure accepts it and fails the operation";
  auto failed = azure.settle();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["code"], "Conflict");
  EXPECT_EQ(failed[0]["message"], "Unable to create volume 'v2'. Another volume creation is in progress. Please try again in a few minutes.");
  EXPECT_EQ(azure.show(pool() + "/volumes/v1")["properties"]["provisioningState"], "Succeeded");
  EXPECT_EQ(azure.show(pool() + "/volumes/v2")["properties"]["provisioningState"], "Failed");
  azure.ok("PUT", pool() + "/volumes/v2", volumeBody("v2"));
}

}  // namespace
}  // namespace anf::emulator::testing
