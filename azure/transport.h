#pragma once
// The HTTP boundary: one request out, one response (or a typed transport failure) back, as a
// pplx::task that never throws. The real transport is cpprestsdk over TLS; tests of the layers above
// may substitute their own.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pplx/pplxtasks.h>

#include "azure/errors.h"

namespace anf::azure {

struct HttpRequest {
  std::string method;  // GET, PUT, PATCH, DELETE, POST
  std::string url;     // absolute
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> body;
  std::string contentType = "application/json";
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  /// The header value, or "" (name in lower case).
  std::string header(const std::string& lowerName) const;
};

/// Either a response (any status) or an AzureError with `transport` set (no response).
using TransportResult = std::expected<HttpResponse, AzureError>;

class Transport {
 public:
  virtual ~Transport() = default;
  virtual pplx::task<TransportResult> send(HttpRequest request) = 0;
};
using TransportPtr = std::unique_ptr<Transport>;

struct TlsOptions {
  std::string caFile;     // added to the default trust store
  bool insecure = false;  // skip verification (warned about by the client)
  std::chrono::milliseconds timeout{30000};
};

/// cpprestsdk transport: one http_client (and connection pool) per origin. Fails when the CA file
/// cannot be read.
std::expected<TransportPtr, std::string> makeCpprestTransport(TlsOptions options);

/// "https://host:port" of an absolute URL (lower case), or "" when it does not parse.
std::string originOf(const std::string& url);
/// The path and query of an absolute URL ("/subscriptions/...?api-version=...").
std::string pathAndQueryOf(const std::string& url);
/// Percent-encoding for query values and form fields (RFC 3986 unreserved characters kept).
std::string urlEncode(std::string_view value);

}  // namespace anf::azure
