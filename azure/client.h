#pragma once
// The operator's only door to Azure: ARM, Entra tokens and Microsoft Graph over HTTPS (cpprestsdk).
//
// Every call is asynchronous and returns a pplx::task that never throws: its value is
// Expected<T> (std::expected<T, AzureError>). Callers on engine worker threads may simply `.get()`.
// No thread of the library ever blocks waiting on Azure: HTTP runs on cpprestsdk's I/O threads, and
// every wait (backoff, Retry-After, token bucket, poll-until-done) is a steady_timer on one small
// Asio io_context thread owned by the client, completing a pplx::task_completion_event.
//
// What each call does for the caller, once, centrally:
//  - a bearer token for the named credential (tenant) and the right audience (ARM or Graph), cached
//    and refreshed ahead of expiry, one refresh in flight per credential and audience; a 401 for an
//    expired token drops it and retries once with a fresh one;
//  - api-version from azure/api_versions.h by the id's provider namespace (or RequestOptions);
//  - a client-side token bucket per subscription (reads, writes), slowed further when
//    x-ms-ratelimit-remaining-subscription-* runs low;
//  - retries with exponential backoff and full jitter for errors classify() calls retryable, bounded
//    by RetryPolicy (attempts and total time), honouring Retry-After; a POST is retried only when the
//    request certainly did not reach Azure (connect failure, 429), otherwise the error is returned so
//    the caller observes first;
//  - metrics (anf_cmk_arm_requests_total{method,resource_type,code},
//    anf_cmk_arm_request_duration_seconds, anf_cmk_arm_throttled_total, anf_cmk_lro_in_flight) and a
//    debug log line per HTTP attempt (method, path, status, duration, x-ms-request-id); tokens,
//    secrets, client assertions and Authorization headers never reach logs.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <pplx/pplxtasks.h>

#include "azure/config.h"
#include "azure/errors.h"
#include "azure/operation.h"
#include "azure/resource_id.h"

namespace prometheus {
class Registry;
}
namespace spdlog {
class logger;
}

namespace anf::azure {

using Json = nlohmann::json;
class Transport;  // azure/transport.h

/// Per-call options.
struct RequestOptions {
  std::optional<std::string> ifMatch;     // ETag for optimistic concurrency (412 on mismatch)
  std::optional<std::string> apiVersion;  // overrides the table
  std::map<std::string, std::string> query;  // extra query parameters (forceDelete=true, $filter, ...)
  /// A grant for the principal this call depends on was just made: AuthorizationFailed,
  /// LinkedAuthorizationFailed and PrincipalNotFound are retried (within RetryPolicy bounds) and
  /// reported retryable. See also AzureClient::noteGrant().
  bool afterGrant = false;
  /// For operations that return 201/202: where the final result comes from (swagger final-state-via).
  /// Default: original-uri for PUT/PATCH, location for POST (when a Location header is present).
  std::optional<FinalStateVia> finalStateVia;
};

/// The response to an ARM call that succeeded (2xx).
struct ArmResult {
  int status = 0;
  Json body;                                   // null when the response had no body
  std::map<std::string, std::string> headers;  // lower-case names
  /// Set when the response started a long-running operation (201/202 with Azure-AsyncOperation or
  /// Location, or a non-terminal provisioningState): store it, then pollOperation() it.
  std::optional<OperationState> operation;

  /// The ETag header, or the body's "etag", or "".
  std::string etag() const;
};

/// One step of polling a long-running operation.
struct PollResult {
  enum class State { InProgress, Succeeded, Failed } state = State::InProgress;
  std::chrono::milliseconds retryAfter{0};  // InProgress: poll again after this long
  OperationState operation;                 // InProgress: the (possibly updated) state to store
  Json body;                                // Succeeded: the final resource/result (null for DELETE)
  std::optional<AzureError> error;          // Failed: the operation's error (from the status body)
};

/// Token audiences the client asks Entra for.
enum class Audience { ResourceManager, Graph };

class AzureClient {
 public:
  virtual ~AzureClient() = default;

