// Microsoft.Resources: resource groups (2021-04-01). PUT/GET/DELETE/LIST at
// /subscriptions/{s}/resourcegroups[/{rg}]. DELETE removes everything inside the group (202 + Location).
// GET /subscriptions/{s}[/resourceGroups/{rg}]/resources lists the tracked resources (Resources_List).
#include <algorithm>
#include <regex>

#include "emulator/providers/arm.h"
#include "emulator/providers/directory.h"

namespace anf::emulator {
namespace {

constexpr const char* kType = "Microsoft.Resources/resourceGroups";

class ResourcesProvider final : public ResourceProvider {
 public:
  std::string providerNamespace() const override { return "Microsoft.Resources"; }
  // 2015-11-01: what @azure/arm-keyvault's vaults.list sends to /subscriptions/{s}/resources.
  std::vector<std::string> apiVersions() const override { return {"2015-11-01", "2021-04-01"}; }

  Response handle(const Request& raw, const ArmPath& path, Context& context) override {
    const Request request = arm::withoutNulls(raw);
    World& world = context.world();
    if (!path.types.empty() && arm::iequals(path.types.back(), "resources") && path.names.size() < path.types.size()) {
      return listResources(request, path, world);
    }
    std::string group = !path.resourceGroup.empty() ? path.resourceGroup : (path.names.empty() ? "" : path.names.back());
    if (group.empty()) {
      if (request.method != "GET") return arm::methodNotAllowed(request);
      std::vector<Json> items;
      for (Json* rg : world.withPrefix("/subscriptions/" + path.subscriptionId + "/resourceGroups/")) {
        if (arm::iequals(rg->value("type", std::string{}), kType)) items.push_back(arm::publicView(*rg));
      }
      return arm::listPage(request, std::move(items));
    }
    std::string id = "/subscriptions/" + path.subscriptionId + "/resourceGroups/" + group;
    Json* existing = arm::findTyped(world, id, kType);
    auto notFound = [&] {
      return Response::error(404, "ResourceGroupNotFound", "Resource group '" + group + "' could not be found.");
    };
    if (request.method == "GET") return existing ? arm::ok(*existing) : notFound();
    if (request.method == "PUT") {
      if (auto invalid = arm::checkObjectBody(request)) return *invalid;
      if (auto invalid = arm::checkName(group, R"(^[-\w\._\(\)]{1,90}$)", kType)) return *invalid;
      if (auto invalid = arm::checkLocation(request.body)) return *invalid;
      if (existing && !arm::iequals(existing->value("location", std::string{}), request.body["location"].get<std::string>())) {
        return Response::error(409, "InvalidResourceGroupLocation",
                               "Invalid resource group location '" + request.body["location"].get<std::string>() +
                                   "'. The Resource group already exists in location '" + existing->value("location", std::string{}) +
                                   "'.");
      }
      bool created = existing == nullptr;
      Json rg{{"id", id},
              {"name", existing ? existing->value("name", group) : group},
              {"type", kType},
              {"location", request.body["location"]},
              {"tags", request.body.value("tags", Json::object())},
              {"properties", {{"provisioningState", "Succeeded"}}}};
      return arm::ok(world.put(std::move(rg)), created ? 201 : 200);
    }
    if (request.method == "DELETE") {
      if (!existing) return notFound();
      (*existing)["properties"]["provisioningState"] = "Deleting";
      LongRunningOperation operation;
      operation.subscriptionId = path.subscriptionId;
      operation.providerNamespace = "Microsoft.Resources";
      operation.location = existing->value("location", std::string{});
      operation.resourceId = id;
      operation.poll = LongRunningOperation::Poll::Location;
      operation.initialStatus = 202;
      operation.complete = [id](World& w) -> std::optional<Json> {
        std::vector<std::string> doomed;
        for (Json* resource : w.withPrefix(id + "/")) doomed.push_back(resource->value("id", std::string{}));
        for (const auto& victim : doomed) {
          if (const Json* resource = w.find(victim)) directory::unregisterResourcePrincipal(w, *resource);
          w.erase(victim);
        }
        w.erase(id);
        return std::nullopt;
      };
      return context.startOperation(std::move(operation));
    }
    return arm::methodNotAllowed(request);
  }

 private:
  // GET /subscriptions/{s}[/resourceGroups/{g}]/resources[?$filter=resourceType eq 'T' [and name eq 'N']]: the
  // tracked top-level resources (no extension resources), without their properties, as Resources_List answers.
  static Response listResources(const Request& request, const ArmPath& path, World& world) {
    if (request.method != "GET") return arm::methodNotAllowed(request);
    std::string wantedType, wantedName;
    if (auto filter = request.query.find("$filter"); filter != request.query.end()) {
      static const std::regex clause(R"(^\s*(resourceType|name)\s+eq\s+'([^']*)'\s*(?:and\s+|$))", std::regex::icase);
      std::string rest = filter->second;
      std::smatch match;
      while (!rest.empty() && std::regex_search(rest, match, clause)) {
        (arm::iequals(match[1].str(), "name") ? wantedName : wantedType) = match[2].str();
        rest = match.suffix().str();
      }
      if (!rest.empty() || (wantedType.empty() && wantedName.empty())) {
        return arm::badRequest("InvalidFilterInQueryString", "Invalid $filter '" + filter->second + "' specified in the query string.");
      }
    }
    std::string group = path.names.empty() ? "" : path.names.back();
    std::string prefix = "/subscriptions/" + path.subscriptionId + "/resourceGroups/" + (group.empty() ? "" : group + "/");
    std::vector<Json> items;
    for (Json* resource : world.withPrefix(prefix)) {
      std::string id = resource->value("id", std::string{});
      std::string type = resource->value("type", std::string{});
      // Top level only: ".../providers/{namespace}/{type}/{name}" without its last three segments ends in "/providers".
      std::string head = arm::parentId(id);
      head = head.substr(0, head.rfind('/'));
      if (std::ranges::count(id, '/') != 8 || !arm::iequals(arm::lastSegment(head), "providers")) continue;
      if (type.starts_with("Microsoft.Authorization/") || type.starts_with("Microsoft.Features/")) continue;
      if ((!wantedType.empty() && !arm::iequals(type, wantedType)) || (!wantedName.empty() && !arm::iequals(resource->value("name", std::string{}), wantedName))) continue;
      Json item{{"id", id}, {"name", resource->value("name", std::string{})}, {"type", type}};
      for (const char* field : {"location", "tags", "kind", "sku", "identity", "managedBy"}) {
        if (resource->contains(field)) item[field] = (*resource)[field];
      }
      items.push_back(std::move(item));
    }
    return arm::listPage(request, std::move(items));
  }
};

}  // namespace

ResourceProviderPtr makeResourcesProvider() { return std::make_unique<ResourcesProvider>(); }

}  // namespace anf::emulator
