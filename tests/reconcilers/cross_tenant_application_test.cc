// CrossTenantApplication and the account's cross-tenant steps, against the strict fake client.
#include "reconcilers/cross_tenant_application.h"

#include <gtest/gtest.h>

#include "reconcilers/cross_tenant_chain.h"
#include "tests/reconcilers/fake_azure_client.h"
#include "tests/reconcilers/reconcile_world.h"

namespace anf::reconcilers {
namespace {

using controller::Kind;

const std::string kPrincipal = "aaaaaaaa-0000-4000-8000-000000000001";
const std::string kAppId = "bbbbbbbb-0000-4000-8000-000000000002";
const std::string kObjectId = "cccccccc-0000-4000-8000-000000000003";
const std::string kSpId = "dddddddd-0000-4000-8000-000000000004";
const std::string kCryptoUser = "12338af0-0e69-4776-bea7-57ae8d297424";
const std::string kVault = "/subscriptions/" + testing::kCustomerSub +
                           "/resourceGroups/customer-rg/providers/Microsoft.KeyVault/vaults/anfkv-customer";
const std::string kConnection = kVault + "/privateEndpointConnections/pec-1";
const std::string kEndpoint = testing::kRg + "/providers/Microsoft.Network/privateEndpoints/pe-customer";
const std::string kIssuer = "https://login.microsoftonline.com/" + testing::kProviderTenantId + "/v2.0";
const std::string kFeaturePath = "/subscriptions/" + testing::kProviderSub +
                                 "/providers/Microsoft.Features/providers/Microsoft.NetApp/features/ANFCrossTenantCMK";

struct CrossTenantWorld : testing::World {
  testing::FakeAzureClient client;
  testing::FakeAzureStore store;
  controller::ReconcilerPtr reconciler = makeCrossTenantApplicationReconciler(client);

