#include "reconcilers/feature_registration.h"

#include <gtest/gtest.h>

#include "tests/reconcilers/fake_azure_client.h"
#include "tests/reconcilers/reconcile_world.h"

namespace anf::reconcilers {
namespace {

using namespace std::chrono_literals;
using testing::FakeAzureClient;
using testing::FakeAzureStore;

const FeatureRef kFeature{.credential = "provider", .subscriptionId = testing::kProviderSub,
                          .name = std::string(kFeatureMigratePmkToCmk)};
const std::string kFeaturePath = "/subscriptions/" + testing::kProviderSub +
                                 "/providers/Microsoft.Features/providers/Microsoft.NetApp/features/ANFMigratePmkToCmk";

Json featureBody(const std::string& state) { return {{"properties", {{"state", state}}}}; }

/// Azure with the feature in `state` (no record when empty); register answers Registering.
struct FeatureAzure {
  FakeAzureClient client;
  FakeAzureStore store;
  explicit FeatureAzure(const std::string& state) {
    if (!state.empty()) store.putArm(kFeaturePath, featureBody(state));
    store.serve(client);
    client.postFn = [](const std::string&, const azure::ResourceId&, std::string_view action, const Json&,
                       const azure::RequestOptions&) -> azure::Expected<azure::ArmResult> {
      EXPECT_EQ(action, "register");
      return testing::armOk(featureBody("Registering"));
    };
  }
};

TEST(FeatureRef, IdIsTheFeatureUnderMicrosoftFeatures) {
  EXPECT_EQ(kFeature.id().str(), kFeaturePath);
  EXPECT_EQ(kFeature.id().providerNamespace(), "Microsoft.Features");
}

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
  FeatureAzure azure("NotRegistered");
  auto wait = FeatureGate(azure.client).ensure(kFeature, Json::object());
  ASSERT_TRUE(wait.has_value()) << wait.error().message;
  ASSERT_TRUE(wait->has_value());
  EXPECT_EQ((*wait)->requeueAfter, 15s);
  EXPECT_FALSE((*wait)->operation.has_value());
  EXPECT_EQ((*wait)->facts["features"]["Microsoft.NetApp/ANFMigratePmkToCmk"],
            (Json{{"state", "Registering"}, {"checks", 1}}));
  EXPECT_EQ(azure.client.callsTo("POST", kFeaturePath + "/register").size(), 1u);
}

TEST(FeatureGate, WhileRegisteringOnlyReadsAndWaitsLongerEachTime) {
  FeatureAzure azure("Registering");
  Json facts = {{"features", {{"Microsoft.NetApp/ANFMigratePmkToCmk", {{"state", "Registering"}, {"checks", 3}}}}}};
  auto wait = FeatureGate(azure.client).ensure(kFeature, facts);
  ASSERT_TRUE(wait.has_value() && wait->has_value());
  EXPECT_EQ((*wait)->requeueAfter, 120s);
  EXPECT_EQ((*wait)->facts["features"]["Microsoft.NetApp/ANFMigratePmkToCmk"]["checks"], 4);
  EXPECT_TRUE(azure.client.writes().empty());
}

TEST(FeatureGate, RegisteredLetsTheFlowGoOn) {
  FeatureAzure azure("Registered");
  auto wait = FeatureGate(azure.client).ensure(kFeature, Json::object());
  ASSERT_TRUE(wait.has_value());
  EXPECT_FALSE(wait->has_value());
  EXPECT_TRUE(azure.client.writes().empty());
}

TEST(FeatureGate, NoRecordOfTheFeatureMeansNotRegistered) {
  FeatureAzure azure("");  // GET answers 404
  auto state = FeatureGate(azure.client).observe(kFeature);
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(*state, "NotRegistered");
}

TEST(FeatureGate, AzureErrorsPassThrough) {
  FeatureAzure azure("");
  azure.client.getFn = [](const std::string&, const azure::ResourceId&,
                          const azure::RequestOptions&) -> azure::Expected<azure::ArmResult> {
    return std::unexpected(testing::azureError(403, "AuthorizationFailed", "no"));
  };
  auto wait = FeatureGate(azure.client).ensure(kFeature, Json::object());
  ASSERT_FALSE(wait.has_value());
  EXPECT_EQ(wait.error().reason, "AuthorizationFailed");
}

}  // namespace
}  // namespace anf::reconcilers
