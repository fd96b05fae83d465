#pragma once
// Typed Azure errors, the one table of what Azure's error codes mean for retrying (codeKind), and the
// client's in-request retry decision (classify).
//
// Who decides what:
//   - azure::classify() below decides, inside one request, whether the client sends it again (transport
//     and HTTP retries, bounded by RetryPolicy). Its answer is AzureError::retryable.
//   - reconcilers::classify() (reconcilers/error_classes.h) decides what the engine does with the error
//     the client finally returned: retry now, retry after a delay, wait for Azure to change, or park
//     until the document changes (controller::ErrorClass).
// Both read codeKind() and isTransient(), so they never disagree about a code.
#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace anf::azure {

/// Why a request failed below HTTP (no response was read).
enum class TransportFailure {
  None,           // an HTTP response was received
  ConnectFailed,  // resolve, connect or TLS handshake failed: the request certainly did not reach Azure
  Timeout,        // no answer in time: it may have been processed
  ConnectionLost  // reset or closed after sending: it may have been processed
};

/// An error from ARM, Entra, Graph, or the transport. `code` and `message` are Azure's own words
/// (ARM `{"error":{"code","message","target"}}`, Graph the same, Entra `error`/`error_description`).
struct AzureError {
  int httpStatus = 0;  // 0 when no response was received
  std::string code;    // "ResourceNotFound", "AuthorizationFailed", "Timeout", ...
  std::string message;
  std::string target;
  std::string requestId;  // x-ms-request-id (or Graph's request-id)
  std::optional<std::chrono::milliseconds> retryAfter;
  TransportFailure transport = TransportFailure::None;
  /// Set by the client: its in-request decision (classify() below) for this error, after its own retries.
  /// What the engine then does is reconcilers/error_classes.h's decision.
  bool retryable = false;

  bool isNotFound() const { return httpStatus == 404; }
  /// "404 ResourceNotFound: The Resource ... was not found. (target x) [request-id y]"
  std::string str() const;
};

template <typename T>
using Expected = std::expected<T, AzureError>;

/// What an Azure error code says about retrying. The one table of codes (errors.cc).
enum class CodeKind {
  Other,
  Throttled,       // TooManyRequests, RetryableError: transient, like a 429
  Busy,            // AnotherOperationInProgress and its variants, RequestConflict: clears when the other
                   // operation (or the provisioning) ends
  GrantPending,    // AuthorizationFailed, LinkedAuthorizationFailed, PrincipalNotFound: clear by themselves
                   // while a grant or a new principal propagates; otherwise someone must grant in Azure
  ParentMissing,   // ParentResourceNotFound: a parent was deleted (or not created yet) under us
  BadCertificate,  // TlsHandshakeFailed: resending never heals it
  NoCredential,    // UnknownCredential: the client has no credential of that name (never sent)
};
CodeKind codeKind(std::string_view code);

/// Azure refused a write for another operation in its NetApp account: a Busy code other than RequestConflict
/// (which is about the resource itself), or ANF's failed volume creation "Another volume creation is in
/// progress. Please try again in a few minutes." The engine narrows that account's concurrent writes.
bool refusesConcurrency(const AzureError& error);

/// Transient: a dropped or refused connection, a timeout, 408, 429, 5xx or a Throttled code (not a bad
/// certificate). Resending later may succeed without anyone changing anything.
bool isTransient(const AzureError& error);

/// The in-request decision: resend (Retryable) or hand the error to the caller (Terminal).
enum class ErrorClass { Retryable, Terminal };

/// Context the classification needs beyond the error itself.
struct ClassifyContext {
  /// A role assignment / access policy / service principal for the principal involved was created
  /// recently, so authorization errors are expected to clear on their own (RBAC propagation).
  bool grantPropagating = false;
};

/// The client's in-request decision. Retryable: isTransient(), Busy codes, and GrantPending codes while
/// a grant propagates. Everything else goes back to the caller, whose classifier decides what next.
ErrorClass classify(const AzureError& error, const ClassifyContext& context = {});

/// Builds an AzureError from an HTTP error response (ARM/Graph envelope or Entra token error).
/// `retryAfterHeader` is the Retry-After value ("" when absent).
AzureError errorFromResponse(int httpStatus, std::string_view body, std::string requestId,
                             std::string_view retryAfterHeader);

/// The string `key` of a JSON object, or "" when absent, not a string, or `j` is no object: what Azure sends back
/// is not trusted to have the documented types (nlohmann's value() throws on a mismatch).
std::string stringField(const nlohmann::json& j, const char* key);

/// Retry-After in seconds (ARM uses integer seconds; an HTTP-date is ignored), or nullopt.
std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value);

}  // namespace anf::azure
