// libFuzzer target: the client's decoding of what ARM, Entra and Graph send back, through the real client
// (makeAzureClient) over a scripted transport that answers from the input. Covers error envelopes
// (errorFromResponse), long-running operations (detection on 201/202, Azure-AsyncOperation, Location and
// provisioningState polls, the final GET), lists that follow nextLink / @odata.nextLink, Graph lookups,
// token responses, and stored operation states (OperationState::fromJson). No crash, hang, leak or exception.
//
// Input (text, so that seeds are readable):
//   line 1: the call: get | list | put | post | delete | poll-async | poll-location | poll-state |
//           graph-list | graph-find | token | state
//   then responses separated by a line "~~~": "<status>\n<name: value>...\n\n<body>"
//   (token and state decode the first response's body alone).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "azure/client.h"
#include "azure/credentials.h"
#include "azure/operation.h"
#include "azure/transport.h"
#include "tests/reliability/fuzz/http_text.h"

namespace {

using namespace anf::azure;
using Json = nlohmann::json;

const char* const kAccount =
    "/subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/providers/Microsoft.NetApp/"
    "netAppAccounts/acct";

HttpResponse parseResponse(std::string_view text) {
  auto message = anf::fuzz::parseHttpText(text);
  HttpResponse response{.status = std::atoi(message.firstLine.c_str()), .body = std::move(message.body)};
  // Azure's remaining-requests headers pause the client's buckets for real time: not decoding, and a hang here.
  for (auto& [name, value] : message.headers)
    if (!name.starts_with("x-ms-ratelimit-remaining")) response.headers[name] = std::move(value);
  return response;
}

/// Tokens come from a fixed answer; every other request gets the next scripted response (404 when none is left).
class InputTransport final : public Transport {
 public:
  pplx::task<TransportResult> send(HttpRequest request) override {
    std::lock_guard lock(mutex_);
    if (request.url.find("/oauth2/v2.0/token") != std::string::npos)
      return pplx::task_from_result(TransportResult(parseResponse(
          "200\n\n{\"access_token\":\"eyJ0eXAiOiJKV1QifQ.eyJuIjoiMSJ9.sig\",\"expires_in\":3600}")));
    if (script_.empty()) return pplx::task_from_result(TransportResult(parseResponse("404\n\n")));
    auto next = std::move(script_.front());
    script_.pop_front();
    return pplx::task_from_result(TransportResult(std::move(next)));
  }
  void reset(std::deque<HttpResponse> script) {
    std::lock_guard lock(mutex_);
    script_ = std::move(script);
  }

 private:
  std::mutex mutex_;
  std::deque<HttpResponse> script_;
};

struct Harness {
  std::shared_ptr<InputTransport> transport = std::make_shared<InputTransport>();
  AzureClientPtr client;

  Harness() {
    setenv("ANF_FUZZ_CLIENT_SECRET", "fuzz-secret-value", 1);
    AzureConfig config;
    config.cloud = Cloud::Custom;
    config.endpoints = {.resourceManager = "https://arm.test", .authority = "https://login.test/", .graph = "https://graph.test"};
    config.credentials.push_back({.name = "provider",
                                  .tenantId = "10000000-0000-4000-8000-000000000001",
                                  .kind = CredentialKind::ClientSecret,
                                  .clientId = "10000000-0000-4000-8000-00000000c001",
                                  .secretEnv = "ANF_FUZZ_CLIENT_SECRET"});
    // One attempt, no waiting: the target is the decoding, not the retry timing.
    config.retry = {.maxAttempts = 1, .baseDelay = std::chrono::milliseconds(0), .maxDelay = std::chrono::milliseconds(0),
                    .maxTotal = std::chrono::milliseconds(0), .defaultPollInterval = std::chrono::milliseconds(0)};
    config.rateLimits.readsPerSecond = config.rateLimits.writesPerSecond = 1e12;
    config.rateLimits.readBurst = config.rateLimits.writeBurst = 1e12;
    auto logger = std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
    client = std::move(makeAzureClient(config, {.logger = logger, .transport = transport}).value());
  }
};

OperationState operationOf(OperationKind kind, std::string method) {
  OperationState state;
  state.url = "https://arm.test/subscriptions/10000000-0000-4000-8000-0000000000a1/providers/Microsoft.NetApp/"
              "locations/eastus/operationResults/op1?api-version=2025-06-01";
  state.kind = kind;
  state.resourceId = kAccount;
  state.method = std::move(method);
  state.location = state.url;
  state.credential = "provider";
  return state;
}

void call(Harness& harness, std::string_view op, const std::string& firstBody) {
  auto& client = *harness.client;
  auto account = ResourceId::parse(kAccount).value();
  if (op == "get") (void)client.get("provider", account).get();
  else if (op == "list") (void)client.list("provider", account, "capacityPools").get();
  else if (op == "put") (void)client.put("provider", account, Json{{"location", "eastus"}}).get();
  else if (op == "post") (void)client.post("provider", account, "renewCredentials").get();
  else if (op == "delete") (void)client.remove("provider", account).get();
  else if (op == "poll-async") (void)client.pollOperation(operationOf(OperationKind::AzureAsyncOperation, "PUT")).get();
  else if (op == "poll-location") (void)client.pollOperation(operationOf(OperationKind::Location, "POST")).get();
  else if (op == "poll-state") (void)client.pollOperation(operationOf(OperationKind::ProvisioningState, "PATCH")).get();
  else if (op == "graph-list") (void)client.listApplications("provider", "displayName eq 'x'").get();
  else if (op == "graph-find") (void)client.findApplicationByAppId("provider", "10000000-0000-4000-8000-00000000c001").get();
  else if (op == "token") (void)parseTokenResponse(firstBody, std::chrono::system_clock::now());
  else if (op == "state") {
    auto json = Json::parse(firstBody, nullptr, false);
    if (!json.is_discarded()) (void)OperationState::fromJson(json);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness harness;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto newline = text.find('\n');
  auto op = text.substr(0, newline);
  text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  std::deque<HttpResponse> script;
  constexpr std::string_view kSeparator = "\n~~~\n";
  while (!text.empty() && script.size() < 16) {
    auto end = text.find(kSeparator);
    script.push_back(parseResponse(text.substr(0, end)));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + kSeparator.size());
  }
  std::string firstBody = script.empty() ? "" : script.front().body;
  harness.transport->reset(std::move(script));
  call(harness, op, firstBody);
  return 0;
}
