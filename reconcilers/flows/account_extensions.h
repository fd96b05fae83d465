#pragma once
// The issue-7 parts of the NetApp account flow as AccountExtensions (reconcilers/netapp_account.h,
// step 7 of the account reconciler): the key vault change and the PMK->CMK transition. cmd/ wires
// them (cross-tenant too, see makeCrossTenantExtension):
//   auto flowAzure = flows::makeFlowAzure(client);                        // keep it alive
//   ReconcilerOptions options{.accountExtensions = flows::makeAccountExtensions(flowAzure)};
//   auto reconcilers = makeReconcilers(client, std::move(options));
//   reconcilers.push_back(std::make_unique<flows::CrossTenantApplicationReconciler>(*flowAzure, ...));
// Cross-tenant encryption must hold before the account's encryption PATCH (step 5): its extension
// answers beforeCrossTenantEncryption() with CrossTenantChain (cross_tenant_application.h).
#include <memory>
#include <vector>

#include "reconcilers/flows/flow_azure.h"
#include "reconcilers/netapp_account.h"

namespace anf::reconcilers::flows {

/// changeKeyVault (handlesKeyVaultChange() is true: the account reconciler leaves vault changes to it).
/// observe(): a diff on properties.encryption.keyVaultProperties.keyVaultResourceId and a plan line
/// while the account's vault is not the declared one; next(): KeyVaultChangeFlow::next.
AccountExtensionPtr makeKeyVaultChangeExtension(std::shared_ptr<FlowAzure> azure);

/// transitiontocmk per VNet of spec.transitionToCMK. observe(): TransitionFlow::observe facts
/// (transitions), diff and plan lines, and the FeatureRegistered condition while a VNet is pending;
/// next(): FeatureGate::ensure(ANFMigratePmkToCmk), then TransitionFlow::next (one POST per pass).
AccountExtensionPtr makeTransitionExtension(std::shared_ptr<FlowAzure> azure);

/// Cross-tenant encryption (handlesCrossTenant() is true): observe() adds the FeatureRegistered condition
/// of Microsoft.NetApp/ANFCrossTenantCMK; beforeCrossTenantEncryption(), before the account's encryption
/// PATCH: FeatureGate::ensure(ANFCrossTenantCMK), then CrossTenantChain::check (an error naming the
/// missing link: consent, role, connection approval, subject, application).
AccountExtensionPtr makeCrossTenantExtension(std::shared_ptr<FlowAzure> azure);

/// All three, key vault change first.
std::vector<AccountExtensionPtr> makeAccountExtensions(std::shared_ptr<FlowAzure> azure);

}  // namespace anf::reconcilers::flows
