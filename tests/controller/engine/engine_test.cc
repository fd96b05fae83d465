// The engine's decision tree, workers, dependencies, resync, deletion guard, long-running operations
// and shutdown, against reconcilers made of plain functions.
#include <utility>

#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <future>

#include "tests/controller/engine/fakes.h"

namespace anf::controller {
namespace {

using namespace std::chrono_literals;
using testing::FakeResource;
using testing::IoThread;
using testing::ReconcilerFns;
using testing::conditionReason;
using testing::conditionStatus;
using testing::fastOptions;
using testing::makeDocument;
using testing::makeState;
using testing::waitReady;

constexpr Kind kAccount = Kind::NetAppAccount;
constexpr Kind kPool = Kind::CapacityPool;

TEST(Engine, CreatesMissingResourceAndReportsReady) {
  IoThread io;
  Metrics metrics;
  FakeResource azure;
  auto fns = std::make_unique<ReconcilerFns>(kAccount);
  azure.wire(*fns);
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  engine.apply(makeState({makeDocument(kAccount, "acct")}));
  const DocumentKey key{kAccount, "acct"};
  ASSERT_TRUE(waitReady(engine, key));
  EXPECT_EQ(azure.creates, 1);
  EXPECT_EQ(azure.updates, 0);
  const auto st = engine.statuses().get(key);
  EXPECT_EQ(conditionStatus(engine, key, condition::kSynced), "True");
  EXPECT_EQ(conditionReason(engine, key, condition::kReady), "Available");
  EXPECT_EQ(st->status.generation, makeDocument(kAccount, "acct").generation);
  EXPECT_EQ(st->status.facts.value("resourceId", ""), "/subscriptions/s/resourceGroups/rg/providers/Fake/acct");
}

TEST(Engine, NeverProcessesOneKeyOnTwoWorkersAndDeduplicates) {
  IoThread io;
  Metrics metrics;
  std::mutex mutex;
  std::map<std::string, int> active;
  std::atomic<int> overlaps{0}, observes{0};
  auto fns = std::make_unique<ReconcilerFns>(kAccount);
  fns->observeFn = [&](const ReconcileContext& c) -> Result<Observation> {
    ++observes;
    {
      std::lock_guard lock(mutex);
      if (++active[c.document.key.name] > 1) ++overlaps;
    }
    std::this_thread::sleep_for(2ms);  // the reconcile's own work: gives other workers a chance to collide
    {
      std::lock_guard lock(mutex);
      --active[c.document.key.name];
    }
    return Observation{.exists = true, .upToDate = true};
  };
  Engine engine(io.io, fastOptions(8), testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  engine.apply(makeState({makeDocument(kAccount, "a"), makeDocument(kAccount, "b"), makeDocument(kAccount, "c")}));
  constexpr int kPasses = 200;
  for (int i = 0; i < kPasses; ++i) engine.resyncNow();
  ASSERT_TRUE(engine.waitIdle(10s));
  EXPECT_EQ(overlaps, 0);
  EXPECT_LT(observes, 3 * kPasses) << "adds of a queued key must be merged";
  EXPECT_GE(observes, 3);
}

TEST(Engine, RetryableErrorsBackOffThenSucceed) {
  IoThread io;
  Metrics metrics;
  std::atomic<int> calls{0};
  std::vector<std::chrono::steady_clock::time_point> times;
  std::mutex mutex;
  auto fns = std::make_unique<ReconcilerFns>(kAccount);
  fns->observeFn = [&](const ReconcileContext&) -> Result<Observation> {
    {
      std::lock_guard lock(mutex);
      times.push_back(std::chrono::steady_clock::now());
    }
    if (++calls <= 4) return std::unexpected(ReconcileError{.reason = "AnotherOperationInProgress", .message = "busy"});
    return Observation{.exists = true, .upToDate = true};
  };
  auto options = fastOptions();
  options.backoff.baseDelay = 20ms;
  options.backoff.maxDelay = 1s;
  Engine engine(io.io, options, testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  const DocumentKey key{kAccount, "acct"};
  engine.apply(makeState({makeDocument(kAccount, "acct")}));
  ASSERT_TRUE(engine.statuses().waitFor([&] { return conditionReason(engine, key, condition::kSynced) == "AnotherOperationInProgress"; }, 5s));
  ASSERT_TRUE(waitReady(engine, key));
  EXPECT_EQ(calls, 5);
  std::lock_guard lock(mutex);
  // 20, 40, 80, 160 ms between attempts: each gap at least the base delay doubled per failure.
  for (int i = 1; i < 5; ++i) EXPECT_GE(times[i] - times[i - 1], 20ms * (1 << (i - 1))) << "gap " << i;
  EXPECT_EQ(conditionStatus(engine, key, condition::kSynced), "True");
}

// Observe refuses the spec: parked (no backoff), looked at again by each resync, unparked by a spec change.
TEST(Engine, NeedsDocumentChangeIsParkedUntilTheSpecChanges) {
  IoThread io;
  Metrics metrics;
  std::atomic<int> observes{0};
  auto fns = std::make_unique<ReconcilerFns>(kAccount);
  fns->observeFn = [&](const ReconcileContext& c) -> Result<Observation> {
    ++observes;
    if (c.document.spec.value("value", "") == "bad")
      return std::unexpected(ReconcileError{.reason = "KeyVaultKeyNotFound", .message = "The key was not found",
                                            .errorClass = ErrorClass::NeedsDocumentChange,
                                            .conditionType = "KeyVaultValid"});
    return Observation{.exists = true, .upToDate = true};
  };
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  const DocumentKey key{kAccount, "acct"};
  engine.apply(makeState({makeDocument(kAccount, "acct", "bad")}));
  ASSERT_TRUE(engine.statuses().waitFor([&] { return conditionReason(engine, key, condition::kSynced) == "KeyVaultKeyNotFound"; }, 5s));
  EXPECT_EQ(conditionStatus(engine, key, "KeyVaultValid"), "False");
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(observes, 1) << "not retried with backoff";
  engine.resyncNow();
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(observes, 2) << "level-based: a resync looks at Azure again";

  engine.apply(makeState({makeDocument(kAccount, "acct", "good")}));
  ASSERT_TRUE(waitReady(engine, key));
  EXPECT_EQ(observes, 3);
  EXPECT_EQ(conditionStatus(engine, key, condition::kSynced), "True");
}

TEST(Engine, DependencyGatesAndWakesTheReferrer) {
  IoThread io;
  Metrics metrics;
  FakeResource account;
  FakeResource pool;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto accountFns = std::make_unique<ReconcilerFns>(kAccount);
  account.wire(*accountFns);
  auto create = accountFns->createFn;
  accountFns->createFn = [&, create](const ReconcileContext& c, const Observation& o) {
    released.wait();  // the account takes its time
    return create(c, o);
  };
  auto poolFns = std::make_unique<ReconcilerFns>(kPool);
  pool.wire(*poolFns);
  std::atomic<bool> poolSawReadyAccount{true};
  auto observePool = poolFns->observeFn;
  poolFns->observeFn = [&, observePool](const ReconcileContext& c) {
    const ResourceStatus* acct = c.statusOf({kAccount, "acct"});
    if (acct == nullptr || !acct->ready) poolSawReadyAccount = false;
    return observePool(c);
  };
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(accountFns), std::move(poolFns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  const DocumentKey acct{kAccount, "acct"}, pl{kPool, "pool"};
  engine.apply(makeState({makeDocument(kAccount, "acct"), makeDocument(kPool, "pool", "v1", {acct})}));

  ASSERT_TRUE(engine.statuses().waitFor([&] { return conditionStatus(engine, pl, condition::kDependenciesReady) == "False"; }, 5s));
  EXPECT_EQ(conditionReason(engine, pl, condition::kDependenciesReady), "DependencyNotReady");
  EXPECT_NE(engine.statuses().get(pl)->status.conditions.front().message.find("NetAppAccount/acct"), std::string::npos);
  EXPECT_EQ(pool.observes, 0);

  release.set_value();
  ASSERT_TRUE(waitReady(engine, pl));
  EXPECT_TRUE(poolSawReadyAccount);
  EXPECT_EQ(conditionStatus(engine, pl, condition::kDependenciesReady), "True");
  EXPECT_EQ(pool.creates, 1);
}

// A reconcile finds the documents that name its document (an account's pools) from the engine's reference index,
// kept current by each apply: a pool moved to another account, and a pool removed, are no longer its account's.
TEST(Engine, AReconcileFindsTheDocumentsThatNameItThroughTheEnginesIndex) {
  IoThread io;
  Metrics metrics;
  std::mutex mutex;
  std::map<std::string, std::set<DocumentKey>> seen;  // account -> what its last reconcile was told names it
  auto accountFns = std::make_unique<ReconcilerFns>(kAccount);
  accountFns->observeFn = [&](const ReconcileContext& c) -> Result<Observation> {
    std::lock_guard lock(mutex);
    seen[c.document.key.name] = c.referrers(c.document.key);
    return Observation{.exists = true, .upToDate = true};
  };
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(accountFns), std::make_unique<ReconcilerFns>(kPool)), {}, metrics);
  ASSERT_TRUE(engine.start());
  const DocumentKey a{kAccount, "a"}, b{kAccount, "b"}, p1{kPool, "p1"}, p2{kPool, "p2"};
  engine.apply(makeState({makeDocument(kAccount, "a"), makeDocument(kAccount, "b"), makeDocument(kPool, "p1", "v1", {a}),
                          makeDocument(kPool, "p2", "v1", {a})}));
  ASSERT_TRUE(engine.waitIdle(5s));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(seen["a"], (std::set<DocumentKey>{p1, p2}));
    EXPECT_EQ(seen["b"], std::set<DocumentKey>{});
  }
  engine.apply(makeState({makeDocument(kAccount, "a"), makeDocument(kAccount, "b"), makeDocument(kPool, "p1", "v1", {b})}));
  engine.resyncNow();
  ASSERT_TRUE(engine.waitIdle(5s));
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen["a"], std::set<DocumentKey>{}) << "p1 moved to b, p2 removed";
  EXPECT_EQ(seen["b"], std::set<DocumentKey>{p1});
}

TEST(Engine, MissingDependencyIsNamed) {
  IoThread io;
  Metrics metrics;
  auto fns = std::make_unique<ReconcilerFns>(kPool);
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  const DocumentKey pl{kPool, "pool"};
  engine.apply(makeState({makeDocument(kPool, "pool", "v1", {{kAccount, "ghost"}})}));
  ASSERT_TRUE(engine.statuses().waitFor([&] { return conditionReason(engine, pl, condition::kDependenciesReady) == "DependencyNotFound"; }, 5s));
  const auto st = engine.statuses().get(pl);
  EXPECT_NE(findCondition(st->status.conditions, condition::kDependenciesReady)->message.find("NetAppAccount/ghost"), std::string::npos);
  EXPECT_EQ(conditionStatus(engine, pl, condition::kReady), "False");
}

TEST(Engine, ResyncCorrectsDriftAndCountsIt) {
  IoThread io;
  Metrics metrics;
  FakeResource azure;
  auto fns = std::make_unique<ReconcilerFns>(kAccount);
  azure.wire(*fns);
  auto options = fastOptions();
  options.resyncPeriod = 100ms;
  Engine engine(io.io, options, testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  const DocumentKey key{kAccount, "acct"};
  engine.apply(makeState({makeDocument(kAccount, "acct", "wanted")}));
  ASSERT_TRUE(waitReady(engine, key));
  azure.drift("changed-in-portal");
  // The resync timer (not a test call) finds it.
  ASSERT_TRUE(engine.statuses().waitFor([&] { return azure.updates.load() == 1 && conditionStatus(engine, key, condition::kReady) == "True"; }, 5s));
  {
    std::lock_guard lock(azure.mutex);
    EXPECT_EQ(azure.value, "wanted");
  }
  EXPECT_NE(metrics.text().find("anf_cmk_drift_corrected_total{kind=\"NetAppAccount\"} 1"), std::string::npos);
}

TEST(Engine, ReconcilesOfOnePassShareOneObservationCache) {
  IoThread io;
  Metrics metrics;
  std::atomic<int> lists{0};
  auto fns = std::make_unique<ReconcilerFns>(Kind::Volume);
  fns->observeFn = [&](const ReconcileContext& c) -> Result<Observation> {
    auto volumes = c.cache.getOrLoad("pool1/volumes", [&]() -> Result<Json> {
      ++lists;
      return Json::array({"v1", "v2", "v3"});
    });
    if (!volumes) return std::unexpected(volumes.error());
    return Observation{.exists = true, .upToDate = true};
  };
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  engine.apply(makeState({makeDocument(Kind::Volume, "v1"), makeDocument(Kind::Volume, "v2"), makeDocument(Kind::Volume, "v3")}));
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(lists, 1) << "three volumes, one LIST";
  engine.resyncNow();
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(lists, 2) << "a resync pass starts with a fresh cache";
}

// An edit is observed against Azure as it is now, and a resync pass under way keeps its reads (issue 14: the edit's
// latency, and no second read of everything after each edit).
TEST(Engine, AnEditReadsAzureAgainWhileTheResyncPassKeepsItsReads) {
  IoThread io;
  Metrics metrics;
  std::atomic<int> lists{0};
  std::promise<void> v2Observing, releaseV2;
  std::shared_future<void> v2Released = releaseV2.get_future().share();
  std::atomic<bool> holdV2{false};
  auto fns = std::make_unique<ReconcilerFns>(Kind::Volume);
  fns->observeFn = [&](const ReconcileContext& c) -> Result<Observation> {
    const std::string pool = c.document.key.name == "v1" ? "pool1" : "pool2";  // v2 and v3 share pool2
    auto volumes = c.cache.getOrLoad(pool + "/volumes", [&]() -> Result<Json> {
      ++lists;
      return Json::array();
    });
    if (!volumes) return std::unexpected(volumes.error());
    if (c.document.key.name == "v2" && holdV2.exchange(false)) {
      v2Observing.set_value();
      v2Released.wait();
    }
    return Observation{.exists = true, .upToDate = true};
  };
  Engine engine(io.io, fastOptions(1), testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  auto state = [](const std::string& v1) {
    return makeState({makeDocument(Kind::Volume, "v1", v1), makeDocument(Kind::Volume, "v2"), makeDocument(Kind::Volume, "v3")});
  };
  engine.apply(state("v1"));
  ASSERT_TRUE(engine.waitIdle(5s));
  ASSERT_EQ(lists, 2);
  holdV2 = true;
  engine.resyncNow();  // v1, v2, v3 in this order on the one worker: v1 and v2 read, v2 holds the worker
  v2Observing.get_future().wait();
  engine.apply(state("v2"));  // v1 edited while the pass is under way
  releaseV2.set_value();
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(lists, 5) << "the pass's two LISTs, then the edit's own of pool1; v3 uses the pass's of pool2";
}

// An operation that finishes may have changed other resources (changeKeyVault moves every volume): what the pass
// cached before it is not used after it.
TEST(Engine, AFinishedOperationStartsAFreshObservationCache) {
  IoThread io;
  Metrics metrics;
  std::atomic<int> lists{0};
  std::atomic<bool> done{false};
  auto account = std::make_unique<ReconcilerFns>(kAccount);
  account->observeFn = [&](const ReconcileContext& c) -> Result<Observation> {
    auto volumes = c.cache.getOrLoad("pool1/volumes", [&]() -> Result<Json> {
      ++lists;
      return Json::array({"v1"});
    });
    if (!volumes) return std::unexpected(volumes.error());
    return Observation{.exists = true, .upToDate = done.load()};
  };
  account->updateFn = [&](const ReconcileContext&, const Observation&) -> Result<Outcome> {
    return Outcome{.operation = Json{{"id", "op-1"}}, .requeueAfter = 5ms, .description = "started change"};
  };
  OperationPollFn poll = [&](const Json&) {
    done = true;
    return OperationProgress{.state = OperationProgress::State::Succeeded};
  };
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(account)), poll, metrics);
  ASSERT_TRUE(engine.start());
  engine.apply(makeState({makeDocument(kAccount, "acct")}));
  ASSERT_TRUE(waitReady(engine, DocumentKey{kAccount, "acct"}));
  EXPECT_EQ(lists, 2) << "the observation after the operation lists again";
}

// A LIST in flight when a write's answer is recorded may predate the write: it is not kept, and the next
// observation reads Azure again instead of acting on it (a volume just created would look absent).
TEST(PassCache, AReadInFlightDuringAChangeIsNotKept) {
  PassCache cache;
  std::promise<void> inFlight, answer;
  int loads = 0;
  auto load = [&]() -> Result<Json> {
    ++loads;
    return Json::array({"v1"});
  };
  std::thread reader([&] {
    (void)cache.getOrLoad("pool1/volumes", [&]() -> Result<Json> {
      inFlight.set_value();
      answer.get_future().wait();
      return load();
    });
  });
  inFlight.get_future().wait();
  cache.update("pool1/volumes", [](Json& items) { items.push_back("v2"); });
  answer.set_value();
  reader.join();
  auto listed = cache.getOrLoad("pool1/volumes", load);
  ASSERT_TRUE(listed);
  EXPECT_EQ(loads, 2) << "the read that predates the change is not kept";
  EXPECT_EQ(cache.getOrLoad("pool1/volumes", load)->size(), 1u);
  EXPECT_EQ(loads, 2) << "a read after the change is kept";
}

// An operation that says what it showed of Azure (OperationProgress::observed) keeps the pass cache: the
// observation after it reads the recorded result, not Azure.
TEST(Engine, AnOperationsResultKeepsThePassCacheCurrent) {
  IoThread io;
  Metrics metrics;
  std::atomic<int> lists{0};
  auto account = std::make_unique<ReconcilerFns>(kAccount);
  account->observeFn = [&](const ReconcileContext& c) -> Result<Observation> {
    auto volumes = c.cache.getOrLoad("pool1/volumes", [&]() -> Result<Json> {
      ++lists;
      return Json::array({"v1"});
    });
    if (!volumes) return std::unexpected(volumes.error());
    return Observation{.exists = true, .upToDate = volumes->size() == 2};
  };
  account->updateFn = [&](const ReconcileContext&, const Observation&) -> Result<Outcome> {
    return Outcome{.operation = Json{{"id", "op-1"}}, .requeueAfter = 5ms, .description = "started create"};
  };
  OperationPollFn poll = [&](const Json&) {
    return OperationProgress{.state = OperationProgress::State::Succeeded,
                             .observed = [](ObservationCache& cache) {
                               cache.update("pool1/volumes", [](Json& items) { items.push_back("v2"); });
                             }};
  };
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(account)), poll, metrics);
  ASSERT_TRUE(engine.start());
  engine.apply(makeState({makeDocument(kAccount, "acct")}));
  ASSERT_TRUE(waitReady(engine, DocumentKey{kAccount, "acct"}));
  EXPECT_EQ(lists, 1) << "Ready from the operation's recorded result, without a second LIST";
}

