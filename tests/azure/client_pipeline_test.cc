// The client's pipeline against a scripted transport (no server): retries, POST safety, tokens,
// grants, paging, long-running operations, logs and metrics.
#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <mutex>
#include <sstream>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "azure/client.h"
#include "azure/transport.h"

namespace anf::azure {
namespace {

using namespace std::chrono_literals;

const auto kAccount = ResourceId::parse(
                          "/subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/providers/"
                          "Microsoft.NetApp/netAppAccounts/acct")
                          .value();

HttpResponse response(int status, nlohmann::json body = nullptr, std::map<std::string, std::string> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = body.is_null() ? "" : body.dump();
  return r;
}

nlohmann::json armError(const std::string& code, const std::string& message = "details") {
  return {{"error", {{"code", code}, {"message", message}}}};
}

/// Answers token requests itself and ARM/Graph requests from a script, recording everything.
class ScriptedTransport final : public Transport {
 public:
  pplx::task<TransportResult> send(HttpRequest request) override {
    std::lock_guard lock(mutex_);
    if (request.url.find("/oauth2/v2.0/token") != std::string::npos) {
      ++tokenRequests;
      tokenBodies.push_back(request.body.value_or(""));
      return pplx::task_from_result(TransportResult(
          response(200, {{"access_token", "eyJ0eXAiOiJKV1QifQ.eyJuIjoi" + std::to_string(tokenRequests) + "In0.sig"},
                         {"expires_in", 3600}})));
    }
    requests.push_back(request);
    if (script.empty()) return pplx::task_from_result(TransportResult(response(200, {{"ok", true}})));
    auto next = script.front();
    script.pop_front();
    return pplx::task_from_result(next);
  }
  void push(HttpResponse r) { script.push_back(r); }
  void pushFailure(TransportFailure kind) {
    AzureError error;
    error.transport = kind;
    error.code = kind == TransportFailure::ConnectFailed ? "ConnectFailed" : "ConnectionLost";
    script.push_back(std::unexpected(error));
  }

  std::mutex mutex_;
  std::deque<TransportResult> script;
  std::vector<HttpRequest> requests;
  std::vector<std::string> tokenBodies;
  int tokenRequests = 0;
};

class ClientPipeline : public testing::Test {
 protected:
  void SetUp() override {
    setenv("ANF_TEST_CLIENT_SECRET", "pipeline-test-secret-value", 1);
    logStream = std::make_shared<std::ostringstream>();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*logStream);
    logger = std::make_shared<spdlog::logger>("azure-test", sink);
    logger->set_level(spdlog::level::debug);
    client = make();
  }

  AzureClientPtr make(RetryPolicy retry = {.maxAttempts = 4, .baseDelay = 1ms, .maxDelay = 5ms, .maxTotal = 2000ms,
                                           .defaultPollInterval = 1000ms},
                       RateLimits limits = {}) {
    AzureConfig config;
    config.rateLimits = limits;
    config.cloud = Cloud::Custom;
    config.endpoints = {.resourceManager = "https://arm.test", .authority = "https://login.test/", .graph = "https://graph.test"};
    config.credentials.push_back({.name = "provider",
                                  .tenantId = "10000000-0000-4000-8000-000000000001",
                                  .kind = CredentialKind::ClientSecret,
                                  .clientId = "10000000-0000-4000-8000-00000000c001",
                                  .secretEnv = "ANF_TEST_CLIENT_SECRET"});
    config.retry = retry;
    auto made = makeAzureClient(config, {.registry = &registry, .logger = logger, .transport = transport});
    EXPECT_TRUE(made) << made.error().str();
    return std::move(*made);
  }

  std::string metricsText() { return prometheus::TextSerializer().Serialize(registry.Collect()); }

