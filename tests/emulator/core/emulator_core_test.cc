// The emulator core over real HTTPS, as a client sees it: start-up line, Entra tokens, ARM authentication,
// api-version, long-running operations, throttling, faults, the request log, persisted state and Graph.
// A raw cpprestsdk client (not the operator's azure/ client), trusting only the emulator's CA.
#include <utility>  // before Boost.Asio (via cpprest) under C++23

#include <cpprest/http_client.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/azure/emulator_process.h"

namespace anf::testing {
namespace {

using nlohmann::json;

constexpr const char* kProviderTenant = "10000000-0000-4000-8000-000000000001";
constexpr const char* kProviderSubscription = "10000000-0000-4000-8000-0000000000a1";
constexpr const char* kCustomerTenant = "20000000-0000-4000-8000-000000000002";
constexpr const char* kCustomerSubscription = "20000000-0000-4000-8000-0000000000b1";
constexpr const char* kArmScope = "https://management.azure.com/.default";
constexpr const char* kGraphScope = "https://graph.microsoft.com/.default";
constexpr const char* kNetAppApi = "2025-06-01";
constexpr const char* kResourcesApi = "2021-04-01";

/// What a client sees of one answer; header names lower-cased.
struct Reply {
  int status = 0;
  json body;
  std::map<std::string, std::string> headers;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

std::string lower(std::string text) {
  std::ranges::transform(text, text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string percentEncode(const std::string& text) { return web::uri::encode_data_string(text); }

/// One HTTPS request to `url` (absolute) trusting `caFile` only; throws web::http::http_exception on transport errors.
Reply send(const std::string& caFile, const std::string& method, const std::string& url, const std::string& token = "",
           const std::string& body = "", const std::string& contentType = "application/json",
           const std::map<std::string, std::string>& headers = {}) {
  web::http::client::http_client_config config;
  config.set_timeout(std::chrono::seconds(10));
  config.set_ssl_context_callback([caFile](boost::asio::ssl::context& context) {
    if (!caFile.empty()) context.load_verify_file(caFile);
  });
  web::uri uri(url);
  web::http::client::http_client client(uri.scheme() + "://" + uri.host() + ":" + std::to_string(uri.port()), config);
  web::http::http_request request(method);
  request.set_request_uri(uri.resource().to_string());
  if (!token.empty()) request.headers().add("Authorization", "Bearer " + token);
  for (const auto& [name, value] : headers) request.headers().add(name, value);
  if (!body.empty()) request.set_body(body, contentType);
  auto response = client.request(request).get();
  Reply reply;
  reply.status = response.status_code();
  for (const auto& [name, value] : response.headers()) reply.headers[lower(name)] = value;
  auto text = response.extract_utf8string(true).get();
  reply.body = text.empty() ? json() : json::parse(text, nullptr, false);
  return reply;
}

/// The client-credentials token request of Entra's v2.0 endpoint.
Reply requestToken(const EmulatorProcess& emulator, const std::string& tenantId, const std::string& clientId,
                   const std::string& secret, const std::string& scope = kArmScope) {
  std::string form = "client_id=" + percentEncode(clientId) + "&client_secret=" + percentEncode(secret) +
                     "&scope=" + percentEncode(scope) + "&grant_type=client_credentials";
  return send(emulator.caFile(), "POST", emulator.authority() + "/" + tenantId + "/oauth2/v2.0/token", "", form,
              "application/x-www-form-urlencoded");
}

/// An access token of the tenant's admin; empty (and a test failure) when refused.
std::string adminToken(const EmulatorProcess& emulator, const std::string& tenantName, const std::string& scope = kArmScope) {
  auto tenant = emulator.tenant(tenantName);
  const auto& admin = tenant.principal("admin");
  auto reply = requestToken(emulator, tenant.tenantId, admin.clientId, admin.clientSecret, scope);
  EXPECT_EQ(reply.status, 200) << reply.body.dump();
  return reply.body.is_object() ? reply.body.value("access_token", "") : "";
}

std::string providerResourceGroup(const std::string& name) {
  return std::string("/subscriptions/") + kProviderSubscription + "/resourceGroups/" + name;
}
std::string netAppAccount(const std::string& name) {
  return providerResourceGroup("anf-rg") + "/providers/Microsoft.NetApp/netAppAccounts/" + name;
}
std::string errorCode(const Reply& reply) {
  return reply.body.is_object() && reply.body.contains("error") ? reply.body["error"].value("code", "") : "";
}

/// The claims of a JWT, unverified (base64url payload).
json jwtClaims(const std::string& token) {
  auto first = token.find('.'), second = token.find('.', first + 1);
  if (first == std::string::npos || second == std::string::npos) return json();
  std::string payload = token.substr(first + 1, second - first - 1);
  std::ranges::replace(payload, '-', '+');
  std::ranges::replace(payload, '_', '/');
  while (payload.size() % 4 != 0) payload += '=';
  auto decoded = utility::conversions::from_base64(payload);
  return json::parse(std::string(decoded.begin(), decoded.end()), nullptr, false);
}

std::string identityPath(const std::string& name) {
  return providerResourceGroup("anf-rg") + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name;
}
constexpr const char* kIdentityApi = "2024-11-30";
constexpr const char* kVaultUri = "https://anfkv-provider.vault.azure.net/";

/// An account body whose user-assigned identity wraps with anfkv-provider's anf-key.
json cmkAccountBody(const std::string& identityId) {
  return {{"location", "eastus"},
          {"identity", {{"type", "UserAssigned"}, {"userAssignedIdentities", {{identityId, json::object()}}}}},
          {"properties",
           {{"encryption",
             {{"keySource", "Microsoft.KeyVault"},
              {"keyVaultProperties",
               {{"keyVaultUri", kVaultUri}, {"keyName", "anf-key"},
                {"keyVaultResourceId", providerResourceGroup("anf-rg") + "/providers/Microsoft.KeyVault/vaults/anfkv-provider"}}},
              {"identity", {{"userAssignedIdentity", identityId}}}}}}}};
}

/// One emulator for the suite (start-up costs key generation); tests that change global settings restore them.
class EmulatorCore : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = EmulatorProcess::start({.extraArgs = {"--lro-seconds", "30"}});
    ASSERT_TRUE(started) << started.error();
    emulator_ = started->release();
  }
  static void TearDownTestSuite() {
    delete emulator_;
    emulator_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(emulator_, nullptr); }

  const EmulatorProcess& emulator() const { return *emulator_; }
  Reply arm(const std::string& method, const std::string& pathAndQuery, const std::string& token, const json& body = nullptr) const {
    return send(emulator_->caFile(), method, emulator_->resourceManager() + pathAndQuery, token, body.is_null() ? "" : body.dump());
  }
  Reply graph(const std::string& method, const std::string& pathAndQuery, const std::string& token, const json& body = nullptr) const {
    return send(emulator_->caFile(), method, emulator_->graph() + pathAndQuery, token, body.is_null() ? "" : body.dump());
  }
  /// An absolute URL the emulator handed out (Location, Azure-AsyncOperation), fetched as is.
  Reply follow(const std::string& url, const std::string& token) const { return send(emulator_->caFile(), "GET", url, token); }

  static EmulatorProcess* emulator_;
};
EmulatorProcess* EmulatorCore::emulator_ = nullptr;

TEST_F(EmulatorCore, StartupLineNamesHttpsEndpointsAndTheDefaultTenants) {
  const auto& line = emulator().startup();
  EXPECT_TRUE(emulator().resourceManager().starts_with("https://127.0.0.1:")) << line.dump();
  EXPECT_TRUE(emulator().authority().starts_with("https://")) << line.dump();
  EXPECT_TRUE(emulator().graph().starts_with("https://")) << line.dump();
  EXPECT_TRUE(line.contains("workloadIdentityIssuer")) << line.dump();
  EXPECT_TRUE(std::filesystem::exists(emulator().caFile())) << line.dump();
  auto provider = emulator().tenant("provider");
  EXPECT_EQ(provider.tenantId, kProviderTenant);
  ASSERT_EQ(provider.subscriptions.size(), 1u);
  EXPECT_EQ(provider.subscriptions[0], kProviderSubscription);
  EXPECT_EQ(provider.principal("admin").clientId, "10000000-0000-4000-8000-00000000c001");
  EXPECT_EQ(provider.principal("admin").clientSecret, "provider-admin-secret");
  auto customer = emulator().tenant("customer");
  EXPECT_EQ(customer.tenantId, kCustomerTenant);
  ASSERT_EQ(customer.subscriptions.size(), 1u);
  EXPECT_EQ(customer.subscriptions[0], kCustomerSubscription);
  EXPECT_EQ(customer.principal("admin").objectId, "20000000-0000-4000-8000-00000000d002");
}

TEST_F(EmulatorCore, CertificateVerifiesWithTheEmulatorCaOnly) {
  auto health = send(emulator().caFile(), "GET", emulator().resourceManager() + "/_emulator/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body.value("status", ""), "ok");
  // Without the emulator's CA (system trust store only) the handshake must fail.
  EXPECT_THROW(send("", "GET", emulator().resourceManager() + "/_emulator/health"), web::http::http_exception);
}

TEST_F(EmulatorCore, ClientSecretTokenIsABearerToken) {
  auto provider = emulator().tenant("provider");
  auto reply = requestToken(emulator(), provider.tenantId, provider.principal("admin").clientId, "provider-admin-secret");
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(reply.body.value("token_type", ""), "Bearer");
  EXPECT_GT(reply.body.value("expires_in", 0), 0);
  EXPECT_FALSE(reply.body.value("access_token", "").empty());
  auto listed = arm("GET", "/subscriptions?api-version=2022-12-01", reply.body.value("access_token", ""));
  ASSERT_EQ(listed.status, 200) << listed.body.dump();
  ASSERT_EQ(listed.body["value"].size(), 1u);
  EXPECT_EQ(listed.body["value"][0].value("subscriptionId", ""), kProviderSubscription);
}

TEST_F(EmulatorCore, WrongSecretGetsEntraErrorWithAadstsCode) {
  auto provider = emulator().tenant("provider");
  auto reply = requestToken(emulator(), provider.tenantId, provider.principal("admin").clientId, "not-the-secret");
  EXPECT_EQ(reply.status, 401);
  ASSERT_TRUE(reply.body.is_object()) << reply.body.dump();
  EXPECT_EQ(reply.body.value("error", ""), "invalid_client");
  EXPECT_TRUE(reply.body.value("error_description", "").starts_with("AADSTS7000215:")) << reply.body.dump();
  EXPECT_EQ(reply.body["error_codes"], json::array({7000215}));
  EXPECT_EQ(reply.body.dump().find("not-the-secret"), std::string::npos) << "the secret must not be echoed";
}

TEST_F(EmulatorCore, UnknownClientOrTenantGetsEntraErrors) {
  auto provider = emulator().tenant("provider");
  auto customerAdmin = emulator().tenant("customer").principal("admin");
  auto foreignClient = requestToken(emulator(), provider.tenantId, customerAdmin.clientId, customerAdmin.clientSecret);
  EXPECT_EQ(foreignClient.status, 400);
  EXPECT_EQ(foreignClient.body["error_codes"], json::array({700016})) << foreignClient.body.dump();
  auto unknownTenant = requestToken(emulator(), "30000000-0000-4000-8000-000000000003", customerAdmin.clientId, customerAdmin.clientSecret);
  EXPECT_GE(unknownTenant.status, 400);
  EXPECT_TRUE(unknownTenant.body.value("error_description", "").starts_with("AADSTS")) << unknownTenant.body.dump();
}

TEST_F(EmulatorCore, TokenEndpointIsFaultedOnlyWhenAPatternNamesIt) {
  struct Clear {
    const EmulatorProcess& emulator;
    ~Clear() { emulator.control("DELETE", "/_emulator/faults"); }
  } clear{emulator()};
  ASSERT_EQ(emulator().control("PUT", "/_emulator/faults", {{"rules", {{{"status", 500}}}}}).status, 200);
  EXPECT_FALSE(adminToken(emulator(), "provider").empty()) << "a rule without a pattern spares the token endpoint";
  ASSERT_EQ(emulator().control("PUT", "/_emulator/faults", {{"rules", {{{"pathPattern", "/oauth2/v2.0/token$"}, {"status", 500}}}}}).status, 200);
  auto provider = emulator().tenant("provider");
  EXPECT_EQ(requestToken(emulator(), provider.tenantId, provider.principal("admin").clientId, "provider-admin-secret").status, 500);
}

TEST_F(EmulatorCore, ProviderTokenOnCustomerSubscriptionIsWrongTenant) {
  auto reply = arm("GET", std::string("/subscriptions/") + kCustomerSubscription + "/resourceGroups/customer-rg?api-version=" + kResourcesApi,
                   adminToken(emulator(), "provider"));
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(errorCode(reply), "InvalidAuthenticationTokenTenant") << reply.body.dump();
  EXPECT_NE(reply.header("www-authenticate").find(kCustomerTenant), std::string::npos) << reply.header("www-authenticate");
}

TEST_F(EmulatorCore, MissingTokenIsRefused) {
  auto reply = arm("GET", providerResourceGroup("anf-rg") + "?api-version=" + kResourcesApi, "");
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(errorCode(reply), "AuthenticationFailed") << reply.body.dump();
  EXPECT_TRUE(reply.header("www-authenticate").starts_with("Bearer")) << reply.header("www-authenticate");
}

TEST_F(EmulatorCore, TokenExpiresWhenTheClockPassesItsExpiry) {
  std::string token = adminToken(emulator(), "provider");
  std::string path = providerResourceGroup("anf-rg") + "?api-version=" + kResourcesApi;
  ASSERT_EQ(arm("GET", path, token).status, 200);
  emulator().advanceClock(std::chrono::seconds(3700));
  auto reply = arm("GET", path, token);
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(errorCode(reply), "ExpiredAuthenticationToken") << reply.body.dump();
  EXPECT_EQ(arm("GET", path, adminToken(emulator(), "provider")).status, 200) << "a fresh token works again";
}

struct ApiVersionCase {
  std::string name;
  std::string query;
  std::string code;
};

class EmulatorApiVersion : public EmulatorCore, public ::testing::WithParamInterface<ApiVersionCase> {};

TEST_P(EmulatorApiVersion, IsRefusedWith400) {
  auto reply = arm("GET", netAppAccount("any") + GetParam().query, adminToken(emulator(), "provider"));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(errorCode(reply), GetParam().code) << reply.body.dump();
}

INSTANTIATE_TEST_SUITE_P(, EmulatorApiVersion,
                         ::testing::Values(ApiVersionCase{"Missing", "", "MissingApiVersionParameter"},
                                           ApiVersionCase{"Empty", "?api-version=", "MissingApiVersionParameter"},
                                           ApiVersionCase{"Unsupported", "?api-version=1999-01-01", "InvalidApiVersionParameter"}),
                         [](const auto& info) { return info.param.name; });

TEST_F(EmulatorCore, UnknownResourceGroupIsResourceGroupNotFound) {
  auto reply = arm("GET", providerResourceGroup("no-such-rg") + "/providers/Microsoft.NetApp/netAppAccounts/a?api-version=" + kNetAppApi,
                   adminToken(emulator(), "provider"));
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(errorCode(reply), "ResourceGroupNotFound") << reply.body.dump();
}

TEST_F(EmulatorCore, PutIsAnAsyncOperationPolledUntilSucceeded) {
  std::string token = adminToken(emulator(), "provider");
  auto created = arm("PUT", netAppAccount("core-lro-put") + "?api-version=" + kNetAppApi, token, {{"location", "eastus"}});
  ASSERT_EQ(created.status, 201) << created.body.dump();
  EXPECT_FALSE(created.header("x-ms-request-id").empty());
  EXPECT_EQ(created.header("retry-after"), "1");
  std::string operation = created.header("azure-asyncoperation");
  ASSERT_TRUE(operation.starts_with(emulator().resourceManager() + "/subscriptions/")) << operation;
  EXPECT_NE(operation.find("api-version=" + std::string(kNetAppApi)), std::string::npos) << operation;

  auto running = follow(operation, token);
  ASSERT_EQ(running.status, 200) << running.body.dump();
  EXPECT_EQ(running.body.value("status", ""), "InProgress");
  EXPECT_EQ(running.header("retry-after"), "1");

  emulator().advanceClock(std::chrono::seconds(31));
  auto done = follow(operation, token);
  ASSERT_EQ(done.status, 200) << done.body.dump();
  EXPECT_EQ(done.body.value("status", ""), "Succeeded") << done.body.dump();
  auto account = arm("GET", netAppAccount("core-lro-put") + "?api-version=" + kNetAppApi, token);
  ASSERT_EQ(account.status, 200);
  EXPECT_EQ(account.body["properties"].value("provisioningState", ""), "Succeeded");
}

TEST_F(EmulatorCore, PatchIsALocationOperationThatAnswers202ThenTheResource) {
  std::string token = adminToken(emulator(), "provider");
  std::string url = netAppAccount("core-lro-patch") + "?api-version=" + kNetAppApi;
  ASSERT_EQ(arm("PUT", url, token, {{"location", "eastus"}}).status, 201);
  emulator().advanceClock(std::chrono::seconds(31));

  auto patched = arm("PATCH", url, token, {{"tags", {{"team", "storage"}}}});
  ASSERT_EQ(patched.status, 202) << patched.body.dump();
  EXPECT_TRUE(patched.header("azure-asyncoperation").empty());
  EXPECT_EQ(patched.header("retry-after"), "1");
  EXPECT_FALSE(patched.header("x-ms-request-id").empty());
  std::string location = patched.header("location");
  ASSERT_TRUE(location.starts_with(emulator().resourceManager())) << location;

  auto pending = follow(location, token);
  EXPECT_EQ(pending.status, 202);
  EXPECT_EQ(pending.header("retry-after"), "1");
  EXPECT_FALSE(pending.header("location").empty());

  emulator().advanceClock(std::chrono::seconds(31));
  auto done = follow(location, token);
  ASSERT_EQ(done.status, 200) << done.body.dump();
  EXPECT_EQ(done.body["tags"].value("team", ""), "storage") << done.body.dump();
  EXPECT_EQ(done.body["properties"].value("provisioningState", ""), "Succeeded") << done.body.dump();
}

TEST_F(EmulatorCore, ResourceGroupDeleteIsALocationOperation) {
  std::string token = adminToken(emulator(), "provider");
  std::string url = providerResourceGroup("core-doomed") + "?api-version=" + kResourcesApi;
  ASSERT_EQ(arm("PUT", url, token, {{"location", "eastus"}}).status, 201);
  auto deleting = arm("DELETE", url, token);
  ASSERT_EQ(deleting.status, 202) << deleting.body.dump();
  std::string location = deleting.header("location");
  ASSERT_FALSE(location.empty());
  EXPECT_EQ(follow(location, token).status, 202);
  EXPECT_EQ(arm("GET", url, token).status, 200) << "still there while the delete runs";
  emulator().advanceClock(std::chrono::seconds(31));
  EXPECT_EQ(follow(location, token).status, 200);
  auto gone = arm("GET", url, token);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(errorCode(gone), "ResourceGroupNotFound") << gone.body.dump();
}

TEST_F(EmulatorCore, TinyReadBucketThrottlesWith429) {
  std::string token = adminToken(emulator(), "customer");
  std::string path = std::string("/subscriptions/") + kCustomerSubscription + "/resourceGroups/customer-rg?api-version=" + kResourcesApi;
  auto limits = emulator().control("PUT", "/_emulator/throttling", {{"reads", {{"bucket", 2}, {"perSecond", 0.001}}}});
  ASSERT_EQ(limits.status, 200) << limits.body.dump();
  struct Restore {
    const EmulatorProcess& emulator;
    ~Restore() { emulator.control("PUT", "/_emulator/throttling", {{"reads", {{"bucket", 250}, {"perSecond", 25}}}}); }
  } restore{emulator()};

  auto first = arm("GET", path, token);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("x-ms-ratelimit-remaining-subscription-reads"), "1");
  EXPECT_EQ(arm("GET", path, token).status, 200);
  auto throttled = arm("GET", path, token);
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(errorCode(throttled), "SubscriptionRequestsThrottled") << throttled.body.dump();
  EXPECT_FALSE(throttled.header("retry-after").empty());
  EXPECT_GE(std::stoi(throttled.header("retry-after")), 1);
  EXPECT_EQ(throttled.header("x-ms-ratelimit-remaining-subscription-reads"), "0");
}

TEST_F(EmulatorCore, FaultRuleAnswers503UntilCleared) {
  std::string token = adminToken(emulator(), "provider");
  std::string path = providerResourceGroup("anf-rg") + "?api-version=" + kResourcesApi;
  auto set = emulator().control("PUT", "/_emulator/faults",
                                {{"rules", {{{"pathPattern", "/resourceGroups/anf-rg$"}, {"rate", 1.0}, {"status", 503}, {"retryAfter", 7}}}}});
  ASSERT_EQ(set.status, 200) << set.body.dump();
  auto faulted = arm("GET", path, token);
  EXPECT_EQ(faulted.status, 503);
  EXPECT_EQ(errorCode(faulted), "ServiceUnavailable") << faulted.body.dump();
  EXPECT_EQ(faulted.header("retry-after"), "7");
  EXPECT_EQ(arm("GET", std::string("/subscriptions/") + kProviderSubscription + "?api-version=2022-12-01", token).status, 200)
      << "other paths are not faulted";

  auto cleared = emulator().control("DELETE", "/_emulator/faults");
  EXPECT_EQ(cleared.status, 200);
  EXPECT_EQ(cleared.body["rules"], json::array());
  EXPECT_EQ(arm("GET", path, token).status, 200);
}

/// The statuses of `count` GETs of anf-rg from an emulator started with `--fault-seed seed` under a 50% 503 rule.
std::vector<int> faultedStatuses(const std::string& seed, int count) {
  auto started = EmulatorProcess::start({.extraArgs = {"--fault-seed", seed}});
  EXPECT_TRUE(started) << started.error();
  if (!started) return {};
  const EmulatorProcess& emulator = **started;
  const std::string token = adminToken(emulator, "provider");
  emulator.control("PUT", "/_emulator/faults", {{"rules", {{{"pathPattern", "/resourceGroups/anf-rg$"}, {"rate", 0.5}, {"status", 503}}}}});
  std::vector<int> statuses;
  for (int i = 0; i < count; ++i)
    statuses.push_back(send(emulator.caFile(), "GET", emulator.resourceManager() + providerResourceGroup("anf-rg") +
                                                          "?api-version=" + kResourcesApi, token).status);
  return statuses;
}

// --fault-seed: the same seed gives the same faults to the same sequence of requests (reproducible soak and kill runs).
TEST(EmulatorFaultSeed, SameSeedFaultsTheSameRequests) {
  const std::vector<int> first = faultedStatuses("15", 32);
  ASSERT_EQ(first.size(), 32u);
  EXPECT_EQ(faultedStatuses("15", 32), first);
  EXPECT_EQ(std::ranges::count(first, 503) + std::ranges::count(first, 200), 32) << "only 200 and the injected 503";
  EXPECT_GT(std::ranges::count(first, 503), 0);
  EXPECT_GT(std::ranges::count(first, 200), 0);
}

TEST_F(EmulatorCore, DropRuleClosesTheConnection) {
  std::string token = adminToken(emulator(), "provider");
  ASSERT_EQ(emulator().control("PUT", "/_emulator/faults", {{"rules", {{{"pathPattern", "/resourceGroups/anf-rg$"}, {"drop", true}}}}}).status, 200);
  struct Clear {
    const EmulatorProcess& emulator;
    ~Clear() { emulator.control("DELETE", "/_emulator/faults"); }
  } clear{emulator()};
  EXPECT_THROW(arm("GET", providerResourceGroup("anf-rg") + "?api-version=" + kResourcesApi, token), web::http::http_exception);
}

TEST_F(EmulatorCore, RequestLogListsMethodPathStatusAndApiVersion) {
  std::string token = adminToken(emulator(), "provider");
  std::string path = providerResourceGroup("core-log-missing");
  ASSERT_EQ(arm("GET", path + "?api-version=" + kResourcesApi, token).status, 404);
  auto log = emulator().control("GET", "/_emulator/requests");
  ASSERT_EQ(log.status, 200);
  bool found = false;
  for (const auto& item : log.body["items"]) {
    if (item.value("path", "") != path) continue;
    found = true;
    EXPECT_EQ(item.value("method", ""), "GET");
    EXPECT_EQ(item.value("status", 0), 404);
    EXPECT_EQ(item.value("apiVersion", ""), kResourcesApi);
    EXPECT_EQ(item.value("tenantId", ""), kProviderTenant);
  }
  EXPECT_TRUE(found) << log.body.dump();
  for (const auto& item : log.body["items"]) EXPECT_FALSE(item.value("path", "").starts_with("/_emulator")) << "control calls are not logged";
}

TEST_F(EmulatorCore, GraphApplicationCredentialAndServicePrincipal) {
  std::string token = adminToken(emulator(), "provider", kGraphScope);
  auto application = graph("POST", "/v1.0/applications", token, {{"displayName", "core-test-app"}, {"signInAudience", "AzureADMultipleOrgs"}});
  ASSERT_EQ(application.status, 201) << application.body.dump();
  std::string appId = application.body.value("appId", "");
  std::string objectId = application.body.value("id", "");
  ASSERT_FALSE(appId.empty());
  ASSERT_FALSE(objectId.empty());

  auto credential = graph("POST", "/v1.0/applications/" + objectId + "/federatedIdentityCredentials", token,
                          {{"name", "operator"},
                           {"issuer", emulator().startup().value("workloadIdentityIssuer", "")},
                           {"subject", "system:serviceaccount:anf-system:anf-cmk-operator"},
                           {"audiences", {"api://AzureADTokenExchange"}}});
  ASSERT_EQ(credential.status, 201) << credential.body.dump();
  EXPECT_EQ(credential.body.value("name", ""), "operator");
  auto credentials = graph("GET", "/v1.0/applications/" + objectId + "/federatedIdentityCredentials", token);
  ASSERT_EQ(credentials.status, 200);
  EXPECT_EQ(credentials.body["value"].size(), 1u) << credentials.body.dump();

  auto principal = graph("POST", "/v1.0/servicePrincipals", token, {{"appId", appId}});
  ASSERT_EQ(principal.status, 201) << principal.body.dump();
  EXPECT_EQ(principal.body.value("appId", ""), appId);
  EXPECT_EQ(graph("POST", "/v1.0/servicePrincipals", token, {{"appId", appId}}).status, 409) << "one service principal per app";

  auto listed = graph("GET", "/v1.0/servicePrincipals?" + percentEncode("$filter") + "=" + percentEncode("appId eq '" + appId + "'"), token);
  ASSERT_EQ(listed.status, 200) << listed.body.dump();
  ASSERT_EQ(listed.body["value"].size(), 1u) << listed.body.dump();
  EXPECT_EQ(listed.body["value"][0].value("id", ""), principal.body.value("id", ""));
}

TEST_F(EmulatorCore, GraphRefusesAnArmToken) {
  auto reply = graph("GET", "/v1.0/applications", adminToken(emulator(), "provider"));
  EXPECT_EQ(reply.status, 401) << reply.body.dump();
}

TEST_F(EmulatorCore, ArmTakesRunsOfSlashesAsOne) {
  // SDKs with the path template "/{scope}/providers/..." send "//subscriptions/..." for a scope written "/subscriptions/...".
  // Written on the wire as is (a client parsing "//subscriptions" as a URI would take "subscriptions" for a host).
  web::http::client::http_client_config config;
  auto ca = emulator().caFile();
  config.set_ssl_context_callback([ca](boost::asio::ssl::context& context) { context.load_verify_file(ca); });
  web::http::client::http_client client(emulator().resourceManager(), config);
  web::http::http_request request("GET");
  request.set_request_uri(web::uri_builder().set_path("/" + providerResourceGroup("anf-rg")).set_query(std::string("api-version=") + kResourcesApi).to_uri());
  request.headers().add("Authorization", "Bearer " + adminToken(emulator(), "provider"));
  auto response = client.request(request).get();
  auto body = json::parse(response.extract_utf8string(true).get(), nullptr, false);
  EXPECT_EQ(response.status_code(), 200) << body.dump();
  EXPECT_EQ(body.value("name", ""), "anf-rg");
  auto log = emulator().control("GET", "/_emulator/requests");
  ASSERT_TRUE(log.body.contains("items") && !log.body["items"].empty()) << log.body.dump();
  EXPECT_TRUE(log.body["items"].back().value("path", "").starts_with("//subscriptions/")) << log.body["items"].back().dump();
}

TEST_F(EmulatorCore, ResourcesListFiltersByTypeAndRefusesOtherFilters) {
  std::string token = adminToken(emulator(), "provider");
  std::string filter = percentEncode("resourceType eq 'Microsoft.KeyVault/vaults'");
  for (const std::string& scope : {std::string("/subscriptions/") + kProviderSubscription, providerResourceGroup("anf-rg")}) {
    auto listed = arm("GET", scope + "/resources?$filter=" + filter + "&api-version=2015-11-01", token);
    ASSERT_EQ(listed.status, 200) << listed.body.dump();
    std::vector<std::string> names;
    for (const auto& item : listed.body["value"]) {
      names.push_back(item.value("name", ""));
      EXPECT_EQ(item.value("type", ""), "Microsoft.KeyVault/vaults") << item.dump();
      EXPECT_FALSE(item.contains("properties")) << item.dump();
    }
    std::ranges::sort(names);
    EXPECT_EQ(names, (std::vector<std::string>{"anfkv-provider", "anfkv-rbac"})) << listed.body.dump();
  }
  auto refused = arm("GET", std::string("/subscriptions/") + kProviderSubscription + "/resources?$filter=" +
                                percentEncode("tagName eq 'x' or plan eq 'y'") + "&api-version=2021-04-01", token);
  EXPECT_EQ(refused.status, 400) << refused.body.dump();
  EXPECT_EQ(errorCode(refused), "InvalidFilterInQueryString") << refused.body.dump();
}

TEST_F(EmulatorCore, WorkloadIdentityAssertionIsExchangedThroughAFederatedCredential) {
  std::string token = adminToken(emulator(), "provider");
  auto identity = arm("PUT", identityPath("core-wi") + "?api-version=" + kIdentityApi, token, {{"location", "eastus"}});
  ASSERT_TRUE(identity.status == 201 || identity.status == 200) << identity.body.dump();
  std::string clientId = identity.body["properties"].value("clientId", "");
  std::string principalId = identity.body["properties"].value("principalId", "");
  std::string issuer = emulator().startup().value("workloadIdentityIssuer", "");
  std::string subject = "system:serviceaccount:anf-system:anf-cmk-operator";
  auto credential = arm("PUT", identityPath("core-wi") + "/federatedIdentityCredentials/operator?api-version=" + kIdentityApi, token,
                        {{"properties", {{"issuer", issuer}, {"subject", subject}, {"audiences", {"api://AzureADTokenExchange"}}}}});
  ASSERT_TRUE(credential.status == 201 || credential.status == 200) << credential.body.dump();

  auto exchange = [&](const std::string& assertionSubject) {
    auto minted = emulator().control("POST", "/_emulator/workload-identity-token",
                                     {{"tenantId", kProviderTenant}, {"clientId", clientId}, {"subject", assertionSubject}});
    EXPECT_EQ(minted.status, 200) << minted.body.dump();
    std::string form = "client_id=" + percentEncode(clientId) + "&scope=" + percentEncode(kArmScope) +
                       "&client_assertion_type=" + percentEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                       "&client_assertion=" + percentEncode(minted.body.value("token", "")) + "&grant_type=client_credentials";
    return send(emulator().caFile(), "POST", emulator().authority() + "/" + kProviderTenant + "/oauth2/v2.0/token", "", form,
                "application/x-www-form-urlencoded");
  };
  auto granted = exchange(subject);
  ASSERT_EQ(granted.status, 200) << granted.body.dump();
  EXPECT_EQ(granted.body.value("token_type", ""), "Bearer");
  auto claims = jwtClaims(granted.body.value("access_token", ""));
  EXPECT_EQ(claims.value("oid", ""), principalId) << claims.dump();
  EXPECT_EQ(claims.value("tid", ""), kProviderTenant);
  EXPECT_EQ(claims.value("aud", ""), "https://management.azure.com/");
  EXPECT_EQ(arm("GET", identityPath("core-wi") + "?api-version=" + kIdentityApi, granted.body.value("access_token", "")).status, 200);

  auto refused = exchange("system:serviceaccount:other:intruder");
  EXPECT_EQ(refused.status, 400) << refused.body.dump();
  EXPECT_EQ(refused.body.value("error", ""), "invalid_client");
  ASSERT_TRUE(refused.body.contains("error_codes"));
  EXPECT_EQ(refused.body["error_codes"][0], 700213) << refused.body.dump();
}

TEST_F(EmulatorCore, ImdsIssuesManagedIdentityTokens) {
  std::string token = adminToken(emulator(), "provider");
  auto identity = arm("PUT", identityPath("core-imds") + "?api-version=" + kIdentityApi, token, {{"location", "eastus"}});
  ASSERT_TRUE(identity.status == 201 || identity.status == 200) << identity.body.dump();
  std::string clientId = identity.body["properties"].value("clientId", "");
  std::string imds = emulator().resourceManager() + "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" +
                     percentEncode("https://management.azure.com/");
  auto withMetadata = [&](const std::string& url) {
    auto reply = send(emulator().caFile(), "GET", url, "", "", "", {{"Metadata", "true"}});
    return std::pair{reply.status, reply.body};
  };

  auto missingHeader = send(emulator().caFile(), "GET", imds);
  EXPECT_EQ(missingHeader.status, 400) << missingHeader.body.dump();
  EXPECT_EQ(missingHeader.body.value("error", ""), "invalid_request");

  auto [status, body] = withMetadata(imds + "&client_id=" + clientId);
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body.value("token_type", ""), "Bearer");
  EXPECT_EQ(body.value("resource", ""), "https://management.azure.com/");
  EXPECT_TRUE(body["expires_in"].is_string()) << "IMDS writes its numbers as strings: " << body.dump();
  EXPECT_TRUE(body["expires_on"].is_string()) << body.dump();
  auto claims = jwtClaims(body.value("access_token", ""));
  EXPECT_EQ(claims.value("oid", ""), identity.body["properties"].value("principalId", "")) << claims.dump();
  EXPECT_EQ(arm("GET", identityPath("core-imds") + "?api-version=" + kIdentityApi, body.value("access_token", "")).status, 200);

