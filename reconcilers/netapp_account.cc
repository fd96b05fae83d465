// NetAppAccount: see netapp_account.h for the flow and its order.
#include "reconcilers/netapp_account.h"

#include <chrono>

#include "azure/client.h"
#include "reconcilers/arm_bodies.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/cross_tenant_chain.h"
#include "reconcilers/documented_errors.h"
#include "reconcilers/documents.h"
#include "reconcilers/key_access.h"
#include "reconcilers/key_vault_change.h"
#include "reconcilers/key_vault_checks.h"
#include "reconcilers/post_action.h"
#include "reconcilers/registry.h"
#include "reconcilers/transition.h"

namespace anf::reconcilers {
namespace {

using controller::Condition;

constexpr std::int64_t kGrantPropagationSeconds = 600;
constexpr std::string_view kAccountType = "Microsoft.NetApp/netAppAccounts";

std::string at(const Json& json, const char* pointer) {
  const Json::json_pointer p{pointer};
  return json.contains(p) && json.at(p).is_string() ? json.at(p).get<std::string>() : "";
}

/// Everything one pass knows about the account: declared and observed, read fresh by observe()
/// and again by update() (level-based: no state is carried between calls but status facts).
struct Snapshot {
  azure::ResourceId accountId;
  std::optional<Json> account;        // as Azure returns it
  std::string identityType;           // declared: SystemAssigned | UserAssigned | None | ""
  std::string userIdentityId;         // declared user-assigned identity (ARM id)
  std::string userPrincipalId;
  bool cmk = false;                   // declared keySource Microsoft.KeyVault
  std::optional<azure::ResourceId> vaultId;
  std::optional<Json> vault;
  std::optional<Json> key;
  std::string vaultUri;               // the one to configure
  std::string keyName;
  std::string principalId;            // identity in use for key access ("" while unknown)
  std::optional<bool> accessGranted;  // nullopt: not checked (no CMK, or principal unknown)
  bool vaultChange = false;           // CMK in Azure with another vault than declared: step 7 changes it
  bool crossTenant = false;           // spec.encryption.crossTenant: the vault is in the customer's tenant
  std::string federatedClientId;      // cross-tenant: the application's appId ("" while unknown)
};

class NetAppAccountReconciler final : public controller::Reconciler {
 public:
  explicit NetAppAccountReconciler(azure::AzureClient& client) : client_(client), access_(client) {}
  Kind kind() const override { return Kind::NetAppAccount; }

  /// The account's own writes (PATCH, changeKeyVault, transitiontocmk) exclude its pools' and volumes'.
  controller::MutationGroup mutationGroup(const ReconcileContext& context) const override {
    auto id = accountIdOf(context.document);
    return id ? controller::MutationGroup(id->key()) : controller::MutationGroup();
  }

  Result<Observation> observe(const ReconcileContext& context) override {
    auto snapshot = gather(context);
    if (!snapshot) return std::unexpected(snapshot.error());
    const Snapshot& s = *snapshot;
    Observation observation;
    observation.facts["resourceId"] = s.accountId.str();
    if (s.cmk) {
      observation.conditions.push_back(
          s.crossTenant ? Condition{"KeyVaultValid", "Unknown", "CheckedByCustomer",
                                    "the key vault is in the customer's tenant: the customer keeps it valid", ""}
                        : Condition{"KeyVaultValid", "True", "KeyVaultValid", "key vault and key pass the documented checks", ""});
      observation.facts["keyVault"] = {{"resourceId", s.vaultId->str()}, {"name", s.vaultId->name()}, {"keyName", s.keyName}};
      if (s.key)
        if (auto exp = keyExpiry(*s.key)) observation.facts["keyExpiry"] = *exp;
    }
    if (!s.principalId.empty()) observation.facts["principalId"] = s.principalId;
    if (s.accessGranted)
      observation.conditions.push_back(*s.accessGranted
                                           ? Condition{"AccessGranted", "True", "AccessGranted", "the identity holds key access", ""}
                                           : Condition{"AccessGranted", "False", "AccessMissing",
                                                       "the identity " + s.principalId + " has no key access yet", ""});
    if (!s.account) return observation;
    const Json& account = *s.account;
    observation.exists = true;
    if (account.contains("identity")) observation.facts["identity"] = account["identity"];
    if (const Json* encryption = account.contains("properties") ? findMember(account["properties"], "encryption") : nullptr) {
      observation.facts["encryption"] = *encryption;
      observation.facts["keyVaultStatus"] = at(*encryption, "/keyVaultProperties/status");
    }
    observation.diff = diffOf(context, s);
    if (s.cmk) addRekeyNote(context, s, observation);
    observation.upToDate = true;
    if (auto steps = observeLaterSteps(context, s, observation); !steps) return std::unexpected(steps.error());
    observation.upToDate = observation.upToDate && observation.diff.empty();
    return observation;
  }

