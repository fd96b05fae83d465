// CrossTenantApplication: see cross_tenant_application.h for the flow.
#include "reconcilers/cross_tenant_application.h"

#include <algorithm>

#include "azure/client.h"
#include "reconcilers/arm_bodies.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/documents.h"
#include "reconcilers/key_access.h"
#include "reconcilers/key_vault_checks.h"

namespace anf::reconcilers {

using controller::Condition;
using controller::DocumentKey;
using controller::FieldDiff;
using controller::Kind;
using controller::Observation;
using controller::Outcome;
using controller::ReconcileContext;

namespace {

constexpr std::string_view kMultipleOrgs = "AzureADMultipleOrgs";

/// An OData string literal's content: quotes doubled.
std::string odataQuoted(const std::string& value) {
  std::string escaped;
  for (char c : value) escaped += c == '\'' ? std::string("''") : std::string(1, c);
  return "'" + escaped + "'";
}

/// The status of each connection of an ARM private endpoint (automatic or manual).
std::string endpointConnectionState(const Json& endpoint) {
  std::string state;
  for (const char* list : {"privateLinkServiceConnections", "manualPrivateLinkServiceConnections"})
    for (const auto& connection : endpoint.value("/properties"_json_pointer, Json::object()).value(list, Json::array()))
      state = connection.value("/properties/privateLinkServiceConnectionState/status"_json_pointer, state);
  return state;
}

/// The last segment of an ARM id (a role definition's GUID).
std::string lastSegment(const std::string& id) { return id.substr(id.find_last_of('/') + 1); }

/// What the document says about the customer side.
struct Customer {
  std::string tenantId;
  std::string vault;       // ARM id of the customer's key vault
  std::string credential;  // "" when the operator cannot act in the customer tenant
  std::string displayName;
};

Customer customerOf(const controller::Document& document) {
  const Json customer = document.spec.value("customer", Json::object());
  return Customer{.tenantId = customer.value("tenantId", ""), .vault = customer.value("keyVaultResourceId", ""),
                  .credential = customer.value("credential", ""),
                  .displayName = document.spec.value("displayName", document.key.name)};
}

/// The three steps with the text that tells the customer what to do; none done yet.
std::vector<CustomerStep> customerSteps(const CrossTenantOptions& options, const Customer& customer,
                                        const std::vector<std::string>& endpoints, const std::string& applicationId) {
  const std::string app = "application " + applicationId + " (" + customer.displayName + ")";
  CustomerStep consent{.step = std::string(kStepConsent),
                       .detail = "Grant admin consent for " + app + " in tenant " + customer.tenantId + ": open " +
                                 adminConsentUrl(options, customer.tenantId, applicationId) +
                                 " as an administrator (an error about a missing redirect URL afterwards is expected)."};
  CustomerStep role{.step = std::string(kStepRole),
                    .detail = "Assign the role Key Vault Crypto User (" + std::string(kKeyVaultCryptoUserRoleGuid) +
                              ") to the service principal of " + app + " at scope " + customer.vault + "."};
  std::string endpointList;
  for (const auto& id : endpoints) endpointList += (endpointList.empty() ? "" : ", ") + id;
  CustomerStep approve{
      .step = std::string(kStepApprove),
      .detail = endpoints.empty()
                    ? "Approve the private endpoint connection from the provider's endpoint on key vault " +
                          customer.vault + " (no PrivateEndpoint document to that vault yet)."
                    : "Approve the pending private endpoint connection from " + endpointList + " on key vault " +
                          customer.vault + " (Networking > Private endpoint connections > Approve)."};
  return {consent, role, approve};
}

/// On a vault with access policies (enableRbacAuthorization false) Azure ignores the role: the step is a policy.
void useAccessPolicyStep(CustomerStep& step, const Customer& customer, const std::string& applicationId,
                         const std::string& principalId) {
  step.step = std::string(kStepAccessPolicy);
  step.detail = "Add an access policy on key vault " + customer.vault + " with key permissions get, encrypt, decrypt for "
                "the service principal of application " + applicationId + " (" + customer.displayName + ")" +
                (principalId.empty() ? "" : ", object id " + principalId) +
                ": the vault uses access policies (enableRbacAuthorization false), so Azure ignores the Key Vault "
                "Crypto User role there.";
}

Json stepFacts(const std::vector<CustomerStep>& steps) {
  Json out = Json::array();
  for (const auto& step : steps)
    out.push_back({{"step", step.step}, {"done", step.done ? Json(*step.done) : Json()}, {"detail", step.detail}});
  return out;
}

bool anyOutstanding(const Json& facts) {
  return std::ranges::any_of(facts.value("customerSteps", Json::array()),
                             [](const Json& s) { return s.value("done", Json()) == false; });
}

class CrossTenantApplicationReconciler final : public controller::Reconciler {
 public:
  CrossTenantApplicationReconciler(azure::AzureClient& client, CrossTenantOptions options)
      : client_(client), access_(client), options_(std::move(options)) {}

