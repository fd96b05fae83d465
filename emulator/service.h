#pragma once
// Internal to the emulator: everything behind the HTTP server. One object, one world lock: every request is
// handled start to finish under `mutex_`, and nothing under it blocks (latency faults wait in the server on a
// timer, after the lock is released). Its parts live in one file each:
//   service.cc  routing, fault injection, the request log, persistence (--state)
//   arm.cc      ARM: path parsing, bearer tokens, api-version, tenancy, throttling, long-running operations
//   entra.cc    Entra: token endpoint (secret, federated assertion), OpenID metadata, keys, IMDS
//   graph.cc    Microsoft Graph: applications, federated identity credentials, service principals
//   control.cc  /_emulator/: faults, requests, clock, state, throttling, workload identity tokens
//   seed.cc     the default world and --world YAML, applied through the providers' PUT handlers
#include <chrono>
#include <expected>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "emulator/crypto.h"
#include "emulator/emulator.h"
#include "emulator/http.h"
#include "emulator/provider.h"

namespace anf::emulator {

/// One rule of PUT /_emulator/faults. A rule matches when `method` (if set) equals the request's and
/// `pathPattern` (if set) is found in the path; it then fires with probability `rate`.
struct FaultRule {
  std::string method;
  std::string pathPattern;
  std::optional<std::regex> pattern;
  double rate = 1.0;
  int status = 0;          // 0: no status fault
  int retryAfter = -1;     // seconds; -1: no Retry-After header
  bool drop = false;       // close the connection without answering
  int latencyMs = 0;       // added before answering
  Json source;             // the rule as given, for GET /_emulator/faults
};

/// An item of GET /_emulator/requests.
struct RequestLogEntry {
  std::string time;
  std::string method;
  std::string path;
  std::string apiVersion;
  int status = 0;  // 0: dropped by a fault
  double durationMs = 0;
  std::string tenantId;
};

/// A long-running operation the core tracks for a provider. Persisted with --state, with the request that started
/// it. An operation still running when the emulator stops gets its provider's closures back (they cannot be saved)
/// by replaying that request against the reloaded world, which is then restored as it was; when the replay starts
/// no operation, it completes the generic way: a DELETE removes its resource and everything below it, any other
/// method moves the resource's non-terminal provisioningState to Succeeded.
struct Operation {
  LongRunningOperation spec;
  std::string name;        // the guid in the operation URL
  Request request;         // that started it (authenticated)
  std::string apiVersion;  // of the request that started it
  std::chrono::system_clock::time_point due;  // emulator time at which it completes
  std::string startTime;
  std::string endTime;
  enum class State { InProgress, Succeeded, Failed } state = State::InProgress;
  Json error;      // {"code","message"} when Failed
  Json finalBody;  // what the Location URL returns once done
};

/// Why a bearer token was refused; ARM and Graph word it differently.
struct BearerFailure {
  enum class Kind { Missing, Malformed, Invalid, WrongAudience, Expired } kind;
  std::string code;     // ARM's: AuthenticationFailed, InvalidAuthenticationToken, ExpiredAuthenticationToken
  std::string message;  // ARM's message
};

/// An external OpenID issuer whose RS256 JWTs the token endpoint accepts as federated assertions.
struct ExternalIssuer {
  std::string issuer;
  std::string publicKeyPem;
};

class Service {
 public:
  /// Loads --state when it exists, else seeds the default world or --world; generates (or reloads) the CA and
  /// the token signing key.
  static std::expected<std::unique_ptr<Service>, std::string> create(const Options& options);
  ~Service();

  /// Must be called once the server is bound: the URL every absolute URL of the emulator starts with.
  void setBaseUrl(const std::string& baseUrl);
  /// Handles one request (thread-safe).
  HttpResponse handle(const HttpRequest& request);
  Endpoints endpoints() const;
  const Certificates& certificates() const { return certificates_; }

