// The wiring of run and plan: the quickstart manifests and operator.yaml, fake reconcilers, real
// watcher, servers on port 0, SIGTERM.
#include <utility>

#include <csignal>
#include <fstream>

#include "controller/config.h"
#include "controller/operator.h"
#include "controller/servers.h"
#include "tests/controller/engine/fakes.h"

namespace anf::controller {
namespace {

using namespace std::chrono_literals;

const std::string kQuickstart = std::string(ANF_SOURCE_DIR) + "/manifests/examples/quickstart";

OperatorConfig exampleConfig(const std::filesystem::path& dir) {
  auto env = [](const std::string&) -> std::optional<std::string> { return "not-a-real-secret"; };
  auto config = loadConfigFile(std::string(ANF_SOURCE_DIR) + "/manifests/examples/operator.yaml", env);
  EXPECT_TRUE(config.has_value());
  OperatorConfig c = config.value_or(defaultConfig(env));
  c.server = {"127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"};
  c.controller.stateFile = (dir / "state" / "state.db").string();
  return c;
}

/// One reconciler per kind; Azure "has" everything when `exists`.
std::vector<ReconcilerPtr> azureWhere(bool exists) {
  std::vector<ReconcilerPtr> out;
  for (Kind kind : allKinds()) {
    auto fns = std::make_unique<testing::ReconcilerFns>(kind);
    fns->observeFn = [exists](const ReconcileContext&) -> Result<Observation> {
      return Observation{.exists = exists, .upToDate = exists};
    };
    out.push_back(std::move(fns));
  }
  return out;
}

TEST(Operator, ReconcilesServesAndStopsOnSigterm) {
  const auto dir = testing::tempDir();
  Operator op(OperatorOptions{.config = exampleConfig(dir),
                              .manifestPaths = {kQuickstart},
                              .reconcilers = azureWhere(true),
                              .poll = {},
                              .readiness = [] { return std::string(); },
                              .registry = nullptr,
                              .shutdownGracePeriod = 5s,
                              .configureLogging = false});
  auto started = op.start();
  ASSERT_TRUE(started) << started.error();
  const auto ports = op.ports();
  ASSERT_NE(ports.metrics, 0);
  ASSERT_TRUE(op.engine().statuses().waitFor(
      [&] {
        const auto all = op.engine().statuses().list();
        return all.size() == 4 && std::all_of(all.begin(), all.end(), [](const auto& s) { return s.status.ready; });
      },
      10s));
  auto get = [](std::uint16_t port, const std::string& target) {
    return httpGet("127.0.0.1:" + std::to_string(port), target).value_or(HttpGetResult{});
  };
  EXPECT_EQ(get(ports.health, "/readyz").status, 200);
  EXPECT_EQ(Json::parse(get(ports.status, "/api/v1/resources").body).at("items").size(), 4u);
  EXPECT_NE(get(ports.metrics, "/metrics").body.find("anf_cmk_resource_ready{kind=\"Volume\"} 1"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "state" / "state.db"));

  ASSERT_EQ(::raise(SIGTERM), 0);
  EXPECT_EQ(op.waitAndShutDown(), 0);
  std::filesystem::remove_all(dir);
}

TEST(Operator, PlanOnceExitCodesAndFormats) {
  const auto dir = testing::tempDir();
  const auto config = exampleConfig(dir);
  const auto pending = planOnce(config, {kQuickstart}, azureWhere(false), PlanFormat::Text);
  EXPECT_EQ(pending.exitCode, 3) << pending.errors;
  EXPECT_NE(pending.output.find("NetAppAccount/anf-account: create\n"), std::string::npos) << pending.output;
  EXPECT_NE(pending.output.find("CapacityPool/pool1: create (after NetAppAccount/anf-account)"), std::string::npos) << pending.output;

  const auto clean = planOnce(config, {kQuickstart}, azureWhere(true), PlanFormat::Json);
  EXPECT_EQ(clean.exitCode, 0) << clean.errors;
  EXPECT_EQ(Json::parse(clean.output).at("summary").at("unchanged"), 4);

  std::ofstream(dir / "broken.yaml") << "apiVersion: anf-cmk.io/v1alpha1\nkind: Volume\nmetadata: {name: v}\nspec: {bogus: 1}\n";
  const auto broken = planOnce(config, {(dir / "broken.yaml").string()}, azureWhere(true), PlanFormat::Text);
  EXPECT_EQ(broken.exitCode, 1);
  EXPECT_NE(broken.errors.find("broken.yaml:"), std::string::npos) << broken.errors;
  std::filesystem::remove_all(dir);
}

// Issue 13: every daemon on a host used /tmp/anf-cmk-operator/state.json, so a second installation restored
// the first one's statuses. The default now belongs to one installation (its config and manifests).
TEST(DefaultStateFile, BelongsToOneInstallation) {
  const auto mine = defaultStateFile("/etc/anf/a/operator.yaml", {"/srv/manifests", "/srv/extra"});
  EXPECT_EQ(mine.filename(), "state.db") << "a SQLite database (status_store.h)";
  EXPECT_EQ(mine.parent_path().parent_path().filename(), "anf-cmk-operator");
  EXPECT_TRUE(mine.parent_path().filename().string().starts_with("operator-")) << mine;
  EXPECT_NE(mine, std::filesystem::path("/tmp/anf-cmk-operator/state.json"));
  EXPECT_EQ(mine, defaultStateFile("/etc/anf/a/../a/operator.yaml", {"/srv/extra", "/srv/manifests/"}))
      << "the same installation finds its journal again after a restart";
  EXPECT_NE(mine, defaultStateFile("/etc/anf/b/operator.yaml", {"/srv/manifests", "/srv/extra"})) << "another config";
  EXPECT_NE(mine, defaultStateFile("/etc/anf/a/operator.yaml", {"/srv/other"})) << "other manifests";
  EXPECT_NE(defaultStateFile("", {"/srv/one"}), defaultStateFile("", {"/srv/two"})) << "no config: the manifests decide";
}

}  // namespace
}  // namespace anf::controller
