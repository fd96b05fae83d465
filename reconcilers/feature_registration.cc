#include "reconcilers/feature_registration.h"

#include <algorithm>

#include "azure/client.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/documents.h"

namespace anf::reconcilers {

azure::ResourceId FeatureRef::id() const {
  return *azure::ResourceId::parse("/subscriptions/" + subscriptionId + "/providers/Microsoft.Features/providers/" +
                                   providerNamespace + "/features/" + name);
}

FeatureRef featureOf(const controller::Document& account, std::string_view name) {
  const auto& azure = account.azure.value_or(controller::AzureCoordinates{});
  return FeatureRef{.credential = credentialOf(account), .subscriptionId = azure.subscriptionId, .name = std::string(name)};
}

FeatureStep nextFeatureStep(std::string_view state) {
  if (state == "Registered") return FeatureStep::Done;
  if (state == "Registering" || state == "Pending" || state == "Unregistering") return FeatureStep::Wait;
  return FeatureStep::Register;
}

std::chrono::milliseconds featureRequeueDelay(int checks) {
  constexpr std::chrono::milliseconds kFirst{15'000};
  constexpr std::chrono::milliseconds kCap{300'000};
  auto delay = kFirst;
  for (int i = 0; i < checks && delay < kCap; ++i) delay *= 2;
  return std::min(delay, kCap);
}

controller::Condition featureCondition(const FeatureRef& feature, std::string_view state) {
  controller::Condition condition{.type = "FeatureRegistered"};
  switch (nextFeatureStep(state)) {
    case FeatureStep::Done:
      condition.status = "True";
      condition.reason = "Registered";
      condition.message = "Feature " + feature.key() + " is Registered in subscription " + feature.subscriptionId;
      break;
    case FeatureStep::Wait:
      condition.status = "False";
      condition.reason = "Registering";
      condition.message = "Feature " + feature.key() + " is " + std::string(state) + " in subscription " +
                          feature.subscriptionId +
                          "; Azure can take up to 60 minutes to reach Registered. The operator checks again "
                          "with a growing delay and goes on once it is Registered.";
      break;
    case FeatureStep::Register:
      condition.status = "False";
      condition.reason = "NotRegistered";
      condition.message = "Feature " + feature.key() + " is not registered in subscription " +
                          feature.subscriptionId + "; the operator registers it before the flow that needs it.";
      break;
  }
  return condition;
}

Result<std::string> FeatureGate::observe(const FeatureRef& feature) {
  auto found = getIfExists(client_, feature.credential, feature.id());
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::string("NotRegistered");
  return (*found)->value("/properties/state"_json_pointer, std::string("NotRegistered"));
}

Result<std::optional<controller::Outcome>> FeatureGate::ensure(const FeatureRef& feature, const Json& selfFacts) {
  auto state = observe(feature);
  if (!state) return std::unexpected(state.error());
  Json features = selfFacts.is_object() && selfFacts.contains("features") && selfFacts["features"].is_object()
                      ? selfFacts["features"]
                      : Json::object();
  int checks = features.contains(feature.key()) ? features[feature.key()].value("checks", 0) : 0;

  auto step = nextFeatureStep(*state);
  if (step == FeatureStep::Done) return std::optional<controller::Outcome>{};
  if (step == FeatureStep::Register) {
    auto reply = await(client_.post(feature.credential, feature.id(), "register"));
    if (!reply) return std::unexpected(reply.error());
    const Json body = reply->body.is_object() ? reply->body : Json::object();
    *state = body.value("/properties/state"_json_pointer, std::string("Registering"));
    if (nextFeatureStep(*state) == FeatureStep::Done) return std::optional<controller::Outcome>{};
  }
  features[feature.key()] = {{"state", *state}, {"checks", checks + 1}};
  controller::Outcome outcome;
  outcome.requeueAfter = featureRequeueDelay(checks);
  outcome.facts = {{"features", features}};
  outcome.description = (step == FeatureStep::Register ? "registered feature " : "waiting for feature ") +
                        feature.key() + " (" + *state + ")";
  return std::optional<controller::Outcome>{std::move(outcome)};
}

}  // namespace anf::reconcilers
