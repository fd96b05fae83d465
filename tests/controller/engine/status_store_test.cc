// The status store's state file: one SQLite row per document, durable across kill -9, a damaged file set
// aside, the JSON state file of earlier versions imported once.
#include <utility>

#include <csignal>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "controller/conditions.h"
#include "controller/status_store.h"
#include "tests/controller/engine/fakes.h"
#include "tests/reliability/damaged/unwritable.h"

namespace anf::controller {
namespace {

using namespace std::chrono_literals;

DocumentKey volumeKey(int i) { return {Kind::Volume, "vol-" + std::to_string(i)}; }

void setReady(StoredStatus& s, const std::string& generation) {
  s.status.generation = generation;
  setCondition(s.status.conditions, condition::kReady, condition::kTrue, reason::kAvailable, "", std::chrono::system_clock::now());
  s.status.ready = true;
}

void fill(StatusStore& store, int count) {
  for (int i = 0; i < count; ++i) store.update(volumeKey(i), [&](StoredStatus& s) { setReady(s, "g1"); });
}

/// A second connection to the state file, as an administrator's `sqlite3` would open it.
class Sql {
 public:
  explicit Sql(const std::filesystem::path& file) { EXPECT_EQ(sqlite3_open(file.c_str(), &db_), SQLITE_OK); }
  ~Sql() { sqlite3_close(db_); }
  void exec(const std::string& sql) { ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db_); }
  long long scalar(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    const long long value = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    return value;
  }
  /// From now on, every row the store inserts, updates or deletes is counted in rows_written.
  void countRowsWritten() {
    exec("CREATE TABLE rows_written (n INTEGER)");
    for (const char* event : {"INSERT", "UPDATE", "DELETE"})
      exec(std::string("CREATE TRIGGER count_") + event + " AFTER " + event +
           " ON statuses BEGIN INSERT INTO rows_written VALUES (1); END");
  }
  long long rowsWritten() { return scalar("SELECT count(*) FROM rows_written"); }

 private:
  sqlite3* db_ = nullptr;
};

std::vector<std::filesystem::path> filesStartingWith(const std::filesystem::path& dir, const std::string& prefix) {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().filename().string().starts_with(prefix)) out.push_back(entry.path());
  return out;
}

TEST(StatusStore, OneChangeWritesOneRowWhateverTheNumberOfDocuments) {
  const auto dir = testing::tempDir();
  const auto file = dir / "state.db";
  StatusStore store(file);
  ASSERT_TRUE(store.load());
  fill(store, 1000);
  Sql sql(file);
  EXPECT_EQ(sql.scalar("SELECT count(*) FROM statuses"), 1000) << "one row per document";
  sql.countRowsWritten();

  store.update(volumeKey(500), [](StoredStatus& s) { s.status.facts["size"] = 100; });
  EXPECT_EQ(sql.rowsWritten(), 1);
  store.update(volumeKey(500), [](StoredStatus& s) { s.status.facts["size"] = 100; });
  EXPECT_EQ(sql.rowsWritten(), 1) << "an unchanged status writes nothing";
  store.update(volumeKey(1000), [](StoredStatus& s) { setReady(s, "g1"); });
  EXPECT_EQ(sql.rowsWritten(), 2) << "a new document adds its row";
  store.erase(volumeKey(3));
  EXPECT_EQ(sql.rowsWritten(), 3);
  EXPECT_EQ(sql.scalar("SELECT count(*) FROM statuses"), 1000);
  std::filesystem::remove_all(dir);
}

TEST(StatusStore, UsesWriteAheadLogging) {
  const auto dir = testing::tempDir();
  StatusStore store(dir / "state.db");
  ASSERT_TRUE(store.load());
  fill(store, 1);
  EXPECT_TRUE(std::filesystem::exists(dir / "state.db-wal")) << "WAL mode keeps a -wal file while open";
  std::filesystem::remove_all(dir);
}

TEST(StatusStore, ReopenedStoreHasEveryRowAsAJournal) {
  const auto dir = testing::tempDir();
  {
    StatusStore store(dir / "state.db");
    ASSERT_TRUE(store.load());
    fill(store, 20);
    store.erase(volumeKey(7));
    store.update(volumeKey(3), [](StoredStatus& s) {
      s.status.operation = Json{{"id", "op-3"}};
      s.operationGroup = "account/a";
      s.operationAction = "create";
    });
  }
  StatusStore reopened(dir / "state.db");
  ASSERT_TRUE(reopened.load());
  EXPECT_EQ(reopened.list().size(), 19u);
  EXPECT_FALSE(reopened.contains(volumeKey(7)));
  const auto three = reopened.get(volumeKey(3));
  ASSERT_TRUE(three && three->status.operation);
  EXPECT_EQ(three->status.operation->value("id", ""), "op-3");
  EXPECT_EQ(three->operationGroup, "account/a");
  EXPECT_EQ(three->status.generation, "g1");
  EXPECT_FALSE(three->status.ready) << "Ready is restored as Unknown, never believed";
  EXPECT_EQ(findCondition(three->status.conditions, condition::kReady)->reason, reason::kNotYetObserved);
  EXPECT_EQ(reopened.counts(Kind::Volume).ready, 0);
  EXPECT_EQ(reopened.counts(Kind::Volume).notReady, 19);
  std::filesystem::remove_all(dir);
}

