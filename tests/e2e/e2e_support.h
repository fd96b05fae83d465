#pragma once
// Shared by the e2e suites: ARM read-back as the emulator's admin (not through the operator's client, so a
// bug shared by the client and the reconcilers cannot hide), status helpers, and the E2eTest fixture
// (emulator process + working dir with operator.yaml and one example's manifests).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <regex>

#include "tests/e2e/operator_process.h"

namespace anf::testing {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace std::chrono_literals;

inline const std::string kSubscription = "/subscriptions/10000000-0000-4000-8000-0000000000a1";
inline const std::string kResourceGroup = kSubscription + "/resourceGroups/anf-rg";
inline const std::string kVault = kResourceGroup + "/providers/Microsoft.KeyVault/vaults/anfkv-provider";
inline const std::string kAccount = kResourceGroup + "/providers/Microsoft.NetApp/netAppAccounts/anf-account";
inline const std::string kNetAppApi = "2025-06-01";
inline const std::string kKeyVaultApi = "2024-11-01";
inline const std::string kNetworkApi = "2024-05-01";

/// ARM and Microsoft Graph calls as the admin of any tenant of the emulator ("customer" for the customer's
/// own steps of cross-tenant CMK), over HTTPS with the emulator's CA.
class TenantAdmin {
 public:
  TenantAdmin(const EmulatorProcess& emulator, std::string tenant) : emulator_(emulator), tenant_(std::move(tenant)) {}

  struct Response {
    int status = 0;
    Json body;
  };

  Response arm(const std::string& method, const std::string& path, const std::string& apiVersion, const Json& body = nullptr) {
    return call(emulator_.resourceManager(), method, path + "?api-version=" + apiVersion, body,
                token("https%3A%2F%2Fmanagement.azure.com%2F.default", armToken_));
  }
  Response graph(const std::string& method, const std::string& path, const Json& body = nullptr) {
    return call(emulator_.graph(), method, path, body, token("https%3A%2F%2Fgraph.microsoft.com%2F.default", graphToken_));
  }

 private:
  web::http::client::http_client client(const std::string& base) const {
    web::http::client::http_client_config config;
    auto ca = emulator_.caFile();
    config.set_ssl_context_callback([ca](boost::asio::ssl::context& context) { context.load_verify_file(ca); });
    return web::http::client::http_client(base, config);
  }

  Response call(const std::string& base, const std::string& method, const std::string& uri, const Json& body,
                const std::string& bearer) {
    auto http = client(base);
    web::http::http_request request(method);
    request.set_request_uri(uri);
    request.headers().add("Authorization", "Bearer " + bearer);
    if (!body.is_null()) request.set_body(body.dump(), "application/json");
    auto response = http.request(request).get();
    auto text = response.extract_utf8string(true).get();
    return {response.status_code(), text.empty() ? Json() : Json::parse(text, nullptr, false)};
  }

  std::string token(const std::string& scope, std::string& cached) {
    if (!cached.empty()) return cached;
    const auto tenant = emulator_.tenant(tenant_);
    const auto& admin = tenant.principal("admin");
    std::string authority = emulator_.authority();
    if (!authority.empty() && authority.back() == '/') authority.pop_back();
    auto http = client(authority);
    web::http::http_request request(web::http::methods::POST);
    request.set_request_uri("/" + tenant.tenantId + "/oauth2/v2.0/token");
    request.set_body("grant_type=client_credentials&client_id=" + admin.clientId + "&client_secret=" + admin.clientSecret +
                         "&scope=" + scope,
                     "application/x-www-form-urlencoded");
    auto response = http.request(request).get();
    auto body = Json::parse(response.extract_utf8string(true).get(), nullptr, false);
    cached = body.is_object() ? body.value("access_token", "") : "";
    return cached;
  }

  const EmulatorProcess& emulator_;
  std::string tenant_;
  std::string armToken_;
  std::string graphToken_;
};

/// ARM read-back as the provider admin.
class Arm {
 public:
  using Response = TenantAdmin::Response;
  explicit Arm(const EmulatorProcess& emulator) : admin_(emulator, "provider") {}

  Response call(const std::string& method, const std::string& path, const std::string& apiVersion, const Json& body = nullptr) {
    return admin_.arm(method, path, apiVersion, body);
  }
  Json get(const std::string& path, const std::string& apiVersion) { return call("GET", path, apiVersion).body; }

