// The engine's writes in parallel (issue 14): volumes of one account run at once; an account whose volume
// creations Azure refuses while another runs ("Another volume creation is in progress") converges anyway,
// none left failed, and the other account keeps its parallelism.
#include <utility>

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

}  // namespace
}  // namespace anf::controller
