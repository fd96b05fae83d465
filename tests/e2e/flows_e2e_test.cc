// End-to-end tests of the issue-7 flows against the emulator process over real HTTPS: PMK->CMK transition
// (volumes keep their resource ids and file system ids; the undeclared-volume guard), key vault change
// (success; a VNet without an endpoint is refused before sending), cross-tenant CMK with and without a
// customer credential (every missing link named in status), and kill -9 during each long-running
// operation without the POST being sent twice. Fixture and ARM read-back: e2e_support.h.
#include <set>

#include "tests/e2e/e2e_support.h"

namespace anf::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kAuthorizationApi = "2022-04-01";
const std::string kVnet = kResourceGroup + "/providers/Microsoft.Network/virtualNetworks/anf-vnet";
const std::string kVolume = kAccount + "/capacityPools/pool1/volumes/vol1";
const std::string kRbacVault = kResourceGroup + "/providers/Microsoft.KeyVault/vaults/anfkv-rbac";
const std::string kCustomerVault =
    "/subscriptions/20000000-0000-4000-8000-0000000000b1/resourceGroups/customer-rg/providers/Microsoft.KeyVault/vaults/anfkv-customer";
const std::string kCryptoUserRole = "12338af0-0e69-4776-bea7-57ae8d297424";

std::string stringAt(const Json& json, const std::string& pointer) {
  const Json::json_pointer p{pointer};
  return json.is_object() && json.contains(p) && json.at(p).is_string() ? json.at(p).get<std::string>() : "";
}

std::string conditionText(const Json& item, const std::string& type) {
  const Json c = condition(item, type);
  return c.is_object() ? c.value("status", "") + " " + c.value("reason", "") + ": " + c.value("message", "") : "";
}

class FlowsE2eTest : public E2eTest {
 protected:
  void SetUp() override {}  // each test starts its own emulator (world options, example)

  /// Replaces the manifests with the *.yaml of manifests/examples/<folder> (a stage of a flow).
  void useManifests(const std::string& folder) {
    for (const auto& entry : fs::directory_iterator(dir_ / "manifests")) fs::remove(entry.path());
    for (const auto& entry : fs::directory_iterator(fs::path(ANF_SOURCE_DIR) / "manifests/examples" / folder))
      if (entry.path().extension() == ".yaml") fs::copy_file(entry.path(), dir_ / "manifests" / entry.path().filename());
  }

  /// Edits manifests/<file> with a regex; fails the test when nothing matched.
  void editManifest(const std::string& file, const std::string& pattern, const std::string& replacement) {
    const auto path = dir_ / "manifests" / file;
    const std::string text = readFile(path);
    const std::string out = std::regex_replace(text, std::regex(pattern), replacement);
    ASSERT_NE(out, text) << "the edit /" << pattern << "/ matched nothing in " << file;
    std::ofstream(path) << out;
  }

  Json item(const std::string& kind, const std::string& name) { return findDocument(operator_->statusJson(), kind, name); }

  /// Awaits a status item of kind/name for which `holds` is true; the failure shows the last one.
  Json awaitItem(const std::string& kind, const std::string& name, const std::function<bool(const Json&)>& holds,
                 std::chrono::seconds timeout, const std::string& what) {
    Json last;
    const bool ok = await([&] { return holds(last = item(kind, name)); }, timeout);
    EXPECT_TRUE(ok) << kind << "/" << name << ": " << what << " not seen within " << timeout.count() << " s; last:\n"
                    << last.dump(2);
    return last;
  }

  /// Requests of the emulator's log with `method` whose path ends with `suffix` (case-insensitive).
  std::vector<Json> requests(const std::string& method, const std::string& suffix) {
    std::vector<Json> out;
    const auto log = emulator_->control("GET", "/_emulator/requests");
    for (const auto& entry : log.body.value("items", Json::array()))
      if (entry.value("method", "") == method && lower(entry.value("path", "")).ends_with(lower(suffix))) out.push_back(entry);
    return out;
  }

  /// Awaits the string at `pointer` of ARM `path` (read as the provider admin) equal to `expected`, ignoring
  /// case; returns whether it held and the last read in `last`.
  bool awaitArmField(const std::string& path, const std::string& pointer, const std::string& expected, Json& last) {
    return await(
        [&] {
          last = arm_->get(path, kNetAppApi);
          return lower(stringAt(last, pointer)) == lower(expected);
        },
        90s);
  }

  /// kill -9 of the operator once `method ...suffix` is in the emulator's request log and a document's status
  /// holds its operation (the status store writes the state file in the same update, so the journal has it).
  void killNineAfter(const std::string& method, const std::string& suffix) {
    ASSERT_TRUE(await([&] { return !requests(method, suffix).empty(); }, 90s)) << tail(operator_->log());
    const auto holdsOperation = [](const Json& list) {
      for (const auto& item : list.is_object() ? list.value("items", Json::array()) : Json::array())
        if (item.contains("status") && item["status"].contains("operation")) return true;
      return false;
    };
    ASSERT_TRUE(await([&] { return holdsOperation(operator_->statusJson()); }, 30s)) << "no document holds the operation of "
                                                                                    << method << " " << suffix;
    operator_->kill(SIGKILL);
  }

  /// Registers a preview feature as the provider admin (a subscription where it is already on).
  void registerFeature(const std::string& feature) {
    auto reply = arm_->call("POST", kSubscription + "/providers/Microsoft.Features/providers/Microsoft.NetApp/features/" + feature + "/register",
                            "2021-07-01");
    ASSERT_LT(reply.status, 300) << reply.body.dump();
  }

  /// The quickstart (vault anfkv-provider) Ready, then the request log cleared: the start of a key vault change.
  void startQuickstartReady(const std::string& lroSeconds) {
    startEmulator({"--lro-seconds", lroSeconds}, "quickstart");
    startOperator();
    awaitAllReady(60s, 4);
    emulator_->control("DELETE", "/_emulator/requests");
  }

