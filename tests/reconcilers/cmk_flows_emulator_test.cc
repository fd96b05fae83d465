// The reconcilers against the emulator process over real HTTPS, driven step by step as the engine
// drives them (observe -> create/update -> poll the operation -> observe ... until up to date):
// the documented flows, and the documented key vault conditions refused with nothing written.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "azure/client.h"
#include "reconcilers/arm_bodies.h"
#include "reconcilers/key_access.h"
#include "reconcilers/registry.h"
#include "tests/azure/emulator_process.h"
#include "tests/reconcilers/reconcile_world.h"

namespace anf::reconcilers {
namespace {

using namespace std::chrono_literals;
using anf::testing::EmulatorProcess;
using controller::Document;
using controller::DocumentKey;
using controller::Kind;
using controller::ReconcileError;
template <typename T>
using Result = controller::Result<T>;

constexpr const char* kSub = "10000000-0000-4000-8000-0000000000a1";
const std::string kRg = std::string{"/subscriptions/"} + kSub + "/resourceGroups/anf-rg";
const std::string kVaultAp = kRg + "/providers/Microsoft.KeyVault/vaults/anfkv-provider";
const std::string kVaultRbac = kRg + "/providers/Microsoft.KeyVault/vaults/anfkv-rbac";
const std::string kVnet = kRg + "/providers/Microsoft.Network/virtualNetworks/anf-vnet";
const std::string kEndpointsSubnet = kVnet + "/subnets/endpoints";
const std::string kDelegatedSubnet = kVnet + "/subnets/anf-delegated";

class PassCache final : public controller::ObservationCache {
 public:
  Result<Json> getOrLoad(const std::string& key, const std::function<Result<Json>()>& load) override {
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
    auto loaded = load();
    if (loaded) entries_[key] = *loaded;
    return loaded;
  }
  void update(const std::string& key, const std::function<void(Json&)>& change) override {
    if (auto it = entries_.find(key); it != entries_.end()) change(it->second);
  }
  void invalidate(const std::string& key) override { entries_.erase(key); }
  void invalidatePrefix(const std::string& prefix) override {
    std::erase_if(entries_, [&](const auto& entry) { return entry.first.starts_with(prefix); });
  }

 private:
  std::map<std::string, Json> entries_;
};

/// The status of the observation's condition `type`, or "absent".
std::string conditionStatus(const controller::Observation& observation, const std::string& type) {
  for (const auto& condition : observation.conditions)
    if (condition.type == type) return condition.status;
  return "absent";
}

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class CmkFlowsAgainstEmulator : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { startEmulator(0); }
  /// Operations end `lroSeconds` of emulator time after they start; with a non-zero value they run until
  /// awaitOperation() moves the emulator's clock (so that a test can act while one runs).
  static void startEmulator(int lroSeconds) {
    lroSeconds_ = lroSeconds;
    auto started = EmulatorProcess::start({.extraArgs = {"--lro-seconds", std::to_string(lroSeconds)}});
    if (!started) {
      startError_ = started.error();
      return;
    }
    emulator_ = std::move(*started);
    auto tenant = emulator_->tenant("provider");
    auto secret = emulator_->dir() / "provider.secret";
    std::ofstream(secret) << tenant.principal("admin").clientSecret << "\n";
    azure::AzureConfig config;
    config.cloud = azure::Cloud::Custom;
    config.endpoints = {.resourceManager = emulator_->resourceManager(), .authority = emulator_->authority(),
                        .graph = emulator_->graph()};
    config.caFile = emulator_->caFile();
    config.credentials = {{.name = "provider", .tenantId = tenant.tenantId, .kind = azure::CredentialKind::ClientSecret,
                           .clientId = tenant.principal("admin").clientId, .secretFile = secret.string()}};
    config.retry.maxTotal = 5000ms;
    auto client = azure::makeAzureClient(std::move(config));
    if (!client) {
      startError_ = client.error().str();
      return;
    }
    client_ = std::move(*client);
  }
  static void TearDownTestSuite() {
    client_.reset();
    emulator_.reset();
  }

