// End-to-end tests (issue 6): the emulator process and the operator process over real HTTPS, manifests
// as real files. Azure state is read back through ARM with the emulator's admin token, not through the
// operator's own client, so a bug shared by the client and the reconcilers cannot hide.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <regex>

#include "tests/e2e/operator_process.h"

namespace anf::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kSubscription = "/subscriptions/10000000-0000-4000-8000-0000000000a1";
const std::string kResourceGroup = kSubscription + "/resourceGroups/anf-rg";
const std::string kVault = kResourceGroup + "/providers/Microsoft.KeyVault/vaults/anfkv-provider";
const std::string kAccount = kResourceGroup + "/providers/Microsoft.NetApp/netAppAccounts/anf-account";
const std::string kNetAppApi = "2025-06-01";
const std::string kKeyVaultApi = "2024-11-01";
const std::string kNetworkApi = "2024-05-01";

/// ARM calls as the provider admin, over HTTPS with the emulator's CA.
class Arm {
 public:
  explicit Arm(const EmulatorProcess& emulator) : emulator_(emulator) {}

  struct Response {
    int status = 0;
    Json body;
  };

  Response call(const std::string& method, const std::string& path, const std::string& apiVersion, const Json& body = nullptr) {
    auto client = makeClient(emulator_.resourceManager());
    web::http::http_request request(method);
    request.set_request_uri(path + "?api-version=" + apiVersion);
    request.headers().add("Authorization", "Bearer " + token());
    if (!body.is_null()) request.set_body(body.dump(), "application/json");
    auto response = client.request(request).get();
    auto text = response.extract_utf8string(true).get();
    return {response.status_code(), text.empty() ? Json() : Json::parse(text, nullptr, false)};
  }
  Json get(const std::string& path, const std::string& apiVersion) { return call("GET", path, apiVersion).body; }

 private:
  web::http::client::http_client makeClient(const std::string& base) const {
    web::http::client::http_client_config config;
    auto ca = emulator_.caFile();
    config.set_ssl_context_callback([ca](boost::asio::ssl::context& context) { context.load_verify_file(ca); });
    return web::http::client::http_client(base, config);
  }

  std::string token() {
    if (!token_.empty()) return token_;
    const auto tenant = emulator_.tenant("provider");
    const auto& admin = tenant.principal("admin");
    std::string authority = emulator_.authority();
    if (!authority.empty() && authority.back() == '/') authority.pop_back();
    auto client = makeClient(authority);
    web::http::http_request request(web::http::methods::POST);
    request.set_request_uri("/" + tenant.tenantId + "/oauth2/v2.0/token");
    request.set_body("grant_type=client_credentials&client_id=" + admin.clientId + "&client_secret=" + admin.clientSecret +
                         "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
                     "application/x-www-form-urlencoded");
    auto response = client.request(request).get();
    auto body = Json::parse(response.extract_utf8string(true).get(), nullptr, false);
    token_ = body.is_object() ? body.value("access_token", "") : "";
    return token_;
  }

  const EmulatorProcess& emulator_;
  std::string token_;
};

/// Polls `done` until it holds or `timeout` passes; returns whether it held.
bool await(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return done();
}

/// The document `kind/name` in a status list, or null.
Json findDocument(const Json& list, const std::string& kind, const std::string& name) {
  if (!list.is_object()) return nullptr;
  for (const auto& item : list.value("items", Json::array()))
    if (item.value("kind", "") == kind && item.value("name", "") == name) return item;
  return nullptr;
}

/// The condition `type` of a status item, or null.
Json condition(const Json& item, const std::string& type) {
  if (!item.is_object() || !item.contains("status")) return nullptr;
  for (const auto& c : item["status"].value("conditions", Json::array()))
    if (c.value("type", "") == type) return c;
  return nullptr;
}

bool isReady(const Json& item) {
  auto ready = condition(item, "Ready");
  return ready.is_object() && ready.value("status", "") == "True";
}

/// True when the list has at least `count` items and every one is Ready=True.
bool allReady(const Json& list, std::size_t count) {
  if (!list.is_object()) return false;
  const auto items = list.value("items", Json::array());
  return items.size() >= count && std::all_of(items.begin(), items.end(), isReady);
}

