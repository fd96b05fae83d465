// End-to-end tests of the single-tenant CMK examples (issue 6): every example folder reaches Ready and Azure,
// read back through ARM as the emulator's admin, holds what the reference page says; identity switch by
// editing the YAML; reconcile-policy observe; drift of the key and of the private endpoint; the rows of the
// page's two error tables provoked through the emulator's world; kill -9 in the middle of a flow.
// Fixture and ARM read-back: e2e_support.h.
#include "tests/e2e/e2e_support.h"

namespace anf::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kAuthorizationApi = "2022-04-01";
const std::string kIdentityApi = "2023-01-31";
const std::string kRbacVault = kResourceGroup + "/providers/Microsoft.KeyVault/vaults/anfkv-rbac";
const std::string kIdentity = kResourceGroup + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/anf-cmk-identity";
const std::string kPool = kAccount + "/capacityPools/pool1";
const std::string kEndpoints = kResourceGroup + "/providers/Microsoft.Network/privateEndpoints";
const std::vector<std::string> kKeyPermissions{"decrypt", "encrypt", "get"};
const std::vector<std::string> kMinimalDataActions{"Microsoft.KeyVault/vaults/keys/decrypt/action",
                                                   "Microsoft.KeyVault/vaults/keys/encrypt/action",
                                                   "Microsoft.KeyVault/vaults/keys/read"};

std::string stringAt(const Json& json, const std::string& pointer) {
  const Json::json_pointer p{pointer};
  return json.is_object() && json.contains(p) && json.at(p).is_string() ? json.at(p).get<std::string>() : "";
}

/// A field of the status item's condition `type` ("" when there is no such condition).
std::string conditionField(const Json& item, const std::string& type, const std::string& field) {
  const Json c = condition(item, type);
  return c.is_object() ? c.value(field, "") : "";
}

std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// `text` with every match of `pattern` replaced; fails the test when nothing matched.
std::string edited(const std::string& text, const std::string& pattern, const std::string& replacement) {
  std::string out = std::regex_replace(text, std::regex(pattern), replacement);
  EXPECT_NE(out, text) << "the edit /" << pattern << "/ matched nothing";
  return out;
}

/// A vault body like the default world's (access policies, soft delete and purge protection on, eastus).
Json vaultBody(const std::string& tenantId, const std::string& adminObjectId, const std::string& name) {
  return {{"location", "eastus"},
          {"properties",
           {{"tenantId", tenantId},
            {"sku", {{"family", "A"}, {"name", "standard"}}},
            {"accessPolicies",
             Json::array({{{"tenantId", tenantId}, {"objectId", adminObjectId}, {"permissions", {{"keys", {"all"}}}}}})},
            {"vaultUri", "https://" + name + ".vault.azure.net/"},
            {"enableSoftDelete", true},
            {"softDeleteRetentionInDays", 90},
            {"enablePurgeProtection", true},
            {"enableRbacAuthorization", false},
            {"publicNetworkAccess", "Enabled"},
            {"networkAcls", {{"bypass", "AzureServices"}, {"defaultAction", "Allow"}}}}}};
}

Json rsaKey(const Json& attributes = Json::object()) {
  Json body{{"properties", {{"kty", "RSA"}, {"keySize", 2048}}}};
  if (!attributes.empty()) body["properties"]["attributes"] = attributes;
  return body;
}

class CmkE2eTest : public E2eTest {
 protected:
  /// PUT as the admin; fails the test unless Azure accepted it.
  void put(const std::string& path, const std::string& apiVersion, const Json& body) {
    auto response = arm_->call("PUT", path, apiVersion, body);
    ASSERT_LT(response.status, 300) << "PUT " << path << ": " << response.body.dump();
  }

  /// A new vault `name` in anf-rg (with key anf-key), shaped by `adjust`.
  void createVault(const std::string& name, const std::function<void(Json&)>& adjust) {
    const auto provider = emulator_->tenant("provider");
    Json body = vaultBody(provider.tenantId, provider.principal("admin").objectId, name);
    adjust(body);
    const std::string id = kResourceGroup + "/providers/Microsoft.KeyVault/vaults/" + name;
    put(id, kKeyVaultApi, body);
    put(id + "/keys/anf-key", kKeyVaultApi, rsaKey());
  }

  fs::path manifest(const std::string& file = "quickstart.yaml") const { return dir_ / "manifests" / file; }
  void editManifest(const std::string& pattern, const std::string& replacement, const std::string& file = "quickstart.yaml") {
    const std::string text = readFile(manifest(file));
    std::ofstream(manifest(file)) << edited(text, pattern, replacement);
  }
  /// Replaces the working dir's manifest `file` with an example's file (same document names: an edit in place).
  void replaceManifestWithExample(const std::string& example, const std::string& exampleFile, const std::string& file = "quickstart.yaml") {
    const std::string text = readFile(fs::path(ANF_SOURCE_DIR) / "manifests/examples" / example / exampleFile);
    ASSERT_FALSE(text.empty());
    const auto temp = dir_ / (file + ".tmp");
    std::ofstream(temp) << text;
    fs::rename(temp, manifest(file));  // atomic: the watcher never sees half a file
  }

  Json account() { return arm_->get(kAccount, kNetAppApi); }
  std::string accountKeyName() { return stringAt(account(), "/properties/encryption/keyVaultProperties/keyName"); }

  /// Awaits the document's status item until `done` holds for it; the failure message shows the last one.
  Json awaitDocument(const std::string& kind, const std::string& name, const std::function<bool(const Json&)>& done,
                     std::chrono::seconds timeout = 45s) {
    Json item;
    const bool held = await(
        [&] {
          item = findDocument(operator_->statusJson(), kind, name);
          return item.is_object() && done(item);
        },
        timeout);
    EXPECT_TRUE(held) << kind << "/" << name << " did not reach the expected state; last:\n" << item.dump(2);
    return item;
  }

