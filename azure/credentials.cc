#include "azure/credentials.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace anf::azure {
namespace {

using std::chrono::system_clock;

AzureError credentialError(std::string code, std::string message) {
  AzureError error;
  error.code = std::move(code);
  error.message = std::move(message);
  return error;
}

std::expected<std::string, AzureError> readTrimmedFile(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) return std::unexpected(credentialError("CredentialUnavailable", std::string("cannot read ") + what + " " + path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string value = buffer.str();
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
  if (value.empty()) return std::unexpected(credentialError("CredentialUnavailable", std::string(what) + " " + path + " is empty"));
  return value;
}

std::string withSlash(std::string url) {
  if (url.empty() || url.back() != '/') url += '/';
  return url;
}

/// Turns a token endpoint answer into a token or an error (Entra's `error`/`error_description`).
pplx::task<Expected<AccessToken>> toToken(pplx::task<TransportResult> response) {
  return response.then([](TransportResult result) -> Expected<AccessToken> {
    if (!result) return std::unexpected(result.error());
    if (result->status != 200)
      return std::unexpected(errorFromResponse(result->status, result->body, result->header("x-ms-request-id"),
                                               result->header("retry-after")));
    return parseTokenResponse(result->body, system_clock::now());
  });
}

/// Client credentials grant with a secret or an assertion (azure-api.md §10).
class EntraTokenSource final : public TokenSource {
 public:
  EntraTokenSource(CredentialConfig credential, std::string authority, TokenHttp http,
                   std::shared_ptr<Redactor> redactor)
      : credential_(std::move(credential)), authority_(withSlash(std::move(authority))), http_(std::move(http)),
        redactor_(std::move(redactor)) {}

  pplx::task<Expected<AccessToken>> fetch(const std::string& audience) override {
    auto proof = readProof();
    if (!proof) return pplx::task_from_result(Expected<AccessToken>(std::unexpected(proof.error())));
    redactor_->add(*proof);
    HttpRequest request;
    request.method = "POST";
    request.url = authority_ + credential_.tenantId + "/oauth2/v2.0/token";
    request.contentType = "application/x-www-form-urlencoded";
    std::string form = "grant_type=client_credentials&client_id=" + urlEncode(credential_.clientId) +
                       "&scope=" + urlEncode(audience + "/.default");
    if (credential_.kind == CredentialKind::ClientSecret) {
      form += "&client_secret=" + urlEncode(*proof);
    } else {
      form += "&client_assertion_type=" + urlEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
              "&client_assertion=" + urlEncode(*proof);
    }
    request.body = std::move(form);
    auto redactor = redactor_;
    return toToken(http_(std::move(request))).then([redactor](Expected<AccessToken> token) {
      if (token) redactor->add(token->token);
      return token;
    });
  }

 private:
  /// The secret (client secret) or the federated token (workload identity), read afresh every time.
  std::expected<std::string, AzureError> readProof() const {
    if (credential_.kind == CredentialKind::WorkloadIdentity) return readTrimmedFile(credential_.tokenFile, "federated token file");
    if (!credential_.secretFile.empty()) return readTrimmedFile(credential_.secretFile, "client secret file");
    const char* value = std::getenv(credential_.secretEnv.c_str());
    if (!value || !*value)
      return std::unexpected(credentialError("CredentialUnavailable", "environment variable " + credential_.secretEnv +
                                                                           " (client secret of credential " +
                                                                           credential_.name + ") is not set"));
    return std::string(value);
  }

  CredentialConfig credential_;
  std::string authority_;
  TokenHttp http_;
  std::shared_ptr<Redactor> redactor_;
};

/// Managed identity: App Service style (IDENTITY_ENDPOINT + IDENTITY_HEADER) or IMDS.
class ManagedIdentityTokenSource final : public TokenSource {
 public:
  ManagedIdentityTokenSource(CredentialConfig credential, std::string imds, TokenHttp http,
                             std::shared_ptr<Redactor> redactor)
      : credential_(std::move(credential)), imds_(std::move(imds)), http_(std::move(http)), redactor_(std::move(redactor)) {
    while (!imds_.empty() && imds_.back() == '/') imds_.pop_back();
    redactor_->add(credential_.identityHeader);
  }

  pplx::task<Expected<AccessToken>> fetch(const std::string& audience) override {
    HttpRequest request;
    request.method = "GET";
    std::string resource = "resource=" + urlEncode(audience + "/");
    std::string client = credential_.clientId.empty() ? "" : "&client_id=" + urlEncode(credential_.clientId);
    if (!credential_.identityEndpoint.empty()) {
      request.url = credential_.identityEndpoint + "?api-version=2019-08-01&" + resource + client;
      request.headers.emplace_back("X-IDENTITY-HEADER", credential_.identityHeader);
    } else {
      request.url = imds_ + "/metadata/identity/oauth2/token?api-version=2018-02-01&" + resource + client;
      request.headers.emplace_back("Metadata", "true");
    }
    auto redactor = redactor_;
    return toToken(http_(std::move(request))).then([redactor](Expected<AccessToken> token) {
      if (token) redactor->add(token->token);
      return token;
    });
  }

 private:
  CredentialConfig credential_;
  std::string imds_;
  TokenHttp http_;
  std::shared_ptr<Redactor> redactor_;
};

/// Seconds (a lifetime or a Unix time) in [0, 4e9]: beyond that a time_point in nanoseconds overflows (UB), so
/// a larger, negative or fractional-out-of-range value counts as absent.
long long numberOrString(const nlohmann::json& j, const char* key, long long fallback) {
  constexpr double kMaxSeconds = 4e9;
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  double value = 0;
  if (it->is_number()) {
    value = it->get<double>();
  } else if (it->is_string()) {
    try {
      value = static_cast<double>(std::stoll(it->get<std::string>()));
    } catch (...) {
      return fallback;
    }
  } else {
    return fallback;
  }
  return value >= 0 && value <= kMaxSeconds ? static_cast<long long>(value) : fallback;
}

}  // namespace

Expected<AccessToken> parseTokenResponse(const std::string& body, system_clock::time_point now) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("access_token") || !json["access_token"].is_string())
    return std::unexpected(credentialError("InvalidTokenResponse", "token response without access_token"));
  AccessToken token;
  token.token = json["access_token"].get<std::string>();
  long long expiresIn = numberOrString(json, "expires_in", -1);
  long long expiresOn = numberOrString(json, "expires_on", -1);
  if (expiresIn >= 0) {
    token.expiresOn = now + std::chrono::seconds(expiresIn);
  } else if (expiresOn >= 0) {
    token.expiresOn = system_clock::time_point(std::chrono::seconds(expiresOn));
  } else {
    token.expiresOn = now + std::chrono::minutes(5);  // unknown lifetime: be conservative
  }
  return token;
}

