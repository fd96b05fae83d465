#include "emulator/service.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "emulator/log.h"
#include "emulator/providers/arm.h"

namespace anf::emulator {
namespace {

constexpr std::size_t kRequestLogLimit = 200000;
/// Finished operations kept in the --state file (the running ones are always kept).
constexpr std::size_t kPersistedFinishedOperations = 100;

bool isMutating(const std::string& method) { return method != "GET" && method != "HEAD" && method != "OPTIONS"; }

std::string faultCode(int status) {
  switch (status) {
    case 429: return "TooManyRequests";
    case 500: return "InternalServerError";
    case 502: return "BadGateway";
    case 503: return "ServiceUnavailable";
    case 504: return "GatewayTimeout";
    default: return "InjectedFault";
  }
}

std::string faultMessage(int status) {
  switch (status) {
    case 429: return "The request is being throttled.";
    case 503: return "The service is temporarily unavailable. Please try again later.";
    case 500: return "The server encountered an internal error. Please retry the request.";
    default: return "The emulator injected this fault.";
  }
}

/// The headers of a request worth replaying after a restart: not its token, nor the conditions it already met.
std::map<std::string, std::string> replayableHeaders(std::map<std::string, std::string> headers) {
  for (const char* name : {"authorization", "if-match", "if-none-match"}) headers.erase(name);
  return headers;
}

}  // namespace

std::shared_ptr<spdlog::logger> emulatorLog() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto existing = spdlog::get("emulator");
    return existing ? existing : spdlog::stderr_color_mt("emulator");
  }();
  return logger;
}

HttpResponse toHttp(const Response& response) {
  HttpResponse http;
  http.status = response.status;
  http.headers = response.headers;
  if (!response.body.is_null()) {
    // Names echoed from a percent-decoded path may be invalid UTF-8: replaced (U+FFFD), not thrown.
    http.body = response.body.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (!http.headers.contains("Content-Type")) http.headers["Content-Type"] = "application/json; charset=utf-8";
  }
  return http;
}

Service::Service(const Options& options) : options_(options), limits_(options.throttle) {
  world_.lroDuration = options.lroDuration;
  world_.featureRegistrationDelay = options.featureRegistrationDelay;
  if (options.faultSeed) random_.seed(*options.faultSeed);
}

Service::~Service() = default;

std::expected<std::unique_ptr<Service>, std::string> Service::create(const Options& options) {
  std::unique_ptr<Service> service(new Service(options));
  service->providers_.push_back(makeResourcesProvider());
  service->providers_.push_back(makeNetAppProvider());
  service->providers_.push_back(makeKeyVaultProvider());
  service->providers_.push_back(makeNetworkProvider());
  service->providers_.push_back(makeManagedIdentityProvider());
  service->providers_.push_back(makeAuthorizationProvider());
  service->providers_.push_back(makeFeaturesProvider());
  std::erase(service->providers_, nullptr);

  std::error_code ignored;
  if (!options.stateFile.empty() && std::filesystem::file_size(options.stateFile, ignored) > 0 && !ignored) {
    std::ifstream in(options.stateFile);
    Json state = Json::parse(in, nullptr, false);
    if (state.is_discarded()) return std::unexpected("--state " + options.stateFile + " is not valid JSON");
    if (auto loaded = service->loadState(state); !loaded) return std::unexpected(loaded.error());
    emulatorLog()->info("loaded the world from {}", options.stateFile);
  } else {
    auto signer = JwtSigner::create();
    if (!signer) return std::unexpected(signer.error());
    service->signer_ = std::move(*signer);
    auto seeded = options.worldFile.empty() ? service->seedDefaultWorld() : service->seedFromYaml(options.worldFile);
    if (!seeded) return std::unexpected(seeded.error());
  }
  // The command line's durations win over the world file's and the state's.
  for (const auto& [kind, duration] : options.operationDurations) service->world_.operationDurations[kind] = duration;
  service->world_.serialVolumeCreation = service->world_.serialVolumeCreation || options.serialVolumeCreation;
  if (options.clockOffset != std::chrono::seconds(0)) service->world_.clock.advance(options.clockOffset - service->world_.clock.offset());
  if (!options.insecureHttp) {
    auto certificates = makeCertificates(service->certificates_.caKeyPem, service->certificates_.caCertPem);
    if (!certificates) return std::unexpected(certificates.error());
    service->certificates_ = std::move(*certificates);
  }
  std::lock_guard lock(service->mutex_);
  service->saveState();
  return service;
}

void Service::setBaseUrl(const std::string& baseUrl) {
  std::lock_guard lock(mutex_);
  baseUrl_ = baseUrl;
}

