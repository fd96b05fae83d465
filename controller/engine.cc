#include "controller/engine.h"

#include <algorithm>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <random>

#include <spdlog/spdlog.h>

#include "controller/conditions.h"
#include "controller/decision.h"
#include "controller/logging.h"
#include "reconcilers/limit_refusals.h"

namespace anf::controller {

using std::chrono::milliseconds;
using SysClock = std::chrono::system_clock;

Result<Json> PassCache::getOrLoad(const std::string& key, const std::function<Result<Json>()>& load) {
  auto read = std::make_shared<Read>();
  {
    std::unique_lock lock(mutex_);
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      if (auto it = entries_.find(key); it != entries_.end() && now - it->second.loadedAt < maxAge_) return it->second.value;
      const auto inFlight = reads_.find(key);
      if (inFlight == reads_.end()) break;
      const auto other = inFlight->second;
      readDone_.wait(lock, [&] { return other->done; });
      if (!other->stale && other->result) return *other->result;
    }
    read->startedAt = std::chrono::steady_clock::now();
    reads_[key] = read;
  }
  try {
    auto loaded = load();  // outside the lock
    finishRead(key, read, loaded);
    return loaded;
  } catch (...) {
    finishRead(key, read, std::nullopt);
    throw;
  }
}

void PassCache::finishRead(const std::string& key, const std::shared_ptr<Read>& read, std::optional<Result<Json>> result) {
  std::lock_guard lock(mutex_);
  if (result && *result && !read->stale) entries_[key] = Entry{**result, read->startedAt};
  read->result = std::move(result);
  read->done = true;
  if (auto it = reads_.find(key); it != reads_.end() && it->second == read) reads_.erase(it);
  readDone_.notify_all();
}

void PassCache::staleReadsLocked(const std::string& key, bool wholePrefix) {
  for (auto it = reads_.lower_bound(key); it != reads_.end() && (wholePrefix ? it->first.starts_with(key) : it->first == key); ++it)
    it->second->stale = true;
}

void PassCache::update(const std::string& key, const std::function<void(Json&)>& change) {
  std::lock_guard lock(mutex_);
  staleReadsLocked(key, false);
  if (auto it = entries_.find(key); it != entries_.end()) change(it->second.value);
}

void PassCache::invalidate(const std::string& key) {
  std::lock_guard lock(mutex_);
  staleReadsLocked(key, false);
  entries_.erase(key);
}

void PassCache::invalidatePrefix(const std::string& prefix) {
  std::lock_guard lock(mutex_);
  staleReadsLocked(prefix, true);
  for (auto it = entries_.lower_bound(prefix); it != entries_.end() && it->first.starts_with(prefix);) it = entries_.erase(it);
}

/// What to do with a key after a reconcile (controller-runtime's Result/error handling).
struct Engine::Next {
  enum class How {
    Done,              // success: forget backoff, nothing queued (the resync comes back)
    Wait,              // waits for an event (a reference Ready, the mutation group released): nothing queued
    After,             // requeueAfter / operation poll: forget backoff, queue after `delay`
    Deferred,          // a write waits for its turn in the write bucket: queue after `delay`, backoff kept
    RateLimited,       // a write happened: requeue with backoff to look again
    Backoff,           // RetryNow: per-item exponential backoff, at least `delay` (a Retry-After hint)
    ErrorAfter,        // RetryAfter, WaitsForAzure with a hint: forget backoff, queue after exactly `delay`
    ErrorUntilResync,  // WaitsForAzure without a hint, NeedsDocumentChange: nothing queued; the resync looks again
  } how = How::Done;
  milliseconds delay{0};

  std::string_view result() const {
    switch (how) {
      case How::After:
      case How::Deferred: return result::kRequeueAfter;
      case How::RateLimited: return result::kRequeue;
      case How::Backoff:
      case How::ErrorAfter:
      case How::ErrorUntilResync: return result::kError;
      default: return result::kSuccess;
    }
  }
};

/// A create, update or remove about to be sent, and how its progress reads in status.
struct Engine::WriteRequest {
  MutationGroup group;  // the reconciler's
  std::string action;  // create, update, remove (stored with an operation)
  std::string_view progressReason;  // Ready=False reason while it runs
  std::string message;  // when the outcome has no description
  std::function<Result<Outcome>()> call;
};

struct Engine::Timers {
  explicit Timers(boost::asio::io_context& io) : resync(io), rng(std::random_device{}()) {}
  std::mutex mutex;
  boost::asio::steady_timer resync;
  std::mt19937 rng;
};