  Kind kind() const override { return Kind::CrossTenantApplication; }

  Result<Observation> observe(const ReconcileContext& context) override {
    const Json& spec = context.document.spec;
    const auto identity = referencedIdentity(context);
    if (!identity) return std::unexpected(identity.error());
    auto app = findApplication(context);
    if (!app) return std::unexpected(app.error());
    Observation observed;
    if (!*app) return observed;  // exists = false: create() registers it

    observed.exists = true;
    const std::string applicationId = (*app)->value("appId", "");
    observed.facts = {{"applicationId", applicationId},
                      {"objectId", (*app)->value("id", "")},
                      {"adminConsentUrl", adminConsentUrl(options_, customerOf(context.document).tenantId, applicationId)}};
    if ((*app)->value("signInAudience", "") != kMultipleOrgs)
      observed.diff.push_back(FieldDiff{.path = "signInAudience", .desired = kMultipleOrgs,
                                        .observed = (*app)->value("signInAudience", "")});
    if (auto error = observeFederatedCredential(context, *identity, observed)) return std::unexpected(*error);

    auto steps = observeCustomer(context, applicationId, observed.facts);
    if (!steps) return std::unexpected(steps.error());
    observed.facts["customerSteps"] = stepFacts(*steps);
    observed.conditions.push_back(awaitingCustomerCondition(*steps));
    const bool customerDone = !anyOutstanding(observed.facts);
    if (!customerDone) observed.planNotes.push_back("customer steps outstanding: " + customerInstructions(*steps));
    // Without the customer's credential the operator has nothing to do for the outstanding steps: the
    // application is Ready (AwaitingCustomer=True says what the customer must do) and the account's
    // chain check names the missing link in the account's status.
    const bool operatorActsForCustomer = !spec.value("/customer/credential"_json_pointer, std::string()).empty();
    observed.upToDate = observed.diff.empty() && (customerDone || !operatorActsForCustomer);
    return observed;
  }

  Result<Outcome> create(const ReconcileContext& context, const Observation& observed) override {
    if (observed.exists) return update(context, observed);
    const std::string displayName = customerOf(context.document).displayName;
    auto app = await(client_.createApplication(tenantOf(context), displayName, std::string(kMultipleOrgs)));
    if (!app) return std::unexpected(app.error());
    const std::string applicationId = app->value("appId", "");
    // The federated credential follows on the next pass (update), from a fresh observation.
    return Outcome{.facts = {{"objectId", app->value("id", "")}, {"applicationId", applicationId}},
                   .description = "registered multitenant application " + displayName + " (" + applicationId + ")"};
  }

