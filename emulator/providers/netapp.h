#pragma once
// Microsoft.NetApp (2022-05-01, 2023-05-01, 2024-01-01-preview, 2025-06-01): accounts, capacity pools,
// volumes, and the account actions renewCredentials, transitiontocmk, changeKeyVault and
// getKeyVaultStatus. The factory is makeNetAppProvider() in provider.h; this header documents the
// behaviour the operator's tests can rely on.
//
// Long-running operations (the state moves when the core runs `complete`):
//   account PUT    201 + Azure-AsyncOperation, provisioningState Creating (new) / Updating (existing)
//   account PATCH  202 + Location, Patching
//   account DELETE 202 + Location (409 CannotDeleteResource while pools exist)
//   renewCredentials, transitiontocmk, changeKeyVault: 202 + Location (transitiontocmk also Azure-AsyncOperation)
//   getKeyVaultStatus: 200 with the current key vault properties and one private endpoint per VNet with CMK volumes
//   pool PUT 201 + both headers; pool PATCH/DELETE 202 + Location (409 CannotDeleteResource while volumes exist)
//   volume PUT 201 + Azure-AsyncOperation; volume PATCH/DELETE 202 + Location
// Any mutation of an account while an operation runs on it or below it: 409 AnotherOperationInProgress.
// A write to a pool or volume whose provisioningState is not terminal: 409 RequestConflict (ARM's words); a
// volume created in a pool that is not Succeeded: PreconditionFailed; with serialVolumeCreation, a volume created
// while another is being created in the account fails its operation with Conflict (ANF's words).
// Durations: operation kinds account, renewCredentials, transitionToCmk, changeKeyVault, pool and volume
// (World::durationOf). Resource limits and their refusals: netapp_limits.h.
//
// Encryption (key_checks.h has the messages):
//   synchronous 400: the request's shape (keySource, identity wiring, missing user-assigned identity),
//     Microsoft.KeyVault -> Microsoft.NetApp, the cross-tenant feature, the account-table key vault rows;
//   failed operation: the identity's key access — system principal, the user-assigned identity named by
//     encryption.identity.userAssignedIdentity, or cross-tenant the service principal, in the vault's
//     tenant, of the application `federatedClientId` reached through a federated identity credential
//     (subject = the identity's principalId, issuer https://login.microsoftonline.com/{accountTenant}/v2.0)
//     — with kKeyUnusable and the missing link in error.details; then keyVaultProperties.status is
//     "Error" and provisioningState "Failed"; on success "InUse" and "Succeeded".
//   encryption.identity.principalId is set from the identity in use when the account becomes CMK and by
//   renewCredentials; an identity switch by PATCH leaves it stale, as in Azure.
