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

}  // namespace

HttpResponse Service::handleGraph(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                                  const HttpRequest& http, std::string& tenantForLog) {
  auto claims = verifyBearer(http.headers, {"https://graph.microsoft.com", "https://graph.microsoft.com/", "00000003-0000-0000-c000-000000000000"});
  if (!claims) {
    using Kind = BearerFailure::Kind;
    Kind kind = claims.error().kind;
    std::string message = kind == Kind::Missing || kind == Kind::Malformed ? "Access token is empty."
                          : kind == Kind::Expired                           ? "Lifetime validation failed, the token is expired."
                          : kind == Kind::WrongAudience                     ? "Access token validation failure. Invalid audience."
                                                                            : "Access token validation failure.";
    return graphError(401, "InvalidAuthenticationToken", message, world_);
  }
  std::string tenantId = claims->value("tid", "");
  tenantForLog = tenantId;
  Json body;
  if (http.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    body = Json::parse(http.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return graphError(400, "BadRequest", "Unable to read JSON request payload.", world_);
  }
  auto filter = parseFilter(query);
  if (!filter) return graphError(400, "Request_UnsupportedQuery", filter.error(), world_);

  std::string tenantRoot = "/tenants/" + tenantId;
  auto list = [&](const std::string& prefix, const std::string& context, bool direct) {
    Json value = Json::array();
    for (Json* object : world_.withPrefix(prefix)) {
      std::string rest = object->value("id", "").substr(prefix.size());
      if (direct && rest.find('/') != std::string::npos) continue;
      Json view = graphView(*object);
      if (passes(view, *filter)) value.push_back(view);
    }
    return toHttp(Response::json(200, {{"@odata.context", kGraphMetadata + context}, {"value", value}}));
  };
  auto notFound = [&](const std::string& id) {
    return graphError(404, "Request_ResourceNotFound",
                      "Resource '" + id + "' does not exist or one of its queried reference-property objects are not present.", world_);
  };
  // Resolves "applications/{id}" or "applications(appId='{appId}')" to the stored application.
  auto findApplication = [&](const std::string& key, bool byAppId) -> Json* {
    if (!byAppId) return world_.find(tenantRoot + "/applications/" + key);
    for (Json* application : world_.withPrefix(tenantRoot + "/applications/")) {
      if (application->value("appId", "") == key && application->contains("signInAudience")) return application;
    }
    return nullptr;
  };

  static const std::regex kRoute(R"(^/v1\.0/(applications|servicePrincipals)(?:/([^/()]+)|\((appId)='([^']*)'\))?(?:/(federatedIdentityCredentials)(?:/([^/]+))?)?/?$)",
                                 std::regex::icase);
  std::smatch match;
  if (!std::regex_match(path, match, kRoute)) {
    return graphError(400, "BadRequest", "Resource not found for the segment '" + path.substr(path.rfind('/') + 1) + "'.", world_);
  }
  bool applications = equalsNoCase(match[1].str(), "applications");
  bool byAppId = match[3].matched;
  std::string key = byAppId ? match[4].str() : match[2].str();
  bool credentials = match[5].matched;
  std::string credentialKey = match[6].str();
  std::string collection = applications ? "applications" : "servicePrincipals";

  if (key.empty() && !credentials) {
    if (method == "GET") return list(tenantRoot + "/" + collection + "/", collection, true);
    if (method != "POST") return graphError(405, "Request_BadRequest", "Method not allowed.", world_);
    if (applications) {
      std::string displayName = body.value("displayName", "");
      if (displayName.empty()) {
        return graphError(400, "Request_BadRequest", "Invalid value specified for property 'displayName' of resource 'Application'.", world_);
      }
      std::string audience = body.value("signInAudience", "AzureADMyOrg");
      if (std::ranges::none_of(kSignInAudiences, [&](const std::string& known) { return known == audience; })) {
        return graphError(400, "Request_BadRequest", "Invalid value specified for property 'signInAudience' of resource 'Application'.", world_);
      }
      std::string objectId = world_.newGuid();
      Json application = body;
      application["id"] = tenantRoot + "/applications/" + objectId;
      application["objectId"] = objectId;
      application["tenantId"] = tenantId;
      application["appId"] = world_.newGuid();
      application["displayName"] = displayName;
      application["signInAudience"] = audience;
      application["createdDateTime"] = world_.clock.iso8601().substr(0, 19) + "Z";
      application["publisherDomain"] = (world_.tenantById(tenantId) ? world_.tenantById(tenantId)->name : tenantId) + ".onmicrosoft.com";
      if (!application.contains("identifierUris")) application["identifierUris"] = Json::array();
      Json view = graphView(world_.put(application));
      view["@odata.context"] = kGraphMetadata + "applications/$entity";
      HttpResponse created = toHttp(Response::json(201, view));
      created.headers["Location"] = baseUrl_ + "/v1.0/directoryObjects/" + objectId + "/Microsoft.DirectoryServices.Application";
      return created;
    }
    // Service principal for an application: in the caller's tenant (admin consent for a multitenant app).
    std::string appId = body.value("appId", "");
    Json* application = nullptr;
    for (Json* candidate : world_.withPrefix("/tenants/")) {
      std::string id = toLower(candidate->value("id", ""));
      if (id.find("/applications/") == std::string::npos || id.find("/federatedidentitycredentials/") != std::string::npos) continue;
      if (candidate->value("appId", "") != appId) continue;
      bool home = equalsNoCase(candidate->value("tenantId", ""), tenantId);
      if (home || candidate->value("signInAudience", "AzureADMyOrg") != "AzureADMyOrg") application = candidate;
    }
    if (appId.empty() || application == nullptr) {
      return graphError(400, "Request_BadRequest",
                        "The appId '" + appId + "' of the service principal does not reference a valid application object.", world_);
    }
    for (Json* existing : world_.withPrefix(tenantRoot + "/servicePrincipals/")) {
      if (existing->value("appId", "") == appId) {
        return graphError(409, "Request_MultipleObjectsWithSameKeyValue",
                          "The service principal cannot be created, updated, or restored because the service principal name " + appId +
                              " is already in use.",
                          world_);
      }
    }
    std::string objectId = world_.newGuid();
    Json servicePrincipal{{"id", tenantRoot + "/servicePrincipals/" + objectId},
                          {"objectId", objectId},
                          {"tenantId", tenantId},
                          {"appId", appId},
                          {"appOwnerOrganizationId", application->value("tenantId", "")},
                          {"appDisplayName", application->value("displayName", "")},
                          {"displayName", application->value("displayName", "")},
                          {"servicePrincipalType", "Application"},
                          {"accountEnabled", true},
                          {"signInAudience", application->value("signInAudience", "AzureADMyOrg")},
                          {"servicePrincipalNames", {appId}},
                          {"createdDateTime", world_.clock.iso8601().substr(0, 19) + "Z"}};
    Json view = graphView(world_.put(servicePrincipal));
    view["@odata.context"] = kGraphMetadata + "servicePrincipals/$entity";
    return toHttp(Response::json(201, view));
  }

  Json* object = nullptr;
  if (applications) {
    object = findApplication(key, byAppId);
  } else if (byAppId) {
    for (Json* candidate : world_.withPrefix(tenantRoot + "/servicePrincipals/")) {
      if (candidate->value("appId", "") == key) object = candidate;
    }
  } else {
    object = world_.find(tenantRoot + "/servicePrincipals/" + key);
  }
  if (object == nullptr) return notFound(key);
  std::string objectWorldId = object->value("id", "");

  if (!credentials) {
    if (method == "GET") {
      Json view = graphView(*object);
      view["@odata.context"] = kGraphMetadata + collection + "/$entity";
      return toHttp(Response::json(200, view));
    }
    if (method == "DELETE") {
      for (Json* child : world_.withPrefix(objectWorldId + "/")) world_.erase(child->value("id", ""));
      world_.erase(objectWorldId);
      return toHttp(Response::empty(204));
    }
    return graphError(405, "Request_BadRequest", "Method not allowed.", world_);
  }
  if (!applications) return graphError(400, "BadRequest", "Resource not found for the segment 'federatedIdentityCredentials'.", world_);

  std::string credentialsPrefix = objectWorldId + "/federatedIdentityCredentials/";
  std::string context = "applications('" + object->value("objectId", "") + "')/federatedIdentityCredentials";
  if (credentialKey.empty()) {
    if (method == "GET") return list(credentialsPrefix, context, true);
    if (method != "POST") return graphError(405, "Request_BadRequest", "Method not allowed.", world_);
    std::string name = body.value("name", "");
    std::string issuer = body.value("issuer", "");
    std::string subject = body.value("subject", "");
    Json audiences = body.value("audiences", Json::array());
    if (name.empty() || issuer.empty() || subject.empty() || !audiences.is_array() || audiences.empty()) {
      return graphError(400, "Request_BadRequest", "The properties 'name', 'issuer', 'subject' and 'audiences' are required.", world_);
    }
    auto existing = world_.withPrefix(credentialsPrefix);
    for (Json* credential : existing) {
      if (equalsNoCase(credential->value("name", ""), name)) {
        return graphError(409, "Request_BadRequest", "FederatedIdentityCredential with name " + name + " already exists.", world_);
      }
      if (credential->value("issuer", "") == issuer && credential->value("subject", "") == subject) {
        return graphError(409, "Request_BadRequest",
                          "FederatedIdentityCredential with issuer " + issuer + " and subject " + subject + " already exists.", world_);
      }
    }
    if (existing.size() >= kMaxFederatedCredentials) {
      return graphError(400, "Request_BadRequest",
                        "Cannot add more than " + std::to_string(kMaxFederatedCredentials) + " federated identity credentials to an application.", world_);
    }
    std::string credentialId = world_.newGuid();
    Json credential{{"id", credentialsPrefix + credentialId},
                    {"objectId", credentialId},
                    {"applicationObjectId", object->value("objectId", "")},
                    {"name", name},
                    {"issuer", issuer},
                    {"subject", subject},
                    {"audiences", audiences},
                    {"description", body.value("description", Json(nullptr))}};
    Json view = graphView(world_.put(credential));
    view["@odata.context"] = kGraphMetadata + context + "/$entity";
    return toHttp(Response::json(201, view));
  }
  // A single credential by id, or by name ("name='x'" is Graph's alternate key).
  Json* credential = world_.find(credentialsPrefix + credentialKey);
  std::string byName = credentialKey;
  static const std::regex kNameKey(R"(^\(name='([^']*)'\)$|^name='([^']*)'$)");
  if (std::smatch nameMatch; std::regex_match(credentialKey, nameMatch, kNameKey)) byName = nameMatch[1].matched ? nameMatch[1].str() : nameMatch[2].str();
  if (credential == nullptr) {
    for (Json* candidate : world_.withPrefix(credentialsPrefix)) {
      if (equalsNoCase(candidate->value("name", ""), byName)) credential = candidate;
    }
  }
  if (credential == nullptr) return notFound(credentialKey);
  if (method == "GET") return toHttp(Response::json(200, graphView(*credential)));
  if (method == "DELETE") {
    world_.erase(credential->value("id", ""));
    return toHttp(Response::empty(204));
  }
  return graphError(405, "Request_BadRequest", "Method not allowed.", world_);
}

}  // namespace anf::emulator
