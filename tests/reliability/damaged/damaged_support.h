#pragma once
// Shared by the reliability/damaged suites: the E2eTest fixture (emulator process, operator process, working dir)
// plus what these tests assert through the emulator's request log: POST actions sent once, no write accepted twice
// for the same resource, nothing deleted.
#include <map>
#include <set>

#include "tests/e2e/e2e_support.h"

namespace anf::testing {

/// The POST actions that must never be sent twice for one intent (issue 15).
inline const std::vector<std::string> kPostActions = {"/transitiontocmk", "/changekeyvault", "/renewcredentials"};

/// A flow of two examples whose second stage sends one POST action to the account.
struct PostActionFlow {
  std::string name;  // for test names
  std::string firstStage;
  std::size_t firstDocuments = 0;
  std::string secondStage;  // the whole manifest set of the second stage
  std::size_t secondDocuments = 0;
  std::string action;  // the POST's path suffix
};
inline void PrintTo(const PostActionFlow& flow, std::ostream* os) { *os << flow.name; }
inline const PostActionFlow kTransitionFlow{"Transition", "pmk-to-cmk-transition/1-pmk", 3, "pmk-to-cmk-transition/2-transition", 4,
                                            "/transitiontocmk"};
inline const PostActionFlow kKeyVaultChangeFlow{"ChangeKeyVault", "quickstart", 4, "change-key-vault", 5, "/changekeyvault"};

class ReliabilityTest : public E2eTest {
 protected:
  void SetUp() override {}  // each test starts its own emulator

  /// The emulator's request log.
  std::vector<Json> requestLog() const {
    return emulator_->control("GET", "/_emulator/requests").body.value("items", std::vector<Json>{});
  }

  /// Logged requests with `method` whose path ends with `suffix` (case-insensitive).
  std::size_t countRequests(const std::string& method, const std::string& suffix) const {
    std::size_t n = 0;
    for (const auto& entry : requestLog())
      n += entry.value("method", "") == method && lower(entry.value("path", "")).ends_with(lower(suffix)) ? 1 : 0;
    return n;
  }

  /// Logged requests with `method` whose path ends with `suffix` that Azure answered with `status`.
  std::size_t countRefused(const std::string& method, const std::string& suffix, int status) const {
    std::size_t n = 0;
    for (const auto& entry : requestLog())
      n += entry.value("method", "") == method && entry.value("status", 0) == status &&
                   lower(entry.value("path", "")).ends_with(lower(suffix)) ? 1 : 0;
    return n;
  }

  /// Fails the test when a resource was created or acted on (PUT, POST, accepted) more than once, or anything was deleted. PATCHes are not counted: one flow may send two different
  /// ones to a resource (its identity, then its encryption) and the request log has no bodies to tell a repeat.
  void expectNoDuplicateWritesAndNoDeletes() const {
    std::map<std::string, int> accepted;
    for (const auto& entry : requestLog()) {
      const std::string method = entry.value("method", ""), path = lower(entry.value("path", ""));
      EXPECT_NE(method, "DELETE") << "deleted " << path;
      if ((method != "PUT" && method != "POST") || entry.value("status", 0) >= 300) continue;
      if (path.find("/oauth2/") != std::string::npos || path.ends_with("/getkeyvaultstatus")) continue;  // reads
      ++accepted[method + " " + path];
    }
    for (const auto& [write, count] : accepted) EXPECT_EQ(count, 1) << write << " accepted " << count << " times; writes:\n" << writes();
  }

  /// Fails the test when a POST action was sent more than once, whatever Azure answered.
  void expectEachPostActionSentAtMostOnce() const {
    for (const auto& action : kPostActions) EXPECT_LE(countRequests("POST", action), 1u) << "POST " << action << " sent twice:\n" << writes();
  }

  /// The writes of the request log, one a line (time method path status), for failure messages.
  std::string writes() const {
    std::string out;
    for (const auto& e : requestLog())
      if (e.value("method", "") != "GET")
        out += e.value("time", "") + " " + e.value("method", "") + " " + e.value("path", "") + " " + std::to_string(e.value("status", 0)) + "\n";
    return out;
  }

  /// The emulator (with `emulatorArgs`) and the operator on the flow's first stage, all Ready, the request log
  /// cleared, then the second stage in place of the first: the operator goes on to send the flow's POST.
  void startSecondStage(const PostActionFlow& flow, std::vector<std::string> emulatorArgs) {
    startEmulator(std::move(emulatorArgs), flow.firstStage);
    startOperator();
    awaitAllReady(60s, flow.firstDocuments);
    emulator_->control("DELETE", "/_emulator/requests");
    for (const auto& entry : fs::directory_iterator(dir_ / "manifests")) fs::remove(entry.path());
    copyExample(flow.secondStage, dir_ / "manifests");
  }

  /// Awaits a document whose status holds the operation of POST `action` (its record in the journal).
  void awaitActionRecorded(const std::string& action) {
    const auto recorded = [&] {
      const Json list = operator_->statusJson();
      for (const auto& item : list.is_object() ? list.value("items", Json::array()) : Json::array())
        if (lower("/" + item.value("/status/operation/state/action"_json_pointer, std::string())) == lower(action)) return true;
      return false;
    };
    ASSERT_TRUE(await(recorded, 60s)) << "no status holds the operation of POST " << action << "\n" << writes() << tail(operator_->log());
  }

  /// Copies manifests/examples/<example>/*.yaml into `into` (created).
  static void copyExample(const std::string& example, const fs::path& into) {
    fs::create_directories(into);
    for (const auto& entry : fs::directory_iterator(fs::path(ANF_SOURCE_DIR) / "manifests/examples" / example))
      if (entry.path().extension() == ".yaml") fs::copy_file(entry.path(), into / entry.path().filename(), fs::copy_options::overwrite_existing);
  }

  /// Awaits `text` in the operator's log; the failure shows its tail.
  void awaitLog(const std::string& text, std::chrono::seconds timeout = 30s) {
    EXPECT_TRUE(await([&] { return operator_->log().find(text) != std::string::npos; }, timeout))
        << "'" << text << "' not logged within " << timeout.count() << " s; log tail:\n" << tail(operator_->log());
  }

  /// The value of the metric series `series` (e.g. "anf_cmk_manifest_errors"), -1 when absent.
  double metric(const std::string& series) const {
    std::istringstream lines(operator_->metricsText());
    for (std::string line; std::getline(lines, line);)
      if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
    return -1;
  }

  /// The operator's own condition `type` (GET /api/v1/resources .operator.conditions), or null.
  Json operatorCondition(const std::string& type) const {
    const Json list = operator_->statusJson();
    if (!list.is_object() || !list.contains("operator")) return nullptr;
    for (const auto& c : list["operator"].value("conditions", Json::array()))
      if (c.value("type", "") == type) return c;
    return nullptr;
  }
};

}  // namespace anf::testing
