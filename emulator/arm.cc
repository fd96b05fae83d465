// ARM: bearer tokens, api-version, tenancy, throttling, routing to the providers, long-running operations.
#include <cmath>

#include <spdlog/spdlog.h>

#include "emulator/log.h"
#include "emulator/service.h"

namespace anf::emulator {
namespace {

constexpr int kRetryAfterSeconds = 1;

/// api-versions of the endpoints the core answers itself (subscriptions, tenants, provider registration).
const std::vector<std::string> kCoreApiVersions = {
    "2014-04-01", "2015-01-01", "2016-02-01", "2016-06-01", "2016-09-01", "2018-02-01", "2018-05-01",
    "2019-05-01", "2019-06-01", "2019-10-01", "2019-11-01", "2020-01-01", "2020-06-01", "2020-10-01",
    "2021-01-01", "2021-04-01", "2022-01-01", "2022-09-01", "2022-12-01", "2023-07-01", "2024-03-01",
    "2024-07-01", "2024-11-01", "2025-03-01", "2025-04-01"};

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

bool contains(const std::vector<std::string>& items, const std::string& wanted) {
  return std::ranges::any_of(items, [&](const std::string& item) { return equalsNoCase(item, wanted); });
}

/// Re-cases the ARM keywords of a scope: "/subscriptions/S/resourcegroups/G" -> "/subscriptions/S/resourceGroups/G".
std::string canonicalScope(const std::vector<std::string>& segments) {
  std::string scope;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    std::string segment = segments[i];
    if (i % 2 == 0 && equalsNoCase(segment, "subscriptions")) segment = "subscriptions";
    if (i % 2 == 0 && equalsNoCase(segment, "resourceGroups")) segment = "resourceGroups";
    if (equalsNoCase(segment, "providers")) segment = "providers";
    scope += "/" + segment;
  }
  return scope;
}

enum BucketKind { kReads = 0, kWrites = 1, kDeletes = 2 };

BucketKind bucketKind(const std::string& method) {
  if (method == "GET" || method == "HEAD") return kReads;
  if (method == "DELETE") return kDeletes;
  return kWrites;
}

}  // namespace

/// The Context a provider sees for one request.
class Service::RequestContext : public Context {
 public:
  RequestContext(Service& service, const Request& request, std::string apiVersion)
      : service_(service), request_(request), apiVersion_(std::move(apiVersion)) {}
  World& world() override { return service_.world_; }
  Response startOperation(LongRunningOperation&& operation) override {
    return service_.startOperation(std::move(operation), request_, apiVersion_);
  }
  bool operationInProgress(const std::string& resourceId) override { return service_.operationInProgress(resourceId); }

 private:
  Service& service_;
  const Request& request_;
  std::string apiVersion_;
};

HttpResponse Service::handleArm(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                                const HttpRequest& http, std::string& tenantForLog) {
  std::vector<std::string> audiences = {"https://management.azure.com/", "https://management.azure.com",
                                        "https://management.core.windows.net/", "https://management.core.windows.net",
                                        baseUrl_, baseUrl_ + "/"};
  auto claims = verifyBearer(http.headers, audiences);
  if (!claims) {
    Response refused = Response::error(401, claims.error().code, claims.error().message);
    refused.headers["WWW-Authenticate"] = "Bearer authorization_uri=\"" + baseUrl_ + "/common\", error=\"invalid_token\", error_description=\"" +
                                          claims.error().message + "\"";
    return toHttp(refused);
  }
  Request request{.method = method, .path = path, .query = query, .headers = http.headers, .body = nullptr, .caller = {}};
  request.caller.tenantId = claims->value("tid", "");
  request.caller.objectId = claims->value("oid", "");
  request.caller.appId = claims->value("appid", claims->value("azp", ""));
  tenantForLog = request.caller.tenantId;
  if (http.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    request.body = Json::parse(http.body, nullptr, false);
    if (request.body.is_discarded()) {
      return toHttp(Response::error(400, "InvalidRequestContent",
                                    "The request content was invalid and could not be deserialized: 'Unexpected character encountered while parsing value.'"));
    }
  }
  return toHttp(dispatchArm(request, false));
}

