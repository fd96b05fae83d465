#pragma once
// The customer's side of cross-tenant customer-managed keys (cross_tenant_application.h): what the customer
// (or the operator with spec.customer.credential) must do for the provider's application, as observed
// steps with the exact text to show, and the steps the customer credential lets the operator take.
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/arm_calls.h"  // Json, Result, AzureClient

namespace anf::reconcilers {

inline constexpr std::string_view kStepConsent = "AdminConsent";
inline constexpr std::string_view kStepRole = "KeyVaultCryptoUser";
inline constexpr std::string_view kStepAccessPolicy = "KeyVaultAccessPolicy";
inline constexpr std::string_view kStepApprove = "ApprovePrivateEndpointConnection";

/// Where the URLs that users and Entra see point. Defaults are Azure public cloud; the wiring passes
/// the configured authority (the emulator's for tests).
struct CrossTenantOptions {
  std::string issuerAuthority = "https://login.microsoftonline.com/";   // FIC issuer base
  std::string consentAuthority = "https://login.microsoftonline.com/";  // admin consent URL base
};

/// What a CrossTenantApplication document says about the customer (spec.customer, spec.displayName).
struct Customer {
  std::string tenantId;
  std::string vault;       // ARM id of the customer's key vault
  std::string credential;  // "" when the operator cannot act in the customer tenant
  std::string displayName;
};
Customer customerOf(const controller::Document& application);

/// One thing the customer (or the operator with the customer's credential) does.
struct CustomerStep {
  std::string step;           // AdminConsent | KeyVaultCryptoUser | KeyVaultAccessPolicy | ApprovePrivateEndpointConnection
  std::optional<bool> done;   // nullopt: cannot be seen from the provider tenant
  std::string detail;         // what exactly to do, or what was seen
};

/// The steps for `applicationId`: with the customer credential, as the customer tenant shows them (service
/// principal; key access by the vault's permission model: Key Vault Crypto User on an RBAC vault, an access
/// policy otherwise; the connections from the provider's endpoints); without it, what the provider tenant
/// sees (its endpoints' states; consent and key access proven only by an account that uses the key).
/// Adds facts.customer {servicePrincipalId, permissionModel, connections}.
Result<std::vector<CustomerStep>> observeCustomerSteps(azure::AzureClient& client, const CrossTenantOptions& options,
                                                       const controller::ReconcileContext& context,
                                                       const std::string& applicationId, Json& facts);

/// With the customer credential, the next step the operator can take from the observed `facts` (the service
/// principal, then key access, then the approval of pending connections); "" when none can be taken now.
Result<std::string> performCustomerSteps(azure::AzureClient& client, const controller::ReconcileContext& context,
                                         const Json& facts);

/// The customerSteps status facts of steps, and back.
Json customerStepFacts(const std::vector<CustomerStep>& steps);
std::vector<CustomerStep> customerStepsOf(const Json& facts);
/// true when facts.customerSteps has a step seen not done.
bool customerStepsOutstanding(const Json& facts);

/// `{consentAuthority}{customerTenantId}/adminconsent?client_id={appId}`.
std::string adminConsentUrl(const CrossTenantOptions& options, const std::string& customerTenantId,
                            const std::string& applicationId);

/// The AwaitingCustomer condition: True listing every step not done (each line says what to do),
/// False when all are done.
controller::Condition awaitingCustomerCondition(const std::vector<CustomerStep>& steps);

/// The text of the customer's outstanding steps (one numbered line each), for status and the plan.
std::string customerInstructions(const std::vector<CustomerStep>& steps);

/// The provider's private endpoints to the customer's vault: ARM ids of the PrivateEndpoint documents
/// whose spec.keyVaultResourceId is that vault (from their status resourceId, else their coordinates).
std::vector<std::string> providerEndpointsTo(const controller::ReconcileContext& context,
                                             const std::string& keyVaultResourceId);

}  // namespace anf::reconcilers