  void SetUp() override {
    ASSERT_TRUE(emulator_ && client_) << "emulator or client did not start: " << startError_;
    for (auto& reconciler : makeReconcilers(*client_)) {
      const Kind kind = reconciler->kind();
      reconcilers_[kind] = std::move(reconciler);
    }
    poll_ = makeOperationPoll(*client_);
  }

  // ---- the desired state ----

  Document& add(Kind kind, const std::string& name, Json spec) {
    Document document;
    document.key = DocumentKey{kind, name};
    document.azure = controller::AzureCoordinates{"provider", kSub, "anf-rg", "eastus", name};
    document.spec = std::move(spec);
    return desired_.documents[document.key] = std::move(document);
  }
  Document& doc(Kind kind, const std::string& name) { return desired_.documents.at(DocumentKey{kind, name}); }
  const Json& facts(Kind kind, const std::string& name) { return statuses_[DocumentKey{kind, name}].facts; }

  // ---- the engine's loop, step by step ----

  controller::ReconcileContext contextFor(const Document& document, controller::ObservationCache& cache) {
    return controller::ReconcileContext{
        .document = document,
        .statusOf = [this](const DocumentKey& key) -> const controller::ResourceStatus* {
          auto it = statuses_.find(key);
          return it == statuses_.end() ? nullptr : &it->second;
        },
        .desired = desired_,
        .referrers = [this](const DocumentKey& k) { return testing::referrersIn(desired_.documents, k); },
        .cache = cache,
        .self = statuses_[document.key]};
  }

  Result<controller::Observation> observe(Kind kind, const std::string& name) {
    PassCache cache;
    return reconcilers_.at(kind)->observe(contextFor(doc(kind, name), cache));
  }

  /// Observe, then create or update, then poll the operation to its end, until up to date.
  /// Returns the last observation, or the first terminal error (retryable ones are retried).
  Result<controller::Observation> converge(Kind kind, const std::string& name, int maxSteps = 15) {
    const Document& document = doc(kind, name);
    controller::ResourceStatus& status = statuses_[document.key];
    std::optional<ReconcileError> lastError;
    for (int step = 0; step < maxSteps; ++step) {
      PassCache cache;
      auto context = contextFor(document, cache);
      auto observation = reconcilers_.at(kind)->observe(context);
      if (!observation) {
        if (observation.error().parked()) return observation;
        lastError = observation.error();
        std::this_thread::sleep_for(100ms);
        continue;
      }
      status.facts.update(observation->facts);
      if (observation->exists && observation->upToDate) {
        status.ready = true;
        return observation;
      }
      auto outcome = observation->exists ? reconcilers_.at(kind)->update(context, *observation)
                                         : reconcilers_.at(kind)->create(context, *observation);
      if (!outcome) {
        if (outcome.error().parked()) return std::unexpected(outcome.error());
        lastError = outcome.error();
        std::this_thread::sleep_for(100ms);
        continue;
      }
      status.facts.update(outcome->facts);
      steps_.push_back(document.key.str() + ": " + outcome->description);
      if (outcome->operation) {
        if (auto failed = awaitOperation(*outcome->operation)) {
          if (failed->parked()) return std::unexpected(*failed);
          lastError = failed;
        }
      }
    }
    return std::unexpected(lastError.value_or(ReconcileError{.reason = "NotConverged", .message = name}));
  }

  std::optional<ReconcileError> awaitOperation(Json operation) {
    if (lroSeconds_ > 0) emulator_->advanceClock(std::chrono::seconds{lroSeconds_});
    for (int i = 0; i < 200; ++i) {
      auto progress = poll_(operation);
      if (progress.state == controller::OperationProgress::State::Succeeded) return std::nullopt;
      if (progress.state == controller::OperationProgress::State::Failed) return progress.error;
      operation = progress.operation;
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(progress.retryAfter, 50ms));
    }
    return ReconcileError{.reason = "OperationTimeout", .message = operation.dump()};
  }

  // ---- reading Azure back ----