  /// Stage 1 of the transition example Ready: an account and a PMK volume.
  void startPmkStage(std::vector<std::string> emulatorArgs) {
    startEmulator(std::move(emulatorArgs), "pmk-to-cmk-transition/1-pmk");
    startOperator();
    awaitAllReady(60s, 3);
    const Json volume = arm_->get(kVolume, kNetAppApi);
    ASSERT_EQ(stringAt(volume, "/properties/encryptionKeySource"), "Microsoft.NetApp") << volume.dump(2);
  }
};

// ------------------------------------------------------------------------------------------- transition

TEST_F(FlowsE2eTest, TransitionConvertsPmkVolumesInPlaceKeepingResourceAndFileSystemIds) {
  startPmkStage({"--lro-seconds", "0", "--feature-registration-seconds", "1"});
  const Json before = arm_->get(kVolume, kNetAppApi);
  const std::string fileSystemId = stringAt(before, "/properties/fileSystemId");
  ASSERT_FALSE(fileSystemId.empty()) << before.dump(2);
  emulator_->control("DELETE", "/_emulator/requests");

  useManifests("pmk-to-cmk-transition/2-transition");
  Json volume;
  ASSERT_TRUE(awaitArmField(kVolume, "/properties/encryptionKeySource", "Microsoft.KeyVault", volume)) << "the volume is still PMK: " << volume.dump(2) << "\n" << tail(operator_->log());
  awaitAllReady(60s, 4);

  volume = arm_->get(kVolume, kNetAppApi);
  EXPECT_EQ(lower(volume.value("id", "")), lower(before.value("id", "")));
  EXPECT_EQ(stringAt(volume, "/properties/fileSystemId"), fileSystemId) << "the volume was replaced";
  EXPECT_EQ(lower(stringAt(volume, "/properties/keyVaultPrivateEndpointResourceId")),
            lower(resourceIdOf("PrivateEndpoint", "anfkv-provider-pe")));
  EXPECT_EQ(requests("POST", "/transitiontocmk").size(), 1u);
  EXPECT_TRUE(requests("PUT", "/volumes/vol1").empty()) << "the volume was PUT again";
  EXPECT_TRUE(requests("DELETE", "/volumes/vol1").empty()) << "the volume was deleted";
  EXPECT_FALSE(requests("POST", "/features/ANFMigratePmkToCmk/register").empty()) << "the feature was not registered";

  const Json account = item("NetAppAccount", "anf-account");
  const Json transitions = account["status"].value("facts", Json::object()).value("transitions", Json::array());
  ASSERT_EQ(transitions.size(), 1u) << account.dump(2);
  EXPECT_EQ(lower(transitions[0].value("virtualNetworkId", "")), lower(kVnet));
  EXPECT_EQ(transitions[0].value("state", ""), "Succeeded") << account.dump(2);
}

TEST_F(FlowsE2eTest, TransitionIsRefusedWhileAPmkVolumeOfTheVnetIsUndeclared) {
  startPmkStage({"--lro-seconds", "0", "--feature-registration-seconds", "0"});
  // A second PMK volume in the same VNet that no document declares (made by someone else).
  const Json vol1 = arm_->get(kVolume, kNetAppApi);
  Json body{{"location", "eastus"},
            {"properties",
             {{"creationToken", "stray"},
              {"usageThreshold", 107374182400LL},
              {"subnetId", stringAt(vol1, "/properties/subnetId")},
              {"networkFeatures", "Standard"},
              {"protocolTypes", {"NFSv3"}},
              {"encryptionKeySource", "Microsoft.NetApp"}}}};
  const std::string stray = kAccount + "/capacityPools/pool1/volumes/stray";
  auto made = arm_->call("PUT", stray, kNetAppApi, body);
  ASSERT_LT(made.status, 300) << made.body.dump();
  emulator_->control("DELETE", "/_emulator/requests");

  useManifests("pmk-to-cmk-transition/2-transition");
  const Json account = awaitItem(
      "NetAppAccount", "anf-account",
      [](const Json& i) { return i.dump().find("UndeclaredVolumesInTransition") != std::string::npos; }, 90s,
      "UndeclaredVolumesInTransition");
  const std::string text = account.dump();
  EXPECT_NE(lower(text).find(lower(stray)), std::string::npos) << "the stray volume is not listed: " << account.dump(2);
  EXPECT_EQ(lower(text).find(lower(kVolume) + "\""), std::string::npos) << "a declared volume is listed";
  EXPECT_TRUE(requests("POST", "/transitiontocmk").empty()) << "transitiontocmk was sent";
  EXPECT_EQ(stringAt(arm_->get(stray, kNetAppApi), "/properties/encryptionKeySource"), "Microsoft.NetApp");
  EXPECT_EQ(stringAt(arm_->get(kVolume, kNetAppApi), "/properties/encryptionKeySource"), "Microsoft.NetApp");
}

TEST_F(FlowsE2eTest, TransitionWaitsForTheMigrationFeatureWithoutPosting) {
  startPmkStage({"--lro-seconds", "0", "--feature-registration-seconds", "600"});
  emulator_->control("DELETE", "/_emulator/requests");
  useManifests("pmk-to-cmk-transition/2-transition");
  const Json account = awaitItem(
      "NetAppAccount", "anf-account",
      [](const Json& i) { return conditionText(i, "FeatureRegistered").starts_with("False Registering"); }, 60s,
      "FeatureRegistered=False Registering");
  EXPECT_NE(conditionText(account, "FeatureRegistered").find("Microsoft.NetApp/ANFMigratePmkToCmk"), std::string::npos);
  EXPECT_FALSE(isReady(account));
  EXPECT_EQ(requests("POST", "/features/ANFMigratePmkToCmk/register").size(), 1u);
  awaitTwoPasses("NetAppAccount");
  EXPECT_TRUE(requests("POST", "/transitiontocmk").empty()) << "transitiontocmk was sent before the feature was Registered";
  EXPECT_EQ(stringAt(arm_->get(kVolume, kNetAppApi), "/properties/encryptionKeySource"), "Microsoft.NetApp");
}

