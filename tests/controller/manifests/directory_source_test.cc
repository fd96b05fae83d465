// The directory source over real files: a private io_context runs on a thread; tests await snapshots.
#include <utility>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include "controller/directory_source.h"
#include "tests/controller/manifests/corpus.h"

namespace anf::controller {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string identity(const std::string& name) { return testing::doc("UserAssignedIdentity", name, "  {}\n"); }

void write(const fs::path& p, const std::string& text) {
  fs::path tmp = p.parent_path() / (".tmp-" + p.filename().string());
  std::ofstream(tmp) << text;
  fs::rename(tmp, p);
}

class Watcher : public ::testing::TestWithParam<WatchMode> {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("anf-watch-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override {
    if (source) {
      boost::asio::post(io, [&] { source->stop(); });
    }
    io.stop();
    if (thread.joinable()) thread.join();
    source.reset();
    fs::remove_all(dir);
  }
  void start(const std::string& path) {
    DirectorySource::Options options{.paths = {path}, .load = {.defaults = {.tenant = "provider", .subscriptionId = testing::kSub,
                                                                             .resourceGroup = "anf-rg", .location = "eastus"}},
                                     .mode = GetParam(), .debounce = 50ms, .maxDelay = 500ms, .pollInterval = 50ms};
    source = std::make_unique<DirectorySource>(io, options, [this](const DesiredState& s, const DocumentChanges& c) {
      std::lock_guard lock(mutex);
      snapshots.push_back(s);
      changes.push_back(c);
      changed.notify_all();
    });
    source->start();
    thread = std::thread([this] { auto guard = boost::asio::make_work_guard(io); io.run(); });
  }
  // Waits until the latest snapshot satisfies `done`.
  bool await(const std::function<bool(const DesiredState&)>& done) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 5s, [&] { return !snapshots.empty() && done(snapshots.back()); });
  }
  static bool has(const DesiredState& s, const std::string& name) { return s.documents.contains({Kind::UserAssignedIdentity, name}); }

  fs::path dir;
  boost::asio::io_context io;
  std::unique_ptr<DirectorySource> source;
  std::thread thread;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<DesiredState> snapshots;
  std::vector<DocumentChanges> changes;  // beside each snapshot
};

TEST_P(Watcher, BrokenFileKeepsItsDocumentsUntilFixedAndDeletionRemovesThem) {
  write(dir / "a.yaml", identity("one") + "---\n" + identity("two"));
  start(dir.string());
  ASSERT_TRUE(await([](const auto& s) { return has(s, "one") && has(s, "two"); }));
  write(dir / "a.yaml", "kind: [\n");  // broken
  ASSERT_TRUE(await([](const auto& s) { return !s.errors.empty(); }));
  { std::lock_guard lock(mutex); EXPECT_TRUE(has(snapshots.back(), "one") && has(snapshots.back(), "two")); }
  write(dir / "a.yaml", identity("one"));  // fixed, and a document removed from a file that parses
  ASSERT_TRUE(await([](const auto& s) { return s.errors.empty() && has(s, "one") && !has(s, "two"); }));
  fs::remove(dir / "a.yaml");
  ASSERT_TRUE(await([](const auto& s) { return s.documents.empty(); }));
}

TEST_P(Watcher, AnEditReparsesOnlyTheEditedFileAndHandsOnWhatChanged) {
  write(dir / "a.yaml", identity("one") + "---\n" + identity("two"));
  write(dir / "b.yaml", identity("three"));
  start(dir.string());
  ASSERT_TRUE(await([](const auto& s) { return s.documents.size() == 3; }));
  EXPECT_EQ(source->filesParsed(), 2u);
  write(dir / "b.yaml", identity("four"));
  ASSERT_TRUE(await([](const auto& s) { return has(s, "four"); }));
  EXPECT_EQ(source->filesParsed(), 3u);  // a.yaml was not parsed again
  std::lock_guard lock(mutex);
  EXPECT_EQ(changes.back().changed, (std::vector<DocumentKey>{{Kind::UserAssignedIdentity, "four"}}));
  EXPECT_EQ(changes.back().removed, (std::vector<DocumentKey>{{Kind::UserAssignedIdentity, "three"}}));
  // a.yaml's documents are shared by both snapshots, not copied
  const DocumentKey one{Kind::UserAssignedIdentity, "one"};
  EXPECT_EQ(&std::as_const(snapshots.front().documents).at(one), &std::as_const(snapshots.back().documents).at(one));
}

