// Operation timing (World::durationOf): each kind's default share of --lro-seconds, in Azure's proportions, and
// a duration set for one kind.
#include <gtest/gtest.h>

#include "emulator/provider.h"

namespace anf::emulator {
namespace {

using std::chrono::milliseconds;

TEST(OperationTiming, DefaultsKeepAzuresProportionsWithVolumeCreationTheLongest) {
  World world;
  world.lroDuration = std::chrono::seconds(2);
  EXPECT_EQ(world.durationOf("account"), milliseconds(2000));
  EXPECT_EQ(world.durationOf("pool"), milliseconds(3000));
  EXPECT_EQ(world.durationOf("transitionToCmk"), milliseconds(4000));
  EXPECT_EQ(world.durationOf("volume"), milliseconds(6000));
  EXPECT_EQ(world.durationOf("roleAssignmentPropagation"), milliseconds(0)) << "propagation is opt-in";
  EXPECT_EQ(world.durationOf(""), milliseconds(2000)) << "an untimed operation takes one unit";
  for (const auto& [kind, share] : operationKinds()) {
    EXPECT_LE(world.durationOf(kind), world.durationOf("volume")) << kind << " outlasts a volume creation";
  }
}

TEST(OperationTiming, ADurationSetForOneKindLeavesTheOthersToTheUnit) {
  World world;
  world.lroDuration = std::chrono::seconds(1);
  world.operationDurations["volume"] = milliseconds(240000);
  EXPECT_EQ(world.durationOf("volume"), milliseconds(240000));
  EXPECT_EQ(world.durationOf("pool"), milliseconds(1500));
  world.lroDuration = std::chrono::seconds(0);
  EXPECT_EQ(world.durationOf("volume"), milliseconds(240000)) << "--lro-seconds 0 does not undo a kind's own duration";
}

}  // namespace
}  // namespace anf::emulator