TEST_F(FlowsE2eTest, KillNineDuringTransitionResumesWithoutASecondPost) {
  startPmkStage({"--lro-seconds", "4", "--feature-registration-seconds", "0"});
  emulator_->control("DELETE", "/_emulator/requests");
  useManifests("pmk-to-cmk-transition/2-transition");
  killNineAfter("POST", "/transitiontocmk");
  ASSERT_EQ(stringAt(arm_->get(kVolume, kNetAppApi), "/properties/encryptionKeySource"), "Microsoft.NetApp")
      << "the transition ended before the kill";

  startOperator();
  awaitAllReady(60s, 4);
  EXPECT_EQ(stringAt(arm_->get(kVolume, kNetAppApi), "/properties/encryptionKeySource"), "Microsoft.KeyVault");
  EXPECT_EQ(requests("POST", "/transitiontocmk").size(), 1u) << "transitiontocmk was sent again after the restart";
}

TEST_F(FlowsE2eTest, VolumeDeclaredBackToPmkAfterTheTransitionIsRefused) {
  startPmkStage({"--lro-seconds", "0", "--feature-registration-seconds", "0"});
  useManifests("pmk-to-cmk-transition/2-transition");
  awaitAllReady(90s, 4);
  emulator_->control("DELETE", "/_emulator/requests");
  editManifest("cmk.yaml", R"(encryptionKeySource: Microsoft\.KeyVault\n  keyVaultPrivateEndpointRef: anfkv-provider-pe)",
               "encryptionKeySource: Microsoft.NetApp");
  const Json volume = awaitItem(
      "Volume", "vol1", [](const Json& i) { return i.dump().find("TransitionIrreversible") != std::string::npos; }, 30s,
      "TransitionIrreversible");
  EXPECT_NE(volume.dump().find("irreversible"), std::string::npos) << volume.dump(2);
  EXPECT_TRUE(requests("PUT", "/volumes/vol1").empty() && requests("PATCH", "/volumes/vol1").empty()) << "the volume was written";
  EXPECT_EQ(stringAt(arm_->get(kVolume, kNetAppApi), "/properties/encryptionKeySource"), "Microsoft.KeyVault");
}

// ------------------------------------------------------------------------------------------- key vault change

TEST_F(FlowsE2eTest, ChangeKeyVaultMovesTheAccountAndItsVolumesToTheNewVault) {
  startQuickstartReady("0");
  const Json before = arm_->get(kVolume, kNetAppApi);

  useManifests("change-key-vault");
  Json account;
  ASSERT_TRUE(awaitArmField(kAccount, "/properties/encryption/keyVaultProperties/keyVaultResourceId", kRbacVault, account)) << account.dump(2) << "\n" << tail(operator_->log());
  awaitAllReady(60s, 5);

  account = arm_->get(kAccount, kNetAppApi);
  EXPECT_EQ(stringAt(account, "/properties/encryption/keyVaultProperties/keyVaultUri"), "https://anfkv-rbac.vault.azure.net/");
  EXPECT_EQ(stringAt(account, "/properties/encryption/keyVaultProperties/status"), "InUse") << account.dump(2);
  const Json volume = arm_->get(kVolume, kNetAppApi);
  EXPECT_EQ(stringAt(volume, "/properties/fileSystemId"), stringAt(before, "/properties/fileSystemId"));
  EXPECT_EQ(lower(stringAt(volume, "/properties/keyVaultPrivateEndpointResourceId")), lower(resourceIdOf("PrivateEndpoint", "anfkv-rbac-pe")));
  EXPECT_FALSE(requests("POST", "/getKeyVaultStatus").empty()) << "getKeyVaultStatus was not called";
  const auto changes = requests("POST", "/changeKeyVault");
  ASSERT_EQ(changes.size(), 1u);
  // Access on the new vault was granted before the change (a role assignment at the new vault's scope).
  const auto grants = requests("PUT", "");
  bool grantedFirst = false;
  for (const auto& request : grants)
    if (lower(request.value("path", "")).starts_with(lower(kRbacVault) + "/providers/microsoft.authorization/roleassignments/"))
      grantedFirst = grantedFirst || request.value("time", "") <= changes[0].value("time", "");
  EXPECT_TRUE(grantedFirst) << "no role assignment on the new vault before changeKeyVault";
}

TEST_F(FlowsE2eTest, ChangeKeyVaultWithoutAnEndpointForTheVnetIsRefusedBeforeSending) {
  startQuickstartReady("0");

  useManifests("change-key-vault");
  editManifest("cmk.yaml", R"(      privateEndpoints:[^\n]*\n[^\n]*\n[^\n]*\n)", "");
  const Json account = awaitItem(
      "NetAppAccount", "anf-account",
      [](const Json& i) { return i.dump().find("MissingKeyVaultPrivateEndpoints") != std::string::npos; }, 60s,
      "MissingKeyVaultPrivateEndpoints");
  EXPECT_NE(lower(account.dump()).find(lower(kVnet)), std::string::npos) << "the VNet is not named: " << account.dump(2);
  EXPECT_TRUE(requests("POST", "/changeKeyVault").empty()) << "changeKeyVault was sent";
  EXPECT_EQ(lower(stringAt(arm_->get(kAccount, kNetAppApi), "/properties/encryption/keyVaultProperties/keyVaultResourceId")),
            lower(kVault));
}

TEST_F(FlowsE2eTest, KillNineDuringChangeKeyVaultConvergesWithoutASecondPost) {
  startQuickstartReady("4");
  useManifests("change-key-vault");
  killNineAfter("POST", "/changeKeyVault");
  ASSERT_NE(lower(stringAt(arm_->get(kAccount, kNetAppApi), "/properties/encryption/keyVaultProperties/keyVaultResourceId")),
            lower(kRbacVault))
      << "the change ended before the kill";

  startOperator();
  awaitAllReady(60s, 5);
  EXPECT_EQ(lower(stringAt(arm_->get(kAccount, kNetAppApi), "/properties/encryption/keyVaultProperties/keyVaultResourceId")),
            lower(kRbacVault));
  EXPECT_EQ(requests("POST", "/changeKeyVault").size(), 1u) << "changeKeyVault was sent again after the restart";
}

