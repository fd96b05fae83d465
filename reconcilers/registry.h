#pragma once
// The reconcilers of the CMK flows (issue 6), one per kind, and the engine's long-running operation
// poll over the Azure client. cmd/ wires them: makeReconcilers(client) into the engine, with
// makeOperationPoll(client) as its OperationPollFn.
#include <memory>
#include <vector>

#include "controller/reconciler.h"
#include "reconcilers/cross_tenant_application.h"

namespace anf::azure {
class AzureClient;
}

namespace anf::reconcilers {

/// Options of the reconcilers.
struct ReconcilerOptions {
  CrossTenantOptions crossTenant;  // the Entra authority in issuer and consent URLs
};

/// One reconciler per Azure-backed kind: UserAssignedIdentity, NetAppAccount, PrivateEndpoint,
/// CapacityPool, Volume, CrossTenantApplication. `client` must outlive them.
std::vector<controller::ReconcilerPtr> makeReconcilers(azure::AzureClient& client, ReconcilerOptions options = {});

controller::ReconcilerPtr makeUserAssignedIdentityReconciler(azure::AzureClient& client);
controller::ReconcilerPtr makeNetAppAccountReconciler(azure::AzureClient& client);
controller::ReconcilerPtr makePrivateEndpointReconciler(azure::AzureClient& client);
controller::ReconcilerPtr makeCapacityPoolReconciler(azure::AzureClient& client);
controller::ReconcilerPtr makeVolumeReconciler(azure::AzureClient& client);

/// The engine's OperationPollFn: one AzureClient::pollOperation step for a stored
/// azure::OperationState (JSON). A Failed operation's error becomes a ReconcileError through the
/// documented texts (so "Azure Key Vault key is not enabled" reaches status with its resolution).
/// A NetApp child's PUT or PATCH (a pool, a volume) is polled through one LIST of its parent shared by the
/// children's operations, which is also their final resource; what the LIST cannot tell, the operation's status.
/// An ended operation keeps the pass's observations current (OperationProgress::observed): a PUT or PATCH
/// records its final resource, a DELETE the resource gone; a POST, or a failure,
/// drops what the pass holds of the resource, and changeKeyVault and transitiontocmk everything under the
/// account (they move and convert its volumes).
controller::OperationPollFn makeOperationPoll(azure::AzureClient& client);

/// The engine's WriteAdmissionFn: AzureClient::admitWrite for the document's subscription, the document's key
/// holding its slot. Documents without Azure coordinates (Graph writes) are always admitted.
controller::WriteAdmissionFn makeWriteAdmission(azure::AzureClient& client);

}  // namespace anf::reconcilers
