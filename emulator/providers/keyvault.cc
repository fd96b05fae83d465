// Microsoft.KeyVault management plane (2024-11-01, 2026-02-01): vaults, access policies
// (accessPolicies/{add|replace|remove}), keys (a PUT on an existing key writes a new version, which is
// how tests disable, expire or postpone a key), and the private endpoint connections that
// Microsoft.Network creates on a vault (approve / reject / delete).
#include <regex>

#include "emulator/providers/arm.h"
#include "emulator/providers/private_link.h"

namespace anf::emulator {
namespace {

constexpr const char* kVaultType = "Microsoft.KeyVault/vaults";
constexpr const char* kKeyType = "Microsoft.KeyVault/vaults/keys";
using privatelink::kConnectionType;

std::string recoveryLevel(const Json& vault) {
  const Json& properties = vault["properties"];
  if (!properties.value("enableSoftDelete", true)) return "Purgeable";
  return properties.value("enablePurgeProtection", false) ? "Recoverable" : "Recoverable+Purgeable";
}

Json renderVault(World& world, const Json& vault) {
  Json view = arm::publicView(vault);
  Json connections = Json::array();
  for (Json* connection : world.children(vault.value("id", std::string{}), "privateEndpointConnections")) {
    connections.push_back(Json{{"id", (*connection)["id"]}, {"etag", connection->value("etag", std::string{})}, {"properties", (*connection)["properties"]}});
  }
  view["properties"]["privateEndpointConnections"] = connections;
  return view;
}

Json renderKey(World& world, const Json& key) {
  Json view = arm::publicView(key);
  if (Json* vault = world.find(arm::parentId(key.value("id", std::string{})))) {
    view["properties"]["attributes"]["recoveryLevel"] = recoveryLevel(*vault);
  }
  return view;
}

Response withEtag(Json view, int status = 200) {
  Response response = Response::json(status, std::move(view));
  if (response.body.contains("etag") && response.body["etag"].is_string()) response.headers["ETag"] = response.body["etag"];
  return response;
}

// Permission lists compared case-insensitively.
Json unionOf(const Json& a, const Json& b) {
  Json out = a.is_array() ? a : Json::array();
  for (const auto& item : b.is_array() ? b : Json::array()) {
    bool present = std::ranges::any_of(out, [&](const Json& x) { return arm::iequals(x.get<std::string>(), item.get<std::string>()); });
    if (!present) out.push_back(item);
  }
  return out;
}

Json minus(const Json& a, const Json& b) {
  Json out = Json::array();
  for (const auto& item : a.is_array() ? a : Json::array()) {
    bool removed = std::ranges::any_of(b.is_array() ? b : Json::array(),
                                       [&](const Json& x) { return arm::iequals(x.get<std::string>(), item.get<std::string>()); });
    if (!removed) out.push_back(item);
  }
  return out;
}

std::optional<Response> checkAccessPolicies(const Json& policies) {
  if (!policies.is_array()) return arm::badRequest("BadRequest", "accessPolicies must be an array.");
  for (const auto& policy : policies) {
    if (!policy.is_object() || !policy.contains("tenantId") || !policy.contains("objectId") || !policy.contains("permissions")) {
      return arm::badRequest("BadRequest", "An access policy entry must have tenantId, objectId and permissions.");
    }
    for (const char* category : {"keys", "secrets", "certificates", "storage"}) {
      const Json list = policy["permissions"].value(category, Json::array());
      if (!list.is_array() || !std::ranges::all_of(list, [](const Json& p) { return p.is_string(); })) {
        return arm::badRequest("BadRequest", std::string("permissions.") + category + " must be an array of strings.");
      }
    }
  }
  return std::nullopt;
}

class KeyVaultProvider final : public ResourceProvider {
 public:
  std::string providerNamespace() const override { return "Microsoft.KeyVault"; }
  // 2022-07-01: the Azure CLI 2.45's (Debian 12) default for Microsoft.KeyVault; a stable version whose vault,
  // access policy and key shapes are the ones served here.
  std::vector<std::string> apiVersions() const override { return {"2022-07-01", "2024-11-01", "2026-02-01"}; }