  Result<Outcome> create(const ReconcileContext& context, const Observation&) override {
    auto snapshot = gather(context);
    if (!snapshot) return std::unexpected(snapshot.error());
    const Snapshot& s = *snapshot;
    if (s.account) return update(context, {});
    // No encryption yet: the identity has no key access until the account (and its principal) exists.
    auto result = await(client_.put(credentialOf(context.document), s.accountId,
                                    accountPutBody(context.document.azure->location, desiredIdentity(s), std::nullopt)));
    if (!recordWrite(context.cache, s.accountId, result)) return std::unexpected(result.error());
    return outcomeOf(*result, "created NetApp account");
  }

  Result<Outcome> update(const ReconcileContext& context, const Observation&) override {
    auto snapshot = gather(context);
    if (!snapshot) return std::unexpected(snapshot.error());
    const Snapshot& s = *snapshot;
    if (!s.account) return create(context, {});
    const std::string credential = credentialOf(context.document);
    const Json& account = *s.account;

    // 2. A system-assigned identity first, so that its principal exists to be granted.
    if (s.identityType == "SystemAssigned" && !hasIdentityType(account, "SystemAssigned")) {
      auto result = await(client_.patch(credential, s.accountId, accountPatchBody(AccountIdentity{"SystemAssigned", ""}, std::nullopt)));
      if (!recordWrite(context.cache, s.accountId, result)) return std::unexpected(result.error());
      return outcomeOf(*result, "enabled system-assigned identity");
    }
    if (s.cmk) {
      if (s.principalId.empty()) return std::unexpected(dependencyNotReady("the principal id of the account's identity"));
      // 4. Key access before encryption.
      if (s.accessGranted == false) {
        auto outcome = access_.grant(context, accessRequest(context, s));
        if (outcome) outcome->facts["principalId"] = s.principalId;
        return outcome;
      }
    }
    // 5. Encryption (and identity, for a switch) in one PATCH.
    const auto diff = diffOf(context, s);
    const bool encryptionDiffers = std::ranges::any_of(diff, [](const auto& d) {
      return d.path.starts_with("identity") || (d.path.starts_with("properties.encryption") &&
                                                 d.path != "properties.encryption.identity.principalId");
    });
    if (encryptionDiffers && s.crossTenant) {  // every link of the cross-tenant chain first
      auto gate = prepareCrossTenantEncryption(client_, context);
      if (!gate) return std::unexpected(gate.error());
      if (*gate) return std::move(**gate);
    }
    if (encryptionDiffers) return patchEncryption(context, s);
    // 6. After a switch the encryption identity must be the user identity: renewCredentials fixes it.
    if (std::ranges::any_of(diff, [](const auto& d) { return d.path == "properties.encryption.identity.principalId"; })) {
      if (auto busy = accountBusy(account, "renewCredentials")) return std::unexpected(*busy);
      auto result = sendAccountAction(client_, context, waits_, s.accountId, "renewCredentials", Json::object());
      if (!result) return std::unexpected(result.error());
      return outcomeOf(*result, "renewed credentials: encryption.identity.principalId did not match the user identity");
    }
    // 7. The key vault change, then the PMK->CMK transition, one step each.
    for (auto step : {changeKeyVaultStep, nextTransitionStep}) {
      auto outcome = step(client_, context, account, waits_);
      if (!outcome) return std::unexpected(outcome.error());
      if (*outcome) return std::move(**outcome);
    }
    return Outcome{.description = "NetApp account up to date"};
  }

  Result<Outcome> remove(const ReconcileContext& context, const Observation&) override {
    auto id = accountIdOf(context.document);
    return deleteIfExists(client_, credentialOf(context.document), *id, "deleted NetApp account");
  }