namespace {

/// Azure's code when the Ready condition says Azure refused the document for an ANF limit or quota, else "".
std::string_view limitRefusalOf(const std::vector<Condition>& conditions) {
  const Condition* ready = findCondition(conditions, condition::kReady);
  if (!ready || ready->status != condition::kFalse) return {};
  const auto& reasons = reconcilers::limitRefusalReasons();
  const auto it = std::ranges::find(reasons, ready->reason);
  return it == reasons.end() ? std::string_view{} : *it;
}

std::string joinPaths(const std::vector<FieldDiff>& diff) {
  std::string out;
  for (const auto& d : diff) out += (out.empty() ? "" : ", ") + d.path;
  return out;
}

/// ReconcileContext::statusOf: copies taken on first use, so reconcilers never hold pointers into the store.
class StatusView {
 public:
  explicit StatusView(const StatusStore& store) : store_(store) {}
  const ResourceStatus* get(const DocumentKey& key) {
    auto it = seen_.find(key);
    if (it == seen_.end()) {
      auto s = store_.get(key);
      if (!s) return nullptr;
      it = seen_.emplace(key, std::move(s->status)).first;
    }
    return &it->second;
  }

 private:
  const StatusStore& store_;
  std::map<DocumentKey, ResourceStatus> seen_;
};

/// The observations of a snapshot's changed documents: read from Azure afresh (an edit is looked at against Azure
/// as it is now), while what it is told of Azure (a write's answer, an operation's result) also keeps the pass's
/// cache current, which the rest of the pass goes on reading.
class EditCache final : public ObservationCache {
 public:
  EditCache(std::chrono::milliseconds maxAge, std::shared_ptr<ObservationCache> pass) : own_(maxAge), pass_(std::move(pass)) {}
  Result<Json> getOrLoad(const std::string& key, const std::function<Result<Json>()>& load) override {
    return own_.getOrLoad(key, load);
  }
  void update(const std::string& key, const std::function<void(Json&)>& change) override {
    own_.update(key, change);
    pass_->update(key, change);
  }
  void invalidate(const std::string& key) override {
    own_.invalidate(key);
    pass_->invalidate(key);
  }
  void invalidatePrefix(const std::string& prefix) override {
    own_.invalidatePrefix(prefix);
    pass_->invalidatePrefix(prefix);
  }

 private:
  PassCache own_;
  std::shared_ptr<ObservationCache> pass_;
};

/// What a ReconcileContext refers to, alive for one reconcile.
class ContextHolder {
 public:
  using Referrers = std::function<std::set<DocumentKey>(const DocumentKey&)>;
  ContextHolder(const StatusStore& store, Referrers referrers, std::shared_ptr<ObservationCache> cache, ResourceStatus self)
      : view_(store), referrers_(std::move(referrers)), cache_(std::move(cache)), self_(std::move(self)) {}
  ReconcileContext context(const Document& doc, const DesiredState& desired, bool dryRun) {
    return ReconcileContext{doc, [this](const DocumentKey& k) { return view_.get(k); }, desired, referrers_, *cache_, self_, dryRun};
  }

 private:
  StatusView view_;
  Referrers referrers_;
  std::shared_ptr<ObservationCache> cache_;
  ResourceStatus self_;
};

/// How a write ended, for its mutation group.
MutationGroups::Outcome groupOutcome(bool failed, const std::optional<ReconcileError>& error) {
  if (!failed) return MutationGroups::Outcome::Succeeded;
  return error && error->concurrencyRefused ? MutationGroups::Outcome::Refused : MutationGroups::Outcome::Ended;
}

void mergeFacts(Json& into, const Json& facts) {
  if (facts.is_object())
    for (const auto& [k, v] : facts.items()) into[k] = v;
}

}  // namespace

Engine::Engine(boost::asio::io_context& io, EngineOptions options, std::vector<ReconcilerPtr> reconcilers,
               OperationPollFn poll, Metrics& metrics)
    : io_(io),
      options_(std::move(options)),
      poll_(std::move(poll)),
      metrics_(metrics),
      store_(options_.stateFile),
      queue_(io, options_.backoff, metrics.workQueueHooks()),
      timers_(std::make_unique<Timers>(io)),
      groups_(options_.maxWritesPerAccount),
      desired_(std::make_shared<DesiredState>()),
      passCache_(std::make_shared<PassCache>(options_.observationMaxAge)) {
  for (auto& r : reconcilers) {
    const Kind kind = r->kind();
    reconcilers_[kind] = std::move(r);
  }
}

