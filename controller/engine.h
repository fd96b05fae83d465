#pragma once
// The reconcile engine: turns snapshots of the desired state into reconcile calls on the per-kind
// reconcilers and records what happened (controller-runtime's controller + crossplane's managed
// reconciler in one).
//
// Per document key, a worker runs the decision tree:
//   reconcile-policy skip            -> nothing (Ready=Unknown, ReconcileSkipped)
//   terminal error at this generation -> nothing until the spec changes (parked)
//   long-running operation in status -> poll it once; still running: come back at Retry-After
//   a reference not Ready            -> DependenciesReady=False naming it; woken when it becomes Ready
//   observe(); policy observe        -> report (Ready=False, DriftDetected, when Azure differs), never write
//   !exists -> create; !upToDate -> update; else Ready=True
//   document removed                 -> remove() only with deletionPolicy Delete, else forget it
// Writes of one mutation group (a NetApp account) never overlap, including their long-running
// operations; a key waiting for its group is parked and queued again when the group is released.
//
// Threads: `workers` threads take keys from the WorkQueue (blocking); delays, operation polls and
// resyncs are Asio steady_timers on the caller's io_context, so no worker ever sleeps.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <expected>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controller/metrics.h"
#include "controller/reconciler.h"
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
  /// How long a cached observation (a parent's LIST) may be reused within a pass.
  std::chrono::milliseconds observationMaxAge = std::chrono::seconds(30);
  /// Status is persisted here (empty: memory only). Loaded by start().
  std::filesystem::path stateFile;
};

/// An ObservationCache shared by the reconciles of one pass (a resync or a new snapshot); thread-safe.
/// Entries also expire after `maxAge`, so that reconciles woken between passes (a dependency became
/// Ready) never act on an old LIST even when a reconciler forgot to invalidate after a write.
class PassCache : public ObservationCache {
 public:
  explicit PassCache(std::chrono::milliseconds maxAge = std::chrono::seconds(30)) : maxAge_(maxAge) {}
  Result<Json> getOrLoad(const std::string& key, const std::function<Result<Json>()>& load) override;
  void invalidate(const std::string& key) override;

 private:
  struct Entry {
    Json value;
    std::chrono::steady_clock::time_point loadedAt;
  };
  std::chrono::milliseconds maxAge_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
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
  void apply(DesiredState snapshot);
  /// Starts a resync pass now: a fresh ObservationCache and every document queued.
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
  void workerLoop();
  void process(const DocumentKey& key);
  Next reconcileDocument(const Document& doc, const DesiredState& desired);
  Next reconcileDeletion(const Document& doc, const DesiredState& desired);
  Next pollOperation(const Document& doc, StoredStatus& st, bool& succeeded);
  Next dependencyGate(const Document& doc, const DesiredState& desired, bool& blocked);
  Next failed(const Document& doc, const ReconcileError& error);
  void finish(const DocumentKey& key, const Next& next);
  StoredStatus updateStatus(const DocumentKey& key, const std::function<void(StoredStatus&)>& change);
  void eraseStatus(const DocumentKey& key);
  void readinessChanged(const DocumentKey& key, bool ready);
  void recordFacts(const Document& doc, const Json& facts);
  bool acquireGroup(const std::string& group, const DocumentKey& key);
  void releaseGroup(const std::string& group, const DocumentKey& key);
  void scheduleResync();
  Reconciler* reconcilerFor(Kind kind) const;
  std::shared_ptr<ObservationCache> passCache() const;
  /// Starts a new pass cache: later observations read Azure again.
  void freshPassCache();

  boost::asio::io_context& io_;
  EngineOptions options_;
  std::map<Kind, ReconcilerPtr> reconcilers_;
  OperationPollFn poll_;
  Metrics& metrics_;
  StatusStore store_;
  WorkQueue queue_;
  std::unique_ptr<Timers> timers_;

  mutable std::mutex mutex_;  // guards everything below
  std::shared_ptr<const DesiredState> desired_;
  std::map<DocumentKey, Document> deleting_;           // removed documents still to be handled
  std::map<DocumentKey, std::set<DocumentKey>> dependents_;  // reverse references
  std::map<std::string, DocumentKey> groupHolders_;
  std::map<std::string, std::set<DocumentKey>> groupWaiters_;
  std::shared_ptr<ObservationCache> passCache_;
  bool loaded_ = false;

  std::vector<std::thread> workers_;
  std::mutex runningMutex_;
  std::condition_variable runningChanged_;
  int running_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace anf::controller
