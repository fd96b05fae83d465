#include "reconcilers/flows/cross_tenant_application.h"

#include "reconcilers/flows/account_extensions.h"

#include <gtest/gtest.h>

#include "tests/reconcilers/flows/fake_azure.h"

namespace anf::reconcilers::flows {
namespace {

using controller::Kind;
using testing::FakeAzure;

const std::string kPrincipal = "aaaaaaaa-0000-4000-8000-000000000001";
const std::string kAppId = "bbbbbbbb-0000-4000-8000-000000000002";
const std::string kObjectId = "cccccccc-0000-4000-8000-000000000003";
const std::string kSpId = "dddddddd-0000-4000-8000-000000000004";
const std::string kVault = "/subscriptions/" + testing::kCustomerSub +
                           "/resourceGroups/customer-rg/providers/Microsoft.KeyVault/vaults/anfkv-customer";
const std::string kEndpoint = testing::kRg + "/providers/Microsoft.Network/privateEndpoints/pe-customer";
const std::string kIssuer = "https://login.microsoftonline.com/" + testing::kProviderTenantId + "/v2.0";
const std::string kFeaturePath = "/subscriptions/" + testing::kProviderSub +
                                 "/providers/Microsoft.Features/providers/Microsoft.NetApp/features/ANFCrossTenantCMK";

struct CrossTenantWorld : testing::World {
  FakeAzure azure;
  Json credentials = Json::array();

  explicit CrossTenantWorld(bool withCredential) {
    Json customer = {{"tenantId", testing::kCustomerTenantId}, {"keyVaultResourceId", kVault}};
    if (withCredential) customer["credential"] = "customer";
    controller::Document app;
    app.key = {Kind::CrossTenantApplication, "app"};
    app.spec = {{"tenant", "provider"}, {"displayName", "anf-cmk-app"}, {"identityRef", "ids"}, {"customer", customer}};
    add(app);
    add(testing::document(Kind::PrivateEndpoint, "pe-customer",
                          {{"keyVaultResourceId", kVault}, {"approval", "Manual"}}));
    statuses[{Kind::UserAssignedIdentity, "ids"}].facts = {{"principalId", kPrincipal},
                                                           {"tenantId", testing::kProviderTenantId}};
    statuses[{Kind::PrivateEndpoint, "pe-customer"}].facts = {{"resourceId", kEndpoint}};
    azure.onJson("GET", "/v1.0/applications?$filter=displayName eq 'anf-cmk-app'", {{"value", Json::array()}});
    azure.onJson("POST", "/v1.0/applications", {{"id", kObjectId}, {"appId", kAppId}}, 201);
    azure.on("GET", "/v1.0/applications/" + kObjectId + "/federatedIdentityCredentials",
             [this](const testing::Call&) -> Result<Reply> { return Reply{.body = {{"value", credentials}}}; });
  }
  void appExists() {
    azure.onJson("GET", "/v1.0/applications?$filter=displayName eq 'anf-cmk-app'",
                 {{"value", {{{"id", kObjectId}, {"appId", kAppId}, {"signInAudience", "AzureADMultipleOrgs"}}}}});
  }
  void goodCredential() {
    credentials = {{{"id", "fic-1"}, {"name", "anf-cmk-operator"}, {"issuer", kIssuer}, {"subject", kPrincipal},
                    {"audiences", {"api://AzureADTokenExchange"}}}};
  }
  void customerSide(bool consented, bool role, const std::string& connection) {
    azure.onJson("GET", "/v1.0/servicePrincipals?$filter=appId eq '" + kAppId + "'",
                 {{"value", consented ? Json::array({{{"id", kSpId}, {"appId", kAppId}}}) : Json::array()}});
    Json assignments = Json::array();
    if (role)
      assignments.push_back({{"properties",
                              {{"principalId", kSpId},
                               {"roleDefinitionId", "/providers/Microsoft.Authorization/roleDefinitions/"
                                                    "12338af0-0e69-4776-bea7-57ae8d297424"}}}});
    azure.onJson("GET", kVault + "/providers/Microsoft.Authorization/roleAssignments", {{"value", assignments}});
    azure.onJson("GET", kVault + "/privateEndpointConnections",
                 {{"value",
                   {{{"name", "pec-1"},
                     {"properties",
                      {{"privateEndpoint", {{"id", kEndpoint}}},
                       {"privateLinkServiceConnectionState", {{"status", connection}}}}}}}}});
  }
  controller::ReconcileContext appContext() { return context({Kind::CrossTenantApplication, "app"}); }
};

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
  CrossTenantApplicationReconciler reconciler(world.azure);
  auto context = world.appContext();
  auto observed = reconciler.observe(context);
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_FALSE(observed->exists);
  auto outcome = reconciler.create(context, *observed);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
  auto posts = world.azure.callsTo("POST", "/v1.0/applications");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].tenant, "provider");
  EXPECT_EQ(posts[0].body, (Json{{"displayName", "anf-cmk-app"}, {"signInAudience", "AzureADMultipleOrgs"}}));
  EXPECT_EQ(outcome->facts["applicationId"], kAppId);
}