Response Service::dispatchArm(const Request& request, bool internal) {
  auto segments = splitPath(request.path);
  auto apiVersionIt = request.query.find("api-version");
  if (apiVersionIt == request.query.end() || apiVersionIt->second.empty()) {
    return Response::error(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
  }
  const std::string& apiVersion = apiVersionIt->second;
  auto invalidApiVersion = [&](const std::vector<std::string>& supported) {
    return Response::error(400, "InvalidApiVersionParameter",
                           "The api-version '" + apiVersion + "' is invalid. The supported versions are '" + join(supported, ",") + "'.");
  };

  std::string subscriptionId;
  if (!segments.empty() && equalsNoCase(segments[0], "subscriptions") && segments.size() >= 2) {
    subscriptionId = segments[1];
    const Tenant* owner = world_.tenantOfSubscription(subscriptionId);
    if (owner == nullptr) {
      return Response::error(404, "SubscriptionNotFound", "The subscription '" + subscriptionId + "' could not be found.");
    }
    if (!internal && !equalsNoCase(owner->tenantId, request.caller.tenantId)) {
      Response wrongTenant = Response::error(
          401, "InvalidAuthenticationTokenTenant",
          "The access token is from the wrong issuer 'https://sts.windows.net/" + request.caller.tenantId +
              "/'. It must match the tenant 'https://sts.windows.net/" + owner->tenantId +
              "/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/" + owner->tenantId +
              "' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, "
              "but information about new tenant could take time to propagate (up to an hour). If you just transferred your "
              "subscription and see this error message, please try back later.");
      wrongTenant.headers["WWW-Authenticate"] =
          "Bearer authorization_uri=\"" + baseUrl_ + "/" + owner->tenantId +
          "\", error=\"invalid_token\", error_description=\"The access token is from the wrong issuer. It must match the tenant associated with this subscription. Please use correct authority to get the token.\"";
      return wrongTenant;
    }
  }

  bool subscriptionCore = !segments.empty() &&
                          ((segments.size() <= 2 && equalsNoCase(segments[0], "subscriptions")) ||
                           (segments.size() == 1 && equalsNoCase(segments[0], "tenants")) ||
                           (segments.size() == 3 && equalsNoCase(segments[0], "subscriptions") && equalsNoCase(segments[2], "locations")) ||
                           (segments.size() >= 3 && segments.size() <= 5 && equalsNoCase(segments[0], "subscriptions") &&
                            equalsNoCase(segments[2], "providers") &&
                            (segments.size() <= 4 || (request.method == "POST" && (equalsNoCase(segments[4], "register") ||
                                                                                    equalsNoCase(segments[4], "unregister"))))));
  if (subscriptionCore) {
    if (!contains(kCoreApiVersions, apiVersion)) return invalidApiVersion(kCoreApiVersions);
    return subscriptionLevel(request, segments);
  }

  auto parsed = parseArmPath(request.method, request.path);
  if (!parsed) return parsed.error();
  ArmPath path = std::move(*parsed);
  ResourceProvider* provider = providerFor(path.providerNamespace);
  if (provider == nullptr) {
    return Response::error(404, "NoRegisteredProviderFound",
                           "No registered resource provider found for location 'eastus' and API version '" + apiVersion + "' for type '" +
                               path.resourceType() + "'.");
  }
  path.providerNamespace = provider->providerNamespace();
  if (!contains(provider->apiVersions(), apiVersion)) return invalidApiVersion(provider->apiVersions());

  std::map<std::string, std::string> rateHeaders;
  if (!path.subscriptionId.empty() && !internal) {
    if (auto throttled = throttle(path.subscriptionId, request.method, rateHeaders, request.caller.objectId)) return *throttled;
  }
  auto withRateHeaders = [&](Response response) {
    for (const auto& [name, value] : rateHeaders) response.headers[name] = value;
    return response;
  };
  if (!path.resourceGroup.empty() &&
      world_.find("/subscriptions/" + path.subscriptionId + "/resourceGroups/" + path.resourceGroup) == nullptr) {
    return withRateHeaders(Response::error(404, "ResourceGroupNotFound", "Resource group '" + path.resourceGroup + "' could not be found."));
  }
  if (path.scope.empty() && path.types.size() == 2 && path.names.size() == 2 && equalsNoCase(path.types[0], "locations") &&
      (equalsNoCase(path.types[1], "operationResults")) && request.method == "GET") {
    return withRateHeaders(pollOperation(path, request));
  }
  RequestContext context(*this, request, apiVersion);
  try {
    return withRateHeaders(provider->handle(request, path, context));
  } catch (const std::exception& error) {
    emulatorLog()->error("{} {}: provider {} threw: {}", request.method, request.path, provider->providerNamespace(), error.what());
    return withRateHeaders(Response::error(500, "InternalServerError", std::string("The provider failed: ") + error.what()));
  }
}

std::expected<ArmPath, Response> Service::parseArmPath(const std::string& method, const std::string& path) const {
  auto segments = splitPath(path);
  ArmPath parsed;
  std::vector<std::string> rest;
  auto notFound = [&] {
    return std::unexpected(Response::error(404, "InvalidResourceType", "The resource path '" + path + "' is not valid."));
  };
  // Extension resources (role assignments, role definitions) hang under any scope.
  std::optional<std::size_t> extension;
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    if (equalsNoCase(segments[i], "providers") && equalsNoCase(segments[i + 1], "Microsoft.Authorization")) extension = i;
  }
  std::vector<std::string> scope;
  if (extension) {
    scope.assign(segments.begin(), segments.begin() + static_cast<std::ptrdiff_t>(*extension));
    parsed.scope = canonicalScope(scope);
    parsed.providerNamespace = segments[*extension + 1];
    rest.assign(segments.begin() + static_cast<std::ptrdiff_t>(*extension + 2), segments.end());
  } else {
    scope = segments;
  }
  std::size_t i = 0;
  if (i < scope.size() && equalsNoCase(scope[i], "subscriptions")) {
    if (scope.size() < 2) return notFound();
    parsed.subscriptionId = scope[1];
    i = 2;
    if (i < scope.size() && equalsNoCase(scope[i], "resourceGroups")) {
      if (i + 1 >= scope.size()) {
        if (extension) return notFound();
        parsed.providerNamespace = "Microsoft.Resources";
        parsed.types = {"resourceGroups"};
        return parsed;
      }
      parsed.resourceGroup = scope[i + 1];
      i += 2;
    }
  }
  if (!extension) {
    if (i < scope.size() && equalsNoCase(scope[i], "providers")) {
      if (i + 1 >= scope.size()) return notFound();
      parsed.providerNamespace = scope[i + 1];
      rest.assign(scope.begin() + static_cast<std::ptrdiff_t>(i + 2), scope.end());
    } else if (!parsed.subscriptionId.empty()) {
      // No provider segment: the resource group itself, or subscription/RG-level lists (Microsoft.Resources).
      parsed.providerNamespace = "Microsoft.Resources";
      if (!parsed.resourceGroup.empty()) {
        rest = {"resourceGroups", parsed.resourceGroup};
        parsed.resourceGroup.clear();
      }
      rest.insert(rest.end(), scope.begin() + static_cast<std::ptrdiff_t>(i), scope.end());
    } else {
      return notFound();
    }
  }
  if (rest.size() % 2 == 1 && method == "POST") {
    parsed.action = rest.back();
    rest.pop_back();
  }
  for (std::size_t k = 0; k < rest.size(); ++k) (k % 2 == 0 ? parsed.types : parsed.names).push_back(rest[k]);
  return parsed;
}