  Result<Outcome> update(const ReconcileContext& context, const Observation& observed) override {
    const std::string objectId = observed.facts.value("objectId", "");
    std::string description;
    if (std::ranges::any_of(observed.diff, [](const FieldDiff& d) { return d.path == "signInAudience"; })) {
      auto patched = await(client_.updateApplication(tenantOf(context), objectId, {{"signInAudience", kMultipleOrgs}}));
      if (!patched) return std::unexpected(patched.error());
      description += "set signInAudience " + std::string(kMultipleOrgs) + "; ";
    }
    if (std::ranges::any_of(observed.diff, [](const FieldDiff& d) { return d.path.starts_with("federatedIdentityCredentials"); })) {
      auto written = writeFederatedCredential(context, observed.facts);
      if (!written) return std::unexpected(written.error());
      return Outcome{.description = description + *written};
    }
    if (!anyOutstanding(observed.facts)) return Outcome{.description = description.empty() ? "up to date" : description};
    if (customerOf(context.document).credential.empty())
      return Outcome{.requeueAfter = kCustomerRecheck,
                     .description = description + "awaiting the customer (steps in condition AwaitingCustomer)"};
    auto performed = performCustomerSteps(context, observed.facts);
    if (!performed) return std::unexpected(performed.error());
    if (performed->empty())  // nothing the operator can do yet (no connection to approve): look again later
      return Outcome{.requeueAfter = kCustomerRecheck,
                     .description = description + "waiting for Azure: " + customerInstructions(stepsOf(observed.facts))};
    return Outcome{.requeueAfter = std::chrono::seconds(1), .description = description + *performed};
  }

  Result<Outcome> remove(const ReconcileContext& context, const Observation& observed) override {
    if (!observed.exists || context.document.deletionPolicy != controller::DeletionPolicy::Delete)
      return Outcome{.description = "application retained"};
    const std::string objectId = observed.facts.value("objectId", "");
    auto deleted = client_.deleteApplication(tenantOf(context), objectId).get();
    if (!deleted && !deleted.error().isNotFound()) return std::unexpected(fromAzure(deleted.error()));
    return Outcome{.description = "deleted application " + objectId};
  }

 private:
  struct Identity {
    std::string principalId;
    std::string tenantId;
  };

  static std::string tenantOf(const ReconcileContext& context) { return context.document.spec.value("tenant", ""); }

  static Result<Identity> referencedIdentity(const ReconcileContext& context) {
    const std::string ref = context.document.spec.value("identityRef", "");
    auto principal = referencedFact(context, Kind::UserAssignedIdentity, ref, "principalId");
    auto tenant = referencedFact(context, Kind::UserAssignedIdentity, ref, "tenantId");
    if (!principal || !tenant || principal->empty() || tenant->empty())
      return std::unexpected(dependencyNotReady("spec.identityRef: the principalId and tenantId of UserAssignedIdentity/" + ref));
    return Identity{*principal, *tenant};
  }

  static std::vector<CustomerStep> stepsOf(const Json& facts) {
    std::vector<CustomerStep> steps;
    for (const auto& s : facts.value("customerSteps", Json::array())) {
      const Json done = s.value("done", Json());
      steps.push_back({.step = s.value("step", ""),
                       .done = done.is_boolean() ? std::optional<bool>(done.get<bool>()) : std::nullopt,
                       .detail = s.value("detail", "")});
    }
    return steps;
  }

  /// By the appId this document registered, else by display name (a restart before the status was written).
  Result<std::optional<Json>> findApplication(const ReconcileContext& context) {
    const std::string knownAppId = context.self.facts.value("applicationId", "");
    if (!knownAppId.empty()) {
      auto found = await(client_.findApplicationByAppId(tenantOf(context), knownAppId));
      if (!found || *found) return found;
    }
    auto named = await(client_.listApplications(tenantOf(context),
                                                "displayName eq " + odataQuoted(customerOf(context.document).displayName)));
    if (!named) return std::unexpected(named.error());
    if (named->empty()) return std::optional<Json>{};
    return std::optional<Json>{named->front()};
  }

  std::optional<ReconcileError> observeFederatedCredential(const ReconcileContext& context, const Identity& identity,
                                                           Observation& observed) {
    const Json want = desiredFederatedCredential(options_, identity.tenantId, identity.principalId);
    auto credentials = await(client_.listFederatedIdentityCredentials(tenantOf(context), observed.facts.value("objectId", "")));
    if (!credentials) return credentials.error();
    const auto have = std::ranges::find_if(*credentials, [](const Json& c) { return c.value("name", "") == kFederatedCredentialName; });
    const std::string path = "federatedIdentityCredentials[" + std::string(kFederatedCredentialName) + "]";
    if (have == credentials->end()) {
      observed.diff.push_back(FieldDiff{.path = path, .desired = want, .observed = nullptr});
      return std::nullopt;
    }
    observed.facts["federatedCredential"] = {{"id", have->value("id", "")}, {"name", kFederatedCredentialName},
                                             {"issuer", have->value("issuer", "")}, {"subject", have->value("subject", "")}};
    for (const char* field : {"issuer", "subject", "audiences"})
      if (have->value(field, Json()) != want[field])
        observed.diff.push_back(FieldDiff{.path = path + "." + field, .desired = want[field], .observed = have->value(field, Json())});
    return std::nullopt;
  }