TEST(CrossTenantApplication, AddsTheFederatedCredentialOfTheUserAssignedIdentity) {
  CrossTenantWorld world(true);
  world.appExists();
  CrossTenantApplicationReconciler reconciler(world.azure);
  auto context = world.appContext();
  auto observed = reconciler.observe(context);
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_TRUE(observed->exists);
  EXPECT_FALSE(observed->upToDate);
  EXPECT_EQ(observed->facts["adminConsentUrl"],
            "https://login.microsoftonline.com/" + testing::kCustomerTenantId + "/adminconsent?client_id=" + kAppId);
  auto outcome = reconciler.update(context, *observed);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
  auto posts = world.azure.callsTo("POST", "/federatedIdentityCredentials");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].body["issuer"], kIssuer);
  EXPECT_EQ(posts[0].body["subject"], kPrincipal);
  EXPECT_EQ(posts[0].body["audiences"], Json::array({"api://AzureADTokenExchange"}));
}

TEST(CrossTenantApplication, WrongSubjectIsNamedAndFixed) {
  CrossTenantWorld world(true);
  world.appExists();
  world.goodCredential();
  world.credentials[0]["subject"] = "someone-else";
  world.customerSide(true, true, "Approved");
  CrossTenantApplicationReconciler reconciler(world.azure);
  auto context = world.appContext();
  auto observed = reconciler.observe(context);
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  ASSERT_EQ(observed->diff.size(), 1u);
  EXPECT_EQ(observed->diff[0].path, "federatedIdentityCredentials[anf-cmk-operator].subject");
  EXPECT_EQ(observed->diff[0].observed, "someone-else");
  auto outcome = reconciler.update(context, *observed);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
  auto patches = world.azure.callsTo("PATCH", "/federatedIdentityCredentials/fic-1");
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].body["subject"], kPrincipal);
}

TEST(CrossTenantApplication, WithACustomerCredentialPerformsConsentRoleAndApproval) {
  CrossTenantWorld world(true);
  world.appExists();
  world.goodCredential();
  world.customerSide(false, false, "Pending");
  world.azure.onJson("POST", "/v1.0/servicePrincipals", {{"id", kSpId}, {"appId", kAppId}}, 201);
  world.azure.onJson("PUT", kVault + "/providers/Microsoft.Authorization/roleAssignments/*", Json::object(), 201);
  world.azure.onJson("PUT", kVault + "/privateEndpointConnections/pec-1", Json::object());
  CrossTenantApplicationReconciler reconciler(world.azure);
  auto context = world.appContext();
  auto observed = reconciler.observe(context);
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_FALSE(observed->upToDate);
  auto outcome = reconciler.update(context, *observed);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().message;

  auto sp = world.azure.callsTo("POST", "/v1.0/servicePrincipals");
  ASSERT_EQ(sp.size(), 1u);
  EXPECT_EQ(sp[0].tenant, "customer");
  EXPECT_EQ(sp[0].body, (Json{{"appId", kAppId}}));
  auto roles = world.azure.callsTo("PUT", "");
  ASSERT_EQ(roles.size(), 2u);
  EXPECT_EQ(roles[0].tenant, "customer");
  EXPECT_TRUE(roles[0].path.starts_with(kVault + "/providers/Microsoft.Authorization/roleAssignments/"));
  EXPECT_EQ(roles[0].body["properties"]["principalId"], kSpId);
  EXPECT_EQ(roles[0].body["properties"]["roleDefinitionId"],
            "/subscriptions/" + testing::kCustomerSub +
                "/providers/Microsoft.Authorization/roleDefinitions/12338af0-0e69-4776-bea7-57ae8d297424");
  EXPECT_EQ(roles[1].path, kVault + "/privateEndpointConnections/pec-1");
  EXPECT_EQ(roles[1].body["properties"]["privateLinkServiceConnectionState"]["status"], "Approved");

  // The role assignment name is deterministic: a retry PUTs the same name.
  CrossTenantWorld again(true);
  again.appExists();
  again.goodCredential();
  again.customerSide(true, false, "Approved");
  again.azure.onJson("PUT", kVault + "/providers/Microsoft.Authorization/roleAssignments/*", Json::object(), 201);
  auto context2 = again.appContext();
  CrossTenantApplicationReconciler reconciler2(again.azure);
  auto observed2 = reconciler2.observe(context2);
  ASSERT_TRUE(observed2.has_value());
  ASSERT_TRUE(reconciler2.update(context2, *observed2).has_value());
  auto retried = again.azure.callsTo("PUT", "");
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_EQ(retried[0].path, roles[0].path);
}