TEST(StatusStore, CountsFollowEveryChange) {
  StatusStore store;
  fill(store, 3);
  store.update(volumeKey(9), [](StoredStatus&) {});
  EXPECT_EQ(store.counts(Kind::Volume).ready, 3);
  EXPECT_EQ(store.counts(Kind::Volume).notReady, 1);
  store.update(volumeKey(0), [](StoredStatus& s) { s.status.ready = false; });
  store.erase(volumeKey(1));
  store.erase(volumeKey(9));
  EXPECT_EQ(store.counts(Kind::Volume).ready, 1);
  EXPECT_EQ(store.counts(Kind::Volume).notReady, 1);
  EXPECT_EQ(store.counts(Kind::CapacityPool).ready + store.counts(Kind::CapacityPool).notReady, 0);
}

// A child process writes rows and reports each one once update() returned; it is killed with SIGKILL
// mid-stream. Every reported row must be there when the store reopens.
TEST(StatusStore, EveryCommittedRowSurvivesKillNine) {
  const auto dir = testing::tempDir();
  const auto file = dir / "state.db";
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    StatusStore store(file);
    if (!store.load()) _exit(2);
    for (int i = 0;; ++i) {
      store.update(volumeKey(i), [&](StoredStatus& s) {
        s.status.facts["n"] = i;
        if (i % 2 == 0) s.status.operation = Json{{"id", "op-" + std::to_string(i)}};  // FULL; odd rows NORMAL
      });
      if (write(fds[1], &i, sizeof i) != sizeof i) _exit(3);
    }
  }
  close(fds[1]);
  int committed = -1, n = 0;
  while (committed < 300 && read(fds[0], &n, sizeof n) == sizeof n) committed = n;
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the child was writing when it was killed";
  while (read(fds[0], &n, sizeof n) == sizeof n) committed = n;  // reported before the kill landed
  close(fds[0]);

  StatusStore reopened(file);
  ASSERT_TRUE(reopened.load());
  EXPECT_GE(reopened.list().size(), static_cast<std::size_t>(committed + 1));
  for (int i = 0; i <= committed; ++i) {
    const auto e = reopened.get(volumeKey(i));
    ASSERT_TRUE(e) << "row " << i << " of " << committed;
    EXPECT_EQ(e->status.facts.value("n", -1), i);
    if (i % 2 == 0) EXPECT_EQ(e->status.operation.value_or(Json::object()).value("id", ""), "op-" + std::to_string(i));
  }
  EXPECT_TRUE(filesStartingWith(dir, "state.db.damaged").empty()) << "a killed writer leaves no damage";
  std::filesystem::remove_all(dir);
}

struct DamagedCase {
  std::string name;
  std::function<void(const std::filesystem::path&)> damage;
};

void PrintTo(const DamagedCase& c, std::ostream* os) { *os << c.name; }

class StatusStoreDamaged : public ::testing::TestWithParam<DamagedCase> {};

// Not a database, or a database whose pages are garbage: set aside, one log line, start empty, keep working.
TEST_P(StatusStoreDamaged, IsSetAsideAndTheStoreStartsEmpty) {
  const auto dir = testing::tempDir();
  const auto file = dir / "state.db";
  GetParam().damage(file);
  const auto damagedSize = std::filesystem::file_size(file);
  {
    StatusStore store(file);
    ASSERT_TRUE(store.load());
    EXPECT_TRUE(store.list().empty());
    fill(store, 2);
  }
  const auto aside = filesStartingWith(dir, "state.db.damaged-");
  ASSERT_EQ(aside.size(), 1u) << "the damaged file is kept for a post-mortem";
  EXPECT_EQ(std::filesystem::file_size(aside[0]), damagedSize);
  StatusStore reopened(file);
  ASSERT_TRUE(reopened.load());
  EXPECT_EQ(reopened.list().size(), 2u) << "the new state file works";
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, StatusStoreDamaged,
    ::testing::Values(
        DamagedCase{"NotADatabase", [](const std::filesystem::path& f) { std::ofstream(f) << "not a database, not JSON\n"; }},
        DamagedCase{"TruncatedJson", [](const std::filesystem::path& f) { std::ofstream(f) << R"({"version": 1, "resources": [)"; }},
        DamagedCase{"GarbagePages",
                    [](const std::filesystem::path& f) {
                      {
                        StatusStore store(f);
                        ASSERT_TRUE(store.load());
                        fill(store, 200);
                      }  // closed: checkpointed into the main file
                      std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
                      io.seekp(4096);  // past the header page: the table's pages
                      const std::string junk(3 * 4096, '\x5a');
                      io.write(junk.data(), static_cast<std::streamsize>(junk.size()));
                    }}),
    [](const ::testing::TestParamInfo<DamagedCase>& info) { return info.param.name; });

