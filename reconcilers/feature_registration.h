#pragma once
// Preview features a flow needs (SPEC §1 "preview features"): Microsoft.NetApp/ANFMigratePmkToCmk for
// the PMK->CMK transition and Microsoft.NetApp/ANFCrossTenantCMK for cross-tenant CMK. The operator
// registers the feature in the account's subscription and waits for `Registered` without holding a
// worker: every pass does one GET (and at most one register POST), then hands back an Outcome with a
// requeue delay that grows with each check (Azure can stay `Registering` for 60 minutes).
//
// Where the account reconciler calls it:
//   observe(): FeatureGate::observe() + featureCondition() -> Observation::conditions
//              (FeatureRegistered=True/False, reason Registered/Registering/NotRegistered);
//   create()/update(), before the step that needs the feature (transitiontocmk, cross-tenant PUT):
//              if (auto wait = gate.ensure(ref, context.self.facts); !wait) return unexpected(wait.error());
//              else if (*wait) return **wait;   // registering: come back later, nothing else written
//
// Status facts (merged by the engine): facts.features["Microsoft.NetApp/ANFMigratePmkToCmk"] =
// {state, checks}; `checks` drives the growing delay.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "reconcilers/arm_calls.h"  // Json, Result, AzureClient

namespace anf::reconcilers {

inline constexpr std::string_view kNetAppNamespace = "Microsoft.NetApp";
inline constexpr std::string_view kFeatureMigratePmkToCmk = "ANFMigratePmkToCmk";
inline constexpr std::string_view kFeatureCrossTenantCmk = "ANFCrossTenantCMK";

/// A preview feature in one subscription.
struct FeatureRef {
  std::string credential;  // credential name that may act in the subscription
  std::string subscriptionId;
  std::string providerNamespace{kNetAppNamespace};
  std::string name;  // ANFMigratePmkToCmk, ANFCrossTenantCMK
  /// "Microsoft.NetApp/ANFMigratePmkToCmk": the key in status facts and messages.
  std::string key() const { return providerNamespace + "/" + name; }
  /// ARM id of the feature (/subscriptions/{sub}/providers/Microsoft.Features/providers/{ns}/features/{name}).
  azure::ResourceId id() const;
};

/// A preview feature in the subscription of an account document, with its credential.
FeatureRef featureOf(const controller::Document& account, std::string_view name);

/// What a pass does for an observed registration state.
enum class FeatureStep {
  Done,      // Registered
  Register,  // NotRegistered, Unregistered, NotSpecified, or no record: POST register
  Wait,      // Registering, Pending, Unregistering: requeue and GET again later
};
FeatureStep nextFeatureStep(std::string_view state);

/// Delay before the next check after `checks` earlier ones: 15 s, 30 s, 60 s, ... capped at 5 min.
std::chrono::milliseconds featureRequeueDelay(int checks);

/// The FeatureRegistered condition for an observed state: True/Registered, or False with reason
/// Registering (or NotRegistered) and a message naming the feature and what the operator is doing.
controller::Condition featureCondition(const FeatureRef& feature, std::string_view state);

/// Registers a feature and reports progress; one or two requests per call, never a wait.
class FeatureGate {
 public:
  explicit FeatureGate(azure::AzureClient& client) : client_(client) {}

  /// The registration state (GET only): "Registered", "Registering", ..., or "NotRegistered" when
  /// Azure has no record of the feature in that subscription.
  Result<std::string> observe(const FeatureRef& feature);

  /// nullopt when the feature is Registered (go on with the flow). Otherwise registers it when
  /// needed and returns the Outcome to hand to the engine: requeueAfter growing with the number of
  /// checks recorded in `selfFacts.features[key].checks`, and the updated `features` facts.
  Result<std::optional<controller::Outcome>> ensure(const FeatureRef& feature, const Json& selfFacts);

 private:
  azure::AzureClient& client_;
};

}  // namespace anf::reconcilers