TEST(CrossTenantApplication, AllDoneIsUpToDateAndNotAwaiting) {
  CrossTenantWorld world(true);
  world.appExists();
  world.goodCredential();
  world.customerSide(true, true, "Approved");
  CrossTenantApplicationReconciler reconciler(world.azure);
  auto observed = reconciler.observe(world.appContext());
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_TRUE(observed->upToDate);
  ASSERT_EQ(observed->conditions.size(), 1u);
  EXPECT_EQ(observed->conditions[0].status, "False");
  EXPECT_TRUE(world.azure.writes().empty());
}

TEST(CrossTenantApplication, WithoutACredentialListsExactlyWhatTheCustomerMustDo) {
  CrossTenantWorld world(false);
  world.appExists();
  world.goodCredential();
  world.azure.onJson("GET", kEndpoint,
                     {{"properties",
                       {{"manualPrivateLinkServiceConnections",
                         {{{"properties", {{"privateLinkServiceConnectionState", {{"status", "Pending"}}}}}}}}}}});
  CrossTenantApplicationReconciler reconciler(world.azure);
  auto context = world.appContext();
  auto observed = reconciler.observe(context);
  ASSERT_TRUE(observed.has_value()) << observed.error().message;
  EXPECT_TRUE(observed->upToDate);  // nothing for the operator to do; the account's chain check waits
  ASSERT_EQ(observed->conditions.size(), 1u);
  const auto& condition = observed->conditions[0];
  EXPECT_EQ(condition.type, "AwaitingCustomer");
  EXPECT_EQ(condition.status, "True");
  EXPECT_NE(condition.message.find("adminconsent?client_id=" + kAppId), std::string::npos);
  EXPECT_NE(condition.message.find("Key Vault Crypto User (12338af0-0e69-4776-bea7-57ae8d297424)"), std::string::npos);
  EXPECT_NE(condition.message.find("at scope " + kVault), std::string::npos);
  EXPECT_NE(condition.message.find("Approve the pending private endpoint connection from " + kEndpoint),
            std::string::npos);
  for (const auto& call : world.azure.calls()) EXPECT_NE(call.tenant, "customer");

  auto outcome = reconciler.update(context, *observed);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->requeueAfter, std::chrono::milliseconds(60000));
  EXPECT_TRUE(world.azure.writes().empty());

  // Once the customer approves, the next pass sees it.
  world.azure.onJson("GET", kEndpoint,
                     {{"properties",
                       {{"manualPrivateLinkServiceConnections",
                         {{{"properties", {{"privateLinkServiceConnectionState", {{"status", "Approved"}}}}}}}}}}});
  observed = reconciler.observe(context);
  ASSERT_TRUE(observed.has_value());
  EXPECT_TRUE(observed->upToDate);
  EXPECT_EQ(observed->conditions[0].message.find("Approve the pending"), std::string::npos);
}

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

TEST_P(CrossTenantChainTest, NamesTheMissingLink) {
  const auto& c = GetParam();
  CrossTenantWorld world(true);
  world.add(testing::document(Kind::NetAppAccount, "acct",
                              {{"identity", {{"type", "UserAssigned"}, {"userAssignedIdentityRef", "ids"}}},
                               {"encryption",
                                {{"keySource", "Microsoft.KeyVault"},
                                 {"keyVault", {{"resourceId", kVault}}},
                                 {"crossTenant", {{"applicationRef", "app"}}}}}}));
  world.statuses[{Kind::CrossTenantApplication, "app"}].facts = c.appFacts;
  world.azure.onJson("GET", kFeaturePath, {{"properties", {{"state", c.feature}}}});
  auto result = CrossTenantChain(world.azure).check(world.context({Kind::NetAppAccount, "acct"}));
  if (c.wantReason.empty()) {
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, kAppId);
  } else {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().reason, c.wantReason);
  }
  EXPECT_TRUE(world.azure.writes().empty());
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
                      ChainCase{"NoApplicationYet", "Registered", Json::object(), "CrossTenantApplicationNotReady"},
                      ChainCase{"WrongSubject", "Registered",
                                [] {
                                  Json f = goodAppFacts();
                                  f["federatedCredential"]["subject"] = "other";
                                  return f;
                                }(),
                                "FederatedCredentialSubjectMismatch"},
                      withStep("NoConsent", 0, "CrossTenantConsentMissing"),
                      withStep("NoRole", 1, "CrossTenantRoleMissing"),
                      withStep("NotApproved", 2, "PrivateEndpointConnectionNotApproved")),
    [](const ::testing::TestParamInfo<ChainCase>& info) { return info.param.name; });

