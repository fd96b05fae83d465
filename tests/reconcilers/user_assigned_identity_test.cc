// UserAssignedIdentity against the strict fake: created when absent, nothing written when it exists,
// its principal reported as facts, Azure's errors classified.
#include <gtest/gtest.h>

#include "reconcilers/registry.h"
#include "tests/reconcilers/reconciler_test.h"

namespace anf::reconcilers::testing {
namespace {

using controller::ErrorClass;
using controller::Kind;

const std::string kIdentityId = kRg + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ids";

class UserAssignedIdentityTest : public ReconcilerTest {
 protected:
  UserAssignedIdentityTest() : ReconcilerTest(Kind::UserAssignedIdentity, "ids", makeUserAssignedIdentityReconciler) {
    world.add(document(Kind::UserAssignedIdentity, "ids", Json::object()));
  }
};

TEST_F(UserAssignedIdentityTest, CreatesTheIdentityWhenAbsent) {
  client.putFn = [&](const std::string&, const ResourceId& id, const Json& body, const RequestOptions&) -> Expected<ArmResult> {
    Json created = body;
    created["id"] = id.str();
    created["properties"] = {{"principalId", "p-1"}, {"clientId", "c-1"}, {"tenantId", kProviderTenantId}};
    return armOk(created, 201);
  };
  auto outcome = pass();  // absent: created
  ASSERT_TRUE(outcome) << outcome.error().message;
  const FakeCall write = onlyWrite();
  EXPECT_EQ(write.method, "PUT");
  EXPECT_TRUE(azure::equalsIgnoreCase(write.target, kIdentityId));
  EXPECT_EQ(write.body.value("location", ""), "eastus");
  EXPECT_EQ(outcome->facts.value("principalId", ""), "p-1");
  EXPECT_EQ(outcome->facts.value("clientId", ""), "c-1");
}

TEST_F(UserAssignedIdentityTest, AnExistingIdentityIsUpToDateAndNothingIsWritten) {
  store.putArm(kIdentityId, {{"location", "eastus"}, {"properties", {{"principalId", "p-1"}, {"clientId", "c-1"}}}});
  auto observed = reconciler->observe(context());
  ASSERT_TRUE(observed) << observed.error().message;
  EXPECT_TRUE(observed->exists);
  EXPECT_TRUE(observed->upToDate);
  EXPECT_EQ(observed->facts.value("principalId", ""), "p-1");
  EXPECT_TRUE(client.writes().empty());
  EXPECT_EQ(client.callsTo("LIST").size(), 1u) << "observed through the resource group's LIST, shared by the pass";
}

TEST_F(UserAssignedIdentityTest, AThrottledReadIsRetriedNotParked) {
  client.listFn = [](const std::string&, const ResourceId&, std::string_view, const RequestOptions&) -> Expected<std::vector<Json>> {
    return std::unexpected(azureError(429, "TooManyRequests", "slow down", true));
  };
  auto observed = reconciler->observe(context());
  ASSERT_FALSE(observed);
  EXPECT_EQ(observed.error().errorClass, ErrorClass::RetryNow);
  EXPECT_EQ(observed.error().azure->code, "TooManyRequests");
}

TEST_F(UserAssignedIdentityTest, RemoveOfAnIdentityAlreadyGoneSucceeds) {
  auto outcome = reconciler->remove(context(), {});
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(client.callsTo("DELETE").size(), 1u);
}

}  // namespace
}  // namespace anf::reconcilers::testing