  Response handle(const Request& raw, const ArmPath& path, Context& context) override {
    const Request request = arm::withoutNulls(raw);
    World& world = context.world();
    if (path.types.empty() || !arm::iequals(path.types[0], "vaults")) {
      return Response::error(400, "InvalidResourceType", "The resource type '" + path.resourceType() + "' could not be found.");
    }
    if (path.types.size() == 1) return vaults(request, path, world);
    std::string vaultId = path.resourceGroup.empty() ? "" : "/subscriptions/" + path.subscriptionId + "/resourceGroups/" +
                                                                 path.resourceGroup + "/providers/Microsoft.KeyVault/vaults/" + path.names[0];
    Json* vault = arm::findTyped(world, vaultId, kVaultType);
    if (vault == nullptr) return arm::parentNotFound(vaultId);
    std::string child = arm::lower(path.types[1]);
    if (child == "accesspolicies" && path.types.size() == 2) return accessPolicies(request, path, world, *vault);
    if (child == "keys") return keys(request, path, world, *vault);
    if (child == "privateendpointconnections" && path.types.size() == 2) return connections(request, path, world);
    return Response::error(400, "InvalidResourceType", "The resource type '" + path.resourceType() + "' could not be found.");
  }

 private:
  Response vaults(const Request& request, const ArmPath& path, World& world) {
    if (path.isCollection()) {
      if (request.method != "GET") return arm::methodNotAllowed(request);
      std::vector<Json> items;
      for (Json* vault : arm::ofType(world, kVaultType, path.resourceId())) items.push_back(renderVault(world, *vault));
      return arm::listPage(request, std::move(items));
    }
    std::string id = path.resourceId();
    Json* existing = arm::findTyped(world, id, kVaultType);
    if (auto failed = arm::checkPreconditions(request, existing)) return *failed;
    if (request.method == "GET") return existing ? withEtag(renderVault(world, *existing)) : arm::resourceNotFound(kVaultType, id);
    if (request.method == "DELETE") {
      if (!existing) return Response::empty(204);
      std::vector<std::string> doomed;
      for (Json* resource : world.withPrefix(id + "/")) doomed.push_back(resource->value("id", std::string{}));
      for (const auto& victim : doomed) world.erase(victim);
      world.erase(id);
      return Response::empty(200);
    }
    if (request.method != "PUT" && request.method != "PATCH") return arm::methodNotAllowed(request);
    if (request.method == "PATCH" && !existing) return arm::resourceNotFound(kVaultType, id);
    if (auto invalid = arm::checkObjectBody(request)) return *invalid;
    if (auto invalid = arm::checkName(path.names[0], "^[a-zA-Z0-9-]{3,24}$", kVaultType)) return *invalid;
    Json requested = request.body.value("properties", Json::object());
    requested.erase("vaultUri");
    requested.erase("provisioningState");
    requested.erase("privateEndpointConnections");
    requested.erase("hsmPoolResourceId");
    Json properties;
    if (request.method == "PUT") {
      if (auto invalid = arm::checkLocation(request.body)) return *invalid;
      if (!requested.contains("tenantId") || !requested["tenantId"].is_string() || !arm::isGuid(requested["tenantId"].get<std::string>())) {
        return arm::badRequest("BadRequest", "The parameter properties.tenantId is required and must be a GUID.", "properties.tenantId");
      }
      if (!requested.contains("sku") || !requested["sku"].is_object()) {
        return arm::badRequest("BadRequest", "The parameter properties.sku is required.", "properties.sku");
      }
      properties = requested;
    } else {
      properties = (*existing)["properties"];
      arm::mergePatch(properties, requested);
      if (requested.contains("accessPolicies")) properties["accessPolicies"] = requested["accessPolicies"];
    }
    properties["accessPolicies"] = properties.value("accessPolicies", Json::array());
    if (auto invalid = checkAccessPolicies(properties["accessPolicies"])) return *invalid;
    if (existing) {
      const Json& before = (*existing)["properties"];
      if (before.value("enableSoftDelete", true) && properties.contains("enableSoftDelete") && properties["enableSoftDelete"] == false) {
        return arm::badRequest("BadRequest", "The property \"enableSoftDelete\" has been set to true previously and cannot be set to false. "
                                             "Soft delete cannot be disabled once it is enabled.");
      }
      if (before.value("enablePurgeProtection", false) && properties.contains("enablePurgeProtection") &&
          properties["enablePurgeProtection"] != true) {
        return arm::badRequest("BadRequest", "The property \"enablePurgeProtection\" cannot be set to false. "
                                             "Enabling the purge protection for a vault is an irreversible action.");
      }
      if (before.value("enablePurgeProtection", false)) properties["enablePurgeProtection"] = true;
    }
    properties["enableSoftDelete"] = properties.value("enableSoftDelete", true);
    properties["softDeleteRetentionInDays"] = properties.value("softDeleteRetentionInDays", 90);
    properties["enableRbacAuthorization"] = properties.value("enableRbacAuthorization", false);
    properties["publicNetworkAccess"] = properties.value("publicNetworkAccess", std::string("Enabled"));
    properties["vaultUri"] = "https://" + arm::lower(path.names[0]) + ".vault.azure.net/";
    properties["provisioningState"] = "Succeeded";
    properties.erase("privateEndpointConnections");
    Json vault = existing ? *existing : Json{{"id", id}, {"name", path.names[0]}, {"type", kVaultType}};
    if (request.body.contains("location")) vault["location"] = request.body["location"];
    if (request.body.contains("tags") || request.method == "PUT") vault["tags"] = request.body.value("tags", Json::object());
    vault["properties"] = properties;
    vault["systemData"] = arm::systemData(request, existing, world.clock.iso8601());
    vault["etag"] = world.newEtag();
    return withEtag(renderVault(world, world.put(std::move(vault))), existing ? 200 : 201);
  }

