// `plan`: dependency order, actions per document, text and JSON output, exit codes.
#include <utility>

#include "controller/plan.h"
#include "tests/controller/engine/fakes.h"

namespace anf::controller {
namespace {

using testing::makeDocument;
using testing::makeState;

const DocumentKey kAcct{Kind::NetAppAccount, "acct"};
const DocumentKey kPool{Kind::CapacityPool, "pool"};
const DocumentKey kVol{Kind::Volume, "vol"};

/// Azure as a map from document name to the stored value; absent = does not exist.
std::vector<ReconcilerPtr> fakeAzure(const std::map<std::string, std::string>& azure, std::atomic<int>& writes) {
  std::vector<ReconcilerPtr> out;
  for (Kind kind : {Kind::NetAppAccount, Kind::CapacityPool, Kind::Volume}) {
    auto fns = std::make_unique<testing::ReconcilerFns>(kind);
    fns->observeFn = [azure](const ReconcileContext& c) -> Result<Observation> {
      EXPECT_TRUE(c.dryRun);
      const std::string desired = c.document.spec.value("value", "");
      if (desired == "unreadable")
        return std::unexpected(ReconcileError{.reason = "AuthorizationFailed", .message = "The client does not have authorization"});
      const auto it = azure.find(c.document.key.name);
      Observation o{.exists = it != azure.end()};
      o.upToDate = o.exists && it->second == desired;
      if (o.exists && !o.upToDate) {
        o.diff.push_back({"properties.value", desired, it->second});
        o.planNotes.push_back("rekeys 2 volumes");
      }
      return o;
    };
    auto write = [&writes](const ReconcileContext&, const Observation&) -> Result<Outcome> {
      ++writes;
      return Outcome{};
    };
    fns->createFn = fns->updateFn = fns->removeFn = write;
    out.push_back(std::move(fns));
  }
  return out;
}

DesiredState threeLevels(const std::string& accountValue = "v1") {
  return makeState({makeDocument(Kind::Volume, "vol", "v1", {kPool}), makeDocument(Kind::CapacityPool, "pool", "v1", {kAcct}),
                    makeDocument(Kind::NetAppAccount, "acct", accountValue)});
}

TEST(Plan, DependencyOrderPutsReferencedDocumentsFirst) {
  EXPECT_EQ(dependencyOrder(threeLevels()), (std::vector<DocumentKey>{kAcct, kPool, kVol}));
}

struct PlanCase {
  std::string name;
  std::map<std::string, std::string> azure;
  std::string accountValue;
  int wantExit;
  std::vector<std::string> wantLines;  // substrings of the text plan
};

class PlanTest : public ::testing::TestWithParam<PlanCase> {};

TEST_P(PlanTest, ActionsTextAndExitCode) {
  const auto& c = GetParam();
  std::atomic<int> writes{0};
  const Plan plan = makePlan(threeLevels(c.accountValue), fakeAzure(c.azure, writes));
  EXPECT_EQ(writes, 0) << "plan never writes";
  EXPECT_EQ(plan.exitCode(), c.wantExit);
  const std::string text = plan.text();
  for (const auto& line : c.wantLines) EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "\nin:\n" << text;
  const Json json = plan.json();
  EXPECT_EQ(json.at("exitCode"), c.wantExit);
  EXPECT_EQ(json.at("resources").size(), 3u);
  EXPECT_EQ(json.at("changesPending"), c.wantExit == 3);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PlanTest,
    ::testing::Values(
        PlanCase{"nothingExists", {}, "v1", 3,
                 {"NetAppAccount/acct: create\n", "CapacityPool/pool: create (after NetAppAccount/acct)\n",
                  "Volume/vol: create (after CapacityPool/pool)\n", "Plan: 3 to create, 0 to update, 0 unchanged, 0 blocked."}},
        PlanCase{"allInSync", {{"acct", "v1"}, {"pool", "v1"}, {"vol", "v1"}}, "v1", 0,
                 {"NetAppAccount/acct: no change\n", "Plan: 0 to create, 0 to update, 3 unchanged, 0 blocked."}},
        PlanCase{"accountDiffers", {{"acct", "v1"}, {"pool", "v1"}, {"vol", "v1"}}, "v2", 3,
                 {"NetAppAccount/acct: update\n    ~ properties.value: \"v1\" -> \"v2\"\n    note: rekeys 2 volumes\n",
                  "Volume/vol: no change\n"}},
        PlanCase{"accountUnreadable", {{"acct", "v1"}}, "unreadable", 1,
                 {"NetAppAccount/acct: blocked: AuthorizationFailed: The client does not have authorization\n",
                  "CapacityPool/pool: blocked: DependencyBlocked", "0 unchanged, 3 blocked."}}),
    [](const auto& info) { return info.param.name; });

TEST(Plan, ObserveAndSkipPoliciesNeverCountAsChanges) {
  std::atomic<int> writes{0};
  auto observed = makeDocument(Kind::NetAppAccount, "acct", "v2");
  observed.reconcilePolicy = ReconcilePolicy::Observe;
  auto skipped = makeDocument(Kind::CapacityPool, "pool");
  skipped.reconcilePolicy = ReconcilePolicy::Skip;
  const Plan plan = makePlan(makeState({observed, skipped}), fakeAzure({{"acct", "v1"}}, writes));
  EXPECT_EQ(plan.exitCode(), 0);
  EXPECT_NE(plan.text().find("NetAppAccount/acct: drift (observe only)"), std::string::npos) << plan.text();
  EXPECT_NE(plan.text().find("CapacityPool/pool: skip"), std::string::npos) << plan.text();
}

}  // namespace
}  // namespace anf::controller
