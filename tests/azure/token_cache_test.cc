#include "azure/credentials.h"

#include <gtest/gtest.h>

namespace anf::azure {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

/// A token source whose fetches complete only when the test says so.
class ManualSource final : public TokenSource {
 public:
  pplx::task<Expected<AccessToken>> fetch(const std::string& audience) override {
    std::lock_guard lock(mutex);
    audiences.push_back(audience);
    pending.emplace_back();
    return pplx::create_task(pending.back());
  }
  void complete(std::size_t index, AccessToken token) {
    pplx::task_completion_event<Expected<AccessToken>> event;
    {
      std::lock_guard lock(mutex);
      event = pending.at(index);
    }
    event.set(Expected<AccessToken>(std::move(token)));
  }
  std::mutex mutex;
  std::vector<std::string> audiences;
  std::vector<pplx::task_completion_event<Expected<AccessToken>>> pending;
};

struct Fixture {
  Fixture() {
    auto owned = std::make_unique<ManualSource>();
    source = owned.get();
    cache = std::make_shared<TokenCache>(std::move(owned), 5min, [this] { return now; });
  }
  Clock::time_point now = Clock::time_point(1000h);
  ManualSource* source;
  std::shared_ptr<TokenCache> cache;
};

TEST(TokenCache, OneFetchInFlightForConcurrentCallers) {
  Fixture f;
  std::vector<pplx::task<Expected<AccessToken>>> waiting;
  for (int i = 0; i < 10; ++i) waiting.push_back(f.cache->get("https://management.azure.com"));
  EXPECT_EQ(f.cache->fetches(), 1);
  f.source->complete(0, {"t1", f.now + 1h});
  for (auto& task : waiting) EXPECT_EQ(task.get().value().token, "t1");
  EXPECT_EQ(f.cache->get("https://management.azure.com").get().value().token, "t1") << "cached";
  EXPECT_EQ(f.cache->fetches(), 1);
}

TEST(TokenCache, AudiencesAreCachedSeparately) {
  Fixture f;
  auto arm = f.cache->get("https://management.azure.com");
  auto graph = f.cache->get("https://graph.microsoft.com");
  EXPECT_EQ(f.cache->fetches(), 2);
  EXPECT_EQ(f.source->audiences, (std::vector<std::string>{"https://management.azure.com", "https://graph.microsoft.com"}));
  // A fetch left pending keeps the cache alive through its continuation (a cycle LeakSanitizer reports).
  f.source->complete(0, {"t1", f.now + 1h});
  f.source->complete(1, {"t2", f.now + 1h});
  EXPECT_EQ(arm.get().value().token, "t1");
  EXPECT_EQ(graph.get().value().token, "t2");
}

TEST(TokenCache, RefreshesAheadOfExpiryWhileServingTheValidToken) {
  Fixture f;
  auto first = f.cache->get("a");
  f.source->complete(0, {"t1", f.now + 1h});
  ASSERT_EQ(first.get().value().token, "t1");
  f.now += 58min;  // inside the 5 minute margin
  EXPECT_EQ(f.cache->get("a").get().value().token, "t1") << "no caller waits while the token is valid";
  EXPECT_EQ(f.cache->fetches(), 2) << "one background refresh";
  EXPECT_EQ(f.cache->get("a").get().value().token, "t1");
  EXPECT_EQ(f.cache->fetches(), 2) << "still one refresh in flight";
  // The refresh's continuation stores t2 on a pool thread. Once t1 has expired, a caller gets the refresh in flight
  // or the stored t2, whichever the continuation has reached (no timing involved): either way t2 replaces t1 without
  // another fetch. The clock moves first, so the continuation never reads it while the test writes it.
  f.now += 2min;  // t1 (valid for 1 h from the first fetch) has expired
  f.source->complete(1, {"t2", f.now + 1h});
  auto refreshed = f.cache->get("a");
  ASSERT_EQ(f.cache->fetches(), 2) << "a third fetch instead of the refresh's token";  // else get() would wait for ever
  EXPECT_EQ(refreshed.get().value().token, "t2");
  auto stored = f.cache->get("a");
  ASSERT_TRUE(stored.is_done()) << "t2 is not stored";
  EXPECT_EQ(stored.get().value().token, "t2");
  EXPECT_EQ(f.cache->fetches(), 2);
}

TEST(TokenCache, ExpiredTokenMakesCallersWaitForTheRefresh) {
  Fixture f;
  auto first = f.cache->get("a");
  f.source->complete(0, {"t1", f.now + 1h});
  ASSERT_TRUE(first.get());
  f.now += 2h;
  auto waiting = f.cache->get("a");
  EXPECT_FALSE(waiting.is_done());
  f.source->complete(1, {"t2", f.now + 1h});
  EXPECT_EQ(waiting.get().value().token, "t2");
}

TEST(TokenCache, InvalidateDropsOnlyTheRejectedToken) {
  Fixture f;
  auto first = f.cache->get("a");
  f.source->complete(0, {"t1", f.now + 1h});
  ASSERT_TRUE(first.get());
  f.cache->invalidate("a", "some-older-token");
  EXPECT_EQ(f.cache->get("a").get().value().token, "t1");
  f.cache->invalidate("a", "t1");
  auto next = f.cache->get("a");
  EXPECT_EQ(f.cache->fetches(), 2);
  f.source->complete(1, {"t2", f.now + 1h});
  EXPECT_EQ(next.get().value().token, "t2");
}

TEST(ParseTokenResponse, ReadsEntraAndImdsShapes) {
  auto now = Clock::time_point(1000h);
  auto entra = parseTokenResponse(R"({"token_type":"Bearer","expires_in":3599,"access_token":"a"})", now);
  ASSERT_TRUE(entra);
  EXPECT_EQ(entra->expiresOn, now + 3599s);
  auto imds = parseTokenResponse(R"({"access_token":"b","expires_in":"86399","expires_on":"1700000000"})", now);
  ASSERT_TRUE(imds);
  EXPECT_EQ(imds->expiresOn, now + 86399s);
  auto onOnly = parseTokenResponse(R"({"access_token":"c","expires_on":"1700000000"})", now);
  ASSERT_TRUE(onOnly);
  EXPECT_EQ(onOnly->expiresOn, Clock::time_point(1700000000s));
  EXPECT_FALSE(parseTokenResponse(R"({"error":"invalid_client"})", now));
}

}  // namespace
}  // namespace anf::azure
