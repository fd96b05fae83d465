// Microsoft.ManagedIdentity: user-assigned identities and their federated identity credentials
// (2023-01-31, 2024-11-30). An identity is registered as a service principal of its subscription's
// tenant (directory.h) so that access policies and role assignments can name its principalId.
#include "emulator/providers/arm.h"
#include "emulator/providers/directory.h"

namespace anf::emulator {
namespace {

constexpr const char* kIdentityType = "Microsoft.ManagedIdentity/userAssignedIdentities";
constexpr const char* kCredentialType = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials";

class ManagedIdentityProvider final : public ResourceProvider {
 public:
  std::string providerNamespace() const override { return "Microsoft.ManagedIdentity"; }
  std::vector<std::string> apiVersions() const override { return {"2023-01-31", "2024-11-30"}; }

  Response handle(const Request& raw, const ArmPath& path, Context& context) override {
    const Request request = arm::withoutNulls(raw);
    if (path.types.empty() || !arm::iequals(path.types[0], "userAssignedIdentities")) {
      return Response::error(400, "InvalidResourceType", "The resource type '" + path.resourceType() + "' could not be found.");
    }
    if (path.types.size() == 1) return identities(request, path, context.world());
    if (path.types.size() == 2 && arm::iequals(path.types[1], "federatedIdentityCredentials")) {
      return credentials(request, path, context.world());
    }
    return Response::error(400, "InvalidResourceType", "The resource type '" + path.resourceType() + "' could not be found.");
  }

 private:
  Response identities(const Request& request, const ArmPath& path, World& world) {
    if (path.isCollection()) {
      if (request.method != "GET") return arm::methodNotAllowed(request);
      std::vector<Json> items;
      for (Json* identity : arm::ofType(world, kIdentityType, path.resourceId())) items.push_back(arm::publicView(*identity));
      return arm::listPage(request, std::move(items));
    }
    std::string id = path.resourceId();
    Json* existing = arm::findTyped(world, id, kIdentityType);
    if (auto failed = arm::checkPreconditions(request, existing)) return *failed;
    if (request.method == "GET") return existing ? arm::ok(*existing) : arm::resourceNotFound(kIdentityType, id);
    if (request.method == "PUT" || request.method == "PATCH") {
      if (request.method == "PATCH" && !existing) return arm::resourceNotFound(kIdentityType, id);
      if (auto invalid = arm::checkObjectBody(request)) return *invalid;
      if (auto invalid = arm::checkName(path.names[0], R"(^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$)", kIdentityType)) return *invalid;
      if (request.method == "PUT") {
        if (auto invalid = arm::checkLocation(request.body)) return *invalid;
      }
      const Tenant* tenant = world.tenantOfSubscription(path.subscriptionId);
      Json identity = existing ? *existing
                               : Json{{"id", id},
                                      {"name", path.names[0]},
                                      {"type", kIdentityType},
                                      {"properties",
                                       {{"tenantId", tenant ? tenant->tenantId : ""},
                                        {"principalId", world.newGuid()},
                                        {"clientId", world.newGuid()},
                                        {"isolationScope", "None"}}}};
      if (request.body.contains("location")) identity["location"] = request.body["location"];
      if (request.body.contains("tags") || request.method == "PUT") identity["tags"] = request.body.value("tags", Json::object());
      identity["etag"] = world.newEtag();
      Json& stored = world.put(std::move(identity));
      directory::registerManagedIdentity(world, stored["properties"]["tenantId"], stored["properties"]["principalId"],
                                         stored["properties"]["clientId"], path.names[0], id);
      return arm::ok(stored, existing ? 200 : 201);
    }
    if (request.method == "DELETE") {
      if (!existing) return Response::empty(204);
      directory::unregisterResourcePrincipal(world, *existing);
      for (Json* credential : arm::ofType(world, kCredentialType, id)) world.erase(credential->value("id", std::string{}));
      world.erase(id);
      return Response::empty(200);
    }
    return arm::methodNotAllowed(request);
  }

  Response credentials(const Request& request, const ArmPath& path, World& world) {
    std::string identityId = path.isCollection() ? path.resourceId() : arm::parentId(path.resourceId());
    if (!arm::findTyped(world, identityId, kIdentityType)) return arm::parentNotFound(identityId);
    if (path.isCollection()) {
      if (request.method != "GET") return arm::methodNotAllowed(request);
      std::vector<Json> items;
      for (Json* credential : arm::ofType(world, kCredentialType, identityId)) items.push_back(arm::publicView(*credential));
      return arm::listPage(request, std::move(items));
    }
    std::string id = path.resourceId();
    Json* existing = arm::findTyped(world, id, kCredentialType);
    if (request.method == "GET") return existing ? arm::ok(*existing) : arm::resourceNotFound(kCredentialType, id);
    if (request.method == "PUT") {
      if (auto invalid = arm::checkObjectBody(request)) return *invalid;
      if (auto invalid = arm::checkName(path.names[1], R"(^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$)", kCredentialType)) return *invalid;
      const Json properties = request.body.value("properties", Json::object());
      for (const char* required : {"issuer", "subject"}) {
        if (!properties.contains(required) || !properties[required].is_string() || properties[required].get<std::string>().empty()) {
          return arm::badRequest("BadRequest", std::string("The property '") + required + "' is required.", std::string("properties.") + required);
        }
      }
      Json audiences = properties.value("audiences", Json::array({"api://AzureADTokenExchange"}));
      Json credential{{"id", id},
                      {"name", path.names[1]},
                      {"type", kCredentialType},
                      {"properties", {{"issuer", properties["issuer"]}, {"subject", properties["subject"]}, {"audiences", audiences}}}};
      return arm::ok(world.put(std::move(credential)), existing ? 200 : 201);
    }
    if (request.method == "DELETE") {
      if (!existing) return Response::empty(204);
      world.erase(id);
      return Response::empty(200);
    }
    return arm::methodNotAllowed(request);
  }
};

}  // namespace

ResourceProviderPtr makeManagedIdentityProvider() { return std::make_unique<ManagedIdentityProvider>(); }

}  // namespace anf::emulator