Endpoints Service::endpoints() const {
  std::lock_guard lock(mutex_);
  return {.resourceManager = baseUrl_, .authority = baseUrl_, .graph = baseUrl_, .caFile = "",
          .workloadIdentityIssuer = workloadIdentityIssuer(), .tenants = world_.tenants};
}

HttpResponse Service::handle(const HttpRequest& http) {
  auto started = std::chrono::steady_clock::now();
  auto question = http.target.find('?');
  std::string path = percentDecode(http.target.substr(0, question));
  auto query = question == std::string::npos ? std::map<std::string, std::string>{}
                                             : parseQuery(http.target.substr(question + 1), true);
  std::string method = http.method;
  std::ranges::transform(method, method.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });

  std::lock_guard lock(mutex_);
  bool completed = runDueOperations();
  bool control = path == "/_emulator" || path.starts_with("/_emulator/");
  bool entra = !control && isEntraPath(path);
  HttpResponse response;
  std::string tenantForLog;
  if (control) {
    response = handleControl(method, path, http);
  } else {
    auto fault = pickFault(method, path, entra);
    response = fault.response ? *fault.response : route(method, path, query, http, tenantForLog);
    response.delay = fault.latency;
  }
  completed = runDueOperations() || completed;

  std::string requestId = world_.newGuid();
  if (!response.headers.contains("x-ms-request-id")) response.headers["x-ms-request-id"] = requestId;
  auto correlation = http.headers.find("x-ms-correlation-request-id");
  response.headers["x-ms-correlation-request-id"] = correlation != http.headers.end() ? correlation->second : requestId;
  if (auto client = http.headers.find("x-ms-client-request-id"); client != http.headers.end()) {
    response.headers["x-ms-client-request-id"] = client->second;
  }
  if (completed || dirty_ || (!control && !entra && isMutating(method))) saveState();
  dirty_ = false;

  double durationMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count() +
                      static_cast<double>(response.delay.count());
  int status = response.drop ? 0 : response.status;
  if (control) {
    emulatorLog()->debug("{} {} {} {:.1f}ms", method, path, status, durationMs);
    return response;
  }
  if (requestLog_.size() >= kRequestLogLimit) requestLog_.erase(requestLog_.begin(), requestLog_.begin() + kRequestLogLimit / 2);
  auto apiVersion = query.find("api-version");
  requestLog_.push_back({.time = iso8601(std::chrono::system_clock::now()), .method = method, .path = path,
                         .apiVersion = apiVersion == query.end() ? "" : apiVersion->second, .status = status,
                         .durationMs = durationMs, .tenantId = tenantForLog});
  if (response.drop) {
    emulatorLog()->info("{} {} dropped {:.1f}ms", method, path, durationMs);
  } else {
    emulatorLog()->info("{} {} {} {:.1f}ms", method, path, status, durationMs);
  }
  return response;
}

HttpResponse Service::route(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                            const HttpRequest& http, std::string& tenantForLog) {
  if (isEntraPath(path)) return handleEntra(method, path, query, http, tenantForLog);
  if (path == "/v1.0" || path.starts_with("/v1.0/") || path.starts_with("/v1.0(")) {
    return handleGraph(method, path, query, http, tenantForLog);
  }
  // ARM takes runs of slashes as one: SDKs whose path template is "/{scope}/providers/..." send
  // "//subscriptions/..." for a scope written, as their docs write it, with its leading slash.
  std::string armPath;
  for (char c : path) {
    if (c != '/' || !armPath.ends_with('/')) armPath += c;
  }
  std::string lowered = toLower(armPath);
  if (lowered.starts_with("/subscriptions") || lowered.starts_with("/providers/") || lowered == "/tenants") {
    return handleArm(method, armPath, query, http, tenantForLog);
  }
  return toHttp(Response::error(404, "NotFound", "The emulator serves no resource at '" + path + "'."));
}

Service::FaultOutcome Service::pickFault(const std::string& method, const std::string& path, bool entraPath) {
  FaultOutcome outcome;
  std::uniform_real_distribution<double> chance(0.0, 1.0);
  for (const auto& rule : faults_) {
    if (entraPath && rule.pathPattern.empty()) continue;  // the token endpoint only when a pattern names it
    if (!rule.method.empty() && !equalsNoCase(rule.method, method)) continue;
    if (rule.pattern && !std::regex_search(path, *rule.pattern)) continue;
    if (chance(random_) >= rule.rate) continue;
    outcome.latency += std::chrono::milliseconds(rule.latencyMs);
    if (rule.drop) {
      HttpResponse dropped;
      dropped.drop = true;
      outcome.response = dropped;
      break;
    }
    if (rule.status != 0) {
      HttpResponse faulted = toHttp(Response::error(rule.status, faultCode(rule.status), faultMessage(rule.status)));
      if (rule.retryAfter >= 0) faulted.headers["Retry-After"] = std::to_string(rule.retryAfter);
      outcome.response = faulted;
      break;
    }
  }
  return outcome;
}

