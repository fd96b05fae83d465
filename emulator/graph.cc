// Microsoft Graph v1.0: applications, their federated identity credentials, service principals. Objects live in the
// World under /tenants/{tid}/applications/{objectId}, /tenants/{tid}/servicePrincipals/{objectId} and
// /tenants/{tid}/applications/{objectId}/federatedIdentityCredentials/{id}; the stored "id" is that world id and
// "objectId" holds the Graph id, which Graph responses show as "id".
#include <regex>

#include "emulator/service.h"

namespace anf::emulator {
namespace {

constexpr std::size_t kMaxFederatedCredentials = 20;
const std::string kGraphMetadata = "https://graph.microsoft.com/v1.0/$metadata#";
const std::vector<std::string> kSignInAudiences = {"AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount",
                                                   "PersonalMicrosoftAccount"};

/// The Graph view of a stored object: "id" is the object id; the world's bookkeeping fields are dropped.
Json graphView(const Json& stored) {
  Json view = stored;
  view["id"] = stored.value("objectId", "");
  view.erase("objectId");
  view.erase("tenantId");
  view.erase("applicationObjectId");
  return view;
}

/// The appId of "$filter=appId eq 'x'" (also displayName), or nullopt when there is no filter.
struct Filter {
  std::string property;
  std::string value;
};

std::expected<std::optional<Filter>, std::string> parseFilter(const std::map<std::string, std::string>& query) {
  auto it = query.find("$filter");
  if (it == query.end()) return std::optional<Filter>{};
  static const std::regex kEquals(R"(^\s*(appId|displayName|id|name|subject)\s+eq\s+'([^']*)'\s*$)", std::regex::icase);
  std::smatch match;
  if (!std::regex_match(it->second, match, kEquals)) return std::unexpected("Invalid filter clause: " + it->second);
  return std::optional<Filter>{Filter{match[1].str(), match[2].str()}};
}

bool passes(const Json& view, const std::optional<Filter>& filter) {
  if (!filter) return true;
  for (auto it = view.begin(); it != view.end(); ++it) {
    if (equalsNoCase(it.key(), filter->property) && it->is_string()) return equalsNoCase(it->get<std::string>(), filter->value);
  }
  return false;
}

HttpResponse graphError(int status, const std::string& code, const std::string& message, World& world) {
  std::string now = world.clock.iso8601().substr(0, 19);
  return toHttp(Response::json(status, {{"error",
                                         {{"code", code},
                                          {"message", message},
                                          {"innerError", {{"date", now}, {"request-id", world.newGuid()}, {"client-request-id", world.newGuid()}}}}}}));
}

HttpResponse methodNotAllowed(World& world) { return graphError(405, "Request_BadRequest", "Method not allowed.", world); }

HttpResponse notFound(World& world, const std::string& id) {
  return graphError(404, "Request_ResourceNotFound",
                    "Resource '" + id + "' does not exist or one of its queried reference-property objects are not present.", world);
}

/// Graph's 401 for a refused bearer token.
HttpResponse unauthenticated(const BearerFailure& failure, World& world) {
  using Kind = BearerFailure::Kind;
  const Kind kind = failure.kind;
  std::string message = kind == Kind::Missing || kind == Kind::Malformed ? "Access token is empty."
                        : kind == Kind::Expired                           ? "Lifetime validation failed, the token is expired."
                        : kind == Kind::WrongAudience                     ? "Access token validation failure. Invalid audience."
                                                                          : "Access token validation failure.";
  return graphError(401, "InvalidAuthenticationToken", message, world);
}

/// A Graph view with its "@odata.context" as answered for one entity.
HttpResponse entity(int status, const Json& stored, const std::string& context) {
  Json view = graphView(stored);
  view["@odata.context"] = kGraphMetadata + context + "/$entity";
  return toHttp(Response::json(status, view));
}

/// An authenticated Graph request: the caller's tenant, its JSON body and $filter.
struct GraphCall {
  World& world;
  const std::string& method;
  std::string tenantId;
  std::string tenantRoot;  // "/tenants/{tid}"
  Json body;
  std::optional<Filter> filter;
  std::string baseUrl;
};

/// /v1.0/{applications|servicePrincipals}[/{id} | (appId='{appId}')][/federatedIdentityCredentials[/{id}]]
struct GraphRoute {
  bool applications = false;
  bool byAppId = false;
  std::string key;  // the object id or appId; empty for the collection
  bool credentials = false;
  std::string credentialKey;  // the credential id or name; empty for the collection
  std::string collection;     // "applications" or "servicePrincipals"
};

std::optional<GraphRoute> parseRoute(const std::string& path) {
  static const std::regex kRoute(R"(^/v1\.0/(applications|servicePrincipals)(?:/([^/()]+)|\((appId)='([^']*)'\))?(?:/(federatedIdentityCredentials)(?:/([^/]+))?)?/?$)",
                                 std::regex::icase);
  std::smatch match;
  if (!std::regex_match(path, match, kRoute)) return std::nullopt;
  GraphRoute route;
  route.applications = equalsNoCase(match[1].str(), "applications");
  route.byAppId = match[3].matched;
  route.key = route.byAppId ? match[4].str() : match[2].str();
  route.credentials = match[5].matched;
  route.credentialKey = match[6].str();
  route.collection = route.applications ? "applications" : "servicePrincipals";
  return route;
}

/// The direct children of `prefix` that pass the $filter, as a Graph collection.
HttpResponse listObjects(const GraphCall& call, const std::string& prefix, const std::string& context) {
  Json value = Json::array();
  for (Json* object : call.world.withPrefix(prefix)) {
    std::string rest = object->value("id", "").substr(prefix.size());
    if (rest.find('/') != std::string::npos) continue;
    Json view = graphView(*object);
    if (passes(view, call.filter)) value.push_back(view);
  }
  return toHttp(Response::json(200, {{"@odata.context", kGraphMetadata + context}, {"value", value}}));
}

HttpResponse createApplication(const GraphCall& call) {
  std::string displayName = call.body.value("displayName", "");
  if (displayName.empty()) {
    return graphError(400, "Request_BadRequest", "Invalid value specified for property 'displayName' of resource 'Application'.", call.world);
  }
  std::string audience = call.body.value("signInAudience", "AzureADMyOrg");
  if (std::ranges::none_of(kSignInAudiences, [&](const std::string& known) { return known == audience; })) {
    return graphError(400, "Request_BadRequest", "Invalid value specified for property 'signInAudience' of resource 'Application'.", call.world);
  }
  std::string objectId = call.world.newGuid();
  const Tenant* tenant = call.world.tenantById(call.tenantId);
  Json application = call.body;
  application["id"] = call.tenantRoot + "/applications/" + objectId;
  application["objectId"] = objectId;
  application["tenantId"] = call.tenantId;
  application["appId"] = call.world.newGuid();
  application["displayName"] = displayName;
  application["signInAudience"] = audience;
  application["createdDateTime"] = call.world.clock.iso8601().substr(0, 19) + "Z";
  application["publisherDomain"] = (tenant ? tenant->name : call.tenantId) + ".onmicrosoft.com";
  if (!application.contains("identifierUris")) application["identifierUris"] = Json::array();
  HttpResponse created = entity(201, call.world.put(application), "applications");
  created.headers["Location"] = call.baseUrl + "/v1.0/directoryObjects/" + objectId + "/Microsoft.DirectoryServices.Application";
  return created;
}

/// Service principal for an application: in the caller's tenant (admin consent for a multitenant app).
HttpResponse createServicePrincipal(const GraphCall& call) {
  std::string appId = call.body.value("appId", "");
  Json* application = nullptr;
  for (Json* candidate : graphApplicationsWithAppId(call.world, appId)) {
    bool home = equalsNoCase(candidate->value("tenantId", ""), call.tenantId);
    if (home || candidate->value("signInAudience", "AzureADMyOrg") != "AzureADMyOrg") application = candidate;
  }
  if (appId.empty() || application == nullptr) {
    return graphError(400, "Request_BadRequest",
                      "The appId '" + appId + "' of the service principal does not reference a valid application object.", call.world);
  }
  for (Json* existing : call.world.withPrefix(call.tenantRoot + "/servicePrincipals/")) {
    if (existing->value("appId", "") == appId) {
      return graphError(409, "Request_MultipleObjectsWithSameKeyValue",
                        "The service principal cannot be created, updated, or restored because the service principal name " + appId +
                            " is already in use.",
                        call.world);
    }
  }
  std::string objectId = call.world.newGuid();
  Json servicePrincipal{{"id", call.tenantRoot + "/servicePrincipals/" + objectId},
                        {"objectId", objectId},
                        {"tenantId", call.tenantId},
                        {"appId", appId},
                        {"appOwnerOrganizationId", application->value("tenantId", "")},
                        {"appDisplayName", application->value("displayName", "")},
                        {"displayName", application->value("displayName", "")},
                        {"servicePrincipalType", "Application"},
                        {"accountEnabled", true},
                        {"signInAudience", application->value("signInAudience", "AzureADMyOrg")},
                        {"servicePrincipalNames", {appId}},
                        {"createdDateTime", call.world.clock.iso8601().substr(0, 19) + "Z"}};
  return entity(201, call.world.put(servicePrincipal), "servicePrincipals");
}

/// GET lists a collection, POST creates in it.
HttpResponse collectionMethods(const GraphCall& call, const GraphRoute& route) {
  if (call.method == "GET") return listObjects(call, call.tenantRoot + "/" + route.collection + "/", route.collection);
  if (call.method != "POST") return methodNotAllowed(call.world);
  return route.applications ? createApplication(call) : createServicePrincipal(call);
}

/// The application or service principal the route names, by object id or appId; nullptr when there is none.
Json* findObject(const GraphCall& call, const GraphRoute& route) {
  const std::string collection = call.tenantRoot + "/" + route.collection + "/";
  if (!route.byAppId) return call.world.find(collection + route.key);
  Json* object = nullptr;
  for (Json* candidate : call.world.withPrefix(collection)) {
    if (candidate->value("appId", "") != route.key) continue;
    if (route.applications && !candidate->contains("signInAudience")) continue;  // a credential under an application
    object = candidate;
    if (route.applications) break;
  }
  return object;
}

/// Graph's PATCH: merges the body into `stored` and answers 204 No Content; the listed properties are Graph's
/// read-only (or immutable) ones and are refused, as Graph does, when the body changes them.
HttpResponse patchObject(const GraphCall& call, Json& stored, const std::vector<std::string>& readOnly, const std::string& type) {
  for (const std::string& property : readOnly) {
    if (call.body.contains(property) && call.body[property] != graphView(stored).value(property, Json())) {
      return graphError(400, "Request_BadRequest", "Property '" + property + "' is read-only and cannot be set.", call.world);
    }
  }
  if (call.body.contains("signInAudience") &&
      std::ranges::none_of(kSignInAudiences, [&](const std::string& known) { return call.body["signInAudience"] == known; })) {
    return graphError(400, "Request_BadRequest", "Invalid value specified for property 'signInAudience' of resource '" + type + "'.", call.world);
  }
  Json updated = stored;
  for (const auto& [property, value] : call.body.items()) updated[property] = value;
  call.world.put(updated);
  return toHttp(Response::empty(204));
}

/// GET, PATCH or DELETE (with everything below it) of one application or service principal.
HttpResponse objectMethods(const GraphCall& call, const GraphRoute& route, Json& object) {
  if (call.method == "GET") return entity(200, object, route.collection);
  if (call.method == "PATCH") {
    return patchObject(call, object, {"id", "appId", "publisherDomain", "createdDateTime", "appOwnerOrganizationId"},
                       route.applications ? "Application" : "ServicePrincipal");
  }
  if (call.method != "DELETE") return methodNotAllowed(call.world);
  const std::string objectWorldId = object.value("id", "");
  for (Json* child : call.world.withPrefix(objectWorldId + "/")) call.world.erase(child->value("id", ""));
  call.world.erase(objectWorldId);
  return toHttp(Response::empty(204));
}

HttpResponse createCredential(const GraphCall& call, const Json& application, const std::string& prefix, const std::string& context) {
  const Json& body = call.body;
  std::string name = body.value("name", "");
  std::string issuer = body.value("issuer", "");
  std::string subject = body.value("subject", "");
  Json audiences = body.value("audiences", Json::array());
  if (name.empty() || issuer.empty() || subject.empty() || !audiences.is_array() || audiences.empty()) {
    return graphError(400, "Request_BadRequest", "The properties 'name', 'issuer', 'subject' and 'audiences' are required.", call.world);
  }
  auto existing = call.world.withPrefix(prefix);
  for (Json* credential : existing) {
    if (equalsNoCase(credential->value("name", ""), name)) {
      return graphError(409, "Request_BadRequest", "FederatedIdentityCredential with name " + name + " already exists.", call.world);
    }
    if (credential->value("issuer", "") == issuer && credential->value("subject", "") == subject) {
      return graphError(409, "Request_BadRequest",
                        "FederatedIdentityCredential with issuer " + issuer + " and subject " + subject + " already exists.", call.world);
    }
  }
  if (existing.size() >= kMaxFederatedCredentials) {
    return graphError(400, "Request_BadRequest",
                      "Cannot add more than " + std::to_string(kMaxFederatedCredentials) + " federated identity credentials to an application.",
                      call.world);
  }
  std::string credentialId = call.world.newGuid();
  Json credential{{"id", prefix + credentialId},
                  {"objectId", credentialId},
                  {"applicationObjectId", application.value("objectId", "")},
                  {"name", name},
                  {"issuer", issuer},
                  {"subject", subject},
                  {"audiences", audiences},
                  {"description", body.value("description", Json(nullptr))}};
  return entity(201, call.world.put(credential), context);
}

/// A single credential under `prefix` by id, or by name ("name='x'" is Graph's alternate key); nullptr when none.
Json* findCredential(World& world, const std::string& prefix, const std::string& key) {
  if (Json* credential = world.find(prefix + key)) return credential;
  std::string byName = key;
  static const std::regex kNameKey(R"(^\(name='([^']*)'\)$|^name='([^']*)'$)");
  if (std::smatch nameMatch; std::regex_match(key, nameMatch, kNameKey)) byName = nameMatch[1].matched ? nameMatch[1].str() : nameMatch[2].str();
  Json* credential = nullptr;
  for (Json* candidate : world.withPrefix(prefix)) {
    if (equalsNoCase(candidate->value("name", ""), byName)) credential = candidate;
  }
  return credential;
}

/// /applications/{id}/federatedIdentityCredentials[/{id}]: GET and POST on the collection, GET, PATCH and DELETE on
/// one (a credential's name is immutable).
HttpResponse credentialMethods(const GraphCall& call, const GraphRoute& route, const Json& application) {
  const std::string prefix = application.value("id", "") + "/federatedIdentityCredentials/";
  const std::string context = "applications('" + application.value("objectId", "") + "')/federatedIdentityCredentials";
  if (route.credentialKey.empty()) {
    if (call.method == "GET") return listObjects(call, prefix, context);
    if (call.method != "POST") return methodNotAllowed(call.world);
    return createCredential(call, application, prefix, context);
  }
  Json* credential = findCredential(call.world, prefix, route.credentialKey);
  if (credential == nullptr) return notFound(call.world, route.credentialKey);
  if (call.method == "GET") return toHttp(Response::json(200, graphView(*credential)));
  if (call.method == "PATCH") return patchObject(call, *credential, {"id", "name"}, "FederatedIdentityCredential");
  if (call.method != "DELETE") return methodNotAllowed(call.world);
  call.world.erase(credential->value("id", ""));
  return toHttp(Response::empty(204));
}

}  // namespace

std::vector<Json*> graphApplicationsWithAppId(World& world, const std::string& appId) {
  std::vector<Json*> applications;
  for (Json* candidate : world.withPrefix("/tenants/")) {
    std::string id = toLower(candidate->value("id", ""));
    if (id.find("/applications/") == std::string::npos || id.find("/federatedidentitycredentials/") != std::string::npos) continue;
    if (candidate->value("appId", "") == appId) applications.push_back(candidate);
  }
  return applications;
}

HttpResponse Service::handleGraph(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                                  const HttpRequest& http, std::string& tenantForLog) {
  auto claims = verifyBearer(http.headers, {"https://graph.microsoft.com", "https://graph.microsoft.com/", "00000003-0000-0000-c000-000000000000"});
  if (!claims) return unauthenticated(claims.error(), world_);
  GraphCall call{.world = world_, .method = method, .tenantId = claims->value("tid", ""), .baseUrl = baseUrl_};
  call.tenantRoot = "/tenants/" + call.tenantId;
  tenantForLog = call.tenantId;
  call.body = Json::object();  // no payload: the handlers report the missing properties (value() throws on null)
  if (http.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    call.body = Json::parse(http.body, nullptr, false);
    if (call.body.is_discarded() || !call.body.is_object()) return graphError(400, "BadRequest", "Unable to read JSON request payload.", world_);
  }
  auto filter = parseFilter(query);
  if (!filter) return graphError(400, "Request_UnsupportedQuery", filter.error(), world_);
  call.filter = *filter;

  auto route = parseRoute(path);
  if (!route) return graphError(400, "BadRequest", "Resource not found for the segment '" + path.substr(path.rfind('/') + 1) + "'.", world_);
  if (route->key.empty() && !route->credentials) return collectionMethods(call, *route);
  Json* object = findObject(call, *route);
  if (object == nullptr) return notFound(world_, route->key);
  if (!route->credentials) return objectMethods(call, *route, *object);
  if (!route->applications) return graphError(400, "BadRequest", "Resource not found for the segment 'federatedIdentityCredentials'.", world_);
  return credentialMethods(call, *route, *object);
}

}  // namespace anf::emulator
