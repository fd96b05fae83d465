// The default world of the brief and --world YAML. Resources are applied as ARM PUT bodies through the providers,
// so they get the same defaults and validation as any client's; their operations complete at once.
#include <regex>

#include <yaml-cpp/yaml.h>

#include "emulator/log.h"
#include "emulator/providers/netapp_limits.h"
#include "emulator/service.h"

#include <spdlog/spdlog.h>

namespace anf::emulator {
namespace {

constexpr const char* kProviderTenant = "10000000-0000-4000-8000-000000000001";
constexpr const char* kProviderSubscription = "10000000-0000-4000-8000-0000000000a1";
constexpr const char* kCustomerTenant = "20000000-0000-4000-8000-000000000002";
constexpr const char* kCustomerSubscription = "20000000-0000-4000-8000-0000000000b1";
constexpr const char* kProviderAdminObject = "10000000-0000-4000-8000-00000000d001";
constexpr const char* kCustomerAdminObject = "20000000-0000-4000-8000-00000000d002";

/// YAML -> JSON. Plain scalars become booleans, null, integers or numbers when they look like one; quoted
/// scalars stay strings.
Json yamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json object = Json::object();
      for (const auto& entry : node) object[entry.first.as<std::string>()] = yamlToJson(entry.second);
      return object;
    }
    case YAML::NodeType::Sequence: {
      Json array = Json::array();
      for (const auto& entry : node) array.push_back(yamlToJson(entry));
      return array;
    }
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (node.Tag() == "!") return text;
      if (text == "true" || text == "True") return true;
      if (text == "false" || text == "False") return false;
      if (text == "null" || text == "~") return nullptr;
      static const std::regex kInteger(R"(^-?[0-9]+$)");
      static const std::regex kNumber(R"(^-?[0-9]+\.[0-9]+([eE][-+]?[0-9]+)?$)");
      if (std::regex_match(text, kInteger) && text.size() < 19) return std::stoll(text);
      if (std::regex_match(text, kNumber)) return std::stod(text);
      return text;
    }
    default:
      return nullptr;
  }
}

Json vnet(const std::string& subscription, const std::string& group, const std::string& name) {
  std::string id = "/subscriptions/" + subscription + "/resourceGroups/" + group + "/providers/Microsoft.Network/virtualNetworks/" + name;
  return Json::array(
      {{{"id", id}, {"body", {{"location", "eastus"}, {"properties", {{"addressSpace", {{"addressPrefixes", {"10.0.0.0/16"}}}}}}}}},
       {{"id", id + "/subnets/anf-delegated"},
        {"body",
         {{"properties",
           {{"addressPrefix", "10.0.1.0/24"},
            {"delegations", {{{"name", "netapp"}, {"properties", {{"serviceName", "Microsoft.NetApp/volumes"}}}}}}}}}}},
       {{"id", id + "/subnets/endpoints"},
        {"body", {{"properties", {{"addressPrefix", "10.0.2.0/24"}, {"privateEndpointNetworkPolicies", "Disabled"}}}}}}});
}

Json vault(const std::string& subscription, const std::string& group, const std::string& name, const std::string& tenant,
           const std::string& adminObjectId, bool rbac) {
  std::string id = "/subscriptions/" + subscription + "/resourceGroups/" + group + "/providers/Microsoft.KeyVault/vaults/" + name;
  Json accessPolicies = Json::array();
  if (!rbac) {
    accessPolicies.push_back({{"tenantId", tenant},
                              {"objectId", adminObjectId},
                              {"permissions",
                               {{"keys", {"all"}}, {"secrets", {"all"}}, {"certificates", {"all"}}}}});
  }
  Json resources = Json::array();
  resources.push_back({{"id", id},
                       {"body",
                        {{"location", "eastus"},
                         {"properties",
                          {{"tenantId", tenant},
                           {"sku", {{"family", "A"}, {"name", "standard"}}},
                           {"accessPolicies", accessPolicies},
                           {"vaultUri", "https://" + name + ".vault.azure.net/"},
                           {"enableSoftDelete", true},
                           {"softDeleteRetentionInDays", 90},
                           {"enablePurgeProtection", true},
                           {"enableRbacAuthorization", rbac},
                           {"publicNetworkAccess", "Enabled"},
                           {"networkAcls", {{"bypass", "AzureServices"}, {"defaultAction", "Allow"}}}}}}}});
  for (const std::string key : {"anf-key", "anf-key-2"}) {
    resources.push_back({{"id", id + "/keys/" + key},
                         {"body",
                          {{"properties",
                            {{"kty", "RSA"},
                             {"keySize", 2048},
                             {"keyOps", {"encrypt", "decrypt", "wrapKey", "unwrapKey", "sign", "verify"}},
                             {"attributes", {{"enabled", true}}},
                             {"keyUri", "https://" + name + ".vault.azure.net/keys/" + key}}}}}});
  }
  return resources;
}

}  // namespace