Engine::~Engine() {
  if (!stopped_.exchange(true)) {
    queue_.shutDown();
    std::lock_guard lock(timers_->mutex);
    timers_->resync.cancel();
  }
  for (auto& t : workers_)
    if (t.joinable()) t.join();
}

std::expected<void, std::string> Engine::start() {
  if (auto loaded = store_.load(); !loaded) return loaded;
  for (const auto& s : store_.list())
    if (s.status.operation) groups_.restore(MutationGroup::fromStored(s.operationGroup), s.key);
  for (Kind kind : allKinds()) readinessChanged(DocumentKey{kind, ""}, false);
  {
    std::lock_guard lock(runningMutex_);
    running_ = options_.workers;
  }
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { workerLoop(); });
  scheduleResync();
  spdlog::info("engine started with {} workers, resync every {}s", options_.workers,
               std::chrono::duration_cast<std::chrono::seconds>(options_.resyncPeriod).count());
  return {};
}

void Engine::workerLoop() {
  while (auto key = queue_.get()) {
    process(*key);
    queue_.done(*key);
  }
  std::lock_guard lock(runningMutex_);
  --running_;
  runningChanged_.notify_all();
}

bool Engine::stop(milliseconds grace) {
  if (!stopped_.exchange(true)) {
    queue_.shutDown();
    std::lock_guard lock(timers_->mutex);
    timers_->resync.cancel();
  }
  std::unique_lock lock(runningMutex_);
  const bool finished = runningChanged_.wait_for(lock, grace, [&] { return running_ == 0; });
  lock.unlock();
  if (!finished) {
    spdlog::warn("shutdown grace period ended with reconciles still running");
    return false;
  }
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  return true;
}

bool Engine::waitIdle(milliseconds timeout) const { return queue_.waitIdle(timeout); }

bool Engine::loaded() const {
  std::lock_guard lock(mutex_);
  return loaded_;
}

StatusStore& Engine::statuses() { return store_; }
const StatusStore& Engine::statuses() const { return store_; }

std::shared_ptr<const DesiredState> Engine::desired() const {
  std::lock_guard lock(mutex_);
  return desired_;
}

std::shared_ptr<ObservationCache> Engine::passCache() const {
  std::lock_guard lock(mutex_);
  return passCache_;
}

std::shared_ptr<ObservationCache> Engine::observationCacheFor(const DocumentKey& key) const {
  std::lock_guard lock(mutex_);
  const auto edited = editCaches_.find(key);
  return edited == editCaches_.end() ? passCache_ : edited->second;
}

void Engine::freshPassCache() {
  std::lock_guard lock(mutex_);
  passCache_ = std::make_shared<PassCache>(options_.observationMaxAge);
  editCaches_.clear();  // everyone reads Azure again
}

Reconciler* Engine::reconcilerFor(Kind kind) const {
  const auto it = reconcilers_.find(kind);
  return it == reconcilers_.end() ? nullptr : it->second.get();
}

void Engine::apply(DesiredState snapshot) {
  DocumentChanges changes;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, doc] : desired_->documents)
      if (!snapshot.documents.contains(key)) changes.removed.push_back(key);
  }
  for (const auto& [key, doc] : snapshot.documents) changes.changed.push_back(key);
  apply(std::move(snapshot), changes);
}

std::set<DocumentKey> Engine::vanishedLocked(const DocumentChanges& changes, const DesiredState& next) const {
  std::set<DocumentKey> vanished;
  auto consider = [&](const DocumentKey& key) {
    if (desired_->documents.contains(key) && !next.documents.contains(key)) vanished.insert(key);
  };
  for (const auto& key : changes.removed) consider(key);
  for (const auto& key : kept_) consider(key);  // still gone: counted again with this snapshot's removals
  return vanished;
}