Json Service::stateJson() const {
  Json issuers = Json::array();
  for (const auto& issuer : externalIssuers_) issuers.push_back({{"issuer", issuer.issuer}, {"publicKeyPem", issuer.publicKeyPem}});
  return {{"version", 1},
          {"world", world_.toJson()},
          {"operations", operationsJson()},
          {"emulator",
           {{"caKeyPem", certificates_.caKeyPem},
            {"caCertPem", certificates_.caCertPem},
            {"signingKeyPem", signer_ ? signer_->privateKeyPem() : ""},
            {"externalIssuers", issuers}}}};
}

void Service::saveState() {
  if (options_.stateFile.empty()) return;
  std::string temporary = options_.stateFile + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << stateJson().dump(-1, ' ', false, Json::error_handler_t::replace);
    if (!out) {
      emulatorLog()->error("cannot write the state to {}", temporary);
      return;
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, options_.stateFile, error);
  if (error) emulatorLog()->error("cannot replace {}: {}", options_.stateFile, error.message());
}

std::expected<void, std::string> Service::loadState(const Json& state) {
  if (!state.contains("world")) return std::unexpected("the state file has no world");
  world_.loadJson(state["world"]);
  const Json& emulator = state.value("emulator", Json::object());
  auto signer = JwtSigner::create(emulator.value("signingKeyPem", ""));
  if (!signer) return std::unexpected(signer.error());
  signer_ = std::move(*signer);
  certificates_.caKeyPem = emulator.value("caKeyPem", "");
  certificates_.caCertPem = emulator.value("caCertPem", "");
  for (const auto& issuer : emulator.value("externalIssuers", Json::array())) {
    externalIssuers_.push_back({issuer.value("issuer", ""), issuer.value("publicKeyPem", "")});
  }
  loadOperations(state.value("operations", Json::array()));
  return {};
}

bool Service::replayOperation(Operation& operation) {
  if (operation.request.method.empty()) return false;
  Json before = world_.toJson();
  std::size_t known = operationOrder_.size();
  try {
    dispatchArm(operation.request, true);
  } catch (const std::exception& error) {
    emulatorLog()->warn("replaying {} {} threw: {}", operation.request.method, operation.request.path, error.what());
  }
  std::optional<LongRunningOperation> replayed;
  for (std::size_t i = known; i < operationOrder_.size(); ++i) {
    auto started = operations_.find(operationOrder_[i]);
    if (!replayed && started != operations_.end()) replayed = std::move(started->second.spec);
    operations_.erase(operationOrder_[i]);
  }
  operationOrder_.resize(known);
  world_.loadJson(before);
  if (!replayed || !replayed->complete) return false;
  operation.spec.complete = std::move(replayed->complete);
  operation.spec.finalBody = std::move(replayed->finalBody);
  return true;
}

Json Service::operationsJson() const {
  using Poll = LongRunningOperation::Poll;
  std::size_t finished = 0;
  for (const auto& key : operationOrder_) finished += operations_.at(key).state != Operation::State::InProgress;
  Json out = Json::array();
  for (const auto& key : operationOrder_) {
    const Operation& operation = operations_.at(key);
    bool running = operation.state == Operation::State::InProgress;
    if (!running && finished-- > kPersistedFinishedOperations) continue;
    const LongRunningOperation& spec = operation.spec;
    out.push_back({{"name", operation.name},
                   {"request",
                    {{"method", operation.request.method},
                     {"path", operation.request.path},
                     {"query", operation.request.query},
                     {"headers", replayableHeaders(operation.request.headers)},
                     {"body", operation.request.body},
                     {"caller",
                      {{"tenantId", operation.request.caller.tenantId},
                       {"objectId", operation.request.caller.objectId},
                       {"appId", operation.request.caller.appId}}}}},
                   {"apiVersion", operation.apiVersion},
                   {"dueUnixMs", std::chrono::duration_cast<std::chrono::milliseconds>(operation.due.time_since_epoch()).count()},
                   {"startTime", operation.startTime},
                   {"endTime", operation.endTime},
                   {"state", running ? "InProgress" : operation.state == Operation::State::Succeeded ? "Succeeded" : "Failed"},
                   {"error", operation.error},
                   {"finalBody", operation.finalBody},
                   {"subscriptionId", spec.subscriptionId},
                   {"providerNamespace", spec.providerNamespace},
                   {"location", spec.location},
                   {"resourceId", spec.resourceId},
                   {"poll", spec.poll == Poll::Location ? "Location" : spec.poll == Poll::Both ? "Both" : "AzureAsyncOperation"},
                   {"initialStatus", spec.initialStatus},
                   {"finalStatus", spec.finalStatus},
                   {"hasFinalBody", static_cast<bool>(spec.finalBody)}});
  }
  return out;
}