 private:
  Result<Snapshot> gather(const ReconcileContext& context) {
    const controller::Document& document = context.document;
    const std::string credential = credentialOf(document);
    Snapshot s{.accountId = *accountIdOf(document)};
    // One LIST of the resource group's accounts per pass observes them all.
    auto accounts = listForPass(client_, context, credential, *s.accountId.parent(), kAccountType);
    if (!accounts) return std::unexpected(accounts.error());
    s.account = findByName(*accounts, s.accountId.name());

    s.identityType = specString(document, "/identity/type");
    if (auto error = resolveUserIdentity(context, s)) return std::unexpected(*error);
    s.cmk = equalsIgnoreCase(specString(document, "/encryption/keySource"), kKeySourceKeyVault);
    const std::string observedKeySource = s.account ? at(*s.account, "/properties/encryption/keySource") : "";
    if (!s.cmk && equalsIgnoreCase(observedKeySource, kKeySourceKeyVault))
      return std::unexpected(refused(
          "CmkToPmkRefused",
          "spec.encryption.keySource: the account encrypts with customer-managed keys (Microsoft.KeyVault) in Azure; "
          "going back to platform-managed keys (Microsoft.NetApp) is not supported and is refused"));
    if (!s.cmk) return s;

    const std::string declaredVaultId = specString(document, "/encryption/keyVault/resourceId");
    auto vaultId = azure::ResourceId::parse(declaredVaultId);
    if (!vaultId || !azure::isResourceType(declaredVaultId, "Microsoft.KeyVault/vaults"))
      return std::unexpected(toReconcileError(kKeyVaultUriInvalid, "spec.encryption.keyVault.resourceId"));
    s.vaultId = *vaultId;
    s.keyName = specString(document, "/encryption/keyVault/keyName");
    s.federatedClientId = specString(document, "/encryption/crossTenant/federatedClientId");
    s.crossTenant = declaresCrossTenant(document);
    if (s.crossTenant) {
      if (auto error = crossTenantSnapshot(context, s)) return std::unexpected(*error);
    } else {
      auto vault = getForPass(client_, context, credential, *s.vaultId);
      if (!vault) return std::unexpected(vault.error());
      s.vault = std::move(*vault);
      if (s.vault && !s.keyName.empty()) {
        auto key = getForPass(client_, context, credential, s.vaultId->child("keys", s.keyName));
        if (!key) return std::unexpected(key.error());
        s.key = std::move(*key);
      }
      // 3. The documented checks; a failure stops here, before any write.
      const std::string declaredUri = specString(document, "/encryption/keyVault/uri");
      auto checked = checkKeyVault({.vault = s.vault, .key = s.key, .declaredUri = declaredUri,
                                    .accountLocation = document.azure->location, .nowUnixSeconds = nowUnixSeconds()});
      if (!checked) return std::unexpected(checked.error());
      s.vaultUri = effectiveVaultUri(declaredUri, *s.vault);
    }

    if (s.account && equalsIgnoreCase(observedKeySource, kKeySourceKeyVault)) {
      const std::string observedVaultId = at(*s.account, "/properties/encryption/keyVaultProperties/keyVaultResourceId");
      const std::string observedUri = at(*s.account, "/properties/encryption/keyVaultProperties/keyVaultUri");
      s.vaultChange = (!observedVaultId.empty() && !equalsIgnoreCase(observedVaultId, s.vaultId->str())) ||
                      (!observedUri.empty() && !sameVaultUri(observedUri, s.vaultUri));
    }

    s.principalId = s.identityType == "UserAssigned" ? s.userPrincipalId
                    : s.account                      ? at(*s.account, "/identity/principalId")
                                                     : "";
    if (!s.principalId.empty() && !s.crossTenant) {
      auto granted = access_.granted(context, accessRequest(context, s));
      if (!granted) return std::unexpected(granted.error());
      s.accessGranted = *granted;
    }
    return s;
  }

  std::optional<ReconcileError> resolveUserIdentity(const ReconcileContext& context, Snapshot& s) {
    if (s.identityType != "UserAssigned") return std::nullopt;
    const std::string ref = specString(context.document, "/identity/userAssignedIdentityRef");
    if (!ref.empty()) {
      auto id = referencedFact(context, Kind::UserAssignedIdentity, ref, "resourceId");
      auto principal = referencedFact(context, Kind::UserAssignedIdentity, ref, "principalId");
      if (!id || !principal) return dependencyNotReady("UserAssignedIdentity/" + ref);
      s.userIdentityId = *id;
      s.userPrincipalId = *principal;
      return std::nullopt;
    }
    s.userIdentityId = specString(context.document, "/identity/userAssignedIdentityId");
    auto id = azure::ResourceId::parse(s.userIdentityId);
    if (!id) return refused("InvalidIdentityId", "spec.identity.userAssignedIdentityId: " + id.error());
    auto identity = getForPass(client_, context, credentialOf(context.document), *id);
    if (!identity) return identity.error();
    if (!*identity) return waitingForAzure("IdentityNotFound", "spec.identity.userAssignedIdentityId: " + s.userIdentityId + " does not exist");
    s.userPrincipalId = at(**identity, "/properties/principalId");
    return std::nullopt;
  }

