#pragma once
// The contract between the engine (controller/engine.*) and the per-kind reconcilers (reconcilers/).
// Modeled on crossplane-runtime's ExternalClient: a reconciler only observes, creates, updates and
// removes; the engine owns the decision tree, dependency gating, policies, conditions, requeues,
// long-running operation polling and metrics.
//
// Reconcilers run on an engine worker thread and may wait for single Azure requests (as a
// controller-runtime worker waits for an API call), but never for a long-running operation: they start
// it and return its poll state in Outcome::operation; the engine stores it with the status, polls it
// at Retry-After and, after a restart, resumes polling instead of starting the operation again.
#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controller/document.h"
#include "controller/mutation_groups.h"

namespace anf::controller {

/// A Kubernetes-style condition (SPEC §5). status is "True", "False" or "Unknown".
struct Condition {
  std::string type;  // Ready, Synced, DependenciesReady, KeyVaultValid, AccessGranted, FeatureRegistered, AwaitingCustomer
  std::string status;
  std::string reason;   // stable CamelCase code
  std::string message;  // Azure's own text verbatim, then the documented resolution
  std::string lastTransitionTime;  // RFC 3339; set by the engine when status changes
};

/// One field that differs between the document and Azure.
struct FieldDiff {
  std::string path;  // "properties.encryption.keyVaultProperties.keyName"
  Json desired;
  Json observed;
};

/// What observe() found. observe() never writes to Azure.
struct Observation {
  bool exists = false;
  bool upToDate = false;
  std::vector<FieldDiff> diff;
  Json facts = Json::object();            // for status: resourceId, principalId, connectionState, ...
  std::vector<Condition> conditions;      // kind-specific conditions (KeyVaultValid, AccessGranted, ...)
  std::vector<std::string> planNotes;     // extra lines for `plan` (e.g. the CMK volumes a rekey affects)
};

/// What create/update/remove did.
struct Outcome {
  /// A long-running operation was started: its poll state (azure::OperationState as JSON). The engine
  /// keeps it in status and polls it; the document is not observed again until it ends.
  std::optional<Json> operation;
  /// Come back after this long even without an operation (a multi-step flow took one step, a grant
  /// is propagating, a feature is registering). Zero: re-observe at once.
  std::optional<std::chrono::milliseconds> requeueAfter;
  Json facts = Json::object();  // merged into status facts
  std::string description;      // one line for the log: "enabled system-assigned identity"
};

/// How the engine treats a failure (STYLE.md's four classes, Azure Service Operator's error_classifier.go).
enum class ErrorClass {
  RetryNow,             // transient (429, 5xx, a dropped connection): per-item exponential backoff
  RetryAfter,           // clears by itself after a known delay (a grant propagating, AnotherOperationInProgress)
  WaitsForAzure,        // a condition in Azure that someone must change (a disabled key, a missing grant, a
                        // pending endpoint connection): never parked, re-observed at every resync
  NeedsDocumentChange,  // invalid parameters, a refused transition: parked until the spec changes
};

/// Azure's own account of a failure that came from an Azure response, for status (support asks for the
/// request id).
struct AzureErrorDetails {
  int httpStatus = 0;
  std::string code;
  std::string message;    // verbatim
  std::string requestId;  // x-ms-request-id
};

/// A failure. Only NeedsDocumentChange is parked until the document changes (controller-runtime's TerminalError).
struct ReconcileError {
  std::string reason;   // stable CamelCase: KeyVaultKeyNotFound, AnotherOperationInProgress, ...
  std::string message;  // Azure's text verbatim plus the documented resolution
  ErrorClass errorClass = ErrorClass::RetryNow;
  std::optional<std::chrono::milliseconds> retryAfter;  // a hint (429 Retry-After, grant propagation)
  std::optional<std::string> conditionType;  // also set this condition False (e.g. "KeyVaultValid")
  std::optional<AzureErrorDetails> azure;    // when Azure answered with this error
  /// Azure refused the write for another operation in its account (AnotherOperationInProgress, ANF's
  /// "Another volume creation is in progress"): the engine narrows that account's concurrent writes.
  bool concurrencyRefused = false;
  bool parked() const { return errorClass == ErrorClass::NeedsDocumentChange; }
};

template <typename T>
using Result = std::expected<T, ReconcileError>;

/// What the engine knows about a document, as seen by reconcilers of documents that reference it.
struct ResourceStatus {
  std::string generation;  // observedGeneration: hash of the spec last reconciled
  bool ready = false;
  Json facts = Json::object();  // resourceId, principalId, clientId, ...
  std::vector<Condition> conditions;
  std::optional<Json> operation;  // in-flight long-running operation
  /// What Azure answered for the last failure (SPEC §5 azureError); cleared by the next success.
  std::optional<AzureErrorDetails> azureError;
};

/// What this pass has read of Azure, shared by its reconciles: one LIST of a parent per pass (all volumes of a
/// pool), so that a resync of N volumes costs one request, not N; one read of a vault or key for all accounts.
/// Writes and finished operations keep entries current from what Azure answered (the write's response, the
/// operation's final resource), so the pass never reads again what it was just told. A new pass starts empty:
/// Azure is read again every pass (level-based).
class ObservationCache {
 public:
  virtual ~ObservationCache() = default;
  /// The cached value under `key`, or the result of `load()` (cached when it succeeds).
  virtual Result<Json> getOrLoad(const std::string& key, const std::function<Result<Json>()>& load) = 0;
  /// Changes the entry under `key` in place when there is one (an item of a LIST replaced by a write's
  /// response); nothing when `key` is not cached. An entry changed this way is as old as its read of Azure.
  virtual void update(const std::string& key, const std::function<void(Json&)>& change) = 0;
  /// Drops one entry (after a write that changes it in a way no response shows).
  virtual void invalidate(const std::string& key) = 0;
  /// Drops every entry whose key starts with `prefix` (an operation changed everything below a resource).
  virtual void invalidatePrefix(const std::string& prefix) = 0;
};

/// Everything a reconciler gets for one call.
struct ReconcileContext {
  const Document& document;
  /// The status of another document (a dependency), or nullptr when unknown.
  std::function<const ResourceStatus*(const DocumentKey&)> statusOf;
  /// The whole desired state, to find documents that are not direct references (e.g. the volumes a
  /// transition would convert).
  const DesiredState& desired;
  /// The keys of the documents whose references name a document (controller/reference_index.h): the documents
  /// that name this one (an account's pools, a pool's volumes) without a walk of `desired`. The engine answers
  /// from its latest snapshot, which may be newer than `desired`: reconcilers/documents.h referringDocuments keeps
  /// those `desired` holds.
  std::function<std::set<DocumentKey>(const DocumentKey&)> referrers;
  ObservationCache& cache;
  /// This document's own last status (facts written by earlier steps).
  const ResourceStatus& self;
  /// true in `plan` and under reconcile-policy observe: only observe() is called; reconcilers may
  /// use it to skip expensive checks that only matter before a write.
  bool dryRun = false;
};

/// One kind's reconciler. All methods are idempotent; create on an existing resource is not an error.
class Reconciler {
 public:
  virtual ~Reconciler() = default;
  virtual Kind kind() const = 0;
  /// Reads Azure; never writes.
  virtual Result<Observation> observe(const ReconcileContext& context) = 0;
  virtual Result<Outcome> create(const ReconcileContext& context, const Observation& observed) = 0;
  virtual Result<Outcome> update(const ReconcileContext& context, const Observation& observed) = 0;
  virtual Result<Outcome> remove(const ReconcileContext& context, const Observation& observed) = 0;
  /// What a write changes, for the engine's MutationGroups (controller/mutation_groups.h): writes on one
  /// NetApp account's resources that Azure refuses to overlap never do. Empty: no coordination.
  virtual MutationGroup mutationGroup(const ReconcileContext& context) const { (void)context; return {}; }
};
using ReconcilerPtr = std::unique_ptr<Reconciler>;

/// The result of polling a stored long-running operation.
struct OperationProgress {
  enum class State { InProgress, Succeeded, Failed } state = State::InProgress;
  std::chrono::milliseconds retryAfter{1000};  // when InProgress
  std::optional<ReconcileError> error;          // when Failed
  Json operation;                               // updated poll state to store (when InProgress)
  /// When it ended: what the operation showed of Azure, applied to the pass's ObservationCache before the
  /// document is observed again (its final resource kept, what it changed dropped). Unset: the engine drops
  /// the whole cache, as anything may have changed.
  std::function<void(ObservationCache&)> observed;
};

/// Polls a stored operation once (at most one HTTP request; reconcilers/registry.h makeOperationPoll).
using OperationPollFn = std::function<OperationProgress(const Json& operation)>;

/// Asked, without blocking, before a reconcile writes: zero when the document may write now, else how long
/// until its turn in Azure's write bucket (the real one: azure::AzureClient::admitWrite). The engine then gives
/// the worker back and requeues the document at its turn: not a failure, status and backoff stay as they are.
using WriteAdmissionFn = std::function<std::chrono::milliseconds(const Document& document)>;

}  // namespace anf::controller
