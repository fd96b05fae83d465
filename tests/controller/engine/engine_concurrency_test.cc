// The engine's writes in parallel (issue 14): volumes of one account run at once; an account whose volume
// creations Azure refuses while another runs ("Another volume creation is in progress") converges anyway,
// none left failed, and the other account keeps its parallelism.
#include <utility>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "tests/controller/engine/fakes.h"

namespace anf::controller {
namespace {

using namespace std::chrono_literals;
using testing::IoThread;
using testing::ReconcilerFns;
using testing::fastOptions;
using testing::makeDocument;
using testing::makeState;
using testing::waitReady;

constexpr int kVolumesPerAccount = 4;

/// Two accounts' volumes. "serial" refuses a creation that starts while another of its volumes is being created,
/// as ANF does at times; "parallel" completes its creations only once all of them run at once.
struct TwoAccounts {
  std::mutex mutex;
  std::set<std::string> created;
  std::map<std::string, int> creating;  // account -> creations in flight
  int parallelStarted = 0;
  int refusals = 0;

  static std::string accountOf(const ReconcileContext& c) { return c.document.spec.value("account", ""); }

  void wire(ReconcilerFns& fns) {
    fns.groupFn = [](const ReconcileContext& c) { return MutationGroup(accountOf(c), accountOf(c) + "/volumes/" + c.document.key.name); };
    fns.observeFn = [this](const ReconcileContext& c) -> Result<Observation> {
      std::lock_guard lock(mutex);
      const bool exists = created.contains(c.document.key.name);
      return Observation{.exists = exists, .upToDate = exists};
    };
    fns.createFn = [this](const ReconcileContext& c, const Observation&) -> Result<Outcome> {
      std::lock_guard lock(mutex);
      const std::string account = accountOf(c);
      const bool refused = account == "serial" && creating[account] > 0;
      ++creating[account];
      if (account == "parallel") ++parallelStarted;
      return Outcome{.operation = Json{{"name", c.document.key.name}, {"account", account}, {"refused", refused}, {"polls", 0}},
                     .requeueAfter = 1ms};
    };
  }

  OperationProgress poll(const Json& op) {
    std::lock_guard lock(mutex);
    const std::string account = op["account"];
    const bool done = account == "parallel" ? parallelStarted >= kVolumesPerAccount : op["polls"].get<int>() >= 1;
    if (!done) {
      Json next = op;
      next["polls"] = op["polls"].get<int>() + 1;
      return OperationProgress{.retryAfter = 2ms, .operation = next};
    }
    --creating[account];
    if (op["refused"].get<bool>()) {
      ++refusals;
      const std::string name = op["name"];
      return OperationProgress{.state = OperationProgress::State::Failed,
                               .error = ReconcileError{.reason = "Conflict",
                                                       .message = "Unable to create volume '" + name +
                                                                  "'. Another volume creation is in progress. Please try again in a few minutes.",
                                                       .errorClass = ErrorClass::RetryAfter,
                                                       .retryAfter = 5ms,
                                                       .concurrencyRefused = true}};
    }
    created.insert(op["name"].get<std::string>());
    return OperationProgress{.state = OperationProgress::State::Succeeded};
  }
};

TEST(EngineConcurrency, RefusedVolumeCreationsNarrowTheirAccountOnlyAndAllConverge) {
  IoThread io;
  Metrics metrics;
  TwoAccounts azure;
  auto fns = std::make_unique<ReconcilerFns>(Kind::Volume);
  azure.wire(*fns);
  Engine engine(io.io, fastOptions(8), testing::reconcilers(std::move(fns)), [&](const Json& op) { return azure.poll(op); }, metrics);
  ASSERT_TRUE(engine.start());
  std::vector<Document> docs;
  for (const char* account : {"serial", "parallel"})
    for (int i = 0; i < kVolumesPerAccount; ++i) {
      Document d = makeDocument(Kind::Volume, std::string(account) + "-v" + std::to_string(i));
      d.spec["account"] = account;
      docs.push_back(std::move(d));
    }
  engine.apply(makeState(docs));
  // The parallel account's creations finish only once all of them run at once: narrowed, it would never converge.
  for (const auto& d : docs) EXPECT_TRUE(waitReady(engine, d.key, 20s)) << d.key.str();
  std::lock_guard lock(azure.mutex);
  EXPECT_GT(azure.refusals, 0) << "the serial account's volumes were created in parallel at first";
  EXPECT_EQ(azure.created.size(), docs.size());
  ASSERT_TRUE(engine.stop(5s));
}


/// A write whose turn in the write bucket has not come gives its worker back: the one worker observes another
/// document meanwhile, and the write goes once its turn comes, without a failure in status.
TEST(EngineConcurrency, AWriteWaitingForItsTurnGivesItsWorkerBackToAReadOnlyReconcile) {
  IoThread io;
  Metrics metrics;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> events;
  bool poolObserved = false;
  const auto record = [&](std::string event) {
    std::lock_guard lock(mutex);
    events.push_back(std::move(event));
    changed.notify_all();
  };
  testing::FakeResource account;
  auto accounts = std::make_unique<ReconcilerFns>(Kind::NetAppAccount);
  account.wire(*accounts);
  const auto create = accounts->createFn;
  accounts->createFn = [&, create](const ReconcileContext& c, const Observation& o) {
    record("create account");
    return create(c, o);
  };
  auto pools = std::make_unique<ReconcilerFns>(Kind::CapacityPool);
  pools->observeFn = [&](const ReconcileContext&) -> Result<Observation> {
    {
      std::lock_guard lock(mutex);
      poolObserved = true;
    }
    record("observe pool");
    return Observation{.exists = true, .upToDate = true};
  };
  EngineOptions options = fastOptions(1);
  std::unique_ptr<Engine> engine;
  std::vector<std::string> syncedWhenDeferred;
  options.writeAdmission = [&](const Document& doc) {
    std::lock_guard lock(mutex);
    if (poolObserved) return 0ms;
    syncedWhenDeferred.push_back(testing::conditionStatus(*engine, doc.key, condition::kSynced));
    events.push_back("deferred " + doc.key.name);
    changed.notify_all();
    return 20ms;  // the turn comes once the pool was observed (a blocking wait would need a second worker)
  };
  engine = std::make_unique<Engine>(io.io, options, testing::reconcilers(std::move(accounts), std::move(pools)), nullptr, metrics);
  ASSERT_TRUE(engine->start());
  const Document acct = makeDocument(Kind::NetAppAccount, "acct");
  engine->apply(makeState({acct}));
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, 5s, [&] { return !events.empty(); }));
  }
  engine->apply(makeState({acct, makeDocument(Kind::CapacityPool, "pool")}));
  ASSERT_TRUE(waitReady(*engine, DocumentKey{Kind::NetAppAccount, "acct"}));

  std::lock_guard lock(mutex);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front(), "deferred acct");
  const auto observed = std::ranges::find(events, "observe pool");
  const auto created = std::ranges::find(events, "create account");
  EXPECT_LT(observed, created);
  EXPECT_EQ(std::ranges::count(events, "create account"), 1);
  EXPECT_EQ(account.creates, 1);
  for (const auto& synced : syncedWhenDeferred) EXPECT_NE(synced, "False");  // a wait for a turn is no failure
  EXPECT_EQ(testing::conditionStatus(*engine, DocumentKey{Kind::NetAppAccount, "acct"}, condition::kSynced), "True");
}
}  // namespace
}  // namespace anf::controller