// The volume's declared endpoint (the new vault's) differs from Azure's until changeKeyVault moves it. Whatever
// order the volume and the account are reconciled in, and whatever was observed before the operation, the volume
// is never refused (a refusal would park it until its document changes) and never written: Azure moves it.
TEST_F(FlowsE2eTest, VolumeIsMovedByTheKeyVaultChangeNeverRefusedNorWritten) {
  startQuickstartReady("2");
  useManifests("change-key-vault");
  std::set<std::string> volumeReasons;
  const bool converged = await(
      [&] {
        const Json status = operator_->statusJson();
        volumeReasons.insert(condition(findDocument(status, "Volume", "vol1"), "Ready").value("reason", ""));
        return allReady(status, 5) &&
               lower(stringAt(arm_->get(kAccount, kNetAppApi), "/properties/encryption/keyVaultProperties/keyVaultResourceId")) ==
                   lower(kRbacVault);
      },
      60s);
  ASSERT_TRUE(converged) << operator_->statusJson().dump(2);
  EXPECT_FALSE(volumeReasons.contains("VolumeFieldImmutable")) << "the volume was refused during the change";
  EXPECT_EQ(lower(stringAt(arm_->get(kVolume, kNetAppApi), "/properties/keyVaultPrivateEndpointResourceId")),
            lower(resourceIdOf("PrivateEndpoint", "anfkv-rbac-pe")));
  EXPECT_TRUE(requests("PUT", "/volumes/vol1").empty() && requests("PATCH", "/volumes/vol1").empty())
      << "the volume was written: changeKeyVault moves it";
}

// ------------------------------------------------------------------------------------------- cross-tenant

class CrossTenantE2eTest : public FlowsE2eTest {
 protected:
  /// The cross-tenant example; without `customerCredential` the operator has no credential in the customer tenant.
  void startCrossTenant(const std::string& variant, bool customerCredential, std::vector<std::string> emulatorArgs = {
                                                                                    "--lro-seconds", "0", "--feature-registration-seconds", "1"}) {
    startEmulator(std::move(emulatorArgs), "cross-tenant/" + variant);
    writeOperatorConfig(dir_, *emulator_, "3s", customerCredential);
    customer_ = std::make_unique<TenantAdmin>(*emulator_, "customer");
    provider_ = std::make_unique<TenantAdmin>(*emulator_, "provider");
  }

  std::string applicationId() {
    return item("CrossTenantApplication", "anf-cmk-app")["status"].value("facts", Json::object()).value("applicationId", "");
  }

  /// The customer's service principal of the application, or "".
  std::string customerServicePrincipal(const std::string& appId) {
    auto found = customer_->graph("GET", "/v1.0/servicePrincipals?$filter=appId%20eq%20'" + appId + "'");
    const Json value = found.body.is_object() ? found.body.value("value", Json::array()) : Json::array();
    return value.empty() ? "" : value[0].value("id", "");
  }

  /// The private endpoint connections on the customer's vault, as the customer sees them.
  Json connections() {
    return customer_->arm("GET", kCustomerVault + "/privateEndpointConnections", kKeyVaultApi).body.value("value", Json::array());
  }

  void expectCrossTenantEncryptionInAzure() {
    const Json account = arm_->get(kAccount, kNetAppApi);
    EXPECT_EQ(stringAt(account, "/properties/encryption/keySource"), "Microsoft.KeyVault") << account.dump(2);
    EXPECT_EQ(stringAt(account, "/properties/encryption/identity/federatedClientId"), applicationId()) << account.dump(2);
    EXPECT_EQ(lower(stringAt(account, "/properties/encryption/keyVaultProperties/keyVaultResourceId")), lower(kCustomerVault));
    EXPECT_EQ(stringAt(account, "/properties/encryption/keyVaultProperties/status"), "InUse") << account.dump(2);
    const Json volume = arm_->get(kVolume, kNetAppApi);
    EXPECT_EQ(stringAt(volume, "/properties/encryptionKeySource"), "Microsoft.KeyVault") << volume.dump(2);
  }

  std::unique_ptr<TenantAdmin> customer_;
  std::unique_ptr<TenantAdmin> provider_;
};

TEST_F(CrossTenantE2eTest, WithACustomerCredentialTheOperatorDoesEveryStepAndReachesReady) {
  startCrossTenant("with-customer-credential", true);
  startOperator();
  awaitAllReady(90s, 6);
  const std::string appId = applicationId();
  ASSERT_FALSE(appId.empty());

  // Provider tenant: a multitenant application whose federated credential's subject is the identity.
  auto apps = provider_->graph("GET", "/v1.0/applications?$filter=appId%20eq%20'" + appId + "'");
  ASSERT_EQ(apps.body.value("value", Json::array()).size(), 1u) << apps.body.dump(2);
  const Json app = apps.body["value"][0];
  EXPECT_EQ(app.value("signInAudience", ""), "AzureADMultipleOrgs");
  auto credentials = provider_->graph("GET", "/v1.0/applications/" + app.value("id", "") + "/federatedIdentityCredentials");
  const Json identity = item("UserAssignedIdentity", "anf-ct-identity");
  const std::string principalId = identity["status"]["facts"].value("principalId", "");
  ASSERT_EQ(credentials.body.value("value", Json::array()).size(), 1u) << credentials.body.dump(2);
  EXPECT_EQ(credentials.body["value"][0].value("subject", ""), principalId);

  // Customer tenant: service principal, Key Vault Crypto User on the vault, the connection approved.
  const std::string sp = customerServicePrincipal(appId);
  ASSERT_FALSE(sp.empty()) << "no service principal of " << appId << " in the customer tenant";
  auto assignments = customer_->arm("GET", kCustomerVault + "/providers/Microsoft.Authorization/roleAssignments", kAuthorizationApi);
  bool cryptoUser = false;
  for (const auto& a : assignments.body.value("value", Json::array()))
    cryptoUser = cryptoUser || (lower(stringAt(a, "/properties/principalId")) == lower(sp) &&
                                lower(stringAt(a, "/properties/roleDefinitionId")).ends_with(kCryptoUserRole));
  EXPECT_TRUE(cryptoUser) << assignments.body.dump(2);
  const Json seen = connections();
  ASSERT_EQ(seen.size(), 1u) << seen.dump(2);
  EXPECT_EQ(stringAt(seen[0], "/properties/privateLinkServiceConnectionState/status"), "Approved");

  expectCrossTenantEncryptionInAzure();
  EXPECT_EQ(conditionText(item("CrossTenantApplication", "anf-cmk-app"), "AwaitingCustomer").substr(0, 5), "False");
  EXPECT_EQ(conditionText(item("NetAppAccount", "anf-account"), "FeatureRegistered").substr(0, 4), "True");
}

