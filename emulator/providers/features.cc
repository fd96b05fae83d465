// Microsoft.Features: register, unregister, get, list (2021-07-01).
#include "emulator/providers/features.h"

#include "emulator/providers/arm.h"

namespace anf::emulator {
namespace features {
namespace {

std::string featureId(const std::string& subscriptionId, const std::string& ns, const std::string& name) {
  return "/subscriptions/" + subscriptionId + "/providers/Microsoft.Features/providers/" + ns + "/features/" + name;
}

std::string stateOf(World& world, const Json& stored) {
  if (stored.value("_unregistered", false)) return "Unregistered";
  auto registeredAt = stored.value("_registeredAt", std::int64_t{0});
  return world.clock.unixSeconds() - registeredAt >= world.featureRegistrationDelay.count() ? "Registered" : "Registering";
}

Json view(World& world, const std::string& subscriptionId, const std::string& ns, const std::string& name) {
  Json* stored = world.find(featureId(subscriptionId, ns, name));
  std::string canonicalName = stored ? arm::lastSegment(stored->value("id", std::string{})) : name;
  return Json{{"id", featureId(subscriptionId, ns, canonicalName)},
              {"name", ns + "/" + canonicalName},
              {"type", "Microsoft.Features/providers/features"},
              {"properties", {{"state", stored ? stateOf(world, *stored) : "NotRegistered"}}}};
}

}  // namespace

std::string state(World& world, const std::string& subscriptionId, const std::string& providerNamespace,
                  const std::string& featureName) {
  Json* stored = world.find(featureId(subscriptionId, providerNamespace, featureName));
  return stored ? stateOf(world, *stored) : "NotRegistered";
}

void registerFeature(World& world, const std::string& subscriptionId, const std::string& providerNamespace,
                     const std::string& featureName) {
  std::string id = featureId(subscriptionId, providerNamespace, featureName);
  if (Json* stored = world.find(id); stored && !stored->value("_unregistered", false)) return;
  world.put(Json{{"id", id}, {"type", "Microsoft.Features/providers/features"}, {"_registeredAt", world.clock.unixSeconds()}});
}

namespace {

class FeaturesProvider final : public ResourceProvider {
 public:
  std::string providerNamespace() const override { return "Microsoft.Features"; }
  std::vector<std::string> apiVersions() const override { return {"2021-07-01"}; }

  // Paths: .../providers/Microsoft.Features/providers/{ns}/features/{name}[/register|/unregister],
  // .../providers/Microsoft.Features/providers/{ns}/features and .../providers/Microsoft.Features/features.
  Response handle(const Request& raw, const ArmPath& path, Context& context) override {
    const Request request = arm::withoutNulls(raw);
    World& world = context.world();
    const std::string& subscription = path.subscriptionId;
    // Parsed from the path itself: the nested "providers/{ns}" segment is unusual for ARM routers.
    std::vector<std::string> rest;
    std::string lowered = arm::lower(request.path);
    auto at = lowered.find("/providers/microsoft.features/");
    if (at != std::string::npos) {
      std::string tail = request.path.substr(at + std::string("/providers/microsoft.features/").size());
      for (std::size_t start = 0; start < tail.size();) {
        auto slash = tail.find('/', start);
        if (slash != start) rest.push_back(tail.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
      }
    }
    std::string ns = rest.size() >= 2 && arm::iequals(rest[0], "providers") ? rest[1] : "";
    std::string feature = rest.size() >= 4 && arm::iequals(rest[2], "features") ? rest[3] : "";
    std::string action = rest.size() >= 5 ? rest[4] : "";
    if (!feature.empty()) {
      if (request.method == "POST" && arm::iequals(action, "register")) {
        registerFeature(world, subscription, ns, feature);
        return Response::json(200, view(world, subscription, ns, feature));
      }
      if (request.method == "POST" && arm::iequals(action, "unregister")) {
        world.put(Json{{"id", featureId(subscription, ns, feature)},
                       {"type", "Microsoft.Features/providers/features"},
                       {"_unregistered", true}});
        return Response::json(200, view(world, subscription, ns, feature));
      }
      if (request.method == "GET" && action.empty()) return Response::json(200, view(world, subscription, ns, feature));
      return arm::methodNotAllowed(request);
    }
    if (request.method != "GET") return arm::methodNotAllowed(request);
    std::vector<Json> items;
    std::string prefix = "/subscriptions/" + subscription + "/providers/Microsoft.Features/providers/" + (ns.empty() ? "" : ns + "/");
    for (Json* stored : world.withPrefix(prefix)) {
      std::string id = stored->value("id", std::string{});
      std::string storedNs = arm::lastSegment(arm::parentId(id));
      items.push_back(view(world, subscription, storedNs, arm::lastSegment(id)));
    }
    return arm::listPage(request, std::move(items));
  }
};

}  // namespace
}  // namespace features

ResourceProviderPtr makeFeaturesProvider() { return std::make_unique<features::FeaturesProvider>(); }

}  // namespace anf::emulator