  std::shared_ptr<ScriptedTransport> transport = std::make_shared<ScriptedTransport>();
  prometheus::Registry registry;
  std::shared_ptr<std::ostringstream> logStream;
  std::shared_ptr<spdlog::logger> logger;
  AzureClientPtr client;
};

TEST_F(ClientPipeline, BuildsArmUrlWithApiVersionAndBearerToken) {
  auto result = client->get("provider", kAccount).get();
  ASSERT_TRUE(result) << result.error().str();
  ASSERT_EQ(transport->requests.size(), 1u);
  const auto& request = transport->requests[0];
  EXPECT_EQ(request.url, "https://arm.test" + kAccount.str() + "?api-version=2025-06-01");
  bool bearer = false;
  for (const auto& [name, value] : request.headers) bearer |= name == "Authorization" && value.starts_with("Bearer eyJ");
  EXPECT_TRUE(bearer);
  EXPECT_NE(transport->tokenBodies[0].find("scope=https%3A%2F%2Fmanagement.azure.com%2F.default"), std::string::npos);
}

TEST_F(ClientPipeline, RetriesTransientFailuresOfIdempotentCalls) {
  transport->push(response(503, armError("ServiceUnavailable")));
  transport->pushFailure(TransportFailure::ConnectionLost);
  transport->push(response(200, {{"name", "acct"}}));
  auto result = client->put("provider", kAccount, {{"location", "eastus"}}).get();
  ASSERT_TRUE(result) << result.error().str();
  EXPECT_EQ(result->body["name"], "acct");
  EXPECT_EQ(transport->requests.size(), 3u);
}

TEST_F(ClientPipeline, GivesUpAfterMaxAttemptsWithARetryableError) {
  for (int i = 0; i < 10; ++i) transport->push(response(500, armError("InternalServerError")));
  auto result = client->get("provider", kAccount).get();
  ASSERT_FALSE(result);
  EXPECT_TRUE(result.error().retryable);
  EXPECT_EQ(result.error().code, "InternalServerError");
  EXPECT_EQ(transport->requests.size(), 4u);
}

TEST_F(ClientPipeline, NeverResendsAPostThatMayHaveReachedAzure) {
  transport->push(response(503, armError("ServiceUnavailable")));
  auto result = client->post("provider", kAccount, "renewCredentials").get();
  ASSERT_FALSE(result);
  EXPECT_TRUE(result.error().retryable) << "the caller observes, then decides";
  EXPECT_EQ(transport->requests.size(), 1u);

  transport->pushFailure(TransportFailure::ConnectionLost);
  EXPECT_FALSE(client->post("provider", kAccount, "renewCredentials").get());
  EXPECT_EQ(transport->requests.size(), 2u);
}

TEST_F(ClientPipeline, ResendsAPostThatCertainlyDidNotArrive) {
  transport->push(response(429, armError("TooManyRequests"), {{"retry-after", "0"}}));
  transport->pushFailure(TransportFailure::ConnectFailed);
  transport->push(response(202, nullptr, {{"location", "https://arm.test/subscriptions/s/operationResults/1"}}));
  auto result = client->post("provider", kAccount, "renewCredentials", nlohmann::json::object()).get();
  ASSERT_TRUE(result) << result.error().str();
  EXPECT_EQ(transport->requests.size(), 3u);
  EXPECT_EQ(transport->requests[0].url, "https://arm.test" + kAccount.str() + "/renewCredentials?api-version=2025-06-01");
  ASSERT_TRUE(result->operation);
  EXPECT_EQ(result->operation->kind, OperationKind::Location);
  EXPECT_NE(metricsText().find("anf_cmk_arm_throttled_total 1"), std::string::npos);
}

TEST_F(ClientPipeline, ReturnsRetryAfterBeyondItsBudgetToTheCaller) {
  transport->push(response(429, armError("TooManyRequests"), {{"retry-after", "120"}}));
  auto result = client->get("provider", kAccount).get();
  ASSERT_FALSE(result);
  EXPECT_TRUE(result.error().retryable);
  EXPECT_EQ(result.error().retryAfter, 120s);
  EXPECT_EQ(transport->requests.size(), 1u);
}

TEST_F(ClientPipeline, FetchesANewTokenWhenAzureSaysItExpired) {
  transport->push(response(401, armError("ExpiredAuthenticationToken")));
  auto result = client->get("provider", kAccount).get();
  ASSERT_TRUE(result) << result.error().str();
  EXPECT_EQ(transport->tokenRequests, 2);
  EXPECT_EQ(transport->requests.size(), 2u);
}

TEST_F(ClientPipeline, WrongTenantIsTerminal) {
  transport->push(response(401, armError("InvalidAuthenticationTokenTenant", "The access token is from the wrong issuer")));
  auto result = client->get("provider", kAccount).get();
  ASSERT_FALSE(result);
  EXPECT_FALSE(result.error().retryable);
  EXPECT_EQ(result.error().code, "InvalidAuthenticationTokenTenant");
  EXPECT_EQ(transport->requests.size(), 1u);
}

TEST_F(ClientPipeline, AuthorizationFailedIsRetriedOnlyWhileAGrantPropagates) {
  const std::string principal = "30000000-0000-4000-8000-0000000000aa";
  auto denied = armError("AuthorizationFailed", "The client with object id '" + principal + "' does not have authorization");
  transport->push(response(403, denied));
  auto before = client->get("provider", kAccount).get();
  ASSERT_FALSE(before);
  EXPECT_FALSE(before.error().retryable);

  client->noteGrant(principal);
  transport->push(response(403, denied));
  auto after = client->get("provider", kAccount).get();
  ASSERT_TRUE(after) << after.error().str();

  transport->push(response(403, armError("LinkedAuthorizationFailed")));
  auto flagged = client->put("provider", kAccount, nlohmann::json::object(), {.afterGrant = true}).get();
  EXPECT_TRUE(flagged) << "per-call flag";
}

TEST_F(ClientPipeline, ListFollowsNextLink) {
  transport->push(response(200, {{"value", {{{"name", "p1"}}}}, {"nextLink", "https://arm.test/page2"}}));
  transport->push(response(200, {{"value", {{{"name", "p2"}}, {{"name", "p3"}}}}}));
  auto items = client->list("provider", kAccount, "capacityPools").get();
  ASSERT_TRUE(items) << items.error().str();
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[2]["name"], "p3");
  EXPECT_EQ(transport->requests[0].url, "https://arm.test" + kAccount.str() + "/capacityPools?api-version=2025-06-01");
  EXPECT_EQ(transport->requests[1].url, "https://arm.test/page2");
}

