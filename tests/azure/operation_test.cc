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

}  // namespace
}  // namespace anf::azure
