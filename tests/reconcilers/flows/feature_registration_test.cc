#include "reconcilers/flows/feature_registration.h"

#include <gtest/gtest.h>

#include "tests/reconcilers/flows/fake_azure.h"

namespace anf::reconcilers::flows {
namespace {

using namespace std::chrono_literals;
using testing::FakeAzure;

const FeatureRef kFeature{.tenant = "provider", .subscriptionId = testing::kProviderSub,
                          .name = std::string(kFeatureMigratePmkToCmk)};
const std::string kFeaturePath = "/subscriptions/" + testing::kProviderSub +
                                 "/providers/Microsoft.Features/providers/Microsoft.NetApp/features/ANFMigratePmkToCmk";

Json featureBody(const std::string& state) { return {{"properties", {{"state", state}}}}; }

struct StepCase {
  std::string state;
  FeatureStep step;
  std::string conditionStatus;
  std::string reason;
};

class FeatureStateMachine : public ::testing::TestWithParam<StepCase> {};

TEST_P(FeatureStateMachine, StateDecidesStepAndCondition) {
  const auto& c = GetParam();
  EXPECT_EQ(nextFeatureStep(c.state), c.step);
  auto condition = featureCondition(kFeature, c.state);
  EXPECT_EQ(condition.type, "FeatureRegistered");
  EXPECT_EQ(condition.status, c.conditionStatus);
  EXPECT_EQ(condition.reason, c.reason);
  EXPECT_NE(condition.message.find("Microsoft.NetApp/ANFMigratePmkToCmk"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    States, FeatureStateMachine,
    ::testing::Values(StepCase{"Registered", FeatureStep::Done, "True", "Registered"},
                      StepCase{"Registering", FeatureStep::Wait, "False", "Registering"},
                      StepCase{"Pending", FeatureStep::Wait, "False", "Registering"},
                      StepCase{"NotRegistered", FeatureStep::Register, "False", "NotRegistered"},
                      StepCase{"Unregistered", FeatureStep::Register, "False", "NotRegistered"},
                      StepCase{"NotSpecified", FeatureStep::Register, "False", "NotRegistered"}));

TEST(FeatureRequeueDelay, GrowsThenCaps) {
  EXPECT_EQ(featureRequeueDelay(0), 15s);
  EXPECT_EQ(featureRequeueDelay(1), 30s);
  EXPECT_EQ(featureRequeueDelay(2), 60s);
  EXPECT_EQ(featureRequeueDelay(4), 240s);
  EXPECT_EQ(featureRequeueDelay(5), 300s);
  EXPECT_EQ(featureRequeueDelay(50), 300s);
}

TEST(FeatureGate, RegistersAnUnregisteredFeatureOnceAndAsksToComeBack) {
  FakeAzure azure;
  azure.onJson("GET", kFeaturePath, featureBody("NotRegistered"));
  azure.onJson("POST", kFeaturePath + "/register", featureBody("Registering"));
  auto wait = FeatureGate(azure).ensure(kFeature, Json::object());
  ASSERT_TRUE(wait.has_value()) << wait.error().message;
  ASSERT_TRUE(wait->has_value());
  EXPECT_EQ((*wait)->requeueAfter, 15s);
  EXPECT_FALSE((*wait)->operation.has_value());
  EXPECT_EQ((*wait)->facts["features"]["Microsoft.NetApp/ANFMigratePmkToCmk"],
            (Json{{"state", "Registering"}, {"checks", 1}}));
  EXPECT_EQ(azure.callsTo("POST", "/register").size(), 1u);
}

TEST(FeatureGate, WhileRegisteringOnlyReadsAndWaitsLongerEachTime) {
  FakeAzure azure;
  azure.onJson("GET", kFeaturePath, featureBody("Registering"));
  Json facts = {{"features", {{"Microsoft.NetApp/ANFMigratePmkToCmk", {{"state", "Registering"}, {"checks", 3}}}}}};
  auto wait = FeatureGate(azure).ensure(kFeature, facts);
  ASSERT_TRUE(wait.has_value() && wait->has_value());
  EXPECT_EQ((*wait)->requeueAfter, 120s);
  EXPECT_EQ((*wait)->facts["features"]["Microsoft.NetApp/ANFMigratePmkToCmk"]["checks"], 4);
  EXPECT_TRUE(azure.writes().empty());
}

TEST(FeatureGate, RegisteredLetsTheFlowGoOn) {
  FakeAzure azure;
  azure.onJson("GET", kFeaturePath, featureBody("Registered"));
  auto wait = FeatureGate(azure).ensure(kFeature, Json::object());
  ASSERT_TRUE(wait.has_value());
  EXPECT_FALSE(wait->has_value());
  EXPECT_TRUE(azure.writes().empty());
}

TEST(FeatureGate, NoRecordOfTheFeatureMeansNotRegistered) {
  FakeAzure azure;  // GET answers 404
  auto state = FeatureGate(azure).observe(kFeature);
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(*state, "NotRegistered");
}

TEST(FeatureGate, AzureErrorsPassThrough) {
  FakeAzure azure;
  azure.on("GET", kFeaturePath, [](const testing::Call&) -> Result<Reply> {
    return std::unexpected(ReconcileError{.reason = "AuthorizationFailed", .message = "no", .errorClass = controller::ErrorClass::NeedsDocumentChange});
  });
  auto wait = FeatureGate(azure).ensure(kFeature, Json::object());
  ASSERT_FALSE(wait.has_value());
  EXPECT_EQ(wait.error().reason, "AuthorizationFailed");
}

}  // namespace
}  // namespace anf::reconcilers::flows
