// How the engine treats each ErrorClass (STYLE.md): retry now backs off, retry after waits its delay, waits
// for Azure is re-observed at every resync and never parked, needs a document change is parked but still
// looked at again at each resync. And what an Azure error leaves in status.
#include <utility>

#include "controller/status_client.h"
#include "controller/status_store.h"
#include "tests/controller/engine/fakes.h"

namespace anf::controller {
namespace {

using namespace std::chrono_literals;
using namespace testing;  // the engine fakes (fakes.h)

constexpr Kind kAccount = Kind::NetAppAccount;
const DocumentKey kKey{kAccount, "acct"};

double retries(const Metrics& metrics) {
  return seriesValue(metrics.text(), "workqueue_retries_total{name=\"anf-cmk\"}").value_or(-1);
}

/// Azure for one account: observe reports `error` while it is set, else exists/up to date per `inSync`.
struct ErrorAzure {
  std::mutex mutex;
  std::optional<ReconcileError> error;
  bool inSync = false;
  std::condition_variable observed;
  std::atomic<int> observes{0}, updates{0};

  std::unique_ptr<ReconcilerFns> reconciler() {
    auto fns = std::make_unique<ReconcilerFns>(kAccount);
    fns->observeFn = [this](const ReconcileContext&) -> Result<Observation> {
      std::lock_guard lock(mutex);
      ++observes;
      observed.notify_all();
      if (error) return std::unexpected(*error);
      return Observation{.exists = true, .upToDate = inSync, .diff = {{"properties.value", "v1", "v0"}}};
    };
    return fns;
  }
  /// Waits until observe() was called `n` times (an unchanged failure changes no status to wait on).
  bool waitObserves(int n) {
    std::unique_lock lock(mutex);
    return observed.wait_for(lock, 5s, [&] { return observes >= n; });
  }
  void set(std::optional<ReconcileError> e, bool sync = false) {
    std::lock_guard lock(mutex);
    error = std::move(e);
    inSync = sync;
  }
};

ReconcileError waitsForAzure(std::optional<std::chrono::milliseconds> retryAfter = std::nullopt) {
  return ReconcileError{.reason = "KeyVaultKeyDisabled", .message = "The key is disabled. Resolution: enable the key",
                        .errorClass = ErrorClass::WaitsForAzure, .retryAfter = retryAfter, .conditionType = "KeyVaultValid"};
}

/// Counts observe calls made by one resyncNow().
int observesOfOneResync(Engine& engine, ErrorAzure& azure) {
  const int before = azure.observes;
  engine.resyncNow();
  EXPECT_TRUE(engine.waitIdle(5s));
  return azure.observes - before;
}

TEST(EngineErrors, WaitsForAzureIsReobservedAtEveryResyncWithoutBackoff) {
  IoThread io;
  Metrics metrics;
  ErrorAzure azure;
  azure.set(waitsForAzure());
  Engine engine(io.io, fastOptions(), testing::reconcilers(azure.reconciler()), {}, metrics);
  ASSERT_TRUE(engine.start());
  engine.apply(makeState({makeDocument(kAccount, "acct")}));
  ASSERT_TRUE(engine.statuses().waitFor([&] { return conditionReason(engine, kKey, condition::kSynced) == "KeyVaultKeyDisabled"; }, 5s));
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(retries(metrics), 0) << "not retried with backoff";
  EXPECT_EQ(conditionStatus(engine, kKey, "KeyVaultValid"), "False");
  EXPECT_EQ(conditionStatus(engine, kKey, condition::kReady), "False");
  EXPECT_EQ(observesOfOneResync(engine, azure), 1);
  EXPECT_EQ(observesOfOneResync(engine, azure), 1);

  azure.set(std::nullopt, true);  // someone enabled the key
  engine.resyncNow();
  ASSERT_TRUE(waitReady(engine, kKey));
  EXPECT_EQ(retries(metrics), 0);
}

TEST(EngineErrors, WaitsForAzureWithRetryAfterComesBackAtThatDelayOnly) {
  IoThread io;
  Metrics metrics;
  ErrorAzure azure;
  azure.set(waitsForAzure(20ms));
  auto options = fastOptions();
  options.backoff.baseDelay = 1s;  // any backoff would be visible as a 1 s gap
  options.backoff.maxDelay = 10s;
  Engine engine(io.io, options, testing::reconcilers(azure.reconciler()), {}, metrics);
  ASSERT_TRUE(engine.start());
  const auto start = std::chrono::steady_clock::now();
  engine.apply(makeState({makeDocument(kAccount, "acct")}));
  ASSERT_TRUE(azure.waitObserves(4));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 3 * 20ms);
  EXPECT_LT(elapsed, 1s) << "three re-observations at 20 ms, not at the 1 s backoff";
  EXPECT_EQ(retries(metrics), 0);
}

TEST(EngineErrors, RetryAfterWaitsItsDelayAndRetryNowBacksOff) {
  IoThread io;
  Metrics metrics;
  ErrorAzure azure;
  azure.set(ReconcileError{.reason = "PrincipalNotFound", .message = "propagating", .errorClass = ErrorClass::RetryAfter,
                           .retryAfter = 30ms});
  Engine engine(io.io, fastOptions(), testing::reconcilers(azure.reconciler()), {}, metrics);
  ASSERT_TRUE(engine.start());
  const auto start = std::chrono::steady_clock::now();
  engine.apply(makeState({makeDocument(kAccount, "acct")}));
  ASSERT_TRUE(azure.waitObserves(2));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_EQ(retries(metrics), 0) << "a known delay is not a backoff";

  azure.set(ReconcileError{.reason = "InternalServerError", .message = "try again", .errorClass = ErrorClass::RetryNow});
  const int seen = azure.observes;
  ASSERT_TRUE(azure.waitObserves(seen + 3));
  EXPECT_GE(retries(metrics), 2) << "retry now backs off";
  azure.set(std::nullopt, true);
  ASSERT_TRUE(waitReady(engine, kKey));
}

// A refused write is parked: not retried, not resent when the document is woken within the pass; each resync
// looks at Azure again and resends it at most once.
TEST(EngineErrors, NeedsDocumentChangeIsParkedButEachResyncLooksAgain) {
  IoThread io;
  Metrics metrics;
  ErrorAzure azure;
  auto fns = azure.reconciler();
  fns->updateFn = [&](const ReconcileContext&, const Observation&) -> Result<Outcome> {
    ++azure.updates;
    return std::unexpected(ReconcileError{.reason = "InvalidParameter", .message = "The value is invalid",
                                          .errorClass = ErrorClass::NeedsDocumentChange});
  };
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(fns)), {}, metrics);
  ASSERT_TRUE(engine.start());
  engine.apply(makeState({makeDocument(kAccount, "acct")}));
  ASSERT_TRUE(engine.statuses().waitFor([&] { return conditionReason(engine, kKey, condition::kSynced) == "InvalidParameter"; }, 5s));
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(azure.updates, 1);
  EXPECT_EQ(retries(metrics), 0);

  EXPECT_EQ(observesOfOneResync(engine, azure), 1);
  EXPECT_EQ(azure.updates, 2) << "one write per resync period";
  EXPECT_EQ(observesOfOneResync(engine, azure), 1);
  EXPECT_EQ(azure.updates, 3);

  azure.set(std::nullopt, true);  // Azure was corrected by hand
  engine.resyncNow();
  ASSERT_TRUE(waitReady(engine, kKey));
  EXPECT_EQ(azure.updates, 3);
}