TEST_F(CrossTenantE2eTest, WithoutACustomerCredentialStatusListsTheCustomerStepsThenConvergesOnceDone) {
  startCrossTenant("without-customer-credential", false);
  startOperator();
  // 1. Nothing done by the customer: the application lists exactly the three steps.
  Json app = awaitItem(
      "CrossTenantApplication", "anf-cmk-app",
      [](const Json& i) { return conditionText(i, "AwaitingCustomer").starts_with("True") && i.dump().find("Approve the pending") != std::string::npos; },
      60s, "AwaitingCustomer=True with the endpoint to approve");
  const std::string appId = applicationId();
  ASSERT_FALSE(appId.empty());
  const std::string customerTenant = emulator_->tenant("customer").tenantId;
  const std::string steps = conditionText(app, "AwaitingCustomer");
  const std::string endpointId = resourceIdOf("PrivateEndpoint", "anfkv-customer-pe");
  ASSERT_FALSE(endpointId.empty());
  EXPECT_NE(steps.find("1. Grant admin consent"), std::string::npos) << steps;
  EXPECT_NE(steps.find(customerTenant + "/adminconsent?client_id=" + appId), std::string::npos) << steps;
  EXPECT_NE(steps.find("2. Assign the role Key Vault Crypto User (" + kCryptoUserRole + ")"), std::string::npos) << steps;
  EXPECT_NE(steps.find("at scope " + kCustomerVault), std::string::npos) << steps;
  EXPECT_NE(steps.find("3. Approve the pending private endpoint connection from " + endpointId), std::string::npos) << steps;
  // The account waits for the application; nothing encrypted with a key Azure cannot use.
  Json account = item("NetAppAccount", "anf-account");
  EXPECT_FALSE(isReady(account)) << account.dump(2);
  EXPECT_NE(stringAt(arm_->get(kAccount, kNetAppApi), "/properties/encryption/keySource"), "Microsoft.KeyVault");
  EXPECT_TRUE(customerServicePrincipal(appId).empty()) << "the operator acted in the customer tenant without a credential";
  account = awaitItem(
      "NetAppAccount", "anf-account",
      [](const Json& i) { return i.dump().find("PrivateEndpointConnectionNotApproved") != std::string::npos; }, 60s,
      "PrivateEndpointConnectionNotApproved");
  EXPECT_NE(account.dump().find(endpointId), std::string::npos) << account.dump(2);

  // 2. The customer approves the connection; consent and role are still missing: Azure refuses the key and the
  //    account names the customer steps it cannot see.
  const Json pending = connections();
  ASSERT_EQ(pending.size(), 1u) << pending.dump(2);
  EXPECT_EQ(stringAt(pending[0], "/properties/privateLinkServiceConnectionState/status"), "Pending");
  auto approved = customer_->arm("PUT", kCustomerVault + "/privateEndpointConnections/" + pending[0].value("name", ""), kKeyVaultApi,
                                 {{"properties", {{"privateLinkServiceConnectionState", {{"status", "Approved"}, {"description", "ok"}}}}}});
  ASSERT_LT(approved.status, 300) << approved.body.dump();
  account = awaitItem(
      "NetAppAccount", "anf-account", [](const Json& i) { return conditionText(i, "AwaitingCustomer").starts_with("True"); }, 60s,
      "AwaitingCustomer=True on the account");
  const std::string missing = conditionText(account, "AwaitingCustomer");
  EXPECT_NE(missing.find("CustomerStepMissing"), std::string::npos) << missing;
  EXPECT_NE(missing.find("adminconsent?client_id=" + appId), std::string::npos) << missing;
  EXPECT_NE(missing.find("Key Vault Crypto User"), std::string::npos) << missing;
  EXPECT_EQ(missing.find("Approve the pending"), std::string::npos) << "the approved connection is still listed: " << missing;

  // 3. The customer consents (service principal) and assigns Key Vault Crypto User: the account converges.
  auto sp = customer_->graph("POST", "/v1.0/servicePrincipals", {{"appId", appId}});
  ASSERT_LT(sp.status, 300) << sp.body.dump();
  const std::string spId = sp.body.value("id", "");
  auto role = customer_->arm("PUT", kCustomerVault + "/providers/Microsoft.Authorization/roleAssignments/0b0c0d0e-1111-4222-8333-444455556666",
                             kAuthorizationApi,
                             {{"properties",
                               {{"roleDefinitionId", "/subscriptions/20000000-0000-4000-8000-0000000000b1/providers/Microsoft.Authorization/roleDefinitions/" + kCryptoUserRole},
                                {"principalId", spId},
                                {"principalType", "ServicePrincipal"}}}});
  ASSERT_LT(role.status, 300) << role.body.dump();
  awaitAllReady(60s, 6);
  expectCrossTenantEncryptionInAzure();
  EXPECT_TRUE(conditionText(item("NetAppAccount", "anf-account"), "AwaitingCustomer").starts_with("False"));
  // The key in use through the application proves consent and role to the application's status as well.
  awaitItem(
      "CrossTenantApplication", "anf-cmk-app", [](const Json& i) { return conditionText(i, "AwaitingCustomer").starts_with("False"); },
      30s, "AwaitingCustomer=False once the account uses the key");
}