  Json get(const std::string& id) {
    auto result = client_->get("provider", *azure::ResourceId::parse(id)).get();
    EXPECT_TRUE(result) << id << ": " << (result ? "" : result.error().str());
    return result ? result->body : Json();
  }
  void put(const std::string& id, const Json& body) {
    auto result = client_->put("provider", *azure::ResourceId::parse(id), body).get();
    ASSERT_TRUE(result) << id << ": " << result.error().str();
    if (result->operation) client_->waitForOperation(*result->operation, 10s).get();
  }
  /// Writes (PUT/PATCH/POST/DELETE) whose path contains `fragment`, since the last clearRequests().
  std::vector<std::string> writesTo(const std::string& fragment) {
    std::vector<std::string> writes;
    for (const Json& item : emulator_->control("GET", "/_emulator/requests").body.value("items", Json::array())) {
      const std::string method = item.value("method", "");
      const std::string path = item.value("path", "");
      if (method != "GET" && path.find(fragment) != std::string::npos) writes.push_back(method + " " + path);
    }
    return writes;
  }
  void clearRequests() { emulator_->control("DELETE", "/_emulator/requests"); }

  static Json cmkAccountSpec(const std::string& vault, const std::string& key) {
    return Json{{"identity", {{"type", "SystemAssigned"}}},
                {"encryption", {{"keySource", "Microsoft.KeyVault"}, {"keyVault", {{"resourceId", vault}, {"keyName", key}}}}}};
  }
  std::string accountId(const std::string& name) { return kRg + "/providers/Microsoft.NetApp/netAppAccounts/" + name; }

  inline static std::unique_ptr<EmulatorProcess> emulator_;
  inline static azure::AzureClientPtr client_;
  inline static std::string startError_;
  inline static int lroSeconds_ = 0;
  std::map<Kind, controller::ReconcilerPtr> reconcilers_;
  controller::OperationPollFn poll_;
  controller::DesiredState desired_;
  std::map<DocumentKey, controller::ResourceStatus> statuses_;
  std::vector<std::string> steps_;
};

#define ASSERT_CONVERGES(kind, name)                                                          \
  do {                                                                                        \
    auto converged = converge(kind, name);                                                    \
    ASSERT_TRUE(converged) << name << ": " << converged.error().reason << ": " << converged.error().message; \
  } while (0)