Expected<TokenSourcePtr> makeTokenSource(const CredentialConfig& credential, const Endpoints& endpoints,
                                         const std::string& imdsEndpoint, TokenHttp http,
                                         std::shared_ptr<Redactor> redactor) {
  auto invalid = [&](const std::string& why) {
    return std::unexpected(credentialError("InvalidCredentialConfig", "credential '" + credential.name + "': " + why));
  };
  switch (credential.kind) {
    case CredentialKind::ClientSecret:
      if (credential.tenantId.empty() || credential.clientId.empty()) return invalid("tenantId and clientId are required");
      if (credential.secretFile.empty() == credential.secretEnv.empty())
        return invalid("clientSecret needs exactly one of secretFile or secretEnv (secrets are never inline)");
      return std::make_unique<EntraTokenSource>(credential, endpoints.authority, std::move(http), std::move(redactor));
    case CredentialKind::WorkloadIdentity: {
      if (credential.tenantId.empty() || credential.clientId.empty() || credential.tokenFile.empty())
        return invalid("workloadIdentity needs tenantId, clientId and tokenFile");
      auto authority = credential.authorityHost.empty() ? endpoints.authority : credential.authorityHost;
      return std::make_unique<EntraTokenSource>(credential, authority, std::move(http), std::move(redactor));
    }
    case CredentialKind::ManagedIdentity: {
      auto withEnvironment = credential;
      applyManagedIdentityEnvironment(withEnvironment);
      return std::make_unique<ManagedIdentityTokenSource>(withEnvironment, imdsEndpoint, std::move(http),
                                                          std::move(redactor));
    }
  }
  return invalid("unknown kind");
}

TokenCache::TokenCache(TokenSourcePtr source, std::chrono::seconds refreshMargin, Clock clock)
    : source_(std::move(source)), refreshMargin_(refreshMargin), clock_(std::move(clock)) {}

void TokenCache::startFetch(const std::string& audience, pplx::task_completion_event<Expected<AccessToken>> done) {
  auto self = shared_from_this();
  source_->fetch(audience).then([self, audience, done](Expected<AccessToken> token) {
    {
      std::lock_guard lock(self->mutex_);
      auto& e = self->entries_[audience];
      if (token) {
        e.token = *token;
        e.obtainedAt = self->clock_();
      }
      e.inFlight.reset();
    }
    done.set(token);
  });
}

pplx::task<Expected<AccessToken>> TokenCache::get(const std::string& audience) {
  std::optional<pplx::task_completion_event<Expected<AccessToken>>> start;
  pplx::task<Expected<AccessToken>> result;
  {
    std::lock_guard lock(mutex_);
    auto& entry = entries_[audience];
    auto now = clock_();
    bool valid = entry.token && entry.token->expiresOn > now;
    if (valid) {
      auto margin = std::min<std::chrono::system_clock::duration>(refreshMargin_,
                                                                  (entry.token->expiresOn - entry.obtainedAt) / 2);
      result = pplx::task_from_result(Expected<AccessToken>(*entry.token));
      if (entry.token->expiresOn - now > margin || entry.inFlight) return result;
    } else if (entry.inFlight) {
      return *entry.inFlight;
    }
    // Expired, missing, or inside the refresh margin with nothing in flight: this caller starts the fetch.
    start.emplace();
    entry.inFlight = pplx::create_task(*start);
    ++fetches_;
    if (!valid) result = *entry.inFlight;
  }
  startFetch(audience, *start);
  return result;
}

void TokenCache::invalidate(const std::string& audience, const std::string& token) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(audience);
  if (it != entries_.end() && it->second.token && it->second.token->token == token) it->second.token.reset();
}

int TokenCache::fetches() const {
  std::lock_guard lock(mutex_);
  return fetches_;
}

}  // namespace anf::azure
