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
// Customer steps (spec.customer: tenantId, keyVaultResourceId, credential?; cross_tenant_customer.h):
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

#include "reconcilers/cross_tenant_customer.h"

namespace anf::reconcilers {

inline constexpr std::string_view kFederatedCredentialName = "anf-cmk-operator";
inline constexpr std::string_view kTokenExchangeAudience = "api://AzureADTokenExchange";
/// How long the application waits before it looks again at a customer step the operator cannot take now.
inline constexpr std::chrono::seconds kCustomerRecheck{60};

/// The federated identity credential the application must carry.
Json desiredFederatedCredential(const CrossTenantOptions& options, const std::string& providerTenantId,
                                const std::string& identityPrincipalId);

/// The reconciler of kind CrossTenantApplication. `client` must outlive it.
controller::ReconcilerPtr makeCrossTenantApplicationReconciler(azure::AzureClient& client,
                                                               CrossTenantOptions options = {});

}  // namespace anf::reconcilers
