// decide(): the one decision tree the engine and `plan` share (controller/decision.h), case by case.
#include <utility>

#include "controller/decision.h"
#include "tests/controller/engine/fakes.h"

namespace anf::controller {
namespace {

using Action = Decision::Action;

struct DecisionCase {
  std::string name;
  ReconcilePolicy policy = ReconcilePolicy::Manage;
  DeletionPolicy deletion = DeletionPolicy::Retain;
  bool removed = false;
  bool hasReconciler = true;
  bool declareReference = true;
  ReferenceState reference = ReferenceState::Ready;
  std::optional<Observation> observed;
  Action want;
  std::string wantReason;
};

class DecideTest : public ::testing::TestWithParam<DecisionCase> {};

TEST_P(DecideTest, Decides) {
  const auto& c = GetParam();
  const DocumentKey account{Kind::NetAppAccount, "acct"};
  Document doc = testing::makeDocument(Kind::CapacityPool, "pool", "v1", {account});
  doc.reconcilePolicy = c.policy;
  doc.deletionPolicy = c.deletion;
  std::vector<Document> docs{doc};
  if (c.declareReference) docs.push_back(testing::makeDocument(Kind::NetAppAccount, "acct"));
  const DesiredState desired = testing::makeState(docs);
  const Decision d = decide({.document = doc, .desired = desired,
                             .referenceState = [&](const DocumentKey&) { return c.reference; },
                             .hasReconciler = c.hasReconciler, .removed = c.removed,
                             .observed = c.observed ? &*c.observed : nullptr});
  EXPECT_EQ(d.action, c.want);
  EXPECT_EQ(d.reason, c.wantReason);
}

const Observation kMissing{.exists = false};
const Observation kDiffers{.exists = true, .upToDate = false};
const Observation kMatches{.exists = true, .upToDate = true};

INSTANTIATE_TEST_SUITE_P(
    Cases, DecideTest,
    ::testing::Values(
        DecisionCase{.name = "skip", .policy = ReconcilePolicy::Skip, .want = Action::Skip},
        DecisionCase{.name = "noReconciler", .hasReconciler = false, .want = Action::Blocked, .wantReason = "NoReconciler"},
        DecisionCase{.name = "undeclaredReference", .declareReference = false, .want = Action::Blocked, .wantReason = "DependencyNotFound"},
        DecisionCase{.name = "referenceNotReady", .reference = ReferenceState::NotReady, .want = Action::Blocked, .wantReason = "DependencyNotReady"},
        DecisionCase{.name = "referenceBlocked", .reference = ReferenceState::Blocked, .want = Action::Blocked, .wantReason = "DependencyBlocked"},
        DecisionCase{.name = "readyReferenceObservesFirst", .want = Action::Observe},
        DecisionCase{.name = "missingIsCreated", .observed = kMissing, .want = Action::Create},
        DecisionCase{.name = "differentIsUpdated", .observed = kDiffers, .want = Action::Update},
        DecisionCase{.name = "matchingIsLeftAlone", .observed = kMatches, .want = Action::NoChange},
        DecisionCase{.name = "observePolicyReportsDrift", .policy = ReconcilePolicy::Observe, .observed = kDiffers, .want = Action::ReportDrift},
        DecisionCase{.name = "observePolicyReportsMissing", .policy = ReconcilePolicy::Observe, .observed = kMissing, .want = Action::ReportDrift},
        DecisionCase{.name = "removedRetainIsForgotten", .removed = true, .want = Action::Forget},
        DecisionCase{.name = "removedDeleteObservesFirst", .deletion = DeletionPolicy::Delete, .removed = true, .want = Action::Observe},
        DecisionCase{.name = "removedDeleteExistingIsDeleted", .deletion = DeletionPolicy::Delete, .removed = true, .observed = kMatches, .want = Action::Delete},
        DecisionCase{.name = "removedDeleteGoneIsForgotten", .deletion = DeletionPolicy::Delete, .removed = true, .observed = kMissing, .want = Action::Forget},
        DecisionCase{.name = "removedDeleteUnderObserveIsForgotten", .policy = ReconcilePolicy::Observe, .deletion = DeletionPolicy::Delete, .removed = true, .want = Action::Forget}),
    [](const auto& info) { return info.param.name; });

TEST(Decide, AReferenceCreatedFirstNamesIt) {
  const DocumentKey account{Kind::NetAppAccount, "acct"};
  const Document pool = testing::makeDocument(Kind::CapacityPool, "pool", "v1", {account});
  const DesiredState desired = testing::makeState({pool, testing::makeDocument(Kind::NetAppAccount, "acct")});
  const Decision d = decide({.document = pool, .desired = desired,
                             .referenceState = [](const DocumentKey&) { return ReferenceState::WillBeCreated; }});
  EXPECT_EQ(d.action, Action::Blocked);
  EXPECT_EQ(d.after, account);
}

}  // namespace
}  // namespace anf::controller