  /// Cross-tenant (issue 7): the customer's vault is in another tenant, which the provider's credential
  /// cannot read; its checks and the grant are the customer's steps (CrossTenantApplication status).
  std::optional<ReconcileError> crossTenantSnapshot(const ReconcileContext& context, Snapshot& s) const {
    if (s.identityType != "UserAssigned")
      return refused("CrossTenantNeedsUserAssignedIdentity",
                     "spec.identity.type: cross-tenant customer-managed keys need a UserAssigned identity (the subject "
                     "of the application's federated identity credential), not '" + s.identityType + "'");
    s.vaultUri = specString(context.document, "/encryption/keyVault/uri");
    if (s.vaultUri.empty())
      return refused("KeyVaultUriRequired",
                     "spec.encryption.keyVault.uri: required for cross-tenant customer-managed keys; the provider "
                     "tenant cannot read the customer's vault " + s.vaultId->str() + " to learn it");
    if (s.federatedClientId.empty())
      s.federatedClientId = referencedFact(context, Kind::CrossTenantApplication,
                                           specString(context.document, "/encryption/crossTenant/applicationRef"),
                                           "applicationId")
                                .value_or("");
    return std::nullopt;
  }

  KeyAccessRequest accessRequest(const ReconcileContext& context, const Snapshot& s) const {
    return KeyAccessRequest{.credential = credentialOf(context.document), .vaultId = *s.vaultId, .vault = *s.vault,
                            .principalId = s.principalId, .mode = accessModeOf(context.document.spec, *s.vault),
                            .role = accessRoleOf(context.document.spec)};
  }

  static std::optional<AccountIdentity> desiredIdentity(const Snapshot& s) {
    if (s.identityType.empty()) return std::nullopt;
    return AccountIdentity{s.identityType, s.identityType == "UserAssigned" ? s.userIdentityId : ""};
  }

  static std::optional<AccountEncryption> desiredEncryption(const ReconcileContext& context, const Snapshot& s) {
    if (!s.cmk) {
      if (specString(context.document, "/encryption/keySource").empty()) return std::nullopt;
      return AccountEncryption{};
    }
    return AccountEncryption{.keySource = std::string{kKeySourceKeyVault}, .keyVaultUri = s.vaultUri,
                             .keyName = s.keyName, .keyVaultResourceId = s.vaultId->str(),
                             .userAssignedIdentity = s.identityType == "UserAssigned" ? s.userIdentityId : "",
                             .federatedClientId = s.federatedClientId};
  }

  static bool hasIdentityType(const Json& account, std::string_view type) {
    return at(account, "/identity/type").find(type) != std::string::npos;
  }

  std::vector<controller::FieldDiff> diffOf(const ReconcileContext& context, const Snapshot& s) const {
    const Json& account = *s.account;
    Json desired = accountPatchBody(desiredIdentity(s), desiredEncryption(context, s));
    DiffOptions options;
    if (s.vaultChange) options.ignorePaths.push_back("properties.encryption.keyVaultProperties");
    if (s.identityType == "SystemAssigned" && hasIdentityType(account, "SystemAssigned"))
      options.ignorePaths.push_back("identity.type");  // "SystemAssigned,UserAssigned" also has it
    auto diff = diffBodies(desired, account, options);
    if (s.accessGranted == false)
      diff.push_back({"keyVault.access", Json{{"principalId", s.principalId}, {"granted", true}},
                      Json{{"principalId", s.principalId}, {"granted", false}}});
    if (s.cmk && equalsIgnoreCase(at(account, "/properties/encryption/keySource"), kKeySourceKeyVault)) {
      // An encryption PATCH that failed (a grant removed while it ran, a customer step missing) leaves the
      // vault in Error: once observe finds the cause gone, it is sent again.
      const std::string status = at(account, "/properties/encryption/keyVaultProperties/status");
      if (status == "Error" || at(account, "/properties/provisioningState") == "Failed")
        diff.push_back({"properties.encryption.keyVaultProperties.status", "InUse", status});
    }
    if (s.cmk && s.identityType == "UserAssigned" && equalsIgnoreCase(at(account, "/identity/type"), "UserAssigned")) {
      const std::string encryptionPrincipal = at(account, "/properties/encryption/identity/principalId");
      if (!encryptionPrincipal.empty() && !equalsIgnoreCase(encryptionPrincipal, s.userPrincipalId))
        diff.push_back({"properties.encryption.identity.principalId", s.userPrincipalId, encryptionPrincipal});
    }
    return diff;
  }