TEST_F(CmkFlowsAgainstEmulator, QuickstartSystemAssignedIdentityWithAccessPolicy) {
  add(Kind::NetAppAccount, "acct-qs", cmkAccountSpec(kVaultAp, "anf-key"));
  add(Kind::PrivateEndpoint, "pe-qs", {{"subnetId", kEndpointsSubnet}, {"keyVaultResourceId", kVaultAp}});
  add(Kind::CapacityPool, "pool-qs", {{"accountRef", "acct-qs"}, {"serviceLevel", "Premium"}, {"sizeTiB", 4}});
  add(Kind::Volume, "vol-qs",
      {{"poolRef", "pool-qs"}, {"creationToken", "vol-qs"}, {"usageThresholdGiB", 100}, {"subnetId", kDelegatedSubnet},
       {"protocolTypes", {"NFSv3"}}, {"networkFeatures", "Standard"}, {"encryptionKeySource", "Microsoft.KeyVault"},
       {"keyVaultPrivateEndpointRef", "pe-qs"}});

  ASSERT_CONVERGES(Kind::NetAppAccount, "acct-qs");
  ASSERT_CONVERGES(Kind::PrivateEndpoint, "pe-qs");
  ASSERT_CONVERGES(Kind::CapacityPool, "pool-qs");
  ASSERT_CONVERGES(Kind::Volume, "vol-qs");

  const Json account = get(accountId("acct-qs"));
  const std::string principal = account.value("/identity/principalId"_json_pointer, std::string{});
  ASSERT_FALSE(principal.empty());
  EXPECT_EQ(account.value("/properties/encryption/keySource"_json_pointer, std::string{}), "Microsoft.KeyVault");
  EXPECT_EQ(account.value("/properties/encryption/keyVaultProperties/keyName"_json_pointer, std::string{}), "anf-key");
  EXPECT_TRUE(equalsIgnoreCase(account.value("/properties/encryption/keyVaultProperties/keyVaultResourceId"_json_pointer, std::string{}), kVaultAp));
  EXPECT_TRUE(hasKeyAccessPolicy(get(kVaultAp), principal));
  EXPECT_EQ(facts(Kind::PrivateEndpoint, "pe-qs").value("connectionState", ""), "Approved");
  EXPECT_TRUE(facts(Kind::NetAppAccount, "acct-qs").contains("keyExpiry") ||
              !get(kVaultAp + "/keys/anf-key").contains("/properties/attributes/exp"_json_pointer));
  const Json volume = get(accountId("acct-qs") + "/capacityPools/pool-qs/volumes/vol-qs");
  EXPECT_EQ(volume.value("/properties/encryptionKeySource"_json_pointer, std::string{}), "Microsoft.KeyVault");
  EXPECT_TRUE(equalsIgnoreCase(volume.value("/properties/keyVaultPrivateEndpointResourceId"_json_pointer, std::string{}),
                               kRg + "/providers/Microsoft.Network/privateEndpoints/pe-qs"));

  // Converged means converged: another pass writes nothing.
  clearRequests();
  for (auto [kind, name] : {std::pair{Kind::NetAppAccount, "acct-qs"}, {Kind::PrivateEndpoint, "pe-qs"},
                            {Kind::CapacityPool, "pool-qs"}, {Kind::Volume, "vol-qs"}}) {
    auto observation = observe(kind, name);
    ASSERT_TRUE(observation) << observation.error().message;
    EXPECT_TRUE(observation->upToDate) << name << " " << (observation->diff.empty() ? "" : observation->diff[0].path);
  }
  EXPECT_EQ(writesTo("/"), std::vector<std::string>{});

  // A volume's key source never changes on an existing volume: refused before sending.
  add(Kind::Volume, "vol-pmk",
      {{"poolRef", "pool-qs"}, {"creationToken", "vol-pmk"}, {"usageThresholdGiB", 100}, {"subnetId", kDelegatedSubnet},
       {"networkFeatures", "Standard"}, {"encryptionKeySource", "Microsoft.NetApp"}});
  ASSERT_CONVERGES(Kind::Volume, "vol-pmk");
  doc(Kind::Volume, "vol-pmk").spec["encryptionKeySource"] = "Microsoft.KeyVault";
  doc(Kind::Volume, "vol-pmk").spec["keyVaultPrivateEndpointRef"] = "pe-qs";
  clearRequests();
  auto changed = converge(Kind::Volume, "vol-pmk");
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().reason, "EncryptionKeySourceCannotBeChanged");
  EXPECT_TRUE(changed.error().message.starts_with(
      "EncryptionKeySource cannot be changed. Resolution: No resolution. The EncryptionKeySource property of a volume "
      "can't be changed."))
      << changed.error().message;
  EXPECT_TRUE(changed.error().parked());
  EXPECT_EQ(writesTo("vol-pmk"), std::vector<std::string>{});

  // The endpoint CMK volumes use is never deleted, whatever its deletion policy.
  PassCache cache;
  auto removed = reconcilers_.at(Kind::PrivateEndpoint)->remove(contextFor(doc(Kind::PrivateEndpoint, "pe-qs"), cache), {});
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().reason, "PrivateEndpointInUse");
  EXPECT_EQ(writesTo("privateEndpoints/pe-qs"), std::vector<std::string>{});
}

