#include "reconcilers/flows/cross_tenant_application.h"

#include <algorithm>

#include "azure/resource_id.h"
#include "reconcilers/deterministic_names.h"

namespace anf::reconcilers::flows {

using controller::Condition;
using controller::DocumentKey;
using controller::FieldDiff;
using controller::Kind;
using controller::Observation;
using controller::Outcome;
using controller::ReconcileContext;

namespace {

constexpr std::string_view kMultipleOrgs = "AzureADMultipleOrgs";
constexpr std::string_view kStepConsent = "AdminConsent";
constexpr std::string_view kStepRole = "KeyVaultCryptoUser";
constexpr std::string_view kStepApprove = "ApprovePrivateEndpointConnection";

std::string filterEq(const std::string& field, const std::string& value) {
  std::string escaped;
  for (char c : value) escaped += c == '\'' ? std::string("''") : std::string(1, c);
  return "?$filter=" + field + " eq '" + escaped + "'";
}

ReconcileError retryable(std::string reason, std::string message, std::optional<std::string> condition = {}) {
  return ReconcileError{.reason = std::move(reason),
                        .message = std::move(message),
                        .retryAfter = std::chrono::seconds(30),
                        .conditionType = std::move(condition)};
}

ReconcileError terminal(std::string reason, std::string message) {
  return ReconcileError{.reason = std::move(reason), .message = std::move(message), .errorClass = controller::ErrorClass::NeedsDocumentChange};
}

const controller::ResourceStatus* statusOf(const ReconcileContext& context, Kind kind, const std::string& name) {
  return context.statusOf && !name.empty() ? context.statusOf(DocumentKey{kind, name}) : nullptr;
}

/// The status of each connection of an ARM private endpoint (automatic or manual).
std::string endpointConnectionState(const Json& endpoint) {
  std::string state;
  for (const char* list : {"privateLinkServiceConnections", "manualPrivateLinkServiceConnections"})
    for (const auto& connection : endpoint.value("/properties"_json_pointer, Json::object()).value(list, Json::array()))
      state = connection.value("/properties/privateLinkServiceConnectionState/status"_json_pointer, state);
  return state;
}

std::string roleAssignmentPath(const std::string& vault, const std::string& principalId) {
  return vault + "/providers/Microsoft.Authorization/roleAssignments/" +
         reconcilers::roleAssignmentName(vault, principalId, kKeyVaultCryptoUserRoleId);
}

}  // namespace

std::string adminConsentUrl(const CrossTenantOptions& options, const std::string& customerTenantId,
                            const std::string& applicationId) {
  std::string base = options.consentAuthority;
  if (!base.empty() && base.back() != '/') base += '/';
  return base + customerTenantId + "/adminconsent?client_id=" + applicationId;
}

Json desiredFederatedCredential(const CrossTenantOptions& options, const std::string& providerTenantId,
                                const std::string& identityPrincipalId) {
  std::string base = options.issuerAuthority;
  if (!base.empty() && base.back() != '/') base += '/';
  return {{"name", kFederatedCredentialName},
          {"issuer", base + providerTenantId + "/v2.0"},
          {"subject", identityPrincipalId},
          {"audiences", Json::array({kTokenExchangeAudience})},
          {"description", "anf-cmk-operator: cross-tenant customer-managed keys"}};
}

std::string customerInstructions(const std::vector<CustomerStep>& steps) {
  std::string out;
  int number = 0;
  for (const auto& step : steps) {
    if (step.done.value_or(false)) continue;
    out += (out.empty() ? "" : " ") + std::to_string(++number) + ". " + step.detail;
  }
  return out;
}

Condition awaitingCustomerCondition(const std::vector<CustomerStep>& steps) {
  const bool outstanding = std::ranges::any_of(steps, [](const CustomerStep& s) { return !s.done.value_or(false); });
  if (!outstanding)
    return Condition{.type = "AwaitingCustomer",
                     .status = "False",
                     .reason = "CustomerStepsDone",
                     .message = "The customer's steps are done: consent, Key Vault Crypto User, endpoint approved."};
  return Condition{.type = "AwaitingCustomer",
                   .status = "True",
                   .reason = "AwaitingCustomer",
                   .message = "The customer must: " + customerInstructions(steps)};
}

std::vector<std::string> providerEndpointsTo(const ReconcileContext& context, const std::string& keyVaultResourceId) {
  std::vector<std::string> out;
  for (const auto& [key, document] : context.desired.documents) {
    if (key.kind != Kind::PrivateEndpoint) continue;
    if (!sameId(document.spec.value("keyVaultResourceId", ""), keyVaultResourceId)) continue;
    const auto* status = statusOf(context, Kind::PrivateEndpoint, key.name);
    std::string id = status ? status->facts.value("resourceId", "") : "";
    if (id.empty() && document.azure)
      id = "/subscriptions/" + document.azure->subscriptionId + "/resourceGroups/" + document.azure->resourceGroup +
           "/providers/Microsoft.Network/privateEndpoints/" + document.azure->name;
    out.push_back(id);
  }
  return out;
}

Result<std::vector<CustomerStep>> CrossTenantApplicationReconciler::observeCustomer(const ReconcileContext& context,
                                                                                   const std::string& applicationId,
                                                                                   Json& facts) {
  const Json customer = context.document.spec.value("customer", Json::object());
  const std::string tenantId = customer.value("tenantId", "");
  const std::string vault = customer.value("keyVaultResourceId", "");
  const std::string credential = customer.value("credential", "");
  const std::string displayName = context.document.spec.value("displayName", context.document.key.name);
  const auto endpoints = providerEndpointsTo(context, vault);

  CustomerStep consent{.step = std::string(kStepConsent),
                       .detail = "Grant admin consent for application " + applicationId + " (" + displayName +
                                 ") in tenant " + tenantId + ": open " +
                                 adminConsentUrl(options_, tenantId, applicationId) +
                                 " as an administrator (an error about a missing redirect URL afterwards is expected)."};
  CustomerStep role{.step = std::string(kStepRole),
                    .detail = "Assign the role Key Vault Crypto User (" + std::string(kKeyVaultCryptoUserRoleId) +
                              ") to the service principal of application " + applicationId + " (" + displayName +
                              ") at scope " + vault + "."};
  CustomerStep approve{.step = std::string(kStepApprove)};
  std::string endpointList;
  for (const auto& id : endpoints) endpointList += (endpointList.empty() ? "" : ", ") + id;
  approve.detail = endpoints.empty()
                       ? "Approve the private endpoint connection from the provider's endpoint on key vault " + vault +
                             " (no PrivateEndpoint document to that vault yet)."
                       : "Approve the pending private endpoint connection from " + endpointList + " on key vault " +
                             vault + " (Networking > Private endpoint connections > Approve).";

  Json customerFacts = Json::object();
  if (!credential.empty()) {
    auto principals = azure_.graph(credential, "GET", "/v1.0/servicePrincipals" + filterEq("appId", applicationId),
                                   Json());
    if (!principals) return std::unexpected(principals.error());
    const Json found = principals->body.value("value", Json::array());
    consent.done = !found.empty();
    role.done = false;
    if (!found.empty()) {
      const std::string principalId = found[0].value("id", "");
      customerFacts["servicePrincipalId"] = principalId;
      auto assignments =
          azure_.arm(credential, "GET",
                     armPath(vault + "/providers/Microsoft.Authorization/roleAssignments", "Microsoft.Authorization") +
                         "&$filter=atScope()",
                     Json());
      if (!assignments) return std::unexpected(assignments.error());
      for (const auto& assignment : assignments->body.value("value", Json::array())) {
        const Json properties = assignment.value("properties", Json::object());
        if (sameId(properties.value("principalId", ""), principalId) &&
            sameId(lastSegment(properties.value("roleDefinitionId", "")), kKeyVaultCryptoUserRoleId))
          role.done = true;
      }
    }
    auto connections = azure_.arm(credential, "GET", armPath(vault + "/privateEndpointConnections", "Microsoft.KeyVault"),
                                  Json());
    if (!connections) return std::unexpected(connections.error());
    Json seen = Json::array();
    for (const auto& connection : connections->body.value("value", Json::array())) {
      const std::string endpoint = connection.value("/properties/privateEndpoint/id"_json_pointer, std::string());
      if (std::ranges::none_of(endpoints, [&](const std::string& id) { return sameId(id, endpoint); })) continue;
      seen.push_back({{"name", connection.value("name", lastSegment(connection.value("id", "")))},
                      {"privateEndpointId", endpoint},
                      {"status", connection.value("/properties/privateLinkServiceConnectionState/status"_json_pointer,
                                                  std::string("Pending"))}});
    }
    customerFacts["connections"] = seen;
    approve.done = !endpoints.empty() && seen.size() >= endpoints.size() &&
                   std::ranges::all_of(seen, [](const Json& c) { return c.value("status", "") == "Approved"; });
  } else {
    // Without the customer's credential only the provider side is visible: its endpoints' states.
    bool allApproved = !endpoints.empty();
    for (const auto& id : endpoints) {
      std::string tenant = context.document.spec.value("tenant", "");
      auto endpoint = azure_.arm(tenant, "GET", armPath(id, "Microsoft.Network"), Json());
      if (!endpoint) return std::unexpected(endpoint.error());
      const std::string state = endpoint->found() ? endpointConnectionState(endpoint->body) : "NotFound";
      allApproved = allApproved && state == "Approved";
    }
    approve.done = allApproved;
    consent.done = std::nullopt;
    role.done = std::nullopt;
    // Consent and role are invisible from the provider tenant, but an account that Azure lets use the key
    // through this application proves both.
    for (const auto& [key, account] : context.desired.documents) {
      if (key.kind != Kind::NetAppAccount ||
          account.spec.value("/encryption/crossTenant/applicationRef"_json_pointer, std::string()) != context.document.key.name)
        continue;
      const auto* status = statusOf(context, Kind::NetAppAccount, key.name);
      if (status && status->facts.value("/encryption/keyVaultProperties/status"_json_pointer, std::string()) == "InUse" &&
          status->facts.value("/encryption/identity/federatedClientId"_json_pointer, std::string()) == applicationId)
        consent.done = role.done = true;
    }
  }
  facts["customer"] = customerFacts;
  return std::vector<CustomerStep>{consent, role, approve};
}

Result<Observation> CrossTenantApplicationReconciler::observe(const ReconcileContext& context) {
  Observation observed;
  const Json& spec = context.document.spec;
  const std::string tenant = spec.value("tenant", "");
  const std::string displayName = spec.value("displayName", context.document.key.name);
  const auto* identity = statusOf(context, Kind::UserAssignedIdentity, spec.value("identityRef", ""));
  const std::string principalId = identity ? identity->facts.value("principalId", "") : "";
  const std::string providerTenantId = identity ? identity->facts.value("tenantId", "") : "";
  if (principalId.empty() || providerTenantId.empty())
    return std::unexpected(retryable("IdentityNotReady",
                                     "spec.identityRef: the user-assigned identity has no principalId/tenantId yet",
                                     std::string("DependenciesReady")));

  Json app;
  const std::string knownAppId = context.self.facts.value("applicationId", "");
  if (!knownAppId.empty()) {
    auto reply = azure_.graph(tenant, "GET", "/v1.0/applications" + filterEq("appId", knownAppId), Json());
    if (!reply) return std::unexpected(reply.error());
    const Json found = reply->body.value("value", Json::array());
    if (!found.empty()) app = found[0];
  }
  if (app.is_null()) {
    auto reply = azure_.graph(tenant, "GET", "/v1.0/applications" + filterEq("displayName", displayName), Json());
    if (!reply) return std::unexpected(reply.error());
    const Json found = reply->body.value("value", Json::array());
    if (!found.empty()) app = found[0];
  }
  if (app.is_null()) return observed;  // exists = false: create() registers it

  observed.exists = true;
  const std::string objectId = app.value("id", "");
  const std::string applicationId = app.value("appId", "");
  const std::string customerTenantId = spec.value("/customer/tenantId"_json_pointer, std::string());
  observed.facts = {{"applicationId", applicationId},
                    {"objectId", objectId},
                    {"adminConsentUrl", adminConsentUrl(options_, customerTenantId, applicationId)}};
  if (app.value("signInAudience", "") != kMultipleOrgs)
    observed.diff.push_back(FieldDiff{.path = "signInAudience", .desired = kMultipleOrgs,
                                      .observed = app.value("signInAudience", "")});

  const Json want = desiredFederatedCredential(options_, providerTenantId, principalId);
  auto credentials = azure_.graph(tenant, "GET", "/v1.0/applications/" + objectId + "/federatedIdentityCredentials",
                                  Json());
  if (!credentials) return std::unexpected(credentials.error());
  Json have;
  for (const auto& credential : credentials->body.value("value", Json::array()))
    if (credential.value("name", "") == kFederatedCredentialName) have = credential;
  const std::string path = "federatedIdentityCredentials[" + std::string(kFederatedCredentialName) + "]";
  if (have.is_null()) {
    observed.diff.push_back(FieldDiff{.path = path, .desired = want, .observed = nullptr});
  } else {
    observed.facts["federatedCredential"] = {{"id", have.value("id", "")},
                                             {"name", kFederatedCredentialName},
                                             {"issuer", have.value("issuer", "")},
                                             {"subject", have.value("subject", "")}};
    for (const char* field : {"issuer", "subject", "audiences"})
      if (have.value(field, Json()) != want[field])
        observed.diff.push_back(FieldDiff{.path = path + "." + field, .desired = want[field],
                                          .observed = have.value(field, Json())});
  }

  auto steps = observeCustomer(context, applicationId, observed.facts);
  if (!steps) return std::unexpected(steps.error());
  Json stepFacts = Json::array();
  for (const auto& step : *steps)
    stepFacts.push_back({{"step", step.step}, {"done", step.done ? Json(*step.done) : Json()}, {"detail", step.detail}});
  observed.facts["customerSteps"] = stepFacts;
  observed.conditions.push_back(awaitingCustomerCondition(*steps));
  const bool customerDone = std::ranges::none_of(*steps, [](const CustomerStep& s) { return s.done == false; });
  if (!customerDone) observed.planNotes.push_back("customer steps outstanding: " + customerInstructions(*steps));
  // Without the customer's credential the operator has nothing to do for the outstanding steps: the
  // application is Ready (AwaitingCustomer=True says what the customer must do) and the account's
  // CrossTenantChain::check names the missing link in the account's status.
  const bool operatorActsForCustomer = !spec.value("/customer/credential"_json_pointer, std::string()).empty();
  observed.upToDate = observed.diff.empty() && (customerDone || !operatorActsForCustomer);
  return observed;
}

Result<Outcome> CrossTenantApplicationReconciler::create(const ReconcileContext& context, const Observation& observed) {
  if (observed.exists) return update(context, observed);
  const Json& spec = context.document.spec;
  const std::string tenant = spec.value("tenant", "");
  const std::string displayName = spec.value("displayName", context.document.key.name);
  auto app = azure_.graph(tenant, "POST", "/v1.0/applications",
                          {{"displayName", displayName}, {"signInAudience", kMultipleOrgs}});
  if (!app) return std::unexpected(app.error());
  const std::string objectId = app->body.value("id", "");
  const std::string applicationId = app->body.value("appId", "");
  // The federated credential follows on the next pass (update), from a fresh observation.
  return Outcome{.requeueAfter = std::chrono::milliseconds(0),
                 .facts = {{"objectId", objectId}, {"applicationId", applicationId}},
                 .description = "registered multitenant application " + displayName + " (" + applicationId + ")"};
}

Result<std::string> CrossTenantApplicationReconciler::performCustomerSteps(const ReconcileContext& context,
                                                                          const Json& facts) {
  const Json customer = context.document.spec.value("customer", Json::object());
  const std::string credential = customer.value("credential", "");
  const std::string vault = customer.value("keyVaultResourceId", "");
  const std::string applicationId = facts.value("applicationId", "");
  std::string principalId = facts.value("/customer/servicePrincipalId"_json_pointer, std::string());
  std::string done;
  if (principalId.empty()) {
    auto created = azure_.graph(credential, "POST", "/v1.0/servicePrincipals", {{"appId", applicationId}});
    if (!created) return std::unexpected(created.error());
    principalId = created->body.value("id", "");
    done += "created the service principal of " + applicationId + " in the customer tenant; ";
  }
  const auto steps = facts.value("customerSteps", Json::array());
  auto stepDone = [&](std::string_view name) {
    for (const auto& step : steps)
      if (step.value("step", "") == name) return step.value("done", Json()) == Json(true);
    return false;
  };
  if (!stepDone(kStepRole)) {
    const auto vaultId = azure::ResourceId::parse(vault);
    const std::string subscription = vaultId ? vaultId->subscriptionId() : "";
    Json body = {{"properties",
                  {{"roleDefinitionId", "/subscriptions/" + subscription +
                                            "/providers/Microsoft.Authorization/roleDefinitions/" +
                                            std::string(kKeyVaultCryptoUserRoleId)},
                   {"principalId", principalId},
                   {"principalType", "ServicePrincipal"}}}};
    auto assigned = azure_.arm(credential, "PUT",
                               armPath(roleAssignmentPath(vault, principalId), "Microsoft.Authorization"), body);
    if (!assigned) return std::unexpected(assigned.error());
    done += "assigned Key Vault Crypto User on " + vault + "; ";
  }
  for (const auto& connection : facts.value("/customer/connections"_json_pointer, Json::array())) {
    const std::string status = connection.value("status", "");
    if (status == "Approved") continue;
    if (status != "Pending")
      return std::unexpected(terminal(
          "PrivateEndpointConnectionNotApproved",
          "the private endpoint connection " + connection.value("name", "") + " from " +
              connection.value("privateEndpointId", "") + " on key vault " + vault + " is " + status +
              "; a " + status + " connection cannot be approved: recreate the provider's private endpoint"));
    Json body = {{"properties",
                  {{"privateLinkServiceConnectionState",
                    {{"status", "Approved"},
                     {"description", "Approved by anf-cmk-operator for application " + applicationId}}}}}};
    auto approved = azure_.arm(
        credential, "PUT",
        armPath(vault + "/privateEndpointConnections/" + connection.value("name", ""), "Microsoft.KeyVault"), body);
    if (!approved) return std::unexpected(approved.error());
    done += "approved private endpoint connection " + connection.value("name", "") + "; ";
  }
  return done;
}

Result<Outcome> CrossTenantApplicationReconciler::update(const ReconcileContext& context, const Observation& observed) {
  const Json& spec = context.document.spec;
  const std::string tenant = spec.value("tenant", "");
  const std::string objectId = observed.facts.value("objectId", "");
  std::string description;
  for (const auto& diff : observed.diff) {
    if (diff.path == "signInAudience") {
      auto patched = azure_.graph(tenant, "PATCH", "/v1.0/applications/" + objectId,
                                  {{"signInAudience", kMultipleOrgs}});
      if (!patched) return std::unexpected(patched.error());
      description += "set signInAudience " + std::string(kMultipleOrgs) + "; ";
    }
  }
  const bool credentialDiffers = std::ranges::any_of(observed.diff, [](const FieldDiff& d) {
    return d.path.starts_with("federatedIdentityCredentials");
  });
  if (credentialDiffers) {
    const auto* identity = statusOf(context, Kind::UserAssignedIdentity, spec.value("identityRef", ""));
    Json want = desiredFederatedCredential(options_, identity ? identity->facts.value("tenantId", "") : "",
                                           identity ? identity->facts.value("principalId", "") : "");
    const std::string ficId = observed.facts.value("/federatedCredential/id"_json_pointer, std::string());
    const std::string base = "/v1.0/applications/" + objectId + "/federatedIdentityCredentials";
    auto written = ficId.empty() ? azure_.graph(tenant, "POST", base, want)
                                 : azure_.graph(tenant, "PATCH", base + "/" + ficId,
                                                {{"issuer", want["issuer"]},
                                                 {"subject", want["subject"]},
                                                 {"audiences", want["audiences"]}});
    if (!written) return std::unexpected(written.error());
    description += "federated identity credential subject " + want["subject"].get<std::string>() + "; ";
    return Outcome{.requeueAfter = std::chrono::milliseconds(0), .description = description};
  }
  const bool customerOutstanding = std::ranges::any_of(
      observed.facts.value("customerSteps", Json::array()), [](const Json& s) { return s.value("done", Json()) == false; });
  if (!customerOutstanding)
    return Outcome{.description = description.empty() ? "up to date" : description};
  if (spec.value("/customer/credential"_json_pointer, std::string()).empty())
    return Outcome{.requeueAfter = std::chrono::seconds(60),
                   .description = description + "awaiting the customer (steps in condition AwaitingCustomer)"};
  auto performed = performCustomerSteps(context, observed.facts);
  if (!performed) return std::unexpected(performed.error());
  return Outcome{.requeueAfter = std::chrono::milliseconds(0), .description = description + *performed};
}

Result<Outcome> CrossTenantApplicationReconciler::remove(const ReconcileContext& context, const Observation& observed) {
  if (!observed.exists || context.document.deletionPolicy != controller::DeletionPolicy::Delete)
    return Outcome{.description = "application retained"};
  const std::string objectId = observed.facts.value("objectId", "");
  auto deleted = azure_.graph(context.document.spec.value("tenant", ""), "DELETE", "/v1.0/applications/" + objectId,
                              Json());
  if (!deleted) return std::unexpected(deleted.error());
  return Outcome{.description = "deleted application " + objectId};
}

Result<std::string> CrossTenantChain::check(const ReconcileContext& context) {
  const Json& spec = context.document.spec;
  const Json crossTenant = spec.value("/encryption/crossTenant"_json_pointer, Json::object());
  const auto& azure = context.document.azure.value_or(controller::AzureCoordinates{});
  FeatureRef feature{.tenant = azure.tenant, .subscriptionId = azure.subscriptionId,
                     .name = std::string(kFeatureCrossTenantCmk)};
  auto state = FeatureGate(azure_).observe(feature);
  if (!state) return std::unexpected(state.error());
  if (nextFeatureStep(*state) != FeatureStep::Done)
    return std::unexpected(retryable("FeatureNotRegistered",
                                     "cross-tenant customer-managed keys need feature " + feature.key() +
                                         " Registered in subscription " + feature.subscriptionId + "; it is " + *state,
                                     std::string("FeatureRegistered")));
  if (crossTenant.contains("federatedClientId")) return crossTenant["federatedClientId"].get<std::string>();

  const std::string appRef = crossTenant.value("applicationRef", "");
  const auto* app = statusOf(context, Kind::CrossTenantApplication, appRef);
  const std::string applicationId = app ? app->facts.value("applicationId", "") : "";
  if (applicationId.empty())
    return std::unexpected(retryable("CrossTenantApplicationNotReady",
                                     "spec.encryption.crossTenant.applicationRef: CrossTenantApplication/" + appRef +
                                         " has no applicationId yet",
                                     std::string("DependenciesReady")));

  const std::string identityRef = spec.value("/identity/userAssignedIdentityRef"_json_pointer, std::string());
  const auto* identity = statusOf(context, Kind::UserAssignedIdentity, identityRef);
  const std::string principalId = identity ? identity->facts.value("principalId", "") : "";
  const std::string subject = app->facts.value("/federatedCredential/subject"_json_pointer, std::string());
  if (subject != principalId) {
    auto it = context.desired.documents.find(DocumentKey{Kind::CrossTenantApplication, appRef});
    const bool sameIdentity = it != context.desired.documents.end() &&
                              it->second.spec.value("identityRef", "") == identityRef;
    std::string message = "the federated identity credential of application " + applicationId + " has subject '" +
                          subject + "', but the account's user-assigned identity " + identityRef +
                          " has principalId '" + principalId + "'";
    if (sameIdentity) return std::unexpected(retryable("FederatedCredentialSubjectMismatch", message));
    return std::unexpected(terminal("FederatedCredentialSubjectMismatch",
                                    message + "; spec.identity.userAssignedIdentityRef and the application's "
                                              "spec.identityRef must name the same identity"));
  }
  auto appDocument = context.desired.documents.find(DocumentKey{Kind::CrossTenantApplication, appRef});
  if (appDocument != context.desired.documents.end()) {
    const std::string appVault = appDocument->second.spec.value("/customer/keyVaultResourceId"_json_pointer, std::string());
    const std::string vault = spec.value("/encryption/keyVault/resourceId"_json_pointer, std::string());
    if (!vault.empty() && !appVault.empty() && !sameId(vault, appVault))
      return std::unexpected(terminal("CrossTenantVaultMismatch",
                                      "spec.encryption.keyVault.resourceId " + vault + " is not the vault " + appVault +
                                          " that CrossTenantApplication/" + appRef + " is granted on"));
  }
  for (const auto& step : app->facts.value("customerSteps", Json::array())) {
    if (step.value("done", Json()) != false) continue;
    const std::string name = step.value("step", "");
    const std::string reason = name == kStepConsent ? "CrossTenantConsentMissing"
                               : name == kStepRole  ? "CrossTenantRoleMissing"
                                                    : "PrivateEndpointConnectionNotApproved";
    return std::unexpected(retryable(reason, "cross-tenant chain: " + step.value("detail", ""),
                                     std::string("DependenciesReady")));
  }
  return applicationId;
}

}  // namespace anf::reconcilers::flows
