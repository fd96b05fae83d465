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

// Default ANF limits (controller/limits.h): warned about before sending, never a change of the exit code.
constexpr const char* kSub = "10000000-0000-4000-8000-0000000000a1";

Document inRegion(Kind kind, const std::string& name, const std::string& location, Json spec = Json::object(),
                  std::optional<Reference> ref = std::nullopt) {
  Document d = makeDocument(kind, name);
  d.spec = std::move(spec);
  d.azure = AzureCoordinates{.subscriptionId = kSub, .resourceGroup = "rg", .location = location, .name = name};
  if (ref) d.references = {*ref};
  return d;
}

Document pool(const std::string& name, const std::string& account, long sizeTiB) {
  return inRegion(Kind::CapacityPool, name, "eastus", {{"sizeTiB", sizeTiB}},
                  Reference{"spec.accountRef", {Kind::NetAppAccount, account}});
}

std::vector<std::string> warningsOf(std::vector<Document> docs) { return makePlan(makeState(std::move(docs)), {}).warnings; }

TEST(PlanLimits, AnEleventhAccountInOneRegionIsWarnedAbout) {
  std::vector<Document> docs;
  for (int i = 0; i < 11; ++i) docs.push_back(inRegion(Kind::NetAppAccount, "a" + std::to_string(i), "eastus"));
  std::atomic<int> writes{0};
  const Plan plan = makePlan(makeState(docs), fakeAzure({}, writes));
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_EQ(plan.warnings[0], std::string("11 NetAppAccount documents in subscription ") + kSub +
                                  ", region eastus exceed the default limit \"Number of NetApp accounts per Azure region per "
                                  "subscription\" (10): Azure refuses those beyond it with AccountQuotaExceeded; a support "
                                  "request may have raised it for this subscription");
  EXPECT_NE(plan.text().find("\nwarning: 11 NetAppAccount documents"), std::string::npos) << plan.text();
  EXPECT_EQ(plan.json()["warnings"], Json(plan.warnings));
  EXPECT_EQ(plan.exitCode(), 3);  // as without the warning: 11 to create
  EXPECT_EQ(writes.load(), 0);
}

TEST(PlanLimits, TenAccountsPerRegionAreWithinTheDefault) {
  std::vector<Document> docs;
  for (int i = 0; i < 10; ++i) docs.push_back(inRegion(Kind::NetAppAccount, "a" + std::to_string(i), "eastus"));
  docs.push_back(inRegion(Kind::NetAppAccount, "west", "westus"));
  EXPECT_TRUE(warningsOf(docs).empty());
}

TEST(PlanLimits, PoolsAddingUpToMoreThanTheRegionalQuotaAreWarnedAbout) {
  const std::vector<std::string> warnings =
      warningsOf({inRegion(Kind::NetAppAccount, "acct", "eastus"), pool("p1", "acct", 20), pool("p2", "acct", 8)});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("28 TiB of CapacityPool documents in subscription"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("\"Regional capacity quota per subscription\" (25 TiB)"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("SizeQuotaExceeded; a support request may have raised it"), std::string::npos) << warnings[0];
  // 25 TiB exactly is within the quota; a pool's region is its account's.
  EXPECT_TRUE(warningsOf({inRegion(Kind::NetAppAccount, "acct", "eastus"), pool("p1", "acct", 20), pool("p2", "acct", 5)}).empty());
  EXPECT_TRUE(warningsOf({inRegion(Kind::NetAppAccount, "acct", "eastus"), inRegion(Kind::NetAppAccount, "w", "westus"),
                          pool("p1", "acct", 20), pool("p2", "w", 8)})
                  .empty());
}

TEST(PlanLimits, TooManyPoolsInOneAccountAreWarnedAbout) {
  std::vector<Document> docs{inRegion(Kind::NetAppAccount, "acct", "eastus")};
  for (int i = 0; i < 26; ++i) docs.push_back(pool("p" + std::to_string(i), "acct", 0));
  const std::vector<std::string> warnings = warningsOf(docs);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(warnings[0].starts_with("26 CapacityPool documents in NetAppAccount/acct exceed the default limit \"Number of "
                                      "capacity pools per NetApp account\" (25)"))
      << warnings[0];
}

TEST(PlanLimits, MoreThan500VolumesInAPoolExceedBothVolumeLimits) {
  std::vector<Document> docs{inRegion(Kind::NetAppAccount, "acct", "eastus"), pool("p", "acct", 4)};
  for (int i = 0; i < 501; ++i)
    docs.push_back(inRegion(Kind::Volume, "v" + std::to_string(i), "eastus", Json::object(),
                            Reference{"spec.poolRef", {Kind::CapacityPool, "p"}}));
  const std::vector<std::string> warnings = warningsOf(docs);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_TRUE(warnings[0].starts_with("501 Volume documents in CapacityPool/p exceed the default limit \"Number of volumes per "
                                      "capacity pool\" (500)"))
      << warnings[0];
  EXPECT_TRUE(warnings[1].starts_with(std::string("501 Volume documents in subscription ") + kSub +
                                      " exceed the default limit \"Number of volumes per subscription\" (500)"))
      << warnings[1];
}

}  // namespace
}  // namespace anf::controller