  std::size_t countOf(const std::string& collection, const std::string& apiVersion) {
    const Json list = arm_->get(collection, apiVersion);
    return list.is_object() && list.contains("value") ? list["value"].size() : 0;
  }

  /// "METHOD path" of the ARM requests in the emulator's request log: the writes (PUT, PATCH, POST, DELETE), or the reads.
  std::vector<std::string> requestLog(bool writes) {
    std::vector<std::string> out;
    const auto log = emulator_->control("GET", "/_emulator/requests");
    for (const auto& item : log.body.value("items", Json::array())) {
      const std::string method = item.value("method", "");
      if ((method != "GET") == writes && item.value("path", "").starts_with("/subscriptions/")) out.push_back(method + " " + item.value("path", ""));
    }
    return out;
  }
  std::vector<std::string> writesInRequestLog() { return requestLog(true); }

  /// The role assignments at the vault scope for `principalId`.
  std::vector<Json> roleAssignmentsFor(const std::string& vault, const std::string& principalId) {
    std::vector<Json> out;
    const Json list = arm_->get(vault + "/providers/Microsoft.Authorization/roleAssignments", kAuthorizationApi);
    for (const auto& assignment : list.value("value", Json::array()))
      if (lower(stringAt(assignment, "/properties/principalId")) == lower(principalId)) out.push_back(assignment);
    return out;
  }

  /// The number of access policy entries on a vault for `objectId` (duplicates would show as more than 1).
  std::size_t accessPolicyEntriesFor(const std::string& vault, const std::string& objectId) {
    std::size_t n = 0;
    for (const auto& policy : arm_->get(vault, kKeyVaultApi)["properties"].value("accessPolicies", Json::array()))
      n += lower(policy.value("objectId", "")) == lower(objectId) ? 1 : 0;
    return n;
  }

  /// Asserts the account encrypts with the user-assigned identity anf-cmk-identity, granted on the vault;
  /// returns its principal id.
  std::string expectEncryptsWithUserIdentity() {
    const std::string userPrincipal = stringAt(arm_->get(kIdentity, kIdentityApi), "/properties/principalId");
    EXPECT_FALSE(userPrincipal.empty());
    const Json a = account();
    EXPECT_EQ(stringAt(a, "/identity/type"), "UserAssigned") << a.dump(2);
    EXPECT_EQ(lower(stringAt(a, "/properties/encryption/identity/principalId")), lower(userPrincipal)) << a.dump(2);
    EXPECT_EQ(lower(stringAt(a, "/properties/encryption/identity/userAssignedIdentity")), lower(kIdentity)) << a.dump(2);
    EXPECT_EQ(stringAt(a, "/properties/encryption/keyVaultProperties/status"), "InUse") << a.dump(2);
    EXPECT_EQ(keyPermissionsFor(arm_->get(kVault, kKeyVaultApi), userPrincipal), kKeyPermissions);
    return userPrincipal;
  }

  void expectVolumeIsCmkWithEndpoint(const std::string& volume, const std::string& endpointName) {
    const std::string endpointId = resourceIdOf("PrivateEndpoint", endpointName);
    ASSERT_FALSE(endpointId.empty());
    const Json v = arm_->get(kPool + "/volumes/" + volume, kNetAppApi);
    EXPECT_EQ(stringAt(v, "/properties/encryptionKeySource"), "Microsoft.KeyVault") << v.dump(2);
    EXPECT_EQ(stringAt(v, "/properties/networkFeatures"), "Standard") << v.dump(2);
    EXPECT_EQ(lower(stringAt(v, "/properties/keyVaultPrivateEndpointResourceId")), lower(endpointId)) << v.dump(2);
    EXPECT_EQ(stringAt(v, "/properties/provisioningState"), "Succeeded") << v.dump(2);
    const Json endpoint = arm_->get(endpointId, kNetworkApi);
    EXPECT_NE(endpoint.dump().find("\"groupIds\":[\"vault\"]"), std::string::npos) << endpoint.dump(2);
  }
};

// ---- 1. Every single-tenant example reaches Ready, and Azure holds what the page documents ----------------

struct Example;
void PrintTo(const Example& example, std::ostream* os);

struct Example {
  std::string folder;
  std::size_t documents;
  std::string vault;        // ARM id
  std::string keyName;
  bool userAssigned;
  bool rbac;
  std::string endpoint;     // PrivateEndpoint document name
  std::vector<std::string> volumes;
};

void PrintTo(const Example& example, std::ostream* os) { *os << example.folder; }

class ExampleTest : public CmkE2eTest, public ::testing::WithParamInterface<Example> {
 protected:
  void SetUp() override { startEmulator({"--lro-seconds", "0"}, GetParam().folder); }
};