  /// POSTs the credential when missing, PATCHes issuer, subject and audiences back when they drifted.
  Result<std::string> writeFederatedCredential(const ReconcileContext& context, const Json& facts) {
    const auto identity = referencedIdentity(context);
    if (!identity) return std::unexpected(identity.error());
    const Json want = desiredFederatedCredential(options_, identity->tenantId, identity->principalId);
    const std::string objectId = facts.value("objectId", "");
    const std::string ficId = facts.value("/federatedCredential/id"_json_pointer, std::string());
    if (ficId.empty()) {
      auto created = await(client_.createFederatedIdentityCredential(tenantOf(context), objectId, want));
      if (!created) return std::unexpected(created.error());
      return "added federated identity credential with subject " + identity->principalId;
    }
    auto patched = await(client_.updateFederatedIdentityCredential(
        tenantOf(context), objectId, ficId,
        {{"issuer", want["issuer"]}, {"subject", want["subject"]}, {"audiences", want["audiences"]}}));
    if (!patched) return std::unexpected(patched.error());
    return "repaired federated identity credential: subject " + identity->principalId;
  }

  Result<std::vector<CustomerStep>> observeCustomer(const ReconcileContext& context, const std::string& applicationId,
                                                    Json& facts) {
    const Customer customer = customerOf(context.document);
    const auto endpoints = providerEndpointsTo(context, customer.vault);
    auto steps = customerSteps(options_, customer, endpoints, applicationId);
    Json customerFacts = Json::object();
    auto error = customer.credential.empty()
                     ? observeFromProvider(context, endpoints, applicationId, steps)
                     : observeWithCustomerCredential(customer, endpoints, applicationId, steps, customerFacts);
    if (error) return std::unexpected(*error);
    facts["customer"] = customerFacts;
    return steps;
  }

  /// The customer tenant as the customer credential sees it: service principal, key access by the vault's
  /// permission model, and the connections from the provider's endpoints.
  std::optional<ReconcileError> observeWithCustomerCredential(const Customer& customer,
                                                              const std::vector<std::string>& endpoints,
                                                              const std::string& applicationId,
                                                              std::vector<CustomerStep>& steps, Json& facts) {
    CustomerStep& consent = steps[0];
    CustomerStep& access = steps[1];
    auto vaultId = azure::ResourceId::parse(customer.vault);
    if (!vaultId) return refused("InvalidKeyVaultId", "spec.customer.keyVaultResourceId: " + vaultId.error());
    auto principal = await(client_.findServicePrincipalByAppId(customer.credential, applicationId));
    if (!principal) return principal.error();
    consent.done = principal->has_value();
    const std::string principalId = *principal ? (*principal)->value("id", "") : "";
    if (!principalId.empty()) facts["servicePrincipalId"] = principalId;

    auto vault = getIfExists(client_, customer.credential, *vaultId);
    if (!vault) return vault.error();
    const bool rbac = !*vault || vaultUsesRbac(**vault);
    facts["permissionModel"] = rbac ? "RBAC" : "AccessPolicy";
    if (!rbac) useAccessPolicyStep(access, customer, applicationId, principalId);
    access.done = false;
    if (!principalId.empty() && *vault) {
      auto granted = rbac ? cryptoUserAssigned(customer.credential, *vaultId, principalId)
                          : Result<bool>(hasKeyAccessPolicy(**vault, principalId));
      if (!granted) return granted.error();
      access.done = *granted;
    }
    auto connections = await(client_.list(customer.credential, *vaultId, "privateEndpointConnections"));
    if (!connections) return connections.error();
    facts["connections"] = connectionsFrom(endpoints, *connections, steps[2]);
    return std::nullopt;
  }