TEST(Engine, ObservePolicyReportsDriftAndNeverWrites) {
  IoThread io;
  Metrics metrics;
  FakeResource azure;
  azure.exists = true;
  azure.value = "other";
  auto fns = std::make_unique<ReconcilerFns>(kAccount);
  azure.wire(*fns);
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  auto doc = makeDocument(kAccount, "acct", "wanted");
  doc.reconcilePolicy = ReconcilePolicy::Observe;
  auto skipped = makeDocument(kAccount, "skipped");
  skipped.reconcilePolicy = ReconcilePolicy::Skip;
  engine.apply(makeState({doc, skipped}));
  const DocumentKey key{kAccount, "acct"};
  ASSERT_TRUE(engine.statuses().waitFor([&] { return conditionReason(engine, key, condition::kReady) == "DriftDetected"; }, 5s));
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(azure.updates + azure.creates, 0);
  EXPECT_EQ(azure.observes, 1) << "skip: not even observed";
  EXPECT_NE(engine.statuses().get(key)->status.conditions.front().message.find("properties.value"), std::string::npos);
  EXPECT_EQ(conditionReason(engine, {kAccount, "skipped"}, condition::kReady), "ReconcileSkipped");
}

TEST(Engine, DeletionGuardRefusesMassDeletionAndDeletePolicyRemoves) {
  IoThread io;
  Metrics metrics;
  std::mutex mutex;
  std::set<std::string> removed;
  auto fns = std::make_unique<ReconcilerFns>(kAccount);
  fns->removeFn = [&](const ReconcileContext& c, const Observation&) -> Result<Outcome> {
    std::lock_guard lock(mutex);
    removed.insert(c.document.key.name);
    return Outcome{};
  };
  fns->observeFn = [&](const ReconcileContext& c) -> Result<Observation> {
    std::lock_guard lock(mutex);
    return Observation{.exists = !removed.contains(c.document.key.name), .upToDate = true};
  };
  auto options = fastOptions();
  options.maxDeletionsPerPass = 2;
  Engine engine(io.io, options, testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  std::vector<Document> docs;
  for (const char* n : {"a", "b", "c", "d"}) {
    docs.push_back(makeDocument(kAccount, n));
    docs.back().deletionPolicy = DeletionPolicy::Delete;
  }
  docs.push_back(makeDocument(kAccount, "kept"));  // deletionPolicy Retain (default)
  engine.apply(makeState(docs));
  for (const auto& d : docs) ASSERT_TRUE(waitReady(engine, d.key));

  engine.apply(makeState({}));  // an emptied checkout: 5 documents gone at once
  ASSERT_TRUE(engine.waitIdle(5s));
  const auto op = engine.statuses().operatorConditions();
  ASSERT_NE(findCondition(op, condition::kSynced), nullptr);
  EXPECT_EQ(findCondition(op, condition::kSynced)->reason, "TooManyDeletions");
  EXPECT_NE(metrics.text().find("anf_cmk_manifest_errors 1"), std::string::npos);
  EXPECT_EQ(engine.desired()->documents.size(), 5u);
  {
    std::lock_guard lock(mutex);
    EXPECT_TRUE(removed.empty());
  }

  // Removing two (one Delete, one Retain) is within the limit.
  engine.apply(makeState({docs[1], docs[2], docs[3]}));
  ASSERT_TRUE(engine.statuses().waitFor([&] { return !engine.statuses().get({kAccount, "a"}) && !engine.statuses().get({kAccount, "kept"}); }, 5s));
  std::lock_guard lock(mutex);
  EXPECT_EQ(removed, std::set<std::string>{"a"});
  EXPECT_EQ(findCondition(engine.statuses().operatorConditions(), condition::kSynced)->status, "True");
}

TEST(Engine, ADeltaThatRemovesAFilesDocumentsGoesThroughTheDeletionGuard) {
  testing::IoThread io;
  Metrics metrics;
  auto fns = std::make_unique<ReconcilerFns>(kAccount);
  fns->observeFn = [](const ReconcileContext&) -> Result<Observation> { return Observation{.exists = true, .upToDate = true}; };
  auto options = fastOptions();
  options.maxDeletionsPerPass = 2;
  Engine engine(io.io, options, testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  std::vector<Document> docs;
  DocumentChanges all;
  for (const char* n : {"a", "b", "c", "d"}) {
    docs.push_back(makeDocument(kAccount, n));
    all.changed.push_back(docs.back().key);
  }
  engine.apply(makeState(docs), all);
  for (const auto& d : docs) ASSERT_TRUE(waitReady(engine, d.key));
  auto synced = [&] { return findCondition(engine.statuses().operatorConditions(), condition::kSynced)->reason; };

  // A removed file took three documents: refused, they stay.
  engine.apply(makeState({docs[3]}), DocumentChanges{.removed = {docs[0].key, docs[1].key, docs[2].key}});
  EXPECT_EQ(synced(), "TooManyDeletions");
  EXPECT_EQ(engine.desired()->documents.size(), 4u);
  // A later, unrelated change does not sneak the deletion through: the three still count.
  const Document e = makeDocument(kAccount, "e");
  engine.apply(makeState({docs[3], e}), DocumentChanges{.changed = {e.key}});
  EXPECT_EQ(synced(), "TooManyDeletions");
  EXPECT_EQ(engine.desired()->documents.size(), 5u);
  ASSERT_TRUE(waitReady(engine, e.key));
  // The file comes back: nothing was deleted, nothing is refused any more.
  engine.apply(makeState(docs), DocumentChanges{.changed = {docs[0].key, docs[1].key, docs[2].key}, .removed = {e.key}});
  EXPECT_EQ(synced(), reason::kReconcileSuccess);
  EXPECT_EQ(engine.desired()->documents.size(), 4u);
  ASSERT_TRUE(engine.waitIdle(5s));
  for (const auto& d : docs) EXPECT_TRUE(engine.statuses().get(d.key)) << d.key.str();
}

TEST(Engine, MutationsOfOneGroupNeverOverlap) {
  IoThread io;
  Metrics metrics;
  std::atomic<int> inGroup{0}, maxInGroup{0}, creates{0};
  std::mutex mutex;
  std::set<std::string> created;
  auto fns = std::make_unique<ReconcilerFns>(kPool);
  fns->observeFn = [&](const ReconcileContext& c) -> Result<Observation> {
    std::lock_guard lock(mutex);
    const bool exists = created.contains(c.document.key.name);
    return Observation{.exists = exists, .upToDate = exists};
  };
  fns->createFn = [&](const ReconcileContext& c, const Observation&) -> Result<Outcome> {
    const int now = ++inGroup;
    maxInGroup = std::max(maxInGroup.load(), now);
    ++creates;
    std::this_thread::sleep_for(5ms);  // the write itself
    {
      std::lock_guard lock(mutex);
      created.insert(c.document.key.name);
    }
    --inGroup;
    return Outcome{.requeueAfter = 0ms};
  };
  fns->groupFn = [](const ReconcileContext&) { return std::string("account/acct"); };
  Engine engine(io.io, fastOptions(8), testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  std::vector<Document> docs;
  for (int i = 0; i < 6; ++i) docs.push_back(makeDocument(kPool, "p" + std::to_string(i)));
  engine.apply(makeState(docs));
  for (const auto& d : docs) ASSERT_TRUE(waitReady(engine, d.key));
  EXPECT_EQ(maxInGroup, 1);
  EXPECT_EQ(creates, 6);
}

// Issue 14: releasing a mutation group woke every key waiting for it; all but one found it taken again, so
// each release cost a reconcile per waiter (quadratic in an account's volumes). One waiter is woken, and
// the next one when it does not take the group.
TEST(Engine, ReleasingAGroupWakesOneWaiterNotAll) {
  IoThread io;
  Metrics metrics;
  constexpr int kDocs = 12;
  std::atomic<int> observes{0};
  std::mutex mutex;
  std::set<std::string> created;
  auto fns = std::make_unique<ReconcilerFns>(kPool);
  fns->observeFn = [&](const ReconcileContext& c) -> Result<Observation> {
    ++observes;
    std::lock_guard lock(mutex);
    const bool exists = created.contains(c.document.key.name);
    return Observation{.exists = exists, .upToDate = exists};
  };
  fns->createFn = [&](const ReconcileContext& c, const Observation&) -> Result<Outcome> {
    return Outcome{.operation = Json{{"name", c.document.key.name}}, .requeueAfter = 1ms};
  };
  fns->groupFn = [](const ReconcileContext&) { return std::string("account/acct"); };
  OperationPollFn poll = [&](const Json& op) {
    std::lock_guard lock(mutex);
    created.insert(op.value("name", ""));
    return OperationProgress{.state = OperationProgress::State::Succeeded};
  };
  Engine engine(io.io, fastOptions(8), testing::reconcilers(std::move(fns)), poll, metrics);
  ASSERT_TRUE(engine.start());
  std::vector<Document> docs;
  for (int i = 0; i < kDocs; ++i) docs.push_back(makeDocument(kPool, "p" + std::to_string(i)));
  engine.apply(makeState(docs));
  for (const auto& d : docs) ASSERT_TRUE(waitReady(engine, d.key)) << d.key.str();
  // Each document: its first observation, one when woken for the group, one after its operation.
  EXPECT_LE(observes, 3 * kDocs);
}

// The key woken for a free group may not need it any more (Azure was corrected meanwhile): the next waiter
// gets its turn then, not at the next resync.
TEST(Engine, AWokenWaiterThatNeedsNoWritePassesTheGroupOn) {
  IoThread io;
  Metrics metrics;
  std::mutex mutex;
  std::set<std::string> existing;
  std::atomic<bool> holderDone{false};
  auto fns = std::make_unique<ReconcilerFns>(kPool);
  fns->observeFn = [&](const ReconcileContext& c) -> Result<Observation> {
    std::lock_guard lock(mutex);
    const bool exists = existing.contains(c.document.key.name);
    return Observation{.exists = exists, .upToDate = exists};
  };
  fns->createFn = [&](const ReconcileContext& c, const Observation&) -> Result<Outcome> {
    if (c.document.key.name == "holder") return Outcome{.operation = Json{{"id", "op"}}, .requeueAfter = 20ms};
    std::lock_guard lock(mutex);
    existing.insert(c.document.key.name);
    return Outcome{.requeueAfter = 0ms};
  };
  fns->groupFn = [](const ReconcileContext&) { return std::string("account/acct"); };
  OperationPollFn poll = [&](const Json& op) {
    if (!holderDone) return OperationProgress{.retryAfter = 20ms, .operation = op};
    std::lock_guard lock(mutex);
    existing.insert("holder");
    return OperationProgress{.state = OperationProgress::State::Succeeded};
  };
  auto options = fastOptions();
  Engine engine(io.io, options, testing::reconcilers(std::move(fns)), poll, metrics);
  ASSERT_TRUE(engine.start());
  const auto holder = makeDocument(kPool, "holder"), a = makeDocument(kPool, "a"), b = makeDocument(kPool, "b");
  engine.apply(makeState({holder}));
  ASSERT_TRUE(engine.statuses().waitFor([&] { return conditionReason(engine, holder.key, condition::kReady) == "Creating"; }, 5s));
  engine.apply(makeState({holder, a, b}));
  ASSERT_TRUE(engine.waitIdle(5s));  // a and b observed, found the group taken, and wait for it
  {
    std::lock_guard lock(mutex);
    existing.insert("a");  // created by someone else meanwhile: a needs no write when its turn comes
  }
  holderDone = true;
  EXPECT_TRUE(waitReady(engine, b.key)) << "b was never woken (resyncPeriod is an hour)";
  EXPECT_TRUE(waitReady(engine, a.key));
  ASSERT_TRUE(engine.stop(5s));
}

TEST(Engine, ResumesPollingAnOperationAfterRestart) {
  const auto dir = testing::tempDir();
  auto options = fastOptions();
  options.stateFile = dir / "state.json";
  const DocumentKey key{kAccount, "acct"};
  std::atomic<int> creates{0}, polls{0};
  std::atomic<bool> done{false};
  auto makeFns = [&] {
    auto fns = std::make_unique<ReconcilerFns>(kAccount);
    fns->observeFn = [&](const ReconcileContext&) -> Result<Observation> {
      return Observation{.exists = done.load(), .upToDate = done.load()};
    };
    fns->createFn = [&](const ReconcileContext&, const Observation&) -> Result<Outcome> {
      ++creates;
      return Outcome{.operation = Json{{"id", "op-1"}, {"polls", 0}}, .requeueAfter = 5ms, .description = "started create"};
    };
    fns->groupFn = [](const ReconcileContext&) { return std::string("account/acct"); };
    return fns;
  };
  OperationPollFn poll = [&](const Json& op) {
    ++polls;
    if (!done) return OperationProgress{.retryAfter = 5ms, .operation = Json{{"id", op["id"]}, {"polls", op["polls"].get<int>() + 1}}};
    return OperationProgress{.state = OperationProgress::State::Succeeded};
  };
  {
    IoThread io;
    Metrics metrics;
    Engine first(io.io, options, testing::reconcilers(makeFns()), poll, metrics);
    ASSERT_TRUE(first.start());
    first.apply(makeState({makeDocument(kAccount, "acct")}));
    ASSERT_TRUE(first.statuses().waitFor([&] { return polls.load() >= 2; }, 5s));
    ASSERT_TRUE(first.stop(5s));
    const auto st = first.statuses().get(key);
    ASSERT_TRUE(st->status.operation.has_value());
    EXPECT_EQ(conditionReason(first, key, condition::kReady), "Creating");
  }
  EXPECT_EQ(creates, 1);
  const int pollsBefore = polls;
  {
    IoThread io;
    Metrics metrics;
    Engine second(io.io, options, testing::reconcilers(makeFns()), poll, metrics);
    ASSERT_TRUE(second.start());
    ASSERT_TRUE(second.statuses().get(key)->status.operation.has_value()) << "operation loaded from the state file";
    second.apply(makeState({makeDocument(kAccount, "acct")}));
    ASSERT_TRUE(second.statuses().waitFor([&] { return polls.load() > pollsBefore; }, 5s));
    done = true;
    ASSERT_TRUE(waitReady(second, key));
    EXPECT_FALSE(second.statuses().get(key)->status.operation.has_value());
  }
  EXPECT_EQ(creates, 1) << "create is not called again after a restart";
  std::filesystem::remove_all(dir);
}

TEST(Engine, SigtermDuringALongWriteLetsItFinish) {
  IoThread io;
  Metrics metrics;
  std::promise<void> started;
  std::atomic<bool> finished{false};
  auto fns = std::make_unique<ReconcilerFns>(kAccount);
  std::atomic<bool> exists{false};
  fns->observeFn = [&](const ReconcileContext&) -> Result<Observation> { return Observation{.exists = exists.load(), .upToDate = exists.load()}; };
  fns->createFn = [&](const ReconcileContext&, const Observation&) -> Result<Outcome> {
    started.set_value();
    std::this_thread::sleep_for(300ms);  // a long synchronous write (one slow Azure request)
    exists = true;
    finished = true;
    return Outcome{.description = "created slowly"};
  };
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  boost::asio::signal_set signals(io.io, SIGTERM);
  std::promise<bool> stopped;
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) stopped.set_value(engine.stop(5s));
  });
  engine.apply(makeState({makeDocument(kAccount, "acct")}));
  started.get_future().wait();
  ASSERT_EQ(::raise(SIGTERM), 0);
  auto result = stopped.get_future();
  ASSERT_EQ(result.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(result.get()) << "stop waits for the in-flight write";
  EXPECT_TRUE(finished);
  EXPECT_EQ(conditionStatus(engine, {kAccount, "acct"}, condition::kSynced), "True");
}

}  // namespace
}  // namespace anf::controller