TEST_F(CmkFlowsAgainstEmulator, UserAssignedIdentityWithMinimalCustomRoleOnRbacVault) {
  add(Kind::UserAssignedIdentity, "ids-rbac", Json::object());
  Json spec = cmkAccountSpec(kVaultRbac, "anf-key");
  spec["identity"] = {{"type", "UserAssigned"}, {"userAssignedIdentityRef", "ids-rbac"}};
  spec["encryption"]["access"] = {{"mode", "RoleAssignment"}, {"role", "MinimalCustomRole"}};
  add(Kind::NetAppAccount, "acct-rbac", spec);

  ASSERT_CONVERGES(Kind::UserAssignedIdentity, "ids-rbac");
  const std::string identityId = facts(Kind::UserAssignedIdentity, "ids-rbac").value("resourceId", "");
  const std::string principal = facts(Kind::UserAssignedIdentity, "ids-rbac").value("principalId", "");
  ASSERT_FALSE(principal.empty());
  EXPECT_FALSE(facts(Kind::UserAssignedIdentity, "ids-rbac").value("clientId", "").empty());
  ASSERT_CONVERGES(Kind::NetAppAccount, "acct-rbac");

  KeyAccessRequest request{.credential = "provider", .vaultId = *azure::ResourceId::parse(kVaultRbac), .vault = get(kVaultRbac),
                           .principalId = principal, .mode = AccessMode::RoleAssignment};
  const Json role = get(roleDefinitionIdFor(request));
  EXPECT_EQ(role.at("/properties/permissions/0/dataActions"_json_pointer),
            Json::parse(R"(["Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/encrypt/action",
                            "Microsoft.KeyVault/vaults/keys/decrypt/action"])"));
  EXPECT_EQ(role.at("/properties/permissions/0/actions"_json_pointer), Json::array());
  ASSERT_EQ(role.at("/properties/assignableScopes"_json_pointer).size(), 1u);
  EXPECT_TRUE(equalsIgnoreCase(role.at("/properties/assignableScopes/0"_json_pointer).get<std::string>(), kVaultRbac));
  const Json assignment = get(roleAssignmentIdFor(request).str());
  EXPECT_TRUE(equalsIgnoreCase(assignment.value("/properties/principalId"_json_pointer, std::string{}), principal));

  const Json account = get(accountId("acct-rbac"));
  EXPECT_EQ(account.value("/identity/type"_json_pointer, std::string{}), "UserAssigned");
  EXPECT_TRUE(equalsIgnoreCase(
      account.value("/properties/encryption/identity/userAssignedIdentity"_json_pointer, std::string{}), identityId));
  EXPECT_EQ(account.value("/properties/encryption/keySource"_json_pointer, std::string{}), "Microsoft.KeyVault");

  // A crash after the grants and a fresh start: same deterministic names, nothing new created.
  statuses_.erase(DocumentKey{Kind::NetAppAccount, "acct-rbac"});
  clearRequests();
  ASSERT_CONVERGES(Kind::NetAppAccount, "acct-rbac");
  EXPECT_EQ(writesTo("/"), std::vector<std::string>{});
}

TEST_F(CmkFlowsAgainstEmulator, RekeyInTheSameVaultListsTheCmkVolumes) {
  add(Kind::NetAppAccount, "acct-rekey", cmkAccountSpec(kVaultAp, "anf-key"));
  add(Kind::CapacityPool, "pool-rekey", {{"accountRef", "acct-rekey"}, {"sizeTiB", 4}});
  add(Kind::Volume, "vol-rekey", {{"poolRef", "pool-rekey"}, {"encryptionKeySource", "Microsoft.KeyVault"}});
  ASSERT_CONVERGES(Kind::NetAppAccount, "acct-rekey");

  doc(Kind::NetAppAccount, "acct-rekey").spec["encryption"]["keyVault"]["keyName"] = "anf-key-2";
  auto observation = observe(Kind::NetAppAccount, "acct-rekey");
  ASSERT_TRUE(observation) << observation.error().message;
  EXPECT_FALSE(observation->upToDate);
  ASSERT_EQ(observation->diff.size(), 1u);
  EXPECT_EQ(observation->diff[0].path, "properties.encryption.keyVaultProperties.keyName");
  ASSERT_EQ(observation->planNotes.size(), 1u);
  EXPECT_NE(observation->planNotes[0].find("anf-key -> anf-key-2"), std::string::npos) << observation->planNotes[0];
  EXPECT_NE(observation->planNotes[0].find("Volume/vol-rekey"), std::string::npos) << observation->planNotes[0];

  ASSERT_CONVERGES(Kind::NetAppAccount, "acct-rekey");
  EXPECT_EQ(get(accountId("acct-rekey")).value("/properties/encryption/keyVaultProperties/keyName"_json_pointer, std::string{}),
            "anf-key-2");
}