TEST_F(CrossTenantE2eTest, FeatureNotRegisteredYetIsNamedAndNothingIsEncrypted) {
  startCrossTenant("with-customer-credential", true, {"--lro-seconds", "0", "--feature-registration-seconds", "600"});
  startOperator();
  const Json account = awaitItem(
      "NetAppAccount", "anf-account",
      [](const Json& i) { return conditionText(i, "FeatureRegistered").starts_with("False Registering"); }, 60s,
      "FeatureRegistered=False Registering");
  EXPECT_NE(conditionText(account, "FeatureRegistered").find("Microsoft.NetApp/ANFCrossTenantCMK"), std::string::npos)
      << account.dump(2);
  EXPECT_FALSE(isReady(account));
  EXPECT_EQ(requests("POST", "/features/ANFCrossTenantCMK/register").size(), 1u);
  awaitTwoPasses("NetAppAccount");
  EXPECT_NE(stringAt(arm_->get(kAccount, kNetAppApi), "/properties/encryption/keySource"), "Microsoft.KeyVault");
  EXPECT_TRUE(requests("PATCH", "/netAppAccounts/anf-account").empty()) << "the account was patched before the feature";
}

TEST_F(CrossTenantE2eTest, FederatedCredentialForAnotherIdentityIsNamedAsWrongSubject) {
  startCrossTenant("with-customer-credential", true);
  // The application trusts another identity than the one the account encrypts with.
  editManifest("cross-tenant.yaml", R"(  identityRef: anf-ct-identity)", "  identityRef: anf-other-identity");
  std::ofstream(dir_ / "manifests" / "other-identity.yaml")
      << "apiVersion: anf-cmk.io/v1alpha1\nkind: UserAssignedIdentity\nmetadata:\n  name: anf-other-identity\nspec: {}\n";
  startOperator();
  const Json account = awaitItem(
      "NetAppAccount", "anf-account",
      [](const Json& i) { return i.dump().find("FederatedCredentialSubjectMismatch") != std::string::npos; }, 60s,
      "FederatedCredentialSubjectMismatch");
  const std::string identityPrincipal = item("UserAssignedIdentity", "anf-ct-identity")["status"]["facts"].value("principalId", "");
  const std::string otherPrincipal = item("UserAssignedIdentity", "anf-other-identity")["status"]["facts"].value("principalId", "");
  ASSERT_FALSE(identityPrincipal.empty());
  EXPECT_NE(account.dump().find(identityPrincipal), std::string::npos) << account.dump(2);
  EXPECT_NE(account.dump().find(otherPrincipal), std::string::npos) << account.dump(2);
  EXPECT_NE(stringAt(arm_->get(kAccount, kNetAppApi), "/properties/encryption/keySource"), "Microsoft.KeyVault");
}

TEST_F(CrossTenantE2eTest, KillNineDuringTheCrossTenantEncryptionPatchConvergesWithoutASecondPatch) {
  startCrossTenant("with-customer-credential", true, {"--lro-seconds", "4", "--feature-registration-seconds", "0"});
  startOperator();
  killNineAfter("PATCH", "/netAppAccounts/anf-account");
  ASSERT_NE(stringAt(arm_->get(kAccount, kNetAppApi), "/properties/provisioningState"), "Succeeded")
      << "the PATCH ended before the kill";

  startOperator();
  awaitAllReady(90s, 6);
  expectCrossTenantEncryptionInAzure();
  EXPECT_EQ(requests("PATCH", "/netAppAccounts/anf-account").size(), 1u) << "the encryption PATCH was sent again";
}

TEST_F(CrossTenantE2eTest, PlanListsTheCrossTenantSetupAndWritesNothing) {
  startCrossTenant("with-customer-credential", true);
  auto [code, output] = plan();
  EXPECT_EQ(code, 3) << output;
  for (const std::string name : {"anf-ct-identity", "anf-cmk-app", "anf-account", "anfkv-customer-pe", "vol1"})
    EXPECT_NE(output.find(name), std::string::npos) << "plan does not name " << name << ":\n" << output;
  for (const std::string method : {"PUT", "PATCH", "DELETE"}) EXPECT_TRUE(requests(method, "").empty()) << method << "\n" << output;
  for (const auto& post : requests("POST", "")) EXPECT_NE(post.value("path", "").find("/oauth2/"), std::string::npos) << post.dump();
}


// One link missing at a time, without a customer credential. What the operator can observe from the provider
// tenant: its own endpoint's connection state (exact), and Azure's answer to the encryption PATCH. Azure answers
// EncryptionKeyUnusable ("Unable to use the configured encryption key, please check if key is active") whether
// the customer has not consented or has consented without granting Key Vault Crypto User on the vault (a role on
// another scope or another role is the same as none); the operator's Azure error keeps that message only, so
// consent and role stay named together, as the two steps the provider tenant cannot see. The approved connection
// is never listed.
class CrossTenantOneLinkE2eTest : public CrossTenantE2eTest {
 protected:
  static constexpr const char* kReaderRole = "acdd72a7-3385-48ef-bd42-f606fba81ae7";  // Reader: no key data actions
  static constexpr const char* kCustomerSubscription = "/subscriptions/20000000-0000-4000-8000-0000000000b1";

  /// The example without a customer credential, the operator started and the customer's connection approved.
  void startWithTheConnectionApproved() {
    startCrossTenant("without-customer-credential", false);
    startOperator();
    awaitItem(
        "CrossTenantApplication", "anf-cmk-app",
        [](const Json& i) { return i.dump().find("Approve the pending") != std::string::npos; }, 60s,
        "AwaitingCustomer listing the connection to approve");
    appId_ = applicationId();
    ASSERT_FALSE(appId_.empty());
    const Json pending = connections();
    ASSERT_EQ(pending.size(), 1u) << pending.dump(2);
    auto approved = customer_->arm("PUT", kCustomerVault + "/privateEndpointConnections/" + pending[0].value("name", ""),
                                   kKeyVaultApi,
                                   {{"properties", {{"privateLinkServiceConnectionState", {{"status", "Approved"}, {"description", "ok"}}}}}});
    ASSERT_LT(approved.status, 300) << approved.body.dump();
  }