// The action journal (status_store.h): the records of accepted POST actions outlive a damaged or missing state file.
const DocumentKey kAccount{Kind::NetAppAccount, "acct"};

void startAction(StatusStore& store, const DocumentKey& key, const std::string& action) {
  store.update(key, [&](StoredStatus& s) {
    s.status.facts["transitions"] = Json::array({{{"state", "InProgress"}}});
    s.status.operation = Json{{"url", "https://arm.test/operationResults/" + key.name}, {"method", "POST"}, {"action", action}};
    s.operationGroup = "account/" + key.name;
    s.operationAction = "update";
  });
}

void endAction(StatusStore& store, const DocumentKey& key) {
  store.update(key, [](StoredStatus& s) { s.status.operation.reset(); });
}

/// A store on `file` that records what `record` does, then closes.
void recordAndClose(const std::filesystem::path& file, const std::function<void(StatusStore&)>& record) {
  StatusStore store(file);
  ASSERT_TRUE(store.load());
  record(store);
}

void removeStateFile(const std::filesystem::path& file) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file.string() + suffix);
}

TEST(StatusStoreActionJournal, RestoresTheRunningPostActionsOfADamagedStateFile) {
  const auto dir = testing::tempDir();
  const auto file = dir / "state.db";
  recordAndClose(file, [](StatusStore& store) {
    fill(store, 3);
    startAction(store, kAccount, "transitiontocmk");
    startAction(store, {Kind::NetAppAccount, "ended"}, "changeKeyVault");
    endAction(store, {Kind::NetAppAccount, "ended"});
    store.update(volumeKey(0), [](StoredStatus& s) { s.status.operation = Json{{"url", "https://arm.test/op"}, {"method", "PUT"}}; });
  });
  removeStateFile(file);
  std::ofstream(file, std::ios::binary) << std::string(8192, '\x5a');

  StatusStore store(file);
  ASSERT_TRUE(store.load());
  const auto entries = store.list();
  ASSERT_EQ(entries.size(), 1u) << "only the running POST action: a PUT is resent safely, an ended action needs nothing";
  EXPECT_EQ(entries[0].key, kAccount);
  ASSERT_TRUE(entries[0].status.operation.has_value());
  EXPECT_EQ(entries[0].status.operation->value("action", ""), "transitiontocmk");
  EXPECT_EQ(entries[0].operationGroup, "account/acct");
  EXPECT_EQ(entries[0].status.facts["transitions"][0]["state"], "InProgress");
  EXPECT_FALSE(entries[0].status.ready) << "a restored entry is a journal, not an observation";
  EXPECT_EQ(filesStartingWith(dir, "state.db.damaged-").size(), 1u);

  StatusStore reopened(file);  // written into the new state file
  ASSERT_TRUE(reopened.load());
  EXPECT_TRUE(reopened.get(kAccount).value_or(StoredStatus{}).status.operation.has_value());
  std::filesystem::remove_all(dir);
}

TEST(StatusStoreActionJournal, RestoresWhenTheStateFileIsMissingAndSkipsATornLastLine) {
  const auto dir = testing::tempDir();
  const auto file = dir / "state.db";
  recordAndClose(file, [](StatusStore& store) { startAction(store, kAccount, "renewCredentials"); });
  removeStateFile(file);
  std::ofstream(file.string() + "-actions", std::ios::app) << R"({"kind": "NetAppAccount", "name": "other", "entry": {"ki)";

  StatusStore store(file);
  ASSERT_TRUE(store.load());
  ASSERT_EQ(store.list().size(), 1u);
  EXPECT_EQ(store.get(kAccount).value_or(StoredStatus{}).status.operation.value_or(Json()).value("action", ""), "renewCredentials");
  std::filesystem::remove_all(dir);
}