  static void addRekeyNote(const ReconcileContext& context, const Snapshot& s, Observation& observation) {
    const std::string observedKey = at(*s.account, "/properties/encryption/keyVaultProperties/keyName");
    if (observedKey.empty() || equalsIgnoreCase(observedKey, s.keyName) || s.vaultChange) return;
    const auto volumes = cmkVolumesOfAccount(context);
    observation.planNotes.push_back("rekey " + observedKey + " -> " + s.keyName + " in " + s.vaultId->name() +
                                    ": rekeys the account's CMK volumes: " + (volumes.empty() ? "(none declared)" : joinKeys(volumes)));
  }

  Result<Outcome> patchEncryption(const ReconcileContext& context, const Snapshot& s) {
    const Json& account = *s.account;
    const std::string observedKey = at(account, "/properties/encryption/keyVaultProperties/keyName");
    const bool switching = s.identityType == "UserAssigned" && !equalsIgnoreCase(at(account, "/identity/type"), "UserAssigned");
    auto encryption = desiredEncryption(context, s);
    if (s.vaultChange && encryption) {  // step 7 moves the vault; keep Azure's vault here
      const Json observedVault = account["properties"]["encryption"]["keyVaultProperties"];
      encryption->keyVaultUri = observedVault.value("keyVaultUri", "");
      encryption->keyName = observedVault.value("keyName", "");
      encryption->keyVaultResourceId = observedVault.value("keyVaultResourceId", "");
    }
    azure::RequestOptions options;
    const auto grantedAt = context.self.facts.value("accessGrantedAt", std::int64_t{0});
    const bool recentGrant = nowUnixSeconds() - grantedAt < kGrantPropagationSeconds;
    options.afterGrant = recentGrant;
    auto sent = client_.patch(credentialOf(context.document), s.accountId,
                              accountPatchBody(desiredIdentity(s), encryption), options).get();
    auto result = sent ? Result<azure::ArmResult>(std::move(*sent))
                       : std::unexpected(fromAzure(sent.error(), {.grantPropagating = recentGrant}));
    if (!recordWrite(context.cache, s.accountId, result)) return std::unexpected(result.error());
    std::string description = switching ? "switched to the user-assigned identity " + s.userIdentityId
                              : !observedKey.empty() && !equalsIgnoreCase(observedKey, s.keyName)
                                  ? "rekeyed " + observedKey + " -> " + s.keyName + " (CMK volumes: " +
                                        joinKeys(cmkVolumesOfAccount(context)) + ")"
                                  : "set account encryption";
    auto outcome = outcomeOf(*result, description);
    // Cross-tenant: a failure names the customer's missing step (consent, role); it is retried, not parked,
    // so that the account converges once the customer has done it.
    if (s.crossTenant && outcome.operation) (*outcome.operation)[std::string(kRetryOnFailure)] = true;
    if (recentGrant && outcome.operation) (*outcome.operation)[std::string(kAfterGrant)] = true;
    if (s.crossTenant) outcome.description = "set cross-tenant encryption (federatedClientId " + s.federatedClientId + ")";
    return outcome;
  }

  /// Step 7's observations (key vault change, transition) and the cross-tenant conditions.
  Result<void> observeLaterSteps(const ReconcileContext& context, const Snapshot& s, Observation& observation) {
    observeKeyVaultChange(context, *s.account, observation);
    if (auto transition = observeTransitionInto(client_, context, observation); !transition) return transition;
    if (s.crossTenant) return observeCrossTenant(client_, context, *s.account, observation);
    return {};
  }

  azure::AzureClient& client_;
  ActionWaits waits_;  // Azure's refusals of the POST actions (post_action.h)
  KeyAccess access_;
};

}  // namespace

controller::ReconcilerPtr makeNetAppAccountReconciler(azure::AzureClient& client) {
  return std::make_unique<NetAppAccountReconciler>(client);
}

}  // namespace anf::reconcilers