  /// Admin consent in the customer tenant: the application's service principal there; returns its id.
  std::string consent() {
    auto sp = customer_->graph("POST", "/v1.0/servicePrincipals", {{"appId", appId_}});
    EXPECT_LT(sp.status, 300) << sp.body.dump();
    return sp.body.value("id", "");
  }

  /// The customer assigns `roleGuid` to `principalId` at `scope` (assignment `name`).
  void assignRole(const std::string& scope, const std::string& roleGuid, const std::string& principalId, const std::string& name) {
    auto role = customer_->arm("PUT", scope + "/providers/Microsoft.Authorization/roleAssignments/" + name, kAuthorizationApi,
                               {{"properties",
                                 {{"roleDefinitionId", std::string(kCustomerSubscription) + "/providers/Microsoft.Authorization/roleDefinitions/" + roleGuid},
                                  {"principalId", principalId},
                                  {"principalType", "ServicePrincipal"}}}});
    ASSERT_LT(role.status, 300) << role.body.dump();
  }

  /// Awaits two more encryption PATCHes: the first was sent after the customer's last change and failed, and the
  /// account's status was observed again before the second.
  void awaitAFailedPatchAfterTheChange() {
    const std::size_t before = requests("PATCH", "/netAppAccounts/anf-account").size();
    ASSERT_TRUE(await([&] { return requests("PATCH", "/netAppAccounts/anf-account").size() >= before + 2; }, 60s))
        << "no further encryption PATCH; status:\n" << operator_->statusJson().dump(2);
  }

  std::string consentStep() const {
    std::string authority = emulator_->authority();
    if (!authority.ends_with("/")) authority += "/";
    const std::string tenant = emulator_->tenant("customer").tenantId;
    return "Grant admin consent for application " + appId_ + " (anf-cmk-app) in tenant " + tenant + ": open " + authority + tenant +
           "/adminconsent?client_id=" + appId_ + " as an administrator (an error about a missing redirect URL afterwards is expected).";
  }
  std::string roleStep() const {
    return "Assign the role Key Vault Crypto User (" + kCryptoUserRole + ") to the service principal of application " + appId_ +
           " (anf-cmk-app) at scope " + kCustomerVault +
           ". On a vault with access policies (enableRbacAuthorization false) Azure ignores the role: add an access policy "
           "with key permissions get, encrypt, decrypt for that service principal instead.";
  }

  /// The account's and the application's AwaitingCustomer name exactly consent and role (what the provider
  /// tenant cannot tell apart), not the approved connection; Azure refused the key; nothing is encrypted.
  void expectConsentAndRoleNamedAndNothingEncrypted() {
    const Json account = awaitItem(
        "NetAppAccount", "anf-account", [](const Json& i) { return conditionText(i, "AwaitingCustomer").starts_with("True"); }, 30s,
        "AwaitingCustomer=True on the account");
    EXPECT_EQ(conditionText(account, "AwaitingCustomer"),
              "True CustomerStepMissing: Azure could not use the key in the customer's vault (keyVaultProperties.status Error, "
              "provisioningState Failed); the provider tenant cannot see these customer steps and Azure's error does not say which "
              "is missing (without consent the role cannot be assigned either): 1. " +
                  consentStep() + " 2. " + roleStep());
    EXPECT_FALSE(isReady(account));
    // Azure's answer, the operator's only signal (Synced between a failed PATCH and the next): the same whether
    // consent or role is missing.
    awaitItem(
        "NetAppAccount", "anf-account",
        [](const Json& i) {
          return conditionText(i, "Synced").starts_with("False EncryptionKeyUnusable: Unable to use the configured encryption key");
        },
        30s, "Synced=False EncryptionKeyUnusable");
    const Json app = item("CrossTenantApplication", "anf-cmk-app");
    EXPECT_EQ(conditionText(app, "AwaitingCustomer"), "True AwaitingCustomer: The customer must: 1. " + consentStep() + " 2. " + roleStep());
    const Json steps = app["status"]["facts"].value("customerSteps", Json::array());
    ASSERT_EQ(steps.size(), 3u) << steps.dump(2);
    EXPECT_EQ(steps[0].value("done", Json()), Json()) << "consent is invisible from the provider tenant";
    EXPECT_EQ(steps[1].value("done", Json()), Json()) << "the role is invisible from the provider tenant";
    EXPECT_EQ(steps[2].value("done", Json()), Json(true)) << "the approved connection";

    // In Azure: the account's key is not in use, and no pool or volume was created with it.
    const Json armAccount = arm_->get(kAccount, kNetAppApi);
    EXPECT_EQ(stringAt(armAccount, "/properties/encryption/keyVaultProperties/status"), "Error") << armAccount.dump(2);
    EXPECT_EQ(stringAt(armAccount, "/properties/provisioningState"), "Failed") << armAccount.dump(2);
    EXPECT_EQ(arm_->call("GET", kAccount + "/capacityPools/pool1", kNetAppApi).status, 404);
    EXPECT_EQ(arm_->call("GET", kVolume, kNetAppApi).status, 404);
    EXPECT_TRUE(requests("PUT", "/volumes/vol1").empty());
  }

  /// The customer assigns Key Vault Crypto User on the vault: everything converges, unedited.
  void assignTheRoleAndConverge(const std::string& principalId) {
    assignRole(kCustomerVault, kCryptoUserRole, principalId, "0b0c0d0e-1111-4222-8333-444455556666");
    awaitAllReady(60s, 6);
    expectCrossTenantEncryptionInAzure();
    EXPECT_EQ(conditionText(item("NetAppAccount", "anf-account"), "AwaitingCustomer"),
              "False CustomerStepsDone: Azure uses the key in the customer's vault");
    const Json app = awaitItem(
        "CrossTenantApplication", "anf-cmk-app", [](const Json& i) { return conditionText(i, "AwaitingCustomer").starts_with("False"); },
        30s, "AwaitingCustomer=False once the account uses the key");
    EXPECT_EQ(conditionText(app, "AwaitingCustomer"),
              "False CustomerStepsDone: The customer's steps are done: consent, Key Vault Crypto User, endpoint approved.");
  }

