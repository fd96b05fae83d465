#include "azure/client.h"

#include <algorithm>
#include <random>
#include <set>

#include <spdlog/spdlog.h>

#include "azure/api_versions.h"
#include "azure/backoff.h"
#include "azure/credentials.h"
#include "azure/metrics.h"
#include "azure/redact.h"
#include "azure/scheduler.h"
#include "azure/in_flight.h"
#include "azure/token_bucket.h"
#include "azure/transport.h"

namespace anf::azure {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kMaxPages = 1000;  // a nextLink loop is a server bug, not a reason to spin forever

/// One HTTP exchange as the pipeline sees it.
struct Call {
  std::string method;
  std::string url;
  std::optional<std::string> body;
  std::string contentType = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string credential;            // empty: no bearer token (token endpoints)
  std::optional<Audience> audience;  // set with credential
  std::string throttleKey;           // subscription (ARM), "graph:<cred>"; empty: not throttled
  bool write = false;
  bool idempotent = true;
  bool afterGrant = false;
  bool admitted = false;     // a write whose bucket token admitWrite() took: its first attempt reserves none
  std::string resourceType;  // metrics label; empty: not an ARM/Graph call (not counted)
};
using CallPtr = std::shared_ptr<Call>;

/// The write this thread was admitted for (AzureClient::admitWrite): the reconcile sends it on the same engine
/// worker thread right after asking, so its token goes with it and no other write can spend it. One not sent
/// soon (the reconcile ended without writing) lapses: its token is lost, never handed to a later write.
struct AdmittedWrite {
  std::string subscription;
  std::chrono::steady_clock::time_point at;
};
thread_local std::optional<AdmittedWrite> admittedWrite;
constexpr auto kAdmissionLifetime = std::chrono::seconds(5);

/// Takes this thread's admission when `call` is the write it was for.
bool takeAdmission(const Call& call) {
  if (!call.write || !admittedWrite) return false;
  const bool mine = admittedWrite->subscription == call.throttleKey &&
                    std::chrono::steady_clock::now() - admittedWrite->at < kAdmissionLifetime;
  admittedWrite.reset();
  return mine;
}

struct AttemptState {
  Steady::time_point start = Steady::now();
  int attempts = 0;
  bool tokenRetried = false;
};
using AttemptPtr = std::shared_ptr<AttemptState>;

std::string lower(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// The subscription in a URL path (poll URLs, nextLinks), or "".
std::string subscriptionOf(const std::string& url) {
  auto path = lower(pathAndQueryOf(url));
  auto pos = path.find("/subscriptions/");
  if (pos == std::string::npos) return "";
  auto start = pos + 15;
  auto end = path.find_first_of("/?", start);
  return path.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

/// The ARM resource type of a URL's path (for metrics), or "unknown".
std::string resourceTypeOfUrl(const std::string& url) {
  auto path = pathAndQueryOf(url);
  path = path.substr(0, path.find('?'));
  auto id = ResourceId::parse(path);
  return id ? id->resourceType() : "unknown";
}

bool isTerminalStatus(const std::string& status) {
  return equalsIgnoreCase(status, "Succeeded") || equalsIgnoreCase(status, "Failed") ||
         equalsIgnoreCase(status, "Canceled") || equalsIgnoreCase(status, "Cancelled");
}

std::string provisioningStateOf(const Json& body) {
  if (!body.is_object()) return "";
  auto props = body.find("properties");
  if (props == body.end() || !props->is_object()) return "";
  auto state = props->find("provisioningState");
  return state != props->end() && state->is_string() ? state->get<std::string>() : "";
}

Json parseBody(const std::string& body) {
  if (body.empty()) return nullptr;
  auto json = Json::parse(body, nullptr, false);
  return json.is_discarded() ? Json(body) : json;
}

template <typename T>
pplx::task<Expected<T>> failed(AzureError error) {
  return pplx::task_from_result(Expected<T>(std::unexpected(std::move(error))));
}

AzureError clientError(std::string code, std::string message) {
  AzureError error;
  error.code = std::move(code);
  error.message = std::move(message);
  return error;
}

class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(AzureConfig config, Endpoints endpoints, std::shared_ptr<Transport> transport, ClientDependencies deps)
      : config_(std::move(config)),
        endpoints_(std::move(endpoints)),
        transport_(std::move(transport)),
        throttle_(config_.rateLimits),
        inFlight_(config_.rateLimits.maxInFlight),
        metrics_(deps.registry),
        logger_(deps.logger ? deps.logger : spdlog::default_logger()),
        redactor_(std::make_shared<Redactor>()),
        random_(std::random_device{}()) {}

  /// Builds the token caches (needs weak_from_this, so not in the constructor).
  Expected<void> init() {
    std::weak_ptr<Core> weak = weak_from_this();
    TokenHttp http = [weak](HttpRequest request) -> pplx::task<TransportResult> {
      auto self = weak.lock();
      if (!self) return failed<HttpResponse>(clientError("ClientShutDown", "the Azure client was destroyed"));
      auto call = std::make_shared<Call>();
      call->method = request.method;
      call->url = std::move(request.url);
      call->body = std::move(request.body);
      call->contentType = request.contentType;
      call->headers = std::move(request.headers);
      return self->execute(call);
    };
    for (const auto& credential : config_.credentials) {
      if (credential.name.empty()) return std::unexpected(clientError("InvalidCredentialConfig", "a credential has no name"));
      if (caches_.contains(credential.name))
        return std::unexpected(clientError("InvalidCredentialConfig", "duplicate credential name '" + credential.name + "'"));
      auto source = makeTokenSource(credential, endpoints_, config_.imdsEndpoint, http, redactor_);
      if (!source) return std::unexpected(source.error());
      caches_[credential.name] = std::make_shared<TokenCache>(std::move(*source));
      names_.push_back(credential.name);
    }
    if (config_.insecureSkipTlsVerify)
      logger_->warn("azure: TLS certificate verification is OFF (insecure option set); do not use this against Azure");
    return {};
  }

  // --- the pipeline ---------------------------------------------------------------------------

  pplx::task<Expected<HttpResponse>> execute(CallPtr call) { return attempt(std::move(call), std::make_shared<AttemptState>()); }

  const AzureConfig& config() const { return config_; }
  const Endpoints& endpoints() const { return endpoints_; }
  Scheduler& scheduler() { return scheduler_; }
  OperationDurations& durations() { return durations_; }
  const std::vector<std::string>& names() const { return names_; }

  std::string audienceUri(Audience audience) const {
    return audience == Audience::Graph ? endpoints_.graphAudience : endpoints_.resourceManagerAudience;
  }

  pplx::task<Expected<AccessToken>> token(const std::string& credential, Audience audience) {
    auto it = caches_.find(credential);
    if (it == caches_.end())
      return failed<AccessToken>(clientError("UnknownCredential", "no credential named '" + credential + "' is configured"));
    return it->second->get(audienceUri(audience));
  }

  void gateWrites(std::function<bool()> mayWrite) {
    std::lock_guard lock(mutex_);
    writeGate_ = std::move(mayWrite);
  }

  bool writesAllowed() {
    std::function<bool()> gate;
    {
      std::lock_guard lock(mutex_);
      gate = writeGate_;
    }
    return !gate || gate();
  }

  milliseconds admitWrite(const std::string& subscription, const std::string& holder) {
    const auto key = lower(subscription);
    const auto now = Steady::now();
    const auto wait = throttle_.admitWrite(key, holder, now);
    if (wait > std::chrono::nanoseconds::zero()) return std::chrono::ceil<milliseconds>(wait);
    admittedWrite = AdmittedWrite{key, now};
    return milliseconds::zero();
  }

  void noteGrant(const std::string& principal) {
    std::lock_guard lock(mutex_);
    grants_[lower(principal)] = Steady::now();
  }

  // --- long-running operations in flight (for the gauge) -------------------------------------

  static std::string operationKey(const OperationState& state) {
    return lower(state.resourceId) + "|" + state.method + "|" + std::to_string(std::chrono::duration_cast<milliseconds>(state.startedAt.time_since_epoch()).count());
  }
  void trackOperation(const OperationState& state, bool inFlight) {
    std::lock_guard lock(mutex_);
    if (inFlight) {
      operations_.insert(operationKey(state));
    } else {
      operations_.erase(operationKey(state));
    }
    metrics_.setLroInFlight(static_cast<double>(operations_.size()));
  }

 private:
  // Token first, then a wire slot, then the bucket: the bucket's clock starts when the request can
  // really leave, so time spent fetching a token or queued behind busy connections is not counted as
  // pacing (that turned 500 paced reads into bursts Azure throttles).
  pplx::task<Expected<HttpResponse>> attempt(CallPtr call, AttemptPtr state) {
    auto self = shared_from_this();
    pplx::task<Expected<std::string>> bearer =
        !call->audience ? pplx::task_from_result(Expected<std::string>(std::string()))
                        : token(call->credential, *call->audience).then([](Expected<AccessToken> token) -> Expected<std::string> {
                            if (!token) return std::unexpected(token.error());
                            return token->token;
                          });
    return bearer.then([self, call, state](Expected<std::string> bearer) -> pplx::task<Expected<HttpResponse>> {
      if (!bearer) return failed<HttpResponse>(bearer.error());
      if (call->write && !self->writesAllowed())
        return failed<HttpResponse>(clientError("WriteGateClosed", "not sent: this replica may not write to Azure now"));
      if (call->throttleKey.empty()) return self->send(call, state, *bearer);
      return self->inFlight_.acquire(call->throttleKey)
          .then([self, call] {
            // An admitted write's token was taken by admitWrite(); a retry of it reserves its own.
            const bool admitted = std::exchange(call->admitted, false);
            return self->scheduler_.after(admitted ? std::chrono::nanoseconds::zero()
                                                   : self->throttle_.reserve(call->throttleKey, call->write, Steady::now()));
          })
          .then([self, call, state, bearer = *bearer] { return self->send(call, state, bearer); });
    });
  }

  pplx::task<Expected<HttpResponse>> send(CallPtr call, AttemptPtr state, const std::string& bearer) {
    HttpRequest request;
    request.method = call->method;
    request.url = call->url;
    request.headers = call->headers;
    if (!bearer.empty()) request.headers.emplace_back("Authorization", "Bearer " + bearer);
    request.body = call->body;
    request.contentType = call->contentType;
    ++state->attempts;
    auto started = Steady::now();
    auto self = shared_from_this();
    return transport_->send(std::move(request)).then([self, call, state, started, bearer](TransportResult result) {
      if (!call->throttleKey.empty()) self->inFlight_.release(call->throttleKey);
      return self->handle(call, state, started, bearer, std::move(result));
    });
  }

  pplx::task<Expected<HttpResponse>> handle(CallPtr call, AttemptPtr state, Steady::time_point started,
                                            const std::string& token, TransportResult result) {
    auto duration = Steady::now() - started;
    AzureError error;
    if (result) {
      const auto& response = *result;
      record(*call, *state, duration, std::to_string(response.status), response.header("x-ms-request-id"), nullptr);
      observeRateLimit(*call, response);
      if (response.status < 400) return pplx::task_from_result(Expected<HttpResponse>(std::move(*result)));
      auto requestId = response.header("x-ms-request-id");
      if (requestId.empty()) requestId = response.header("request-id");
      error = errorFromResponse(response.status, response.body, requestId, response.header("retry-after"));
      if (response.status == 429) metrics_.throttled();
      // Azure's clock says the token expired (or it was revoked): fetch a new one once, at once.
      if (response.status == 401 && call->audience && !state->tokenRetried &&
          (equalsIgnoreCase(error.code, "ExpiredAuthenticationToken") ||
           equalsIgnoreCase(error.code, "InvalidAuthenticationToken"))) {
        state->tokenRetried = true;
        --state->attempts;
        caches_.at(call->credential)->invalidate(audienceUri(*call->audience), token);
        return attempt(call, state);
      }
    } else {
      error = result.error();
      record(*call, *state, duration, error.code, "", &error);
    }
    if (result) record(*call, *state, duration, "", "", &error);

    ClassifyContext context{.grantPropagating = call->afterGrant || grantNoted(error.message)};
    error.retryable = classify(error, context) == ErrorClass::Retryable;
    // A non-idempotent request is resent only when it certainly did not reach Azure.
    bool mayResend = call->idempotent || error.transport == TransportFailure::ConnectFailed || error.httpStatus == 429;
    if (error.retryable && mayResend) {
      auto elapsed = std::chrono::duration_cast<milliseconds>(Steady::now() - state->start);
      auto delay = nextRetryDelay(config_.retry, state->attempts, elapsed, error.retryAfter, random01());
      if (delay) {
        if (logger_->should_log(spdlog::level::debug))
          logger_->debug("azure retry {} {} in {} ms after {} (attempt {})", call->method, safePath(call->url),
                         delay->count(), error.code, state->attempts);
        auto self = shared_from_this();
        return scheduler_.after(*delay).then([self, call, state] { return self->attempt(call, state); });
      }
    }
    return failed<HttpResponse>(std::move(error));
  }

  /// Metrics and the debug log line of one attempt. Called with a code for the metric and the
  /// request line, or (code empty) with an error for its details.
  void record(const Call& call, const AttemptState& state, Steady::duration duration, const std::string& code,
              const std::string& requestId, const AzureError* error) {
    if (!code.empty()) {
      if (!call.resourceType.empty())
        metrics_.request(call.method, call.resourceType, code, std::chrono::duration<double>(duration));
      if (logger_->should_log(spdlog::level::debug))
        logger_->debug("azure {} {} -> {} in {} ms x-ms-request-id={} attempt={}", call.method, safePath(call.url), code,
                       std::chrono::duration_cast<milliseconds>(duration).count(), requestId.empty() ? "-" : requestId,
                       state.attempts);
    }
    if (error && logger_->should_log(spdlog::level::debug))
      logger_->debug("azure {} {} error {}", call.method, safePath(call.url), redactor_->apply(error->str()));
  }

  std::string safePath(const std::string& url) const { return redactor_->apply(pathAndQueryOf(url)); }

  void observeRateLimit(const Call& call, const HttpResponse& response) {
    if (call.throttleKey.empty()) return;
    auto value = response.header(call.write ? "x-ms-ratelimit-remaining-subscription-writes"
                                            : "x-ms-ratelimit-remaining-subscription-reads");
    if (value.empty()) return;
    try {
      throttle_.observeRemaining(call.throttleKey, call.write, std::stol(value), Steady::now());
    } catch (const std::exception&) {
      // not a number: ignore the hint
    }
  }

  bool grantNoted(const std::string& message) {
    std::lock_guard lock(mutex_);
    auto now = Steady::now();
    std::erase_if(grants_, [&](const auto& entry) { return now - entry.second > config_.retry.grantPropagation; });
    auto text = lower(message);
    return std::ranges::any_of(grants_, [&](const auto& entry) { return text.find(entry.first) != std::string::npos; });
  }

  double random01() {
    std::lock_guard lock(mutex_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  }

  AzureConfig config_;
  Endpoints endpoints_;
  std::shared_ptr<Transport> transport_;
  SubscriptionThrottle throttle_;
  InFlightLimit inFlight_;
  ClientMetrics metrics_;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<Redactor> redactor_;
  std::map<std::string, std::shared_ptr<TokenCache>> caches_;  // fixed after init()
  std::vector<std::string> names_;
  std::mutex mutex_;
  std::map<std::string, Steady::time_point> grants_;
  std::function<bool()> writeGate_;  // gateWrites(); empty: every write may be sent
  std::set<std::string> operations_;
  OperationDurations durations_;
  std::mt19937_64 random_;
  Scheduler scheduler_;  // last: destroyed first, completing pending waits while the rest still lives
};

class ArmClient final : public AzureClient {
 public:
  explicit ArmClient(std::shared_ptr<Core> core) : core_(std::move(core)) {}

  pplx::task<Expected<ArmResult>> get(const std::string& credential, const ResourceId& id,
                                      RequestOptions options) override {
    return arm("GET", credential, id, "", std::nullopt, std::move(options));
  }

  pplx::task<Expected<std::vector<Json>>> list(const std::string& credential, const ResourceId& parent,
                                               std::string_view childType, RequestOptions options) override {
    auto probe = parent.child(childType, "x");
    auto path = probe.str();
    path.resize(path.size() - 2);  // the collection: drop "/x"
    auto call = armCall("GET", credential, armUrl(path, probe, options), probe, options);
    call->resourceType = probe.resourceType();
    return collect(core_, call, "nextLink");
  }

  pplx::task<Expected<ArmResult>> put(const std::string& credential, const ResourceId& id, Json body,
                                      RequestOptions options) override {
    return arm("PUT", credential, id, "", std::move(body), std::move(options));
  }
  pplx::task<Expected<ArmResult>> patch(const std::string& credential, const ResourceId& id, Json body,
                                        RequestOptions options) override {
    return arm("PATCH", credential, id, "", std::move(body), std::move(options));
  }
  pplx::task<Expected<ArmResult>> remove(const std::string& credential, const ResourceId& id,
                                         RequestOptions options) override {
    return arm("DELETE", credential, id, "", std::nullopt, std::move(options));
  }
  pplx::task<Expected<ArmResult>> post(const std::string& credential, const ResourceId& id, std::string_view action,
                                       Json body, RequestOptions options) override {
    std::optional<Json> payload;
    if (!body.is_null()) payload = std::move(body);
    return arm("POST", credential, id, std::string(action), std::move(payload), std::move(options));
  }

  milliseconds admitWrite(const std::string& subscription, const std::string& holder) override {
    return core_->admitWrite(subscription, holder);
  }
  void gateWrites(std::function<bool()> mayWrite) override { core_->gateWrites(std::move(mayWrite)); }

  pplx::task<PollResult> pollOperation(const OperationState& operation) override { return poll(core_, operation); }
  void operationEnded(const OperationState& operation) override { core_->trackOperation(operation, false); }

  pplx::task<PollResult> waitForOperation(const OperationState& operation, milliseconds timeout) override {
    return waitLoop(core_, operation, Steady::now() + timeout);
  }

  // --- Graph ----------------------------------------------------------------------------------

  pplx::task<Expected<Json>> createApplication(const std::string& credential, const std::string& displayName,
                                               const std::string& signInAudience) override {
    return graphSend("POST", credential, "/applications", "graph/applications",
                     Json{{"displayName", displayName}, {"signInAudience", signInAudience}});
  }
  pplx::task<Expected<std::optional<Json>>> findApplicationByAppId(const std::string& credential,
                                                                   const std::string& appId) override {
    return first(graphList(credential, "/applications", "graph/applications", "appId eq '" + appId + "'"));
  }
  pplx::task<Expected<std::vector<Json>>> listApplications(const std::string& credential,
                                                           const std::string& filter) override {
    return graphList(credential, "/applications", "graph/applications", filter);
  }
  pplx::task<Expected<void>> updateApplication(const std::string& credential, const std::string& applicationObjectId,
                                               Json properties) override {
    return noContent(graphSend("PATCH", credential, "/applications/" + urlEncode(applicationObjectId),
                               "graph/applications", std::move(properties)));
  }
  pplx::task<Expected<void>> deleteApplication(const std::string& credential,
                                               const std::string& applicationObjectId) override {
    return noContent(graphSend("DELETE", credential, "/applications/" + urlEncode(applicationObjectId),
                               "graph/applications", nullptr));
  }
  pplx::task<Expected<Json>> createFederatedIdentityCredential(const std::string& credential,
                                                               const std::string& applicationObjectId,
                                                               Json body) override {
    return graphSend("POST", credential, "/applications/" + urlEncode(applicationObjectId) + "/federatedIdentityCredentials",
                     "graph/federatedIdentityCredentials", std::move(body));
  }
  pplx::task<Expected<std::vector<Json>>> listFederatedIdentityCredentials(
      const std::string& credential, const std::string& applicationObjectId) override {
    return graphList(credential, "/applications/" + urlEncode(applicationObjectId) + "/federatedIdentityCredentials",
                     "graph/federatedIdentityCredentials", "");
  }
  pplx::task<Expected<void>> updateFederatedIdentityCredential(const std::string& credential,
                                                               const std::string& applicationObjectId,
                                                               const std::string& credentialId,
                                                               Json properties) override {
    return noContent(graphSend("PATCH", credential,
                               "/applications/" + urlEncode(applicationObjectId) + "/federatedIdentityCredentials/" +
                                   urlEncode(credentialId),
                               "graph/federatedIdentityCredentials", std::move(properties)));
  }
  pplx::task<Expected<Json>> createServicePrincipal(const std::string& credential, const std::string& appId) override {
    return graphSend("POST", credential, "/servicePrincipals", "graph/servicePrincipals", Json{{"appId", appId}});
  }
  pplx::task<Expected<std::optional<Json>>> findServicePrincipalByAppId(const std::string& credential,
                                                                        const std::string& appId) override {
    return first(graphList(credential, "/servicePrincipals", "graph/servicePrincipals", "appId eq '" + appId + "'"));
  }

  pplx::task<Expected<void>> checkCredential(const std::string& credential, Audience audience) override {
    return core_->token(credential, audience).then([](Expected<AccessToken> token) -> Expected<void> {
      if (!token) return std::unexpected(token.error());
      return {};
    });
  }
  std::vector<std::string> credentialNames() const override { return core_->names(); }
  void noteGrant(const std::string& principalObjectId) override { core_->noteGrant(principalObjectId); }

 private:
  std::string armUrl(const std::string& path, const ResourceId& typeSource, const RequestOptions& options) const {
    std::string version;
    if (options.apiVersion) {
      version = *options.apiVersion;
    } else {
      try {
        version = apiVersionFor(typeSource.providerNamespace());
      } catch (const std::out_of_range&) {
        version = apiVersionFor("Microsoft.Resources");
      }
    }
    std::string url = core_->endpoints().resourceManager + path + "?api-version=" + urlEncode(version);
    for (const auto& [key, value] : options.query) url += "&" + urlEncode(key) + "=" + urlEncode(value);
    return url;
  }

  CallPtr armCall(const std::string& method, const std::string& credential, std::string url, const ResourceId& id,
                  const RequestOptions& options) const {
    auto call = std::make_shared<Call>();
    call->method = method;
    call->url = std::move(url);
    call->credential = credential;
    call->audience = Audience::ResourceManager;
    call->throttleKey = lower(id.subscriptionId().empty() ? std::string("tenant") : id.subscriptionId());
    call->write = method != "GET";
    call->idempotent = method != "POST";
    call->afterGrant = options.afterGrant;
    call->resourceType = id.resourceType();
    call->admitted = takeAdmission(*call);
    if (options.ifMatch) call->headers.emplace_back("If-Match", *options.ifMatch);
    return call;
  }

  pplx::task<Expected<ArmResult>> arm(const std::string& method, const std::string& credential, const ResourceId& id,
                                      const std::string& action, std::optional<Json> body, RequestOptions options) {
    auto path = id.str() + (action.empty() ? "" : "/" + action);
    auto call = armCall(method, credential, armUrl(path, id, options), id, options);
    if (body) call->body = body->dump();
    auto core = core_;
    auto resourceUrl = armUrl(id.str(), id, RequestOptions{.apiVersion = options.apiVersion});
    auto via = options.finalStateVia;
    return core->execute(call).then([core, method, credential, action, resourceUrl, id, via](Expected<HttpResponse> response) -> Expected<ArmResult> {
      if (!response) return std::unexpected(response.error());
      ArmResult result;
      result.status = response->status;
      result.headers = response->headers;
      result.body = parseBody(response->body);
      result.operation = detectOperation(method, credential, action, resourceUrl, id, via, result);
      if (result.operation) core->trackOperation(*result.operation, true);
      return result;
    });
  }

  /// The ARM long-running operation protocol (azure-api.md §2): which URL to poll, and how.
  static std::optional<OperationState> detectOperation(const std::string& method, const std::string& credential,
                                                       const std::string& action, const std::string& resourceUrl,
                                                       const ResourceId& id, std::optional<FinalStateVia> via,
                                                       const ArmResult& result) {
    if (method == "GET") return std::nullopt;
    auto asyncUrl = result.headers.contains("azure-asyncoperation") ? result.headers.at("azure-asyncoperation") : "";
    auto location = result.headers.contains("location") ? result.headers.at("location") : "";
    OperationState state;
    state.method = method;
    state.credential = credential;
    state.action = action;
    state.resourceId = id.str();
    state.location = location;
    // Millisecond precision: what toJson() keeps, so a stored state equals the original.
    state.startedAt = std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
    if (via) {
      state.finalStateVia = *via;
    } else if (method == "POST") {
      state.finalStateVia = location.empty() ? FinalStateVia::AzureAsyncOperation : FinalStateVia::Location;
    }
    bool accepted = result.status == 201 || result.status == 202;
    // Both headers on a PUT or PATCH (ANF): the Location URL answers 202 while it runs and then the resource
    // itself, so one read says both "done" and what Azure made, where the status URL needs a GET after it.
    const bool resourceAtLocation = (method == "PUT" || method == "PATCH") && state.finalStateVia == FinalStateVia::OriginalUri;
    if (accepted && !location.empty() && resourceAtLocation) {
      state.kind = OperationKind::Location;
      state.url = location;
      return state;
    }
    if (accepted && !asyncUrl.empty()) {
      state.kind = OperationKind::AzureAsyncOperation;
      state.url = asyncUrl;
      return state;
    }
    if (accepted && !location.empty()) {
      state.kind = OperationKind::Location;
      state.url = location;
      return state;
    }
    auto provisioning = provisioningStateOf(result.body);
    if ((method == "PUT" || method == "PATCH") && !provisioning.empty() && !isTerminalStatus(provisioning)) {
      state.kind = OperationKind::ProvisioningState;
      state.url = resourceUrl;
      return state;
    }
    return std::nullopt;
  }

  // --- polling ----------------------------------------------------------------------------------

  static CallPtr pollCall(const std::shared_ptr<Core>& core, const OperationState& state, const std::string& url) {
    auto call = std::make_shared<Call>();
    call->method = "GET";
    call->url = url;
    call->credential = state.credential.empty() ? core->names().front() : state.credential;
    call->audience = Audience::ResourceManager;
    call->throttleKey = subscriptionOf(url);
    if (call->throttleKey.empty()) call->throttleKey = "tenant";
    call->resourceType = resourceTypeOfUrl(url);
    return call;
  }

  static PollResult inProgress(const std::shared_ptr<Core>& core, OperationState state,
                               std::optional<milliseconds> retryAfter) {
    PollResult result;
    result.state = PollResult::State::InProgress;
    result.retryAfter = retryAfter.value_or(core->config().retry.defaultPollInterval);
    result.operation = std::move(state);
    return result;
  }

  /// A terminal poll result: the operation no longer counts as in flight.
  static PollResult ended(const std::shared_ptr<Core>& core, const OperationState& state, Json body,
                          std::optional<AzureError> error) {
    core->trackOperation(state, false);
    PollResult result;
    result.state = error ? PollResult::State::Failed : PollResult::State::Succeeded;
    result.operation = state;
    result.body = std::move(body);
    result.error = std::move(error);
    return result;
  }
  static PollResult done(const std::shared_ptr<Core>& core, const OperationState& state, Json body) {
    return ended(core, state, std::move(body), std::nullopt);
  }
  static PollResult failure(const std::shared_ptr<Core>& core, const OperationState& state, AzureError error) {
    return ended(core, state, nullptr, std::move(error));
  }

  /// A Location URL answers an operation's failure with the error itself (a 4xx other than throttling), which
  /// is the end of the operation, whatever the error's class, and not a failed read to try again.
  static bool locationAnswered(const AzureError& error) {
    return error.httpStatus >= 400 && error.httpStatus < 500 && error.httpStatus != 408 && error.httpStatus != 429;
  }

  /// A failed status read: transient ones mean "still running, ask again later".
  static PollResult pollError(const std::shared_ptr<Core>& core, const OperationState& state, AzureError error) {
    if (error.retryable) return inProgress(core, state, error.retryAfter);
    return failure(core, state, std::move(error));
  }

  static AzureError operationError(const Json& body, const std::string& status) {
    AzureError error;
    const Json* envelope = body.is_object() && body.contains("error") && body["error"].is_object() ? &body["error"] : nullptr;
    error.code = envelope && envelope->contains("code") ? stringField(*envelope, "code") : "Operation" + status;
    error.message = envelope ? stringField(*envelope, "message") : "the operation ended " + status;
    error.target = envelope ? stringField(*envelope, "target") : "";
    error.retryable = classify(error) == ErrorClass::Retryable;
    return error;
  }

  /// One status read, unless operations of its sort are known to take longer: then "in progress" until they
  /// usually end, without a request (OperationDurations).
  static pplx::task<PollResult> poll(std::shared_ptr<Core> core, OperationState state) {
    core->trackOperation(state, true);  // a resumed operation counts as in flight too
    if (auto wait = core->durations().untilDue(state, std::chrono::system_clock::now()); wait > milliseconds::zero())
      return pplx::task_from_result(inProgress(core, state, wait));
    return read(core, state).then([core, state](PollResult result) {
      core->durations().observe(state, result.state != PollResult::State::InProgress, std::chrono::system_clock::now());
      return result;
    });
  }

  static pplx::task<PollResult> read(std::shared_ptr<Core> core, OperationState state) {
    auto call = pollCall(core, state, state.url);
    return core->execute(call).then([core, state](Expected<HttpResponse> response) -> pplx::task<PollResult> {
      if (!response && state.kind == OperationKind::Location && locationAnswered(response.error()))
        return pplx::task_from_result(failure(core, state, response.error()));
      if (!response) return pplx::task_from_result(pollError(core, state, response.error()));
      auto retryAfter = parseRetryAfter(response->header("retry-after"));
      auto body = parseBody(response->body);
      switch (state.kind) {
        case OperationKind::AzureAsyncOperation: {
          auto status = stringField(body, "status");
          if (equalsIgnoreCase(status, "Succeeded")) return finish(core, state, body);
          if (isTerminalStatus(status)) return pplx::task_from_result(failure(core, state, operationError(body, status)));
          return pplx::task_from_result(inProgress(core, state, retryAfter));
        }
        case OperationKind::Location: {
          if (response->status == 202) {
            auto next = state;
            if (auto location = response->header("location"); !location.empty()) next.url = location;
            return pplx::task_from_result(inProgress(core, next, retryAfter));
          }
          if ((state.method == "PUT" || state.method == "PATCH") && body.is_null()) return finalGet(core, state, state.resourceId);
          return pplx::task_from_result(done(core, state, body));
        }
        case OperationKind::ProvisioningState: {
          auto provisioning = provisioningStateOf(body);
          if (provisioning.empty() || equalsIgnoreCase(provisioning, "Succeeded"))
            return pplx::task_from_result(done(core, state, body));
          if (isTerminalStatus(provisioning))
            return pplx::task_from_result(failure(core, state, operationError(body, provisioning)));
          return pplx::task_from_result(inProgress(core, state, retryAfter));
        }
      }
      return pplx::task_from_result(inProgress(core, state, retryAfter));
    });
  }

  /// The operation succeeded: fetch the final result per final-state-via.
  static pplx::task<PollResult> finish(const std::shared_ptr<Core>& core, const OperationState& state, const Json& status) {
    if (state.method == "DELETE") return pplx::task_from_result(done(core, state, nullptr));
    if (state.finalStateVia == FinalStateVia::Location && !state.location.empty())
      return finalGet(core, state, state.location);
    if (state.method == "POST") {
      Json result = status.is_object() && status.contains("properties") ? status["properties"] : status;
      return pplx::task_from_result(done(core, state, result));
    }
    return finalGet(core, state, state.resourceId);
  }

  /// GET the final result: `target` is an absolute URL or a resource id.
  static pplx::task<PollResult> finalGet(const std::shared_ptr<Core>& core, const OperationState& state,
                                         const std::string& target) {
    std::string url = target;
    if (!target.empty() && target.front() == '/') {
      auto id = ResourceId::parse(target);
      std::string version = "2021-04-01";
      if (id) {
        try {
          version = apiVersionFor(id->providerNamespace());
        } catch (const std::out_of_range&) {
        }
      }
      url = core->endpoints().resourceManager + target + "?api-version=" + version;
    }
    return core->execute(pollCall(core, state, url)).then([core, state](Expected<HttpResponse> response) {
      if (!response) {
        if (response.error().isNotFound() && state.method == "DELETE") return done(core, state, nullptr);
        return pollError(core, state, response.error());
      }
      return done(core, state, parseBody(response->body));
    });
  }

  static pplx::task<PollResult> waitLoop(std::shared_ptr<Core> core, OperationState state, Steady::time_point deadline) {
    return poll(core, state).then([core, deadline](PollResult result) -> pplx::task<PollResult> {
      if (result.state != PollResult::State::InProgress || Steady::now() + result.retryAfter > deadline)
        return pplx::task_from_result(result);
      auto next = result.operation;
      return core->scheduler().after(result.retryAfter).then([core, next, deadline] { return waitLoop(core, next, deadline); });
    });
  }

  // --- paging and Graph -------------------------------------------------------------------------

  /// GETs call->url and every next page (`linkField`: "nextLink" for ARM, "@odata.nextLink" for Graph). The
  /// pages gather in one vector and only the last step yields it: pplx copies a task's value at every hop
  /// (task_from_result, unwrapping a returned task), which deep-copied a list of volumes seven times.
  static pplx::task<Expected<std::vector<Json>>> collect(std::shared_ptr<Core> core, CallPtr call, std::string linkField) {
    auto items = std::make_shared<std::vector<Json>>();
    return collectPages(std::move(core), std::move(call), std::move(linkField), items, 0)
        .then([items](std::optional<AzureError> error) -> Expected<std::vector<Json>> {
          if (error) return std::unexpected(std::move(*error));
          return std::move(*items);
        });
  }

  /// Appends this page's items and follows nextLink; the error that ended the paging, if any.
  static pplx::task<std::optional<AzureError>> collectPages(std::shared_ptr<Core> core, CallPtr call, std::string linkField,
                                                            std::shared_ptr<std::vector<Json>> items, int page) {
    using Outcome = std::optional<AzureError>;
    return core->execute(call).then([core, call, linkField, items, page](Expected<HttpResponse> response) -> pplx::task<Outcome> {
      if (!response) return pplx::task_from_result(Outcome(response.error()));
      auto body = parseBody(response->body);
      if (body.is_object() && body.contains("value") && body["value"].is_array())
        for (auto& item : body["value"]) items->push_back(std::move(item));
      auto next = stringField(body, linkField.c_str());
      if (next.empty()) return pplx::task_from_result(Outcome());
      if (page + 1 >= kMaxPages) return pplx::task_from_result(Outcome(clientError("TooManyPages", "nextLink paging did not end")));
      // Tokens go only where the first page came from.
      if (originOf(next) != originOf(call->url))
        return pplx::task_from_result(Outcome(clientError("UntrustedNextLink", "nextLink points to another host: " + originOf(next))));
      auto nextCall = std::make_shared<Call>(*call);
      nextCall->url = next;
      return collectPages(core, nextCall, linkField, items, page + 1);
    });
  }

  CallPtr graphCall(const std::string& method, const std::string& credential, std::string url,
                    const std::string& resourceType) const {
    auto call = std::make_shared<Call>();
    call->method = method;
    call->url = std::move(url);
    call->credential = credential;
    call->audience = Audience::Graph;
    call->throttleKey = "graph:" + credential;
    call->write = method != "GET";
    call->idempotent = method != "POST";
    call->resourceType = resourceType;
    return call;
  }

  pplx::task<Expected<Json>> graphSend(const std::string& method, const std::string& credential, const std::string& path,
                                       const std::string& resourceType, Json body) {
    auto call = graphCall(method, credential, core_->endpoints().graph + "/v1.0" + path, resourceType);
    if (!body.is_null()) call->body = body.dump();
    return core_->execute(call).then([](Expected<HttpResponse> response) -> Expected<Json> {
      if (!response) return std::unexpected(response.error());
      return parseBody(response->body);
    });
  }

  pplx::task<Expected<std::vector<Json>>> graphList(const std::string& credential, const std::string& path,
                                                    const std::string& resourceType, const std::string& filter) {
    auto url = core_->endpoints().graph + "/v1.0" + path + (filter.empty() ? "" : "?$filter=" + urlEncode(filter));
    return collect(core_, graphCall("GET", credential, url, resourceType), "@odata.nextLink");
  }

  /// A Graph write that answers 204 No Content.
  static pplx::task<Expected<void>> noContent(pplx::task<Expected<Json>> sent) {
    return sent.then([](Expected<Json> body) -> Expected<void> {
      if (!body) return std::unexpected(body.error());
      return {};
    });
  }

  static pplx::task<Expected<std::optional<Json>>> first(pplx::task<Expected<std::vector<Json>>> items) {
    return items.then([](Expected<std::vector<Json>> list) -> Expected<std::optional<Json>> {
      if (!list) return std::unexpected(list.error());
      if (list->empty()) return std::optional<Json>();
      return std::optional<Json>(list->front());
    });
  }

  std::shared_ptr<Core> core_;
};

}  // namespace

std::string ArmResult::etag() const {
  if (auto it = headers.find("etag"); it != headers.end()) return it->second;
  if (body.is_object() && body.contains("etag") && body["etag"].is_string()) return body["etag"].get<std::string>();
  return "";
}

Expected<AzureClientPtr> makeAzureClient(AzureConfig config, ClientDependencies dependencies) {
  auto endpoints = resolveEndpoints(config.cloud, config.endpoints);
  if (!endpoints) return std::unexpected(clientError("InvalidConfig", endpoints.error()));
  std::shared_ptr<Transport> transport = dependencies.transport;
  if (!transport) {
    auto made = makeCpprestTransport({config.caFile, config.insecureSkipTlsVerify, config.requestTimeout});
    if (!made) return std::unexpected(clientError("InvalidConfig", made.error()));
    transport = std::move(*made);
  }
  auto core = std::make_shared<Core>(std::move(config), std::move(*endpoints), std::move(transport), std::move(dependencies));
  if (auto ready = core->init(); !ready) return std::unexpected(ready.error());
  return std::make_unique<ArmClient>(std::move(core));
}

}  // namespace anf::azure
