// End-to-end tests (issue 6): the emulator process and the operator process over real HTTPS, manifests
// as real files. Fixture and ARM read-back: e2e_support.h.
#include "tests/e2e/e2e_support.h"

namespace anf::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

TEST_F(E2eTest, QuickstartReachesReadyAndAzureHoldsTheDocumentedCmkSetup) {
  startOperator();
  awaitAllReady();

  const Json account = arm_->get(kAccount, kNetAppApi);
  ASSERT_TRUE(account.is_object() && account.contains("properties")) << account.dump(2);
  const Json encryption = account["properties"].value("encryption", Json::object());
  EXPECT_EQ(encryption.value("keySource", ""), "Microsoft.KeyVault") << account.dump(2);
  EXPECT_EQ(encryption.value("keyVaultProperties", Json::object()).value("keyName", ""), "anf-key") << account.dump(2);

  const std::string principalId = account.value("identity", Json::object()).value("principalId", "");
  ASSERT_FALSE(principalId.empty()) << "the account has no system-assigned principal: " << account.dump(2);
  const Json vault = arm_->get(kVault, kKeyVaultApi);
  EXPECT_EQ(keyPermissionsFor(vault, principalId), (std::vector<std::string>{"decrypt", "encrypt", "get"})) << vault.dump(2);

  const std::string endpointId = resourceIdOf("PrivateEndpoint", "anfkv-provider-pe");
  ASSERT_FALSE(endpointId.empty());
  const Json volume = arm_->get(kAccount + "/capacityPools/pool1/volumes/vol1", kNetAppApi);
  ASSERT_TRUE(volume.is_object() && volume.contains("properties")) << volume.dump(2);
  EXPECT_EQ(volume["properties"].value("encryptionKeySource", ""), "Microsoft.KeyVault") << volume.dump(2);
  EXPECT_EQ(lower(volume["properties"].value("keyVaultPrivateEndpointResourceId", "")), lower(endpointId)) << volume.dump(2);
}

TEST_F(E2eTest, PlanExitsThreeWithPendingCreatesThenZeroOnceApplied) {
  auto [before, output] = plan();
  EXPECT_EQ(before, 3) << output;
  for (const std::string name : {"anf-account", "anfkv-provider-pe", "pool1", "vol1"})
    EXPECT_NE(output.find(name), std::string::npos) << "plan does not name " << name << ":\n" << output;
  EXPECT_FALSE(arm_->call("GET", kAccount, kNetAppApi).status == 200) << "plan wrote the account";

  startOperator();
  awaitAllReady();
  operator_->kill(SIGTERM);  // nothing moves while plan observes
  auto [after, settled] = plan();
  EXPECT_EQ(after, 0) << settled;
}

TEST_F(E2eTest, RekeyByEditingTheManifestWhileTheDaemonRuns) {
  startOperator();
  awaitAllReady();

  const auto file = dir_ / "manifests" / "quickstart.yaml";
  const std::string text = readFile(file);
  const std::string edited = std::regex_replace(text, std::regex("keyName: anf-key\\b"), "keyName: anf-key-2");
  ASSERT_NE(text, edited);
  std::ofstream(file) << edited;

  std::string keyName;
  const bool rekeyed = await(
      [&] {
        const Json account = arm_->get(kAccount, kNetAppApi);
        keyName = account.is_object() && account.contains("properties")
                      ? account["properties"].value("encryption", Json::object()).value("keyVaultProperties", Json::object()).value("keyName", "")
                      : "";
        return keyName == "anf-key-2";
      },
      45s);
  EXPECT_TRUE(rekeyed) << "account keyName is still '" << keyName << "'";
  awaitAllReady(30s);
}