  std::string appId_;
};

TEST_F(CrossTenantOneLinkE2eTest, ConsentWithoutTheRoleIsNamedWithTheRoleAndNothingIsEncryptedUntilTheRoleIsAssigned) {
  startWithTheConnectionApproved();
  // Connection approved, nothing else: Azure refuses the key.
  expectConsentAndRoleNamedAndNothingEncrypted();
  const std::string noConsent = conditionText(item("NetAppAccount", "anf-account"), "AwaitingCustomer");

  // Consent given (the service principal exists in the customer tenant), no role.
  const std::string sp = consent();
  ASSERT_FALSE(sp.empty());
  awaitAFailedPatchAfterTheChange();
  expectConsentAndRoleNamedAndNothingEncrypted();
  EXPECT_EQ(conditionText(item("NetAppAccount", "anf-account"), "AwaitingCustomer"), noConsent)
      << "Azure's answer is the same with and without consent: the status cannot and does not claim more";

  assignTheRoleAndConverge(sp);
}

TEST_F(CrossTenantOneLinkE2eTest, ARoleOnAnotherScopeOrANonCryptoRoleIsStillNamedAsTheMissingRole) {
  startWithTheConnectionApproved();
  const std::string sp = consent();
  ASSERT_FALSE(sp.empty());
  // Key Vault Crypto User, but on the customer's virtual network, not on the vault (nor a parent of it).
  assignRole(std::string(kCustomerSubscription) + "/resourceGroups/customer-rg/providers/Microsoft.Network/virtualNetworks/customer-vnet",
             kCryptoUserRole, sp, "1b0c0d0e-1111-4222-8333-444455556666");
  awaitAFailedPatchAfterTheChange();
  expectConsentAndRoleNamedAndNothingEncrypted();

  // And Reader on the vault itself: a role, at the right scope, without the key's data actions.
  assignRole(kCustomerVault, kReaderRole, sp, "2b0c0d0e-1111-4222-8333-444455556666");
  awaitAFailedPatchAfterTheChange();
  expectConsentAndRoleNamedAndNothingEncrypted();
  auto assignments = customer_->arm("GET", kCustomerVault + "/providers/Microsoft.Authorization/roleAssignments", kAuthorizationApi);
  std::size_t ofTheApplication = 0;
  for (const auto& a : assignments.body.value("value", Json::array()))
    ofTheApplication += lower(stringAt(a, "/properties/principalId")) == lower(sp) ? 1 : 0;
  EXPECT_EQ(ofTheApplication, 1u) << "Reader on the vault is the application's only assignment there: " << assignments.body.dump(2);

  assignTheRoleAndConverge(sp);
}

// Issue 13 item 4: on a customer vault with access policies (enableRbacAuthorization false) Azure ignores the
// Key Vault Crypto User role; the operator assigned it, said "The customer's steps are done", and re-PATCHed
// the account every 10 s. It grants an access policy with the customer credential instead.
TEST_F(CrossTenantE2eTest, OnAnAccessPolicyCustomerVaultTheOperatorGrantsAnAccessPolicyAndReachesReady) {
  startCrossTenant("with-customer-credential", true);
  auto patched = customer_->arm("PATCH", kCustomerVault, kKeyVaultApi, {{"properties", {{"enableRbacAuthorization", false}}}});
  ASSERT_LT(patched.status, 300) << patched.body.dump();
  startOperator();
  awaitAllReady(90s, 6);
  expectCrossTenantEncryptionInAzure();
  const std::string sp = customerServicePrincipal(applicationId());
  ASSERT_FALSE(sp.empty());
  const Json vault = customer_->arm("GET", kCustomerVault, kKeyVaultApi).body;
  bool policy = false;
  for (const auto& p : vault["properties"].value("accessPolicies", Json::array())) policy = policy || lower(p.value("objectId", "")) == lower(sp);
  EXPECT_TRUE(policy) << "no access policy for the application's service principal " << sp << ": " << vault.dump(2);
  EXPECT_EQ(conditionText(item("CrossTenantApplication", "anf-cmk-app"), "AwaitingCustomer").substr(0, 5), "False");
}

// Issue 13 item 6: Graph DELETE did not exist in production (GraphRequestUnsupported), so removing a
// CrossTenantApplication with deletionPolicy Delete never deleted the application.
TEST_F(CrossTenantE2eTest, RemovingAnApplicationWithDeletionPolicyDeleteDeletesItInEntra) {
  startCrossTenant("without-customer-credential", false);
  const std::string identity = "apiVersion: anf-cmk.io/v1alpha1\nkind: UserAssignedIdentity\nmetadata:\n  name: anf-ct-identity\nspec: {}\n";
  const std::string application =
      "---\napiVersion: anf-cmk.io/v1alpha1\nkind: CrossTenantApplication\nmetadata:\n  name: anf-cmk-app\nspec:\n"
      "  deletionPolicy: Delete\n  tenant: provider\n  displayName: anf-cmk-app\n  identityRef: anf-ct-identity\n  customer:\n"
      "    tenantId: " + emulator_->tenant("customer").tenantId + "\n    keyVaultResourceId: " + kCustomerVault + "\n";
  for (const auto& entry : fs::directory_iterator(dir_ / "manifests")) fs::remove(entry.path());
  std::ofstream(dir_ / "manifests" / "application.yaml") << identity << application;
  startOperator();
  awaitAllReady(60s, 2);
  const std::string appId = applicationId();
  ASSERT_FALSE(appId.empty());
  auto applications = [&] {
    return provider_->graph("GET", "/v1.0/applications?$filter=appId%20eq%20'" + appId + "'").body.value("value", Json::array());
  };
  ASSERT_EQ(applications().size(), 1u);

  std::ofstream(dir_ / "manifests" / "application.yaml") << identity;
  EXPECT_TRUE(await([&] { return applications().empty(); }, 60s)) << tail(operator_->log());
}

}  // namespace
}  // namespace anf::testing