  // --- ARM -----------------------------------------------------------------------------------

  /// GET the resource. 404 comes back as an AzureError with isNotFound().
  virtual pplx::task<Expected<ArmResult>> get(const std::string& credential, const ResourceId& id,
                                              RequestOptions options = {}) = 0;
  /// GET every item of a collection, following nextLink. `childType` is a type under `parent`'s
  /// namespace ("capacityPools" under an account) or "Namespace/type" ("Microsoft.NetApp/netAppAccounts"
  /// under a resource group or subscription). Returns the concatenated `value` arrays.
  virtual pplx::task<Expected<std::vector<Json>>> list(const std::string& credential, const ResourceId& parent,
                                                       std::string_view childType, RequestOptions options = {}) = 0;
  /// PUT (create or replace). With options.ifMatch, Azure answers 412 when the ETag moved.
  virtual pplx::task<Expected<ArmResult>> put(const std::string& credential, const ResourceId& id, Json body,
                                              RequestOptions options = {}) = 0;
  /// PATCH (merge update).
  virtual pplx::task<Expected<ArmResult>> patch(const std::string& credential, const ResourceId& id, Json body,
                                                RequestOptions options = {}) = 0;
  /// DELETE. 404 is returned as an error (callers treat it as already gone).
  virtual pplx::task<Expected<ArmResult>> remove(const std::string& credential, const ResourceId& id,
                                                 RequestOptions options = {}) = 0;
  /// POST {id}/{action} ("renewCredentials", "transitiontocmk", "register"). Not retried blindly:
  /// only when the request certainly did not reach Azure. A null body sends no body.
  virtual pplx::task<Expected<ArmResult>> post(const std::string& credential, const ResourceId& id,
                                               std::string_view action, Json body = nullptr,
                                               RequestOptions options = {}) = 0;

  /// Asked before every attempt of a write, retries included: false and the attempt is not sent (it fails
  /// WriteGateClosed). Leader election closes it, so a deposed replica's retries stop with its lease.
  virtual void gateWrites(std::function<bool()> mayWrite) { (void)mayWrite; }

  /// Write admission that never blocks (SubscriptionThrottle::admitWrite): zero when `holder` (a document) may
  /// write to `subscription` now, and its next write there then takes no token of its own; otherwise how long
  /// until the write slot reserved for it. The engine asks before a reconcile writes, so that no worker sleeps
  /// in the write bucket while reads and operation polls wait for a worker.
  virtual std::chrono::milliseconds admitWrite(const std::string& subscription, const std::string& holder) {
    (void)subscription;
    (void)holder;
    return std::chrono::milliseconds::zero();
  }

  // --- long-running operations ----------------------------------------------------------------

  /// One poll step (one HTTP request, plus the final GET when the operation just succeeded; none while operations
  /// of its sort are not expected to have ended: OperationDurations). A PUT or PATCH answered with a Location
  /// is polled there, where its final response is the resource (no final GET). Transient
  /// poll failures (5xx, 429, timeouts after the client's retries) come back as InProgress, not Failed:
  /// a failed status read is not a failed operation.
  virtual pplx::task<PollResult> pollOperation(const OperationState& operation) = 0;
  /// The operation's end was learnt without pollOperation() (from a LIST of its parent): it no longer counts
  /// as in flight.
  virtual void operationEnded(const OperationState& operation) { (void)operation; }
  /// Polls until a terminal state, waiting Retry-After between polls on the client's timer thread,
  /// for at most `timeout`. For tests and one-shot tools (the engine polls step by step).
  virtual pplx::task<PollResult> waitForOperation(const OperationState& operation,
                                                  std::chrono::milliseconds timeout) = 0;

  // --- Microsoft Graph (v1.0) ------------------------------------------------------------------

