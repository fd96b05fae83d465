#pragma once
// Condition bookkeeping of SPEC §5: types, stable CamelCase reasons, and the one rule that matters —
// lastTransitionTime changes only when a condition's status changes.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/reconciler.h"

namespace anf::controller {

namespace condition {
inline constexpr std::string_view kReady = "Ready";
inline constexpr std::string_view kSynced = "Synced";
inline constexpr std::string_view kDependenciesReady = "DependenciesReady";
inline constexpr std::string_view kTrue = "True";
inline constexpr std::string_view kFalse = "False";
inline constexpr std::string_view kUnknown = "Unknown";
}  // namespace condition

/// The engine's own reasons (reconcilers bring theirs in ReconcileError::reason and Observation::conditions).
namespace reason {
inline constexpr std::string_view kAvailable = "Available";              // Ready=True: Azure matches
inline constexpr std::string_view kReconcileSuccess = "ReconcileSuccess";  // Synced=True
inline constexpr std::string_view kCreating = "Creating";
inline constexpr std::string_view kUpdating = "Updating";
inline constexpr std::string_view kDeleting = "Deleting";
inline constexpr std::string_view kDriftDetected = "DriftDetected";  // reconcile-policy observe
inline constexpr std::string_view kReconcileSkipped = "ReconcileSkipped";
inline constexpr std::string_view kDependenciesReady = "DependenciesReady";
inline constexpr std::string_view kDependencyNotReady = "DependencyNotReady";
inline constexpr std::string_view kDependencyNotFound = "DependencyNotFound";
inline constexpr std::string_view kDependencyBlocked = "DependencyBlocked";  // `plan`: a reference cannot be planned
inline constexpr std::string_view kWaitingForDependencies = "WaitingForDependencies";
inline constexpr std::string_view kNoReconciler = "NoReconciler";
inline constexpr std::string_view kTooManyDeletions = "TooManyDeletions";
/// Synced=False: the manifests hold no document at all (an empty checkout); nothing is removed.
inline constexpr std::string_view kNoDocuments = "NoDocuments";
inline constexpr std::string_view kManifestErrors = "ManifestErrors";
inline constexpr std::string_view kManifestsLoaded = "ManifestsLoaded";
inline constexpr std::string_view kOperationInProgress = "OperationInProgress";
inline constexpr std::string_view kOperationFailed = "OperationFailed";
/// Ready/Synced=Unknown: restored from the state file, not yet observed in Azure by this process.
inline constexpr std::string_view kNotYetObserved = "NotYetObserved";
}  // namespace reason

/// RFC 3339 UTC with seconds: "2026-11-23T09:00:51Z".
std::string rfc3339(std::chrono::system_clock::time_point time);
/// Parses what rfc3339() writes; nullopt on anything else.
std::optional<std::chrono::system_clock::time_point> parseRfc3339(std::string_view text);

/// The condition of `type`, or nullptr.
const Condition* findCondition(const std::vector<Condition>& conditions, std::string_view type);
/// Sets `wanted` (its lastTransitionTime ignored): keeps the existing lastTransitionTime when the status
/// is unchanged, stamps `now` otherwise. Returns true when anything (status, reason, message) changed.
bool setCondition(std::vector<Condition>& conditions, Condition wanted, std::chrono::system_clock::time_point now);
/// Shorthand for setCondition with the parts.
bool setCondition(std::vector<Condition>& conditions, std::string_view type, std::string_view status,
                  std::string_view reason, std::string message, std::chrono::system_clock::time_point now);
/// True when the condition of `type` exists and is "True".
bool isTrue(const std::vector<Condition>& conditions, std::string_view type);

Json toJson(const Condition& condition);
Condition conditionFromJson(const Json& json);

}  // namespace anf::controller