TEST_F(ClientPipeline, ListRefusesANextLinkToAnotherHost) {
  transport->push(response(200, {{"value", nlohmann::json::array()}, {"nextLink", "https://evil.test/page2"}}));
  auto items = client->list("provider", ResourceId::resourceGroup("s", "rg"), "Microsoft.NetApp/netAppAccounts").get();
  ASSERT_FALSE(items);
  EXPECT_EQ(items.error().code, "UntrustedNextLink");
}

TEST_F(ClientPipeline, SendsIfMatch) {
  ASSERT_TRUE(client->put("provider", kAccount, nlohmann::json::object(), {.ifMatch = "W/\"1\""}).get());
  bool found = false;
  for (const auto& [name, value] : transport->requests[0].headers) found |= name == "If-Match" && value == "W/\"1\"";
  EXPECT_TRUE(found);
}

TEST_F(ClientPipeline, PollsAzureAsyncOperationThenGetsTheResource) {
  const std::string status = "https://arm.test/subscriptions/s/providers/Microsoft.NetApp/locations/eastus/operationResults/1";
  transport->push(response(201, {{"properties", {{"provisioningState", "Creating"}}}},
                           {{"azure-asyncoperation", status}, {"retry-after", "3"}}));
  auto started = client->put("provider", kAccount, {{"location", "eastus"}}).get();
  ASSERT_TRUE(started) << started.error().str();
  ASSERT_TRUE(started->operation);
  EXPECT_EQ(started->operation->kind, OperationKind::AzureAsyncOperation);
  EXPECT_NE(metricsText().find("anf_cmk_lro_in_flight 1"), std::string::npos);

  // A restarted operator only has the stored JSON.
  auto stored = OperationState::fromJson(nlohmann::json::parse(started->operation->toJson().dump())).value();
  transport->push(response(200, {{"status", "InProgress"}}, {{"retry-after", "3"}}));
  auto step = client->pollOperation(stored).get();
  EXPECT_EQ(step.state, PollResult::State::InProgress);
  EXPECT_EQ(step.retryAfter, 3s);

  transport->push(response(200, {{"status", "Succeeded"}}));
  transport->push(response(200, {{"name", "acct"}, {"properties", {{"provisioningState", "Succeeded"}}}}));
  auto done = client->pollOperation(step.operation).get();
  ASSERT_EQ(done.state, PollResult::State::Succeeded);
  EXPECT_EQ(done.body["name"], "acct");
  EXPECT_EQ(transport->requests.back().url, "https://arm.test" + kAccount.str() + "?api-version=2025-06-01");
  EXPECT_NE(metricsText().find("anf_cmk_lro_in_flight 0"), std::string::npos);
}