  /// POST /applications {displayName, signInAudience} -> the application (id = object id, appId).
  virtual pplx::task<Expected<Json>> createApplication(const std::string& credential, const std::string& displayName,
                                                       const std::string& signInAudience = "AzureADMultipleOrgs") = 0;
  /// GET /applications?$filter=appId eq '{appId}' -> the application, or nullopt when none.
  virtual pplx::task<Expected<std::optional<Json>>> findApplicationByAppId(const std::string& credential,
                                                                           const std::string& appId) = 0;
  /// GET /applications (optionally $filter), following @odata.nextLink.
  virtual pplx::task<Expected<std::vector<Json>>> listApplications(const std::string& credential,
                                                                   const std::string& filter = "") = 0;
  /// PATCH /applications/{objectId} with the properties to change ({"signInAudience": ...}); Graph answers 204.
  virtual pplx::task<Expected<void>> updateApplication(const std::string& credential,
                                                       const std::string& applicationObjectId, Json properties) = 0;
  /// DELETE /applications/{objectId}: its federated identity credentials go with it. 404 is returned as an
  /// error (callers treat it as already gone).
  virtual pplx::task<Expected<void>> deleteApplication(const std::string& credential,
                                                       const std::string& applicationObjectId) = 0;
  /// POST /applications/{objectId}/federatedIdentityCredentials {name, issuer, subject, audiences, ...}.
  virtual pplx::task<Expected<Json>> createFederatedIdentityCredential(const std::string& credential,
                                                                       const std::string& applicationObjectId,
                                                                       Json body) = 0;
  virtual pplx::task<Expected<std::vector<Json>>> listFederatedIdentityCredentials(
      const std::string& credential, const std::string& applicationObjectId) = 0;
  /// PATCH /applications/{objectId}/federatedIdentityCredentials/{credentialId} {issuer, subject, audiences}
  /// (Graph refuses a change of name); Graph answers 204.
  virtual pplx::task<Expected<void>> updateFederatedIdentityCredential(const std::string& credential,
                                                                       const std::string& applicationObjectId,
                                                                       const std::string& credentialId,
                                                                       Json properties) = 0;
  /// POST /servicePrincipals {appId} in the credential's tenant (admin consent for a multitenant app).
  virtual pplx::task<Expected<Json>> createServicePrincipal(const std::string& credential, const std::string& appId) = 0;
  /// GET /servicePrincipals?$filter=appId eq '{appId}' -> the service principal, or nullopt.
  virtual pplx::task<Expected<std::optional<Json>>> findServicePrincipalByAppId(const std::string& credential,
                                                                                const std::string& appId) = 0;

  // --- credentials and grants -------------------------------------------------------------------

  /// Gets (or reuses) a token for the credential, to check that it works (/readyz). Never returns it.
  virtual pplx::task<Expected<void>> checkCredential(const std::string& credential,
                                                     Audience audience = Audience::ResourceManager) = 0;
  /// Names of the configured credentials, the default first.
  virtual std::vector<std::string> credentialNames() const = 0;
  /// Records that a grant (role assignment, access policy, service principal) was just made for the
  /// principal (object id): for RetryPolicy::grantPropagation, authorization errors whose message
  /// names this principal are retried and reported retryable.
  virtual void noteGrant(const std::string& principalObjectId) = 0;
};
using AzureClientPtr = std::unique_ptr<AzureClient>;

/// Optional collaborators of the real client.
struct ClientDependencies {
  prometheus::Registry* registry = nullptr;  // metrics are registered here when set (the engine's registry)
  std::shared_ptr<spdlog::logger> logger;    // default: spdlog's default logger
  std::shared_ptr<Transport> transport;      // default: cpprestsdk with the config's TLS settings (tests fake it)
};

/// The real client over cpprestsdk. Fails on an unusable configuration (unknown cloud endpoints,
/// unreadable CA file, a credential without a secret source, duplicate credential names). Logs a
/// warning when TLS verification is off.
Expected<AzureClientPtr> makeAzureClient(AzureConfig config, ClientDependencies dependencies = {});

/// Replaces every token, secret, client assertion and Authorization value in `text` with "[REDACTED]"
/// (JWTs, "Bearer ...", access_token/refresh_token/client_secret/client_assertion fields in JSON or
/// form encoding). Used on everything the client logs.
std::string redact(std::string_view text);

}  // namespace anf::azure
