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
//   3. the new vault's checks and the identity's access grant on it, done by the account
//      reconciler's own functions (key_vault_checks.* of "reconcilers"), passed in as PrepareNewVault;
//   4. POST changeKeyVault; its long-running operation goes to the engine.
//
// Where the account reconciler calls it: observe(): keyVaultChangePending(spec, observedAccount)
// -> a FieldDiff on properties.encryption.keyVaultProperties.keyVaultResourceId (instead of the
// refusal it gives for a vault change today) and planNote(). update(), where it would refuse a vault
// change: return flow.next(context, observedAccount) (after the cross-tenant chain check when the
// account is cross-tenant); the result is the Outcome to return.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/flows/flow_azure.h"
#include "reconcilers/flows/transition.h"

namespace anf::reconcilers::flows {

/// The vault and key the document asks for (spec.encryption.keyVault).
struct KeyVaultTarget {
  std::string resourceId;
  std::string uri;  // may be empty in the spec: read from the vault
  std::string keyName;
  static KeyVaultTarget fromSpec(const Json& spec);
};

/// One entry of keyVault.privateEndpoints, resolved to an ARM id.
struct VnetEndpoint {
  std::string virtualNetworkId;
  std::string privateEndpointId;  // empty when the referenced document has no resourceId yet
  std::string privateEndpointRef;
};

/// true when the account is CMK in Azure and the document names another vault (resource id or
/// URI, compared case-insensitively and ignoring a trailing '/').
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

/// The new vault's checks and the access grant for the account's identity on it, supplied by the
/// account reconciler. nullopt: the vault is valid and access is granted, go on; an Outcome: a step
/// was taken (grant propagating, identity enabled), return it; an error: checks failed.
using PrepareNewVault =
    std::function<Result<std::optional<controller::Outcome>>(const controller::ReconcileContext&, const KeyVaultTarget&)>;

class KeyVaultChangeFlow {
 public:
  KeyVaultChangeFlow(FlowAzure& azure, PrepareNewVault prepare) : azure_(azure), prepare_(std::move(prepare)) {}

  /// One pass of the change (see the header comment): the Outcome to return to the engine, with
  /// the changeKeyVault operation once it is sent.
  Result<controller::Outcome> next(const controller::ReconcileContext& context, const Json& observedAccount);

 private:
  FlowAzure& azure_;
  PrepareNewVault prepare_;
};

/// The plan line for a pending change: old vault -> new vault, and the VNets it needs endpoints for.
std::string keyVaultChangePlanNote(const Json& observedAccount, const KeyVaultTarget& target,
                                   const std::vector<std::string>& vnets);

}  // namespace anf::reconcilers::flows