ResourceProvider* Service::providerFor(const std::string& providerNamespace) const {
  for (const auto& provider : providers_) {
    if (equalsNoCase(provider->providerNamespace(), providerNamespace)) return provider.get();
  }
  return nullptr;
}

Response Service::subscriptionLevel(const Request& request, const std::vector<std::string>& segments) {
  auto subscriptionJson = [&](const Tenant& tenant, const std::string& id) {
    return Json{{"id", "/subscriptions/" + id},
                {"subscriptionId", id},
                {"tenantId", tenant.tenantId},
                {"homeTenantId", tenant.tenantId},
                {"displayName", tenant.name + " subscription"},
                {"state", "Enabled"},
                {"authorizationSource", "RoleBased"},
                {"managedByTenants", Json::array()},
                {"subscriptionPolicies", {{"locationPlacementId", "Public_2014-09-01"}, {"quotaId", "PayAsYouGo_2014-09-01"}, {"spendingLimit", "Off"}}}};
  };
  const Tenant* callerTenant = world_.tenantById(request.caller.tenantId);
  if (request.method != "GET" && !(segments.size() == 5 && request.method == "POST")) {
    return Response::error(405, "MethodNotAllowed", "The requested method is not allowed for this resource.");
  }
  if (equalsNoCase(segments[0], "tenants")) {
    Json value = Json::array();
    if (callerTenant != nullptr) {
      value.push_back({{"id", "/tenants/" + callerTenant->tenantId},
                       {"tenantId", callerTenant->tenantId},
                       {"tenantCategory", "Home"},
                       {"displayName", callerTenant->name},
                       {"defaultDomain", callerTenant->name + ".onmicrosoft.com"},
                       {"domains", {callerTenant->name + ".onmicrosoft.com"}},
                       {"tenantType", "AAD"},
                       {"countryCode", "US"}});
    }
    return Response::json(200, {{"value", value}});
  }
  if (segments.size() == 1) {
    Json value = Json::array();
    if (callerTenant != nullptr) {
      for (const auto& id : callerTenant->subscriptions) value.push_back(subscriptionJson(*callerTenant, id));
    }
    return Response::json(200, {{"value", value}, {"count", {{"type", "Total"}, {"value", value.size()}}}});
  }
  const Tenant* owner = world_.tenantOfSubscription(segments[1]);
  std::string subscriptionId;
  for (const auto& id : owner->subscriptions) {
    if (equalsNoCase(id, segments[1])) subscriptionId = id;
  }
  if (segments.size() == 2) return Response::json(200, subscriptionJson(*owner, subscriptionId));
  if (equalsNoCase(segments[2], "locations")) {
    Json value = Json::array();
    for (auto [name, display] : {std::pair{"eastus", "East US"}, {"eastus2", "East US 2"}, {"westus2", "West US 2"}, {"westeurope", "West Europe"}}) {
      value.push_back({{"id", "/subscriptions/" + subscriptionId + "/locations/" + name},
                       {"name", name},
                       {"displayName", display},
                       {"regionalDisplayName", display},
                       {"type", "Region"},
                       {"metadata", {{"regionType", "Physical"}, {"regionCategory", "Recommended"}}}});
    }
    return Response::json(200, {{"value", value}});
  }
  auto providerJson = [&](const ResourceProvider& provider) {
    return Json{{"id", "/subscriptions/" + subscriptionId + "/providers/" + provider.providerNamespace()},
                {"namespace", provider.providerNamespace()},
                {"registrationState", "Registered"},
                {"registrationPolicy", "RegistrationRequired"},
                {"resourceTypes", Json::array()}};
  };
  if (segments.size() == 3) {
    Json value = Json::array();
    for (const auto& provider : providers_) value.push_back(providerJson(*provider));
    return Response::json(200, {{"value", value}});
  }
  ResourceProvider* provider = providerFor(segments[3]);
  if (provider == nullptr) {
    return Response::error(404, "InvalidResourceNamespace", "The resource namespace '" + segments[3] + "' is invalid.");
  }
  return Response::json(200, providerJson(*provider));
}

