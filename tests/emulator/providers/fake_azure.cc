#include "tests/emulator/providers/fake_azure.h"

#include <gtest/gtest.h>

#include "emulator/providers/arm.h"

namespace anf::emulator::testing {
namespace {

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  for (std::size_t start = 0; start < path.size();) {
    auto slash = path.find('/', start);
    if (slash != start) parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

// The core's ARM path rules, enough for the providers' paths.
ArmPath parse(const std::string& method, const std::string& path) {
  auto segments = split(path);
  ArmPath parsed;
  std::vector<std::string> rest;
  std::size_t extension = segments.size();
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    if (arm::iequals(segments[i], "providers") && arm::iequals(segments[i + 1], "Microsoft.Authorization")) extension = i;
  }
  std::vector<std::string> scope(segments.begin(), segments.begin() + static_cast<std::ptrdiff_t>(extension));
  if (extension < segments.size()) {
    for (const auto& s : scope) parsed.scope += "/" + s;
    parsed.providerNamespace = "Microsoft.Authorization";
    rest.assign(segments.begin() + static_cast<std::ptrdiff_t>(extension + 2), segments.end());
  }
  std::size_t i = 0;
  if (scope.size() >= 2 && arm::iequals(scope[0], "subscriptions")) {
    parsed.subscriptionId = scope[1];
    i = 2;
    if (i < scope.size() && arm::iequals(scope[i], "resourceGroups")) {
      if (i + 1 < scope.size()) parsed.resourceGroup = scope[i + 1];
      i += 2;
    }
  }
  if (extension == segments.size()) {
    if (i < scope.size() && arm::iequals(scope[i], "providers")) {
      parsed.providerNamespace = scope[i + 1];
      rest.assign(scope.begin() + static_cast<std::ptrdiff_t>(i + 2), scope.end());
    } else {
      parsed.providerNamespace = "Microsoft.Resources";
      rest = {"resourceGroups"};
      if (!parsed.resourceGroup.empty()) rest.push_back(parsed.resourceGroup);
      parsed.resourceGroup.clear();
    }
  }
  if (rest.size() % 2 == 1 && method == "POST") {
    parsed.action = rest.back();
    rest.pop_back();
  }
  for (std::size_t k = 0; k < rest.size(); ++k) (k % 2 == 0 ? parsed.types : parsed.names).push_back(rest[k]);
  return parsed;
}

}  // namespace

std::string rg(const std::string& rest) { return std::string("/subscriptions/") + kProviderSub + "/resourceGroups/anf-rg" + rest; }
std::string customerRg(const std::string& rest) {
  return std::string("/subscriptions/") + kCustomerSub + "/resourceGroups/customer-rg" + rest;
}
std::string account(const std::string& name) { return rg("/providers/Microsoft.NetApp/netAppAccounts/" + name); }
std::string vault(const std::string& name) {
  return (name == "anfkv-customer" ? customerRg() : rg()) + "/providers/Microsoft.KeyVault/vaults/" + name;
}
std::string subnet(const std::string& name, const std::string& vnet) {
  return (vnet == "customer-vnet" ? customerRg() : rg()) + "/providers/Microsoft.Network/virtualNetworks/" + vnet + "/subnets/" + name;
}

FakeAzure::FakeAzure(bool seedDefaultWorld) {
  world_.lroDuration = std::chrono::seconds(1);
  world_.featureRegistrationDelay = std::chrono::seconds(120);
  world_.tenants = {
      Tenant{kProviderTenant, "provider", {kProviderSub}, {Principal{"admin", "10000000-0000-4000-8000-00000000c001", "provider-admin-secret", kProviderAdmin}}},
      Tenant{kCustomerTenant, "customer", {kCustomerSub}, {Principal{"admin", "20000000-0000-4000-8000-00000000c002", "customer-admin-secret", kCustomerAdmin}}}};
  providers_.push_back(makeNetAppProvider());
  providers_.push_back(makeKeyVaultProvider());
  providers_.push_back(makeNetworkProvider());
  providers_.push_back(makeManagedIdentityProvider());
  providers_.push_back(makeAuthorizationProvider());
  providers_.push_back(makeFeaturesProvider());
  providers_.push_back(makeResourcesProvider());
  if (!seedDefaultWorld) return;
  for (bool customer : {false, true}) {
    std::string base = customer ? customerRg() : rg();
    std::string vnetName = customer ? "customer-vnet" : "anf-vnet";
    ok("PUT", base, {{"location", "eastus"}}, customer);
    ok("PUT", base + "/providers/Microsoft.Network/virtualNetworks/" + vnetName,
       {{"location", "eastus"},
        {"properties",
         {{"addressSpace", {{"addressPrefixes", {"10.0.0.0/16"}}}},
          {"subnets",
           {{{"name", "anf-delegated"},
             {"properties",
              {{"addressPrefix", "10.0.1.0/24"},
               {"delegations", {{{"name", "netapp"}, {"properties", {{"serviceName", "Microsoft.NetApp/volumes"}}}}}}}}},
            {{"name", "endpoints"}, {"properties", {{"addressPrefix", "10.0.2.0/24"}, {"privateEndpointNetworkPolicies", "Disabled"}}}}}}}}},
       customer);
  }
  auto makeVault = [&](const std::string& name, bool rbac, bool customer) {
    ok("PUT", vault(name),
       {{"location", "eastus"},
        {"properties",
         {{"tenantId", customer ? kCustomerTenant : kProviderTenant},
          {"sku", {{"family", "A"}, {"name", "standard"}}},
          {"enableSoftDelete", true},
          {"enablePurgeProtection", true},
          {"enableRbacAuthorization", rbac},
          {"accessPolicies", Json::array()}}}},
       customer);
    for (const char* key : {"anf-key", "anf-key-2"}) {
      ok("PUT", vault(name) + "/keys/" + key, {{"properties", {{"kty", "RSA"}, {"keySize", 2048}}}}, customer);
    }
  };
  makeVault("anfkv-provider", false, false);
  makeVault("anfkv-rbac", true, false);
  makeVault("anfkv-customer", true, true);
}

Response FakeAzure::startOperation(LongRunningOperation&& operation) {
  Response response{operation.initialStatus, operation.initialBody, {}};
  std::string url = "https://management.azure.com/subscriptions/" + operation.subscriptionId + "/providers/" + operation.providerNamespace +
                    "/locations/" + operation.location + "/operationResults/" + world_.newGuid() + "?api-version=x";
  if (operation.poll != LongRunningOperation::Poll::Location) response.headers["Azure-AsyncOperation"] = url;
  if (operation.poll != LongRunningOperation::Poll::AzureAsyncOperation) response.headers["Location"] = url + "&operationResultResponseType=Location";
  response.headers["Retry-After"] = "1";
  operations_.push_back(std::move(operation));
  return response;
}

bool FakeAzure::operationInProgress(const std::string& resourceId) {
  return std::ranges::any_of(operations_, [&](const LongRunningOperation& op) { return arm::isAtOrBelow(op.resourceId, resourceId); });
}

Response FakeAzure::call(const std::string& method, const std::string& path, const Json& body, bool asCustomer,
                         const std::map<std::string, std::string>& headers, const std::map<std::string, std::string>& query) {
  Request request;
  request.method = method;
  request.path = path;
  request.query = query;
  request.query["api-version"] = "2025-06-01";
  request.headers = headers;
  request.headers["host"] = "127.0.0.1:8443";
  request.body = body;
  request.caller = asCustomer ? Caller{kCustomerTenant, kCustomerAdmin, "20000000-0000-4000-8000-00000000c002"}
                              : Caller{kProviderTenant, kProviderAdmin, "10000000-0000-4000-8000-00000000c001"};
  ArmPath armPath = parse(method, path);
  for (auto& provider : providers_) {
    if (arm::iequals(provider->providerNamespace(), armPath.providerNamespace)) return provider->handle(request, armPath, *this);
  }
  ADD_FAILURE() << "no provider for " << path;
  return Response::error(404, "NoProvider", path);
}

std::vector<Json> FakeAzure::settle() {
  std::vector<Json> errors;
  while (!operations_.empty()) {
    auto operation = std::move(operations_.front());
    operations_.erase(operations_.begin());
    if (auto error = operation.complete ? operation.complete(world_) : std::nullopt) errors.push_back(*error);
  }
  return errors;
}

Json FakeAzure::ok(const std::string& method, const std::string& path, const Json& body, bool asCustomer) {
  Response response = call(method, path, body, asCustomer);
  EXPECT_LT(response.status, 300) << method << " " << path << " -> " << response.status << " " << response.body.dump();
  auto errors = settle();
  EXPECT_TRUE(errors.empty()) << method << " " << path << " operation failed: " << (errors.empty() ? "" : errors[0].dump());
  return response.body;
}

Json FakeAzure::show(const std::string& path, bool asCustomer) {
  Response response = get(path, asCustomer);
  EXPECT_EQ(response.status, 200) << path << " " << response.body.dump();
  return response.body;
}

Json FakeAzure::createAccount(const std::string& name, bool systemIdentity) {
  Json body{{"location", "eastus"}, {"properties", Json::object()}};
  if (systemIdentity) body["identity"] = {{"type", "SystemAssigned"}};
  ok("PUT", account(name), body);
  return show(account(name));
}

Json FakeAzure::createIdentity(const std::string& name, bool asCustomer) {
  std::string id = (asCustomer ? customerRg() : rg()) + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name;
  ok("PUT", id, {{"location", "eastus"}}, asCustomer);
  return show(id, asCustomer);
}

void FakeAzure::grantAccessPolicy(const std::string& vaultId, const std::string& tenantId, const std::string& objectId, const Json& keys) {
  ok("PUT", vaultId + "/accessPolicies/add",
     {{"properties", {{"accessPolicies", {{{"tenantId", tenantId}, {"objectId", objectId}, {"permissions", {{"keys", keys}}}}}}}}});
}

void FakeAzure::assignRole(const std::string& scope, const std::string& roleGuid, const std::string& principalId, bool asCustomer) {
  std::string subscription = arm::subscriptionOf(scope);
  ok("PUT", scope + "/providers/Microsoft.Authorization/roleAssignments/" + world_.newGuid(),
     {{"properties",
       {{"roleDefinitionId", "/subscriptions/" + subscription + "/providers/Microsoft.Authorization/roleDefinitions/" + roleGuid},
        {"principalId", principalId},
        {"principalType", "ServicePrincipal"}}}},
     asCustomer);
}

std::string FakeAzure::createEndpoint(const std::string& name, const std::string& vaultId, const std::string& subnetId) {
  std::string id = rg("/providers/Microsoft.Network/privateEndpoints/" + name);
  ok("PUT", id,
     {{"location", "eastus"},
      {"properties",
       {{"subnet", {{"id", subnetId.empty() ? subnet("endpoints") : subnetId}}},
        {"privateLinkServiceConnections", {{{"name", name}, {"properties", {{"privateLinkServiceId", vaultId}, {"groupIds", {"vault"}}}}}}}}}});
  return id;
}

Response FakeAzure::createVolume(const std::string& accountName, const std::string& volumeName, const Json& extraProperties) {
  std::string pool = account(accountName) + "/capacityPools/pool1";
  if (world_.find(pool) == nullptr) {
    ok("PUT", pool, {{"location", "eastus"}, {"properties", {{"size", 4398046511104LL}, {"serviceLevel", "Premium"}}}});
  }
  Json properties{{"creationToken", volumeName}, {"usageThreshold", 107374182400LL}, {"subnetId", subnet("anf-delegated")},
                  {"protocolTypes", {"NFSv3"}}};
  for (const auto& [key, value] : extraProperties.items()) properties[key] = value;
  return call("PUT", pool + "/volumes/" + volumeName, {{"location", "eastus"}, {"properties", properties}});
}

void FakeAzure::registerFeature(const std::string& feature) {
  ok("POST", std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.Features/providers/Microsoft.NetApp/features/" + feature + "/register");
  world_.clock.advance(world_.featureRegistrationDelay);
}

std::string FakeAzure::createApplication(const std::string& tenantId, const std::string& displayName) {
  std::string objectId = world_.newGuid();
  std::string appId = world_.newGuid();
  world_.put(Json{{"id", "/tenants/" + tenantId + "/applications/" + objectId},
                  {"objectId", objectId},
                  {"tenantId", tenantId},
                  {"appId", appId},
                  {"displayName", displayName},
                  {"signInAudience", "AzureADMultipleOrgs"}});
  return appId;
}

void FakeAzure::addFederatedCredential(const std::string& tenantId, const std::string& appId, const std::string& subject,
                                       const std::string& issuer) {
  for (Json* app : world_.withPrefix("/tenants/" + tenantId + "/applications/")) {
    if (app->value("appId", std::string{}) != appId) continue;
    std::string id = world_.newGuid();
    world_.put(Json{{"id", app->value("id", std::string{}) + "/federatedIdentityCredentials/" + id},
                    {"objectId", id},
                    {"name", "cmk"},
                    {"issuer", issuer},
                    {"subject", subject},
                    {"audiences", {"api://AzureADTokenExchange"}}});
    return;
  }
  ADD_FAILURE() << "no application " << appId;
}

std::string FakeAzure::createServicePrincipal(const std::string& tenantId, const std::string& appId) {
  std::string objectId = world_.newGuid();
  world_.put(Json{{"id", "/tenants/" + tenantId + "/servicePrincipals/" + objectId},
                  {"objectId", objectId},
                  {"tenantId", tenantId},
                  {"appId", appId},
                  {"servicePrincipalType", "Application"}});
  return objectId;
}

}  // namespace anf::emulator::testing