TEST_P(ExampleTest, ReachesReadyAndAzureHoldsTheDocumentedSetup) {
  const Example& example = GetParam();
  startOperator();
  awaitAllReady(60s, example.documents);
  EXPECT_EQ(operator_->statusJson().value("items", Json::array()).size(), example.documents);

  const Json a = account();
  const Json encryption = a["properties"].value("encryption", Json::object());
  EXPECT_EQ(encryption.value("keySource", ""), "Microsoft.KeyVault") << a.dump(2);
  EXPECT_EQ(stringAt(encryption, "/keyVaultProperties/keyName"), example.keyName) << a.dump(2);
  EXPECT_EQ(lower(stringAt(encryption, "/keyVaultProperties/keyVaultResourceId")), lower(example.vault)) << a.dump(2);
  const std::string vaultName = example.vault.substr(example.vault.rfind('/') + 1);
  EXPECT_EQ(lower(stringAt(encryption, "/keyVaultProperties/keyVaultUri")).rfind("https://" + vaultName + ".vault.azure.net", 0), 0u)
      << a.dump(2);
  EXPECT_EQ(stringAt(encryption, "/keyVaultProperties/status"), "InUse") << a.dump(2);

  std::string principalId;
  if (example.userAssigned) {
    const Json identity = arm_->get(kIdentity, kIdentityApi);
    principalId = stringAt(identity, "/properties/principalId");
    ASSERT_FALSE(principalId.empty()) << identity.dump(2);
    EXPECT_EQ(stringAt(a, "/identity/type"), "UserAssigned") << a.dump(2);
    EXPECT_EQ(lower(stringAt(encryption, "/identity/userAssignedIdentity")), lower(kIdentity)) << a.dump(2);
    const Json statusItem = findDocument(operator_->statusJson(), "UserAssignedIdentity", "anf-cmk-identity");
    EXPECT_EQ(stringAt(statusItem, "/status/facts/principalId"), principalId) << statusItem.dump(2);
  } else {
    principalId = stringAt(a, "/identity/principalId");
    ASSERT_FALSE(principalId.empty()) << a.dump(2);
    EXPECT_NE(stringAt(a, "/identity/type").find("SystemAssigned"), std::string::npos) << a.dump(2);
  }
  EXPECT_EQ(lower(stringAt(encryption, "/identity/principalId")), lower(principalId)) << a.dump(2);

  if (example.rbac) {
    // The minimal custom role: exactly the three data actions, assignable at the vault, assigned there.
    EXPECT_TRUE(keyPermissionsFor(arm_->get(example.vault, kKeyVaultApi), principalId).empty());
    const auto assignments = roleAssignmentsFor(example.vault, principalId);
    ASSERT_EQ(assignments.size(), 1u) << "role assignments for " << principalId;
    EXPECT_EQ(lower(stringAt(assignments[0], "/properties/scope")), lower(example.vault)) << assignments[0].dump(2);
    const Json role = arm_->get(stringAt(assignments[0], "/properties/roleDefinitionId"), kAuthorizationApi);
    ASSERT_TRUE(role.contains("properties")) << role.dump(2);
    EXPECT_EQ(stringAt(role, "/properties/type"), "CustomRole") << role.dump(2);
    const Json permissions = role["properties"].value("permissions", Json::array());
    ASSERT_EQ(permissions.size(), 1u) << role.dump(2);
    auto dataActions = permissions[0].value("dataActions", std::vector<std::string>{});
    std::ranges::sort(dataActions);
    EXPECT_EQ(dataActions, kMinimalDataActions) << role.dump(2);
    EXPECT_TRUE(permissions[0].value("actions", Json::array()).empty()) << role.dump(2);
    EXPECT_TRUE(permissions[0].value("notDataActions", Json::array()).empty()) << role.dump(2);
    const auto scopes = role["properties"].value("assignableScopes", std::vector<std::string>{});
    ASSERT_EQ(scopes.size(), 1u) << role.dump(2);
    EXPECT_EQ(lower(scopes[0]), lower(example.vault)) << role.dump(2);
  } else {
    EXPECT_EQ(keyPermissionsFor(arm_->get(example.vault, kKeyVaultApi), principalId), kKeyPermissions);
    EXPECT_EQ(accessPolicyEntriesFor(example.vault, principalId), 1u);
    EXPECT_TRUE(roleAssignmentsFor(example.vault, principalId).empty());
  }

  for (const auto& volume : example.volumes) expectVolumeIsCmkWithEndpoint(volume, example.endpoint);
  EXPECT_EQ(countOf(kPool + "/volumes", kNetAppApi), example.volumes.size());
  EXPECT_EQ(countOf(kEndpoints, kNetworkApi), 1u);

  // Resync observes volumes through the pool's LIST, never one GET per volume. (Not asserted: exactly one LIST
  // per pass; workers observing volumes of one pool at the same moment may each load it: controller
  // PassCache::getOrLoad is not single-flight.)
  if (example.volumes.size() < 2) return;
  emulator_->control("DELETE", "/_emulator/requests");
  awaitTwoPasses("Volume");
  const auto reads = requestLog(false);
  const auto count = [&](const std::string& pattern) {
    const std::regex wanted(pattern);
    return std::ranges::count_if(reads, [&](const std::string& r) { return std::regex_search(r, wanted); });
  };
  EXPECT_GE(count("^GET .*/capacityPools/pool1/volumes$"), 1) << ::testing::PrintToString(reads);
  EXPECT_EQ(count("^GET .*/capacityPools/pool1/volumes/vol[0-9]+$"), 0) << ::testing::PrintToString(reads);
}

INSTANTIATE_TEST_SUITE_P(
    Examples, ExampleTest,
    ::testing::Values(Example{"cmk-system-assigned", 5, kVault, "anf-key", false, false, "anfkv-provider-pe", {"vol1", "vol2"}},
                      Example{"cmk-user-assigned", 5, kVault, "anf-key", true, false, "anfkv-provider-pe", {"vol1"}},
                      Example{"cmk-rbac-minimal-role", 4, kRbacVault, "anf-key", false, true, "anfkv-rbac-pe", {"vol1"}},
                      Example{"rekey", 4, kVault, "anf-key-2", false, false, "anfkv-provider-pe", {"vol1"}},
                      Example{"identity-switch", 5, kVault, "anf-key", true, false, "anfkv-provider-pe", {"vol1"}}),
    [](const auto& info) {
      std::string name = info.param.folder;
      std::erase(name, '-');
      return name;
    });

// ---- 2. Identity switch by editing the YAML while the daemon runs ------------------------------------------