// ANF answers a PUT with both headers; its Location URL ends with the resource, so no GET follows the last poll.
TEST_F(ClientPipeline, APutWithBothHeadersPollsTheLocationAndTakesTheResourceFromIt) {
  const std::string url = "https://arm.test/subscriptions/s/providers/Microsoft.NetApp/locations/eastus/operationResults/5";
  transport->push(response(201, {{"properties", {{"provisioningState", "Creating"}}}},
                           {{"azure-asyncoperation", url}, {"location", url + "&operationResultResponseType=Location"}}));
  auto started = client->put("provider", kAccount, {{"location", "eastus"}}).get();
  ASSERT_TRUE(started && started->operation);
  EXPECT_EQ(started->operation->kind, OperationKind::Location);
  transport->push(response(200, {{"name", "acct"}, {"properties", {{"provisioningState", "Succeeded"}}}}));
  auto done = client->pollOperation(*started->operation).get();
  ASSERT_EQ(done.state, PollResult::State::Succeeded);
  EXPECT_EQ(done.body["name"], "acct");
  EXPECT_EQ(transport->requests.size(), 2u) << "the PUT and one poll";
}

// The engine asks before a reconcile writes; the write it then sends spends the token its admission took.
TEST_F(ClientPipeline, AnAdmittedWriteSpendsTheTokenItsAdmissionTook) {
  client = make({}, RateLimits{.writesPerSecond = 10, .writeBurst = 1});
  const std::string subscription = kAccount.subscriptionId();
  ASSERT_EQ(client->admitWrite(subscription, "NetAppAccount/acct"), 0ms);
  ASSERT_TRUE(client->put("provider", kAccount, nlohmann::json::object()).get());
  const auto next = client->admitWrite(subscription, "NetAppAccount/other");
  EXPECT_GT(next, 0ms);
  EXPECT_LE(next, 100ms) << "one token per admitted write: the next comes 1/10 s after the first";
}

TEST_F(ClientPipeline, AWriteIsNotRetriedOnceTheWriteGateCloses) {
  // A leader deposed while its PUT is being retried: the retry must not reach Azure; reads still go out.
  int asked = 0;
  client->gateWrites([&asked] { return ++asked == 1; });  // open for the first attempt only
  transport->push(response(503, armError("ServiceUnavailable"), {{"retry-after", "0"}}));
  auto result = client->put("provider", kAccount, nlohmann::json::object()).get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "WriteGateClosed");
  EXPECT_EQ(transport->requests.size(), 1u);
  transport->push(response(200, {{"name", "acct"}}));
  EXPECT_TRUE(client->get("provider", kAccount).get());
  EXPECT_EQ(transport->requests.size(), 2u);
}

