#pragma once
// Typed Azure errors and the ONE place that decides whether an error is worth retrying
// (modeled on Azure Service Operator's error_classifier.go).
#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

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
  /// Set by the client: the final classification of this error after its own retries.
  bool retryable = false;

  bool isNotFound() const { return httpStatus == 404; }
  /// "404 ResourceNotFound: The Resource ... was not found. (target x) [request-id y]"
  std::string str() const;
};

template <typename T>
using Expected = std::expected<T, AzureError>;

enum class ErrorClass { Retryable, Terminal };

/// Context the classification needs beyond the error itself.
struct ClassifyContext {
  /// A role assignment / access policy / service principal for the principal involved was created
  /// recently, so authorization errors are expected to clear on their own (RBAC propagation).
  bool grantPropagating = false;
};

/// The central classification. Retryable: 408, 429, 5xx, timeouts, connection failures,
/// AnotherOperationInProgress (and its variants), and — only while a grant propagates —
/// AuthorizationFailed, LinkedAuthorizationFailed and PrincipalNotFound. Everything else is terminal.
ErrorClass classify(const AzureError& error, const ClassifyContext& context = {});

/// Builds an AzureError from an HTTP error response (ARM/Graph envelope or Entra token error).
/// `retryAfterHeader` is the Retry-After value ("" when absent).
AzureError errorFromResponse(int httpStatus, std::string_view body, std::string requestId,
                             std::string_view retryAfterHeader);

/// Retry-After in seconds (ARM uses integer seconds; an HTTP-date is ignored), or nullopt.
std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value);

}  // namespace anf::azure