  explicit CrossTenantWorld(bool withCredential) {
    Json customer = {{"tenantId", testing::kCustomerTenantId}, {"keyVaultResourceId", kVault}};
    if (withCredential) customer["credential"] = "customer";
    controller::Document app;
    app.key = {Kind::CrossTenantApplication, "app"};
    app.spec = {{"tenant", "provider"}, {"displayName", "anf-cmk-app"}, {"identityRef", "ids"}, {"customer", customer}};
    add(app);
    add(testing::document(Kind::PrivateEndpoint, "pe-customer", {{"keyVaultResourceId", kVault}, {"approval", "Manual"}}));
    statuses[{Kind::UserAssignedIdentity, "ids"}].facts = {{"principalId", kPrincipal},
                                                           {"tenantId", testing::kProviderTenantId}};
    statuses[{Kind::PrivateEndpoint, "pe-customer"}].facts = {{"resourceId", kEndpoint}};
    store.serve(client);
  }
  void appExists() {
    store.graph["provider"].applications.push_back(
        {{"id", kObjectId}, {"appId", kAppId}, {"displayName", "anf-cmk-app"}, {"signInAudience", "AzureADMultipleOrgs"}});
  }
  void goodCredential() {
    store.graph["provider"].federatedCredentials[kObjectId] = {
        {{"id", "fic-1"}, {"name", "anf-cmk-operator"}, {"issuer", kIssuer}, {"subject", kPrincipal},
         {"audiences", {"api://AzureADTokenExchange"}}}};
  }
  /// The customer tenant: the vault (RBAC or access policies), consent, key access, the endpoint's connection.
  void customerSide(bool consented, bool access, const std::string& connection, bool rbac = true) {
    if (consented) store.graph["customer"].servicePrincipals.push_back({{"id", kSpId}, {"appId", kAppId}});
    Json policies = Json::array();
    if (access && !rbac)
      policies.push_back({{"tenantId", testing::kCustomerTenantId}, {"objectId", kSpId},
                          {"permissions", {{"keys", {"get", "encrypt", "decrypt"}}}}});
    store.putArm(kVault, {{"properties", {{"tenantId", testing::kCustomerTenantId}, {"enableRbacAuthorization", rbac},
                                          {"accessPolicies", policies}}}});
    if (access && rbac)
      store.putArm(kVault + "/providers/Microsoft.Authorization/roleAssignments/0b0c0d0e-1111-4222-8333-444455556666",
                   {{"properties", {{"principalId", kSpId},
                                    {"roleDefinitionId", "/providers/Microsoft.Authorization/roleDefinitions/" + kCryptoUser}}}});
    if (!connection.empty())
      store.putArm(kConnection, {{"properties", {{"privateEndpoint", {{"id", kEndpoint}}},
                                                 {"privateLinkServiceConnectionState", {{"status", connection}}}}}});
  }
  /// The application with its credential, every customer step done on an RBAC vault.
  void allInPlace() {
    appExists();
    goodCredential();
    customerSide(true, true, "Approved");
  }
  controller::ReconcileContext appContext() { return context({Kind::CrossTenantApplication, "app"}); }
  /// observe() then create() or update(), as the engine does when the observation is not up to date.
  Result<controller::Outcome> pass() {
    cache.clear();
    auto observed = reconciler->observe(appContext());
    if (!observed) return std::unexpected(observed.error());
    if (observed->upToDate) return controller::Outcome{.description = "up to date"};
    auto outcome = observed->exists ? reconciler->update(appContext(), *observed) : reconciler->create(appContext(), *observed);
    if (outcome) self.facts.merge_patch(outcome->facts);
    return outcome;
  }
  Json connectionStatus() { return store.findArm(kConnection)->value("/properties/privateLinkServiceConnectionState/status"_json_pointer, Json()); }
};

controller::Condition conditionOf(const controller::Observation& observed, const std::string& type) {
  for (const auto& condition : observed.conditions)
    if (condition.type == type) return condition;
  return {};
}

TEST(CrossTenantText, AdminConsentUrlAndFederatedCredential) {
  CrossTenantOptions options;
  EXPECT_EQ(adminConsentUrl(options, testing::kCustomerTenantId, kAppId),
            "https://login.microsoftonline.com/" + testing::kCustomerTenantId + "/adminconsent?client_id=" + kAppId);
  Json fic = desiredFederatedCredential(options, testing::kProviderTenantId, kPrincipal);
  EXPECT_EQ(fic["issuer"], kIssuer);
  EXPECT_EQ(fic["subject"], kPrincipal);
  EXPECT_EQ(fic["audiences"], Json::array({"api://AzureADTokenExchange"}));
}

TEST(CrossTenantText, CustomerInstructionsListOnlyWhatIsLeftNumbered) {
  std::vector<CustomerStep> steps = {{.step = "AdminConsent", .done = true, .detail = "consent"},
                                     {.step = "KeyVaultCryptoUser", .done = std::nullopt, .detail = "assign role"},
                                     {.step = "ApprovePrivateEndpointConnection", .done = false, .detail = "approve"}};
  EXPECT_EQ(customerInstructions(steps), "1. assign role 2. approve");
  auto condition = awaitingCustomerCondition(steps);
  EXPECT_EQ(condition.type, "AwaitingCustomer");
  EXPECT_EQ(condition.status, "True");
  EXPECT_EQ(condition.message, "The customer must: 1. assign role 2. approve");
  for (auto& step : steps) step.done = true;
  EXPECT_EQ(awaitingCustomerCondition(steps).status, "False");
}

TEST(CrossTenantApplication, RegistersAMultitenantApplication) {
  CrossTenantWorld world(true);
  auto observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_FALSE(observed->exists);
  auto outcome = world.reconciler->create(world.appContext(), *observed);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
  auto posts = world.client.callsTo("graph:POST", "applications");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].credential, "provider");
  EXPECT_EQ(posts[0].body, (Json{{"displayName", "anf-cmk-app"}, {"signInAudience", "AzureADMultipleOrgs"}}));
  EXPECT_EQ(outcome->facts["applicationId"], world.store.graph["provider"].applications[0]["appId"]);
}