 private:
  Service(const Options& options);
  class RequestContext;
  /// Remaining tokens per bucket kind (reads, writes, deletes) of one subscription.
  struct Buckets {
    double tokens[3];
    std::chrono::steady_clock::time_point last;
  };

  // service.cc
  HttpResponse route(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                     const HttpRequest& http, std::string& tenantForLog);
  struct FaultOutcome {
    std::chrono::milliseconds latency{0};
    std::optional<HttpResponse> response;  // a status fault or a drop
  };
  FaultOutcome pickFault(const std::string& method, const std::string& path, bool entraPath);
  Json stateJson() const;
  void saveState();
  std::expected<void, std::string> loadState(const Json& state);
  Json operationsJson() const;
  void loadOperations(const Json& operations);
  /// Gives a reloaded running operation its provider's closures by replaying its request; false when none came.
  bool replayOperation(Operation& operation);

  // arm.cc
  HttpResponse handleArm(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                         const HttpRequest& http, std::string& tenantForLog);
  /// Everything after authentication: tenancy, api-version, throttling (unless `internal`), routing.
  Response dispatchArm(const Request& request, bool internal);
  std::expected<ArmPath, Response> parseArmPath(const std::string& method, const std::string& path) const;
  Response startOperation(LongRunningOperation&& operation, const Request& request, const std::string& apiVersion);
  bool operationInProgress(const std::string& resourceId) const;
  /// Completes every operation whose time has come; true when any did.
  bool runDueOperations();
  Response pollOperation(const ArmPath& path, const Request& request);
  std::optional<Response> throttle(const std::string& subscriptionId, const std::string& method,
                                   std::map<std::string, std::string>& headers, const std::string& caller);
  Response subscriptionLevel(const Request& request, const std::vector<std::string>& segments);
  ResourceProvider* providerFor(const std::string& providerNamespace) const;

  // entra.cc
  /// Verifies a bearer token: signature, expiry on the emulator clock, and an audience from `audiences`.
  std::expected<Json, BearerFailure> verifyBearer(const std::map<std::string, std::string>& headers,
                                                  const std::vector<std::string>& audiences) const;
  bool isEntraPath(const std::string& path) const;
  HttpResponse handleEntra(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                           const HttpRequest& http, std::string& tenantForLog);
  HttpResponse openIdConfigurationOf(const std::string& tenantName) const;
  HttpResponse instanceDiscovery(const std::string& tenantName) const;
  /// The token endpoint: a client secret, else a client assertion tried against (1) a user-assigned managed
  /// identity's federated credentials, (2) a principal of the world (the workload identity issuer, any subject),
  /// (3) a Graph application's federated credentials with a service principal in `tenant`.
  HttpResponse tokenEndpoint(const Tenant& tenant, const std::map<std::string, std::string>& form, bool v1);
  struct TokenRequest;  // entra.cc
  struct Assertion;     // entra.cc
  /// grant_type, client_id and resource (v1) or scope (v2), or Entra's refusal.
  std::expected<TokenRequest, HttpResponse> parseTokenRequest(const Tenant& tenant, const std::map<std::string, std::string>& form,
                                                              bool v1);
  HttpResponse tokenResponse(const TokenRequest& request, const std::string& objectId, const std::string& appId,
                             const std::string& appidacr);
  HttpResponse clientNotInDirectory(const TokenRequest& request);
  HttpResponse clientSecretGrant(const TokenRequest& request, const std::string& secret);
  /// The assertion's signature (the emulator's key or an external issuer's) and time range, or Entra's refusal.
  std::expected<Assertion, HttpResponse> verifyAssertion(const std::string& assertion);
  /// Whether a federated credential accepts the assertion: false when issuer or subject differ, a refusal when only
  /// the audience does.
  std::expected<bool, HttpResponse> federatedCredentialAccepts(const Assertion& assertion, const std::string& issuer,
                                                               const std::string& subject, const Json& audiences);
  HttpResponse noFederatedSubject(const Assertion& assertion);
  /// (1) of tokenEndpoint; nullopt when the client is no user-assigned managed identity.
  std::optional<HttpResponse> managedIdentityAssertionGrant(const TokenRequest& request, const Assertion& assertion);
  /// (2) of tokenEndpoint; nullopt when the client is no principal or the issuer is not the workload identity one.
  std::optional<HttpResponse> principalAssertionGrant(const TokenRequest& request, const Assertion& assertion);
  /// (3) of tokenEndpoint.
  HttpResponse applicationAssertionGrant(const TokenRequest& request, const Assertion& assertion);
  /// `query`: IMDS's query string, or the form body of the MSI_ENDPOINT POST (which carries no api-version).
  HttpResponse imdsToken(const std::map<std::string, std::string>& query, const HttpRequest& http, std::string& tenantForLog,
                         bool requireApiVersion);
  /// A signed access token for `oid`/`appId` in `tenantId`, valid `lifetime` on the emulator clock.
  std::string issueToken(const std::string& tenantId, const std::string& objectId, const std::string& appId,
                         const std::string& audience, std::chrono::seconds lifetime, const std::string& appidacr);
  Json openIdConfiguration(const std::string& tenant) const;
  std::string issuerOf(const std::string& tenantId) const { return baseUrl_ + "/" + tenantId + "/v2.0"; }
  std::string workloadIdentityIssuer() const { return baseUrl_ + "/_emulator/oidc"; }
  const Tenant* tenantByIdOrName(const std::string& idOrName) const;

