#pragma once
// The reconcile engine: turns snapshots of the desired state into reconcile calls on the per-kind
// reconcilers and records what happened (controller-runtime's controller + crossplane's managed
// reconciler in one).
//
// Per document key, a worker runs these steps (Engine::reconcileDocument):
//   parked at this generation in this resync pass -> nothing (a refused write is resent at most once per pass)
//   long-running operation in status -> poll it once; still running: come back at Retry-After
//   decide() (controller/decision.h, the tree `plan` runs too) before observing:
//     reconcile-policy skip          -> Ready=Unknown, ReconcileSkipped; Azure untouched
//     no reconciler for the kind     -> NeedsDocumentChange
//     a reference not Ready          -> DependenciesReady=False naming it; woken when it becomes Ready
//   observe(), then decide() with the observation:
//     exists and matches             -> Ready=True (the only way to Ready=True: observed by this process)
//     differs under policy observe   -> Ready=False, DriftDetected; never written
//     missing -> create(); differs -> update(), under the reconciler's mutation group
//   document removed                 -> remove() only with deletionPolicy Delete, else forget it
// A failure is handled by its ErrorClass in one place (retryPolicy): RetryNow backs off per key;
// RetryAfter comes back after exactly its delay; WaitsForAzure is never parked (back at its retryAfter
// when given, and at every resync); NeedsDocumentChange is parked until the document (spec or a policy)
// changes or the next resync pass, which observes again and may resend the write once (level-based:
// nothing is parked for ever while Azure can change). RetryNow and RetryAfter keep a Ready=True observed
// at this generation; any other failure sets Ready=False. Status keeps Azure's details (azureError)
// until the next success. Failed long-running operations go through the same classes.
// Statuses restored from the state file are a journal (status_store.h): Ready=Unknown until observed.
// Writes run under the reconciler's mutation group (controller/mutation_groups.h), including their
// long-running operations: an account's own writes never overlap its pools' and volumes', its volumes run
// in parallel up to the account's limit, which Azure's refusals narrow; a released place wakes the waiters
// that now fit (and passes on when a woken key ends its reconcile without asking for it).
//
// Threads: `workers` threads take keys from the WorkQueue (blocking); delays, operation polls and
// resyncs are Asio steady_timers on the caller's io_context, so no worker ever sleeps. Nor in the write
// bucket: a write whose turn has not come (EngineOptions::writeAdmission) is requeued at its turn, and the
// worker meanwhile observes and polls for others (controller-runtime's RequeueAfter, not a failure).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controller/decision.h"
#include "controller/metrics.h"
#include "controller/mutation_groups.h"
#include "controller/reconciler.h"
#include "controller/reference_index.h"
#include "controller/status_store.h"
#include "controller/workqueue.h"

namespace boost::asio {
class io_context;
}

namespace anf::controller {

struct EngineOptions {
  int workers = 8;
  std::chrono::milliseconds resyncPeriod = std::chrono::minutes(10);
  double resyncJitter = 0.1;  // each period is resyncPeriod * (1 ± jitter)
  /// More documents than this disappearing from one snapshot to the next is refused (not applied).
  int maxDeletionsPerPass = 5;
  BackoffOptions backoff;
  /// When a reconciler starts an operation without saying when to look again.
  std::chrono::milliseconds defaultPollInterval{1000};
  /// How long after its read of Azure a cached observation (a parent's LIST) may be reused within a pass.
  std::chrono::milliseconds observationMaxAge = std::chrono::seconds(30);
  /// Writes of one NetApp account at once while Azure accepts them (mutation_groups.h: its starting limit).
  int maxWritesPerAccount = 32;
  /// Status is persisted here (empty: memory only). Loaded by start().
  std::filesystem::path stateFile;
  /// Asked right before each write to Azure (create, update, remove); false: the write is not sent and the key
  /// comes back after `writeGateRetry`. Empty: always write. Leader election closes it (kube/leader_election.h).
  std::function<bool()> writeGate;
  std::chrono::milliseconds writeGateRetry{1000};
  /// Asked before each write (reconciler.h); unset: every write is sent at once.
  WriteAdmissionFn writeAdmission;
};

/// An ObservationCache shared by the reconciles of one pass (a resync or a new snapshot); thread-safe.
/// Entries also expire `maxAge` after their read of Azure: writes and operations keep an entry current for
/// what this operator changed (ObservationCache::update does not renew it), but only a read sees what others
/// changed, and reconciles woken between passes (a WaitsForAzure recheck, a dependency became Ready) must
/// not act on a LIST older than that.
/// One read per key at a time: reconciles that ask while it is in flight (the volumes of a pool woken together)
/// wait for its answer. A read in flight when the key is updated or invalidated may predate that change: its
/// answer goes to those who asked before, is not kept, and later askers read again.
class PassCache : public ObservationCache {
 public:
  explicit PassCache(std::chrono::milliseconds maxAge = std::chrono::seconds(30)) : maxAge_(maxAge) {}
  Result<Json> getOrLoad(const std::string& key, const std::function<Result<Json>()>& load) override;
  void update(const std::string& key, const std::function<void(Json&)>& change) override;
  void invalidate(const std::string& key) override;
  void invalidatePrefix(const std::string& prefix) override;

