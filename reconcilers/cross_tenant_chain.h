#pragma once
// The account's cross-tenant steps (spec.encryption.crossTenant): the vault is in the customer's tenant,
// reached through the CrossTenantApplication's federated credential.
//   observe: the FeatureRegistered condition of Microsoft.NetApp/ANFCrossTenantCMK and, once Azure has
//            tried the key, AwaitingCustomer (the customer steps the provider tenant cannot see);
//   before the encryption PATCH: the feature registered (registering it first), then every link of the chain.
#include <optional>
#include <string>

#include "reconcilers/arm_calls.h"  // Json, Result, AzureClient

namespace anf::reconcilers {

/// Every link of the chain, read-only: the federatedClientId to send, or an error naming the first missing
/// link: FeatureNotRegistered (ANFCrossTenantCMK), DependencyNotReady (the application has no applicationId
/// yet), FederatedCredentialSubjectMismatch (the app's credential subject is not the account's user-assigned
/// identity), CrossTenantVaultMismatch, CrossTenantConsentMissing, CrossTenantRoleMissing,
/// CrossTenantAccessPolicyMissing, PrivateEndpointConnectionNotApproved.
/// With spec.encryption.crossTenant.federatedClientId (no applicationRef) only the feature is checked.
Result<std::string> checkCrossTenantChain(azure::AzureClient& client, const controller::ReconcileContext& account);

/// Before the PATCH that sets cross-tenant encryption: nullopt when the chain holds (go on); an Outcome when
/// the feature had to be registered (come back later); an error naming the missing link.
Result<std::optional<controller::Outcome>> prepareCrossTenantEncryption(azure::AzureClient& client,
                                                                        const controller::ReconcileContext& account);

/// The account's cross-tenant conditions (FeatureRegistered, AwaitingCustomer) for `observation`.
Result<void> observeCrossTenant(azure::AzureClient& client, const controller::ReconcileContext& context,
                                const Json& account, controller::Observation& observation);

}  // namespace anf::reconcilers
