#pragma once
// Entra tokens per credential (tenant) and audience: the three credential kinds of SPEC §3 and the
// cache in front of them. Token HTTP requests go through the client's send function (same TLS,
// retries, logging and redaction as every other call, but no bearer token and no ARM throttle).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <pplx/pplxtasks.h>

#include "azure/client.h"
#include "azure/config.h"
#include "azure/redact.h"
#include "azure/transport.h"

namespace anf::azure {

struct AccessToken {
  std::string token;
  std::chrono::system_clock::time_point expiresOn;
};

/// Sends a token request (no Authorization header) and returns the response or a transport error.
/// `idempotent` token requests may be retried by the sender.
using TokenHttp = std::function<pplx::task<TransportResult>(HttpRequest request)>;

/// Fetches a fresh token; no caching.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  /// `audience` is a resource URI without a trailing slash ("https://management.azure.com").
  virtual pplx::task<Expected<AccessToken>> fetch(const std::string& audience) = 0;
};
using TokenSourcePtr = std::unique_ptr<TokenSource>;

/// The token source for one configured credential. Reads secrets and token files at each fetch (never
/// at construction), and registers what it reads with `redactor`.
Expected<TokenSourcePtr> makeTokenSource(const CredentialConfig& credential, const Endpoints& endpoints,
                                         const std::string& imdsEndpoint, TokenHttp http,
                                         std::shared_ptr<Redactor> redactor);

/// Parses a token endpoint response (Entra: expires_in seconds; IMDS/App Service: numbers as strings,
/// expires_on epoch seconds).
Expected<AccessToken> parseTokenResponse(const std::string& body, std::chrono::system_clock::time_point now);

/// Caches tokens per audience for one credential. A token is reused until `refreshMargin` before it
/// expires (margin capped at half its lifetime); inside the margin one background refresh starts and
/// the still-valid token is used; once expired, callers wait for the one refresh in flight.
/// Hold it in a shared_ptr (fetch continuations keep it alive).
class TokenCache : public std::enable_shared_from_this<TokenCache> {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  TokenCache(TokenSourcePtr source, std::chrono::seconds refreshMargin = std::chrono::minutes(5),
             Clock clock = [] { return std::chrono::system_clock::now(); });

  pplx::task<Expected<AccessToken>> get(const std::string& audience);
  /// Drops `token` if it is still the cached one (Azure rejected it, e.g. expired by Azure's clock).
  void invalidate(const std::string& audience, const std::string& token);
  /// Number of fetches started (for tests: single flight).
  int fetches() const;

 private:
  struct Entry {
    std::optional<AccessToken> token;
    std::chrono::system_clock::time_point obtainedAt{};
    std::optional<pplx::task<Expected<AccessToken>>> inFlight;
  };
  void startFetch(const std::string& audience, pplx::task_completion_event<Expected<AccessToken>> done);

  std::shared_ptr<TokenSource> source_;
  std::chrono::seconds refreshMargin_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  int fetches_ = 0;
};

}  // namespace anf::azure