Engine::Removal Engine::deleteOrKeepLocked(const std::set<DocumentKey>& vanished, DesiredState& next,
                                           std::vector<DocumentKey>& toQueue) {
  kept_.clear();
  const bool tooMany = static_cast<int>(vanished.size()) > options_.maxDeletionsPerPass;
  // Manifests with no document at all (git-sync's link swapped to an empty worktree, a wrong path) never remove
  // every document (Argo CD's allowEmpty: false), nor, at start, the statuses that journal operations.
  const bool emptied = !tooMany && next.documents.empty() && (!vanished.empty() || (!loaded_ && !store_.list().empty()));
  if (tooMany || emptied) {
    std::string names;
    for (const auto& key : vanished) {
      next.documents.emplace(key, desired_->documents.at(key));
      names += (names.empty() ? "" : ", ") + key.str();
    }
    kept_ = vanished;
    const std::string message =
        emptied ? "the manifests hold no document (an empty checkout?): the removal of every document is refused and they are "
                  "kept as they were" + (names.empty() ? std::string() : ": " + names) + "; to remove them all, remove them in steps"
                : std::to_string(vanished.size()) + " documents disappeared at once (more than maxDeletionsPerPass " +
                      std::to_string(options_.maxDeletionsPerPass) + "): " + names + "; the deletion is refused and they are kept as they were";
    spdlog::error("{}", message);
    store_.setOperatorCondition(condition::kSynced, condition::kFalse, emptied ? reason::kNoDocuments : reason::kTooManyDeletions, message);
    return emptied ? Removal::RefusedEmpty : Removal::RefusedTooMany;
  }
  for (const auto& key : vanished) {
    const Document& doc = desired_->documents.at(key);
    dependents_.remove(doc);
    deleting_[key] = doc;
    toQueue.push_back(key);
  }
  store_.setOperatorCondition(condition::kSynced, condition::kTrue, reason::kReconcileSuccess, "");
  return Removal::Applied;
}

void Engine::apply(DesiredState snapshot, const DocumentChanges& changes) {
  std::vector<DocumentKey> toQueue;
  std::vector<DocumentKey> stale;
  Priority priority = Priority::Normal;
  {
    std::lock_guard lock(mutex_);
    auto next = std::make_shared<DesiredState>(std::move(snapshot));  // shares its documents with the source's
    const Removal removal = deleteOrKeepLocked(vanishedLocked(changes, *next), *next, toQueue);
    const bool refused = removal != Removal::Applied;
    for (const auto& key : changes.changed) {
      const auto doc = next->documents.find(key);
      if (doc == next->documents.end()) continue;
      deleting_.erase(key);
      kept_.erase(key);
      const auto prev = desired_->documents.find(key);
      if (prev != desired_->documents.end()) dependents_.remove(prev->second);
      dependents_.add(doc->second);
      if (prev == desired_->documents.end() || prev->second.generation != doc->second.generation ||
          prev->second.reconcilePolicy != doc->second.reconcilePolicy || prev->second.deletionPolicy != doc->second.deletionPolicy) {
        parkedInPass_.erase(key);  // a changed document is never held back by its last refusal
        toQueue.push_back(key);
      }
    }
    metrics_.setManifestErrors(static_cast<int>(next->errors.size()) + (refused ? 1 : 0));
    std::string errors;
    for (const auto& e : next->errors) errors += (errors.empty() ? "" : "; ") + e.str();
    store_.setOperatorCondition("ManifestsValid", next->errors.empty() ? condition::kTrue : condition::kFalse,
                                next->errors.empty() ? reason::kManifestsLoaded : reason::kManifestErrors, errors);
    if (!loaded_) {
      priority = Priority::Low;  // the initial list: edits that arrive meanwhile go first
      if (removal != Removal::RefusedEmpty)  // status of documents removed while the operator was down: nothing to act on
        for (const auto& s : store_.list())
          if (!next->documents.contains(s.key)) stale.push_back(s.key);
    }
    // An edit is looked at against Azure as it is now: its pre-write checks (a key disabled since) never use an
    // older pass's reads. The snapshot's changed documents share a cache of their own; a resync pass under way
    // keeps its reads (it would otherwise read everything again after each edit, beside the edit's reads).
    if (loaded_) {  // the initial list is the first pass
      const auto editCache = std::make_shared<EditCache>(options_.observationMaxAge, passCache_);
      for (const auto& key : toQueue) editCaches_[key] = editCache;
    }
    desired_ = std::move(next);
    loaded_ = true;
  }
  for (const auto& key : stale) {
    spdlog::info("{}: no document any more; forgetting its status (Azure resource retained)", key.str());
    eraseStatus(key);
  }
  for (const auto& key : toQueue) queue_.add(key, priority);
}

void Engine::resyncNow() {
  std::vector<DocumentKey> keys;
  freshPassCache();
  {
    std::lock_guard lock(mutex_);
    ++pass_;  // a document parked in an earlier pass is looked at again
    for (const auto& [key, doc] : desired_->documents) keys.push_back(key);
    for (const auto& [key, doc] : deleting_) keys.push_back(key);
  }
  spdlog::debug("resync: {} documents", keys.size());
  for (const auto& key : keys) queue_.add(key, Priority::Low);  // behind any event
}

void Engine::scheduleResync() {
  std::lock_guard lock(timers_->mutex);
  if (stopped_) return;
  std::uniform_real_distribution<double> jitter(1 - options_.resyncJitter, 1 + options_.resyncJitter);
  const auto period = milliseconds(static_cast<milliseconds::rep>(options_.resyncPeriod.count() * jitter(timers_->rng)));
  timers_->resync.expires_after(period);
  timers_->resync.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    resyncNow();
    scheduleResync();
  });
}

