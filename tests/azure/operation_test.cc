#include "azure/operation.h"

#include <gtest/gtest.h>

namespace anf::azure {
namespace {

TEST(OperationState, RoundTripsThroughJson) {
  OperationState state{.url = "https://127.0.0.1:8443/subscriptions/s/providers/Microsoft.NetApp/locations/eastus/"
                              "operationResults/abc?api-version=2025-06-01",
                       .kind = OperationKind::Location,
                       .resourceId = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.NetApp/netAppAccounts/a",
                       .method = "POST",
                       .finalStateVia = FinalStateVia::Location,
                       .location = "https://127.0.0.1:8443/x",
                       .credential = "provider",
                       .action = "transitiontocmk",
                       .startedAt = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123))};
  auto json = state.toJson();
  EXPECT_EQ(json["kind"], "Location");
  EXPECT_EQ(json["finalStateVia"], "location");
  auto back = OperationState::fromJson(nlohmann::json::parse(json.dump()));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, state);
}

TEST(OperationState, RejectsIncompleteState) {
  auto missing = OperationState::fromJson({{"url", "u"}, {"kind", "Location"}, {"method", "PUT"}});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("resourceId"), std::string::npos);
  auto badKind = OperationState::fromJson({{"url", "u"}, {"kind", "Polling"}, {"method", "PUT"}, {"resourceId", "/x"}});
  ASSERT_FALSE(badKind);
  EXPECT_NE(badKind.error().find("Polling"), std::string::npos);
  EXPECT_FALSE(OperationState::fromJson(nlohmann::json::array()));
}


/// The first status read of an operation comes when its sort is known to end, not at every Retry-After.
TEST(OperationDurations, ReadsAnOperationWhenOthersOfItsSortEnded) {
  using namespace std::chrono_literals;
  const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  const std::string volume = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.NetApp/netAppAccounts/a/capacityPools/p/volumes/";
  auto creation = [&](const std::string& name, std::chrono::system_clock::time_point at) {
    return OperationState{.url = "https://arm.test/op/" + name, .resourceId = volume + name, .method = "PUT", .startedAt = at};
  };
  OperationDurations durations;
  EXPECT_EQ(durations.untilDue(creation("v1", t0), t0 + 1s), 0ms) << "nothing known of its sort: read at Retry-After";
  durations.observe(creation("v1", t0), false, t0 + 1s);
  durations.observe(creation("v1", t0), true, t0 + 3s);

  const auto v2 = creation("v2", t0 + 10s);
  EXPECT_EQ(durations.untilDue(v2, t0 + 11s), 2s) << "volumes take 3 s";
  EXPECT_EQ(durations.untilDue(v2, t0 + 13s), 0ms);
  EXPECT_EQ(durations.untilDue(OperationState{.resourceId = volume + "v1", .method = "DELETE", .startedAt = t0}, t0 + 1s), 0ms)
      << "another sort";
  durations.observe(v2, true, t0 + 13s);  // ended by its first read: the estimate shortens
  EXPECT_EQ(durations.untilDue(creation("v3", t0 + 20s), t0 + 20s), 2850ms);

  const auto v4 = creation("v4", t0 + 30s);
  durations.observe(v4, false, t0 + 32850ms);  // still running at the estimate: read again at Retry-After
  EXPECT_EQ(durations.untilDue(v4, t0 + 33s), 0ms);
  durations.observe(v4, true, t0 + 34s);
  EXPECT_EQ(durations.untilDue(creation("v5", t0 + 40s), t0 + 40s), 4s) << "it took 4 s";
}
}  // namespace
}  // namespace anf::azure
