#pragma once
// Changing the key vault of a CMK account (SPEC §1 "change key vault"; azure-api.md §1.1): the
// documentation page says vault changes are unsupported, the newer API has `getKeyVaultStatus` and
// `changeKeyVault {keyVaultUri, keyName, keyVaultResourceId, keyVaultPrivateEndpoints:
// [{virtualNetworkId, privateEndpointId}]}` with one private endpoint (to the NEW vault) per VNet
// that has CMK volumes. The endpoints come from NetAppAccount.spec.encryption.keyVault.privateEndpoints.
//
// Order of one change (each step idempotent, the POST sent once all checks pass):
//   1. getKeyVaultStatus (the VNets and endpoints the account uses today);
//   2. the account's volumes: every VNet with a CMK volume, plus every VNet getKeyVaultStatus names,
//      needs an entry in keyVault.privateEndpoints; missing ones are a terminal
//      MissingKeyVaultPrivateEndpoints error naming the VNets, before anything is sent;
//   3. the new vault's checks and the identity's access grant on it: the account reconciler's steps 3
//      and 4 run against the declared (new) vault before this step;
//   4. POST changeKeyVault; its long-running operation goes to the engine.
//
// The account reconciler calls it as a step: observeKeyVaultChange() in observe() (a FieldDiff on
// properties.encryption.keyVaultProperties.keyVaultResourceId and a plan line), changeKeyVaultStep()
// in update() once steps 1 to 6 hold.
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/transition.h"

namespace anf::reconcilers {

/// The vault and key the document asks for (spec.encryption.keyVault).
struct KeyVaultTarget {
  std::string resourceId;
  std::string uri;  // may be empty in the spec: read from the vault
  std::string keyName;
  static KeyVaultTarget fromSpec(const Json& spec);
};

/// true when the account is CMK in Azure and the document names another vault (resource id, or URI by
/// sameVaultUri: case, trailing '/' and :443 ignored).
bool keyVaultChangePending(const Json& spec, const Json& observedAccount);

/// keyVault.privateEndpoints of the account document, refs resolved through statusOf.
std::vector<VnetEndpoint> keyVaultEndpointsOf(const controller::ReconcileContext& context);

/// The VNets that need an endpoint to the new vault: those with CMK volumes of the account and those
/// the getKeyVaultStatus answer lists, without duplicates, in a stable order.
std::vector<std::string> vnetsNeedingEndpoints(const std::vector<ObservedVolume>& volumes, const Json& keyVaultStatus);

/// The changeKeyVault body with exactly one endpoint per needed VNet; a terminal
/// MissingKeyVaultPrivateEndpoints error naming every VNet without an entry in
/// spec.encryption.keyVault.privateEndpoints (or whose endpoint has no resource id yet, retryable).
Result<Json> buildChangeKeyVaultBody(const KeyVaultTarget& target, const std::vector<std::string>& vnets,
                                     const std::vector<VnetEndpoint>& endpoints);

/// One pass of the change (see the header comment): the Outcome to return to the engine, with the
/// changeKeyVault operation once it is sent (sendAccountAction, post_action.h).
Result<controller::Outcome> changeKeyVault(azure::AzureClient& client, const controller::ReconcileContext& context,
                                           ActionWaits& waits);

/// The plan line for a pending change: old vault -> new vault, and the VNets it needs endpoints for.
std::string keyVaultChangePlanNote(const Json& observedAccount, const KeyVaultTarget& target,
                                   const std::vector<std::string>& vnets);

/// The account reconciler's key vault change in observe(): while the account's vault is not the declared one,
/// a diff on keyVaultResourceId and a plan line.
void observeKeyVaultChange(const controller::ReconcileContext& context, const Json& account,
                           controller::Observation& observation);

/// The account reconciler's key vault change in update(): nullopt when no change is pending; an error, nothing
/// sent, while the account shows an operation running (post_action.h).
Result<std::optional<controller::Outcome>> changeKeyVaultStep(azure::AzureClient& client,
                                                              const controller::ReconcileContext& context,
                                                              const Json& account, ActionWaits& waits);

}  // namespace anf::reconcilers
