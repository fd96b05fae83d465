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
// completedAt?}] in the order of spec.transitionToCMK.
//
// Where the account reconciler calls it (after its encryption step is up to date, i.e. the account
// is CMK in Azure):
//   observe():  auto seen = flow.observe(context, observedAccountJson);
//               merge seen->facts into Observation::facts, append seen->diff and seen->planNotes,
//               upToDate &= seen->upToDate;
//   update():   first FeatureGate::ensure(ANFMigratePmkToCmk) (feature_registration.h), then
//               auto step = flow.next(context, observedAccountJson, *seen);
//               if (step->sent) return step->outcome;   // one POST per pass; the engine polls it
//               otherwise merge step->outcome.facts and go on (nothing to transition).
// Volume reconciler: refuseKeySourceReversal() for a volume whose observed key source is KeyVault.
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/flows/flow_azure.h"
#include "reconcilers/flows/key_source_reversal.h"  // refuseKeySourceReversal, for the Volume reconciler

namespace anf::reconcilers::flows {

inline constexpr std::string_view kKeySourceNetApp = "Microsoft.NetApp";
inline constexpr std::string_view kKeySourceKeyVault = "Microsoft.KeyVault";

/// A volume as Azure reports it (from the LIST of a pool's volumes).
struct ObservedVolume {
  std::string id;
  std::string subnetId;
  std::string virtualNetworkId;
  std::string encryptionKeySource{kKeySourceNetApp};
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

/// One entry of spec.transitionToCMK, with its endpoint resolved to an ARM id when known.
struct TransitionRequest {
  std::string virtualNetworkId;
  std::string privateEndpointId;   // from privateEndpointId, or the referenced document's status resourceId
  std::string privateEndpointRef;  // document name when given by reference
};

/// The Volume documents whose pool belongs to `account` (through poolRef -> CapacityPool.accountRef).
std::vector<DeclaredVolume> declaredVolumesOf(const controller::Document& account,
                                              const controller::DesiredState& desired);

/// spec.transitionToCMK of the account, endpoints resolved through `statusOf` (empty id when the
/// referenced endpoint has no resourceId yet).
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

/// What observe() found.
struct TransitionObservation {
  std::vector<ObservedVolume> volumes;  // every volume of the account
  Json facts = Json::object();          // {"transitions": [...]}
  std::vector<controller::FieldDiff> diff;
  std::vector<std::string> planNotes;  // "transitiontocmk <vnet>: converts <volume ids>"
  bool upToDate = true;
};

/// What next() did.
struct TransitionStep {
  bool sent = false;           // a POST was sent; outcome.operation holds its poll state
  controller::Outcome outcome;  // facts always hold the updated transitions
};

class TransitionFlow {
 public:
  explicit TransitionFlow(FlowAzure& azure, Clock clock = utcNow) : azure_(azure), clock_(std::move(clock)) {}

  /// Reads the account's volumes (one LIST of pools, one LIST of volumes per pool, shared through
  /// the context's ObservationCache) and the transition state of each requested VNet. Never writes.
  Result<TransitionObservation> observe(const controller::ReconcileContext& context, const Json& observedAccount);

  /// Runs the checks for the first VNet that is not done and sends its POST; nothing is sent when
  /// every requested VNet is done. Errors are the guards' (see the header comment).
  Result<TransitionStep> next(const controller::ReconcileContext& context, const Json& observedAccount,
                              const TransitionObservation& seen);

 private:
  std::optional<ReconcileError> checkEndpoint(const controller::ReconcileContext& context,
                                              const TransitionRequest& request);

  FlowAzure& azure_;
  Clock clock_;
};

/// The account's Azure state allows a transition (CMK, Succeeded, key vault status usable); the
/// retryable AccountCmkNotReady error otherwise.
std::optional<ReconcileError> checkAccountCmkReady(const Json& observedAccount);

/// Every volume of an account: one LIST of its pools, then one LIST of volumes per pool (following
/// nextLink), each shared through the context's ObservationCache for the pass (`fresh`: read again, e.g.
/// after an operation changed them). Never writes.
Result<std::vector<ObservedVolume>> listAccountVolumes(FlowAzure& azure, const controller::ReconcileContext& context,
                                                       const std::string& accountId, bool fresh = false);

/// The ARM id of an account document's account (from its spec.azure coordinates).
std::string accountPathOf(const controller::Document& account);

}  // namespace anf::reconcilers::flows