// Issue 13 item 1: drift during an operation is repaired. The identity's access policy is removed while the
// rekey PATCH runs; the operation fails with EncryptionKeyUnusable. That waits for Azure (not parked), and
// the next pass reads the vault, reports AccessGranted False, restores the policy and PATCHes again.
class CmkFlowsWithRunningOperations : public CmkFlowsAgainstEmulator {
 protected:
  static void SetUpTestSuite() { startEmulator(30); }
};

TEST_F(CmkFlowsWithRunningOperations, AccessPolicyRemovedDuringARekeyIsRestoredAndTheRekeyConverges) {
  add(Kind::NetAppAccount, "acct-drift", cmkAccountSpec(kVaultAp, "anf-key"));
  ASSERT_CONVERGES(Kind::NetAppAccount, "acct-drift");
  const std::string principal = facts(Kind::NetAppAccount, "acct-drift").value("principalId", "");
  ASSERT_FALSE(principal.empty());

  // The account was configured long ago: no grant of ours is propagating any more.
  statuses_[DocumentKey{Kind::NetAppAccount, "acct-drift"}].facts["accessGrantedAt"] = nowSeconds() - 86400;
  doc(Kind::NetAppAccount, "acct-drift").spec["encryption"]["keyVault"]["keyName"] = "anf-key-2";
  PassCache cache;
  auto context = contextFor(doc(Kind::NetAppAccount, "acct-drift"), cache);
  auto before = reconcilers_.at(Kind::NetAppAccount)->observe(context);
  ASSERT_TRUE(before) << before.error().message;
  auto rekey = reconcilers_.at(Kind::NetAppAccount)->update(context, *before);
  ASSERT_TRUE(rekey) << rekey.error().message;
  ASSERT_TRUE(rekey->operation) << rekey->description;
  // While the PATCH runs, someone removes the identity's access policy in the vault.
  put(kVaultAp + "/accessPolicies/remove", accessPolicyAddBody(emulator_->tenant("provider").tenantId, principal));
  ASSERT_FALSE(hasKeyAccessPolicy(get(kVaultAp), principal));
  auto failed = awaitOperation(*rekey->operation);
  ASSERT_TRUE(failed) << "the rekey succeeded without key access";
  EXPECT_EQ(failed->reason, "EncryptionKeyUnusable");
  EXPECT_EQ(failed->errorClass, controller::ErrorClass::WaitsForAzure) << "a missing grant is cured in Azure: re-checked";

  // The next pass observes what Azure holds now, never what it remembered.
  auto drifted = observe(Kind::NetAppAccount, "acct-drift");
  ASSERT_TRUE(drifted) << drifted.error().message;
  EXPECT_FALSE(drifted->upToDate);
  EXPECT_EQ(conditionStatus(*drifted, "AccessGranted"), "False");

  ASSERT_CONVERGES(Kind::NetAppAccount, "acct-drift");
  EXPECT_TRUE(hasKeyAccessPolicy(get(kVaultAp), principal)) << "the operator manages the access: it restores it";
  const Json account = get(accountId("acct-drift"));
  EXPECT_EQ(account.value("/properties/encryption/keyVaultProperties/keyName"_json_pointer, std::string{}), "anf-key-2");
  EXPECT_EQ(account.value("/properties/encryption/keyVaultProperties/status"_json_pointer, std::string{}), "InUse");
  EXPECT_EQ(account.value("/properties/provisioningState"_json_pointer, std::string{}), "Succeeded");
  auto converged = observe(Kind::NetAppAccount, "acct-drift");
  ASSERT_TRUE(converged) << converged.error().message;
  EXPECT_TRUE(converged->upToDate);
  EXPECT_EQ(conditionStatus(*converged, "AccessGranted"), "True");
}

