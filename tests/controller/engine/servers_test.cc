// /metrics, /healthz, /readyz and the status API over real HTTP on port 0.
#include <utility>

#include <boost/asio/ip/tcp.hpp>

#include <cstdio>
#include <cstring>

#include <sys/wait.h>
#include <regex>
#include <sstream>

#include "controller/servers.h"
#include "controller/status_client.h"
#include "tests/controller/engine/fakes.h"

namespace anf::controller {
namespace {

using namespace std::chrono_literals;

/// Metric family names of a Prometheus text exposition (from the samples, not the comments).
std::set<std::string> sampleNames(const std::string& text) {
  std::set<std::string> names;
  std::istringstream in(text);
  std::string line;
  const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? [-+0-9.eEInfa]+$)");
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::smatch m;
    if (!std::regex_match(line, m, sample)) {
      ADD_FAILURE() << "not a sample line: " << line;
      continue;
    }
    std::string name = m[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (name.ends_with(suffix) && name.find("_seconds") != std::string::npos) name.erase(name.size() - std::strlen(suffix));
    names.insert(name);
  }
  return names;
}

class ServersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fns = std::make_unique<testing::ReconcilerFns>(Kind::NetAppAccount);
    fns->observeFn = [](const ReconcileContext& c) -> Result<Observation> {
      Observation o{.exists = true, .upToDate = true};
      o.facts = {{"resourceId", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.NetApp/netAppAccounts/" + c.document.key.name},
                 {"keyVaultStatus", "InUse"},
                 // the account reconciler's shape (reconcilers/netapp_account.h)
                 {"keyVault", {{"resourceId", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/anfkv-provider"},
                               {"name", "anfkv-provider"}, {"keyName", "anf-key"}}},
                 {"keyExpiry", 1893456000}};
      o.conditions.push_back({.type = "KeyVaultValid", .status = "True", .reason = "KeyVaultChecksPassed"});
      return o;
    };
    engine = std::make_unique<Engine>(io.io, testing::fastOptions(), testing::reconcilers(std::move(fns)), OperationPollFn{}, metrics);
    ASSERT_TRUE(engine->start());
    Routes routes = metricsRoutes(metrics);
    routes.merge(healthRoutes([this] { return engine->loaded() ? std::string() : std::string("manifests not loaded yet"); }));
    routes.merge(statusRoutes(*engine));
    auto started = HttpServer::start(io.io, "127.0.0.1:0", std::move(routes));
    ASSERT_TRUE(started) << started.error();
    server = std::move(*started);
    address = "127.0.0.1:" + std::to_string(server->port());
  }
  void TearDown() override {
    engine->stop(5s);
    io.stop();
  }
  void applyAccount() {
    engine->apply(testing::makeState({testing::makeDocument(Kind::NetAppAccount, "acct")}));
    ASSERT_TRUE(testing::waitReady(*engine, {Kind::NetAppAccount, "acct"}));
  }
  HttpGetResult get(const std::string& target) {
    auto r = httpGet(address, target);
    EXPECT_TRUE(r) << r.error();
    return r.value_or(HttpGetResult{});
  }

  testing::IoThread io;
  Metrics metrics;
  std::unique_ptr<Engine> engine;
  HttpServerPtr server;
  std::string address;
};

TEST_F(ServersTest, MetricsHaveEveryEngineNameOfTheSpec) {
  applyAccount();
  const auto scrape = get("/metrics");
  ASSERT_EQ(scrape.status, 200);
  const auto names = sampleNames(scrape.body);
  for (const char* name :
       {"controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total", "controller_runtime_reconcile_time_seconds",
        "controller_runtime_active_workers", "workqueue_depth", "workqueue_adds_total", "workqueue_queue_duration_seconds",
        "workqueue_retries_total", "anf_cmk_resource_ready", "anf_cmk_drift_corrected_total", "anf_cmk_manifest_errors",
        "anf_cmk_key_expiry_timestamp_seconds", "anf_cmk_key_vault_status"})
    EXPECT_TRUE(names.contains(name)) << name;
  // Label sets exist at 0 before any event, for every kind and result.
  EXPECT_NE(scrape.body.find(R"(controller_runtime_reconcile_total{controller="Volume",result="requeue_after"} 0)"), std::string::npos);
  EXPECT_NE(scrape.body.find(R"(controller_runtime_reconcile_errors_total{controller="CapacityPool"} 0)"), std::string::npos);
  EXPECT_NE(scrape.body.find(R"(anf_cmk_resource_ready{kind="NetAppAccount"} 1)"), std::string::npos);
  EXPECT_NE(scrape.body.find(R"(anf_cmk_key_vault_status{account="acct",status="InUse"} 1)"), std::string::npos);
  EXPECT_NE(scrape.body.find(R"(anf_cmk_key_expiry_timestamp_seconds{key="anf-key",vault="anfkv-provider"} 1893456000)"), std::string::npos);
}

TEST_F(ServersTest, ReadyzWaitsForManifests) {
  EXPECT_EQ(get("/healthz").status, 200);
  const auto before = get("/readyz");
  EXPECT_EQ(before.status, 503);
  EXPECT_NE(before.body.find("manifests not loaded"), std::string::npos);
  applyAccount();
  EXPECT_EQ(get("/readyz").status, 200);
  EXPECT_EQ(get("/nope").status, 404);
}

TEST_F(ServersTest, StatusApiShape) {
  applyAccount();
  const auto list = get("/api/v1/resources");
  ASSERT_EQ(list.status, 200);
  const Json items = Json::parse(list.body).at("items");
  ASSERT_EQ(items.size(), 1u);
  const Json& r = items[0];
  EXPECT_EQ(r.at("kind"), "NetAppAccount");
  EXPECT_EQ(r.at("name"), "acct");
  EXPECT_EQ(r.at("source").at("file"), "manifests/acct.yaml");
  EXPECT_EQ(r.at("source").at("line"), 1);
  EXPECT_EQ(r.at("azure").at("resourceId"), "/subscriptions/s/resourceGroups/rg/providers/Microsoft.NetApp/netAppAccounts/acct");
  const Json& status = r.at("status");
  EXPECT_EQ(status.at("observedGeneration"), testing::makeDocument(Kind::NetAppAccount, "acct").generation);
  std::set<std::string> types;
  for (const auto& c : status.at("conditions")) {
    types.insert(c.at("type"));
    for (const char* field : {"status", "reason", "message", "lastTransitionTime"}) EXPECT_TRUE(c.contains(field)) << field;
    EXPECT_TRUE(parseRfc3339(c.at("lastTransitionTime").get<std::string>())) << c.dump();
  }
  EXPECT_EQ(types, (std::set<std::string>{"Ready", "Synced", "KeyVaultValid"}));

  const auto one = get("/api/v1/resources/NetAppAccount/acct");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(Json::parse(one.body), r);
  EXPECT_EQ(get("/api/v1/resources/NetAppAccount/other").status, 404);
  EXPECT_EQ(get("/api/v1/resources/Bogus/acct").status, 404);
  EXPECT_EQ(Json::parse(get("/api/v1/resources/NetAppAccount").body).at("items").size(), 1u);
}

/// Runs the built anf-cmk-operator with `args`; returns its exit code and combined output.
std::pair<int, std::string> runBinary(const std::string& args) {
  std::string output;
  FILE* pipe = ::popen((std::string(ANF_BINARY) + " " + args + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::uint16_t closedPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return probe.local_endpoint().port();  // closed when `probe` goes
}

TEST_F(ServersTest, StatusClientAndTable) {
  applyAccount();
  auto list = fetchStatus(address);
  ASSERT_TRUE(list) << list.error();
  const std::string table = formatStatusTable(*list, std::chrono::system_clock::now());
  EXPECT_TRUE(std::regex_search(table, std::regex(R"(^KIND\s+NAME\s+READY\s+REASON\s+AGE\s+MESSAGE\n)"))) << table;
  EXPECT_TRUE(std::regex_search(table, std::regex(R"(\nNetAppAccount\s+acct\s+True\s+Available\s+\d+s\n)"))) << table;
  auto one = fetchStatus(address, "NetAppAccount", "acct");
  ASSERT_TRUE(one) << one.error();
  EXPECT_EQ(one->at("items").size(), 1u);
  auto missing = fetchStatus(address, "NetAppAccount", "nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("NetAppAccount/nope not found"), std::string::npos) << missing.error();
}

TEST_F(ServersTest, StatusCommandPrintsTableOrJson) {
  applyAccount();
  auto [code, out] = runBinary("status --addr " + address);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(NetAppAccount\s+acct\s+True\s+Available)"))) << out;
  std::tie(code, out) = runBinary("status --addr " + address + " -o json NetAppAccount acct");
  EXPECT_EQ(code, 0) << out;
  const Json json = Json::parse(out, nullptr, false);
  ASSERT_TRUE(json.is_object()) << out;
  EXPECT_EQ(json.at("items").size(), 1u) << out;
}

TEST(StatusCommand, UnreachableDaemonExitsOneWithAClearMessage) {
  const auto port = std::to_string(closedPort());
  const auto [code, out] = runBinary("status --addr 127.0.0.1:" + port);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("cannot reach the operator's status server at 127.0.0.1:" + port), std::string::npos) << out;
}

TEST(HttpGet, UnreachableDaemonIsAnError) {
  const auto port = closedPort();
  const auto r = httpGet("127.0.0.1:" + std::to_string(port), "/api/v1/resources", 2000);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.error();
}

TEST(Conditions, LastTransitionTimeChangesOnlyWithStatus) {
  std::vector<Condition> conditions;
  const auto t0 = std::chrono::system_clock::from_time_t(1'800'000'000);
  EXPECT_TRUE(setCondition(conditions, "Ready", "False", "Creating", "creating", t0));
  EXPECT_TRUE(setCondition(conditions, "Ready", "False", "Updating", "updating", t0 + 10s));
  EXPECT_EQ(conditions[0].lastTransitionTime, rfc3339(t0)) << "same status, new reason: time kept";
  EXPECT_FALSE(setCondition(conditions, "Ready", "False", "Updating", "updating", t0 + 20s));
  EXPECT_TRUE(setCondition(conditions, "Ready", "True", "Available", "", t0 + 30s));
  EXPECT_EQ(conditions[0].lastTransitionTime, rfc3339(t0 + 30s));
  EXPECT_EQ(conditions.size(), 1u);
}

}  // namespace
}  // namespace anf::controller
