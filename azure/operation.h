#pragma once
// The poll state of an ARM long-running operation (azure-api.md §2): a small value the engine stores
// in a document's status (as JSON), so that a restarted operator resumes polling instead of issuing
// the operation again.
#include <chrono>
#include <expected>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace anf::azure {

/// How an operation is tracked.
enum class OperationKind {
  AzureAsyncOperation,  // poll the Azure-AsyncOperation URL: 200 with {"status": ...}
  Location,             // poll the Location URL: 202 while running, then the final response
  ProvisioningState     // no poll header (201/200 with a non-terminal provisioningState): GET the resource
};
std::string_view operationKindName(OperationKind kind);

/// Where the final result comes from once the operation succeeded (swagger final-state-via).
enum class FinalStateVia { OriginalUri, Location, AzureAsyncOperation };
std::string_view finalStateViaName(FinalStateVia via);  // "original-uri", "location", "azure-async-operation"

struct OperationState {
  std::string url;  // the URL being polled (absolute)
  OperationKind kind = OperationKind::AzureAsyncOperation;
  std::string resourceId;  // the resource the operation acts on (original URI path)
  std::string method;      // PUT, PATCH, DELETE, POST
  FinalStateVia finalStateVia = FinalStateVia::OriginalUri;
  std::string location;    // the Location header of the first response, if any (final GET for via=location)
  std::string credential;  // credential name the operation was started with (polls use the same tenant)
  std::string action;      // POST action name ("transitiontocmk"), for logs and metrics
  std::chrono::system_clock::time_point startedAt{};

  nlohmann::json toJson() const;
  static std::expected<OperationState, std::string> fromJson(const nlohmann::json& json);
  friend bool operator==(const OperationState&, const OperationState&) = default;
};

/// How long operations of one sort (method, resource type, action) take, learnt from those that ended, so that
/// the first status read comes when the operation is likely done instead of at every Retry-After (a volume that
/// takes a minute would cost a read a second). An operation still running at its first read after the expected
/// time (the estimate was short) sets the estimate to the time it took; one that had ended shortens it by 5%,
/// so that the estimate follows operations that get faster. Thread-safe.
class OperationDurations {
 public:
  using Clock = std::chrono::system_clock;
  /// How long to wait before reading `state`'s status at `now`: zero when a read is due (nothing is known of
  /// its sort, its expected time has come, or it was already seen running past it).
  std::chrono::milliseconds untilDue(const OperationState& state, Clock::time_point now) const;
  /// A status read of `state` at `now` found it `ended` or still running.
  void observe(const OperationState& state, bool ended, Clock::time_point now);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::chrono::milliseconds> expected_;  // by sort
  std::set<std::string> seenRunning_;                         // operations read while still running
};

}  // namespace anf::azure