 private:
  struct Entry {
    Json value;
    std::chrono::steady_clock::time_point loadedAt;
  };
  struct Read {  // a load in flight
    std::chrono::steady_clock::time_point startedAt;
    bool stale = false;  // the key changed meanwhile
    bool done = false;
    std::optional<Result<Json>> result;
  };
  /// Marks reads in flight under keys starting with `prefix` (exactly `key` when !wholePrefix) stale; mutex_ held.
  void staleReadsLocked(const std::string& key, bool wholePrefix);
  void finishRead(const std::string& key, const std::shared_ptr<Read>& read, std::optional<Result<Json>> result);
  std::chrono::milliseconds maxAge_;
  std::mutex mutex_;
  std::condition_variable readDone_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::shared_ptr<Read>> reads_;
};

class Engine {
 public:
  /// `reconcilers`: at most one per kind. `poll` polls stored long-running operations. `metrics` and
  /// `io` must outlive the engine; `io` must be run by the caller (one or two threads).
  Engine(boost::asio::io_context& io, EngineOptions options, std::vector<ReconcilerPtr> reconcilers,
         OperationPollFn poll, Metrics& metrics);
  /// Stops (without grace) if still running.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Loads the state file and starts the workers and the resync timer. Documents arrive with apply().
  std::expected<void, std::string> start();
  /// A new snapshot of the desired state. Changed and new documents are queued; documents that
  /// disappeared are removed per their deletionPolicy, unless more than maxDeletionsPerPass disappear
  /// at once: then the whole deletion is refused (operator Synced=False, TooManyDeletions) and the
  /// vanished documents are kept as they were. Thread-safe.
  /// Costs in proportion to `changes` (what the snapshot changed against the previous one of its
  /// source): desired state, dependents and deletions are updated per changed document. The first
  /// snapshot's documents are queued at low priority (an initial list), later changes ahead of resyncs.
  void apply(DesiredState snapshot, const DocumentChanges& changes);
  /// apply() with the changes found by comparing `snapshot` with the current desired state (a walk of
  /// both): for callers that hold whole snapshots (tests, one-shot use).
  void apply(DesiredState snapshot);
  /// Starts a resync pass now: a fresh ObservationCache and every document queued, parked ones included.
  void resyncNow();
  /// Stops intake (queue shut down, timers cancelled) and waits up to `grace` for in-flight reconciles.
  /// Returns true when all finished (the workers are then joined).
  bool stop(std::chrono::milliseconds grace);

  /// Blocks until no key is queued or being reconciled (delayed requeues may be pending), up to
  /// `timeout`. For tests and `plan`-style one-shot use.
  bool waitIdle(std::chrono::milliseconds timeout) const;

  /// True once a snapshot was applied (for /readyz).
  bool loaded() const;
  StatusStore& statuses();
  const StatusStore& statuses() const;
  /// The effective desired state (the last snapshot plus documents kept by a refused deletion).
  std::shared_ptr<const DesiredState> desired() const;

