// MutationGroups (issue 14): which writes of a NetApp account may overlap, and the account's AIMD limit.
#include <gtest/gtest.h>

#include <deque>

#include "controller/mutation_groups.h"

namespace anf::controller {
namespace {

using Outcome = MutationGroups::Outcome;

const std::string kAccountA = "/subscriptions/s/resourcegroups/rg/providers/microsoft.netapp/netappaccounts/a";
const std::string kAccountB = "/subscriptions/s/resourcegroups/rg/providers/microsoft.netapp/netappaccounts/b";

std::string pool(const std::string& account, const std::string& name) { return account + "/capacitypools/" + name; }
MutationGroup volume(const std::string& account, const std::string& poolName, const std::string& name) {
  return MutationGroup(account, pool(account, poolName) + "/volumes/" + name);
}
DocumentKey key(const std::string& name) { return DocumentKey{Kind::Volume, name}; }

TEST(MutationGroups, VolumesOfOneAccountRunInParallel) {
  MutationGroups groups;
  for (const char* name : {"v1", "v2", "v3"}) EXPECT_TRUE(groups.acquire(volume(kAccountA, "p1", name), key(name))) << name;
  EXPECT_TRUE(groups.acquire(MutationGroup(kAccountA, pool(kAccountA, "p2")), DocumentKey{Kind::CapacityPool, "p2"}));
  EXPECT_EQ(groups.held(kAccountA), 4);
}

TEST(MutationGroups, AnAccountWriteExcludesItsVolumesAndKeepsItsTurn) {
  MutationGroups groups;
  const DocumentKey account{Kind::NetAppAccount, "a"};
  ASSERT_TRUE(groups.acquire(volume(kAccountA, "p1", "v1"), key("v1")));
  EXPECT_FALSE(groups.acquire(MutationGroup(kAccountA), account)) << "the account's PATCH waits for its volumes";
  EXPECT_FALSE(groups.acquire(volume(kAccountA, "p1", "v2"), key("v2"))) << "a later volume waits behind the account";
  EXPECT_TRUE(groups.acquire(volume(kAccountB, "p1", "v3"), key("v3"))) << "another account is not concerned";

  EXPECT_EQ(groups.release(key("v1"), Outcome::Succeeded), std::vector<DocumentKey>{account});
  EXPECT_TRUE(groups.acquire(MutationGroup(kAccountA), account));
  EXPECT_EQ(groups.release(account, Outcome::Succeeded), std::vector<DocumentKey>{key("v2")});
  EXPECT_TRUE(groups.acquire(volume(kAccountA, "p1", "v2"), key("v2")));
}

TEST(MutationGroups, APoolWriteExcludesItsOwnVolumesOnly) {
  MutationGroups groups;
  const DocumentKey p1{Kind::CapacityPool, "p1"};
  ASSERT_TRUE(groups.acquire(volume(kAccountA, "p1", "v1"), key("v1")));
  EXPECT_FALSE(groups.acquire(MutationGroup(kAccountA, pool(kAccountA, "p1")), p1));
  EXPECT_TRUE(groups.acquire(volume(kAccountA, "p10", "v1"), key("p10-v1"))) << "p10 is not below p1";
  EXPECT_EQ(groups.release(key("v1"), Outcome::Succeeded), std::vector<DocumentKey>{p1});
}

TEST(MutationGroups, ARefusalNarrowsItsAccountOnlyAndSuccessesWidenItAgain) {
  MutationGroups groups(8);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(groups.acquire(volume(kAccountA, "p", "v" + std::to_string(i)), key("v" + std::to_string(i))));
  EXPECT_FALSE(groups.acquire(volume(kAccountA, "p", "v8"), key("v8"))) << "the ceiling";

  groups.release(key("v0"), Outcome::Refused);
  EXPECT_EQ(groups.limit(kAccountA), 4);
  groups.release(key("v1"), Outcome::Refused);
  EXPECT_EQ(groups.limit(kAccountA), 4) << "writes sent before the decrease do not halve it again";
  for (int i = 2; i < 8; ++i) groups.release(key("v" + std::to_string(i)), Outcome::Succeeded);
  EXPECT_EQ(groups.limit(kAccountA), 4) << "nor do they widen it";
  EXPECT_EQ(groups.limit(kAccountB), 8) << "another account keeps its limit";
  EXPECT_TRUE(groups.acquire(volume(kAccountB, "p", "w"), key("w")));

  // Only four at once now; each success while the limit holds writes back widens it by 1/limit.
  std::vector<std::string> running;
  for (int i = 8; i < 13; ++i) {
    const std::string name = "v" + std::to_string(i);
    if (groups.acquire(volume(kAccountA, "p", name), key(name))) running.push_back(name);
  }
  EXPECT_EQ(running.size(), 4u);
  EXPECT_EQ(groups.release(key(running.front()), Outcome::Succeeded), std::vector<DocumentKey>{key("v12")});
  EXPECT_DOUBLE_EQ(groups.limit(kAccountA), 4.25);
  ASSERT_TRUE(groups.acquire(volume(kAccountA, "p", "v12"), key("v12")));
  std::deque<DocumentKey> live{key(running[1]), key(running[2]), key(running[3]), key("v12")};
  for (int n = 0, next = 0; groups.limit(kAccountA) < 8 && n < 200; ++n) {
    while (groups.held(kAccountA) < static_cast<int>(groups.limit(kAccountA))) {
      const std::string name = "g" + std::to_string(next++);
      ASSERT_TRUE(groups.acquire(volume(kAccountA, "p", name), key(name)));
      live.push_back(key(name));
    }
    groups.release(live.front(), Outcome::Succeeded);
    live.pop_front();
  }
  EXPECT_EQ(groups.limit(kAccountA), 8) << "back to the ceiling";
}

TEST(MutationGroups, NarrowsToOneWriteAtATimeAndNoFurther) {
  MutationGroups groups(4);
  ASSERT_TRUE(groups.acquire(volume(kAccountA, "p", "v1"), key("v1")));
  ASSERT_TRUE(groups.acquire(volume(kAccountA, "p", "v2"), key("v2")));
  groups.release(key("v2"), Outcome::Refused);
  EXPECT_EQ(groups.limit(kAccountA), 1) << "halved from the two writes running, not from the ceiling";
  EXPECT_FALSE(groups.acquire(volume(kAccountA, "p", "v2"), key("v2")));
  EXPECT_EQ(groups.release(key("v1"), Outcome::Succeeded), std::vector<DocumentKey>{key("v2")});
  ASSERT_TRUE(groups.acquire(volume(kAccountA, "p", "v2"), key("v2")));
  groups.release(key("v2"), Outcome::Refused);
  EXPECT_EQ(groups.limit(kAccountA), 1);
}

TEST(MutationGroups, AWriteRefusedWhileItRanAloneDoesNotNarrow) {
  MutationGroups groups(4);
  ASSERT_TRUE(groups.acquire(MutationGroup(kAccountA), DocumentKey{Kind::NetAppAccount, "a"}));
  groups.release(DocumentKey{Kind::NetAppAccount, "a"}, Outcome::Refused);
  EXPECT_EQ(groups.limit(kAccountA), 4) << "another tool's operation: fewer writes of ours would not help";
}

TEST(MutationGroups, AWokenWaiterThatDoesNotComeBackPassesItsPlaceOn) {
  MutationGroups groups(1);
  ASSERT_TRUE(groups.acquire(volume(kAccountA, "p", "v1"), key("v1")));
  EXPECT_FALSE(groups.acquire(volume(kAccountA, "p", "v2"), key("v2")));
  EXPECT_FALSE(groups.acquire(volume(kAccountA, "p", "v3"), key("v3")));
  EXPECT_EQ(groups.release(key("v1"), Outcome::Ended), std::vector<DocumentKey>{key("v2")}) << "one place: one waiter woken";
  EXPECT_FALSE(groups.acquire(volume(kAccountA, "p", "v4"), key("v4"))) << "v2's place is kept for it";
  EXPECT_EQ(groups.passOn(key("v2")), std::vector<DocumentKey>{key("v3")});
  EXPECT_TRUE(groups.passOn(key("v3")).size() == 1);
}

TEST(MutationGroups, ARestoredOperationHoldsItsPlace) {
  MutationGroups groups;
  const DocumentKey account{Kind::NetAppAccount, "a"};
  groups.restore(MutationGroup::fromStored(MutationGroup(kAccountA).stored()), account);
  EXPECT_FALSE(groups.acquire(volume(kAccountA, "p", "v1"), key("v1")));
  EXPECT_EQ(groups.release(account, Outcome::Succeeded), std::vector<DocumentKey>{key("v1")});
}

TEST(MutationGroups, StoredFormReadsBack) {
  const MutationGroup v = volume(kAccountA, "p", "v1");
  EXPECT_EQ(MutationGroup::fromStored(v.stored()), v);
  EXPECT_EQ(MutationGroup::fromStored(MutationGroup(kAccountA).stored()), MutationGroup(kAccountA));
  EXPECT_EQ(MutationGroup::fromStored("account/acct"), MutationGroup("account/acct")) << "an older state file's group";
  EXPECT_TRUE(MutationGroup::fromStored("").empty());
}

}  // namespace
}  // namespace anf::controller
