#pragma once
// PMK -> CMK transition of existing volumes, per VNet (SPEC §1, §4; reference page "Transition an
// Azure NetApp Files volume to customer-managed keys"): `POST {account}/transitiontocmk
// {virtualNetworkId, privateEndpointId}` converts every PMK volume of the account in that VNet, in
// place (same resource ids, same fileSystemIds, data kept). Irreversible.
//
// Declared by NetAppAccount.spec.transitionToCMK [{virtualNetworkId, privateEndpointRef |
// privateEndpointId}] together with Volume documents declaring `encryptionKeySource:
// Microsoft.KeyVault`. Before each POST the flow checks, in this order:
//   1. the account is CMK and Ready in Azure (keySource Microsoft.KeyVault, provisioningState
//      Succeeded, key vault status not Error/Deleted)            -> retryable AccountCmkNotReady
//   2. no document asks a volume of that VNet to stay PMK or to go back -> terminal TransitionIrreversible
//   3. every PMK volume of the account in that VNet is declared CMK by a Volume document
//      (else terminal UndeclaredVolumesInTransition listing them)
//   4. the private endpoint exists, is in that VNet                -> terminal PrivateEndpointInWrongVnet
//      and its connection is Approved                              -> retryable PrivateEndpointNotApproved
// Observation comes first: a VNet whose volumes of the account are all Microsoft.KeyVault is done,
// and a VNet recorded as Succeeded in status is never posted again (a restart resumes the engine's
// stored poll of an in-flight POST, or observes that it finished).
//
// Status facts: transitions: [{virtualNetworkId, state: Pending|InProgress|Succeeded, startedAt?,
// completedAt? (Unix seconds)}] in the order of spec.transitionToCMK.
//
// The account reconciler runs it once its encryption is up to date (the account is CMK in Azure):
// observeTransition() in observe(); in update() observeTransitionStep() registers ANFMigratePmkToCmk
// (feature_registration.h) and sends at most one POST per pass (the engine polls its operation).
// Volume reconciler: refuseKeySourceReversal() (key_source_reversal.h) for a volume whose observed key
// source is KeyVault.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/arm_calls.h"  // Json, Result, AzureClient
#include "reconcilers/post_action.h"

namespace anf::reconcilers {

/// A volume as Azure reports it (from the LIST of a pool's volumes).
struct ObservedVolume {
  std::string id;
  std::string subnetId;
  std::string virtualNetworkId;
  std::string encryptionKeySource;
  std::string fileSystemId;
  static ObservedVolume fromArm(const Json& volume);
  bool cmk() const;
};

/// A Volume document of the account, with the ARM id it names.
struct DeclaredVolume {
  std::string document;  // "Volume/name"
  std::string expectedId;
  std::string encryptionKeySource;  // as declared (defaulted to Microsoft.NetApp)
  std::string virtualNetworkId;     // of spec.subnetId
};

/// A private endpoint for a VNet (an entry of spec.transitionToCMK or of keyVault.privateEndpoints), resolved
/// to an ARM id when known.
struct VnetEndpoint {
  std::string virtualNetworkId;
  std::string privateEndpointId;   // from privateEndpointId, or the referenced document's status resourceId
  std::string privateEndpointRef;  // document name when given by reference
};
using TransitionRequest = VnetEndpoint;

/// The {virtualNetworkId, privateEndpointId | privateEndpointRef} entries at `pointer` of the document's spec,
/// refs resolved through statusOf (empty id while the referenced endpoint has no resourceId yet).
std::vector<VnetEndpoint> vnetEndpointsOf(const controller::ReconcileContext& context, const char* pointer);

/// The Volume documents whose pool belongs to context.document, an account (through poolRef ->
/// CapacityPool.accountRef), in key order.
std::vector<DeclaredVolume> declaredVolumesOf(const controller::ReconcileContext& context);

/// spec.transitionToCMK of the account.
std::vector<TransitionRequest> transitionRequestsOf(const controller::ReconcileContext& context);

/// The undeclared-volume guard: a terminal UndeclaredVolumesInTransition error listing every PMK
/// volume of the account in `virtualNetworkId` that no Volume document declares as
/// Microsoft.KeyVault (the transition would convert it without a document saying so); nullopt when
/// every one is declared.
std::optional<ReconcileError> checkUndeclaredVolumes(const std::string& virtualNetworkId,
                                                     const std::vector<ObservedVolume>& observed,
                                                     const std::vector<DeclaredVolume>& declared);

/// The irreversibility guard for a VNet being (or already) transitioned: a terminal
/// TransitionIrreversible error naming every Volume document of that VNet that declares
/// Microsoft.NetApp (asks to stay on, or go back to, platform-managed keys); nullopt otherwise.
std::optional<ReconcileError> checkNoReversal(const std::string& virtualNetworkId,
                                              const std::vector<DeclaredVolume>& declared);

/// true when every volume of the account in that VNet is already Microsoft.KeyVault (also when
/// there is none: nothing left to convert).
bool transitionDone(const std::string& virtualNetworkId, const std::vector<ObservedVolume>& observed);

/// The account's Azure state allows a transition (CMK, Succeeded, key vault status usable); the
/// AccountCmkNotReady error (waits for Azure) otherwise.
std::optional<ReconcileError> checkAccountCmkReady(const Json& observedAccount);

/// What observeTransition() found.
struct TransitionObservation {
  std::vector<ObservedVolume> volumes;  // every volume of the account
  Json facts = Json::object();          // {"transitions": [...]}
  std::vector<controller::FieldDiff> diff;
  std::vector<std::string> planNotes;  // "transitiontocmk <vnet>: converts <volume ids>"
  bool upToDate = true;
};

/// What transitionStep() did.
struct TransitionStep {
  bool sent = false;            // a POST was sent; outcome.operation holds its poll state
  controller::Outcome outcome;  // facts always hold the updated transitions
};

/// Every volume of an account: the LIST of its pools, then the LIST of volumes of each pool, shared for the
/// pass with the pool and volume reconcilers (listForPass); `fresh`: read again, e.g. after an operation.
Result<std::vector<ObservedVolume>> listAccountVolumes(azure::AzureClient& client, const controller::ReconcileContext& context,
                                                       bool fresh = false);

/// Reads the account's volumes and the transition state of each requested VNet. Never writes.
/// `nowUnixSeconds` stamps completedAt of a VNet seen done for the first time.
Result<TransitionObservation> observeTransition(azure::AzureClient& client, const controller::ReconcileContext& context,
                                                std::int64_t nowUnixSeconds);

/// Runs the checks for the first VNet that is not done and sends its POST (post_action.h: not while the account
/// shows an operation running, nor before `waits` allows); nothing is sent when every requested VNet is done.
/// Errors are the guards' (see the header comment).
Result<TransitionStep> transitionStep(azure::AzureClient& client, const controller::ReconcileContext& context,
                                      const Json& observedAccount, const TransitionObservation& seen,
                                      std::int64_t nowUnixSeconds, ActionWaits& waits);

/// The account reconciler's transition in observe(): facts, diff and plan lines, and the FeatureRegistered
/// condition of ANFMigratePmkToCmk while a VNet is pending.
Result<void> observeTransitionInto(azure::AzureClient& client, const controller::ReconcileContext& context,
                                   controller::Observation& observation);

/// The account reconciler's transition in update(): the feature registered first, then one POST; nullopt
/// when there is nothing to transition.
Result<std::optional<controller::Outcome>> nextTransitionStep(azure::AzureClient& client,
                                                              const controller::ReconcileContext& context,
                                                              const Json& observedAccount, ActionWaits& waits);

}  // namespace anf::reconcilers