 private:
  TenantAdmin admin_;
};

/// Polls `done` until it holds or `timeout` passes; returns whether it held.
inline bool await(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return done();
}

/// The document `kind/name` in a status list, or null.
inline Json findDocument(const Json& list, const std::string& kind, const std::string& name) {
  if (!list.is_object()) return nullptr;
  for (const auto& item : list.value("items", Json::array()))
    if (item.value("kind", "") == kind && item.value("name", "") == name) return item;
  return nullptr;
}

/// The condition `type` of a status item, or null.
inline Json condition(const Json& item, const std::string& type) {
  // A document listed before its first status carries "status": null.
  if (!item.is_object() || !item.contains("status") || !item["status"].is_object()) return nullptr;
  for (const auto& c : item["status"].value("conditions", Json::array()))
    if (c.value("type", "") == type) return c;
  return nullptr;
}

inline bool isReady(const Json& item) {
  auto ready = condition(item, "Ready");
  return ready.is_object() && ready.value("status", "") == "True";
}

/// True when the list has at least `count` items and every one is Ready=True.
inline bool allReady(const Json& list, std::size_t count) {
  if (!list.is_object()) return false;
  const auto items = list.value("items", Json::array());
  return items.size() >= count && std::all_of(items.begin(), items.end(), isReady);
}

inline std::string lower(std::string text) {
  std::ranges::transform(text, text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// The key permissions of the vault's access policy for `objectId`, sorted and lower case; empty when none.
inline std::vector<std::string> keyPermissionsFor(const Json& vault, const std::string& objectId) {
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

inline std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// One emulator, one working dir with operator.yaml and an example's manifests (the quickstart by default).
class E2eTest : public ::testing::Test {
 protected:
  /// Starts the emulator (default world) and copies manifests/examples/<example>/*.yaml into the working dir.
  void startEmulator(std::vector<std::string> extraArgs = {"--lro-seconds", "0"}, const std::string& example = "quickstart") {
    auto started = EmulatorProcess::start({.extraArgs = std::move(extraArgs)});
    ASSERT_TRUE(started) << started.error();
    emulator_ = std::move(*started);
    arm_ = std::make_unique<Arm>(*emulator_);
    dir_ = emulator_->dir() / "operator";
    writeOperatorConfig(dir_, *emulator_);
    for (const auto& entry : fs::directory_iterator(fs::path(ANF_SOURCE_DIR) / "manifests/examples" / example))
      if (entry.path().extension() == ".yaml") fs::copy_file(entry.path(), dir_ / "manifests" / entry.path().filename());
  }
  void SetUp() override { startEmulator(); }
  void TearDown() override {
    if (HasFailure() && operator_) std::cerr << "---- operator log (tail) ----\n" << tail(operator_->log());
  }
  static std::string tail(const std::string& text) { return text.size() > 6000 ? text.substr(text.size() - 6000) : text; }

  void startOperator() { operator_ = OperatorProcess::start(dir_); }

  /// Awaits `count` documents (the quickstart has 4), every one Ready=True; the failure message shows the last status.
  void awaitAllReady(std::chrono::seconds timeout = 60s, std::size_t count = 4) {
    Json last;
    const bool ready = await([&] { return allReady(last = operator_->statusJson(), count); }, timeout);
    ASSERT_TRUE(ready) << "not all Ready within " << timeout.count() << " s; last status:\n" << last.dump(2);
  }

  /// What a negative assertion waits for instead of a fixed sleep: two more finished reconciliations of every
  /// document of `kind` than when called (controller_runtime_reconcile_total, counted after a reconcile's writes).
  /// The first may have been in flight at the call; the second began after it, so whatever that pass would write
  /// is in the emulator's request log once this returns. Documents that are Ready pass once a resync each, so
  /// the count of a kind's documents times two stands for two passes of each. Fails the test on timeout.
  void awaitTwoPasses(const std::string& kind, std::chrono::seconds timeout = 30s) {
    const Json list = operator_->statusJson();
    long documents = 0;
    for (const auto& item : list.is_object() ? list.value("items", Json::array()) : Json::array())
      documents += item.value("kind", "") == kind ? 1 : 0;
    const long before = operator_->reconciles(kind);
    ASSERT_GE(before, 0) << "the operator's /metrics does not answer";
    const long wanted = before + 2 * std::max(documents, 1L);
    long now = before;
    EXPECT_TRUE(await([&] { return (now = operator_->reconciles(kind)) >= wanted; }, timeout))
        << kind << ": " << now - before << " reconciliations within " << timeout.count() << " s, " << wanted - before << " awaited";
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


}  // namespace anf::testing