 private:
  struct Next;
  struct Timers;
  struct WriteRequest;
  void workerLoop();
  void process(const DocumentKey& key);
  /// The steps of one document that is in the manifests (see the top of this file).
  Next reconcileDocument(const Document& doc, const DesiredState& desired);
  /// The steps of a document that left the manifests.
  Next reconcileDeletion(const Document& doc, const DesiredState& desired);
  /// The documents of `changes.removed` and earlier refused deletions that `next` lacks; mutex_ held.
  std::set<DocumentKey> vanishedLocked(const DocumentChanges& changes, const DesiredState& next) const;
  /// What became of a snapshot's removals: applied, or refused (the documents put back into `next`) because more
  /// than maxDeletionsPerPass vanished or because the manifests hold no document at all.
  enum class Removal { Applied, RefusedTooMany, RefusedEmpty };
  /// Applies or refuses the deletion of `vanished`; mutex_ held.
  Removal deleteOrKeepLocked(const std::set<DocumentKey>& vanished, DesiredState& next, std::vector<DocumentKey>& toQueue);
  /// True when a NeedsDocumentChange at this generation was met in this resync pass; otherwise clears it.
  bool parkedInThisPass(const Document& doc, StoredStatus& st);
  /// Polls the stored operation once; `succeeded` when it finished well and the reconcile goes on.
  Next pollOperation(const Document& doc, StoredStatus& st, bool& succeeded);
  /// decide()'s view of a reference: Ready only when this process observed it Ready.
  ReferenceState referenceState(const DocumentKey& key) const;
  Next skipped(const Document& doc);
  /// A Blocked decision: a missing reconciler fails; a reference waits (DependenciesReady=False).
  Next blocked(const Document& doc, const Decision& decision);
  void dependenciesReady(const Document& doc);
  /// Facts and conditions of an observation; Ready for NoChange and ReportDrift.
  void recordObservation(const Document& doc, const Observation& observed, Decision::Action action);
  /// Sends a write under its mutation group and records its progress (or failure).
  Next startWrite(const Document& doc, const WriteRequest& write);
  /// Status and retry of a failure, by its ErrorClass.
  Next failed(const Document& doc, const ReconcileError& error);
  /// The requeue of each ErrorClass: the one place the engine decides retries.
  static Next retryPolicy(const ReconcileError& error);
  /// Synced=True at this generation; Azure's last error is cleared.
  static void synced(StoredStatus& s, const Document& doc, std::chrono::system_clock::time_point now);
  void forgetDocument(const DocumentKey& key);
  void finish(const DocumentKey& key, const Next& next);
  StoredStatus updateStatus(const DocumentKey& key, const std::function<void(StoredStatus&)>& change);
  void eraseStatus(const DocumentKey& key);
  /// Sets the kind's readiness gauges from the store's counts (never a recount) and, when `key` became
  /// Ready, wakes its dependents.
  void readinessChanged(const DocumentKey& key, bool ready);
  void recordFacts(const Document& doc, const Json& facts);
  /// Ends the write `key` holds in its mutation group and queues the waiters that now fit.
  void releaseGroup(const DocumentKey& key, MutationGroups::Outcome outcome);
  void scheduleResync();
  Reconciler* reconcilerFor(Kind kind) const;
  /// The documents whose references name `key` (ReconcileContext::referrers); takes mutex_.
  std::set<DocumentKey> referrersOf(const DocumentKey& key) const;
  std::shared_ptr<ObservationCache> passCache() const;
  /// The cache `key` observes through: its snapshot's when an apply changed it in this pass, else the pass's.
  std::shared_ptr<ObservationCache> observationCacheFor(const DocumentKey& key) const;
  /// Starts a new pass cache (edited documents' caches dropped): later observations read Azure again.
  void freshPassCache();

  boost::asio::io_context& io_;
  EngineOptions options_;
  std::map<Kind, ReconcilerPtr> reconcilers_;
  OperationPollFn poll_;
  Metrics& metrics_;
  StatusStore store_;
  WorkQueue queue_;
  std::unique_ptr<Timers> timers_;
  MutationGroups groups_;  // thread-safe

  mutable std::mutex mutex_;  // guards everything below
  std::shared_ptr<const DesiredState> desired_;
  std::map<DocumentKey, Document> deleting_;           // removed documents still to be handled
  std::set<DocumentKey> kept_;                          // documents kept by a refused deletion
  ReferenceIndex dependents_;
  std::shared_ptr<ObservationCache> passCache_;
  std::map<DocumentKey, std::shared_ptr<ObservationCache>> editCaches_;  // documents an apply changed in this pass
  std::uint64_t pass_ = 1;  // resync passes started (resyncNow)
  std::map<DocumentKey, std::uint64_t> parkedInPass_;  // NeedsDocumentChange met in this pass
  bool loaded_ = false;

  std::vector<std::thread> workers_;
  std::mutex runningMutex_;
  std::condition_variable runningChanged_;
  int running_ = 0;
  std::atomic<bool> stopped_{false};
  std::mutex gaugesMutex_;  // readinessChanged
};

}  // namespace anf::controller