TEST_F(CmkE2eTest, IdentitySwitchByEditingTheManifestEndsWithTheUserIdentityAsEncryptionIdentity) {
  startOperator();
  awaitAllReady();
  const std::string systemPrincipal = stringAt(account(), "/identity/principalId");
  ASSERT_FALSE(systemPrincipal.empty());

  emulator_->control("DELETE", "/_emulator/requests");
  replaceManifestWithExample("identity-switch", "quickstart-user-assigned.yaml");
  awaitAllReady(60s, 5);

  expectEncryptsWithUserIdentity();
  EXPECT_EQ(countOf(kPool + "/volumes", kNetAppApi), 1u);

  // The order of the page: the new identity is granted before the PATCH that switches; the encryption
  // identity still named the system principal after the PATCH, so renewCredentials followed.
  const auto writes = writesInRequestLog();
  const auto position = [&](const std::string& pattern) {
    const std::regex wanted(pattern);
    const auto it = std::ranges::find_if(writes, [&](const std::string& w) { return std::regex_search(w, wanted); });
    return it == writes.end() ? std::ptrdiff_t{-1} : it - writes.begin();
  };
  const auto grant = position("^PUT .*/vaults/anfkv-provider/accessPolicies/add$");
  const auto patch = position("^PATCH .*/netAppAccounts/anf-account$");
  const auto renew = position("^POST .*/netAppAccounts/anf-account/renewCredentials$");
  EXPECT_GE(grant, 0) << ::testing::PrintToString(writes);
  EXPECT_GT(patch, grant) << "the account was switched before the identity had key access: " << ::testing::PrintToString(writes);
  EXPECT_GT(renew, patch) << ::testing::PrintToString(writes);
}

TEST_F(CmkE2eTest, PlanListsTheRekeyAndTheCmkVolumesItAffects) {
  startOperator();
  awaitAllReady();
  operator_->kill(SIGTERM);
  editManifest("keyName: anf-key\\n", "keyName: anf-key-2\n");
  auto [code, output] = plan();
  EXPECT_EQ(code, 3) << output;
  EXPECT_NE(output.find("anf-key -> anf-key-2"), std::string::npos) << output;
  EXPECT_NE(output.find("vol1"), std::string::npos) << output;
  EXPECT_EQ(accountKeyName(), "anf-key") << "plan wrote the account";
}

// ---- 3. reconcile-policy observe: drift is reported, nothing is written ------------------------------------

TEST_F(CmkE2eTest, ObservePolicyReportsDriftAndWritesNothing) {
  startOperator();
  awaitAllReady();
  // One write of the file: the account goes to reconcile-policy observe and declares another key. The
  // operator must report the difference and never PATCH the account.
  emulator_->control("DELETE", "/_emulator/requests");
  const std::string text = readFile(manifest());
  std::string next = edited(text, "name: anf-account\n", "name: anf-account\n  annotations:\n    anf-cmk.io/reconcile-policy: observe\n");
  next = edited(next, "keyName: anf-key\n", "keyName: anf-key-2\n");
  std::ofstream(manifest()) << next;

  const Json item = awaitDocument("NetAppAccount", "anf-account", [](const Json& it) {
    return conditionField(it, "Ready", "status") == "False" && conditionField(it, "Ready", "reason") == "DriftDetected";
  });
  const std::string message = conditionField(item, "Ready", "message");
  EXPECT_NE(message.find("keyName"), std::string::npos) << message;
  EXPECT_NE(message.find("observe"), std::string::npos) << message;

  awaitTwoPasses("NetAppAccount");
  EXPECT_EQ(accountKeyName(), "anf-key") << "observe wrote the account";
  EXPECT_TRUE(writesInRequestLog().empty()) << "writes under reconcile-policy observe: " << ::testing::PrintToString(writesInRequestLog());
  EXPECT_EQ(conditionField(findDocument(operator_->statusJson(), "NetAppAccount", "anf-account"), "Ready", "reason"), "DriftDetected");

  // Back to manage: the operator now corrects the difference.
  std::ofstream(manifest()) << edited(text, "keyName: anf-key\n", "keyName: anf-key-2\n");
  EXPECT_TRUE(await([&] { return accountKeyName() == "anf-key-2"; }, 30s)) << account().dump(2);
}

TEST_F(CmkE2eTest, RekeyByEditingTheManifestLogsTheCmkVolumesItRekeys) {
  startOperator();
  awaitAllReady();
  const std::string principal = stringAt(account(), "/identity/principalId");
  editManifest("keyName: anf-key\\n", "keyName: anf-key-2\n");
  EXPECT_TRUE(await([&] { return accountKeyName() == "anf-key-2"; }, 30s)) << account().dump(2);
  awaitAllReady(30s);
  const std::string log = operator_->log();
  const auto line = log.find("rekeyed anf-key -> anf-key-2");
  ASSERT_NE(line, std::string::npos) << tail(log);
  EXPECT_NE(log.substr(line, log.find('\n', line) - line).find("vol1"), std::string::npos) << log.substr(line, 400);
  // Same identity, same grant: the rekey needs no new access.
  EXPECT_EQ(stringAt(account(), "/identity/principalId"), principal);
  EXPECT_EQ(accessPolicyEntriesFor(kVault, principal), 1u);
  EXPECT_EQ(stringAt(account(), "/properties/encryption/keyVaultProperties/status"), "InUse");
}

TEST_F(CmkE2eTest, ObservePolicyOnAMissingVolumeReportsItAndCreatesNothing) {
  editManifest("name: vol1\n", "name: vol1\n  annotations:\n    anf-cmk.io/reconcile-policy: observe\n");
  startOperator();
  const Json item = awaitDocument("Volume", "vol1", [](const Json& it) {
    return conditionField(it, "Ready", "reason") == "DriftDetected";
  });
  EXPECT_EQ(conditionField(item, "Ready", "status"), "False") << item.dump(2);
  EXPECT_NE(conditionField(item, "Ready", "message").find("does not exist"), std::string::npos) << item.dump(2);
  for (const auto& [kind, name] : {std::pair{"NetAppAccount", "anf-account"}, {"PrivateEndpoint", "anfkv-provider-pe"}, {"CapacityPool", "pool1"}})
    awaitDocument(kind, name, isReady, 30s);
  awaitTwoPasses("Volume");
  EXPECT_EQ(arm_->call("GET", kPool + "/volumes/vol1", kNetAppApi).status, 404) << "observe created the volume";
}

// ---- 4. Drift behind the operator's back is corrected on the next resync ----------------------------------