TEST(CrossTenantApplication, AddsTheFederatedCredentialOfTheUserAssignedIdentity) {
  CrossTenantWorld world(true);
  world.appExists();
  auto observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_TRUE(observed->exists);
  EXPECT_FALSE(observed->upToDate);
  EXPECT_EQ(observed->facts["adminConsentUrl"],
            "https://login.microsoftonline.com/" + testing::kCustomerTenantId + "/adminconsent?client_id=" + kAppId);
  auto outcome = world.reconciler->update(world.appContext(), *observed);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
  auto posts = world.client.callsTo("graph:POST", "/federatedIdentityCredentials");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].body["issuer"], kIssuer);
  EXPECT_EQ(posts[0].body["subject"], kPrincipal);
  EXPECT_EQ(posts[0].body["audiences"], Json::array({"api://AzureADTokenExchange"}));
}

// Issue 13 item 6: production had no Graph PATCH (GraphRequestUnsupported), so a changed subject stayed wrong.
TEST(CrossTenantApplication, AChangedSubjectIsRepairedByPatchingTheCredential) {
  CrossTenantWorld world(true);
  world.appExists();
  world.goodCredential();
  world.store.graph["provider"].federatedCredentials[kObjectId][0]["subject"] = "someone-else";
  world.customerSide(true, true, "Approved");
  auto observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  ASSERT_EQ(observed->diff.size(), 1u);
  EXPECT_EQ(observed->diff[0].path, "federatedIdentityCredentials[anf-cmk-operator].subject");
  EXPECT_EQ(observed->diff[0].observed, "someone-else");
  auto outcome = world.reconciler->update(world.appContext(), *observed);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
  auto patches = world.client.callsTo("graph:PATCH", "/federatedIdentityCredentials/fic-1");
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].body["subject"], kPrincipal);
  EXPECT_FALSE(patches[0].body.contains("name"));
  // Graph holds the repaired credential: the next observation has nothing left to do.
  EXPECT_EQ(world.store.graph["provider"].federatedCredentials[kObjectId][0]["subject"], kPrincipal);
  observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_TRUE(observed->diff.empty());
  EXPECT_TRUE(observed->upToDate);
}

TEST(CrossTenantApplication, AnAudienceOtherThanMultipleOrgsIsPatchedBack) {
  CrossTenantWorld world(true);
  world.allInPlace();
  world.store.graph["provider"].applications[0]["signInAudience"] = "AzureADMyOrg";
  ASSERT_TRUE(world.pass().has_value());
  EXPECT_EQ(world.client.callsTo("graph:PATCH", "applications/" + kObjectId).size(), 1u);
  EXPECT_EQ(world.store.graph["provider"].applications[0]["signInAudience"], "AzureADMultipleOrgs");
}

// Issue 13 item 6: deletionPolicy Delete never deleted the application in production (no Graph DELETE).
TEST(CrossTenantApplication, DeletionPolicyDeleteDeletesTheApplication) {
  CrossTenantWorld world(true);
  world.allInPlace();
  world.desired.documents.at({Kind::CrossTenantApplication, "app"}).deletionPolicy = controller::DeletionPolicy::Delete;
  auto observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  auto outcome = world.reconciler->remove(world.appContext(), *observed);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
  EXPECT_EQ(world.client.callsTo("graph:DELETE", "applications/" + kObjectId).size(), 1u);
  EXPECT_TRUE(world.store.graph["provider"].applications.empty());
  observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_FALSE(observed->exists) << "the engine forgets the document once observe() sees it gone";
}

TEST(CrossTenantApplication, DeletionPolicyRetainKeepsTheApplication) {
  CrossTenantWorld world(true);
  world.allInPlace();
  auto observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  ASSERT_TRUE(world.reconciler->remove(world.appContext(), *observed).has_value());
  EXPECT_TRUE(world.client.callsTo("graph:DELETE").empty());
  EXPECT_EQ(world.store.graph["provider"].applications.size(), 1u);
}