// A readable state file is the record: the action journal is not read over it, only rewritten to match it.
TEST(StatusStoreActionJournal, IsNotReadOverAReadableStateFileAndHoldsOnlyRunningActions) {
  const auto dir = testing::tempDir();
  const auto file = dir / "state.db";
  const auto journal = file.string() + "-actions";
  recordAndClose(file, [](StatusStore& store) {
    startAction(store, kAccount, "transitiontocmk");
    for (int i = 0; i < 5; ++i) {
      startAction(store, {Kind::NetAppAccount, "a" + std::to_string(i)}, "changeKeyVault");
      endAction(store, {Kind::NetAppAccount, "a" + std::to_string(i)});
    }
    endAction(store, kAccount);
  });
  StatusStore store(file);
  ASSERT_TRUE(store.load());
  EXPECT_FALSE(store.get(kAccount).value_or(StoredStatus{}).status.operation.has_value()) << "the ended action came back";
  EXPECT_FALSE(std::filesystem::exists(journal)) << "no action runs: nothing to keep";
  startAction(store, kAccount, "transitiontocmk");
  std::ifstream in(journal);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) ++lines;
  EXPECT_EQ(lines, 1);
  std::filesystem::remove_all(dir);
}

std::string legacyStateJson(int count) {
  Json resources = Json::array();
  for (int i = 0; i < count; ++i) {
    StoredStatus e{.key = volumeKey(i), .firstSeen = "2026-01-01T00:00:00Z"};
    setReady(e, "g-old");
    if (i == 0) {
      e.status.operation = Json{{"id", "op-old"}};
      e.operationGroup = "account/a";
      e.operationAction = "update";
    }
    resources.push_back(toStateJson(e));
  }
  return Json{{"version", 1}, {"resources", resources}}.dump(1);
}

struct LegacyCase {
  std::string name;
  std::string configured;  // the state file path the operator is given
  std::string legacy;      // where the old JSON file is
};

void PrintTo(const LegacyCase& c, std::ostream* os) { *os << c.name; }

class StatusStoreLegacy : public ::testing::TestWithParam<LegacyCase> {};

TEST_P(StatusStoreLegacy, OldJsonStateFileIsImportedOnce) {
  const auto dir = testing::tempDir();
  const auto file = dir / GetParam().configured;
  std::ofstream(dir / GetParam().legacy) << legacyStateJson(3);
  {
    StatusStore store(file);
    ASSERT_TRUE(store.load());
    ASSERT_EQ(store.list().size(), 3u);
    const auto first = store.get(volumeKey(0));
    ASSERT_TRUE(first->status.operation);
    EXPECT_EQ(first->status.operation->value("id", ""), "op-old") << "an operation in flight is resumed";
    EXPECT_EQ(first->firstSeen, "2026-01-01T00:00:00Z");
    EXPECT_FALSE(first->status.ready) << "imported statuses are a journal too";
    store.erase(volumeKey(2));
  }
  EXPECT_TRUE(std::filesystem::exists(dir / (GetParam().legacy + ".imported")));
  EXPECT_TRUE(filesStartingWith(dir, GetParam().configured + ".damaged").empty());
  StatusStore reopened(file);
  ASSERT_TRUE(reopened.load());
  EXPECT_EQ(reopened.list().size(), 2u) << "imported once: the erased entry does not come back";
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Cases, StatusStoreLegacy,
                         ::testing::Values(LegacyCase{"AtTheConfiguredPath", "state.json", "state.json"},
                                           LegacyCase{"AtTheOldDefaultName", "state.db", "state.json"}),
                         [](const ::testing::TestParamInfo<LegacyCase>& info) { return info.param.name; });

TEST(StatusStore, UnwritableDirectoryIsAnErrorNotACrash) {
  const auto dir = testing::tempDir();
  StatusStore store(dir / "missing" / "dir" / "state.db");
  EXPECT_FALSE(store.load());
  std::filesystem::remove_all(dir);
}

// SQLite opens a file it cannot write read-only without a word: a journal that then records nothing. It is
// an error naming the path (the operator waits until it can be written), never set aside as damaged.
TEST(StatusStore, ReadOnlyStateFileIsAnErrorAndIsKeptAsItIs) {
  const auto dir = testing::tempDir();
  const auto file = dir / "state.db";
  {
    StatusStore store(file);
    ASSERT_TRUE(store.load());
    fill(store, 2);
  }
  if (!anf::testing::setWritable(file, false)) GTEST_SKIP() << "cannot make " << file << " read-only here";
  {
    StatusStore store(file);
    const auto loaded = store.load();
    anf::testing::setWritable(file, true);
    ASSERT_FALSE(loaded) << "a read-only state file was accepted as a journal";
    EXPECT_NE(loaded.error().find(file.string()), std::string::npos) << loaded.error();
  }
  EXPECT_TRUE(filesStartingWith(dir, "state.db.damaged").empty()) << "a good journal was set aside";
  StatusStore again(file);
  ASSERT_TRUE(again.load());
  EXPECT_EQ(again.list().size(), 2u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace anf::controller
