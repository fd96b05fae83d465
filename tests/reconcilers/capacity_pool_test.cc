// CapacityPool against the strict fake: one LIST of the account's pools per pass, created when absent,
// nothing written when up to date, size PATCHed in place, a service level change refused.
#include <gtest/gtest.h>

#include "reconcilers/registry.h"
#include "tests/reconcilers/reconciler_test.h"

namespace anf::reconcilers::testing {
namespace {

using controller::ErrorClass;
using controller::Kind;

constexpr std::int64_t kTiB = 1099511627776LL;

class CapacityPoolTest : public ReconcilerTest {
 protected:
  CapacityPoolTest() : ReconcilerTest(Kind::CapacityPool, "pool1", makeCapacityPoolReconciler) {
    world.add(document(Kind::NetAppAccount, "acct", Json::object()));
    world.add(document(Kind::CapacityPool, "pool1", {{"accountRef", "acct"}, {"serviceLevel", "Premium"}, {"sizeTiB", 4}}));
  }
  void poolInAzure(const std::string& level, std::int64_t tib) {
    store.putArm(kPoolId, {{"location", "eastus"},
                           {"properties", {{"serviceLevel", level}, {"size", tib * kTiB}, {"qosType", "Auto"}, {"poolId", "pid"}}}});
  }
};

TEST_F(CapacityPoolTest, CreatesThePoolWhenAbsent) {
  auto outcome = pass();  // absent: created
  ASSERT_TRUE(outcome) << outcome.error().message;
  const FakeCall write = onlyWrite();
  EXPECT_EQ(write.method, "PUT");
  EXPECT_EQ(write.body.at("/properties/serviceLevel"_json_pointer), "Premium");
  EXPECT_EQ(write.body.at("/properties/size"_json_pointer), 4 * kTiB);
}

TEST_F(CapacityPoolTest, UpToDateWritesNothing) {
  poolInAzure("Premium", 4);
  auto observed = reconciler->observe(context());
  ASSERT_TRUE(observed) << observed.error().message;
  EXPECT_TRUE(observed->exists);
  EXPECT_TRUE(observed->upToDate) << (observed->diff.empty() ? "" : observed->diff[0].path);
  EXPECT_EQ(observed->facts.value("poolId", ""), "pid");
  EXPECT_TRUE(client.writes().empty());
}

TEST_F(CapacityPoolTest, ASizeChangeIsPatchedInPlace) {
  poolInAzure("Premium", 4);
  spec()["sizeTiB"] = 8;
  auto observed = reconciler->observe(context());
  ASSERT_TRUE(observed) << observed.error().message;
  ASSERT_FALSE(observed->upToDate);
  auto outcome = reconciler->update(context(), *observed);
  ASSERT_TRUE(outcome) << outcome.error().message;
  const FakeCall write = onlyWrite();
  EXPECT_EQ(write.method, "PATCH");
  EXPECT_EQ(write.body.at("/properties/size"_json_pointer), 8 * kTiB);
}

TEST_F(CapacityPoolTest, AServiceLevelChangeIsRefusedBeforeSending) {
  poolInAzure("Standard", 4);
  auto observed = reconciler->observe(context());
  ASSERT_TRUE(observed) << observed.error().message;
  auto outcome = reconciler->update(context(), *observed);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().reason, "PoolServiceLevelImmutable");
  EXPECT_EQ(outcome.error().errorClass, ErrorClass::NeedsDocumentChange);
  EXPECT_TRUE(client.writes().empty());
}

TEST_F(CapacityPoolTest, AnotherOperationOnTheAccountIsRetriedAfterADelay) {
  client.putFn = [](const std::string&, const ResourceId&, const Json&, const RequestOptions&) -> Expected<ArmResult> {
    return std::unexpected(azureError(409, "AnotherOperationInProgress", "Another operation is in progress", true));
  };
  auto outcome = reconciler->create(context(), {});
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().errorClass, ErrorClass::RetryAfter);
  EXPECT_TRUE(outcome.error().retryAfter.has_value());
}

TEST_F(CapacityPoolTest, AnAccountDeletedUnderThePoolWaitsForAzure) {
  client.putFn = [](const std::string&, const ResourceId&, const Json&, const RequestOptions&) -> Expected<ArmResult> {
    return std::unexpected(azureError(404, "ParentResourceNotFound", "Can not perform requested operation on nested resource."));
  };
  auto outcome = reconciler->create(context(), {});
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().errorClass, ErrorClass::WaitsForAzure);
  EXPECT_FALSE(outcome.error().parked());
}

}  // namespace
}  // namespace anf::reconcilers::testing