TEST_F(CmkFlowsAgainstEmulator, IdentitySwitchFromSystemToUserAssigned) {
  add(Kind::NetAppAccount, "acct-switch", cmkAccountSpec(kVaultAp, "anf-key"));
  add(Kind::UserAssignedIdentity, "ids-switch", Json::object());
  ASSERT_CONVERGES(Kind::NetAppAccount, "acct-switch");
  ASSERT_CONVERGES(Kind::UserAssignedIdentity, "ids-switch");
  const std::string principal = facts(Kind::UserAssignedIdentity, "ids-switch").value("principalId", "");
  const std::string identityId = facts(Kind::UserAssignedIdentity, "ids-switch").value("resourceId", "");

  doc(Kind::NetAppAccount, "acct-switch").spec["identity"] = {{"type", "UserAssigned"}, {"userAssignedIdentityRef", "ids-switch"}};
  ASSERT_CONVERGES(Kind::NetAppAccount, "acct-switch");

  // The new identity got access first, then the PATCH; the encryption identity is the user identity.
  EXPECT_TRUE(hasKeyAccessPolicy(get(kVaultAp), principal));
  const Json account = get(accountId("acct-switch"));
  EXPECT_EQ(account.value("/identity/type"_json_pointer, std::string{}), "UserAssigned");
  EXPECT_TRUE(equalsIgnoreCase(account.value("/properties/encryption/identity/userAssignedIdentity"_json_pointer, std::string{}), identityId));
  const std::string encryptionPrincipal = account.value("/properties/encryption/identity/principalId"_json_pointer, std::string{});
  EXPECT_TRUE(encryptionPrincipal.empty() || equalsIgnoreCase(encryptionPrincipal, principal)) << encryptionPrincipal;
  const auto grant = std::ranges::find_if(steps_, [](const auto& s) { return s.find("access policy") != std::string::npos; });
  const auto switched = std::ranges::find_if(steps_, [](const auto& s) { return s.find("switched") != std::string::npos; });
  ASSERT_NE(switched, steps_.end());
  EXPECT_LT(grant - steps_.begin(), switched - steps_.begin());
}

TEST_F(CmkFlowsAgainstEmulator, PrivateEndpointInTheDelegatedSubnetIsRefusedBeforeSending) {
  add(Kind::PrivateEndpoint, "pe-delegated", {{"subnetId", kDelegatedSubnet}, {"keyVaultResourceId", kVaultAp}});
  clearRequests();
  auto result = converge(Kind::PrivateEndpoint, "pe-delegated");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().reason, "SubnetDelegatedToNetApp");
  EXPECT_EQ(writesTo("privateEndpoints"), std::vector<std::string>{});
}

/// One row of the account error table, provoked through the emulator's world.
struct ErrorRow {
  std::string name;
  std::string reason;
  std::string message;
};

class DocumentedKeyVaultConditions : public CmkFlowsAgainstEmulator, public ::testing::WithParamInterface<ErrorRow> {
 protected:
  /// Sets the world up for the row and returns the account spec that hits it.
  Json arrange(const std::string& row) {
    const std::string tenantId = emulator_->tenant("provider").tenantId;
    auto vault = [&](const std::string& name, const std::string& location, bool purgeProtection) {
      const std::string id = kRg + "/providers/Microsoft.KeyVault/vaults/" + name;
      put(id, {{"location", location},
               {"properties", {{"tenantId", tenantId}, {"sku", {{"family", "A"}, {"name", "standard"}}},
                               {"enableSoftDelete", true}, {"enablePurgeProtection", purgeProtection}, {"accessPolicies", Json::array()}}}});
      put(id + "/keys/anf-key", {{"properties", {{"kty", "RSA"}}}});
      return id;
    };
    auto key = [&](const std::string& name, Json properties) {
      put(kVaultAp + "/keys/" + name, {{"properties", std::move(properties)}});
      return cmkAccountSpec(kVaultAp, name);
    };
    if (row == "MissingKey") return cmkAccountSpec(kVaultAp, "no-such-key");
    if (row == "EcKey") return key("ec-key", {{"kty", "EC"}, {"curveName", "P-256"}});
    if (row == "DisabledKey") return key("disabled-key", {{"kty", "RSA"}, {"attributes", {{"enabled", false}}}});
    if (row == "ExpiredKey") return key("expired-key", {{"kty", "RSA"}, {"attributes", {{"exp", nowSeconds() - 3600}}}});
    if (row == "KeyNotYetActive") return key("future-key", {{"kty", "RSA"}, {"attributes", {{"nbf", nowSeconds() + 86400}}}});
    if (row == "BadUri") {
      Json spec = cmkAccountSpec(kVaultAp, "anf-key");
      spec["encryption"]["keyVault"]["uri"] = "https://not-this-vault.vault.azure.net/";
      return spec;
    }
    if (row == "NoPurgeProtection") return cmkAccountSpec(vault("anfkv-nopurge", "eastus", false), "anf-key");
    if (row == "VaultInAnotherRegion") return cmkAccountSpec(vault("anfkv-westus", "westus", true), "anf-key");
    ADD_FAILURE() << "unknown row " << row;
    return {};
  }
};