std::string lower(std::string text) {
  std::ranges::transform(text, text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// The key permissions of the vault's access policy for `objectId`, sorted and lower case; empty when none.
std::vector<std::string> keyPermissionsFor(const Json& vault, const std::string& objectId) {
  if (!vault.is_object() || !vault.contains("properties")) return {};
  for (const auto& policy : vault["properties"].value("accessPolicies", Json::array())) {
    if (lower(policy.value("objectId", "")) != lower(objectId)) continue;
    std::vector<std::string> keys;
    for (const auto& k : policy["permissions"].value("keys", Json::array())) keys.push_back(lower(k.get<std::string>()));
    std::ranges::sort(keys);
    return keys;
  }
  return {};
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// One emulator, one working dir with operator.yaml and the quickstart manifests.
class E2eTest : public ::testing::Test {
 protected:
  void startEmulator(std::vector<std::string> extraArgs = {"--lro-seconds", "0"}) {
    auto started = EmulatorProcess::start({.extraArgs = std::move(extraArgs)});
    ASSERT_TRUE(started) << started.error();
    emulator_ = std::move(*started);
    arm_ = std::make_unique<Arm>(*emulator_);
    dir_ = emulator_->dir() / "operator";
    writeOperatorConfig(dir_, *emulator_);
    for (const auto& entry : fs::directory_iterator(fs::path(ANF_SOURCE_DIR) / "manifests/examples/quickstart"))
      if (entry.path().extension() == ".yaml") fs::copy_file(entry.path(), dir_ / "manifests" / entry.path().filename());
  }
  void SetUp() override { startEmulator(); }
  void TearDown() override {
    if (HasFailure() && operator_) std::cerr << "---- operator log (tail) ----\n" << tail(operator_->log());
  }
  static std::string tail(const std::string& text) { return text.size() > 6000 ? text.substr(text.size() - 6000) : text; }

  void startOperator() { operator_ = OperatorProcess::start(dir_); }

  /// Awaits every quickstart document (4) Ready=True; the failure message shows the last status.
  void awaitAllReady(std::chrono::seconds timeout = 60s) {
    Json last;
    const bool ready = await([&] { return allReady(last = operator_->statusJson(), 4); }, timeout);
    ASSERT_TRUE(ready) << "not all Ready within " << timeout.count() << " s; last status:\n" << last.dump(2);
  }

  std::string resourceIdOf(const std::string& kind, const std::string& name) {
    auto item = findDocument(operator_->statusJson(), kind, name);
    return item.is_object() ? item["azure"].value("resourceId", "") : "";
  }

  /// `plan` on the working dir: exit code and stdout.
  std::pair<int, std::string> plan() {
    const auto out = dir_ / "plan.out";
    const std::string command = "timeout 30 " + std::string(ANF_BINARY) + " plan --config " + (dir_ / "operator.yaml").string() +
                                " --manifests " + (dir_ / "manifests").string() + " > " + out.string() + " 2>&1";
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, readFile(out)};
  }

  std::unique_ptr<EmulatorProcess> emulator_;
  std::unique_ptr<Arm> arm_;
  std::unique_ptr<OperatorProcess> operator_;
  fs::path dir_;
};

TEST_F(E2eTest, QuickstartReachesReadyAndAzureHoldsTheDocumentedCmkSetup) {
  startOperator();
  awaitAllReady();

  const Json account = arm_->get(kAccount, kNetAppApi);
  ASSERT_TRUE(account.is_object() && account.contains("properties")) << account.dump(2);
  const Json encryption = account["properties"].value("encryption", Json::object());
  EXPECT_EQ(encryption.value("keySource", ""), "Microsoft.KeyVault") << account.dump(2);
  EXPECT_EQ(encryption.value("keyVaultProperties", Json::object()).value("keyName", ""), "anf-key") << account.dump(2);

  const std::string principalId = account.value("identity", Json::object()).value("principalId", "");
  ASSERT_FALSE(principalId.empty()) << "the account has no system-assigned principal: " << account.dump(2);
  const Json vault = arm_->get(kVault, kKeyVaultApi);
  EXPECT_EQ(keyPermissionsFor(vault, principalId), (std::vector<std::string>{"decrypt", "encrypt", "get"})) << vault.dump(2);

  const std::string endpointId = resourceIdOf("PrivateEndpoint", "anfkv-provider-pe");
  ASSERT_FALSE(endpointId.empty());
  const Json volume = arm_->get(kAccount + "/capacityPools/pool1/volumes/vol1", kNetAppApi);
  ASSERT_TRUE(volume.is_object() && volume.contains("properties")) << volume.dump(2);
  EXPECT_EQ(volume["properties"].value("encryptionKeySource", ""), "Microsoft.KeyVault") << volume.dump(2);
  EXPECT_EQ(lower(volume["properties"].value("keyVaultPrivateEndpointResourceId", "")), lower(endpointId)) << volume.dump(2);
}

TEST_F(E2eTest, PlanExitsThreeWithPendingCreatesThenZeroOnceApplied) {
  auto [before, output] = plan();
  EXPECT_EQ(before, 3) << output;
  for (const std::string name : {"anf-account", "anfkv-provider-pe", "pool1", "vol1"})
    EXPECT_NE(output.find(name), std::string::npos) << "plan does not name " << name << ":\n" << output;
  EXPECT_FALSE(arm_->call("GET", kAccount, kNetAppApi).status == 200) << "plan wrote the account";

  startOperator();
  awaitAllReady();
  operator_->kill(SIGTERM);  // nothing moves while plan observes
  auto [after, settled] = plan();
  EXPECT_EQ(after, 0) << settled;
}

TEST_F(E2eTest, RekeyByEditingTheManifestWhileTheDaemonRuns) {
  startOperator();
  awaitAllReady();

  const auto file = dir_ / "manifests" / "quickstart.yaml";
  const std::string text = readFile(file);
  const std::string edited = std::regex_replace(text, std::regex("keyName: anf-key\\b"), "keyName: anf-key-2");
  ASSERT_NE(text, edited);
  std::ofstream(file) << edited;

  std::string keyName;
  const bool rekeyed = await(
      [&] {
        const Json account = arm_->get(kAccount, kNetAppApi);
        keyName = account.is_object() && account.contains("properties")
                      ? account["properties"].value("encryption", Json::object()).value("keyVaultProperties", Json::object()).value("keyName", "")
                      : "";
        return keyName == "anf-key-2";
      },
      45s);
  EXPECT_TRUE(rekeyed) << "account keyName is still '" << keyName << "'";
  awaitAllReady(30s);
}

TEST_F(E2eTest, DriftRemovedAccessPolicyIsRestoredAfterResync) {
  startOperator();
  awaitAllReady();
  const std::string principalId = arm_->get(kAccount, kNetAppApi).value("identity", Json::object()).value("principalId", "");
  ASSERT_FALSE(principalId.empty());
  const Json vault = arm_->get(kVault, kKeyVaultApi);
  Json entry;
  for (const auto& policy : vault["properties"].value("accessPolicies", Json::array()))
    if (lower(policy.value("objectId", "")) == lower(principalId)) entry = policy;
  ASSERT_TRUE(entry.is_object()) << vault.dump(2);

  auto removed = arm_->call("PUT", kVault + "/accessPolicies/remove", kKeyVaultApi, {{"properties", {{"accessPolicies", Json::array({entry})}}}});
  ASSERT_LT(removed.status, 300) << removed.body.dump();
  ASSERT_TRUE(keyPermissionsFor(arm_->get(kVault, kKeyVaultApi), principalId).empty()) << "the drift was not made";

  const bool restored = await([&] { return !keyPermissionsFor(arm_->get(kVault, kKeyVaultApi), principalId).empty(); }, 30s);
  ASSERT_TRUE(restored) << "the access policy was not restored after resync";
  EXPECT_EQ(keyPermissionsFor(arm_->get(kVault, kKeyVaultApi), principalId), (std::vector<std::string>{"decrypt", "encrypt", "get"}));
}

TEST_F(E2eTest, DisabledKeyIsReportedWithTheDocumentedMessageAndNothingPartialInAzure) {
  auto disabled = arm_->call("PUT", kVault + "/keys/anf-key", kKeyVaultApi, {{"properties", {{"attributes", {{"enabled", false}}}}}});
  ASSERT_LT(disabled.status, 300) << disabled.body.dump();

  startOperator();
  Json item;
  const bool reported = await(
      [&] {
        item = findDocument(operator_->statusJson(), "NetAppAccount", "anf-account");
        return item.dump().find("Azure Key Vault key is not enabled") != std::string::npos;
      },
      45s);
  ASSERT_TRUE(reported) << "no 'key is not enabled' condition; last: " << item.dump(2);
  EXPECT_NE(item.dump().find("Ensure that the selected key is enabled."), std::string::npos) << item.dump(2);
  const Json ready = condition(item, "Ready");
  const Json valid = condition(item, "KeyVaultValid");
  EXPECT_TRUE((ready.is_object() && ready.value("status", "") == "False") || (valid.is_object() && valid.value("status", "") == "False"))
      << item.dump(2);

  auto account = arm_->call("GET", kAccount, kNetAppApi);
  if (account.status == 200) {
    const Json encryption = account.body["properties"].value("encryption", Json::object());
    EXPECT_NE(encryption.value("keySource", ""), "Microsoft.KeyVault") << "partial CMK setup: " << account.body.dump(2);
    EXPECT_TRUE(encryption.value("keyVaultProperties", Json::object()).value("keyName", "").empty()) << account.body.dump(2);
  }
}

TEST_F(E2eTest, KillNineMidFlowThenRestartConvergesWithoutDuplicates) {
  // LROs of 1 s so that there is a "middle" to kill the operator in.
  operator_.reset();
  emulator_.reset();
  startEmulator({"--lro-seconds", "1"});
  startOperator();
  Json last;
  const bool started = await(
      [&] {
        last = operator_->statusJson();
        return findDocument(last, "NetAppAccount", "anf-account").is_object() && !allReady(last, 4);
      },
      30s);
  ASSERT_TRUE(started) << last.dump(2);
  operator_->kill(SIGKILL);

  startOperator();
  awaitAllReady();

  const auto count = [&](const std::string& path, const std::string& apiVersion) {
    const Json list = arm_->get(path, apiVersion);
    return list.is_object() ? list.value("value", Json::array()).size() : std::size_t{999};
  };
  EXPECT_EQ(count(kResourceGroup + "/providers/Microsoft.NetApp/netAppAccounts", kNetAppApi), 1u);
  EXPECT_EQ(count(kAccount + "/capacityPools", kNetAppApi), 1u);
  EXPECT_EQ(count(kAccount + "/capacityPools/pool1/volumes", kNetAppApi), 1u);
  EXPECT_EQ(count(kResourceGroup + "/providers/Microsoft.Network/privateEndpoints", kNetworkApi), 1u);
}

}  // namespace
}  // namespace anf::testing
