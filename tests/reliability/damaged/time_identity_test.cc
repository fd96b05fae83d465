// Time and identity (issue 15): access tokens that expire in the middle of a long-running operation (the emulator's
// --token-lifetime-seconds), five minutes of clock skew either way between the operator and Azure (the emulator's
// --clock-offset-seconds moves its token nbf/exp, timestamps and operation progress), and a workload identity token
// file (AZURE_FEDERATED_TOKEN_FILE) rotated on disk as the kubelet does. Each converges with no write sent twice.
#include <atomic>
#include <cstdlib>
#include <regex>
#include <thread>

#include "tests/reliability/damaged/damaged_support.h"

namespace anf::testing {
namespace {

class TimeAndIdentity : public ReliabilityTest {
 protected:
  /// Token requests (client credentials grants) in the emulator's request log, and how many were refused.
  std::pair<std::size_t, std::size_t> tokenRequests() const {
    std::size_t all = 0, refused = 0;
    for (const auto& entry : requestLog()) {
      if (!entry.value("path", "").ends_with("/oauth2/v2.0/token")) continue;
      ++all;
      refused += entry.value("status", 0) >= 400 ? 1 : 0;
    }
    return {all, refused};
  }
};

TEST_F(TimeAndIdentity, TokensExpiringDuringATransitionAreRenewedAndNothingIsSentTwice) {
  // The transition takes longer than four token lifetimes (transitionToCmk 12 s, tokens valid 3 s).
  startSecondStage(kTransitionFlow, {"--lro-seconds", "1", "--operation-seconds", "transitionToCmk=12", "--feature-registration-seconds",
                                     "0", "--token-lifetime-seconds", "3"});
  awaitAllReady(90s, 4);
  const auto [tokens, refused] = tokenRequests();
  EXPECT_GE(tokens, 4u) << "tokens did not expire during the transition";
  EXPECT_EQ(refused, 0u);
  expectNoDuplicateWritesAndNoDeletes();
  expectEachPostActionSentAtMostOnce();
  EXPECT_EQ(countRequests("POST", "/transitiontocmk"), 1u);
}

// A token Azure calls expired while the operator's cache still holds it (the clock jumped; a token revoked): the
// poll of the running operation is answered 401 ExpiredAuthenticationToken, the token is renewed once and the
// poll resent, and the operation is neither restarted nor sent twice.
TEST_F(TimeAndIdentity, TokenRefusedAsExpiredDuringATransitionIsRenewedAndThePollResent) {
  startSecondStage(kTransitionFlow, {"--lro-seconds", "1", "--operation-seconds", "transitionToCmk=30", "--feature-registration-seconds", "0"});
  ASSERT_TRUE(await([&] { return countRequests("POST", "/transitiontocmk") == 1; }, 60s)) << tail(operator_->log());
  emulator_->advanceClock(std::chrono::hours(2));  // every token the operator holds is expired for Azure now
  awaitAllReady(60s, 4);
  EXPECT_GE(countRefused("GET", "", 401), 1u) << "no request met the expired token:\n" << writes();
  EXPECT_EQ(tokenRequests().second, 0u);
  expectNoDuplicateWritesAndNoDeletes();
  expectEachPostActionSentAtMostOnce();
}

class ClockSkew : public TimeAndIdentity, public ::testing::WithParamInterface<int> {};

TEST_P(ClockSkew, OfFiveMinutesConvergesWithNothingSentTwice) {
  startEmulator({"--lro-seconds", "1", "--clock-offset-seconds=" + std::to_string(GetParam())}, "quickstart");
  const Json clock = emulator_->control("GET", "/_emulator/clock").body;
  ASSERT_EQ(clock.value("offsetSeconds", 0), GetParam()) << clock.dump();
  startOperator();
  awaitAllReady(60s, 4);
  awaitTwoPasses("Volume");
  EXPECT_EQ(tokenRequests().second, 0u) << "a token request was refused";
  expectNoDuplicateWritesAndNoDeletes();
  expectEachPostActionSentAtMostOnce();
}

INSTANTIATE_TEST_SUITE_P(Offsets, ClockSkew, ::testing::Values(-300, 300),
                         [](const auto& info) { return info.param < 0 ? std::string("Behind") : std::string("Ahead"); });

TEST_F(TimeAndIdentity, WorkloadIdentityTokenFileRotatedOnDiskIsReadAfresh) {
  startEmulator({"--lro-seconds", "2", "--token-lifetime-seconds", "2"}, "quickstart");
  const auto provider = emulator_->tenant("provider");
  const std::string clientId = provider.principal("admin").clientId;
  const std::string config = readFile(dir_ / "operator.yaml");  // the provider's secret becomes workload identity
  std::ofstream(dir_ / "operator.yaml") << std::regex_replace(
      config, std::regex("clientSecret: \\{clientId: " + clientId + ", secretFile: [^}]*\\}"), "workloadIdentity: {clientId: " + clientId + "}",
      std::regex_constants::format_first_only);
  const fs::path tokenFile = dir_ / "azure-identity-token";
  std::atomic<int> rotations = 0;
  const auto rotate = [&] {  // the kubelet writes a new projected token beside the old one and renames it in place
    const fs::path next = dir_ / "azure-identity-token.next";
    std::ofstream(next) << emulator_->mintWorkloadIdentityToken(provider.tenantId, clientId, 6s);
    fs::rename(next, tokenFile);
    ++rotations;
  };
  rotate();
  ::setenv("AZURE_FEDERATED_TOKEN_FILE", tokenFile.c_str(), 1);
  startOperator();
  ::unsetenv("AZURE_FEDERATED_TOKEN_FILE");
  std::atomic<bool> converged = false;
  std::thread kubelet([&] {  // every 2 s, each token valid 6 s: the operator must read the file afresh
    while (!converged) {
      for (int i = 0; i < 20 && !converged; ++i) std::this_thread::sleep_for(100ms);
      if (!converged) rotate();
    }
  });
  awaitAllReady(90s, 4);
  const int rotatedBeforeReady = rotations;
  converged = true;
  kubelet.join();
  EXPECT_GE(rotatedBeforeReady, 3) << "converged before the token file was rotated";
  const auto [tokens, refused] = tokenRequests();
  EXPECT_GE(tokens, 3u);
  EXPECT_EQ(refused, 0u) << "a token request was refused: an expired or stale token file was presented";
  expectNoDuplicateWritesAndNoDeletes();
  expectEachPostActionSentAtMostOnce();
}

}  // namespace
}  // namespace anf::testing