TEST_F(CmkE2eTest, DriftChangedKeyAndDeletedPrivateEndpointAreRestored) {
  startOperator();
  awaitAllReady();
  const std::string endpointId = resourceIdOf("PrivateEndpoint", "anfkv-provider-pe");
  ASSERT_FALSE(endpointId.empty());

  auto patched = arm_->call("PATCH", kAccount, kNetAppApi,
                            {{"properties", {{"encryption", {{"keySource", "Microsoft.KeyVault"},
                                                             {"keyVaultProperties", {{"keyVaultUri", "https://anfkv-provider.vault.azure.net/"},
                                                                                     {"keyName", "anf-key-2"},
                                                                                     {"keyVaultResourceId", kVault}}}}}}}});
  ASSERT_LT(patched.status, 300) << patched.body.dump();
  auto deleted = arm_->call("DELETE", endpointId, kNetworkApi);
  ASSERT_LT(deleted.status, 300) << deleted.body.dump();
  ASSERT_NE(arm_->call("GET", endpointId, kNetworkApi).status, 200) << "the endpoint was not deleted";

  EXPECT_TRUE(await([&] { return accountKeyName() == "anf-key"; }, 30s)) << "the key drift was not corrected: " << account().dump(2);
  EXPECT_TRUE(await([&] { return arm_->call("GET", endpointId, kNetworkApi).status == 200; }, 30s)) << "the endpoint was not restored";
  awaitAllReady(30s);
  const Json endpoint = arm_->get(endpointId, kNetworkApi);
  EXPECT_NE(endpoint.dump().find("Approved"), std::string::npos) << endpoint.dump(2);
  EXPECT_EQ(countOf(kEndpoints, kNetworkApi), 1u);
  const Json item = findDocument(operator_->statusJson(), "PrivateEndpoint", "anfkv-provider-pe");
  EXPECT_EQ(stringAt(item, "/status/facts/connectionState"), "Approved") << item.dump(2);
}

// ---- 5. The documented error tables, provoked through the emulator's world --------------------------------

struct ErrorRow {
  std::string name;
  std::function<void(CmkE2eTest&)> world;  // before the operator starts
  std::vector<std::pair<std::string, std::string>> edits;  // regex -> replacement on quickstart.yaml
  std::string kind, document;                              // the document that must show the error
  std::string text, resolution;                            // the page's row, word for word
  std::vector<std::string> unaffected;                     // "Kind/name" documents that must be Ready
  std::vector<std::pair<std::string, std::string>> laterEdits = {};  // applied once all documents are Ready
  std::function<void(CmkE2eTest&)> laterWorld = {};                 // changed once all documents are Ready
};

void PrintTo(const ErrorRow& row, std::ostream* os) { *os << row.name; }

class ErrorRowTest : public CmkE2eTest, public ::testing::WithParamInterface<ErrorRow> {
 public:
  // Test-only access for the rows' world setup.
  using CmkE2eTest::createVault;
  using CmkE2eTest::put;
};

const std::string kCmkVolumeLines = "  encryptionKeySource: Microsoft.KeyVault\n  keyVaultPrivateEndpointRef: anfkv-provider-pe\n";
const std::string kSecondVolume = R"(apiVersion: anf-cmk.io/v1alpha1
kind: Volume
metadata:
  name: vol2
spec:
  poolRef: pool1
  creationToken: vol2
  usageThresholdGiB: 100
  subnetId: /subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/providers/Microsoft.Network/virtualNetworks/anf-vnet/subnets/anf-delegated
  protocolTypes: [NFSv3]
  networkFeatures: Standard
  encryptionKeySource: Microsoft.KeyVault
  keyVaultPrivateEndpointRef: anfkv-provider-pe
)";
const std::string kResolutionUri = "When entering key URI manually, ensure that the URI is correct.";