TEST(CrossTenantApplication, WithACustomerCredentialPerformsConsentRoleAndApprovalOneStepPerPass) {
  CrossTenantWorld world(true);
  world.appExists();
  world.goodCredential();
  world.customerSide(false, false, "Pending");
  for (int pass = 0; pass < 3; ++pass) ASSERT_TRUE(world.pass().has_value()) << "pass " << pass;

  auto sp = world.client.callsTo("graph:POST", "servicePrincipals");
  ASSERT_EQ(sp.size(), 1u);
  EXPECT_EQ(sp[0].credential, "customer");
  EXPECT_EQ(sp[0].body, (Json{{"appId", kAppId}}));
  const std::string spId = world.store.graph["customer"].servicePrincipals.at(0)["id"];
  auto puts = world.client.callsTo("PUT");
  ASSERT_EQ(puts.size(), 2u);
  EXPECT_EQ(puts[0].credential, "customer");
  EXPECT_TRUE(puts[0].target.starts_with(kVault + "/providers/Microsoft.Authorization/roleAssignments/"));
  EXPECT_EQ(puts[0].body["properties"]["principalId"], spId);
  EXPECT_TRUE(puts[0].body["properties"]["roleDefinitionId"].get<std::string>().ends_with(kCryptoUser));
  EXPECT_EQ(puts[1].target, kConnection);
  EXPECT_EQ(world.connectionStatus(), "Approved");

  auto observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_TRUE(observed->upToDate);
  EXPECT_EQ(conditionOf(*observed, "AwaitingCustomer").status, "False") << conditionOf(*observed, "AwaitingCustomer").message;

  // The role assignment name is deterministic: a retry PUTs the same name.
  CrossTenantWorld again(true);
  again.appExists();
  again.goodCredential();
  again.store.graph["customer"].servicePrincipals.push_back({{"id", spId}, {"appId", kAppId}});
  again.customerSide(false, false, "Approved");
  ASSERT_TRUE(again.pass().has_value());
  auto retried = again.client.callsTo("PUT");
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_EQ(retried[0].target, puts[0].target);
}

// Issue 13 item 4: on a vault with access policies Azure ignores the Key Vault Crypto User role; the operator
// assigned it and reported "The customer's steps are done" while Azure refused the key.
TEST(CrossTenantApplication, OnAnAccessPolicyVaultTheCustomerCredentialGrantsAnAccessPolicy) {
  CrossTenantWorld world(true);
  world.appExists();
  world.goodCredential();
  world.customerSide(true, false, "Approved", /*rbac=*/false);
  auto observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_FALSE(observed->upToDate);
  const auto awaiting = conditionOf(*observed, "AwaitingCustomer");
  EXPECT_EQ(awaiting.status, "True");
  EXPECT_NE(awaiting.message.find("access policy on key vault " + kVault), std::string::npos) << awaiting.message;
  EXPECT_NE(awaiting.message.find("get, encrypt, decrypt"), std::string::npos) << awaiting.message;
  EXPECT_EQ(observed->facts["customer"]["permissionModel"], "AccessPolicy");

  ASSERT_TRUE(world.reconciler->update(world.appContext(), *observed).has_value());
  auto puts = world.client.callsTo("PUT");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].credential, "customer");
  EXPECT_EQ(puts[0].target, kVault + "/accessPolicies/add");
  const Json policy = puts[0].body["properties"]["accessPolicies"][0];
  EXPECT_EQ(policy["objectId"], kSpId);
  EXPECT_EQ(policy["tenantId"], testing::kCustomerTenantId);
  for (const auto& call : world.client.calls) EXPECT_EQ(call.target.find("roleAssignments/"), std::string::npos);

  observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_TRUE(observed->upToDate);
  EXPECT_EQ(conditionOf(*observed, "AwaitingCustomer").status, "False");
}