  auto [unknownStatus, unknown] = withMetadata(imds + "&client_id=00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(unknownStatus, 400) << unknown.dump();
}

// What the Azure CLI (Debian 12's azure-cli 2.45, tests/cli-az) needs beyond IMDS: the managed identity endpoint
// that MSI_ENDPOINT names (Cloud Shell, the retired VM extension), where `az login --identity` POSTs `resource=...`
// as a form with `Metadata: true` and no api-version; and Key Vault api-version 2022-07-01, the CLI's default.
constexpr const char* kCliArmResource = "https://management.core.windows.net/";

/// POST {base}/oauth2/token as msrestazure's get_msi_token does for `az login --identity` with MSI_ENDPOINT set.
Reply msiToken(const EmulatorProcess& emulator, const std::string& form, bool metadataHeader = true,
               const std::string& method = "POST") {
  std::map<std::string, std::string> headers;
  if (metadataHeader) headers["Metadata"] = "true";
  return send(emulator.caFile(), method, emulator.resourceManager() + "/oauth2/token", "", form,
              "application/x-www-form-urlencoded", headers);
}

TEST_F(EmulatorCore, MsiEndpointPostIssuesTheDefaultIdentitysTokenWithImdsFields) {
  auto reply = msiToken(emulator(), "resource=" + percentEncode(kCliArmResource));
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(reply.body.value("token_type", ""), "Bearer");
  EXPECT_EQ(reply.body.value("resource", ""), kCliArmResource);
  ASSERT_TRUE(reply.body["expires_on"].is_string()) << "msrestazure and the CLI take int(expires_on): " << reply.body.dump();
  EXPECT_GT(std::stoll(reply.body["expires_on"].get<std::string>()), 0);
  auto claims = jwtClaims(reply.body.value("access_token", ""));
  EXPECT_EQ(claims.value("tid", ""), kProviderTenant) << claims.dump();
  EXPECT_EQ(claims.value("oid", ""), emulator().tenant("provider").principal("admin").objectId) << claims.dump();
  EXPECT_EQ(claims.value("aud", ""), kCliArmResource) << claims.dump();

  // The token is good for ARM: the CLI lists the tenant's subscriptions right after the login.
  auto subscriptions = arm("GET", "/subscriptions?api-version=2019-11-01", reply.body.value("access_token", ""));
  ASSERT_EQ(subscriptions.status, 200) << subscriptions.body.dump();
  ASSERT_EQ(subscriptions.body["value"].size(), 1u) << subscriptions.body.dump();
  EXPECT_EQ(subscriptions.body["value"][0].value("subscriptionId", ""), kProviderSubscription);
}

TEST_F(EmulatorCore, MsiEndpointWantsMetadataHeaderPostAndResource) {
  auto noHeader = msiToken(emulator(), "resource=" + percentEncode(kCliArmResource), false);
  EXPECT_EQ(noHeader.status, 400) << noHeader.body.dump();
  EXPECT_EQ(noHeader.body.value("error", ""), "invalid_request");

  auto noResource = msiToken(emulator(), "");
  EXPECT_EQ(noResource.status, 400) << noResource.body.dump();
  EXPECT_EQ(noResource.body.value("error", ""), "invalid_request");

  auto get = msiToken(emulator(), "", true, "GET");
  EXPECT_EQ(get.status, 405) << get.body.dump();
}

TEST_F(EmulatorCore, MsiEndpointClientIdSelectsAUserAssignedIdentity) {
  auto created = arm("PUT", identityPath("cli-msi") + "?api-version=" + kIdentityApi, adminToken(emulator(), "provider"),
                     {{"location", "eastus"}});
  ASSERT_TRUE(created.status == 200 || created.status == 201) << created.body.dump();
  std::string clientId = created.body["properties"].value("clientId", "");

  auto reply = msiToken(emulator(), "resource=" + percentEncode(kCliArmResource) + "&client_id=" + clientId);
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(jwtClaims(reply.body.value("access_token", "")).value("oid", ""), created.body["properties"].value("principalId", ""));

  auto unknown = msiToken(emulator(), "resource=" + percentEncode(kCliArmResource) + "&client_id=00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(unknown.status, 400) << unknown.body.dump();
}

TEST_F(EmulatorCore, KeyVaultServesTheCliApiVersion20220701) {
  const std::string vault = providerResourceGroup("anf-rg") + "/providers/Microsoft.KeyVault/vaults/anfkv-provider";
  std::string token = adminToken(emulator(), "provider");
  auto got = arm("GET", vault + "?api-version=2022-07-01", token);
  ASSERT_EQ(got.status, 200) << got.body.dump();
  EXPECT_EQ(got.body["properties"].value("vaultUri", ""), kVaultUri);

  json policy{{"properties",
               {{"accessPolicies",
                 {{{"tenantId", kProviderTenant},
                   {"objectId", "30000000-0000-4000-8000-0000000000e1"},
                   {"permissions", {{"keys", {"get", "encrypt", "decrypt"}}}}}}}}}};
  auto added = arm("PUT", vault + "/accessPolicies/add?api-version=2022-07-01", token, policy);
  EXPECT_EQ(added.status, 200) << added.body.dump();

  // Versions Azure does not have are still refused.
  auto unknown = arm("GET", vault + "?api-version=2022-07-02", token);
  EXPECT_EQ(unknown.status, 400) << unknown.body.dump();
  EXPECT_EQ(errorCode(unknown), "InvalidApiVersionParameter");
}

TEST_F(EmulatorCore, FailedOperationCarriesItsErrorOnBothPollUrls) {
  // An identity without key permissions: the request is accepted, the operation fails when it runs.
  std::string token = adminToken(emulator(), "provider");
  auto identity = arm("PUT", identityPath("core-no-access") + "?api-version=" + kIdentityApi, token, {{"location", "eastus"}});
  ASSERT_TRUE(identity.status == 201 || identity.status == 200) << identity.body.dump();
  std::string identityId = identity.body.value("id", "");
  const std::string kUnusable = "Unable to use the configured encryption key, please check if key is active";

  // PUT: Azure-AsyncOperation, status body Failed with the error.
  std::string putUrl = netAppAccount("core-failed-put") + "?api-version=" + kNetAppApi;
  auto created = arm("PUT", putUrl, token, cmkAccountBody(identityId));
  ASSERT_EQ(created.status, 201) << created.body.dump();
  std::string operation = created.header("azure-asyncoperation");
  ASSERT_FALSE(operation.empty());
  EXPECT_EQ(follow(operation, token).body.value("status", ""), "InProgress");
  emulator().advanceClock(std::chrono::seconds(31));
  auto status = follow(operation, token);
  ASSERT_EQ(status.status, 200) << "a failed operation's status is still read with 200: " << status.body.dump();
  EXPECT_EQ(status.body.value("status", ""), "Failed") << status.body.dump();
  ASSERT_TRUE(status.body.contains("error")) << status.body.dump();
  EXPECT_EQ(status.body["error"].value("code", ""), "EncryptionKeyUnusable");
  EXPECT_EQ(status.body["error"].value("message", ""), kUnusable);
  EXPECT_FALSE(status.body.value("endTime", "").empty()) << status.body.dump();
  auto account = arm("GET", putUrl, token);
  EXPECT_EQ(account.body["properties"].value("provisioningState", ""), "Failed") << account.body.dump();

  // PATCH: Location, 202 while running, then the error envelope a synchronous failure would have had.
  std::string patchUrl = netAppAccount("core-failed-patch") + "?api-version=" + kNetAppApi;
  ASSERT_EQ(arm("PUT", patchUrl, token, {{"location", "eastus"}}).status, 201);
  emulator().advanceClock(std::chrono::seconds(31));
  json patch = cmkAccountBody(identityId);
  patch.erase("location");
  auto patched = arm("PATCH", patchUrl, token, patch);
  ASSERT_EQ(patched.status, 202) << patched.body.dump();
  std::string location = patched.header("location");
  ASSERT_FALSE(location.empty());
  EXPECT_EQ(follow(location, token).status, 202);
  emulator().advanceClock(std::chrono::seconds(31));
  auto failed = follow(location, token);
  EXPECT_GE(failed.status, 400) << failed.body.dump();
  EXPECT_EQ(errorCode(failed), "EncryptionKeyUnusable") << failed.body.dump();
  EXPECT_EQ(failed.body["error"].value("message", ""), kUnusable);
}

TEST(EmulatorState, ResourceGroupSurvivesARestart) {
  auto scratch = std::filesystem::temp_directory_path() / ("anf-core-state-" + std::to_string(::getpid()));
  std::filesystem::create_directories(scratch);
  std::string stateFile = (scratch / "state.json").string();
  std::string path = providerResourceGroup("core-persisted") + "?api-version=" + kResourcesApi;
  {
    auto first = EmulatorProcess::start({.extraArgs = {"--state", stateFile}});
    ASSERT_TRUE(first) << first.error();
    auto created = send((*first)->caFile(), "PUT", (*first)->resourceManager() + path, adminToken(**first, "provider"),
                        json{{"location", "eastus"}}.dump());
    ASSERT_TRUE(created.status == 201 || created.status == 200) << created.body.dump();
    (*first)->stop();
  }
  auto second = EmulatorProcess::start({.extraArgs = {"--state", stateFile}});
  ASSERT_TRUE(second) << second.error();
  auto found = send((*second)->caFile(), "GET", (*second)->resourceManager() + path, adminToken(**second, "provider"));
  EXPECT_EQ(found.status, 200) << found.body.dump();
  EXPECT_EQ(found.body.value("name", ""), "core-persisted");
  EXPECT_EQ(found.body.value("location", ""), "eastus");
  second->reset();
  std::filesystem::remove_all(scratch);
}

TEST(EmulatorState, UnfinishedOperationsSurviveARestart) {
  auto scratch = std::filesystem::temp_directory_path() / ("anf-core-lro-state-" + std::to_string(::getpid()));
  std::filesystem::create_directories(scratch);
  std::string stateFile = (scratch / "state.json").string();
  std::vector<std::string> args = {"--state", stateFile, "--lro-seconds", "30"};
  std::string account = netAppAccount("core-restart") + "?api-version=" + kNetAppApi;
  std::string doomed = providerResourceGroup("core-restart-doomed") + "?api-version=" + kResourcesApi;
  std::string operationPath, deletePath, plainPath;
  auto pathOf = [](const std::string& url) { return url.substr(url.find("/subscriptions/")); };
  {
    auto first = EmulatorProcess::start({.extraArgs = args});
    ASSERT_TRUE(first) << first.error();
    std::string token = adminToken(**first, "provider");
    auto arm = [&](const std::string& method, const std::string& path, const json& body = nullptr) {
      return send((*first)->caFile(), method, (*first)->resourceManager() + path, token, body.is_null() ? "" : body.dump());
    };
    ASSERT_EQ(arm("PUT", doomed, {{"location", "eastus"}}).status, 201);
    (*first)->advanceClock(std::chrono::seconds(31));
    ASSERT_EQ(arm("GET", doomed).status, 200);
    // A CMK account whose identity may not use the key: only the provider's own completion fails it.
    auto identity = arm("PUT", identityPath("core-restart-uami") + "?api-version=" + kIdentityApi, {{"location", "eastus"}});
    ASSERT_TRUE(identity.status == 201 || identity.status == 200) << identity.body.dump();
    auto created = arm("PUT", account, cmkAccountBody(identity.body.value("id", "")));
    ASSERT_EQ(created.status, 201) << created.body.dump();
    auto plain = arm("PUT", netAppAccount("core-restart-plain") + "?api-version=" + kNetAppApi, {{"location", "eastus"}});
    ASSERT_EQ(plain.status, 201) << plain.body.dump();
    plainPath = pathOf(plain.header("azure-asyncoperation"));
    operationPath = pathOf(created.header("azure-asyncoperation"));
    auto deleting = arm("DELETE", doomed);
    ASSERT_EQ(deleting.status, 202) << deleting.body.dump();
    deletePath = pathOf(deleting.header("location"));
    (*first)->stop();
  }
  auto second = EmulatorProcess::start({.extraArgs = args});
  ASSERT_TRUE(second) << second.error();
  std::string token = adminToken(**second, "provider");
  auto get = [&](const std::string& path) { return send((*second)->caFile(), "GET", (*second)->resourceManager() + path, token); };
  auto running = get(operationPath);
  ASSERT_EQ(running.status, 200) << running.body.dump();
  EXPECT_EQ(running.body.value("status", ""), "InProgress") << running.body.dump();
  EXPECT_EQ(get(account).body["properties"].value("provisioningState", ""), "Creating");
  EXPECT_EQ(get(deletePath).status, 202);

  (*second)->advanceClock(std::chrono::seconds(31));
  auto failed = get(operationPath);
  EXPECT_EQ(failed.body.value("status", ""), "Failed") << failed.body.dump();
  EXPECT_EQ(failed.body.value("error", json::object()).value("code", ""), "EncryptionKeyUnusable") << failed.body.dump();
  EXPECT_EQ(get(account).body["properties"].value("provisioningState", ""), "Failed");
  auto done = get(plainPath);
  EXPECT_EQ(done.body.value("status", ""), "Succeeded") << done.body.dump();
  EXPECT_EQ(get(netAppAccount("core-restart-plain") + "?api-version=" + kNetAppApi).body["properties"].value("provisioningState", ""), "Succeeded");
  EXPECT_EQ(get(deletePath).status, 200);
  auto gone = get(doomed);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(errorCode(gone), "ResourceGroupNotFound") << gone.body.dump();
  second->reset();
  std::filesystem::remove_all(scratch);
}

// Per-kind durations are part of the state file: a restart on it must read them back (they once came back as
// null, read through a dangling reference, and the emulator refused to start).
TEST(EmulatorState, RestartsOnAStateWithPerKindOperationDurations) {
  auto scratch = std::filesystem::temp_directory_path() / ("anf-core-durations-state-" + std::to_string(::getpid()));
  std::filesystem::create_directories(scratch);
  std::vector<std::string> args = {"--state", (scratch / "state.json").string(), "--operation-seconds",
                                   "account=2,pool=3,volume=6,privateEndpoint=4,changeKeyVault=6,transitionToCmk=6,renewCredentials=2"};
  std::string path = providerResourceGroup("core-durations") + "?api-version=" + kResourcesApi;
  {
    auto first = EmulatorProcess::start({.extraArgs = args});
    ASSERT_TRUE(first) << first.error();
    auto created = send((*first)->caFile(), "PUT", (*first)->resourceManager() + path, adminToken(**first, "provider"),
                        json{{"location", "eastus"}}.dump());
    ASSERT_LT(created.status, 300) << created.body.dump();
    (*first)->stop();
  }
  auto second = EmulatorProcess::start({.extraArgs = args});
  ASSERT_TRUE(second) << second.error();
  EXPECT_EQ(send((*second)->caFile(), "GET", (*second)->resourceManager() + path, adminToken(**second, "provider")).status, 200);
  second->reset();
  std::filesystem::remove_all(scratch);
}

// ---------------------------------------------------------------- world file: limits raised by a support request

/// A world of one tenant whose subscription had its regional capacity quota raised to 30 TiB.
std::string raisedQuotaWorld() {
  return std::string(R"(tenants:
  - name: provider
    tenantId: )") + kProviderTenant + R"(
    subscriptions:
      - subscriptionId: )" + kProviderSubscription + R"(
        netAppLimits:
          regionalCapacityTiB: 30
    principals:
      - {name: admin, clientId: 10000000-0000-4000-8000-00000000c001, clientSecret: s3cret, objectId: 10000000-0000-4000-8000-00000000d001}
resourceGroups:
  - {subscriptionId: )" + kProviderSubscription + R"(, name: anf-rg, location: eastus}
)";
}

/// A world file in a scratch directory, removed with it.
struct WorldFile {
  explicit WorldFile(const std::string& text)
      : dir(std::filesystem::temp_directory_path() / ("anf-core-world-" + std::to_string(::getpid()) + "-" + std::to_string(++count))) {
    std::filesystem::create_directories(dir);
    std::ofstream(path()) << text;
  }
  ~WorldFile() { std::filesystem::remove_all(dir); }
  std::string path() const { return (dir / "world.yaml").string(); }
  std::filesystem::path dir;
  static inline int count = 0;
};

TEST(EmulatorWorld, AWorldFileRaisesTheRegionalCapacityQuotaOfItsSubscription) {
  WorldFile world(raisedQuotaWorld());
  auto emulator = EmulatorProcess::start({.extraArgs = {"--world", world.path(), "--lro-seconds", "0"}});
  ASSERT_TRUE(emulator) << emulator.error();
  std::string token = adminToken(**emulator, "provider");
  auto put = [&](const std::string& path, const json& body) {
    return send((*emulator)->caFile(), "PUT", (*emulator)->resourceManager() + path + "?api-version=" + kNetAppApi, token, body.dump());
  };
  ASSERT_EQ(put(netAppAccount("acct"), {{"location", "eastus"}}).status, 201);
  auto pool = [&](const std::string& name, int tib) {
    return put(netAppAccount("acct") + "/capacityPools/" + name,
               {{"location", "eastus"}, {"properties", {{"size", static_cast<std::int64_t>(tib) << 40}, {"serviceLevel", "Premium"}}}});
  };
  EXPECT_EQ(pool("p16", 16).status, 201);
  EXPECT_EQ(pool("p12", 12).status, 201) << "28 TiB: beyond the default 25, within the raised 30";
  auto refused = pool("p4", 4);
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(errorCode(refused), "SizeQuotaExceeded");
  EXPECT_NE(refused.body["error"].value("message", "").find("Creating a new capacityPool of size 4 TiB would exceed the regional quota of "
                                                            "30 TiB. Current usage is 28 TiB."),
            std::string::npos)
      << refused.body.dump();
}

TEST(EmulatorWorld, AWorldFileCannotRaiseALimitAzureDoesNotAdjust) {
  std::string text = raisedQuotaWorld();
  text.replace(text.find("regionalCapacityTiB: 30"), std::string("regionalCapacityTiB: 30").size(), "minVolumeGiB: 1");
  WorldFile world(text);
  auto emulator = EmulatorProcess::start({.extraArgs = {"--world", world.path()}});
  ASSERT_FALSE(emulator);
  EXPECT_NE(emulator.error().find("minVolumeGiB"), std::string::npos) << emulator.error();
}

// ---------------------------------------------------------------- operation timing per kind

/// The status of the operation behind `created`'s Azure-AsyncOperation header.
Reply operationStatus(const EmulatorProcess& emulator, const Reply& created, const std::string& token) {
  return send(emulator.caFile(), "GET", created.header("azure-asyncoperation"), token);
}

// The emulator's clock is the wall clock plus the advances, so each step checks a state at least 600 s of emulator
// time from its boundary: more wall time than the test may take, however slow the build (asan).
TEST(EmulatorTiming, EachOperationKindTakesItsOwnDurationOnTheEmulatorClock) {
  auto emulator = EmulatorProcess::start({.extraArgs = {"--lro-seconds", "0", "--operation-seconds", "pool=600,volume=1200"}});
  ASSERT_TRUE(emulator) << emulator.error();
  std::string token = adminToken(**emulator, "provider");
  auto put = [&](const std::string& path, const json& body) {
    return send((*emulator)->caFile(), "PUT", (*emulator)->resourceManager() + path + "?api-version=" + kNetAppApi, token, body.dump());
  };
  auto advance = [&](int seconds) { ASSERT_EQ((*emulator)->control("POST", "/_emulator/clock/advance", {{"seconds", seconds}}).status, 200); };
  auto account = put(netAppAccount("acct"), {{"location", "eastus"}});
  EXPECT_EQ(operationStatus(**emulator, account, token).body.value("status", ""), "Succeeded") << "an account takes --lro-seconds 0";
  auto pool = put(netAppAccount("acct") + "/capacityPools/p", {{"location", "eastus"}, {"properties", {{"size", 4LL << 40}, {"serviceLevel", "Premium"}}}});
  ASSERT_EQ(pool.status, 201) << pool.body.dump();
  EXPECT_FALSE(pool.header("retry-after").empty()) << "a 201 carries Retry-After";
  auto running = operationStatus(**emulator, pool, token);
  EXPECT_EQ(running.body.value("status", ""), "InProgress");
  EXPECT_FALSE(running.header("retry-after").empty()) << "a running operation's status carries Retry-After";
  advance(600);
  EXPECT_EQ(operationStatus(**emulator, pool, token).body.value("status", ""), "Succeeded");
  std::string subnet = providerResourceGroup("anf-rg") + "/providers/Microsoft.Network/virtualNetworks/anf-vnet/subnets/anf-delegated";
  auto volume = put(netAppAccount("acct") + "/capacityPools/p/volumes/v",
                    {{"location", "eastus"}, {"properties", {{"creationToken", "timed-v"}, {"usageThreshold", 100LL << 30}, {"subnetId", subnet}}}});
  ASSERT_EQ(volume.status, 201) << volume.body.dump();
  advance(600);
  auto halfway = operationStatus(**emulator, volume, token).body;
  EXPECT_EQ(halfway.value("status", ""), "InProgress") << "a volume takes 1200 s, not a pool's 600";
  EXPECT_GE(halfway.value("percentComplete", 0.0), 50.0) << halfway.dump();
  EXPECT_LT(halfway.value("percentComplete", 0.0), 60.0) << "600 s of 1200 (plus the wall time of the test): " << halfway.dump();
  advance(600);
  EXPECT_EQ(operationStatus(**emulator, volume, token).body.value("status", ""), "Succeeded");
}

TEST(EmulatorTiming, AnUnknownOperationKindIsAUsageError) {
  auto emulator = EmulatorProcess::start({.extraArgs = {"--operation-seconds", "volumes=40"}});
  ASSERT_FALSE(emulator);
  EXPECT_NE(emulator.error().find("unknown operation kind 'volumes'"), std::string::npos) << emulator.error();
}

TEST(EmulatorWorld, AWorldFileSetsOperationDurations) {
  WorldFile world(raisedQuotaWorld() + "operationSeconds:\n  account: 15\n");
  auto emulator = EmulatorProcess::start({.extraArgs = {"--world", world.path(), "--lro-seconds", "0"}});
  ASSERT_TRUE(emulator) << emulator.error();
  std::string token = adminToken(**emulator, "provider");
  auto account = send((*emulator)->caFile(), "PUT", (*emulator)->resourceManager() + netAppAccount("acct") + "?api-version=" + kNetAppApi, token,
                      json{{"location", "eastus"}}.dump());
  EXPECT_EQ(operationStatus(**emulator, account, token).body.value("status", ""), "InProgress");
  ASSERT_EQ((*emulator)->control("POST", "/_emulator/clock/advance", {{"seconds", 15}}).status, 200);
  EXPECT_EQ(operationStatus(**emulator, account, token).body.value("status", ""), "Succeeded");
}

}  // namespace
}  // namespace anf::testing
