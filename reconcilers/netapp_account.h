#pragma once
// The NetApp account flow (SPEC §1, reference page "Configure a NetApp account to use customer-managed
// keys"), one step per call, in this order — each step only once the previous one holds in Azure:
//   1. the account exists (PUT with its identity; no encryption yet: the key is not granted yet);
//   2. a system-assigned identity is enabled (PATCH identity) so that its principal is known;
//   3. key vault checks (key_vault_checks.h) — a failure is returned from observe(), so the engine
//      sets KeyVaultValid=False and nothing at all is written to the account;
//   4. key access for the identity in use (key_access.h): access policy, minimal custom role or
//      Key Vault Crypto User; authorization errors right after a grant are retried, not failures;
//   5. encryption PATCH {keySource, keyVaultProperties{keyVaultUri, keyName, keyVaultResourceId},
//      identity} — also the rekey (keyName changed in the same vault; planNotes list the CMK
//      volumes it affects) and the system→user identity switch (identity and encryption.identity in
//      one PATCH, after step 4 granted the new identity);
//   6. after a switch, encryption.identity.principalId must equal the user identity's principalId:
//      POST renewCredentials when it does not;
//   7. extensions (issue 7: PMK→CMK transition, key vault change, cross-tenant), one step each.
// Cross-tenant (spec.encryption.crossTenant, issue 7): the vault is in the customer's tenant, so steps 3
// and 4 are the customer's (no read, check or grant from the provider; keyVault.uri required); before
// step 5 an extension's beforeCrossTenantEncryption() checks the chain (feature, application, subject,
// consent, role, endpoint approval); a failed cross-tenant PATCH is retried (kRetryOnFailure), and a
// vault left in Error by it is PATCHed again.
// Refused before sending, as terminal errors: Microsoft.KeyVault back to Microsoft.NetApp, and a
// changed vault (resource id or URI) unless an extension handles key vault changes.
//
// Status facts: resourceId, identity (ARM's), encryption (ARM's), keyVaultStatus
// (encryption.keyVaultProperties.status), keyVault {resourceId, name, keyName}, keyExpiry (Unix
// seconds, for anf_cmk_key_expiry_timestamp_seconds), principalId (the identity in use),
// accessGrantedAt (Unix seconds of the last grant this operator made).
#include <memory>
#include <optional>
#include <string_view>

#include "controller/reconciler.h"

namespace anf::reconcilers {

/// Set true in a stored operation (Outcome::operation) whose failure is retried instead of parked:
/// the cross-tenant encryption PATCH, which fails while a customer step is missing (makeOperationPoll).
inline constexpr std::string_view kRetryOnFailure = "retryOnFailure";
/// Set true in a stored operation started moments after this operator granted key access: its failure
/// with EncryptionKeyUnusable or an authorization code is the grant still propagating (retried after a delay).
inline constexpr std::string_view kAfterGrant = "afterGrant";

/// A later part of the account flow plugged into the account reconciler (issue 7). Extensions see
/// the account as Azure returns it and the account reconciler's observation.
class AccountExtension {
 public:
  virtual ~AccountExtension() = default;
  /// For logs ("transition", "changeKeyVault", "crossTenant").
  virtual std::string_view name() const = 0;
  /// true when this extension performs key vault changes: the account reconciler then neither refuses a
  /// changed vault nor PATCHes keyVaultProperties of a CMK account itself; the extension's next() does
  /// (getKeyVaultStatus, changeKeyVault). The new vault still passes the key vault checks and the
  /// identity is granted on it first (steps 3 and 4 run against the declared vault).
  virtual bool handlesKeyVaultChange() const { return false; }
  /// true when this extension prepares cross-tenant encryption (spec.encryption.crossTenant): the account
  /// reconciler then neither reads, checks nor grants on the customer's vault (another tenant: the customer
  /// does those) and calls beforeCrossTenantEncryption() right before its encryption PATCH.
  virtual bool handlesCrossTenant() const { return false; }
  /// Before the PATCH that sets cross-tenant encryption: nullopt when every link of the chain holds (go on);
  /// an Outcome when it took a step (feature registration): return it; an error naming the missing link.
  virtual controller::Result<std::optional<controller::Outcome>> beforeCrossTenantEncryption(
      const controller::ReconcileContext&) {
    return std::optional<controller::Outcome>{};
  }
  /// Adds facts, diff, planNotes and conditions; sets upToDate false when it has work. Never writes.
  virtual controller::Result<void> observe(const controller::ReconcileContext& context, const controller::Json& account,
                                           controller::Observation& observation) = 0;
  /// Takes one step, or nullopt when it has nothing to do. Called only when steps 1–6 hold.
  virtual controller::Result<std::optional<controller::Outcome>> next(const controller::ReconcileContext& context,
                                                                     const controller::Json& account,
                                                                     const controller::Observation& observation) = 0;
};
using AccountExtensionPtr = std::unique_ptr<AccountExtension>;

}  // namespace anf::reconcilers
