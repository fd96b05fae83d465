// Damaged or missing state (issue 15): the state file (SQLite, WAL) is garbage, truncated, or in the old JSON
// format while a POST action (transitiontocmk, changeKeyVault) runs in Azure; the operator starts, names the file and
// what it does with it, converges, deletes nothing and sends the POST once: the journal of accepted POST actions
// beside the state file (status_store.h) resumes the operation. With that journal gone too (Missing), nothing
// tells that the action was sent: Azure refuses the resent POST (409 AnotherOperationInProgress) and the operator
// waits for Azure and observes again instead of resending. A state folder that cannot be written: /readyz says
// why, the log names the path, the process stays up and starts once the folder is writable again.
#include <sqlite3.h>

#include "tests/reliability/damaged/damaged_support.h"
#include "tests/reliability/damaged/unwritable.h"

namespace anf::testing {
namespace {

enum class Damage { Garbage, Truncated, OldJsonFormat, Missing };

std::string nameOf(Damage d) {
  switch (d) {
    case Damage::Garbage: return "Garbage";
    case Damage::Truncated: return "Truncated";
    case Damage::OldJsonFormat: return "OldJsonFormat";
    case Damage::Missing: return "Missing";
  }
  return "";
}

/// The rows of the SQLite state file as the old JSON state file ({"resources": [entry, ...]}).
Json asOldJsonFormat(const fs::path& database) {
  sqlite3* db = nullptr;
  Json resources = Json::array();
  if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* select = nullptr;
    sqlite3_prepare_v2(db, "SELECT entry FROM statuses", -1, &select, nullptr);
    while (select && sqlite3_step(select) == SQLITE_ROW)
      resources.push_back(Json::parse(reinterpret_cast<const char*>(sqlite3_column_text(select, 0))));
    sqlite3_finalize(select);
  }
  sqlite3_close(db);
  return Json{{"resources", resources}};
}

void removeDatabase(const fs::path& file) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file.string() + suffix);
}

/// Damages the state file of a killed operator as `damage` says.
void damage(const fs::path& file, Damage how) {
  switch (how) {
    case Damage::Garbage:
      removeDatabase(file);
      std::ofstream(file, std::ios::binary) << std::string(8192, '\x5a') << "not a database";
      return;
    case Damage::Truncated: {
      // A copy cut short: the database with its WAL folded in (what a backup tool copies), then half of it.
      const Json rows = asOldJsonFormat(file);
      ASSERT_FALSE(rows["resources"].empty());
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
      sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);
      sqlite3_close(db);
      fs::resize_file(file, fs::file_size(file) / 2);
      for (const char* suffix : {"-wal", "-shm"}) fs::remove(file.string() + suffix);
      return;
    }
    case Damage::OldJsonFormat: {
      const Json old = asOldJsonFormat(file);
      ASSERT_FALSE(old["resources"].empty());
      removeDatabase(file);
      std::ofstream(file) << old.dump(2);
      return;
    }
    case Damage::Missing:  // a new, empty volume: the state file and every file named after it are gone
      for (const auto& entry : fs::directory_iterator(file.parent_path()))
        if (entry.path().filename().string().starts_with(file.filename().string())) fs::remove(entry.path());
      return;
  }
}

class DamagedStateFile : public ReliabilityTest, public ::testing::WithParamInterface<std::tuple<Damage, PostActionFlow>> {};

TEST_P(DamagedStateFile, DuringAPostActionIsNamedAndConvergesSendingThePostOnce) {
  const auto& [how, flow] = GetParam();
  startSecondStage(flow, {"--lro-seconds", "4", "--feature-registration-seconds", "0"});
  awaitActionRecorded(flow.action);
  operator_->kill(SIGKILL);
  const fs::path stateFile = dir_ / "state.json";
  damage(stateFile, how);
  if (HasFatalFailure()) return;

  startOperator();
  if (how == Damage::OldJsonFormat) {
    awaitLog("is in the old JSON format: importing its");
    EXPECT_TRUE(fs::exists(stateFile.string() + ".imported"));
  } else if (how != Damage::Missing) {
    awaitLog("state file " + stateFile.string() + " is not a readable status database");
    awaitLog("set aside as " + stateFile.string() + ".damaged-");
  }
  awaitAllReady(90s, flow.secondDocuments);
  expectNoDuplicateWritesAndNoDeletes();  // accepted once
  const std::size_t sent = countRequests("POST", flow.action);
  RecordProperty("postSent", static_cast<int>(sent));
  std::cout << "[ figures  ] " << nameOf(how) << ": " << flow.action << " sent " << sent << " times, accepted once\n";
  if (how == Damage::Missing) {
    // Nothing on disk says it was sent: one resend, refused while the operation runs, then the operator waits
    // for Azure and observes the action done instead of resending.
    EXPECT_LE(sent, 2u) << flow.action << " resent while Azure refused it:\n" << writes();
    EXPECT_EQ(countRefused("POST", flow.action, 409), sent - 1) << writes();
    return;
  }
  EXPECT_EQ(sent, 1u) << flow.action << " was sent again after the state file was damaged (" << nameOf(how) << "):\n" << writes();
  std::size_t kept = 0;  // what was set aside is kept, never deleted
  for (const auto& entry : fs::directory_iterator(dir_)) kept += entry.path().filename().string().starts_with("state.json.") ? 1 : 0;
  EXPECT_GE(kept, 1u) << "the damaged or imported state file is gone";
}

INSTANTIATE_TEST_SUITE_P(Damages, DamagedStateFile,
                         ::testing::Combine(::testing::Values(Damage::Garbage, Damage::Truncated, Damage::OldJsonFormat, Damage::Missing),
                                            ::testing::Values(kTransitionFlow, kKeyVaultChangeFlow)),
                         [](const auto& info) { return std::get<1>(info.param).name + nameOf(std::get<0>(info.param)); });

TEST_F(ReliabilityTest, UnwritableStateFolderIsNotReadyNamesThePathAndStartsOnceWritable) {
  startEmulator({"--lro-seconds", "0"}, "quickstart");
  std::ofstream(dir_ / "operator.log").flush();  // the log lives beside the state file: created while writable
  if (!setWritable(dir_, false)) GTEST_SKIP() << "cannot make " << dir_ << " unwritable here";
  struct Restore {
    fs::path dir;
    ~Restore() { setWritable(dir, true); }
  } restore{dir_};

  startOperator();
  std::pair<int, std::string> ready;
  EXPECT_TRUE(await([&] { return (ready = operator_->readyz()).first == 503; }, 20s)) << ready.first << " " << ready.second;
  EXPECT_NE(ready.second.find((dir_ / "state.json").string()), std::string::npos) << "/readyz: " << ready.second;
  awaitLog("state file " + (dir_ / "state.json").string());
  EXPECT_TRUE(operator_->running()) << "the operator exited:\n" << tail(operator_->log());
  EXPECT_TRUE(requestLog().empty()) << "Azure was written before the state file could record it";

  ASSERT_TRUE(setWritable(dir_, true));
  EXPECT_TRUE(await([&] { return operator_->readyz().first == 200; }, 30s)) << operator_->readyz().second;
  awaitAllReady(60s, 4);
  EXPECT_TRUE(fs::exists(dir_ / "state.json"));
  expectNoDuplicateWritesAndNoDeletes();
}

}  // namespace
}  // namespace anf::testing
