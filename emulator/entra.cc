// Entra: the token endpoint (client secret; client assertion for workload identity and federated apps), OpenID
// metadata and signing keys, instance discovery for MSAL, and the managed identity endpoints: IMDS (GET
// /metadata/identity/oauth2/token) and the local endpoint of Azure Cloud Shell and the (retired) VM managed identity
// extension (POST /oauth2/token with a form body, what MSI_ENDPOINT names; the Azure CLI's `az login --identity`
// uses it when MSI_ENDPOINT is set).
#include <ctime>

#include "emulator/service.h"

namespace anf::emulator {
namespace {

constexpr auto kImdsTokenLifetime = std::chrono::seconds(86399);
const std::string kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const std::string kTokenExchangeAudience = "api://AzureADTokenExchange";

/// "11/23/2026 10:00:00 AM", as ARM words token times.
std::string usTime(std::int64_t unixSeconds) {
  std::time_t time = static_cast<std::time_t>(unixSeconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char buffer[48];
  std::strftime(buffer, sizeof buffer, "%m/%d/%Y %I:%M:%S %p", &utc);
  std::string text = buffer;
  if (text[0] == '0') text.erase(0, 1);
  auto slash = text.find('/');
  if (text[slash + 1] == '0') text.erase(slash + 1, 1);
  auto space = text.find(' ');
  if (text[space + 1] == '0') text.erase(space + 1, 1);
  return text;
}

/// The audience Entra puts in a token requested for `resource` (scope without "/.default").
std::string audienceFor(std::string resource) {
  while (resource.ends_with("/")) resource.pop_back();
  if (resource == "https://management.azure.com" || resource == "https://management.core.windows.net") return resource + "/";
  return resource;
}

/// Issuers compare equal across hosts for Entra's own form ("https://login.microsoftonline.com/{tid}/v2.0" is
/// the emulator's "{base}/{tid}/v2.0"), and ignoring one trailing slash.
std::string normalizedIssuer(std::string issuer, const std::string& baseUrl) {
  while (issuer.ends_with("/")) issuer.pop_back();
  for (const std::string host : {"https://login.microsoftonline.com", "https://sts.windows.net", "https://login.windows.net"}) {
    if (issuer.starts_with(host + "/")) return toLower(baseUrl + issuer.substr(host.size()));
  }
  return toLower(issuer);
}

bool audienceMatches(const Json& claimedAudience, const Json& allowed) {
  auto one = [&](const std::string& audience) {
    for (const auto& entry : allowed) {
      if (entry.is_string() && equalsNoCase(entry.get<std::string>(), audience)) return true;
    }
    return false;
  };
  if (claimedAudience.is_string()) return one(claimedAudience.get<std::string>());
  if (claimedAudience.is_array()) {
    for (const auto& audience : claimedAudience) {
      if (audience.is_string() && one(audience.get<std::string>())) return true;
    }
  }
  return false;
}

/// Entra's error shape: {"error","error_description":"AADSTSnnn: ...","error_codes","timestamp","trace_id","correlation_id"}.
HttpResponse entraError(World& world, int status, const std::string& error, int code, const std::string& description) {
  std::string traceId = world.newGuid(), correlationId = world.newGuid();
  std::string now = world.clock.iso8601();
  std::string timestamp = now.substr(0, 10) + " " + now.substr(11, 8) + "Z";
  return toHttp(Response::json(status, {{"error", error},
                                        {"error_description", "AADSTS" + std::to_string(code) + ": " + description + " Trace ID: " + traceId +
                                                                  " Correlation ID: " + correlationId + " Timestamp: " + timestamp},
                                        {"error_codes", {code}},
                                        {"timestamp", timestamp},
                                        {"trace_id", traceId},
                                        {"correlation_id", correlationId}}));
}

/// The value of `name` in a form or query string, or "".
std::string field(const std::map<std::string, std::string>& form, const std::string& name) {
  auto it = form.find(name);
  return it == form.end() ? std::string() : it->second;
}

bool isUserAssignedIdentity(const Json& resource) {
  return toLower(resource.value("type", "")).ends_with("microsoft.managedidentity/userassignedidentities");
}

/// Who a managed identity token is for.
struct ManagedIdentity {
  std::string tenantId;
  std::string objectId;
  std::string clientId;
};

/// The identity an IMDS request names (client_id, object_id or msi_res_id; the last match wins), else the first
/// principal of the first tenant; nullopt when there is none.
std::optional<ManagedIdentity> imdsIdentity(World& world, const std::map<std::string, std::string>& query) {
  std::string wantedClient = field(query, "client_id"), wantedObject = field(query, "object_id"), wantedResource = field(query, "msi_res_id");
  if (wantedClient.empty() && wantedObject.empty() && wantedResource.empty()) {
    if (world.tenants.empty() || world.tenants.front().principals.empty()) return std::nullopt;
    const Tenant& tenant = world.tenants.front();
    return ManagedIdentity{tenant.tenantId, tenant.principals.front().objectId, tenant.principals.front().clientId};
  }
  ManagedIdentity found;
  for (Json* identity : world.withPrefix("/subscriptions/")) {
    if (!isUserAssignedIdentity(*identity)) continue;
    const Json& properties = identity->value("properties", Json::object());
    if ((!wantedClient.empty() && equalsNoCase(properties.value("clientId", ""), wantedClient)) ||
        (!wantedObject.empty() && equalsNoCase(properties.value("principalId", ""), wantedObject)) ||
        (!wantedResource.empty() && equalsNoCase(identity->value("id", ""), wantedResource))) {
      found = {properties.value("tenantId", ""), properties.value("principalId", ""), properties.value("clientId", "")};
    }
  }
  if (found.objectId.empty()) return std::nullopt;
  return found;
}

const std::string kCheckFederatedCredential =
    "'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.";

}  // namespace

std::expected<Json, BearerFailure> Service::verifyBearer(const std::map<std::string, std::string>& headers,
                                                         const std::vector<std::string>& audiences) const {
  using Kind = BearerFailure::Kind;
  auto header = headers.find("authorization");
  if (header == headers.end() || header->second.empty()) {
    return std::unexpected(BearerFailure{Kind::Missing, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."});
  }
  const std::string& value = header->second;
  if (value.size() < 8 || !equalsNoCase(value.substr(0, 7), "Bearer ")) {
    return std::unexpected(BearerFailure{Kind::Malformed, "AuthenticationFailed",
                                         "Authentication failed. The 'Authorization' header is provided in an invalid format."});
  }
  auto claims = signer_->verify(value.substr(7));
  if (!claims || !claims->contains("tid") || !claims->contains("exp")) {
    return std::unexpected(BearerFailure{Kind::Invalid, "InvalidAuthenticationToken", "The access token is invalid."});
  }
  std::string audience = claims->value("aud", "");
  if (std::ranges::none_of(audiences, [&](const std::string& allowed) { return equalsNoCase(allowed, audience); })) {
    std::string allowed;
    for (const auto& entry : audiences) allowed += (allowed.empty() ? "'" : ",'") + entry + "'";
    return std::unexpected(BearerFailure{Kind::WrongAudience, "InvalidAuthenticationToken",
                                         "The access token has been obtained for wrong audience or resource '" + audience +
                                             "'. It should exactly match with one of the allowed audiences " + allowed + "."});
  }
  std::int64_t expiry = claims->value("exp", std::int64_t{0});
  std::int64_t now = world_.clock.unixSeconds();
  if (expiry < now) {
    return std::unexpected(BearerFailure{Kind::Expired, "ExpiredAuthenticationToken",
                                         "The access token expiry UTC time '" + usTime(expiry) + "' is earlier than current UTC time '" +
                                             usTime(now) + "'."});
  }
  return *claims;
}

bool Service::isEntraPath(const std::string& path) const {
  auto segments = splitPath(path);
  if (segments.size() >= 3 && segments[0] == "metadata" && segments[1] == "identity") return true;
  if (segments.size() == 2 && segments[0] == "oauth2" && segments[1] == "token") return true;  // MSI_ENDPOINT (Cloud Shell)
  if (segments.size() < 2) return false;
  const std::string& second = segments[1];
  return second == "oauth2" || second == "v2.0" || second == ".well-known" || second == "discovery";
}

const Tenant* Service::tenantByIdOrName(const std::string& idOrName) const {
  for (const auto& tenant : world_.tenants) {
    if (equalsNoCase(tenant.tenantId, idOrName) || equalsNoCase(tenant.name, idOrName) ||
        equalsNoCase(tenant.name + ".onmicrosoft.com", idOrName)) {
      return &tenant;
    }
  }
  return nullptr;
}

Json Service::openIdConfiguration(const std::string& tenant) const {
  std::string authority = baseUrl_ + "/" + tenant;
  return {{"token_endpoint", authority + "/oauth2/v2.0/token"},
          {"token_endpoint_auth_methods_supported", {"client_secret_post", "private_key_jwt", "client_secret_basic"}},
          {"jwks_uri", authority + "/discovery/v2.0/keys"},
          {"response_modes_supported", {"query", "fragment", "form_post"}},
          {"subject_types_supported", {"pairwise"}},
          {"id_token_signing_alg_values_supported", {"RS256"}},
          {"response_types_supported", {"code", "id_token", "code id_token", "id_token token"}},
          {"scopes_supported", {"openid", "profile", "email", "offline_access"}},
          {"issuer", baseUrl_ + "/" + (tenant == "common" || tenant == "organizations" ? std::string("{tenantid}") : tenant) + "/v2.0"},
          {"request_uri_parameter_supported", false},
          {"userinfo_endpoint", baseUrl_ + "/oidc/userinfo"},
          {"authorization_endpoint", authority + "/oauth2/v2.0/authorize"},
          {"device_authorization_endpoint", authority + "/oauth2/v2.0/devicecode"},
          {"http_logout_supported", true},
          {"frontchannel_logout_supported", true},
          {"end_session_endpoint", authority + "/oauth2/v2.0/logout"},
          {"claims_supported", {"sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid"}},
          {"kerberos_endpoint", authority + "/kerberos"},
          {"tenant_region_scope", "NA"},
          {"cloud_instance_name", "microsoftonline.com"},
          {"cloud_graph_host_name", "graph.windows.net"},
          {"msgraph_host", "graph.microsoft.com"},
          {"rbac_url", "https://pas.windows.net"}};
}

std::string Service::issueToken(const std::string& tenantId, const std::string& objectId, const std::string& appId,
                                const std::string& audience, std::chrono::seconds lifetime, const std::string& appidacr) {
  std::int64_t now = world_.clock.unixSeconds();
  return signer_->sign({{"aud", audience},
                        {"iss", issuerOf(tenantId)},
                        {"iat", now},
                        {"nbf", now},
                        {"exp", now + lifetime.count()},
                        {"tid", tenantId},
                        {"oid", objectId},
                        {"sub", objectId},
                        {"appid", appId},
                        {"azp", appId},
                        {"appidacr", appidacr},
                        {"azpacr", appidacr},
                        {"idtyp", "app"},
                        {"ver", "2.0"},
                        {"uti", world_.newGuid()}});
}

HttpResponse Service::handleEntra(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                                  const HttpRequest& http, std::string& tenantForLog) {
  auto segments = splitPath(path);
  auto json = [](int status, const Json& body) { return toHttp(Response::json(status, body)); };
  if (segments[0] == "metadata") {
    if (segments.size() == 4 && segments[2] == "oauth2" && segments[3] == "token" && method == "GET") return imdsToken(query, http, tenantForLog, true);
    return json(404, {{"error", "not_found"}, {"error_description", "Unknown IMDS path"}});
  }
  if (segments[0] == "oauth2") {
    // Cloud Shell's MSI_ENDPOINT (http://localhost:50342/oauth2/token), the protocol of the retired VM managed identity
    // extension: POST, header Metadata: true, form body resource= (and client_id/object_id/msi_res_id), no
    // api-version; the answer has IMDS's fields.
    if (method != "POST") return json(405, {{"error", "invalid_request"}, {"error_description", "The requested method is not supported."}});
    return imdsToken(parseQuery(http.body, false, true), http, tenantForLog, false);
  }
  const std::string& tenantName = segments[0];
  tenantForLog = tenantName;
  std::string rest;
  for (std::size_t i = 1; i < segments.size(); ++i) rest += "/" + segments[i];
  if (method == "GET" && (rest == "/v2.0/.well-known/openid-configuration" || rest == "/.well-known/openid-configuration")) {
    return openIdConfigurationOf(tenantName);
  }
  if (method == "GET" && (rest == "/discovery/v2.0/keys" || rest == "/discovery/keys")) return json(200, {{"keys", {signer_->jwk()}}});
  if (method == "GET" && rest == "/discovery/instance") return instanceDiscovery(tenantName);
  if (method == "POST" && (rest == "/oauth2/v2.0/token" || rest == "/oauth2/token")) {
    const Tenant* tenant = tenantByIdOrName(tenantName);
    if (tenant == nullptr) {
      return entraError(world_, 400, "invalid_request", 90002,
                        "Tenant '" + tenantName + "' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.");
    }
    tenantForLog = tenant->tenantId;
    return tokenEndpoint(*tenant, parseQuery(http.body, false, true), rest == "/oauth2/token");
  }
  return json(404, {{"error", "not_found"}, {"error_description", "The emulator serves no Entra endpoint at '" + path + "'."}});
}

HttpResponse Service::openIdConfigurationOf(const std::string& tenantName) const {
  const Tenant* tenant = tenantByIdOrName(tenantName);
  if (tenant == nullptr && tenantName != "common" && tenantName != "organizations") {
    return toHttp(Response::json(400, {{"error", "invalid_tenant"},
                                       {"error_description", "AADSTS90002: Tenant '" + tenantName + "' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."},
                                       {"error_codes", {90002}}}));
  }
  return toHttp(Response::json(200, openIdConfiguration(tenant ? tenant->tenantId : tenantName)));
}

HttpResponse Service::instanceDiscovery(const std::string& tenantName) const {
  std::string host = baseUrl_.substr(baseUrl_.find("://") + 3);
  return toHttp(Response::json(200, {{"tenant_discovery_endpoint", baseUrl_ + "/" + tenantName + "/v2.0/.well-known/openid-configuration"},
                                     {"api-version", "1.1"},
                                     {"metadata", {{{"preferred_network", host}, {"preferred_cache", host}, {"aliases", {host}}}}}}));
}

/// A client credentials request whose grant type, client and resource are valid.
struct Service::TokenRequest {
  const Tenant& tenant;
  bool v1;                // /oauth2/token (resource=) rather than /oauth2/v2.0/token (scope=)
  std::string clientId;
  std::string resource;
  std::string audience;
};

/// A client assertion whose signature and time range are valid.
struct Service::Assertion {
  std::string normalized;  // normalizedIssuer() of its issuer
  std::string subject;
  Json audience;
};

HttpResponse Service::tokenEndpoint(const Tenant& tenant, const std::map<std::string, std::string>& form, bool v1) {
  auto request = parseTokenRequest(tenant, form, v1);
  if (!request) return request.error();
  std::string secret = field(form, "client_secret");
  std::string assertion = field(form, "client_assertion");
  if (!secret.empty()) return clientSecretGrant(*request, secret);
  if (assertion.empty()) {
    return entraError(world_, 401, "invalid_client", 7000218,
                      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }
  if (field(form, "client_assertion_type") != kJwtBearer) {
    return entraError(world_, 400, "invalid_request", 50027,
                      "JWT token is invalid or malformed: client_assertion_type must be '" + kJwtBearer + "'.");
  }
  auto verified = verifyAssertion(assertion);
  if (!verified) return verified.error();
  if (auto answer = managedIdentityAssertionGrant(*request, *verified)) return *answer;
  if (auto answer = principalAssertionGrant(*request, *verified)) return *answer;
  return applicationAssertionGrant(*request, *verified);
}

std::expected<Service::TokenRequest, HttpResponse> Service::parseTokenRequest(const Tenant& tenant,
                                                                              const std::map<std::string, std::string>& form, bool v1) {
  auto refuse = [&](const std::string& error, int code, const std::string& description) {
    return std::unexpected(entraError(world_, 400, error, code, description));
  };
  std::string grantType = field(form, "grant_type");
  if (grantType.empty()) return refuse("invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.");
  if (grantType != "client_credentials") return refuse("unsupported_grant_type", 70003, "The app requested an unsupported grant type '" + grantType + "'.");
  std::string clientId = field(form, "client_id");
  if (clientId.empty()) return refuse("invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.");
  std::string resource;
  if (v1) {
    resource = field(form, "resource");
    if (resource.empty()) return refuse("invalid_request", 50001, "The resource principal named was not found in the tenant.");
  } else {
    std::string scope = field(form, "scope");
    if (scope.empty()) return refuse("invalid_request", 900144, "The request body must contain the following parameter: 'scope'.");
    if (!scope.ends_with("/.default") || scope.find(' ') != std::string::npos) {
      return refuse("invalid_scope", 1002012,
                    "The provided value for scope " + scope +
                        " is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).");
    }
    resource = scope.substr(0, scope.size() - std::string("/.default").size());
  }
  return TokenRequest{tenant, v1, clientId, resource, audienceFor(resource)};
}

HttpResponse Service::tokenResponse(const TokenRequest& request, const std::string& objectId, const std::string& appId,
                                    const std::string& appidacr) {
  const std::chrono::seconds lifetime = options_.tokenLifetime;
  std::string token = issueToken(request.tenant.tenantId, objectId, appId, request.audience, lifetime, appidacr);
  Json body{{"token_type", "Bearer"}, {"expires_in", lifetime.count()}, {"ext_expires_in", lifetime.count()}, {"access_token", token}};
  if (request.v1) {
    body["expires_on"] = std::to_string(world_.clock.unixSeconds() + lifetime.count());
    body["resource"] = request.resource;
  }
  HttpResponse response = toHttp(Response::json(200, body));
  response.headers["Cache-Control"] = "no-store, no-cache";
  return response;
}

HttpResponse Service::clientNotInDirectory(const TokenRequest& request) {
  return entraError(world_, 400, "unauthorized_client", 700016,
                    "Application with identifier '" + request.clientId + "' was not found in the directory '" + request.tenant.name +
                        "'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any "
                        "user in the tenant. You may have sent your authentication request to the wrong tenant.");
}

HttpResponse Service::clientSecretGrant(const TokenRequest& request, const std::string& secret) {
  for (const auto& principal : request.tenant.principals) {
    if (!equalsNoCase(principal.clientId, request.clientId)) continue;
    if (principal.clientSecret != secret) {
      return entraError(world_, 401, "invalid_client", 7000215,
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client "
                        "secret ID, for a secret added to app '" + principal.clientId + "'.");
    }
    return tokenResponse(request, principal.objectId, principal.clientId, "1");
  }
  return clientNotInDirectory(request);
}

std::expected<Service::Assertion, HttpResponse> Service::verifyAssertion(const std::string& assertion) {
  auto unverified = unverifiedJwtClaims(assertion);
  if (!unverified) return std::unexpected(entraError(world_, 400, "invalid_request", 50027, "JWT token is invalid or malformed."));
  std::string issuer = unverified->value("iss", "");
  std::string normalized = normalizedIssuer(issuer, baseUrl_);
  auto external = [&](const ExternalIssuer& e) { return normalizedIssuer(e.issuer, baseUrl_) == normalized; };
  bool ownIssuer = normalized == toLower(workloadIdentityIssuer());
  for (const auto& tenantEntry : world_.tenants) ownIssuer = ownIssuer || normalized == toLower(issuerOf(tenantEntry.tenantId));
  std::optional<Json> claims;
  if (ownIssuer) {
    claims = signer_->verify(assertion);
  } else {
    for (const auto& candidate : externalIssuers_) {
      if (external(candidate)) claims = verifyJwtWithPublicKey(assertion, candidate.publicKeyPem);
    }
    if (!claims && std::ranges::none_of(externalIssuers_, external)) {
      return std::unexpected(entraError(world_, 400, "invalid_client", 700211,
                                        "No matching federated identity record found for presented assertion issuer '" + issuer +
                                            kCheckFederatedCredential));
    }
  }
  if (!claims) return std::unexpected(entraError(world_, 401, "invalid_client", 700027, "Client assertion failed signature validation."));
  std::int64_t now = world_.clock.unixSeconds();
  if (claims->value("exp", std::int64_t{0}) < now || claims->value("nbf", std::int64_t{0}) > now + 300) {
    return std::unexpected(entraError(world_, 400, "invalid_client", 700024,
                                      "Client assertion is not within its valid time range. Current time: " + world_.clock.iso8601() + "."));
  }
  return Assertion{normalized, claims->value("sub", ""), claims->contains("aud") ? (*claims)["aud"] : Json("")};
}

std::expected<bool, HttpResponse> Service::federatedCredentialAccepts(const Assertion& assertion, const std::string& issuer,
                                                                     const std::string& subject, const Json& audiences) {
  if (normalizedIssuer(issuer, baseUrl_) != assertion.normalized || subject != assertion.subject) return false;
  if (!audienceMatches(assertion.audience, audiences.is_array() ? audiences : Json::array({kTokenExchangeAudience}))) {
    return std::unexpected(entraError(world_, 400, "invalid_client", 700212,
                                      "No matching federated identity record found for presented assertion audience '" +
                                          assertion.audience.dump() + kCheckFederatedCredential));
  }
  return true;
}

HttpResponse Service::noFederatedSubject(const Assertion& assertion) {
  return entraError(world_, 400, "invalid_client", 700213,
                    "No matching federated identity record found for presented assertion subject '" + assertion.subject +
                        kCheckFederatedCredential);
}

std::optional<HttpResponse> Service::managedIdentityAssertionGrant(const TokenRequest& request, const Assertion& assertion) {
  for (Json* identity : world_.withPrefix("/subscriptions/")) {
    const Json& properties = identity->value("properties", Json::object());
    if (!isUserAssignedIdentity(*identity) || !equalsNoCase(properties.value("clientId", ""), request.clientId)) continue;
    if (!equalsNoCase(properties.value("tenantId", request.tenant.tenantId), request.tenant.tenantId)) return clientNotInDirectory(request);
    for (Json* credential : world_.children(identity->value("id", ""), "federatedIdentityCredentials")) {
      const Json& fic = credential->value("properties", Json::object());
      auto accepted = federatedCredentialAccepts(assertion, fic.value("issuer", ""), fic.value("subject", ""), fic.value("audiences", Json::array()));
      if (!accepted) return accepted.error();
      if (*accepted) return tokenResponse(request, properties.value("principalId", ""), properties.value("clientId", ""), "2");
    }
    return noFederatedSubject(assertion);
  }
  return std::nullopt;
}

std::optional<HttpResponse> Service::principalAssertionGrant(const TokenRequest& request, const Assertion& assertion) {
  for (const auto& principal : request.tenant.principals) {
    if (!equalsNoCase(principal.clientId, request.clientId) || assertion.normalized != toLower(workloadIdentityIssuer())) continue;
    if (!audienceMatches(assertion.audience, Json::array({kTokenExchangeAudience}))) {
      return entraError(world_, 400, "invalid_client", 700212,
                        "No matching federated identity record found for presented assertion audience '" + assertion.audience.dump() + "'.");
    }
    return tokenResponse(request, principal.objectId, principal.clientId, "2");
  }
  return std::nullopt;
}

HttpResponse Service::applicationAssertionGrant(const TokenRequest& request, const Assertion& assertion) {
  const auto applications = graphApplicationsWithAppId(world_, request.clientId);
  if (applications.empty()) return clientNotInDirectory(request);
  const Json& application = *applications.back();
  Json* servicePrincipal = nullptr;
  for (Json* candidate : world_.withPrefix("/tenants/" + request.tenant.tenantId + "/servicePrincipals/")) {
    if (candidate->value("appId", "") == request.clientId) servicePrincipal = candidate;
  }
  if (servicePrincipal == nullptr) {
    bool home = equalsNoCase(application.value("tenantId", ""), request.tenant.tenantId);
    bool multitenant = application.value("signInAudience", "AzureADMyOrg") != "AzureADMyOrg";
    if (!home && !multitenant) return clientNotInDirectory(request);
    return entraError(world_, 400, "invalid_client", 7000229,
                      "The client application " + request.clientId + " is missing service principal in the tenant " + request.tenant.tenantId +
                          ". See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119");
  }
  for (Json* credential : world_.children(application.value("id", ""), "federatedIdentityCredentials")) {
    auto accepted = federatedCredentialAccepts(assertion, credential->value("issuer", ""), credential->value("subject", ""),
                                               credential->value("audiences", Json::array()));
    if (!accepted) return accepted.error();
    if (*accepted) return tokenResponse(request, servicePrincipal->value("objectId", ""), request.clientId, "2");
  }
  return noFederatedSubject(assertion);
}

HttpResponse Service::imdsToken(const std::map<std::string, std::string>& query, const HttpRequest& http, std::string& tenantForLog,
                                bool requireApiVersion) {
  auto error = [](int status, const std::string& code, const std::string& description) {
    return toHttp(Response::json(status, {{"error", code}, {"error_description", description}}));
  };
  auto metadata = http.headers.find("metadata");
  if (metadata == http.headers.end() || !equalsNoCase(metadata->second, "true")) {
    return error(400, "invalid_request", "Required metadata header not specified");
  }
  if (requireApiVersion && field(query, "api-version").empty()) return error(400, "invalid_request", "Required query variable 'api-version' is missing");
  std::string resource = field(query, "resource");
  if (resource.empty()) return error(400, "invalid_request", "Required audience parameter not specified");
  auto identity = imdsIdentity(world_, query);
  if (!identity) return error(400, "invalid_request", "Identity not found");
  tenantForLog = identity->tenantId;
  std::int64_t now = world_.clock.unixSeconds();
  std::string token = issueToken(identity->tenantId, identity->objectId, identity->clientId, audienceFor(resource), kImdsTokenLifetime, "2");
  return toHttp(Response::json(200, {{"access_token", token},
                                     {"client_id", identity->clientId},
                                     {"expires_in", std::to_string(kImdsTokenLifetime.count())},
                                     {"expires_on", std::to_string(now + kImdsTokenLifetime.count())},
                                     {"ext_expires_in", std::to_string(kImdsTokenLifetime.count())},
                                     {"not_before", std::to_string(now)},
                                     {"resource", resource},
                                     {"token_type", "Bearer"}}));
}

}  // namespace anf::emulator