std::expected<void, std::string> Service::seedDefaultWorld() {
  Json resources = Json::array();
  for (const auto& part : {vnet(kProviderSubscription, "anf-rg", "anf-vnet"), vnet(kCustomerSubscription, "customer-rg", "customer-vnet"),
                           vault(kProviderSubscription, "anf-rg", "anfkv-provider", kProviderTenant, kProviderAdminObject, false),
                           vault(kProviderSubscription, "anf-rg", "anfkv-rbac", kProviderTenant, kProviderAdminObject, true),
                           vault(kCustomerSubscription, "customer-rg", "anfkv-customer", kCustomerTenant, kCustomerAdminObject, true)}) {
    for (const auto& resource : part) resources.push_back(resource);
  }
  Json description{
      {"tenants",
       {{{"name", "provider"},
         {"tenantId", kProviderTenant},
         {"subscriptions", {kProviderSubscription}},
         {"principals",
          {{{"name", "admin"},
            {"clientId", "10000000-0000-4000-8000-00000000c001"},
            {"clientSecret", "provider-admin-secret"},
            {"objectId", kProviderAdminObject}}}}},
        {{"name", "customer"},
         {"tenantId", kCustomerTenant},
         {"subscriptions", {kCustomerSubscription}},
         {"principals",
          {{{"name", "admin"},
            {"clientId", "20000000-0000-4000-8000-00000000c002"},
            {"clientSecret", "customer-admin-secret"},
            {"objectId", kCustomerAdminObject}}}}}}},
      {"resourceGroups",
       {{{"subscriptionId", kProviderSubscription}, {"name", "anf-rg"}, {"location", "eastus"}},
        {{"subscriptionId", kCustomerSubscription}, {"name", "customer-rg"}, {"location", "eastus"}}}},
      {"resources", resources}};
  return seed(description, true);
}

std::expected<void, std::string> Service::seedFromYaml(const std::string& file) {
  Json description;
  try {
    description = yamlToJson(YAML::LoadFile(file));
  } catch (const YAML::Exception& error) {
    return std::unexpected("--world " + file + ": " + error.what());
  }
  if (!description.is_object()) return std::unexpected("--world " + file + ": expected a mapping with tenants, resourceGroups, resources");
  auto seeded = seed(description, false);
  if (!seeded) return std::unexpected("--world " + file + ": " + seeded.error());
  return {};
}

std::expected<void, std::string> Service::seed(const Json& description, bool fallbackOnProviderError) {
  try {
    for (const auto& entry : description.value("tenants", Json::array())) {
      Tenant tenant{entry.at("tenantId").get<std::string>(), entry.value("name", ""), {}, {}};
      for (const auto& subscription : entry.value("subscriptions", Json::array())) {
        tenant.subscriptions.push_back(subscription.is_object() ? subscription.at("subscriptionId").get<std::string>() : subscription.get<std::string>());
        if (subscription.is_object() && subscription.contains("netAppLimits")) {
          if (auto raised = raiseLimits(tenant.subscriptions.back(), subscription["netAppLimits"]); !raised) return raised;
        }
      }
      for (const auto& principal : entry.value("principals", Json::array())) {
        tenant.principals.push_back({principal.value("name", ""), principal.at("clientId").get<std::string>(),
                                     principal.value("clientSecret", ""), principal.at("objectId").get<std::string>()});
      }
      world_.tenants.push_back(std::move(tenant));
    }
    if (world_.tenants.empty()) return std::unexpected("the world has no tenants");
    for (const auto& tenant : world_.tenants) {
      for (const auto& principal : tenant.principals) addGraphPrincipal(tenant, principal);
    }
    if (description.contains("operationSeconds")) {
      auto durations = operationDurationsOf(description["operationSeconds"]);
      if (!durations) return std::unexpected("operationSeconds: " + durations.error());
      world_.operationDurations = std::move(*durations);
    }
    world_.serialVolumeCreation = description.value("serialVolumeCreation", false);
    for (const auto& issuer : description.value("workloadIdentityIssuers", Json::array())) {
      externalIssuers_.push_back({issuer.at("issuer").get<std::string>(), issuer.at("publicKeyPem").get<std::string>()});
    }
    for (const auto& group : description.value("resourceGroups", Json::array())) {
      std::string id = "/subscriptions/" + group.at("subscriptionId").get<std::string>() + "/resourceGroups/" + group.at("name").get<std::string>();
      Json body{{"location", group.value("location", "eastus")}};
      if (group.contains("tags")) body["tags"] = group["tags"];
      if (auto applied = applyResource(id, group.value("apiVersion", ""), body, fallbackOnProviderError); !applied) return applied;
    }
    for (const auto& resource : description.value("resources", Json::array())) {
      auto applied = applyResource(resource.at("id").get<std::string>(), resource.value("apiVersion", ""), resource.value("body", Json::object()),
                                   fallbackOnProviderError);
      if (!applied) return applied;
    }
  } catch (const Json::exception& error) {
    return std::unexpected(std::string("the world description is malformed: ") + error.what());
  }
  return {};
}