// The account's cross-tenant extension: the feature before the chain, and the customer steps after Azure refused the key.
struct CrossTenantAccount : CrossTenantWorld {
  CrossTenantAccount() : CrossTenantWorld(false) {
    add(testing::document(Kind::NetAppAccount, "acct",
                          {{"identity", {{"type", "UserAssigned"}, {"userAssignedIdentityRef", "ids"}}},
                           {"encryption",
                            {{"keySource", "Microsoft.KeyVault"},
                             {"keyVault", {{"resourceId", kVault}}},
                             {"crossTenant", {{"applicationRef", "app"}}}}}}));
    statuses[{Kind::CrossTenantApplication, "app"}].facts = goodAppFacts();
  }
  AccountExtensionPtr extension() {
    return makeCrossTenantExtension(std::shared_ptr<FlowAzure>(&azure, [](FlowAzure*) {}));
  }
};

TEST(CrossTenantExtension, RegistersTheFeatureBeforeCheckingTheChain) {
  CrossTenantAccount world;
  world.azure.onJson("GET", kFeaturePath, {{"properties", {{"state", "NotRegistered"}}}});
  world.azure.onJson("POST", kFeaturePath + "/register", {{"properties", {{"state", "Registering"}}}});
  auto extension = world.extension();
  EXPECT_TRUE(extension->handlesCrossTenant());
  auto gate = extension->beforeCrossTenantEncryption(world.context({Kind::NetAppAccount, "acct"}));
  ASSERT_TRUE(gate.has_value()) << gate.error().message;
  ASSERT_TRUE(gate->has_value()) << "went on while the feature is not registered";
  EXPECT_GT((*gate)->requeueAfter.value_or(std::chrono::milliseconds(0)).count(), 0);
  EXPECT_EQ(world.azure.callsTo("POST", "/register").size(), 1u);

  world.azure.onJson("GET", kFeaturePath, {{"properties", {{"state", "Registered"}}}});
  world.statuses[{Kind::CrossTenantApplication, "app"}].facts["customerSteps"][2]["done"] = false;
  gate = extension->beforeCrossTenantEncryption(world.context({Kind::NetAppAccount, "acct"}));
  ASSERT_FALSE(gate.has_value());
  EXPECT_EQ(gate.error().reason, "PrivateEndpointConnectionNotApproved");

  world.statuses[{Kind::CrossTenantApplication, "app"}].facts = goodAppFacts();
  gate = extension->beforeCrossTenantEncryption(world.context({Kind::NetAppAccount, "acct"}));
  ASSERT_TRUE(gate.has_value()) << gate.error().message;
  EXPECT_FALSE(gate->has_value());
}

TEST(CrossTenantExtension, NamesTheInvisibleCustomerStepsWhenAzureRefusedTheKey) {
  CrossTenantAccount world;
  Json facts = goodAppFacts();
  facts["customerSteps"][0]["done"] = nullptr;  // not visible without the customer's credential
  facts["customerSteps"][1]["done"] = nullptr;
  world.statuses[{Kind::CrossTenantApplication, "app"}].facts = facts;
  world.azure.onJson("GET", kFeaturePath, {{"properties", {{"state", "Registered"}}}});
  const Json failed = {{"properties",
                        {{"provisioningState", "Failed"},
                         {"encryption", {{"keySource", "Microsoft.KeyVault"}, {"keyVaultProperties", {{"status", "Error"}}}}}}}};
  controller::Observation observation;
  ASSERT_TRUE(world.extension()->observe(world.context({Kind::NetAppAccount, "acct"}), failed, observation).has_value());
  const auto awaiting = std::ranges::find_if(observation.conditions, [](const auto& c) { return c.type == "AwaitingCustomer"; });
  ASSERT_NE(awaiting, observation.conditions.end());
  EXPECT_EQ(awaiting->status, "True");
  EXPECT_EQ(awaiting->reason, "CustomerStepMissing");
  EXPECT_NE(awaiting->message.find("1. consent 2. role"), std::string::npos) << awaiting->message;
  // Azure's error is the same without consent and without the role: the status does not claim to know which.
  EXPECT_NE(awaiting->message.find("Azure's error does not say which is missing"), std::string::npos) << awaiting->message;
  EXPECT_EQ(awaiting->message.find("one of them is missing"), std::string::npos) << awaiting->message;
  EXPECT_EQ(awaiting->message.find("approve"), std::string::npos) << awaiting->message;
  EXPECT_TRUE(world.azure.writes().empty());
}

}  // namespace
}  // namespace anf::reconcilers::flows