TEST(EngineErrors, AParkedDocumentWhosePolicyChangesIsNotHeldBack) {
  IoThread io;
  Metrics metrics;
  ErrorAzure azure;
  azure.set(ReconcileError{.reason = "InvalidParameter", .message = "refused", .errorClass = ErrorClass::NeedsDocumentChange});
  Engine engine(io.io, fastOptions(), testing::reconcilers(azure.reconciler()), {}, metrics);
  ASSERT_TRUE(engine.start());
  auto doc = makeDocument(kAccount, "acct");
  engine.apply(makeState({doc}));
  ASSERT_TRUE(engine.statuses().waitFor([&] { return conditionReason(engine, kKey, condition::kSynced) == "InvalidParameter"; }, 5s));
  doc.reconcilePolicy = ReconcilePolicy::Skip;  // same spec, same generation: only the annotation changed
  engine.apply(makeState({doc}));
  EXPECT_TRUE(engine.statuses().waitFor([&] { return conditionReason(engine, kKey, condition::kReady) == "ReconcileSkipped"; }, 5s));
}

// A failed long-running operation goes through the same classes: one that waits for Azure is repaired at the
// next resync (the rekey whose access policy was removed while the PATCH ran).
TEST(EngineErrors, AFailedOperationThatWaitsForAzureIsRepairedAtResync) {
  IoThread io;
  Metrics metrics;
  ErrorAzure azure;
  std::atomic<int> polls{0};
  std::atomic<bool> failOperation{true};
  auto fns = azure.reconciler();
  fns->updateFn = [&](const ReconcileContext&, const Observation&) -> Result<Outcome> {
    ++azure.updates;
    return Outcome{.operation = Json{{"id", "op-" + std::to_string(azure.updates.load())}}, .requeueAfter = 1ms};
  };
  OperationPollFn poll = [&](const Json&) {
    ++polls;
    if (!failOperation) {
      azure.set(std::nullopt, true);
      return OperationProgress{.state = OperationProgress::State::Succeeded};
    }
    return OperationProgress{.state = OperationProgress::State::Failed,
                             .error = ReconcileError{.reason = "EncryptionKeyUnusable", .message = "The key is unusable",
                                                     .errorClass = ErrorClass::WaitsForAzure}};
  };
  Engine engine(io.io, fastOptions(), testing::reconcilers(std::move(fns)), poll, metrics);
  ASSERT_TRUE(engine.start());
  engine.apply(makeState({makeDocument(kAccount, "acct")}));
  ASSERT_TRUE(engine.statuses().waitFor([&] { return conditionReason(engine, kKey, condition::kSynced) == "EncryptionKeyUnusable"; }, 5s));
  ASSERT_TRUE(engine.waitIdle(5s));
  EXPECT_EQ(azure.updates, 1);
  EXPECT_EQ(retries(metrics), 0) << "waits for Azure: not retried with backoff, not parked";
  EXPECT_FALSE(engine.statuses().get(kKey)->status.operation.has_value());

  failOperation = false;  // the access policy is back
  engine.resyncNow();
  ASSERT_TRUE(waitReady(engine, kKey));
  EXPECT_EQ(azure.updates, 2);
  EXPECT_EQ(polls, 2);
}