TEST_P(DocumentedKeyVaultConditions, ReportKeyVaultValidFalseAndWriteNothingToTheAccount) {
  std::string accountName = "acct-row-" + std::to_string(std::hash<std::string>{}(GetParam().name) % 100000);
  add(Kind::NetAppAccount, accountName, arrange(GetParam().name));
  clearRequests();
  auto result = converge(Kind::NetAppAccount, accountName);
  ASSERT_FALSE(result) << "expected " << GetParam().reason;
  EXPECT_EQ(result.error().reason, GetParam().reason);
  EXPECT_EQ(result.error().message, GetParam().message);
  // Re-checked later, never parked: the vault and key change in Azure; only a URI naming no vault is the document's.
  EXPECT_EQ(result.error().parked(), GetParam().reason == "KeyVaultUriInvalid");
  EXPECT_EQ(result.error().conditionType, std::optional<std::string>{"KeyVaultValid"});
  EXPECT_EQ(writesTo("netAppAccounts"), std::vector<std::string>{});
  EXPECT_EQ(writesTo("accessPolicies"), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(
    AccountErrorTable, DocumentedKeyVaultConditions,
    ::testing::Values(
        ErrorRow{"MissingKey", "KeyVaultKeyNotFound",
                 "The operation failed because the specified key vault key was not found. Resolution: When entering "
                 "key URI manually, ensure that the URI is correct."},
        ErrorRow{"EcKey", "KeyVaultKeyNotRsa",
                 "Azure Key Vault key is not a valid RSA key. Resolution: Ensure that the selected key is of type RSA."},
        ErrorRow{"DisabledKey", "KeyVaultKeyDisabled",
                 "Azure Key Vault key is not enabled. Resolution: Ensure that the selected key is enabled."},
        ErrorRow{"ExpiredKey", "KeyVaultKeyExpired",
                 "Azure Key Vault key is expired. Resolution: Ensure that the selected key is valid."},
        ErrorRow{"KeyNotYetActive", "KeyVaultKeyNotActive",
                 "Azure Key Vault key has not been activated. Resolution: Ensure that the selected key is active."},
        ErrorRow{"BadUri", "KeyVaultUriInvalid",
                 "Key Vault URI is invalid. Resolution: When entering key URI manually, ensure that the URI is correct."},
        ErrorRow{"NoPurgeProtection", "KeyVaultNotRecoverable",
                 "Azure Key Vault is not recoverable. Make sure that Soft-delete and Purge protection are both enabled "
                 "on the Azure Key Vault. Resolution: Update the key vault recovery level to: "
                 "\u201cRecoverable/Recoverable+ProtectedSubscription/CustomizedRecoverable/"
                 "CustomizedRecoverable+ProtectedSubscription\u201d"},
        ErrorRow{"VaultInAnotherRegion", "KeyVaultRegionMismatch",
                 "Account must be in the same region as the Vault. Resolution: Ensure the key vault is in the same "
                 "region as the NetApp account."}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace anf::reconcilers