std::vector<ErrorRow> errorRows() {
  const std::string keys = kVault + "/keys/";
  const std::vector<std::string> endpointOnly{"PrivateEndpoint/anfkv-provider-pe"};
  const std::vector<std::string> allButVolume{"NetAppAccount/anf-account", "PrivateEndpoint/anfkv-provider-pe", "CapacityPool/pool1"};
  const auto useKey = [](const std::string& name) {
    return std::vector<std::pair<std::string, std::string>>{{"keyName: anf-key\\n", "keyName: " + name + "\n"}};
  };
  return {
      {"KeyNotFound", {}, useKey("no-such-key"), "NetAppAccount", "anf-account",
       "The operation failed because the specified key vault key was not found", kResolutionUri, endpointOnly},
      {"KeyNotRsa", [keys](CmkE2eTest& t) {
         static_cast<ErrorRowTest&>(t).put(keys + "ec-key", kKeyVaultApi, {{"properties", {{"kty", "EC"}, {"curveName", "P-256"}}}});
       },
       useKey("ec-key"), "NetAppAccount", "anf-account", "Azure Key Vault key is not a valid RSA key",
       "Ensure that the selected key is of type RSA.", endpointOnly},
      {"KeyDisabled", [keys](CmkE2eTest& t) {
         static_cast<ErrorRowTest&>(t).put(keys + "off-key", kKeyVaultApi, rsaKey({{"enabled", false}}));
       },
       useKey("off-key"), "NetAppAccount", "anf-account", "Azure Key Vault key is not enabled",
       "Ensure that the selected key is enabled.", endpointOnly},
      {"KeyExpired", [keys](CmkE2eTest& t) {
         static_cast<ErrorRowTest&>(t).put(keys + "old-key", kKeyVaultApi, rsaKey({{"exp", unixNow() - 3600}}));
       },
       useKey("old-key"), "NetAppAccount", "anf-account", "Azure Key Vault key is expired", "Ensure that the selected key is valid.",
       endpointOnly},
      {"KeyNotYetActive", [keys](CmkE2eTest& t) {
         static_cast<ErrorRowTest&>(t).put(keys + "future-key", kKeyVaultApi, rsaKey({{"nbf", unixNow() + 86400}}));
       },
       useKey("future-key"), "NetAppAccount", "anf-account", "Azure Key Vault key has not been activated",
       "Ensure that the selected key is active.", endpointOnly},
      {"BadUri", {}, {{"uri: https://anfkv-provider\\.vault", "uri: https://anfkv-elsewhere.vault"}}, "NetAppAccount", "anf-account",
       "Key Vault URI is invalid", kResolutionUri, endpointOnly},
      {"VaultNotRecoverable", [](CmkE2eTest& t) {
         static_cast<ErrorRowTest&>(t).createVault("anfkv-nopurge", [](Json& body) { body["properties"]["enablePurgeProtection"] = false; });
       },
       {{"anfkv-provider", "anfkv-nopurge"}}, "NetAppAccount", "anf-account",
       "Azure Key Vault is not recoverable. Make sure that Soft-delete and Purge protection are both enabled on the Azure Key Vault",
       "Update the key vault recovery level to: \u201cRecoverable/Recoverable+ProtectedSubscription/CustomizedRecoverable/"
       "CustomizedRecoverable+ProtectedSubscription\u201d",
       {"PrivateEndpoint/anfkv-nopurge-pe"}},
      {"VaultInAnotherRegion", [](CmkE2eTest& t) {
         static_cast<ErrorRowTest&>(t).createVault("anfkv-west", [](Json& body) { body["location"] = "westus"; });
       },
       {{"(resourceId: \\S+/vaults/)anfkv-provider", "$1anfkv-west"}, {"uri: https://anfkv-provider\\.vault", "uri: https://anfkv-west.vault"}},
       "NetAppAccount", "anf-account", "Account must be in the same region as the Vault",
       "Ensure the key vault is in the same region as the NetApp account.", endpointOnly},
      {"KeyTheIdentityCannotUse", {}, {{"mode: AccessPolicy", "mode: None"}}, "NetAppAccount", "anf-account",
       "Unable to use the configured encryption key, please check if key is active",
       "Check that: -Are all access policies correct on the key vault: Get, Encrypt, Decrypt? -Does a private endpoint for the key "
       "vault exist? -Is there a Virtual Network NAT in the VNet, with the delegated Azure NetApp Files subnet enabled?",
       endpointOnly},
      {"VolumeOnNonCmkAccount", {},
       {{"  encryption:\\n    keySource: Microsoft.KeyVault\\n(    .*\\n|      .*\\n)*?    access:\\n      mode: AccessPolicy\\n", ""}},
       "Volume", "vol1",
       "Volume cannot be encrypted with Microsoft.KeyVault, NetAppAccount has not been configured with KeyVault encryption",
       "Your NetApp account doesn't have customer-managed key encryption enabled. Configure the NetApp account to use customer-managed key.",
       allButVolume},
      // A PMK volume (on the CMK account) later declared Microsoft.KeyVault, with no transitionToCMK for its VNet.
      {"VolumeKeySourceChanged", {}, {{kCmkVolumeLines, "  encryptionKeySource: Microsoft.NetApp\n"}}, "Volume", "vol1",
       "EncryptionKeySource cannot be changed", "No resolution. The EncryptionKeySource property of a volume can't be changed.",
       allButVolume, {{"  encryptionKeySource: Microsoft.NetApp\n", kCmkVolumeLines}}},
      // The key is disabled once the account is set up; a volume declared then cannot use it.
      {"KeyUnusableForANewVolume", {}, {}, "Volume", "vol2", "Unable to use the configured encryption key, please check if key is active",
       "Check that: -Are all access policies correct on the key vault: Get, Encrypt, Decrypt? -Does a private endpoint for the key "
       "vault exist? -Is there a Virtual Network NAT in the VNet, with the delegated Azure NetApp Files subnet enabled?",
       {"PrivateEndpoint/anfkv-provider-pe", "CapacityPool/pool1", "Volume/vol1"},
       {{kCmkVolumeLines, kCmkVolumeLines + "---\n" + kSecondVolume}},
       [keys](CmkE2eTest& t) { static_cast<ErrorRowTest&>(t).put(keys + "anf-key", kKeyVaultApi, rsaKey({{"enabled", false}})); }},
      {"UnreachableVault", {}, {{"(keyVaultResourceId: \\S+/vaults/)anfkv-provider", "$1anfkv-rbac"}}, "Volume", "vol1",
       "Could not connect to the KeyVault",
       "Ensure that the private endpoint is set up correctly and the firewalls aren't blocking the connection from your Virtual "
       "Network to your KeyVault.",
       allButVolume},
  };
}