TEST_F(ClientPipeline, AFailureAnsweredAtTheLocationEndsTheOperation) {
  OperationState state{.url = "https://arm.test/op/6", .kind = OperationKind::Location, .resourceId = kAccount.str(),
                       .method = "PUT", .credential = "provider"};
  transport->push(response(400, armError("KeyVaultKeyNotFound", "The key was not found")));
  auto failed = client->pollOperation(state).get();
  ASSERT_EQ(failed.state, PollResult::State::Failed);
  EXPECT_EQ(failed.error->code, "KeyVaultKeyNotFound");
}

TEST_F(ClientPipeline, ReportsTheOperationsOwnError) {
  transport->push(response(202, nullptr, {{"azure-asyncoperation", "https://arm.test/op/2"}}));
  auto started = client->remove("provider", kAccount).get();
  ASSERT_TRUE(started && started->operation);
  transport->push(response(200, {{"status", "Failed"}, {"error", {{"code", "KeyVaultKeyNotFound"}, {"message", "The key was not found"}}}}));
  auto failed = client->pollOperation(*started->operation).get();
  ASSERT_EQ(failed.state, PollResult::State::Failed);
  EXPECT_EQ(failed.error->code, "KeyVaultKeyNotFound");
  EXPECT_EQ(failed.error->message, "The key was not found");
}

TEST_F(ClientPipeline, TransientPollFailureIsNotOperationFailure) {
  OperationState state{.url = "https://arm.test/op/3", .kind = OperationKind::AzureAsyncOperation,
                       .resourceId = kAccount.str(), .method = "PUT", .credential = "provider"};
  for (int i = 0; i < 4; ++i) transport->push(response(503, armError("ServiceUnavailable"), {{"retry-after", "0"}}));
  auto step = client->pollOperation(state).get();
  EXPECT_EQ(step.state, PollResult::State::InProgress);
}

TEST_F(ClientPipeline, PollsLocationUntilTheFinalResponse) {
  transport->push(response(202, nullptr, {{"location", "https://arm.test/op/4"}, {"retry-after", "0"}}));
  auto started = client->remove("provider", kAccount).get();
  ASSERT_TRUE(started && started->operation);
  EXPECT_EQ(started->operation->kind, OperationKind::Location);
  transport->push(response(202, nullptr, {{"retry-after", "0"}}));
  transport->push(response(204));
  auto done = client->waitForOperation(*started->operation, 5s).get();
  EXPECT_EQ(done.state, PollResult::State::Succeeded);
  EXPECT_EQ(transport->requests.size(), 3u);
}

TEST_F(ClientPipeline, PutWithNonTerminalProvisioningStatePollsTheResource) {
  transport->push(response(201, {{"properties", {{"provisioningState", "Creating"}}}}));
  auto started = client->put("provider", kAccount, nlohmann::json::object()).get();
  ASSERT_TRUE(started && started->operation);
  EXPECT_EQ(started->operation->kind, OperationKind::ProvisioningState);
  transport->push(response(200, {{"properties", {{"provisioningState", "Succeeded"}}}}));
  auto done = client->pollOperation(*started->operation).get();
  EXPECT_EQ(done.state, PollResult::State::Succeeded);
}

TEST_F(ClientPipeline, GraphCallsUseTheGraphAudienceAndFilters) {
  transport->push(response(200, {{"value", {{{"id", "obj"}, {"appId", "app"}}}}}));
  auto app = client->findApplicationByAppId("provider", "app").get();
  ASSERT_TRUE(app) << app.error().str();
  ASSERT_TRUE(app->has_value());
  EXPECT_EQ((**app)["id"], "obj");
  EXPECT_EQ(transport->requests[0].url, "https://graph.test/v1.0/applications?$filter=appId%20eq%20%27app%27");
  EXPECT_NE(transport->tokenBodies.back().find("graph.microsoft.com"), std::string::npos);

  transport->push(response(200, {{"value", nlohmann::json::array()}}));
  auto none = client->findServicePrincipalByAppId("provider", "app").get();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  transport->push(response(503, armError("ServiceUnavailable")));
  auto created = client->createApplication("provider", "anf-cmk").get();
  EXPECT_FALSE(created) << "creating an application is not resent blindly";
}

