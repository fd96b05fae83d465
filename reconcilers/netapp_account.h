#pragma once
// The NetApp account flow (SPEC §1, reference page "Configure a NetApp account to use customer-managed
// keys"), one step per call, in this order — each step only once the previous one holds in Azure:
//   1. the account exists (PUT with its identity; no encryption yet: the key is not granted yet);
//   2. a system-assigned identity is enabled (PATCH identity) so that its principal is known;
//   3. key vault checks (key_vault_checks.h) — a failure is returned from observe(), so the engine
//      sets KeyVaultValid=False and nothing at all is written to the account;
//   4. key access for the identity in use (key_access.h), read from the vault at every observation
//      (AccessGranted says what Azure holds now, never what status remembers) and granted again when it
//      went missing: access policy, minimal custom role or Key Vault Crypto User; authorization errors
//      right after a grant are retried after a delay (error_classes.h), not failures;
//   5. encryption PATCH {keySource, keyVaultProperties{keyVaultUri, keyName, keyVaultResourceId},
//      identity} — also the rekey (keyName changed in the same vault; planNotes list the CMK
//      volumes it affects) and the system→user identity switch (identity and encryption.identity in
//      one PATCH, after step 4 granted the new identity);
//   6. after a switch, encryption.identity.principalId must equal the user identity's principalId:
//      POST renewCredentials when it does not;
//   7. the key vault change (key_vault_change.h: getKeyVaultStatus, changeKeyVault) when the account's
//      vault is not the declared one, then the PMK→CMK transition (transition.h), one step each.
// Cross-tenant (spec.encryption.crossTenant): the vault is in the customer's tenant, so steps 3 and 4 are
// the customer's (no read, check or grant from the provider; keyVault.uri required); before step 5
// prepareCrossTenantEncryption() (cross_tenant_chain.h) checks the chain (feature, application, subject,
// consent, key access, endpoint approval); a failed cross-tenant PATCH waits for Azure (kRetryOnFailure).
// An encryption PATCH that failed (a grant removed while it ran, a customer step missing) leaves the vault
// in Error: once steps 3 and 4 hold again, step 5 sends it again.
// Refused before sending, as terminal errors: Microsoft.KeyVault back to Microsoft.NetApp.
//
// Status facts: resourceId, identity (ARM's), encryption (ARM's), keyVaultStatus
// (encryption.keyVaultProperties.status), keyVault {resourceId, name, keyName}, keyExpiry (Unix
// seconds, for anf_cmk_key_expiry_timestamp_seconds), principalId (the identity in use),
// accessGrantedAt (Unix seconds of the last grant this operator made).
#include <string_view>

namespace anf::reconcilers {

/// Set true in a stored operation (Outcome::operation) whose failure waits for Azure instead of being parked:
/// the cross-tenant encryption PATCH, which fails while a customer step is missing (makeOperationPoll).
inline constexpr std::string_view kRetryOnFailure = "retryOnFailure";
/// Set true in a stored operation started moments after this operator granted key access: its failure
/// with EncryptionKeyUnusable or an authorization code is the grant still propagating (retried after a delay).
inline constexpr std::string_view kAfterGrant = "afterGrant";

}  // namespace anf::reconcilers