std::optional<Response> Service::throttle(const std::string& subscriptionId, const std::string& method,
                                          std::map<std::string, std::string>& headers, const std::string& caller) {
  static constexpr const char* kHeaders[] = {"x-ms-ratelimit-remaining-subscription-reads", "x-ms-ratelimit-remaining-subscription-writes",
                                             "x-ms-ratelimit-remaining-subscription-deletes"};
  static constexpr const char* kNames[] = {"read", "write", "delete"};
  const BucketLimit limits[] = {limits_.reads, limits_.writes, limits_.deletes};
  auto now = std::chrono::steady_clock::now();
  auto& buckets = buckets_[toLower(subscriptionId)];
  if (!buckets) buckets = std::make_unique<Buckets>(Buckets{{limits[0].bucket, limits[1].bucket, limits[2].bucket}, now});
  double elapsed = std::chrono::duration<double>(now - buckets->last).count();
  buckets->last = now;
  for (int k = 0; k < 3; ++k) buckets->tokens[k] = std::min(limits[k].bucket, buckets->tokens[k] + elapsed * limits[k].perSecond);
  BucketKind kind = bucketKind(method);
  double& tokens = buckets->tokens[kind];
  if (tokens < 1.0) {
    int retryAfter = limits[kind].perSecond > 0 ? std::max(1, static_cast<int>(std::ceil((1.0 - tokens) / limits[kind].perSecond))) : 60;
    Response throttled = Response::error(
        429, "SubscriptionRequestsThrottled",
        std::string("Number of '") + kNames[kind] + "' requests for subscription '" + subscriptionId + "' actor '" + caller +
            "' exceeded. Please try again after '" + std::to_string(retryAfter) +
            "' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling");
    throttled.headers["Retry-After"] = std::to_string(retryAfter);
    throttled.headers[kHeaders[kind]] = "0";
    return throttled;
  }
  tokens -= 1.0;
  headers[kHeaders[kind]] = std::to_string(static_cast<long long>(std::floor(tokens)));
  return std::nullopt;
}