TEST(CrossTenantApplication, WhenTheCustomerCredentialMayNotAddPoliciesTheStatusNamesExactlyThePolicyToAdd) {
  CrossTenantWorld world(true);
  world.appExists();
  world.goodCredential();
  world.customerSide(true, false, "Approved", /*rbac=*/false);
  world.client.putFn = [](const std::string&, const azure::ResourceId&, const Json&,
                          const azure::RequestOptions&) -> azure::Expected<azure::ArmResult> {
    return std::unexpected(testing::azureError(403, "Forbidden", "The client does not have permission to write access policies."));
  };
  auto outcome = world.pass();
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error().azure->code, "Forbidden");
  auto observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value());
  const auto awaiting = conditionOf(*observed, "AwaitingCustomer");
  EXPECT_EQ(awaiting.status, "True");
  EXPECT_NE(awaiting.message.find("Add an access policy on key vault " + kVault +
                                  " with key permissions get, encrypt, decrypt for the service principal of application " +
                                  kAppId + " (anf-cmk-app), object id " + kSpId),
            std::string::npos)
      << awaiting.message;
}

TEST(CrossTenantApplication, AllDoneIsUpToDateAndNotAwaiting) {
  CrossTenantWorld world(true);
  world.allInPlace();
  auto observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_TRUE(observed->upToDate);
  ASSERT_EQ(observed->conditions.size(), 1u);
  EXPECT_EQ(observed->conditions[0].status, "False");
  EXPECT_TRUE(world.client.writes().empty());
}

// Issue 13 item 5: waiting for a connection that Azure does not show yet asked to run again at once
// (requeueAfter 0): a hundred passes a second, five reads each.
TEST(CrossTenantApplication, WaitingForAConnectionComesBackAfterAWhileNotAtOnce) {
  CrossTenantWorld world(true);
  world.appExists();
  world.goodCredential();
  world.customerSide(true, true, "");  // the provider's endpoint has not reached the vault yet
  auto observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_FALSE(observed->upToDate);
  auto outcome = world.reconciler->update(world.appContext(), *observed);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
  EXPECT_TRUE(world.client.writes().empty());
  ASSERT_TRUE(outcome->requeueAfter.has_value());
  EXPECT_GE(*outcome->requeueAfter, std::chrono::milliseconds(kCustomerRecheck));
}

TEST(CrossTenantApplication, EveryWriteAsksToComeBackAfterADelayNeverAtOnce) {
  CrossTenantWorld world(true);
  world.customerSide(false, false, "Pending");
  for (int pass = 0; pass < 6; ++pass) {
    auto outcome = world.pass();
    ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
    EXPECT_NE(outcome->requeueAfter, std::optional<std::chrono::milliseconds>(0)) << outcome->description;
  }
  EXPECT_EQ(world.connectionStatus(), "Approved");
}

TEST(CrossTenantApplication, WithoutACredentialListsExactlyWhatTheCustomerMustDo) {
  CrossTenantWorld world(false);
  world.appExists();
  world.goodCredential();
  auto endpoint = [&](const std::string& state) {
    world.store.putArm(kEndpoint, {{"properties", {{"manualPrivateLinkServiceConnections",
                                                     {{{"properties", {{"privateLinkServiceConnectionState", {{"status", state}}}}}}}}}}});
  };
  endpoint("Pending");
  auto observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_TRUE(observed->upToDate);  // nothing for the operator to do; the account's chain check waits
  ASSERT_EQ(observed->conditions.size(), 1u);
  const auto& condition = observed->conditions[0];
  EXPECT_EQ(condition.type, "AwaitingCustomer");
  EXPECT_EQ(condition.status, "True");
  EXPECT_NE(condition.message.find("adminconsent?client_id=" + kAppId), std::string::npos);
  EXPECT_NE(condition.message.find("Key Vault Crypto User (" + kCryptoUser + ")"), std::string::npos);
  EXPECT_NE(condition.message.find("at scope " + kVault), std::string::npos);
  EXPECT_NE(condition.message.find("On a vault with access policies (enableRbacAuthorization false) Azure ignores the role: "
                                   "add an access policy with key permissions get, encrypt, decrypt"),
            std::string::npos)
      << "the provider cannot read the vault's permission model: both ways are named";
  EXPECT_NE(condition.message.find("Approve the pending private endpoint connection from " + kEndpoint), std::string::npos);
  for (const auto& call : world.client.calls) EXPECT_NE(call.credential, "customer");

  auto outcome = world.reconciler->update(world.appContext(), *observed);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->requeueAfter, std::chrono::milliseconds(kCustomerRecheck));
  EXPECT_TRUE(world.client.writes().empty());

  endpoint("Approved");  // once the customer approves, the next pass sees it
  observed = world.reconciler->observe(world.appContext());
  ASSERT_TRUE(observed.has_value());
  EXPECT_TRUE(observed->upToDate);
  EXPECT_EQ(observed->conditions[0].message.find("Approve the pending"), std::string::npos);
}

