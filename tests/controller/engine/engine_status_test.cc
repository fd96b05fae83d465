// What status claims: a restored status is a journal, never believed before this process observes Azure;
// the key expiry the account reconciler reports reaches /metrics.
#include <utility>

#include <fstream>
#include <future>

#include "tests/controller/engine/fakes.h"

namespace anf::controller {
namespace {

using namespace std::chrono_literals;
using namespace testing;  // the engine fakes (fakes.h)

constexpr Kind kAccount = Kind::NetAppAccount;
constexpr Kind kPool = Kind::CapacityPool;

/// A state file written by an earlier run (or another installation) that claims `docs` are Ready.
void writeReadyStateFile(const std::filesystem::path& file, const std::vector<Document>& docs) {
  StatusStore earlier(file);
  for (const auto& d : docs)
    earlier.update(d.key, [&](StoredStatus& s) {
      s.status.generation = d.generation;
      setCondition(s.status.conditions, condition::kReady, condition::kTrue, reason::kAvailable, "", std::chrono::system_clock::now());
      setCondition(s.status.conditions, condition::kSynced, condition::kTrue, reason::kReconcileSuccess, "", std::chrono::system_clock::now());
      s.status.ready = true;
    });
}

// A second installation, against an Azure where nothing exists, must not report what the state file claims.
TEST(EngineStatus, ARestoredReadyIsNotBelievedBeforeAnObservation) {
  const auto dir = testing::tempDir();
  const auto account = makeDocument(kAccount, "acct");
  const auto pool = makeDocument(kPool, "pool", "v1", {account.key});
  writeReadyStateFile(dir / "state.json", {account, pool});

  IoThread io;
  Metrics metrics;
  std::promise<void> gate;
  std::shared_future<void> released = gate.get_future().share();
  std::atomic<int> accountCreates{0}, poolObserves{0};
  std::promise<void> createEntered;  // the count changes outside the store: waitFor would not wake for it
  auto accountFns = std::make_unique<ReconcilerFns>(kAccount);
  accountFns->observeFn = [](const ReconcileContext&) -> Result<Observation> { return Observation{.exists = false}; };
  accountFns->createFn = [&](const ReconcileContext&, const Observation&) -> Result<Outcome> {
    if (++accountCreates == 1) createEntered.set_value();
    released.wait();
    return Outcome{.operation = Json{{"id", "op"}}};
  };
  auto poolFns = std::make_unique<ReconcilerFns>(kPool);
  poolFns->observeFn = [&](const ReconcileContext&) -> Result<Observation> {
    ++poolObserves;
    return Observation{.exists = false};
  };
  auto options = fastOptions();
  options.stateFile = dir / "state.json";
  OperationPollFn poll = [](const Json& op) { return OperationProgress{.retryAfter = 1h, .operation = op}; };
  Engine engine(io.io, options, testing::reconcilers(std::move(accountFns), std::move(poolFns)), poll, metrics);
  struct Release {  // destroyed before the engine, so a failed assertion never leaves a worker waiting
    std::promise<void>& gate;
    bool done = false;
    void operator()() { if (!std::exchange(done, true)) gate.set_value(); }
    ~Release() { (*this)(); }
  } release{gate};
  ASSERT_TRUE(engine.start());

  for (const auto& key : {account.key, pool.key}) {
    EXPECT_EQ(conditionStatus(engine, key, condition::kReady), "Unknown") << key.str();
    EXPECT_EQ(conditionReason(engine, key, condition::kReady), "NotYetObserved") << key.str();
    EXPECT_EQ(conditionStatus(engine, key, condition::kSynced), "Unknown") << key.str();
    EXPECT_FALSE(engine.statuses().get(key)->status.ready) << key.str();
  }
  const std::string text = metrics.text();
  EXPECT_EQ(seriesValue(text, "anf_cmk_resource_ready{kind=\"NetAppAccount\"}"), 0.0) << text;
  EXPECT_EQ(seriesValue(text, "anf_cmk_resource_not_ready{kind=\"NetAppAccount\"}"), 1.0) << text;

  engine.apply(makeState({account, pool}));
  ASSERT_EQ(createEntered.get_future().wait_for(5s), std::future_status::ready);
  ASSERT_TRUE(engine.statuses().waitFor(
      [&] { return conditionReason(engine, pool.key, condition::kDependenciesReady) == "DependencyNotReady"; }, 5s));
  EXPECT_EQ(accountCreates, 1);
  EXPECT_EQ(poolObserves, 0) << "the pool waits for an account this process has seen";
  release();
  ASSERT_TRUE(engine.statuses().waitFor([&] { return conditionReason(engine, account.key, condition::kReady) == "Creating"; }, 5s));
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(conditionStatus(engine, account.key, condition::kReady), "False");
  EXPECT_EQ(poolObserves, 0);
  EXPECT_NE(conditionStatus(engine, pool.key, condition::kReady), "True");
  ASSERT_TRUE(engine.stop(5s));
  std::filesystem::remove_all(dir);
}

// What resumes work survives the restart: the operation, its group and action, firstSeen.
TEST(EngineStatus, ARestoredOperationIsStillResumed) {
  const auto dir = testing::tempDir();
  const auto account = makeDocument(kAccount, "acct");
  {
    StatusStore earlier(dir / "state.json");
    earlier.update(account.key, [&](StoredStatus& s) {
      s.firstSeen = "2026-01-01T00:00:00Z";
      s.status.generation = account.generation;
      s.status.operation = Json{{"id", "op-1"}};
      s.operationGroup = "account/acct";
      s.operationAction = "create";
    });
  }
  IoThread io;
  Metrics metrics;
  std::atomic<int> creates{0}, polls{0};
  auto fns = std::make_unique<ReconcilerFns>(kAccount);
  std::atomic<bool> done{false};
  fns->observeFn = [&](const ReconcileContext&) -> Result<Observation> { return Observation{.exists = done.load(), .upToDate = done.load()}; };
  fns->createFn = [&](const ReconcileContext&, const Observation&) -> Result<Outcome> {
    ++creates;
    return Outcome{};
  };
  OperationPollFn poll = [&](const Json& op) {
    ++polls;
    EXPECT_EQ(op.value("id", ""), "op-1");
    done = true;
    return OperationProgress{.state = OperationProgress::State::Succeeded};
  };
  auto options = fastOptions();
  options.stateFile = dir / "state.json";
  Engine engine(io.io, options, testing::reconcilers(std::move(fns)), poll, metrics);
  ASSERT_TRUE(engine.start());
  const auto restored = engine.statuses().get(account.key);
  ASSERT_TRUE(restored->status.operation.has_value());
  EXPECT_EQ(restored->operationGroup, "account/acct");
  EXPECT_EQ(restored->firstSeen, "2026-01-01T00:00:00Z");
  engine.apply(makeState({account}));
  ASSERT_TRUE(testing::waitReady(engine, account.key));
  EXPECT_EQ(polls, 1);
  EXPECT_EQ(creates, 0);
  ASSERT_TRUE(engine.stop(5s));
  std::filesystem::remove_all(dir);
}

// The readiness gauges are kept on every transition (issue 14: no recount of the store per change) and stay
// what a recount would say: documents becoming Ready, one falling back, one removed.
TEST(EngineStatus, ReadinessGaugesFollowTransitionsAndRemovals) {
  IoThread io;
  Metrics metrics;
  std::atomic<bool> refuseB{false};
  auto fns = std::make_unique<ReconcilerFns>(kAccount);
  fns->observeFn = [&](const ReconcileContext& c) -> Result<Observation> {
    if (c.document.key.name == "b" && refuseB)
      return std::unexpected(ReconcileError{.reason = "InvalidParameter", .message = "refused",
                                            .errorClass = ErrorClass::NeedsDocumentChange});
    return Observation{.exists = true, .upToDate = true};
  };
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  const auto a = makeDocument(kAccount, "a"), b = makeDocument(kAccount, "b"), c = makeDocument(kAccount, "c");
  auto gauges = [&] {
    const std::string text = metrics.text();
    return std::pair{seriesValue(text, R"(anf_cmk_resource_ready{kind="NetAppAccount"})").value_or(-1),
                     seriesValue(text, R"(anf_cmk_resource_not_ready{kind="NetAppAccount"})").value_or(-1)};
  };
  EXPECT_EQ(gauges(), std::pair(0.0, 0.0));
  engine.apply(makeState({a, b, c}));
  for (const auto& d : {a, b, c}) ASSERT_TRUE(waitReady(engine, d.key)) << d.key.str();
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(gauges(), std::pair(3.0, 0.0));

  refuseB = true;
  engine.resyncNow();
  ASSERT_TRUE(engine.statuses().waitFor([&] { return conditionStatus(engine, b.key, condition::kReady) == "False"; }, 5s));
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(gauges(), std::pair(2.0, 1.0));

  engine.apply(makeState({a, b}));  // c removed; deletionPolicy Retain: forgotten
  ASSERT_TRUE(engine.statuses().waitFor([&] { return !engine.statuses().contains(c.key); }, 5s));
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(gauges(), std::pair(1.0, 1.0));
  ASSERT_TRUE(engine.stop(5s));
}

// anf_cmk_documents_refused{kind,reason}: documents Azure refuses now for an ANF limit, by Azure's code. Its
// series exist at 0 from the start; a refusal cured (the quota raised, seen at resync) or a document removed
// takes the document off; other failures are not counted.
TEST(EngineStatus, DocumentsRefusedForALimitAreCountedByAzuresCode) {
  IoThread io;
  Metrics metrics;
  std::atomic<bool> quotaReached{true};
  auto fns = std::make_unique<ReconcilerFns>(kAccount);
  fns->observeFn = [&](const ReconcileContext& c) -> Result<Observation> {
    if (c.document.key.name == "other")
      return std::unexpected(ReconcileError{.reason = "InvalidParameter", .message = "refused",
                                            .errorClass = ErrorClass::NeedsDocumentChange});
    if (quotaReached && c.document.key.name != "a")
      return std::unexpected(ReconcileError{.reason = "AccountQuotaExceeded", .message = "would exceed the limit of 1",
                                            .errorClass = ErrorClass::WaitsForAzure});
    return Observation{.exists = true, .upToDate = true};
  };
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  const auto a = makeDocument(kAccount, "a"), b = makeDocument(kAccount, "b"), c = makeDocument(kAccount, "c"),
             other = makeDocument(kAccount, "other");
  const char* series = R"(anf_cmk_documents_refused{kind="NetAppAccount",reason="AccountQuotaExceeded"})";
  auto refused = [&] { return seriesValue(metrics.text(), series).value_or(-1); };
  EXPECT_EQ(refused(), 0.0);
  EXPECT_EQ(seriesValue(metrics.text(), R"(anf_cmk_documents_refused{kind="Volume",reason="SizeQuotaExceeded"})"), 0.0);
  engine.apply(makeState({a, b, c, other}));
  for (const auto& d : {b, c})
    ASSERT_TRUE(engine.statuses().waitFor(
        [&] { return conditionReason(engine, d.key, condition::kReady) == "AccountQuotaExceeded"; }, 5s));
  ASSERT_TRUE(waitReady(engine, a.key));
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(refused(), 2.0) << metrics.text();

  engine.apply(makeState({a, b, other}));  // c removed while refused
  ASSERT_TRUE(engine.statuses().waitFor([&] { return !engine.statuses().contains(c.key); }, 5s));
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(refused(), 1.0);

  quotaReached = false;  // a support request raised the limit: the next resync sees b through
  engine.resyncNow();
  ASSERT_TRUE(waitReady(engine, b.key));
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(refused(), 0.0);
  EXPECT_EQ(metrics.text().find("reason=\"InvalidParameter\""), std::string::npos);
  ASSERT_TRUE(engine.stop(5s));
}

// The account reconciler writes facts keyExpiry as plain Unix seconds beside keyVault {resourceId, name, keyName}
// (reconcilers/netapp_account.h); the chart's key-expiry alert reads anf_cmk_key_expiry_timestamp_seconds{vault,key}.
TEST(EngineStatus, KeyExpiryOfTheAccountReachesTheMetric) {
  IoThread io;
  Metrics metrics;
  auto fns = std::make_unique<ReconcilerFns>(kAccount);
  std::atomic<bool> rekeyed{false};
  fns->observeFn = [&](const ReconcileContext&) -> Result<Observation> {
    Observation o{.exists = true, .upToDate = true};
    o.facts["keyVault"] = {{"resourceId", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1"},
                           {"name", "kv1"},
                           {"keyName", rekeyed ? "key2" : "key1"}};
    o.facts["keyExpiry"] = rekeyed ? 1830297600 : 1798761600;
    return o;
  };
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  engine.apply(makeState({makeDocument(kAccount, "acct")}));
  ASSERT_TRUE(testing::waitReady(engine, {kAccount, "acct"}));
  const std::string text = metrics.text();
  EXPECT_EQ(seriesValue(text, "anf_cmk_key_expiry_timestamp_seconds{key=\"key1\",vault=\"kv1\"}"), 1798761600.0) << text;

  rekeyed = true;  // after a rekey only the key in use counts for the expiry alert
  engine.resyncNow();
  ASSERT_TRUE(engine.statuses().waitFor([&] {
    return engine.statuses().get({kAccount, "acct"})->status.facts["keyVault"].value("keyName", "") == "key2";
  }, 5s));
  const std::string after = metrics.text();
  EXPECT_EQ(seriesValue(after, "anf_cmk_key_expiry_timestamp_seconds{key=\"key2\",vault=\"kv1\"}"), 1830297600.0) << after;
  EXPECT_FALSE(seriesValue(after, "anf_cmk_key_expiry_timestamp_seconds{key=\"key1\",vault=\"kv1\"}")) << after;
}

}  // namespace
}  // namespace anf::controller