  Response accessPolicies(const Request& request, const ArmPath& path, World& world, Json& vault) {
    if (request.method != "PUT" || path.isCollection()) return arm::methodNotAllowed(request);
    std::string kind = arm::lower(path.names[1]);
    if (kind != "add" && kind != "replace" && kind != "remove") {
      return arm::badRequest("BadRequest", "The access policy operation kind '" + path.names[1] + "' is not one of add, replace, remove.");
    }
    if (auto invalid = arm::checkObjectBody(request)) return *invalid;
    Json changes = request.body.contains("properties") ? request.body["properties"].value("accessPolicies", Json::array()) : Json::array();
    if (auto invalid = checkAccessPolicies(changes)) return *invalid;
    Json policies = vault["properties"].value("accessPolicies", Json::array());
    for (const auto& change : changes) {
      auto same = [&](const Json& p) {
        return arm::iequals(p.value("tenantId", std::string{}), change.value("tenantId", std::string{})) &&
               arm::iequals(p.value("objectId", std::string{}), change.value("objectId", std::string{})) &&
               arm::iequals(p.value("applicationId", std::string{}), change.value("applicationId", std::string{}));
      };
      auto it = std::ranges::find_if(policies, same);
      if (it == policies.end()) {
        if (kind != "remove") policies.push_back(change);
        continue;
      }
      for (const char* category : {"keys", "secrets", "certificates", "storage"}) {
        Json current = (*it)["permissions"].value(category, Json::array());
        Json given = change["permissions"].value(category, Json::array());
        if (kind == "add") (*it)["permissions"][category] = unionOf(current, given);
        if (kind == "replace") (*it)["permissions"][category] = given;
        if (kind == "remove") (*it)["permissions"][category] = minus(current, given);
      }
      if (kind == "remove") {
        bool empty = true;
        for (const auto& [category, list] : (*it)["permissions"].items()) empty = empty && list.empty();
        if (empty) policies.erase(it);
      }
    }
    vault["properties"]["accessPolicies"] = policies;
    vault["etag"] = world.newEtag();
    return Response::json(200, Json{{"id", vault.value("id", std::string{}) + "/accessPolicies/" + kind},
                                    {"type", "Microsoft.KeyVault/vaults/accessPolicies"},
                                    {"properties", {{"accessPolicies", changes}}}});
  }