// --- the account's cross-tenant chain -------------------------------------------------------------

struct ChainCase {
  std::string name;
  std::string feature;
  Json appFacts;
  std::string wantReason;  // empty: the chain holds
};

class CrossTenantChainTest : public ::testing::TestWithParam<ChainCase> {};

Json goodAppFacts() {
  return {{"applicationId", kAppId},
          {"federatedCredential", {{"subject", kPrincipal}}},
          {"customerSteps",
           {{{"step", "AdminConsent"}, {"done", true}, {"detail", "consent"}},
            {{"step", "KeyVaultCryptoUser"}, {"done", true}, {"detail", "role"}},
            {{"step", "ApprovePrivateEndpointConnection"}, {"done", true}, {"detail", "approve"}}}}};
}

/// A cross-tenant account beside the application, the feature in `feature` state.
struct CrossTenantAccount : CrossTenantWorld {
  explicit CrossTenantAccount(const std::string& feature) : CrossTenantWorld(false) {
    add(testing::document(Kind::NetAppAccount, "acct",
                          {{"identity", {{"type", "UserAssigned"}, {"userAssignedIdentityRef", "ids"}}},
                           {"encryption",
                            {{"keySource", "Microsoft.KeyVault"},
                             {"keyVault", {{"resourceId", kVault}}},
                             {"crossTenant", {{"applicationRef", "app"}}}}}}));
    statuses[{Kind::CrossTenantApplication, "app"}].facts = goodAppFacts();
    if (!feature.empty()) store.putArm(kFeaturePath, {{"properties", {{"state", feature}}}});
    client.postFn = [this](const std::string&, const azure::ResourceId& id, std::string_view action, const Json&,
                           const azure::RequestOptions&) -> azure::Expected<azure::ArmResult> {
      EXPECT_EQ(id.str() + "/" + std::string(action), kFeaturePath + "/register");
      return testing::armOk(store.putArm(kFeaturePath, {{"properties", {{"state", "Registering"}}}}));
    };
  }
  controller::ReconcileContext accountContext() { return context({Kind::NetAppAccount, "acct"}); }
};

TEST_P(CrossTenantChainTest, NamesTheMissingLink) {
  const auto& c = GetParam();
  CrossTenantAccount world(c.feature);
  world.statuses[{Kind::CrossTenantApplication, "app"}].facts = c.appFacts;
  auto result = checkCrossTenantChain(world.client, world.accountContext());
  if (c.wantReason.empty()) {
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, kAppId);
  } else {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().reason, c.wantReason);
    EXPECT_FALSE(result.error().parked()) << "a missing link is re-checked, not parked";
  }
  EXPECT_TRUE(world.client.writes().empty());
}

ChainCase withStep(std::string name, int index, std::string reason) {
  Json facts = goodAppFacts();
  facts["customerSteps"][index]["done"] = false;
  return {std::move(name), "Registered", facts, std::move(reason)};
}

