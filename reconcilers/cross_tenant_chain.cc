#include "reconcilers/cross_tenant_chain.h"

#include "azure/resource_id.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/cross_tenant_application.h"
#include "reconcilers/documents.h"
#include "reconcilers/feature_registration.h"

namespace anf::reconcilers {

using controller::DocumentKey;

namespace {

const controller::ResourceStatus* statusOf(const controller::ReconcileContext& context, Kind kind, const std::string& name) {
  return context.statusOf && !name.empty() ? context.statusOf(DocumentKey{kind, name}) : nullptr;
}

std::string applicationRefOf(const controller::Document& account) {
  return specString(account, "/encryption/crossTenant/applicationRef");
}

ReconcileError missingStep(const std::string& step, const std::string& detail) {
  const std::string reason = step == kStepConsent        ? "CrossTenantConsentMissing"
                             : step == kStepRole         ? "CrossTenantRoleMissing"
                             : step == kStepAccessPolicy ? "CrossTenantAccessPolicyMissing"
                                                         : "PrivateEndpointConnectionNotApproved";
  ReconcileError error = waitingForAzure(reason, "cross-tenant chain: " + detail);
  error.conditionType = "DependenciesReady";
  return error;
}

/// The application's credential must name the account's user-assigned identity.
std::optional<ReconcileError> checkSubject(const controller::ReconcileContext& context, const controller::ResourceStatus& app,
                                           const std::string& applicationId) {
  const std::string appRef = applicationRefOf(context.document);
  const std::string identityRef = specString(context.document, "/identity/userAssignedIdentityRef");
  const std::string principalId = referencedFact(context, Kind::UserAssignedIdentity, identityRef, "principalId").value_or("");
  const std::string subject = app.facts.value("/federatedCredential/subject"_json_pointer, std::string());
  if (subject == principalId) return std::nullopt;
  const auto* appDocument = findDocument(context.desired, Kind::CrossTenantApplication, appRef);
  const std::string message = "the federated identity credential of application " + applicationId + " has subject '" +
                              subject + "', but the account's user-assigned identity " + identityRef +
                              " has principalId '" + principalId + "'";
  // Same identity on both sides: the application repairs its credential.
  if (appDocument && appDocument->spec.value("identityRef", "") == identityRef)
    return waitingForAzure("FederatedCredentialSubjectMismatch", message);
  return refused("FederatedCredentialSubjectMismatch", message + "; spec.identity.userAssignedIdentityRef and the "
                                                                 "application's spec.identityRef must name the same identity");
}

std::optional<ReconcileError> checkVault(const controller::ReconcileContext& context) {
  const std::string appRef = applicationRefOf(context.document);
  const auto* appDocument = findDocument(context.desired, Kind::CrossTenantApplication, appRef);
  if (!appDocument) return std::nullopt;
  const std::string appVault = appDocument->spec.value("/customer/keyVaultResourceId"_json_pointer, std::string());
  const std::string vault = specString(context.document, "/encryption/keyVault/resourceId");
  auto left = azure::ResourceId::parse(vault);
  auto right = azure::ResourceId::parse(appVault);
  if (!left || !right || *left == *right) return std::nullopt;
  return refused("CrossTenantVaultMismatch", "spec.encryption.keyVault.resourceId " + vault + " is not the vault " +
                                                 appVault + " that CrossTenantApplication/" + appRef + " is granted on");
}

/// Azure could not use the customer's key (the encryption PATCH failed: keyVaultProperties.status Error):
/// AwaitingCustomer=True naming the customer's steps the provider tenant cannot see (admin consent, key
/// access), from the CrossTenantApplication's status. Azure's error (EncryptionKeyUnusable) is the same
/// without consent and with consent but without the role, so the status names both and says it cannot
/// tell which (without consent there is no service principal to assign the role to: both are missing).
std::optional<controller::Condition> customerStepsMissing(const controller::ReconcileContext& context, const Json& account) {
  const std::string status = account.value("/properties/encryption/keyVaultProperties/status"_json_pointer, std::string());
  const std::string state = account.value("/properties/provisioningState"_json_pointer, std::string());
  if (status == "InUse" && state == "Succeeded")
    return controller::Condition{.type = "AwaitingCustomer", .status = "False", .reason = "CustomerStepsDone",
                                 .message = "Azure uses the key in the customer's vault"};
  if (status != "Error" && state != "Failed") return std::nullopt;
  const auto* app = statusOf(context, Kind::CrossTenantApplication, applicationRefOf(context.document));
  std::vector<CustomerStep> steps;
  for (const auto& step : app ? app->facts.value("customerSteps", Json::array()) : Json::array())
    if (step.value("done", Json()) != Json(true))
      steps.push_back(CustomerStep{.step = step.value("step", ""), .done = false, .detail = step.value("detail", "")});
  if (steps.empty()) return std::nullopt;
  return controller::Condition{
      .type = "AwaitingCustomer", .status = "True", .reason = "CustomerStepMissing",
      .message = "Azure could not use the key in the customer's vault (keyVaultProperties.status " + status +
                 ", provisioningState " + state +
                 "); the provider tenant cannot see these customer steps and Azure's error does not say which is "
                 "missing (without consent the role cannot be assigned either): " + customerInstructions(steps)};
}

}  // namespace

Result<std::string> checkCrossTenantChain(azure::AzureClient& client, const controller::ReconcileContext& context) {
  const FeatureRef feature = featureOf(context.document, kFeatureCrossTenantCmk);
  auto state = FeatureGate(client).observe(feature);
  if (!state) return std::unexpected(state.error());
  if (nextFeatureStep(*state) != FeatureStep::Done) {
    ReconcileError error = waitingForAzure("FeatureNotRegistered", "cross-tenant customer-managed keys need feature " +
                                                                       feature.key() + " Registered in subscription " +
                                                                       feature.subscriptionId + "; it is " + *state);
    error.conditionType = "FeatureRegistered";
    return std::unexpected(error);
  }
  const std::string clientId = specString(context.document, "/encryption/crossTenant/federatedClientId");
  if (!clientId.empty()) return clientId;

  const std::string appRef = applicationRefOf(context.document);
  const auto* app = statusOf(context, Kind::CrossTenantApplication, appRef);
  const std::string applicationId = app ? app->facts.value("applicationId", "") : "";
  if (applicationId.empty())
    return std::unexpected(dependencyNotReady("the applicationId of CrossTenantApplication/" + appRef +
                                              " (spec.encryption.crossTenant.applicationRef)"));
  if (auto error = checkSubject(context, *app, applicationId)) return std::unexpected(*error);
  if (auto error = checkVault(context)) return std::unexpected(*error);
  for (const auto& step : app->facts.value("customerSteps", Json::array()))
    if (step.value("done", Json()) == false) return std::unexpected(missingStep(step.value("step", ""), step.value("detail", "")));
  return applicationId;
}

Result<std::optional<controller::Outcome>> prepareCrossTenantEncryption(azure::AzureClient& client,
                                                                        const controller::ReconcileContext& context) {
  auto wait = FeatureGate(client).ensure(featureOf(context.document, kFeatureCrossTenantCmk), context.self.facts);
  if (!wait || *wait) return wait;
  auto clientId = checkCrossTenantChain(client, context);
  if (!clientId) return std::unexpected(clientId.error());
  return std::optional<controller::Outcome>{};
}

Result<void> observeCrossTenant(azure::AzureClient& client, const controller::ReconcileContext& context,
                                const Json& account, controller::Observation& observation) {
  const FeatureRef feature = featureOf(context.document, kFeatureCrossTenantCmk);
  auto state = FeatureGate(client).observe(feature);
  if (!state) return std::unexpected(state.error());
  observation.conditions.push_back(featureCondition(feature, *state));
  if (auto awaiting = customerStepsMissing(context, account)) observation.conditions.push_back(*awaiting);
  return {};
}

}  // namespace anf::reconcilers
