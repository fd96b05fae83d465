// Conformance with the public REST specifications: for each x-ms-example recorded under tests/emulator/conformance
// (netapp.json, others.json: fields, types, status codes and headers, with each example's path and commit), the emulator's
// answer to the same operation, made against the default world, must use one of the example's status codes, send
// the headers it names, and carry every field it shows with the same JSON type (an array may be empty). The 200 of
// a PUT or PATCH (a synchronous update, which the emulator never answers) is compared with the resource as GET shows
// it once the operation ends.
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "tests/emulator/providers/fake_azure.h"

namespace anf::emulator::testing {
namespace {

constexpr std::int64_t kGiB = 1073741824;

std::string jsonType(const Json& value) {
  if (value.is_boolean()) return "boolean";
  if (value.is_number()) return "number";
  if (value.is_string()) return "string";
  if (value.is_array()) return "array";
  if (value.is_object()) return "object";
  return "null";
}

/// One observed answer: the example status it stands for, and what the emulator sent.
struct Observation {
  std::string status;
  Response response;
};

std::string pool() { return account() + "/capacityPools/pool1"; }
std::string volume() { return pool() + "/volumes/vol1"; }
std::string vnet() { return rg("/providers/Microsoft.Network/virtualNetworks/anf-vnet"); }

/// The default world plus a system-assigned CMK account "acct" (anfkv-provider), its endpoint "pe-kv", pool1, a PMK
/// volume vol1 and a CMK volume cmkvol in anf-vnet, every operation settled.
struct CmkWorld {
  CmkWorld() {
    std::string principal = azure.createAccount("acct", true)["identity"]["principalId"];
    azure.grantAccessPolicy(vault(), kProviderTenant, principal);
    azure.ok("PATCH", account(),
             {{"properties",
               {{"encryption",
                 {{"keySource", "Microsoft.KeyVault"},
                  {"keyVaultProperties",
                   {{"keyVaultUri", "https://anfkv-provider.vault.azure.net/"}, {"keyName", "anf-key"}, {"keyVaultResourceId", vault()}}}}}}}});
    endpoint = azure.createEndpoint("pe-kv", vault());
    azure.createVolume("acct", "vol1", {{"networkFeatures", "Standard"}});
    azure.createVolume("acct", "cmkvol", {{"encryptionKeySource", "Microsoft.KeyVault"}, {"networkFeatures", "Standard"},
                                          {"keyVaultPrivateEndpointResourceId", endpoint}});
    azure.settle();
  }
  FakeAzure azure;
  std::string endpoint;
};

/// A write's initial answer as `created`, then the resource once its operation ended as "200".
std::vector<Observation> writeThenGet(FakeAzure& azure, const std::string& created, const std::string& method, const std::string& id,
                                      const Json& body) {
  Response first = azure.call(method, id, body);
  azure.settle();
  return {{created, first}, {"200", azure.get(id)}};
}

using Operation = std::function<std::vector<Observation>()>;

/// How the emulator is asked for each recorded example.
std::map<std::string, Operation> netAppOperations() {
  Json poolBody{{"location", "eastus"}, {"properties", {{"size", 4LL << 40}, {"serviceLevel", "Premium"}, {"qosType", "Auto"}}}};
  Json volumeBody{{"location", "eastus"},
                  {"properties", {{"creationToken", "vol2"}, {"serviceLevel", "Premium"}, {"subnetId", subnet("anf-delegated")},
                                  {"usageThreshold", 100 * kGiB}}}};
  return {
      {"Accounts_CreateOrUpdate",
       [] {
         FakeAzure azure;
         return writeThenGet(azure, "201", "PUT", account("account1"), {{"location", "eastus"}, {"properties", Json::object()}});
       }},
      {"Accounts_Update",
       [] {
         FakeAzure azure;
         azure.createAccount("acct");
         return writeThenGet(azure, "202", "PATCH", account(), {{"tags", {{"Tag1", "Value1"}}}});
       }},
      {"Accounts_Delete",
       [] {
         FakeAzure azure;
         azure.createAccount("acct");
         Response accepted = azure.call("DELETE", account());
         azure.settle();
         return std::vector<Observation>{{"202", accepted}, {"204", azure.call("DELETE", account())}};
       }},
      {"Pools_Update",
       [] {
         CmkWorld w;
         return writeThenGet(w.azure, "202", "PATCH", pool(), Json::object());
       }},
      {"Accounts_Get", [] { CmkWorld w; return std::vector<Observation>{{"200", w.azure.get(account())}}; }},
      {"Pools_CreateOrUpdate",
       [poolBody] {
         FakeAzure azure;
         azure.createAccount("acct");
         return writeThenGet(azure, "201", "PUT", pool(), poolBody);
       }},
      {"Pools_Get", [] { CmkWorld w; return std::vector<Observation>{{"200", w.azure.get(pool())}}; }},
      {"Volumes_CreateOrUpdate",
       [volumeBody] { CmkWorld w; return writeThenGet(w.azure, "201", "PUT", pool() + "/volumes/vol2", volumeBody); }},
      {"Volumes_Get", [] { CmkWorld w; return std::vector<Observation>{{"200", w.azure.get(volume())}}; }},
      {"Accounts_GetChangeKeyVaultInformation",
       [] { CmkWorld w; return std::vector<Observation>{{"200", w.azure.call("POST", account() + "/getKeyVaultStatus")}}; }},
      {"Accounts_RenewCredentials",
       [] { CmkWorld w; return std::vector<Observation>{{"202", w.azure.call("POST", account() + "/renewCredentials")}}; }},
      {"Accounts_ChangeKeyVault",
       [] {
         CmkWorld w;
         Json change{{"keyVaultUri", "https://anfkv-provider.vault.azure.net/"}, {"keyName", "anf-key-2"}, {"keyVaultResourceId", vault()},
                     {"keyVaultPrivateEndpoints", {{{"virtualNetworkId", vnet()}, {"privateEndpointId", w.endpoint}}}}};
         return std::vector<Observation>{{"202", w.azure.call("POST", account() + "/changeKeyVault", change)}};
       }},
      {"Accounts_TransitionEncryptionKey",
       [] {
         CmkWorld w;
         w.azure.registerFeature("ANFMigratePmkToCmk");
         Json body{{"virtualNetworkId", vnet()}, {"privateEndpointId", w.endpoint}};
         return std::vector<Observation>{{"202", w.azure.call("POST", account() + "/transitiontocmk", body)}};
       }},
  };
}

/// A create (201) and the same PUT again (200), for the resources that answer synchronously.
std::vector<Observation> createThenRepeat(FakeAzure& azure, const std::string& id, const Json& body) {
  Response created = azure.call("PUT", id, body);
  azure.settle();
  return {{"201", created}, {"200", azure.call("PUT", id, body)}};
}

/// Key Vault, ManagedIdentity, Network, Authorization, Features and Resources (others.json).
std::map<std::string, Operation> otherOperations() {
  return {
      {"getVault",
       [] {
         FakeAzure azure;
         azure.grantAccessPolicy(vault(), kProviderTenant, kProviderAdmin);
         return std::vector<Observation>{{"200", azure.get(vault())}};
       }},
      {"getKey", [] { FakeAzure azure; return std::vector<Observation>{{"200", azure.get(vault() + "/keys/anf-key")}}; }},
      {"createKey",
       [] {
         FakeAzure azure;
         return std::vector<Observation>{{"200", azure.call("PUT", vault() + "/keys/conformance-key", {{"properties", {{"kty", "RSA"}}}})}};
       }},
      {"updateAccessPoliciesAdd",
       [] {
         FakeAzure azure;
         Json policy{{"tenantId", kProviderTenant}, {"objectId", kProviderAdmin}, {"permissions", {{"keys", {"encrypt"}}, {"secrets", {"get"}}, {"certificates", {"get"}}}}};
         return std::vector<Observation>{{"200", azure.call("PUT", vault() + "/accessPolicies/add", {{"properties", {{"accessPolicies", {policy}}}}})}};
       }},
      {"IdentityCreate",
       [] {
         FakeAzure azure;
         return createThenRepeat(azure, rg("/providers/Microsoft.ManagedIdentity/userAssignedIdentities/conformance-id"),
                                 {{"location", "eastus"}, {"tags", {{"key1", "value1"}}}});
       }},
      {"RoleAssignments_CreateForResourceGroup",
       [] {
         FakeAzure azure;
         std::string roleDefinition = std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.Authorization/roleDefinitions/" + kCryptoUser;
         return createThenRepeat(azure, rg("/providers/Microsoft.Authorization/roleAssignments/05c5a614-a7d6-4502-b150-c2fb455033ff"),
                                 {{"properties", {{"roleDefinitionId", roleDefinition}, {"principalId", kProviderAdmin}, {"principalType", "User"}}}});
       }},
      {"IdentityGet",
       [] {
         FakeAzure azure;
         std::string id = rg("/providers/Microsoft.ManagedIdentity/userAssignedIdentities/conformance-id");
         azure.ok("PUT", id, {{"location", "eastus"}, {"tags", {{"key1", "value1"}}}});
         return std::vector<Observation>{{"200", azure.get(id)}};
       }},
      {"GetRoleDefinitionById",
       [] {
         FakeAzure azure;
         return std::vector<Observation>{
             {"200", azure.get(std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.Authorization/roleDefinitions/" + kCryptoUser)}};
       }},
      {"PrivateEndpointGet",
       [] {
         FakeAzure azure;
         std::string endpoint = azure.createEndpoint("pe-kv", vault());
         return std::vector<Observation>{{"200", azure.get(endpoint)}};
       }},
      {"SubnetGet", [] { FakeAzure azure; return std::vector<Observation>{{"200", azure.get(subnet("anf-delegated"))}}; }},
      {"listProviderFeatures",
       [] {
         FakeAzure azure;
         azure.registerFeature("ANFMigratePmkToCmk");
         std::string features = std::string("/subscriptions/") + kProviderSub + "/providers/Microsoft.Features/providers/Microsoft.NetApp/features";
         return std::vector<Observation>{{"200", azure.get(features)}};
       }},
      {"CreateResourceGroup",
       [] {
         FakeAzure azure;
         return createThenRepeat(azure, std::string("/subscriptions/") + kProviderSub + "/resourceGroups/conformance-rg", {{"location", "eastus"}});
       }},
  };
}

std::map<std::string, Operation> allOperations() {
  auto operations = netAppOperations();
  operations.merge(otherOperations());
  return operations;
}

Json record(const std::string& file) {
  std::ifstream in(std::string(ANF_CONFORMANCE_DIR) + "/" + file);
  return Json::parse(in);
}

/// Whether `at` names an item (or below) of an array that is empty in `body`.
bool insideAnEmptyArray(const Json& body, Json::json_pointer at) {
  while (!at.empty()) {
    at = at.parent_pointer();
    if (body.contains(at) && body[at].is_array() && body[at].empty()) return true;
  }
  return false;
}

/// Every difference between what the example shows for `status` and what the emulator sent.
std::vector<std::string> differences(const Json& expected, const Json& echoed, const Response& response) {
  std::vector<std::string> found;
  const Json headers = expected.value("headers", Json::array());
  const Json fields = expected.value("fields", Json::object());
  for (const auto& header : headers) {
    if (!response.headers.contains(header.get<std::string>())) found.push_back("header " + header.get<std::string>() + " missing");
  }
  for (const auto& [pointer, type] : fields.items()) {
    bool optional = std::ranges::any_of(echoed, [&](const Json& prefix) { return pointer.starts_with(prefix.get<std::string>()); });
    Json::json_pointer at(pointer);
    if (insideAnEmptyArray(response.body, at)) continue;  // the example's items describe what ours would hold
    if (!response.body.contains(at)) {
      if (!optional) found.push_back(pointer + " missing");
    } else if (jsonType(response.body[at]) != type) {
      found.push_back(pointer + " is " + jsonType(response.body[at]) + ", the example's is " + type.get<std::string>());
    }
  }
  return found;
}

/// The recorded examples, as (record file, operationId).
std::vector<std::pair<std::string, std::string>> recordedExamples() {
  std::vector<std::pair<std::string, std::string>> examples;
  for (const char* file : {"netapp.json", "others.json"}) {
    const Json recorded = record(file);
    for (const auto& example : recorded["operations"]) examples.emplace_back(file, example["operationId"].get<std::string>());
  }
  return examples;
}

class Conformance : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(Conformance, TheEmulatorAnswersAsTheExampleShows) {
  const auto& [file, operationId] = GetParam();
  Json operations = record(file)["operations"];
  auto example = std::ranges::find_if(operations, [&](const Json& op) { return op["operationId"] == operationId; });
  const Json& responses = (*example)["responses"];
  auto comparisons = allOperations();
  ASSERT_TRUE(comparisons.contains(operationId)) << operationId << " has no comparison";
  for (const auto& [status, response] : comparisons.at(operationId)()) {
    SCOPED_TRACE(operationId + " " + status + " (" + (*example)["source"]["path"].get<std::string>() + " @ " +
                 (*example)["source"]["commit"].get<std::string>() + ")");
    ASSERT_EQ(std::to_string(response.status), status) << response.body.dump();
    ASSERT_TRUE(responses.contains(status)) << "the example documents no " << status;
    for (const auto& difference : differences(responses[status], (*example)["echoed"], response)) ADD_FAILURE() << difference;
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, Conformance, ::testing::ValuesIn(recordedExamples()),
                         [](const auto& info) { return info.param.second; });

}  // namespace
}  // namespace anf::emulator::testing
