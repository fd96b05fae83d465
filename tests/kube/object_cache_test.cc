// Watch bookkeeping (kube/object_cache.h): what lists and events change, across replays, reconnects and relists.
#include "kube/object_cache.h"

#include <gtest/gtest.h>

namespace anf::kube {
namespace {

Json object(const std::string& name, const std::string& version, int generation = 1) {
  return Json{{"metadata", {{"name", name}, {"resourceVersion", version}, {"generation", generation}}}};
}

WatchEvent event(WatchEvent::Type type, Json o) { return WatchEvent{type, std::move(o)}; }

TEST(ObjectCache, AListAddsEverythingAndSetsWhereTheWatchStarts) {
  ObjectCache cache;
  auto change = cache.replace({object("a", "5"), object("b", "7")}, "9");
  EXPECT_EQ(change.upserted.size(), 2u);
  EXPECT_TRUE(change.deleted.empty());
  EXPECT_EQ(cache.resourceVersion(), "9");
}

TEST(ObjectCache, EventsMoveTheResourceVersionAndChangeTheStore) {
  ObjectCache cache;
  cache.replace({object("a", "5")}, "9");
  EXPECT_EQ(cache.apply(event(WatchEvent::Type::Added, object("b", "10"))).upserted.size(), 1u);
  EXPECT_EQ(cache.apply(event(WatchEvent::Type::Modified, object("a", "11", 2))).upserted.size(), 1u);
  auto removed = cache.apply(event(WatchEvent::Type::Deleted, object("b", "12")));
  EXPECT_EQ(removed.deleted, std::vector<std::string>{"b"});
  EXPECT_EQ(cache.resourceVersion(), "12");
  EXPECT_EQ(cache.find("a")->at("metadata").at("generation"), 2);
  EXPECT_EQ(cache.find("b"), nullptr);
}

TEST(ObjectCache, AReplayedEventIsAppliedOnce) {
  ObjectCache cache;
  cache.replace({}, "1");
  EXPECT_FALSE(cache.apply(event(WatchEvent::Type::Added, object("a", "2"))).empty());
  EXPECT_TRUE(cache.apply(event(WatchEvent::Type::Added, object("a", "2"))).empty());
  EXPECT_TRUE(cache.apply(event(WatchEvent::Type::Modified, object("a", "2"))).empty());
  EXPECT_FALSE(cache.apply(event(WatchEvent::Type::Deleted, object("a", "3"))).empty());
  EXPECT_TRUE(cache.apply(event(WatchEvent::Type::Deleted, object("a", "3"))).empty());
}

TEST(ObjectCache, ABookmarkOnlyMovesTheResourceVersion) {
  ObjectCache cache;
  cache.replace({object("a", "5")}, "9");
  EXPECT_TRUE(cache.apply(event(WatchEvent::Type::Bookmark, Json{{"metadata", {{"resourceVersion", "42"}}}})).empty());
  EXPECT_EQ(cache.resourceVersion(), "42");
  EXPECT_NE(cache.find("a"), nullptr);
}

TEST(ObjectCache, ARelistAfterGoneReportsOnlyWhatChangedMeanwhileIncludingDeletions) {
  ObjectCache cache;
  cache.replace({object("a", "5"), object("b", "6"), object("c", "7")}, "9");
  cache.expire();
  EXPECT_EQ(cache.resourceVersion(), "");
  // While no watch ran: b changed, c was deleted, d was created; a is as it was.
  auto change = cache.replace({object("a", "5"), object("b", "20"), object("d", "21")}, "22");
  ASSERT_EQ(change.upserted.size(), 2u);
  EXPECT_EQ(nameOf(change.upserted[0]), "b");
  EXPECT_EQ(nameOf(change.upserted[1]), "d");
  EXPECT_EQ(change.deleted, std::vector<std::string>{"c"});
  EXPECT_EQ(cache.resourceVersion(), "22");
}

TEST(ObjectCache, WatchLinesParseOrAreRefused) {
  auto added = parseWatchLine(R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"3"}}})");
  ASSERT_TRUE(added);
  EXPECT_EQ(added->type, WatchEvent::Type::Added);
  EXPECT_EQ(nameOf(added->object), "a");
  auto error = parseWatchLine(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->type, WatchEvent::Type::Error);
  EXPECT_FALSE(parseWatchLine("not json"));
  EXPECT_FALSE(parseWatchLine(R"({"type":"SOMETHING","object":{}})"));
  EXPECT_FALSE(parseWatchLine(R"({"object":{}})"));
}

}  // namespace
}  // namespace anf::kube