TEST_P(Watcher, ABrokenFileRemovesNothingAndItsRemovalRemovesItsDocuments) {
  write(dir / "a.yaml", identity("one") + "---\n" + identity("two"));
  start(dir.string());
  ASSERT_TRUE(await([](const auto& s) { return s.documents.size() == 2; }));
  write(dir / "a.yaml", identity("one") + "---\nkind: [\n");  // the second document stops parsing
  ASSERT_TRUE(await([](const auto& s) { return !s.errors.empty(); }));
  {
    std::lock_guard lock(mutex);
    EXPECT_TRUE(changes.back().removed.empty());
    EXPECT_EQ(snapshots.back().documents.size(), 2u);
  }
  fs::remove(dir / "a.yaml");
  ASSERT_TRUE(await([](const auto& s) { return s.documents.empty(); }));
  std::lock_guard lock(mutex);
  EXPECT_EQ(changes.back().removed, (std::vector<DocumentKey>{{Kind::UserAssignedIdentity, "one"}, {Kind::UserAssignedIdentity, "two"}}));
}

TEST_P(Watcher, ConfigMapSymlinkSwap) {
  fs::create_directories(dir / "..2026_01");
  write(dir / "..2026_01" / "m.yaml", identity("old"));
  fs::create_directory_symlink("..2026_01", dir / "..data");
  fs::create_symlink("..data/m.yaml", dir / "m.yaml");
  start(dir.string());
  ASSERT_TRUE(await([](const auto& s) { return has(s, "old") && s.documents.size() == 1; }));
  fs::create_directories(dir / "..2026_02");
  write(dir / "..2026_02" / "m.yaml", identity("new"));
  fs::create_directory_symlink("..2026_02", dir / "..data_tmp");
  fs::rename(dir / "..data_tmp", dir / "..data");
  fs::remove_all(dir / "..2026_01");
  ASSERT_TRUE(await([](const auto& s) { return has(s, "new") && s.documents.size() == 1; }));
}

TEST_P(Watcher, GitSyncLinkSwap) {
  fs::create_directories(dir / ".worktrees" / "a");
  write(dir / ".worktrees" / "a" / "m.yaml", identity("old"));
  fs::create_directory_symlink(".worktrees/a", dir / "repo");
  start((dir / "repo").string());
  ASSERT_TRUE(await([](const auto& s) { return has(s, "old"); }));
  fs::create_directories(dir / ".worktrees" / "b");
  write(dir / ".worktrees" / "b" / "m.yaml", identity("new"));
  fs::create_directory_symlink(".worktrees/b", dir / "repo-tmp");
  fs::rename(dir / "repo-tmp", dir / "repo");
  ASSERT_TRUE(await([](const auto& s) { return has(s, "new") && !has(s, "old"); }));
}

TEST_P(Watcher, BurstOfWritesCoalescesIntoFewSnapshots) {
  write(dir / "b.yaml", identity("idv0"));
  start(dir.string());
  ASSERT_TRUE(await([](const auto& s) { return has(s, "idv0"); }));
  for (int i = 1; i <= 1000; ++i) std::ofstream(dir / "b.yaml") << identity("idv" + std::to_string(i));
  ASSERT_TRUE(await([](const auto& s) { return has(s, "idv1000") && s.documents.size() == 1; })) << [&] {
    std::lock_guard lock(mutex);
    std::string out = std::to_string(snapshots.size()) + " snapshots; last:";
    for (const auto& [k, d] : snapshots.back().documents) out += " " + k.str();
    for (const auto& e : snapshots.back().errors) out += " " + e.str();
    return out;
  }();
  std::lock_guard lock(mutex);
  EXPECT_LE(snapshots.size(), 25u);
}

INSTANTIATE_TEST_SUITE_P(Modes, Watcher, ::testing::Values(WatchMode::Inotify, WatchMode::Poll),
                         [](const auto& info) { return info.param == WatchMode::Inotify ? "Inotify" : "Poll"; });

}  // namespace
}  // namespace anf::controller
