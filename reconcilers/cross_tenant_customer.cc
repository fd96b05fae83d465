// The customer's side of a CrossTenantApplication: see cross_tenant_customer.h.
#include "reconcilers/cross_tenant_customer.h"

#include <algorithm>

#include "azure/client.h"
#include "reconcilers/arm_bodies.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/documents.h"
#include "reconcilers/key_access.h"
#include "reconcilers/key_vault_checks.h"

namespace anf::reconcilers {

using controller::Condition;

namespace {

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

/// Key Vault Crypto User for the principal at the vault's scope, under any assignment name.
Result<bool> cryptoUserAssigned(azure::AzureClient& client, const std::string& credential,
                                const azure::ResourceId& vaultId,
                                const std::string& principalId) {
  azure::RequestOptions atScope{.query = {{"$filter", "atScope()"}}};
  auto assignments = await(client.list(credential, vaultId, "Microsoft.Authorization/roleAssignments", atScope));
  if (!assignments) return std::unexpected(assignments.error());
  return std::ranges::any_of(*assignments, [&](const Json& assignment) {
    const Json properties = assignment.value("properties", Json::object());
    return equalsIgnoreCase(properties.value("principalId", ""), principalId) &&
           equalsIgnoreCase(lastSegment(properties.value("roleDefinitionId", "")), kKeyVaultCryptoUserRoleGuid);
  });
}

Json connectionsFrom(const std::vector<std::string>& endpoints, const std::vector<Json>& connections,
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

/// The customer tenant as the customer credential sees it: service principal, key access by the vault's
/// permission model, and the connections from the provider's endpoints.
std::optional<ReconcileError> observeWithCustomerCredential(azure::AzureClient& client, const Customer& customer,
                                                            const std::vector<std::string>& endpoints,
                                                            const std::string& applicationId,
                                                            std::vector<CustomerStep>& steps, Json& facts) {
  CustomerStep& consent = steps[0];
  CustomerStep& access = steps[1];
  auto vaultId = azure::ResourceId::parse(customer.vault);
  if (!vaultId) return refused("InvalidKeyVaultId", "spec.customer.keyVaultResourceId: " + vaultId.error());
  auto principal = await(client.findServicePrincipalByAppId(customer.credential, applicationId));
  if (!principal) return principal.error();
  consent.done = principal->has_value();
  const std::string principalId = *principal ? (*principal)->value("id", "") : "";
  if (!principalId.empty()) facts["servicePrincipalId"] = principalId;

  auto vault = getIfExists(client, customer.credential, *vaultId);
  if (!vault) return vault.error();
  const bool rbac = !*vault || vaultUsesRbac(**vault);
  facts["permissionModel"] = rbac ? "RBAC" : "AccessPolicy";
  if (!rbac) useAccessPolicyStep(access, customer, applicationId, principalId);
  access.done = false;
  if (!principalId.empty() && *vault) {
    auto granted = rbac ? cryptoUserAssigned(client, customer.credential, *vaultId, principalId)
                        : Result<bool>(hasKeyAccessPolicy(**vault, principalId));
    if (!granted) return granted.error();
    access.done = *granted;
  }
  auto connections = await(client.list(customer.credential, *vaultId, "privateEndpointConnections"));
  if (!connections) return connections.error();
  facts["connections"] = connectionsFrom(endpoints, *connections, steps[2]);
  return std::nullopt;
}

/// Without the customer's credential only the provider side is visible: its endpoints' states; consent and
/// role are invisible, but an account that Azure lets use the key through this application proves both.
std::optional<ReconcileError> observeFromProvider(azure::AzureClient& client, const ReconcileContext& context,
                                                  const std::vector<std::string>& endpoints,
                                                  const std::string& applicationId, std::vector<CustomerStep>& steps) {
  bool allApproved = !endpoints.empty();
  for (const auto& text : endpoints) {
    auto id = azure::ResourceId::parse(text);
    if (!id) return refused("InvalidPrivateEndpointId", text + ": " + id.error());
    auto endpoint = getIfExists(client, context.document.spec.value("tenant", ""), *id);
    if (!endpoint) return endpoint.error();
    allApproved = allApproved && *endpoint && endpointConnectionState(**endpoint) == "Approved";
  }
  steps[2].done = allApproved;
  // The vault's permission model cannot be read from the provider tenant: name both ways of granting.
  steps[1].detail += " On a vault with access policies (enableRbacAuthorization false) Azure ignores the role: add an "
                     "access policy with key permissions get, encrypt, decrypt for that service principal instead.";
  for (const auto* account : referringDocuments(context, context.document.key, Kind::NetAppAccount)) {
    const auto* status = context.statusOf ? context.statusOf(account->key) : nullptr;
    if (status && status->facts.value("/encryption/keyVaultProperties/status"_json_pointer, std::string()) == "InUse" &&
        status->facts.value("/encryption/identity/federatedClientId"_json_pointer, std::string()) == applicationId)
      steps[0].done = steps[1].done = true;
  }
  return std::nullopt;
}


Result<std::string> approveConnections(azure::AzureClient& client, const Customer& customer, const azure::ResourceId& vaultId,
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
    auto approved = await(client.put(customer.credential, vaultId.child("privateEndpointConnections", name), body));
    if (!approved) return std::unexpected(approved.error());
    done += (done.empty() ? "" : "; ") + std::string("approved private endpoint connection ") + name;
  }
  return done;
}

}  // namespace

Customer customerOf(const controller::Document& document) {
  const Json customer = document.spec.value("customer", Json::object());
  return Customer{.tenantId = customer.value("tenantId", ""), .vault = customer.value("keyVaultResourceId", ""),
                  .credential = customer.value("credential", ""),
                  .displayName = document.spec.value("displayName", document.key.name)};
}

Json customerStepFacts(const std::vector<CustomerStep>& steps) {
  Json out = Json::array();
  for (const auto& step : steps)
    out.push_back({{"step", step.step}, {"done", step.done ? Json(*step.done) : Json()}, {"detail", step.detail}});
  return out;
}

bool customerStepsOutstanding(const Json& facts) {
  return std::ranges::any_of(facts.value("customerSteps", Json::array()),
                             [](const Json& s) { return s.value("done", Json()) == false; });
}

std::vector<CustomerStep> customerStepsOf(const Json& facts) {
  std::vector<CustomerStep> steps;
  for (const auto& s : facts.value("customerSteps", Json::array())) {
    const Json done = s.value("done", Json());
    steps.push_back({.step = s.value("step", ""),
                     .done = done.is_boolean() ? std::optional<bool>(done.get<bool>()) : std::nullopt,
                     .detail = s.value("detail", "")});
  }
  return steps;
}

Result<std::vector<CustomerStep>> observeCustomerSteps(azure::AzureClient& client, const CrossTenantOptions& options,
                                                       const ReconcileContext& context, const std::string& applicationId,
                                                       Json& facts) {
  const Customer customer = customerOf(context.document);
  const auto endpoints = providerEndpointsTo(context, customer.vault);
  auto steps = customerSteps(options, customer, endpoints, applicationId);
  Json customerFacts = Json::object();
  auto error = customer.credential.empty()
                   ? observeFromProvider(client, context, endpoints, applicationId, steps)
                   : observeWithCustomerCredential(client, customer, endpoints, applicationId, steps, customerFacts);
  if (error) return std::unexpected(*error);
  facts["customer"] = customerFacts;
  return steps;
}

/// The steps the customer credential lets the operator take; "" when none could be taken now.
Result<std::string> performCustomerSteps(azure::AzureClient& client, const ReconcileContext& context, const Json& facts) {
  const Customer customer = customerOf(context.document);
  const auto vaultId = azure::ResourceId::parse(customer.vault);
  if (!vaultId) return std::unexpected(refused("InvalidKeyVaultId", "spec.customer.keyVaultResourceId: " + vaultId.error()));
  const std::string applicationId = facts.value("applicationId", "");
  std::string principalId = facts.value("/customer/servicePrincipalId"_json_pointer, std::string());
  if (principalId.empty()) {
    auto created = await(client.createServicePrincipal(customer.credential, applicationId));
    if (!created) return std::unexpected(created.error());
    client.noteGrant(created->value("id", ""));
    return "created the service principal of " + applicationId + " in the customer tenant";
  }
  for (const auto& step : customerStepsOf(facts)) {
    if (step.done != false || (step.step != kStepRole && step.step != kStepAccessPolicy)) continue;
    auto vault = getIfExists(client, customer.credential, *vaultId);
    if (!vault) return std::unexpected(vault.error());
    if (!*vault) return std::string();  // the customer's vault is not there (yet): AwaitingCustomer names it
    const bool policy = step.step == kStepAccessPolicy;
    auto granted = KeyAccess(client).grant(context, KeyAccessRequest{
        .credential = customer.credential, .vaultId = *vaultId, .vault = **vault, .principalId = principalId,
        .mode = policy ? AccessMode::AccessPolicy : AccessMode::RoleAssignment, .role = AccessRole::KeyVaultCryptoUser});
    if (!granted) return std::unexpected(granted.error());
    return granted->description + " in the customer tenant";
  }
  return approveConnections(client, customer, *vaultId, applicationId, facts);
}

std::string adminConsentUrl(const CrossTenantOptions& options, const std::string& customerTenantId,
                            const std::string& applicationId) {
  std::string base = options.consentAuthority;
  if (!base.empty() && base.back() != '/') base += '/';
  return base + customerTenantId + "/adminconsent?client_id=" + applicationId;
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
  for (const auto* document : documentsOfKind(context.desired, Kind::PrivateEndpoint)) {
    if (!sameArmId(document->spec.value("keyVaultResourceId", ""), keyVaultResourceId)) continue;
    auto id = referencedFact(context, Kind::PrivateEndpoint, document->key.name, "resourceId");
    if (!id && document->azure) id = topLevelId(*document, "Microsoft.Network/privateEndpoints").str();
    out.push_back(id.value_or(""));
  }
  return out;
}

}  // namespace anf::reconcilers