void Engine::process(const DocumentKey& key) {
  LogScope scope(key);
  metrics_.workerStarted(key.kind);
  const auto start = std::chrono::steady_clock::now();
  std::shared_ptr<const DesiredState> desired;
  std::optional<Document> removed;
  {
    std::lock_guard lock(mutex_);
    desired = desired_;
    if (!desired->documents.contains(key))
      if (auto it = deleting_.find(key); it != deleting_.end()) removed = it->second;
  }
  Next n;
  const auto doc = desired->documents.find(key);
  try {
    if (doc != desired->documents.end())
      n = reconcileDocument(doc->second, *desired);
    else if (removed)
      n = reconcileDeletion(*removed, *desired);
  } catch (const std::exception& e) {
    const Document& d = doc != desired->documents.end() ? doc->second : *removed;
    n = failed(d, ReconcileError{.reason = "InternalError", .message = e.what()});
  }
  finish(key, n);
  for (const auto& next : groups_.passOn(key)) queue_.add(next);
  metrics_.reconciled(key.kind, n.result(), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  metrics_.workerFinished(key.kind);
}

void Engine::finish(const DocumentKey& key, const Next& n) {
  switch (n.how) {
    case Next::How::Done:
    case Next::How::Wait:
      queue_.forget(key);
      break;
    case Next::How::After:
      queue_.forget(key);
      queue_.addAfter(key, n.delay);
      break;
    case Next::How::Deferred:
      queue_.addAfter(key, n.delay);
      break;
    case Next::How::RateLimited:
      queue_.addRateLimited(key);
      break;
    case Next::How::Backoff:
      metrics_.reconcileError(key.kind);
      queue_.addRateLimited(key, n.delay);
      break;
    case Next::How::ErrorAfter:
      metrics_.reconcileError(key.kind);
      queue_.forget(key);
      queue_.addAfter(key, n.delay);
      break;
    case Next::How::ErrorUntilResync:
      metrics_.reconcileError(key.kind);
      queue_.forget(key);
      break;
  }
}

StoredStatus Engine::updateStatus(const DocumentKey& key, const std::function<void(StoredStatus&)>& change) {
  const bool existed = store_.contains(key);  // a new status counts as not Ready
  bool before = false;
  const StoredStatus after = store_.update(key, [&](StoredStatus& s) {
    before = s.status.ready;
    change(s);
    s.status.ready = isTrue(s.status.conditions, condition::kReady);
  });
  metrics_.setRefused(key, limitRefusalOf(after.status.conditions));
  if (!existed || before != after.status.ready) readinessChanged(key, after.status.ready);
  return after;
}

void Engine::eraseStatus(const DocumentKey& key) {
  const auto old = store_.get(key);
  store_.erase(key);
  {
    std::lock_guard lock(mutex_);
    parkedInPass_.erase(key);
  }
  if (!old) return;
  if (old->status.operation) releaseGroup(key, MutationGroups::Outcome::Ended);  // an operation nobody will poll
  if (key.kind == Kind::NetAppAccount) metrics_.forgetKeyExpiry(key.name);
  metrics_.setRefused(key, {});
  readinessChanged(key, false);
}

void Engine::readinessChanged(const DocumentKey& key, bool ready) {
  {
    // The store keeps the counts on every change; read and set under one lock, so that two changes racing
    // never leave the gauges at the older counts.
    std::lock_guard lock(gaugesMutex_);
    const ReadinessCounts counts = store_.counts(key.kind);
    metrics_.setResourceReady(key.kind, counts.ready);
    metrics_.setResourceNotReady(key.kind, counts.notReady);
  }
  if (!ready) return;
  for (const auto& k : referrersOf(key)) queue_.add(k);
}

std::set<DocumentKey> Engine::referrersOf(const DocumentKey& key) const {
  std::lock_guard lock(mutex_);
  return dependents_.referrers(key);
}

void Engine::recordFacts(const Document& doc, const Json& facts) {
  if (!facts.is_object()) return;
  // The account's facts (reconcilers/netapp_account.h): keyExpiry in Unix seconds, keyVault {name, keyName}.
  const auto expiry = facts.find("keyExpiry");
  const auto vault = facts.find("keyVault");
  if (vault != facts.end() && vault->is_object()) {
    if (expiry != facts.end() && expiry->is_number())
      metrics_.setKeyExpiry(doc.key.name, vault->value("name", ""), vault->value("keyName", ""), expiry->get<double>());
    else
      metrics_.forgetKeyExpiry(doc.key.name);  // a key without expiry has no series
  }
  if (const auto it = facts.find("keyVaultStatus"); it != facts.end() && it->is_string())
    metrics_.setKeyVaultStatus(doc.key.name, it->get<std::string>());
}

void Engine::releaseGroup(const DocumentKey& key, MutationGroups::Outcome outcome) {
  for (const auto& next : groups_.release(key, outcome)) queue_.add(next);
}

Engine::Next Engine::retryPolicy(const ReconcileError& error) {
  switch (error.errorClass) {
    case ErrorClass::RetryNow: return Next{Next::How::Backoff, error.retryAfter.value_or(milliseconds(0))};
    case ErrorClass::RetryAfter:
      return error.retryAfter ? Next{Next::How::ErrorAfter, *error.retryAfter} : Next{Next::How::Backoff};
    case ErrorClass::WaitsForAzure:
      return error.retryAfter ? Next{Next::How::ErrorAfter, *error.retryAfter} : Next{Next::How::ErrorUntilResync};
    case ErrorClass::NeedsDocumentChange: return Next{Next::How::ErrorUntilResync};
  }
  return Next{Next::How::Backoff};
}

Engine::Next Engine::failed(const Document& doc, const ReconcileError& error) {
  if (error.parked())
    spdlog::error("{}: {} (not resent before the document changes or the next resync)", error.reason, error.message);
  else
    spdlog::warn("{}: {}", error.reason, error.message);
  if (error.parked()) {  // before the status shows it: a snapshot applied from then on clears it (apply)
    std::lock_guard lock(mutex_);
    parkedInPass_[doc.key] = pass_;
  }
  const auto now = SysClock::now();
  const bool transient = error.errorClass == ErrorClass::RetryNow || error.errorClass == ErrorClass::RetryAfter;
  updateStatus(doc.key, [&](StoredStatus& s) {
    setCondition(s.status.conditions, condition::kSynced, condition::kFalse, error.reason, error.message, now);
    if (error.conditionType)
      setCondition(s.status.conditions, *error.conditionType, condition::kFalse, error.reason, error.message, now);
    // A transient failure does not undo what this process observed at this generation; anything else does.
    const bool stillReady = transient && isTrue(s.status.conditions, condition::kReady) && s.status.generation == doc.generation;
    if (!stillReady)
      setCondition(s.status.conditions, condition::kReady, condition::kFalse, error.reason, error.message, now);
    s.status.azureError = error.azure;
    if (error.parked()) s.parkedGeneration = doc.generation;
  });
  return retryPolicy(error);
}

bool Engine::parkedInThisPass(const Document& doc, StoredStatus& st) {
  if (!st.parkedGeneration) return false;
  {
    std::lock_guard lock(mutex_);
    const auto it = parkedInPass_.find(doc.key);
    if (*st.parkedGeneration == doc.generation && it != parkedInPass_.end() && it->second == pass_) return true;
    parkedInPass_.erase(doc.key);
  }
  st = updateStatus(doc.key, [](StoredStatus& s) { s.parkedGeneration.reset(); });
  return false;
}

Engine::Next Engine::pollOperation(const Document& doc, StoredStatus& st, bool& succeeded) {
  succeeded = false;
  const OperationProgress progress =
      poll_ ? poll_(*st.status.operation) : OperationProgress{.state = OperationProgress::State::Succeeded};
  const std::string action = st.operationAction;
  if (progress.state == OperationProgress::State::InProgress) {
    st = updateStatus(doc.key, [&](StoredStatus& s) {
      if (!progress.operation.is_null()) s.status.operation = progress.operation;
    });
    return Next{Next::How::After, progress.retryAfter};
  }
  releaseGroup(doc.key, groupOutcome(progress.state == OperationProgress::State::Failed, progress.error));
  // What it showed of Azure keeps the pass's observations current (reconciler.h OperationProgress::observed).
  if (progress.observed) progress.observed(*observationCacheFor(doc.key));
  else freshPassCache();
  st = updateStatus(doc.key, [&](StoredStatus& s) {
    s.status.operation.reset();
    s.operationGroup.clear();
    s.operationAction.clear();
  });
  if (progress.state == OperationProgress::State::Failed)
    return failed(doc, progress.error.value_or(ReconcileError{.reason = std::string(reason::kOperationFailed),
                                                              .message = action + " operation failed"}));
  spdlog::info("{} operation finished", action);
  succeeded = true;
  return Next{Next::How::Done};
}

ReferenceState Engine::referenceState(const DocumentKey& key) const {
  const auto st = store_.get(key);
  return st && st->status.ready ? ReferenceState::Ready : ReferenceState::NotReady;
}

Engine::Next Engine::skipped(const Document& doc) {
  const auto now = SysClock::now();
  updateStatus(doc.key, [&](StoredStatus& s) {
    setCondition(s.status.conditions, condition::kReady, condition::kUnknown, reason::kReconcileSkipped,
                 "reconcile-policy skip: the operator leaves this resource alone", now);
    setCondition(s.status.conditions, condition::kSynced, condition::kTrue, reason::kReconcileSuccess, "", now);
    s.status.generation = doc.generation;
  });
  return Next{Next::How::Done};
}

Engine::Next Engine::blocked(const Document& doc, const Decision& decision) {
  if (decision.reason == reason::kNoReconciler)
    return failed(doc, ReconcileError{.reason = decision.reason, .message = decision.message,
                                      .errorClass = ErrorClass::NeedsDocumentChange});
  spdlog::debug("{}", decision.message);
  const auto now = SysClock::now();
  updateStatus(doc.key, [&](StoredStatus& s) {
    setCondition(s.status.conditions, condition::kDependenciesReady, condition::kFalse, decision.reason, decision.message, now);
    setCondition(s.status.conditions, condition::kReady, condition::kFalse, reason::kWaitingForDependencies, decision.message, now);
  });
  return Next{Next::How::Wait};  // woken when the reference becomes Ready
}

void Engine::dependenciesReady(const Document& doc) {
  if (doc.references.empty()) return;
  updateStatus(doc.key, [&](StoredStatus& s) {
    setCondition(s.status.conditions, condition::kDependenciesReady, condition::kTrue, reason::kDependenciesReady, "", SysClock::now());
  });
}

void Engine::recordObservation(const Document& doc, const Observation& observed, Decision::Action action) {
  recordFacts(doc, observed.facts);
  const auto now = SysClock::now();
  updateStatus(doc.key, [&](StoredStatus& s) {
    mergeFacts(s.status.facts, observed.facts);
    for (const auto& c : observed.conditions) setCondition(s.status.conditions, c, now);
    if (action == Decision::Action::NoChange) {
      setCondition(s.status.conditions, condition::kReady, condition::kTrue, reason::kAvailable, "", now);
    } else if (action == Decision::Action::ReportDrift) {
      setCondition(s.status.conditions, condition::kReady, condition::kFalse, reason::kDriftDetected,
                   observed.exists ? "Azure differs in " + joinPaths(observed.diff) + " (reconcile-policy observe: not corrected)"
                                   : "the resource does not exist in Azure (reconcile-policy observe: not created)",
                   now);
    } else {
      return;
    }
    synced(s, doc, now);
  });
}

void Engine::synced(StoredStatus& s, const Document& doc, SysClock::time_point now) {
  setCondition(s.status.conditions, condition::kSynced, condition::kTrue, reason::kReconcileSuccess, "", now);
  s.status.generation = doc.generation;
  s.status.azureError.reset();
}

Engine::Next Engine::startWrite(const Document& doc, const WriteRequest& write) {
  if (options_.writeGate && !options_.writeGate()) {
    spdlog::info("{} not sent: this replica may not write to Azure now (not the leader)", write.action);
    return Next{Next::How::After, options_.writeGateRetry};
  }
  if (const auto wait = options_.writeAdmission ? options_.writeAdmission(doc) : milliseconds::zero(); wait > milliseconds::zero()) {
    spdlog::debug("{} deferred {} ms: its turn in the write bucket", write.action, wait.count());
    return Next{Next::How::Deferred, wait};
  }
  if (!groups_.acquire(write.group, doc.key)) {
    spdlog::debug("waiting for a place among the writes of {}", write.group.scope);
    return Next{Next::How::Wait};
  }
  auto outcome = write.call();
  if (!outcome) {
    releaseGroup(doc.key, groupOutcome(true, outcome.error()));
    return failed(doc, outcome.error());
  }
  spdlog::info("{}{}", write.action, outcome->description.empty() ? "" : ": " + outcome->description);
  recordFacts(doc, outcome->facts);
  const std::string message = outcome->description.empty() ? write.message : outcome->description;
  const auto now = SysClock::now();
  updateStatus(doc.key, [&](StoredStatus& s) {
    mergeFacts(s.status.facts, outcome->facts);
    setCondition(s.status.conditions, condition::kReady, condition::kFalse, write.progressReason, message, now);
    if (write.action != "remove") synced(s, doc, now);
    if (outcome->operation) {
      s.status.operation = *outcome->operation;
      s.operationGroup = write.group.stored();
      s.operationAction = write.action;
    }
  });
  if (outcome->operation) return Next{Next::How::After, outcome->requeueAfter.value_or(options_.defaultPollInterval)};
  releaseGroup(doc.key, MutationGroups::Outcome::Succeeded);
  if (outcome->requeueAfter) return Next{Next::How::After, *outcome->requeueAfter};
  return Next{Next::How::RateLimited};
}

Engine::Next Engine::reconcileDocument(const Document& doc, const DesiredState& desired) {
  StoredStatus st = updateStatus(doc.key, [&](StoredStatus& s) { s.source = doc.source; });
  if (parkedInThisPass(doc, st)) return Next{Next::How::Wait};
  if (st.status.operation) {
    bool succeeded = false;
    Next polled = pollOperation(doc, st, succeeded);
    if (!succeeded) return polled;
  }
  Reconciler* rec = reconcilerFor(doc.key.kind);
  DecisionInput input{.document = doc, .desired = desired,
                      .referenceState = [this](const DocumentKey& k) { return referenceState(k); },
                      .hasReconciler = rec != nullptr};
  const Decision first = decide(input);
  if (first.action == Decision::Action::Skip) return skipped(doc);
  if (first.action == Decision::Action::Blocked) return blocked(doc, first);
  dependenciesReady(doc);

  ContextHolder holder(store_, [this](const DocumentKey& k) { return referrersOf(k); }, observationCacheFor(doc.key), st.status);
  const ReconcileContext ctx = holder.context(doc, desired, doc.reconcilePolicy == ReconcilePolicy::Observe);
  auto observed = rec->observe(ctx);
  if (!observed) return failed(doc, observed.error());
  input.observed = &*observed;
  const Decision::Action action = decide(input).action;
  recordObservation(doc, *observed, action);
  if (action != Decision::Action::Create && action != Decision::Action::Update) return Next{Next::How::Done};

  const bool creating = action == Decision::Action::Create;
  if (!creating && st.status.generation == doc.generation && st.status.ready) {
    metrics_.driftCorrected(doc.key.kind);
    spdlog::info("drift corrected in {}", joinPaths(observed->diff));
  }
  return startWrite(doc, WriteRequest{
                             .group = rec->mutationGroup(ctx),
                             .action = creating ? "create" : "update",
                             .progressReason = creating ? reason::kCreating : reason::kUpdating,
                             .message = creating ? "creating" : "updating " + joinPaths(observed->diff),
                             .call = [&] { return creating ? rec->create(ctx, *observed) : rec->update(ctx, *observed); }});
}

void Engine::forgetDocument(const DocumentKey& key) {
  eraseStatus(key);
  std::lock_guard lock(mutex_);
  deleting_.erase(key);
}

Engine::Next Engine::reconcileDeletion(const Document& doc, const DesiredState& desired) {
  Reconciler* rec = reconcilerFor(doc.key.kind);
  DecisionInput input{.document = doc, .desired = desired, .hasReconciler = rec != nullptr, .removed = true};
  if (decide(input).action == Decision::Action::Forget) {
    spdlog::info("document removed; the Azure resource is retained (deletionPolicy Retain or reconcile-policy not manage)");
    forgetDocument(doc.key);
    return Next{Next::How::Done};
  }
  StoredStatus st = store_.get(doc.key).value_or(StoredStatus{.key = doc.key});
  if (st.status.operation) {
    const bool removing = st.operationAction == "remove";
    bool succeeded = false;
    Next polled = pollOperation(doc, st, succeeded);
    if (!succeeded) return polled;
    if (removing) {
      spdlog::info("deleted from Azure");
      forgetDocument(doc.key);
      return Next{Next::How::Done};
    }
  }
  ContextHolder holder(store_, [this](const DocumentKey& k) { return referrersOf(k); }, observationCacheFor(doc.key), st.status);
  const ReconcileContext ctx = holder.context(doc, desired, false);
  auto observed = rec->observe(ctx);
  if (!observed) return failed(doc, observed.error());
  input.observed = &*observed;
  if (decide(input).action == Decision::Action::Forget) {
    spdlog::info("deleted from Azure");
    forgetDocument(doc.key);
    return Next{Next::How::Done};
  }
  return startWrite(doc, WriteRequest{.group = rec->mutationGroup(ctx),
                                      .action = "remove",
                                      .progressReason = reason::kDeleting,
                                      .message = "deleting",
                                      .call = [&] { return rec->remove(ctx, *observed); }});
}

}  // namespace anf::controller