TEST(EngineErrors, AzureErrorDetailsAreInStatusUntilReady) {
  IoThread io;
  Metrics metrics;
  ErrorAzure azure;
  auto error = waitsForAzure();
  error.azure = AzureErrorDetails{.httpStatus = 400, .code = "KeyVaultKeyDisabled", .message = "The key is disabled.",
                                  .requestId = "req-123"};
  azure.set(error);
  Engine engine(io.io, fastOptions(), testing::reconcilers(azure.reconciler()), {}, metrics);
  ASSERT_TRUE(engine.start());
  engine.apply(makeState({makeDocument(kAccount, "acct")}));
  ASSERT_TRUE(engine.statuses().waitFor([&] { return conditionReason(engine, kKey, condition::kSynced) == "KeyVaultKeyDisabled"; }, 5s));
  const auto st = engine.statuses().get(kKey);
  const Json api = toApiJson(*st);
  const Json& azureError = api.at("status").at("azureError");
  EXPECT_EQ(azureError.at("httpStatus"), 400);
  EXPECT_EQ(azureError.at("code"), "KeyVaultKeyDisabled");
  EXPECT_EQ(azureError.at("message"), "The key is disabled.");
  EXPECT_EQ(azureError.at("requestId"), "req-123");
  EXPECT_EQ(findCondition(st->status.conditions, condition::kSynced)->message, "The key is disabled. Resolution: enable the key");
  EXPECT_EQ(fromStateJson(toStateJson(*st))->status.azureError->requestId, "req-123") << "kept in the state file";
  const std::string table = formatStatusTable(Json{{"items", Json::array({api})}}, std::chrono::system_clock::now());
  EXPECT_NE(table.find("The key is disabled. Resolution: enable the key (HTTP 400 KeyVaultKeyDisabled, x-ms-request-id req-123)"),
            std::string::npos) << table;

  azure.set(std::nullopt, true);
  engine.resyncNow();
  ASSERT_TRUE(waitReady(engine, kKey));
  EXPECT_FALSE(toApiJson(*engine.statuses().get(kKey)).at("status").contains("azureError"));
}

}  // namespace
}  // namespace anf::controller