  /// Key Vault Crypto User for the principal at the vault's scope, under any assignment name.
  Result<bool> cryptoUserAssigned(const std::string& credential, const azure::ResourceId& vaultId,
                                  const std::string& principalId) {
    azure::RequestOptions atScope{.query = {{"$filter", "atScope()"}}};
    auto assignments = await(client_.list(credential, vaultId, "Microsoft.Authorization/roleAssignments", atScope));
    if (!assignments) return std::unexpected(assignments.error());
    return std::ranges::any_of(*assignments, [&](const Json& assignment) {
      const Json properties = assignment.value("properties", Json::object());
      return equalsIgnoreCase(properties.value("principalId", ""), principalId) &&
             equalsIgnoreCase(lastSegment(properties.value("roleDefinitionId", "")), kKeyVaultCryptoUserRoleGuid);
    });
  }

  static Json connectionsFrom(const std::vector<std::string>& endpoints, const std::vector<Json>& connections,
                              CustomerStep& approve) {
    Json seen = Json::array();
    for (const auto& connection : connections) {
      const std::string endpoint = connection.value("/properties/privateEndpoint/id"_json_pointer, std::string());
      if (std::ranges::none_of(endpoints, [&](const std::string& id) { return sameArmId(id, endpoint); })) continue;
      seen.push_back({{"name", lastSegment(connection.value("id", connection.value("name", "")))},
                      {"privateEndpointId", endpoint},
                      {"status", connection.value("/properties/privateLinkServiceConnectionState/status"_json_pointer,
                                                  std::string("Pending"))}});
    }
    approve.done = !endpoints.empty() && seen.size() >= endpoints.size() &&
                   std::ranges::all_of(seen, [](const Json& c) { return c.value("status", "") == "Approved"; });
    return seen;
  }

  /// Without the customer's credential only the provider side is visible: its endpoints' states; consent and
  /// role are invisible, but an account that Azure lets use the key through this application proves both.
  std::optional<ReconcileError> observeFromProvider(const ReconcileContext& context, const std::vector<std::string>& endpoints,
                                                    const std::string& applicationId, std::vector<CustomerStep>& steps) {
    bool allApproved = !endpoints.empty();
    for (const auto& text : endpoints) {
      auto id = azure::ResourceId::parse(text);
      if (!id) return refused("InvalidPrivateEndpointId", text + ": " + id.error());
      auto endpoint = getIfExists(client_, tenantOf(context), *id);
      if (!endpoint) return endpoint.error();
      allApproved = allApproved && *endpoint && endpointConnectionState(**endpoint) == "Approved";
    }
    steps[2].done = allApproved;
    // The vault's permission model cannot be read from the provider tenant: name both ways of granting.
    steps[1].detail += " On a vault with access policies (enableRbacAuthorization false) Azure ignores the role: add an "
                       "access policy with key permissions get, encrypt, decrypt for that service principal instead.";
    for (const auto& [key, account] : context.desired.documents) {
      if (key.kind != Kind::NetAppAccount ||
          account.spec.value("/encryption/crossTenant/applicationRef"_json_pointer, std::string()) != context.document.key.name)
        continue;
      const auto* status = context.statusOf ? context.statusOf(key) : nullptr;
      if (status && status->facts.value("/encryption/keyVaultProperties/status"_json_pointer, std::string()) == "InUse" &&
          status->facts.value("/encryption/identity/federatedClientId"_json_pointer, std::string()) == applicationId)
        steps[0].done = steps[1].done = true;
    }
    return std::nullopt;
  }