void Service::loadOperations(const Json& operations) {
  using Poll = LongRunningOperation::Poll;
  std::vector<Operation> loaded;
  std::vector<std::string> order;
  std::vector<std::string> withFinalBody;  // lower-cased names of operations whose Location URL answers a body
  for (const auto& item : operations) {
    if (!item.is_object() || item.value("name", "").empty()) continue;
    order.push_back(toLower(item.value("name", "")));
    Operation operation;
    operation.name = item.value("name", "");
    const Json& request = item.value("request", Json::object());
    operation.request.method = request.value("method", "");
    operation.request.path = request.value("path", "");
    operation.request.query = request.value("query", std::map<std::string, std::string>{});
    operation.request.body = request.value("body", Json());
    operation.request.headers = request.value("headers", std::map<std::string, std::string>{});
    const Json& caller = request.value("caller", Json::object());
    operation.request.caller = {caller.value("tenantId", ""), caller.value("objectId", ""), caller.value("appId", "")};
    operation.apiVersion = item.value("apiVersion", "");
    operation.due = std::chrono::system_clock::time_point(std::chrono::milliseconds(item.value("dueUnixMs", std::int64_t{0})));
    operation.startTime = item.value("startTime", "");
    operation.endTime = item.value("endTime", "");
    std::string state = item.value("state", "InProgress");
    operation.state = state == "Succeeded" ? Operation::State::Succeeded : state == "Failed" ? Operation::State::Failed : Operation::State::InProgress;
    operation.error = item.value("error", Json());
    operation.finalBody = item.value("finalBody", Json());
    LongRunningOperation& spec = operation.spec;
    spec.subscriptionId = item.value("subscriptionId", "");
    spec.providerNamespace = item.value("providerNamespace", "");
    spec.location = item.value("location", "eastus");
    spec.resourceId = item.value("resourceId", "");
    std::string poll = item.value("poll", "AzureAsyncOperation");
    spec.poll = poll == "Location" ? Poll::Location : poll == "Both" ? Poll::Both : Poll::AzureAsyncOperation;
    spec.initialStatus = item.value("initialStatus", 201);
    spec.finalStatus = item.value("finalStatus", 200);
    if (item.value("hasFinalBody", false)) withFinalBody.push_back(toLower(operation.name));
    loaded.push_back(std::move(operation));
  }
  // The finished ones first, so that replays see no running operation but their own.
  for (auto& operation : loaded) {
    if (operation.state != Operation::State::InProgress) operations_.emplace(toLower(operation.name), std::move(operation));
  }
  for (auto& operation : loaded) {
    if (operation.name.empty() || operations_.contains(toLower(operation.name))) continue;
    LongRunningOperation& spec = operation.spec;
    if (!replayOperation(operation) && !spec.resourceId.empty()) {
      // The provider's closures are gone with the process that made them: complete the generic way.
      std::string id = spec.resourceId;
      if (operation.request.method == "DELETE") {
        spec.complete = [id](World& world) -> std::optional<Json> {
          std::vector<std::string> doomed{id};
          for (Json* below : world.withPrefix(id + "/")) doomed.push_back(below->value("id", ""));
          for (const auto& gone : doomed) world.erase(gone);
          return std::nullopt;
        };
      } else {
        spec.complete = [id](World& world) -> std::optional<Json> {
          Json* resource = world.find(id);
          if (resource == nullptr) return std::nullopt;
          std::string current = arm::stringAt(*resource, "/properties/provisioningState");
          if (!current.empty() && current != "Succeeded" && current != "Failed" && current != "Canceled") {
            (*resource)["properties"]["provisioningState"] = "Succeeded";
            if (resource->contains("etag")) (*resource)["etag"] = world.newEtag();
          }
          return std::nullopt;
        };
      }
      if (std::ranges::find(withFinalBody, toLower(operation.name)) != withFinalBody.end()) {
        spec.finalBody = [id](World& world) -> Json {
          Json* resource = world.find(id);
          return resource ? arm::publicView(*resource) : Json();
        };
      }
    }
    operations_.emplace(toLower(operation.name), std::move(operation));
  }
  for (const auto& name : order) {
    if (operations_.contains(name) && std::ranges::find(operationOrder_, name) == operationOrder_.end()) operationOrder_.push_back(name);
  }
}

}  // namespace anf::emulator