TEST_F(ClientPipeline, UnknownCredentialIsAnError) {
  auto result = client->get("nobody", kAccount).get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "UnknownCredential");
}

TEST_F(ClientPipeline, DebugLogsNameRequestsButNoSecrets) {
  transport->push(response(403, armError("AuthorizationFailed", "secret pipeline-test-secret-value leaked by server")));
  (void)client->get("provider", kAccount).get();
  logger->flush();
  auto logs = logStream->str();
  EXPECT_NE(logs.find("GET " + kAccount.str()), std::string::npos) << logs;
  EXPECT_NE(logs.find("-> 403"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("pipeline-test-secret-value"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("eyJ0eXAi"), std::string::npos) << logs;
}

TEST_F(ClientPipeline, CountsRequestsByMethodTypeAndCode) {
  transport->push(response(404, armError("ResourceNotFound")));
  (void)client->get("provider", kAccount).get();
  auto text = metricsText();
  EXPECT_NE(text.find(R"(anf_cmk_arm_requests_total{code="404",method="GET",resource_type="Microsoft.NetApp/netAppAccounts"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("anf_cmk_arm_request_duration_seconds_count"), std::string::npos);
}

TEST(ManagedIdentity, UsesImdsOrTheAppServiceEndpoint) {
  struct Case {
    CredentialConfig credential;
    std::string urlPrefix;
    std::pair<std::string, std::string> header;
  };
  std::vector<Case> cases{
      {{.name = "mi", .kind = CredentialKind::ManagedIdentity, .clientId = "uami-client"},
       "https://imds.test/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F&client_id=uami-client",
       {"Metadata", "true"}},
      {{.name = "mi", .kind = CredentialKind::ManagedIdentity, .identityEndpoint = "https://appsvc.test/msi/token",
        .identityHeader = "identity-header-secret"},
       "https://appsvc.test/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fmanagement.azure.com%2F",
       {"X-IDENTITY-HEADER", "identity-header-secret"}}};
  for (const auto& c : cases) {
    struct Recorder final : Transport {
      pplx::task<TransportResult> send(HttpRequest request) override {
        requests.push_back(request);
        return pplx::task_from_result(TransportResult(response(200, {{"access_token", "tok-abcdef"}, {"expires_in", "3600"}})));
      }
      std::vector<HttpRequest> requests;
    };
    auto recorder = std::make_shared<Recorder>();
    AzureConfig config;
    config.imdsEndpoint = "https://imds.test/";
    config.credentials.push_back(c.credential);
    auto client = makeAzureClient(config, {.transport = recorder}).value();
    ASSERT_TRUE(client->checkCredential("mi").get());
    ASSERT_EQ(recorder->requests.size(), 1u);
    EXPECT_EQ(recorder->requests[0].url, c.urlPrefix);
    EXPECT_NE(std::ranges::find(recorder->requests[0].headers, c.header), recorder->requests[0].headers.end());
  }
}

TEST(MakeAzureClient, RejectsUnusableConfiguration) {
  AzureConfig custom;
  custom.cloud = Cloud::Custom;
  EXPECT_FALSE(makeAzureClient(custom)) << "Custom needs endpoints";

  AzureConfig inline_;
  inline_.credentials.push_back({.name = "p", .tenantId = "t", .kind = CredentialKind::ClientSecret, .clientId = "c"});
  auto noSecret = makeAzureClient(inline_);
  ASSERT_FALSE(noSecret);
  EXPECT_NE(noSecret.error().message.find("secretFile or secretEnv"), std::string::npos);

  AzureConfig duplicate;
  duplicate.credentials.push_back({.name = "p", .kind = CredentialKind::ManagedIdentity});
  duplicate.credentials.push_back({.name = "p", .kind = CredentialKind::ManagedIdentity});
  EXPECT_FALSE(makeAzureClient(duplicate));

  AzureConfig badCa;
  badCa.caFile = "/nonexistent/ca.pem";
  EXPECT_FALSE(makeAzureClient(badCa));
}

}  // namespace
}  // namespace anf::azure
