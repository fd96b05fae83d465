#pragma once
// Cross-tenant customer-managed keys (reference/anf-cross-tenant-customer-managed-keys.md; SPEC §1, §4).
//
// Kind CrossTenantApplication, in the provider tenant (spec.tenant):
//   - a Graph application with signInAudience AzureADMultipleOrgs (spec.displayName);
//   - on it a federated identity credential named kFederatedCredentialName: issuer
//     `{issuerAuthority}{providerTenantId}/v2.0`, subject = the principalId of the UserAssignedIdentity
//     named by spec.identityRef (from that document's status facts), audiences
//     ["api://AzureADTokenExchange"];
//   - status facts: applicationId (the appId customers consent to), objectId, adminConsentUrl,
//     federatedCredential {name, issuer, subject}, customerSteps [{step, done, detail}].
// Customer steps (spec.customer: tenantId, keyVaultResourceId, credential?):
//   - with spec.customer.credential (a credential name of the operator configuration that acts in the
//     customer tenant) the operator performs them: the app's service principal in the customer tenant
//     (POST /v1.0/servicePrincipals {appId}: admin consent), Key Vault Crypto User on the vault for it
//     (role assignment named by reconcilers::roleAssignmentName, so a retry never duplicates it),
//     and approval of the pending private endpoint connection on the vault whose privateEndpoint.id is
//     one of the provider's PrivateEndpoint documents to that vault;
//   - without it, condition AwaitingCustomer=True lists exactly what the customer must do (consent URL,
//     role and scope, the connection to approve) and every pass re-checks what the provider can see
//     (the connection state of its own endpoint); consent and role are then verified by Azure when the
//     account is configured, and named in the account's status if missing. The application itself is
//     Ready once the app and its credential are in place (the account's chain check waits for the rest).
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/flows/feature_registration.h"
#include "reconcilers/flows/flow_azure.h"

namespace anf::reconcilers::flows {

inline constexpr std::string_view kFederatedCredentialName = "anf-cmk-operator";
inline constexpr std::string_view kTokenExchangeAudience = "api://AzureADTokenExchange";
inline constexpr std::string_view kKeyVaultCryptoUserRoleId = "12338af0-0e69-4776-bea7-57ae8d297424";

/// Where the URLs that users and Entra see point. Defaults are Azure public cloud; the wiring passes
/// the configured authority (the emulator's for tests).
struct CrossTenantOptions {
  std::string issuerAuthority = "https://login.microsoftonline.com/";   // FIC issuer base
  std::string consentAuthority = "https://login.microsoftonline.com/";  // admin consent URL base
};

/// One thing the customer (or the operator with the customer's credential) does.
struct CustomerStep {
  std::string step;           // AdminConsent | KeyVaultCryptoUser | ApprovePrivateEndpointConnection
  std::optional<bool> done;   // nullopt: cannot be seen from the provider tenant
  std::string detail;         // what exactly to do, or what was seen
};

/// `{consentAuthority}{customerTenantId}/adminconsent?client_id={appId}`.
std::string adminConsentUrl(const CrossTenantOptions& options, const std::string& customerTenantId,
                            const std::string& applicationId);

/// The federated identity credential the application must carry.
Json desiredFederatedCredential(const CrossTenantOptions& options, const std::string& providerTenantId,
                                const std::string& identityPrincipalId);

/// The AwaitingCustomer condition: True listing every step not done (each line says what to do),
/// False when all are done.
controller::Condition awaitingCustomerCondition(const std::vector<CustomerStep>& steps);

/// The text of the customer's outstanding steps (one numbered line each), for status and the plan.
std::string customerInstructions(const std::vector<CustomerStep>& steps);

/// The reconciler of kind CrossTenantApplication.
class CrossTenantApplicationReconciler : public controller::Reconciler {
 public:
  CrossTenantApplicationReconciler(FlowAzure& azure, CrossTenantOptions options = {})
      : azure_(azure), options_(std::move(options)) {}

  controller::Kind kind() const override { return controller::Kind::CrossTenantApplication; }
  /// Graph reads in the provider tenant (application, its federated credentials); customer-tenant
  /// reads with the customer credential when configured; the provider endpoint's connection state.
  Result<controller::Observation> observe(const controller::ReconcileContext& context) override;
  /// Registers the application and its federated credential, then the customer steps.
  Result<controller::Outcome> create(const controller::ReconcileContext& context,
                                     const controller::Observation& observed) override;
  /// Fixes what differs (audience, federated credential subject/issuer), then the customer steps;
  /// without a customer credential, comes back later to re-check.
  Result<controller::Outcome> update(const controller::ReconcileContext& context,
                                     const controller::Observation& observed) override;
  /// deletionPolicy Delete: deletes the application (its credential goes with it). Retain: nothing.
  Result<controller::Outcome> remove(const controller::ReconcileContext& context,
                                     const controller::Observation& observed) override;

 private:
  Result<std::vector<CustomerStep>> observeCustomer(const controller::ReconcileContext& context,
                                                    const std::string& applicationId, Json& facts);
  Result<std::string> performCustomerSteps(const controller::ReconcileContext& context, const Json& facts);

  FlowAzure& azure_;
  CrossTenantOptions options_;
};

/// The provider's private endpoints to the customer's vault: ARM ids of the PrivateEndpoint documents
/// whose spec.keyVaultResourceId is that vault (from their status resourceId).
std::vector<std::string> providerEndpointsTo(const controller::ReconcileContext& context,
                                             const std::string& keyVaultResourceId);

/// For the NetApp account reconciler, before the PUT that sets cross-tenant encryption
/// (spec.encryption.crossTenant): checks every link of the chain and returns the federatedClientId
/// to send, or an error naming the first missing link:
///   FeatureNotRegistered (ANFCrossTenantCMK; run FeatureGate::ensure first to register it),
///   CrossTenantApplicationNotReady, FederatedCredentialSubjectMismatch (the app's credential subject
///   is not the account's user-assigned identity), CrossTenantVaultMismatch, CrossTenantConsentMissing,
///   CrossTenantRoleMissing, PrivateEndpointConnectionNotApproved.
/// With spec.encryption.crossTenant.federatedClientId (no applicationRef) only the feature is checked.
class CrossTenantChain {
 public:
  explicit CrossTenantChain(FlowAzure& azure) : azure_(azure) {}
  Result<std::string> check(const controller::ReconcileContext& accountContext);

 private:
  FlowAzure& azure_;
};

}  // namespace anf::reconcilers::flows