  Response keys(const Request& request, const ArmPath& path, World& world, Json& vault) {
    std::string vaultId = vault.value("id", std::string{});
    if (path.types.size() == 3 && arm::iequals(path.types[2], "versions")) {
      if (request.method != "GET") return arm::methodNotAllowed(request);
      Json* key = arm::findTyped(world, vaultId + "/keys/" + path.names[1], kKeyType);
      if (key == nullptr) return arm::resourceNotFound(kKeyType, vaultId + "/keys/" + path.names[1]);
      std::vector<Json> versions;
      for (const auto& version : key->value("_versions", Json::array())) {
        if (path.names.size() == 3 && !arm::iequals(version.value("name", std::string{}), path.names[2])) continue;
        versions.push_back(version);
      }
      if (path.names.size() == 3) {
        if (versions.empty()) return arm::resourceNotFound(kKeyType, vaultId + "/keys/" + path.names[1] + "/versions/" + path.names[2]);
        return Response::json(200, versions.front());
      }
      return arm::listPage(request, std::move(versions));
    }
    if (path.types.size() != 2) return Response::error(400, "InvalidResourceType", "The resource type '" + path.resourceType() + "' could not be found.");
    if (path.isCollection()) {
      if (request.method != "GET") return arm::methodNotAllowed(request);
      std::vector<Json> items;
      for (Json* key : world.children(vaultId, "keys")) items.push_back(renderKey(world, *key));
      return arm::listPage(request, std::move(items));
    }
    std::string id = vaultId + "/keys/" + path.names[1];
    Json* existing = arm::findTyped(world, id, kKeyType);
    if (request.method == "GET") return existing ? Response::json(200, renderKey(world, *existing)) : arm::resourceNotFound(kKeyType, id);
    if (request.method != "PUT") return arm::methodNotAllowed(request);
    if (auto invalid = arm::checkObjectBody(request)) return *invalid;
    if (auto invalid = arm::checkName(path.names[1], "^[a-zA-Z0-9-]{1,127}$", kKeyType)) return *invalid;
    const Json requested = request.body.value("properties", Json::object());
    std::string kty = requested.value("kty", existing ? arm::stringAt(*existing, "/properties/kty") : std::string{});
    static const std::vector<std::string> kKeyTypes{"RSA", "RSA-HSM", "EC", "EC-HSM"};
    if (std::ranges::find(kKeyTypes, kty) == kKeyTypes.end()) {
      return arm::badRequest("BadParameter", "The key type '" + kty + "' is not valid. Valid values are RSA, RSA-HSM, EC and EC-HSM.", "properties.kty");
    }
    Json properties{{"kty", kty}};
    bool rsa = kty.starts_with("RSA");
    if (rsa) {
      int size = requested.value("keySize", existing ? (*existing)["properties"].value("keySize", 2048) : 2048);
      if (size != 2048 && size != 3072 && size != 4096) {
        return arm::badRequest("BadParameter", "The RSA key size " + std::to_string(size) + " is not valid. Use 2048, 3072 or 4096.", "properties.keySize");
      }
      properties["keySize"] = size;
    } else {
      properties["curveName"] = requested.value("curveName", std::string("P-256"));
    }
    properties["keyOps"] = requested.value("keyOps", rsa ? Json::array({"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"})
                                                         : Json::array({"sign", "verify"}));
    std::int64_t now = world.clock.unixSeconds();
    // Each PUT writes a new version with exactly the attributes it names (a version does not inherit
    // the previous one's nbf/exp), as creating a key version in Key Vault does.
    Json attributes{{"enabled", true}, {"exportable", false}};
    for (const char* field : {"enabled", "nbf", "exp", "exportable"}) {
      if (requested.contains("attributes") && requested["attributes"].contains(field)) attributes[field] = requested["attributes"][field];
    }
    attributes["created"] = existing ? (*existing)["properties"]["attributes"].value("created", now) : now;
    attributes["updated"] = now;
    properties["attributes"] = attributes;
    std::string version = world.newGuid();
    std::erase(version, '-');
    std::string name = arm::lastSegment(id);
    std::string uri = "https://" + arm::lower(vault.value("name", std::string{})) + ".vault.azure.net:443/keys/" + name;
    properties["keyUri"] = uri;
    properties["keyUriWithVersion"] = uri + "/" + version;
    if (requested.contains("rotationPolicy")) properties["rotationPolicy"] = requested["rotationPolicy"];
    Json key{{"id", id},
             {"name", name},
             {"type", kKeyType},
             {"location", vault.value("location", std::string{})},
             {"tags", request.body.value("tags", existing ? existing->value("tags", Json::object()) : Json::object())},
             {"properties", properties}};
    Json versions = existing ? existing->value("_versions", Json::array()) : Json::array();
    Json versionView = key;
    versionView["id"] = id + "/versions/" + version;
    versionView["name"] = version;
    versionView["type"] = "Microsoft.KeyVault/vaults/keys/versions";
    versions.push_back(versionView);
    key["_versions"] = versions;
    return Response::json(200, renderKey(world, world.put(std::move(key))));
  }