INSTANTIATE_TEST_SUITE_P(
    Links, CrossTenantChainTest,
    ::testing::Values(ChainCase{"Holds", "Registered", goodAppFacts(), ""},
                      ChainCase{"FeatureRegistering", "Registering", goodAppFacts(), "FeatureNotRegistered"},
                      ChainCase{"NoApplicationYet", "Registered", Json::object(), "DependencyNotReady"},
                      ChainCase{"WrongSubject", "Registered",
                                [] {
                                  Json f = goodAppFacts();
                                  f["federatedCredential"]["subject"] = "other";
                                  return f;
                                }(),
                                "FederatedCredentialSubjectMismatch"},
                      withStep("NoConsent", 0, "CrossTenantConsentMissing"),
                      withStep("NoRole", 1, "CrossTenantRoleMissing"),
                      withStep("NotApproved", 2, "PrivateEndpointConnectionNotApproved"),
                      [] {
                        ChainCase c = withStep("NoAccessPolicy", 1, "CrossTenantAccessPolicyMissing");
                        c.appFacts["customerSteps"][1]["step"] = "KeyVaultAccessPolicy";
                        return c;
                      }()),
    [](const ::testing::TestParamInfo<ChainCase>& info) { return info.param.name; });

TEST(CrossTenantChain, RegistersTheFeatureBeforeCheckingTheChain) {
  CrossTenantAccount world("NotRegistered");
  auto gate = prepareCrossTenantEncryption(world.client, world.accountContext());
  ASSERT_TRUE(gate.has_value()) << gate.error().message;
  ASSERT_TRUE(gate->has_value()) << "went on while the feature is not registered";
  EXPECT_GT((*gate)->requeueAfter.value_or(std::chrono::milliseconds(0)).count(), 0);
  EXPECT_EQ(world.client.callsTo("POST", "/register").size(), 1u);

  world.store.putArm(kFeaturePath, {{"properties", {{"state", "Registered"}}}});
  world.statuses[{Kind::CrossTenantApplication, "app"}].facts["customerSteps"][2]["done"] = false;
  gate = prepareCrossTenantEncryption(world.client, world.accountContext());
  ASSERT_FALSE(gate.has_value());
  EXPECT_EQ(gate.error().reason, "PrivateEndpointConnectionNotApproved");

  world.statuses[{Kind::CrossTenantApplication, "app"}].facts = goodAppFacts();
  gate = prepareCrossTenantEncryption(world.client, world.accountContext());
  ASSERT_TRUE(gate.has_value()) << gate.error().message;
  EXPECT_FALSE(gate->has_value());
}

TEST(CrossTenantChain, NamesTheInvisibleCustomerStepsWhenAzureRefusedTheKey) {
  CrossTenantAccount world("Registered");
  Json facts = goodAppFacts();
  facts["customerSteps"][0]["done"] = nullptr;  // not visible without the customer's credential
  facts["customerSteps"][1]["done"] = nullptr;
  world.statuses[{Kind::CrossTenantApplication, "app"}].facts = facts;
  const Json failed = {{"properties",
                        {{"provisioningState", "Failed"},
                         {"encryption", {{"keySource", "Microsoft.KeyVault"}, {"keyVaultProperties", {{"status", "Error"}}}}}}}};
  controller::Observation observation;
  ASSERT_TRUE(observeCrossTenant(world.client, world.accountContext(), failed, observation).has_value());
  const auto awaiting = conditionOf(observation, "AwaitingCustomer");
  EXPECT_EQ(awaiting.status, "True");
  EXPECT_EQ(awaiting.reason, "CustomerStepMissing");
  EXPECT_NE(awaiting.message.find("1. consent 2. role"), std::string::npos) << awaiting.message;
  // Azure's error is the same without consent and without the role: the status does not claim to know which.
  EXPECT_NE(awaiting.message.find("Azure's error does not say which is missing"), std::string::npos) << awaiting.message;
  EXPECT_EQ(awaiting.message.find("approve"), std::string::npos) << awaiting.message;
  EXPECT_EQ(conditionOf(observation, "FeatureRegistered").status, "True");
  EXPECT_TRUE(world.client.writes().empty());
}

}  // namespace
}  // namespace anf::reconcilers