TEST_F(E2eTest, DriftRemovedAccessPolicyIsRestoredAfterResync) {
  startOperator();
  awaitAllReady();
  const std::string principalId = arm_->get(kAccount, kNetAppApi).value("identity", Json::object()).value("principalId", "");
  ASSERT_FALSE(principalId.empty());
  const Json vault = arm_->get(kVault, kKeyVaultApi);
  Json entry;
  for (const auto& policy : vault["properties"].value("accessPolicies", Json::array()))
    if (lower(policy.value("objectId", "")) == lower(principalId)) entry = policy;
  ASSERT_TRUE(entry.is_object()) << vault.dump(2);

  auto removed = arm_->call("PUT", kVault + "/accessPolicies/remove", kKeyVaultApi, {{"properties", {{"accessPolicies", Json::array({entry})}}}});
  ASSERT_LT(removed.status, 300) << removed.body.dump();
  ASSERT_TRUE(keyPermissionsFor(arm_->get(kVault, kKeyVaultApi), principalId).empty()) << "the drift was not made";

  const bool restored = await([&] { return !keyPermissionsFor(arm_->get(kVault, kKeyVaultApi), principalId).empty(); }, 30s);
  ASSERT_TRUE(restored) << "the access policy was not restored after resync";
  EXPECT_EQ(keyPermissionsFor(arm_->get(kVault, kKeyVaultApi), principalId), (std::vector<std::string>{"decrypt", "encrypt", "get"}));
}

TEST_F(E2eTest, DisabledKeyIsReportedWithTheDocumentedMessageAndNothingPartialInAzure) {
  auto disabled = arm_->call("PUT", kVault + "/keys/anf-key", kKeyVaultApi, {{"properties", {{"attributes", {{"enabled", false}}}}}});
  ASSERT_LT(disabled.status, 300) << disabled.body.dump();

  startOperator();
  Json item;
  const bool reported = await(
      [&] {
        item = findDocument(operator_->statusJson(), "NetAppAccount", "anf-account");
        return item.dump().find("Azure Key Vault key is not enabled") != std::string::npos;
      },
      45s);
  ASSERT_TRUE(reported) << "no 'key is not enabled' condition; last: " << item.dump(2);
  EXPECT_NE(item.dump().find("Ensure that the selected key is enabled."), std::string::npos) << item.dump(2);
  const Json ready = condition(item, "Ready");
  const Json valid = condition(item, "KeyVaultValid");
  EXPECT_TRUE((ready.is_object() && ready.value("status", "") == "False") || (valid.is_object() && valid.value("status", "") == "False"))
      << item.dump(2);

  auto account = arm_->call("GET", kAccount, kNetAppApi);
  if (account.status == 200) {
    const Json encryption = account.body["properties"].value("encryption", Json::object());
    EXPECT_NE(encryption.value("keySource", ""), "Microsoft.KeyVault") << "partial CMK setup: " << account.body.dump(2);
    EXPECT_TRUE(encryption.value("keyVaultProperties", Json::object()).value("keyName", "").empty()) << account.body.dump(2);
  }
}

TEST_F(E2eTest, KillNineMidFlowThenRestartConvergesWithoutDuplicates) {
  // LROs of 1 s so that there is a "middle" to kill the operator in.
  operator_.reset();
  emulator_.reset();
  startEmulator({"--lro-seconds", "1"});
  startOperator();
  Json last;
  const bool started = await(
      [&] {
        last = operator_->statusJson();
        return findDocument(last, "NetAppAccount", "anf-account").is_object() && !allReady(last, 4);
      },
      30s);
  ASSERT_TRUE(started) << last.dump(2);
  operator_->kill(SIGKILL);

  startOperator();
  awaitAllReady();

  const auto count = [&](const std::string& path, const std::string& apiVersion) {
    const Json list = arm_->get(path, apiVersion);
    return list.is_object() ? list.value("value", Json::array()).size() : std::size_t{999};
  };
  EXPECT_EQ(count(kResourceGroup + "/providers/Microsoft.NetApp/netAppAccounts", kNetAppApi), 1u);
  EXPECT_EQ(count(kAccount + "/capacityPools", kNetAppApi), 1u);
  EXPECT_EQ(count(kAccount + "/capacityPools/pool1/volumes", kNetAppApi), 1u);
  EXPECT_EQ(count(kResourceGroup + "/providers/Microsoft.Network/privateEndpoints", kNetworkApi), 1u);
}

}  // namespace
}  // namespace anf::testing