  Response connections(const Request& request, const ArmPath& path, World& world) {
    if (path.isCollection()) {
      if (request.method != "GET") return arm::methodNotAllowed(request);
      std::vector<Json> items;
      for (Json* connection : world.children(path.resourceId(), "privateEndpointConnections")) items.push_back(arm::publicView(*connection));
      return arm::listPage(request, std::move(items));
    }
    std::string id = path.resourceId();
    Json* existing = arm::findTyped(world, id, kConnectionType);
    if (auto failed = arm::checkPreconditions(request, existing)) return *failed;
    auto notFound = [&] {
      return Response::error(404, "PrivateEndpointConnectionNotFound",
                             "Private endpoint connection '" + path.names[1] + "' of vault '" + path.names[0] + "' was not found.");
    };
    if (request.method == "GET") return existing ? withEtag(arm::publicView(*existing)) : notFound();
    if (request.method == "DELETE") {
      if (!existing) return Response::empty(204);
      world.erase(id);
      return Response::empty(200);
    }
    if (request.method != "PUT") return arm::methodNotAllowed(request);
    if (!existing) return notFound();
    if (auto invalid = arm::checkObjectBody(request)) return *invalid;
    Json state = arm::stringAt(request.body, "/properties/privateLinkServiceConnectionState/status").empty()
                     ? Json()
                     : request.body["properties"]["privateLinkServiceConnectionState"];
    std::string status = state.is_object() ? state.value("status", std::string{}) : "";
    if (status != "Approved" && status != "Rejected" && status != "Pending" && status != "Disconnected") {
      return arm::badRequest("BadRequest", "privateLinkServiceConnectionState.status must be one of Pending, Approved, Rejected, Disconnected.",
                             "properties.privateLinkServiceConnectionState.status");
    }
    Json& stored = *existing;
    stored["properties"]["privateLinkServiceConnectionState"] =
        Json{{"status", status}, {"description", state.value("description", std::string{})}, {"actionsRequired", "None"}};
    stored["etag"] = world.newEtag();
    return withEtag(arm::publicView(stored));
  }
};

}  // namespace

ResourceProviderPtr makeKeyVaultProvider() { return std::make_unique<KeyVaultProvider>(); }

}  // namespace anf::emulator