TEST_P(ErrorRowTest, ShowsTheDocumentedMessageAndResolutionAndLeavesNothingPartial) {
  const ErrorRow& row = GetParam();
  const std::string adminObject = emulator_->tenant("provider").principal("admin").objectId;
  if (row.world) row.world(*this);
  for (const auto& [pattern, replacement] : row.edits) editManifest(pattern, replacement);
  startOperator();
  if (!row.laterEdits.empty()) {
    awaitAllReady();
    if (row.laterWorld) row.laterWorld(*this);
    for (const auto& [pattern, replacement] : row.laterEdits) editManifest(pattern, replacement);
  }

  const Json item = awaitDocument(row.kind, row.document, [&](const Json& it) {
    return conditionField(it, "Ready", "message").find(row.text) != std::string::npos;
  });
  EXPECT_EQ(conditionField(item, "Ready", "status"), "False") << item.dump(2);
  const std::string message = conditionField(item, "Ready", "message");
  EXPECT_EQ(message.rfind(row.text, 0), 0u) << "the message does not start with the documented text: " << message;
  EXPECT_NE(message.find(row.resolution), std::string::npos) << "no documented resolution in: " << message;
  if (row.kind == "NetAppAccount" && row.name != "KeyTheIdentityCannotUse") {
    EXPECT_EQ(conditionField(item, "KeyVaultValid", "status"), "False") << item.dump(2);
  }

  // The other documents are unaffected.
  const Json list = operator_->statusJson();
  for (const auto& other : row.unaffected) {
    const auto slash = other.find('/');
    EXPECT_TRUE(await([&] { return isReady(findDocument(operator_->statusJson(), other.substr(0, slash), other.substr(slash + 1))); }, 20s))
        << other << " is not Ready: " << findDocument(operator_->statusJson(), other.substr(0, slash), other.substr(slash + 1)).dump(2);
  }

  // Nothing partial in Azure.
  awaitTwoPasses(row.kind);
  if (row.kind == "NetAppAccount") {
    const auto response = arm_->call("GET", kAccount, kNetAppApi);
    if (row.name != "KeyTheIdentityCannotUse") {
      // The checks run before any write: no account at all, and no access policy for anyone but the admin.
      EXPECT_EQ(response.status, 404) << response.body.dump(2);
      for (const std::string vault : {"anfkv-provider", "anfkv-nopurge", "anfkv-west"}) {
        const Json v = arm_->get(kResourceGroup + "/providers/Microsoft.KeyVault/vaults/" + vault, kKeyVaultApi);
        for (const auto& policy : v.is_object() && v.contains("properties") ? v["properties"].value("accessPolicies", Json::array()) : Json::array())
          EXPECT_EQ(lower(policy.value("objectId", "")), lower(adminObject)) << "access policy granted though the checks failed: " << v.dump(2);
      }
    }
    if (row.name == "KeyTheIdentityCannotUse") {
      // The account and its identity exist; it is not encrypted with a key its identity cannot use.
      EXPECT_EQ(response.status, 200) << response.body.dump(2);
      EXPECT_NE(stringAt(response.body, "/properties/encryption/keySource"), "Microsoft.KeyVault") << response.body.dump(2);
      EXPECT_EQ(conditionField(item, "AccessGranted", "status"), "False") << item.dump(2);
    }
    EXPECT_NE(arm_->call("GET", kPool, kNetAppApi).status, 200) << "a pool was created under a failed account";
  } else if (row.laterEdits.empty()) {
    const auto volume = arm_->call("GET", kPool + "/volumes/vol1", kNetAppApi);
    EXPECT_EQ(volume.status, 404) << "a volume is left in Azure: " << volume.body.dump(2);
  } else if (row.document != "vol1") {
    const auto volume = arm_->call("GET", kPool + "/volumes/" + row.document, kNetAppApi);
    EXPECT_EQ(volume.status, 404) << "a volume is left in Azure: " << volume.body.dump(2);
    EXPECT_EQ(stringAt(arm_->get(kPool + "/volumes/vol1", kNetAppApi), "/properties/provisioningState"), "Succeeded");
  } else {
    const Json volume = arm_->get(kPool + "/volumes/vol1", kNetAppApi);
    EXPECT_EQ(stringAt(volume, "/properties/encryptionKeySource"), "Microsoft.NetApp") << "the key source changed: " << volume.dump(2);
    EXPECT_EQ(countOf(kPool + "/volumes", kNetAppApi), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(DocumentedErrors, ErrorRowTest, ::testing::ValuesIn(errorRows()),
                         [](const auto& info) { return info.param.name; });

// A documented key condition fixed in Azure (the key enabled again) converges without editing the manifest:
// the checks are not parked until the document changes.
TEST_F(CmkE2eTest, KeyEnabledAgainInAzureConvergesWithoutEditingTheManifest) {
  put(kVault + "/keys/anf-key", kKeyVaultApi, rsaKey({{"enabled", false}}));
  startOperator();
  awaitDocument("NetAppAccount", "anf-account", [](const Json& it) {
    return conditionField(it, "KeyVaultValid", "message").starts_with("Azure Key Vault key is not enabled");
  });
  put(kVault + "/keys/anf-key", kKeyVaultApi, rsaKey({{"enabled", true}}));
  awaitAllReady(60s);
  EXPECT_EQ(accountKeyName(), "anf-key");
}

// A manual private endpoint connection not yet approved: the volume reports the documented "Could not connect
// to the KeyVault" and is not sent (no Failed volume); once the vault's owner approves, it converges unedited.
TEST_F(CmkE2eTest, PendingEndpointConnectionThenApprovalConvergesWithoutAFailedVolume) {
  editManifest("(keyVaultResourceId: \\S+/vaults/anfkv-provider\\n)", "$1  approval: Manual\n");
  startOperator();
  const Json item = awaitDocument("Volume", "vol1", [](const Json& it) {
    return conditionField(it, "Ready", "message").starts_with("Could not connect to the KeyVault");
  });
  EXPECT_NE(conditionField(item, "Ready", "message").find("Pending"), std::string::npos) << item.dump(2);
  EXPECT_EQ(arm_->call("GET", kPool + "/volumes/vol1", kNetAppApi).status, 404) << "a volume was sent to an unreachable vault";

  const Json pending = arm_->get(kVault + "/privateEndpointConnections", kKeyVaultApi).value("value", Json::array());
  ASSERT_EQ(pending.size(), 1u) << pending.dump(2);
  put(kVault + "/privateEndpointConnections/" + pending[0].value("name", ""), kKeyVaultApi,
      {{"properties", {{"privateLinkServiceConnectionState", {{"status", "Approved"}, {"description", "ok"}}}}}});
  awaitAllReady(60s);
  expectVolumeIsCmkWithEndpoint("vol1", "anfkv-provider-pe");
}

// The key disabled behind the operator's back once everything is Ready: the account reports the documented
// condition; enabled again, everything is Ready with no manifest edit.
TEST_F(CmkE2eTest, KeyDisabledAfterSetupIsReportedThenRecovers) {
  startOperator();
  awaitAllReady();
  put(kVault + "/keys/anf-key", kKeyVaultApi, rsaKey({{"enabled", false}}));
  const Json item = awaitDocument("NetAppAccount", "anf-account", [](const Json& it) {
    return conditionField(it, "KeyVaultValid", "status") == "False";
  });
  EXPECT_TRUE(conditionField(item, "KeyVaultValid", "message").starts_with("Azure Key Vault key is not enabled. Resolution: Ensure that the selected key is enabled."))
      << item.dump(2);
  EXPECT_EQ(conditionField(item, "Synced", "status"), "False") << item.dump(2);
  EXPECT_EQ(conditionField(item, "Synced", "reason"), "KeyVaultKeyDisabled") << item.dump(2);
  // (Ready stays True: the engine keeps a Ready document Ready on a later failure; see the report of issue 6.)
  put(kVault + "/keys/anf-key", kKeyVaultApi, rsaKey({{"enabled", true}}));
  awaitDocument("NetAppAccount", "anf-account", [](const Json& it) {
    return conditionField(it, "KeyVaultValid", "status") == "True" && conditionField(it, "Synced", "status") == "True";
  });
  awaitAllReady(30s);
}

// ---- 6. kill -9 in the middle of identity switch and rekey --------------------------------------------------

class KillNineTest : public CmkE2eTest {
 protected:
  void SetUp() override { startEmulator({"--lro-seconds", "1"}); }

  /// Awaits a write request matching `pattern` in the emulator's request log, then kills the operator with SIGKILL.
  void killWhenRequested(const std::string& pattern) {
    const std::regex wanted(pattern);
    const bool seen = await(
        [&] {
          for (const auto& write : writesInRequestLog())
            if (std::regex_search(write, wanted)) return true;
          return false;
        },
        45s);
    ASSERT_TRUE(seen) << "no request /" << pattern << "/ seen: " << ::testing::PrintToString(writesInRequestLog());
    operator_->kill(SIGKILL);
  }

  void expectNoDuplicates() {
    EXPECT_EQ(countOf(kResourceGroup + "/providers/Microsoft.NetApp/netAppAccounts", kNetAppApi), 1u);
    EXPECT_EQ(countOf(kAccount + "/capacityPools", kNetAppApi), 1u);
    EXPECT_EQ(countOf(kPool + "/volumes", kNetAppApi), 1u);
    EXPECT_EQ(countOf(kEndpoints, kNetworkApi), 1u);
  }
};

TEST_F(KillNineTest, KillNineDuringIdentitySwitchConvergesWithoutDuplicates) {
  startOperator();
  awaitAllReady(90s);
  emulator_->control("DELETE", "/_emulator/requests");
  replaceManifestWithExample("identity-switch", "quickstart-user-assigned.yaml");
  killWhenRequested("^PATCH .*/netAppAccounts/anf-account$");

  startOperator();
  awaitAllReady(90s, 5);
  const std::string userPrincipal = expectEncryptsWithUserIdentity();
  expectNoDuplicates();
  EXPECT_EQ(countOf(kResourceGroup + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities", kIdentityApi), 1u);
  EXPECT_EQ(accessPolicyEntriesFor(kVault, userPrincipal), 1u);
}

TEST_F(KillNineTest, KillNineDuringRekeyConvergesWithoutDuplicates) {
  startOperator();
  awaitAllReady(90s);
  const std::string principal = stringAt(account(), "/identity/principalId");
  emulator_->control("DELETE", "/_emulator/requests");
  editManifest("keyName: anf-key\\n", "keyName: anf-key-2\n");
  killWhenRequested("^PATCH .*/netAppAccounts/anf-account$");

  startOperator();
  EXPECT_TRUE(await([&] { return accountKeyName() == "anf-key-2"; }, 60s)) << account().dump(2);
  awaitAllReady(60s);
  EXPECT_EQ(stringAt(account(), "/properties/encryption/keyVaultProperties/status"), "InUse") << account().dump(2);
  expectNoDuplicates();
  EXPECT_EQ(accessPolicyEntriesFor(kVault, principal), 1u);
}

// ---- RBAC key access: kill -9 between the role definition and its assignment; drift of the assignment -------

class RbacTest : public KillNineTest {
 protected:
  void SetUp() override {}  // each test starts the emulator on the cmk-rbac-minimal-role example itself

  std::size_t customRoles() {
    std::size_t n = 0;
    for (const auto& role : arm_->get(kSubscription + "/providers/Microsoft.Authorization/roleDefinitions", kAuthorizationApi)
                                .value("value", Json::array()))
      n += stringAt(role, "/properties/type") == "CustomRole" ? 1 : 0;
    return n;
  }
};

TEST_F(RbacTest, KillNineAfterTheRoleDefinitionConvergesWithOneRoleAndOneAssignment) {
  startEmulator({"--lro-seconds", "1"}, "cmk-rbac-minimal-role");
  startOperator();
  killWhenRequested("^PUT .*/roleDefinitions/");

  startOperator();
  awaitAllReady(90s);
  const std::string principal = stringAt(account(), "/identity/principalId");
  ASSERT_FALSE(principal.empty());
  EXPECT_EQ(customRoles(), 1u);
  EXPECT_EQ(roleAssignmentsFor(kRbacVault, principal).size(), 1u);
  expectNoDuplicates();
}

TEST_F(RbacTest, DriftDeletedRoleAssignmentIsRestored) {
  startEmulator({"--lro-seconds", "0"}, "cmk-rbac-minimal-role");
  startOperator();
  awaitAllReady();
  const std::string principal = stringAt(account(), "/identity/principalId");
  const auto assignments = roleAssignmentsFor(kRbacVault, principal);
  ASSERT_EQ(assignments.size(), 1u);
  const std::string assignmentId = assignments[0].value("id", "");
  auto deleted = arm_->call("DELETE", assignmentId, kAuthorizationApi);
  ASSERT_LT(deleted.status, 300) << deleted.body.dump();
  ASSERT_TRUE(roleAssignmentsFor(kRbacVault, principal).empty());

  EXPECT_TRUE(await([&] { return roleAssignmentsFor(kRbacVault, principal).size() == 1; }, 30s)) << "the role assignment was not restored";
  const auto restored = roleAssignmentsFor(kRbacVault, principal);
  ASSERT_EQ(restored.size(), 1u);
  EXPECT_EQ(lower(restored[0].value("id", "")), lower(assignmentId)) << "a new name: not deterministic";
  EXPECT_EQ(customRoles(), 1u);
}

}  // namespace
}  // namespace anf::testing
