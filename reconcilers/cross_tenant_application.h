#pragma once
// Cross-tenant customer-managed keys (reference/anf-cross-tenant-customer-managed-keys.md; SPEC §1, §4).
//
// Kind CrossTenantApplication, in the provider tenant (spec.tenant):
//   - a Graph application with signInAudience AzureADMultipleOrgs (spec.displayName);
//   - on it a federated identity credential named kFederatedCredentialName: issuer
//     `{issuerAuthority}{providerTenantId}/v2.0`, subject = the principalId of the UserAssignedIdentity
//     named by spec.identityRef (from that document's status facts), audiences
//     ["api://AzureADTokenExchange"]; a credential that drifted is PATCHed back;
//   - status facts: applicationId (the appId customers consent to), objectId, adminConsentUrl,
//     federatedCredential {id, name, issuer, subject}, customerSteps [{step, done, detail}].
// Customer steps (spec.customer: tenantId, keyVaultResourceId, credential?):
//   - with spec.customer.credential (a credential name of the operator configuration that acts in the
//     customer tenant) the operator performs them: the app's service principal in the customer tenant
//     (admin consent); key access on the vault for it, by the vault's permission model read with that
//     credential — Key Vault Crypto User on an RBAC vault, an access policy (key_access.h) on a vault with
//     enableRbacAuthorization false, where Azure ignores the role; and approval of the pending private
//     endpoint connection on the vault whose privateEndpoint.id is one of the provider's PrivateEndpoint
//     documents to that vault. Waiting for Azure to show a connection is re-checked every kCustomerRecheck;
//   - without it, condition AwaitingCustomer=True lists exactly what the customer must do (consent URL,
//     role and scope, the connection to approve) and every resync re-checks what the provider can see
//     (the connection state of its own endpoint); consent and role are then verified by Azure when the
//     account is configured, and named in the account's status if missing. The application itself is
//     Ready once the app and its credential are in place (the account's chain check waits for the rest).
// deletionPolicy Delete deletes the application (its credential goes with it).
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "controller/reconciler.h"

namespace anf::azure {
class AzureClient;
}

namespace anf::reconcilers {

using controller::Json;

inline constexpr std::string_view kFederatedCredentialName = "anf-cmk-operator";
inline constexpr std::string_view kTokenExchangeAudience = "api://AzureADTokenExchange";
inline constexpr std::string_view kStepConsent = "AdminConsent";
inline constexpr std::string_view kStepRole = "KeyVaultCryptoUser";
inline constexpr std::string_view kStepAccessPolicy = "KeyVaultAccessPolicy";
inline constexpr std::string_view kStepApprove = "ApprovePrivateEndpointConnection";
/// How long the application waits before it looks again at a customer step the operator cannot take now.
inline constexpr std::chrono::seconds kCustomerRecheck{60};

/// Where the URLs that users and Entra see point. Defaults are Azure public cloud; the wiring passes
/// the configured authority (the emulator's for tests).
struct CrossTenantOptions {
  std::string issuerAuthority = "https://login.microsoftonline.com/";   // FIC issuer base
  std::string consentAuthority = "https://login.microsoftonline.com/";  // admin consent URL base
};

/// One thing the customer (or the operator with the customer's credential) does.
struct CustomerStep {
  std::string step;           // AdminConsent | KeyVaultCryptoUser | KeyVaultAccessPolicy | ApprovePrivateEndpointConnection
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

/// The provider's private endpoints to the customer's vault: ARM ids of the PrivateEndpoint documents
/// whose spec.keyVaultResourceId is that vault (from their status resourceId, else their coordinates).
std::vector<std::string> providerEndpointsTo(const controller::ReconcileContext& context,
                                             const std::string& keyVaultResourceId);

/// The reconciler of kind CrossTenantApplication. `client` must outlive it.
controller::ReconcilerPtr makeCrossTenantApplicationReconciler(azure::AzureClient& client,
                                                               CrossTenantOptions options = {});

}  // namespace anf::reconcilers
