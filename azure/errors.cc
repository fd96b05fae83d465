#include "azure/errors.h"

#include <array>
#include <charconv>

#include <nlohmann/json.hpp>

#include "azure/resource_id.h"

namespace anf::azure {
namespace {

bool isOneOf(std::string_view code, std::initializer_list<std::string_view> codes) {
  for (auto c : codes)
    if (equalsIgnoreCase(code, c)) return true;
  return false;
}

}  // namespace

std::string stringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string AzureError::str() const {
  std::string out = httpStatus ? std::to_string(httpStatus) + " " : std::string();
  out += code.empty() ? "UnknownError" : code;
  if (!message.empty()) out += ": " + message;
  if (!target.empty()) out += " (target " + target + ")";
  if (!requestId.empty()) out += " [x-ms-request-id " + requestId + "]";
  return out;
}

CodeKind codeKind(std::string_view code) {
  if (isOneOf(code, {"TooManyRequests", "RetryableError"})) return CodeKind::Throttled;
  // Azure refuses concurrent mutations of one resource (NetApp accounts) and writes while a resource is still
  // provisioning (ARM's RequestConflict); it clears when the other operation ends.
  if (isOneOf(code, {"AnotherOperationInProgress", "OperationNotAllowed.AnotherOperationInProgress",
                     "Conflict.AnotherOperationInProgress", "RequestConflict"}))
    return CodeKind::Busy;
  // RBAC and directory replication lag behind a fresh grant or a fresh service principal.
  if (isOneOf(code, {"AuthorizationFailed", "LinkedAuthorizationFailed", "PrincipalNotFound"})) return CodeKind::GrantPending;
  if (isOneOf(code, {"ParentResourceNotFound"})) return CodeKind::ParentMissing;
  if (isOneOf(code, {"TlsHandshakeFailed"})) return CodeKind::BadCertificate;
  if (isOneOf(code, {"UnknownCredential"})) return CodeKind::NoCredential;
  return CodeKind::Other;
}

bool refusesConcurrency(const AzureError& error) {
  constexpr std::string_view kAnotherVolumeCreation = "Another volume creation is in progress";
  return (codeKind(error.code) == CodeKind::Busy && !equalsIgnoreCase(error.code, "RequestConflict")) ||
         error.message.find(kAnotherVolumeCreation) != std::string::npos;
}

bool isTransient(const AzureError& error) {
  const CodeKind kind = codeKind(error.code);
  if (kind == CodeKind::BadCertificate) return false;
  return error.transport != TransportFailure::None || error.httpStatus == 408 || error.httpStatus == 429 ||
         error.httpStatus >= 500 || kind == CodeKind::Throttled;
}

ErrorClass classify(const AzureError& error, const ClassifyContext& context) {
  const CodeKind kind = codeKind(error.code);
  if (isTransient(error) || kind == CodeKind::Busy) return ErrorClass::Retryable;
  if (context.grantPropagating && kind == CodeKind::GrantPending) return ErrorClass::Retryable;
  return ErrorClass::Terminal;
}

std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  long long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  return std::chrono::seconds(seconds);
}

AzureError errorFromResponse(int httpStatus, std::string_view body, std::string requestId,
                             std::string_view retryAfterHeader) {
  AzureError error;
  error.httpStatus = httpStatus;
  error.requestId = std::move(requestId);
  error.retryAfter = parseRetryAfter(retryAfterHeader);
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object()) {
    auto envelope = json.find("error");
    if (envelope != json.end() && envelope->is_object()) {  // ARM and Graph
      error.code = stringField(*envelope, "code");
      error.message = stringField(*envelope, "message");
      error.target = stringField(*envelope, "target");
    } else if (envelope != json.end() && envelope->is_string()) {  // Entra token endpoint
      error.code = envelope->get<std::string>();
      error.message = stringField(json, "error_description");
    } else {
      error.code = stringField(json, "code");  // some RPs answer without the envelope
      error.message = stringField(json, "message");
    }
  }
  if (error.code.empty()) error.code = "HttpStatus" + std::to_string(httpStatus);
  if (error.message.empty() && !json.is_object()) error.message = std::string(body.substr(0, 512));
  return error;
}

}  // namespace anf::azure