  /// The steps the customer credential lets the operator take; "" when none could be taken now.
  Result<std::string> performCustomerSteps(const ReconcileContext& context, const Json& facts) {
    const Customer customer = customerOf(context.document);
    const auto vaultId = azure::ResourceId::parse(customer.vault);
    if (!vaultId) return std::unexpected(refused("InvalidKeyVaultId", "spec.customer.keyVaultResourceId: " + vaultId.error()));
    const std::string applicationId = facts.value("applicationId", "");
    std::string principalId = facts.value("/customer/servicePrincipalId"_json_pointer, std::string());
    if (principalId.empty()) {
      auto created = await(client_.createServicePrincipal(customer.credential, applicationId));
      if (!created) return std::unexpected(created.error());
      client_.noteGrant(created->value("id", ""));
      return "created the service principal of " + applicationId + " in the customer tenant";
    }
    for (const auto& step : stepsOf(facts)) {
      if (step.done != false || (step.step != kStepRole && step.step != kStepAccessPolicy)) continue;
      auto vault = getIfExists(client_, customer.credential, *vaultId);
      if (!vault) return std::unexpected(vault.error());
      if (!*vault) return std::string();  // the customer's vault is not there (yet): AwaitingCustomer names it
      const bool policy = step.step == kStepAccessPolicy;
      auto granted = access_.grant(KeyAccessRequest{.credential = customer.credential, .vaultId = *vaultId, .vault = **vault,
                                                    .principalId = principalId,
                                                    .mode = policy ? AccessMode::AccessPolicy : AccessMode::RoleAssignment,
                                                    .role = AccessRole::KeyVaultCryptoUser});
      if (!granted) return std::unexpected(granted.error());
      return granted->description + " in the customer tenant";
    }
    return approveConnections(customer, *vaultId, applicationId, facts);
  }

  Result<std::string> approveConnections(const Customer& customer, const azure::ResourceId& vaultId,
                                         const std::string& applicationId, const Json& facts) {
    std::string done;
    for (const auto& connection : facts.value("/customer/connections"_json_pointer, Json::array())) {
      const std::string status = connection.value("status", "");
      const std::string name = connection.value("name", "");
      if (status == "Approved") continue;
      if (status != "Pending")
        return std::unexpected(refused("PrivateEndpointConnectionNotApproved",
                                       "the private endpoint connection " + name + " from " +
                                           connection.value("privateEndpointId", "") + " on key vault " + customer.vault +
                                           " is " + status + "; a " + status +
                                           " connection cannot be approved: recreate the provider's private endpoint"));
      // The whole connection, as a GET returns it, with the new state (a PUT replaces).
      Json body = {{"properties",
                    {{"privateEndpoint", {{"id", connection.value("privateEndpointId", "")}}},
                     {"privateLinkServiceConnectionState",
                      {{"status", "Approved"}, {"description", "Approved by anf-cmk-operator for application " + applicationId}}}}}};
      auto approved = await(client_.put(customer.credential, vaultId.child("privateEndpointConnections", name), body));
      if (!approved) return std::unexpected(approved.error());
      done += (done.empty() ? "" : "; ") + std::string("approved private endpoint connection ") + name;
    }
    return done;
  }

  azure::AzureClient& client_;
  KeyAccess access_;
  CrossTenantOptions options_;
};

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
  if (!outstanding) {
    const bool policy = std::ranges::any_of(steps, [](const CustomerStep& s) { return s.step == kStepAccessPolicy; });
    return Condition{.type = "AwaitingCustomer", .status = "False", .reason = "CustomerStepsDone",
                     .message = std::string("The customer's steps are done: consent, ") +
                                (policy ? "key access policy" : "Key Vault Crypto User") + ", endpoint approved."};
  }
  return Condition{.type = "AwaitingCustomer", .status = "True", .reason = "AwaitingCustomer",
                   .message = "The customer must: " + customerInstructions(steps)};
}

std::vector<std::string> providerEndpointsTo(const ReconcileContext& context, const std::string& keyVaultResourceId) {
  std::vector<std::string> out;
  for (const auto& [key, document] : context.desired.documents) {
    if (key.kind != Kind::PrivateEndpoint || !sameArmId(document.spec.value("keyVaultResourceId", ""), keyVaultResourceId))
      continue;
    auto id = referencedFact(context, Kind::PrivateEndpoint, key.name, "resourceId");
    if (!id && document.azure) id = topLevelId(document, "Microsoft.Network/privateEndpoints").str();
    out.push_back(id.value_or(""));
  }
  return out;
}

controller::ReconcilerPtr makeCrossTenantApplicationReconciler(azure::AzureClient& client, CrossTenantOptions options) {
  return std::make_unique<CrossTenantApplicationReconciler>(client, std::move(options));
}

}  // namespace anf::reconcilers