std::expected<void, std::string> Service::raiseLimits(const std::string& subscriptionId, const Json& netAppLimits) {
  std::string problem = netapplimits::checkRaisedLimits(netAppLimits);
  if (!problem.empty()) return std::unexpected("subscription " + subscriptionId + ": " + problem);
  world_.subscriptionLimits[toLower(subscriptionId)]["Microsoft.NetApp"] = netAppLimits;
  return {};
}

std::expected<void, std::string> Service::applyResource(const std::string& id, const std::string& apiVersion, const Json& body,
                                                        bool fallbackOnProviderError) {
  auto path = parseArmPath("PUT", id);
  if (!path) return std::unexpected("PUT " + id + ": not an ARM resource id");
  ResourceProvider* provider = providerFor(path->providerNamespace);
  if (provider == nullptr) return std::unexpected("PUT " + id + ": no provider for " + path->providerNamespace);
  auto versions = provider->apiVersions();
  std::string version = apiVersion;
  if (version.empty() || std::ranges::none_of(versions, [&](const std::string& v) { return equalsNoCase(v, version); })) {
    if (versions.empty()) return std::unexpected("PUT " + id + ": provider " + provider->providerNamespace() + " supports no api-version");
    version = versions.front();
  }
  Request request{.method = "PUT", .path = id, .query = {{"api-version", version}}, .headers = {}, .body = body, .caller = {}};
  if (const Tenant* tenant = world_.tenantOfSubscription(path->subscriptionId)) {
    request.caller.tenantId = tenant->tenantId;
    if (!tenant->principals.empty()) {
      request.caller.objectId = tenant->principals.front().objectId;
      request.caller.appId = tenant->principals.front().clientId;
    }
  }
  auto lroDuration = world_.lroDuration;
  auto durations = std::exchange(world_.operationDurations, {});
  world_.lroDuration = std::chrono::seconds(0);
  Response response = dispatchArm(request, true);
  runDueOperations();
  world_.lroDuration = lroDuration;
  world_.operationDurations = std::move(durations);
  if (response.status < 400) return {};
  std::string reason = std::to_string(response.status) + " " + response.body.dump();
  if (!fallbackOnProviderError) return std::unexpected("PUT " + id + " failed: " + reason);
  // The default world must come up even while a provider is incomplete: store the body as the resource.
  emulatorLog()->warn("default world: PUT {} failed ({}); storing the body as is", id, reason);
  Json resource = body;
  resource["id"] = path->resourceId();
  resource["name"] = path->names.empty() ? "" : path->names.back();
  resource["type"] = path->resourceType();
  resource["properties"]["provisioningState"] = "Succeeded";
  world_.put(std::move(resource));
  return {};
}

void Service::addGraphPrincipal(const Tenant& tenant, const Principal& principal) {
  std::string root = "/tenants/" + tenant.tenantId;
  std::string applicationId = world_.newGuid();
  world_.put({{"id", root + "/applications/" + applicationId},
              {"objectId", applicationId},
              {"tenantId", tenant.tenantId},
              {"appId", principal.clientId},
              {"displayName", principal.name},
              {"signInAudience", "AzureADMyOrg"},
              {"identifierUris", Json::array()}});
  world_.put({{"id", root + "/servicePrincipals/" + principal.objectId},
              {"objectId", principal.objectId},
              {"tenantId", tenant.tenantId},
              {"appId", principal.clientId},
              {"appOwnerOrganizationId", tenant.tenantId},
              {"displayName", principal.name},
              {"appDisplayName", principal.name},
              {"servicePrincipalType", "Application"},
              {"accountEnabled", true},
              {"signInAudience", "AzureADMyOrg"},
              {"servicePrincipalNames", {principal.clientId}}});
}

}  // namespace anf::emulator
