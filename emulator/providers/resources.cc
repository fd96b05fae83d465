// Microsoft.Resources: resource groups (2021-04-01). PUT/GET/DELETE/LIST at
// /subscriptions/{s}/resourcegroups[/{rg}]. DELETE removes everything inside the group (202 + Location).
#include "emulator/providers/arm.h"
#include "emulator/providers/directory.h"

namespace anf::emulator {
namespace {

constexpr const char* kType = "Microsoft.Resources/resourceGroups";

class ResourcesProvider final : public ResourceProvider {
 public:
  std::string providerNamespace() const override { return "Microsoft.Resources"; }
  std::vector<std::string> apiVersions() const override { return {"2021-04-01"}; }

  Response handle(const Request& raw, const ArmPath& path, Context& context) override {
    const Request request = arm::withoutNulls(raw);
    World& world = context.world();
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
};

}  // namespace

ResourceProviderPtr makeResourcesProvider() { return std::make_unique<ResourcesProvider>(); }

}  // namespace anf::emulator