  // graph.cc
  HttpResponse handleGraph(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                           const HttpRequest& http, std::string& tenantForLog);

  // control.cc
  HttpResponse handleControl(const std::string& method, const std::string& path, const HttpRequest& http);
  std::expected<std::vector<FaultRule>, std::string> parseFaultRules(const Json& body) const;
  HttpResponse mintWorkloadIdentityToken(const Json& body);

  // seed.cc
  std::expected<void, std::string> seedDefaultWorld();
  std::expected<void, std::string> seedFromYaml(const std::string& file);
  std::expected<void, std::string> seed(const Json& description, bool fallbackOnProviderError);
  /// PUTs an ARM request body through the providers, completing its operation at once.
  std::expected<void, std::string> applyResource(const std::string& id, const std::string& apiVersion, const Json& body,
                                                 bool fallbackOnProviderError);
  void addGraphPrincipal(const Tenant& tenant, const Principal& principal);
  /// A subscription's netAppLimits from the world file (limits a support request raises).
  std::expected<void, std::string> raiseLimits(const std::string& subscriptionId, const Json& netAppLimits);

  Options options_;
  mutable std::mutex mutex_;
  World world_;
  std::vector<ResourceProviderPtr> providers_;
  JwtSignerPtr signer_;
  Certificates certificates_;
  std::string baseUrl_ = "https://127.0.0.1";
  std::vector<ExternalIssuer> externalIssuers_;
  std::map<std::string, Operation> operations_;  // lower-cased name -> operation
  std::vector<std::string> operationOrder_;
  // Every operation before this index in operationOrder_ has finished: runDueOperations, called twice per request,
  // starts here instead of walking every operation since the start.
  std::size_t firstPending_ = 0;
  ThrottleLimits limits_;
  std::map<std::string, std::unique_ptr<Buckets>> buckets_;  // lower-cased subscription id
  std::vector<FaultRule> faults_;
  std::mt19937_64 random_{std::random_device{}()};  // the fault draws; Options::faultSeed seeds it
  std::vector<RequestLogEntry> requestLog_;
  bool dirty_ = false;
};
using ServicePtr = std::unique_ptr<Service>;

/// Response -> HttpResponse (JSON body, Content-Type).
HttpResponse toHttp(const Response& response);

/// The Graph applications of every tenant whose appId is `appId`, in world order (graph.cc).
std::vector<Json*> graphApplicationsWithAppId(World& world, const std::string& appId);

}  // namespace anf::emulator