Response Service::startOperation(LongRunningOperation&& spec, const Request& request, const std::string& apiVersion) {
  Operation operation;
  operation.name = world_.newGuid();
  operation.request = request;
  operation.apiVersion = apiVersion;
  operation.due = world_.clock.now() + world_.durationOf(spec.kind);
  operation.startTime = world_.clock.iso8601();
  std::string location = spec.location.empty() ? "eastus" : spec.location;
  std::string url = baseUrl_ + "/subscriptions/" + spec.subscriptionId + "/providers/" + spec.providerNamespace + "/locations/" + location +
                    "/operationResults/" + operation.name + "?api-version=" + apiVersion;
  Response initial{spec.initialStatus, spec.initialBody, {}};
  if (spec.poll != LongRunningOperation::Poll::Location) initial.headers["Azure-AsyncOperation"] = url;
  if (spec.poll != LongRunningOperation::Poll::AzureAsyncOperation) initial.headers["Location"] = url + "&operationResultResponseType=Location";
  initial.headers["Retry-After"] = std::to_string(kRetryAfterSeconds);
  operation.spec = std::move(spec);
  operation.spec.location = location;
  std::string key = toLower(operation.name);
  operationOrder_.push_back(key);
  operations_.emplace(key, std::move(operation));
  return initial;
}

bool Service::operationInProgress(const std::string& resourceId) const {
  std::string id = toLower(resourceId);
  for (const auto& [name, operation] : operations_) {
    if (operation.state != Operation::State::InProgress || operation.spec.resourceId.empty()) continue;
    std::string target = toLower(operation.spec.resourceId);
    if (target == id || target.starts_with(id + "/")) return true;
  }
  return false;
}

bool Service::runDueOperations() {
  bool any = false;
  auto now = world_.clock.now();
  firstPending_ = std::min(firstPending_, operationOrder_.size());
  while (firstPending_ < operationOrder_.size() && operations_.at(operationOrder_[firstPending_]).state != Operation::State::InProgress) {
    ++firstPending_;
  }
  for (std::size_t i = firstPending_; i < operationOrder_.size(); ++i) {
    Operation& operation = operations_.at(operationOrder_[i]);
    if (operation.state != Operation::State::InProgress || now < operation.due) continue;
    std::optional<Json> error;
    try {
      if (operation.spec.complete) error = operation.spec.complete(world_);
      if (!error && operation.spec.finalBody) operation.finalBody = operation.spec.finalBody(world_);
    } catch (const std::exception& exception) {
      error = Json{{"code", "InternalServerError"}, {"message", exception.what()}};
    }
    operation.endTime = world_.clock.iso8601();
    operation.state = error ? Operation::State::Failed : Operation::State::Succeeded;
    if (error) operation.error = *error;
    any = true;
  }
  return any;
}

Response Service::pollOperation(const ArmPath& path, const Request& request) {
  auto found = operations_.find(toLower(path.names[1]));
  if (found == operations_.end() || !equalsNoCase(found->second.spec.subscriptionId, path.subscriptionId)) {
    return Response::error(404, "OperationNotFound", "The operation '" + path.names[1] + "' could not be found.");
  }
  const Operation& operation = found->second;
  bool running = operation.state == Operation::State::InProgress;
  auto responseType = request.query.find("operationresultresponsetype");
  if (responseType != request.query.end() && equalsNoCase(responseType->second, "Location")) {
    if (running) {
      Response accepted = Response::empty(202);
      accepted.headers["Location"] = baseUrl_ + request.path + "?api-version=" + operation.apiVersion + "&operationResultResponseType=Location";
      accepted.headers["Retry-After"] = std::to_string(kRetryAfterSeconds);
      return accepted;
    }
    if (operation.state == Operation::State::Failed) {
      return Response::error(400, operation.error.value("code", "OperationFailed"), operation.error.value("message", ""));
    }
    if (operation.spec.finalStatus == 204 || operation.finalBody.is_null()) return Response::empty(operation.spec.finalStatus);
    return Response::json(operation.spec.finalStatus, operation.finalBody);
  }
  double percent = 100.0;
  if (running) {
    double remaining = std::chrono::duration<double>(operation.due - world_.clock.now()).count();
    double duration = std::max(1.0, std::chrono::duration<double>(world_.durationOf(operation.spec.kind)).count());
    percent = std::clamp(100.0 * (1.0 - remaining / duration), 0.0, 99.0);
  }
  Json body{{"id", "/subscriptions/" + operation.spec.subscriptionId + "/providers/" + operation.spec.providerNamespace + "/locations/" +
                       operation.spec.location + "/operationResults/" + operation.name},
            {"name", operation.name},
            {"status", running ? "InProgress" : operation.state == Operation::State::Succeeded ? "Succeeded" : "Failed"},
            {"startTime", operation.startTime},
            {"percentComplete", percent}};
  if (!operation.spec.resourceId.empty()) body["resourceId"] = operation.spec.resourceId;
  if (!running) body["endTime"] = operation.endTime;
  if (operation.state == Operation::State::Failed) body["error"] = operation.error;
  Response response = Response::json(200, body);
  if (running) response.headers["Retry-After"] = std::to_string(kRetryAfterSeconds);
  return response;
}

}  // namespace anf::emulator
