// Volume: observed through one LIST of the pool's volumes per pass (ObservationCache).
// Status facts: resourceId, fileSystemId, encryptionKeySource, keyVaultPrivateEndpointResourceId.
// Refused before sending: a CMK volume without Standard network features or without a private
// endpoint, an endpoint in another VNet than the volume's subnet, a CMK volume on an account that is
// not CMK (the documented text), and any change of encryptionKeySource on an existing volume (the
// documented "EncryptionKeySource cannot be changed"; the PMK→CMK transition is the account's
// spec.transitionToCMK, issue 7 — while the account declares one for the volume's VNet the volume
// waits for it instead). Never a replacement.
#include "azure/client.h"
#include "reconcilers/arm_bodies.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/documented_errors.h"
#include "reconcilers/documents.h"
#include "reconcilers/key_source_reversal.h"
#include "reconcilers/key_vault_checks.h"
#include "reconcilers/registry.h"

namespace anf::reconcilers {
namespace {


const controller::Document* accountOfVolume(const ReconcileContext& context) {
  const auto* pool = findDocument(context.desired, Kind::CapacityPool, specString(context.document, "/poolRef"));
  return pool ? findDocument(context.desired, Kind::NetAppAccount, specString(*pool, "/accountRef")) : nullptr;
}

class VolumeReconciler final : public controller::Reconciler {
 public:
  explicit VolumeReconciler(azure::AzureClient& client) : client_(client) {}
  Kind kind() const override { return Kind::Volume; }

  /// Volumes of one account are written in parallel, apart from their pool's and their account's writes.
  controller::MutationGroup mutationGroup(const ReconcileContext& context) const override {
    auto id = volumeIdOf(context.document, context.desired);
    return id ? controller::MutationGroup(id->parent()->parent()->key(), id->key()) : controller::MutationGroup();
  }

  Result<Observation> observe(const ReconcileContext& context) override {
    auto id = volumeIdOf(context.document, context.desired);
    if (!id) return std::unexpected(dependencyNotReady("the volume's capacity pool document"));
    auto listed = observeListed(client_, context, *id, "volumes");
    if (!listed) return std::unexpected(listed.error());
    auto& [observation, volume] = *listed;
    if (!volume) return observation;
    const Json properties = volume->value("properties", Json::object());
    // A volume whose creation failed holds no data: it is created again (a PUT over it), not Ready.
    if (properties.value("provisioningState", "") == "Failed") {
      observation.facts["provisioningState"] = "Failed";
      return observation;
    }
    observation.exists = true;
    for (const char* fact : {"fileSystemId", "encryptionKeySource", "keyVaultPrivateEndpointResourceId"})
      if (properties.contains(fact)) observation.facts[fact] = properties[fact];
    auto settings = settingsOf(context);
    if (!settings) return std::unexpected(settings.error());
    observation.diff = diffBodies(volumeBody(*settings), *volume,
                                  {.ignorePaths = {"location"}, .caseSensitivePaths = {"properties.creationToken"}});
    observation.upToDate = observation.diff.empty();
    // A change update() refuses leaves the document not Ready, with the refusal as the reason.
    for (const auto& d : observation.diff)
      if (auto refusal = refusalFor(context, *settings, d))
        observation.conditions.push_back({"Ready", "False", refusal->reason, refusal->message, ""});
    return observation;
  }

  Result<Outcome> create(const ReconcileContext& context, const Observation&) override {
    auto id = volumeIdOf(context.document, context.desired);
    if (!id) return std::unexpected(dependencyNotReady("the volume's capacity pool document"));
    auto settings = settingsOf(context);
    if (!settings) return std::unexpected(settings.error());
    if (auto error = checkBeforeCreate(context, *settings)) return std::unexpected(*error);
    return writeListed(client_, context, ListedWrite::Put, *id, volumeBody(*settings),
                       std::string{"created volume ("} + settings->encryptionKeySource + ")");
  }

  Result<Outcome> update(const ReconcileContext& context, const Observation& observed) override {
    auto id = volumeIdOf(context.document, context.desired);
    if (!id) return std::unexpected(dependencyNotReady("the volume's capacity pool document"));
    auto settings = settingsOf(context);
    if (!settings) return std::unexpected(settings.error());
    for (const auto& d : observed.diff)
      if (auto refusal = refusalFor(context, *settings, d)) return std::unexpected(*refusal);
    Json patch{{"properties", {{"usageThreshold", settings->usageThresholdGiB * kGiB}}}};
    return writeListed(client_, context, ListedWrite::Patch, *id, std::move(patch), "resized volume");
  }

  Result<Outcome> remove(const ReconcileContext& context, const Observation&) override {
    auto id = volumeIdOf(context.document, context.desired);
    if (!id) return Outcome{.description = "pool document gone: nothing to delete"};
    return writeListed(client_, context, ListedWrite::Delete, *id, nullptr, "deleted volume");
  }

 private:
  /// The refusal of an observed difference: any but the size, which is the only field that changes in place.
  std::optional<ReconcileError> refusalFor(const ReconcileContext& context, const VolumeSettings& settings,
                                           const controller::FieldDiff& d) {
    if (d.path == "properties.usageThreshold") return std::nullopt;
    if (d.path == "properties.encryptionKeySource") return keySourceChange(context, settings, d);
    if (d.path == "properties.keyVaultPrivateEndpointResourceId")
      if (auto wait = awaitingKeyVaultChange(context, d)) return wait;
    return refused("VolumeFieldImmutable", "spec: " + d.path + " of an existing volume cannot change (" + d.observed.dump() +
                                               " -> " + d.desired.dump() + "); the volume is never replaced");
  }

  Result<VolumeSettings> settingsOf(const ReconcileContext& context) {
    const auto& document = context.document;
    VolumeSettings volume{.location = document.azure->location,
                          .creationToken = specString(document, "/creationToken"),
                          .subnetId = specString(document, "/subnetId")};
    if (document.spec.contains("usageThresholdGiB")) volume.usageThresholdGiB = document.spec["usageThresholdGiB"].get<std::int64_t>();
    if (document.spec.contains("protocolTypes")) volume.protocolTypes = document.spec["protocolTypes"].get<std::vector<std::string>>();
    if (auto features = specString(document, "/networkFeatures"); !features.empty()) volume.networkFeatures = features;
    if (auto source = specString(document, "/encryptionKeySource"); !source.empty()) volume.encryptionKeySource = source;
    if (!equalsIgnoreCase(volume.encryptionKeySource, kKeySourceKeyVault)) return volume;
    if (auto ref = specString(document, "/keyVaultPrivateEndpointRef"); !ref.empty()) {
      auto endpointId = referencedFact(context, Kind::PrivateEndpoint, ref, "resourceId");
      if (!endpointId) return std::unexpected(dependencyNotReady("PrivateEndpoint/" + ref));
      volume.keyVaultPrivateEndpointResourceId = *endpointId;
    } else {
      volume.keyVaultPrivateEndpointResourceId = specString(document, "/keyVaultPrivateEndpointId");
    }
    return volume;
  }

  std::optional<ReconcileError> checkBeforeCreate(const ReconcileContext& context, const VolumeSettings& volume) {
    if (!equalsIgnoreCase(volume.encryptionKeySource, kKeySourceKeyVault)) return std::nullopt;
    if (!equalsIgnoreCase(volume.networkFeatures, "Standard"))
      return refused("CmkRequiresStandardNetworkFeatures",
                     "spec.networkFeatures: a customer-managed key volume needs Standard network features; Basic "
                     "network features are not supported");
    if (volume.keyVaultPrivateEndpointResourceId.empty())
      return refused("CmkRequiresPrivateEndpoint",
                     "spec.keyVaultPrivateEndpointRef: a customer-managed key volume needs the key vault's private "
                     "endpoint in the volume's VNet");
    if (auto error = checkEndpointVnet(context, volume)) return error;
    if (auto error = checkEndpointVault(context)) return error;
    if (auto error = checkEndpointApproved(context)) return error;
    if (const auto* account = accountOfVolume(context)) {
      const controller::ResourceStatus* status = context.statusOf ? context.statusOf(account->key) : nullptr;
      if (auto error = checkAccountKeyUsable(context, *account, status)) return error;
      if (status && status->facts.contains("encryption") &&
          !equalsIgnoreCase(status->facts["encryption"].value("keySource", ""), kKeySourceKeyVault))
        return toReconcileError(kAccountNotConfiguredForCmk);
    }
    return std::nullopt;
  }

  std::optional<ReconcileError> checkEndpointVnet(const ReconcileContext& context, const VolumeSettings& volume) {
    std::string endpointSubnet;
    if (auto ref = specString(context.document, "/keyVaultPrivateEndpointRef"); !ref.empty())
      endpointSubnet = referencedFact(context, Kind::PrivateEndpoint, ref, "subnetId").value_or("");
    if (endpointSubnet.empty()) {
      auto id = azure::ResourceId::parse(volume.keyVaultPrivateEndpointResourceId);
      if (!id) return refused("InvalidPrivateEndpointId", "spec.keyVaultPrivateEndpointId: " + id.error());
      auto endpoint = getIfExists(client_, credentialOf(context.document), *id);
      if (!endpoint) return endpoint.error();
      if (!*endpoint)
        return waitingForAzure("PrivateEndpointNotFound", "spec.keyVaultPrivateEndpointId: " + volume.keyVaultPrivateEndpointResourceId +
                                                      " does not exist");
      endpointSubnet = (*endpoint)->value("/properties/subnet/id"_json_pointer, std::string{});
    }
    const std::string endpointVnet = azure::virtualNetworkOf(endpointSubnet);
    const std::string volumeVnet = azure::virtualNetworkOf(volume.subnetId);
    if (!endpointVnet.empty() && !volumeVnet.empty() && !equalsIgnoreCase(endpointVnet, volumeVnet))
      return refused("PrivateEndpointInAnotherVnet",
                     "spec.keyVaultPrivateEndpointRef: the key vault's private endpoint is in " + endpointVnet +
                         " but the volume's subnet is in " + volumeVnet + "; it must reside in the same VNet as the volume");
    return std::nullopt;
  }

  /// The account's key must be usable now (enabled, not expired, activated) — it can change after the account
  /// was configured, and Azure would leave a Failed volume: the documented "Unable to use the configured
  /// encryption key", not parked (the key can be fixed in Azure). A key that cannot be read is left to Azure.
  /// The key is read once per pass for all volumes (the account's observation reads it too).
  std::optional<ReconcileError> checkAccountKeyUsable(const ReconcileContext& context, const controller::Document& account,
                                                      const controller::ResourceStatus* status) {
    const Json keyVault = status ? status->facts.value("keyVault", Json::object()) : Json::object();
    auto vaultId = azure::ResourceId::parse(keyVault.value("resourceId", ""));
    const std::string keyName = keyVault.value("keyName", "");
    if (!vaultId || keyName.empty()) return std::nullopt;
    auto key = getForPass(client_, context, credentialOf(account), vaultId->child("keys", keyName));
    if (!key || !*key) return std::nullopt;
    const DocumentedError* unusable = keyUnusableCondition(**key, nowUnixSeconds());
    if (!unusable) return std::nullopt;
    ReconcileError error = toReconcileError(kEncryptionKeyUnusable);
    error.message += " (" + account.key.str() + ": key " + keyName + ": " + std::string{unusable->text} + ")";
    return error;
  }

  /// The endpoint's connection to the vault must be Approved, or Azure would leave a Failed volume: the
  /// documented "Could not connect to the KeyVault", re-checked until someone approves the connection.
  static std::optional<ReconcileError> checkEndpointApproved(const ReconcileContext& context) {
    const std::string ref = specString(context.document, "/keyVaultPrivateEndpointRef");
    const auto state = ref.empty() ? std::nullopt : referencedFact(context, Kind::PrivateEndpoint, ref, "connectionState");
    if (!state || state->empty() || *state == "Approved") return std::nullopt;
    ReconcileError error = toReconcileError(kKeyVaultUnreachable);
    error.message += " (PrivateEndpoint/" + ref + ": the connection to the key vault is " + *state + ", not Approved)";
    return error;
  }

  /// The endpoint must connect to the account's key vault, or Azure NetApp Files cannot reach the key: the
  /// documented "Could not connect to the KeyVault", before a volume is sent (Azure would leave it Failed).
  static std::optional<ReconcileError> checkEndpointVault(const ReconcileContext& context) {
    const std::string ref = specString(context.document, "/keyVaultPrivateEndpointRef");
    const auto* endpoint = ref.empty() ? nullptr : findDocument(context.desired, Kind::PrivateEndpoint, ref);
    const auto* account = accountOfVolume(context);
    if (!endpoint || !account) return std::nullopt;
    const std::string target = specString(*endpoint, "/keyVaultResourceId");
    const std::string vault = specString(*account, "/encryption/keyVault/resourceId");
    if (target.empty() || vault.empty() || equalsIgnoreCase(target, vault)) return std::nullopt;
    ReconcileError error = toReconcileError(kKeyVaultUnreachable);
    error.message += " (spec.keyVaultPrivateEndpointRef: " + endpoint->key.str() + " connects to " + target +
                     ", not to the account's key vault " + vault + ")";
    return error;
  }

  /// A volume declared on an endpoint that its account's key vault change lists for the volume's VNet waits for
  /// changeKeyVault to move it there (Azure does, in place); refusing it would park the volume at this
  /// generation although the change is on its way.
  static std::optional<ReconcileError> awaitingKeyVaultChange(const ReconcileContext& context, const controller::FieldDiff& diff) {
    const auto* account = accountOfVolume(context);
    if (!account || !diff.desired.is_string()) return std::nullopt;
    const std::string ref = specString(context.document, "/keyVaultPrivateEndpointRef");
    const Json endpoints = account->spec.value("/encryption/keyVault/privateEndpoints"_json_pointer, Json::array());
    for (const Json& entry : endpoints) {
      const bool named = (!ref.empty() && entry.value("privateEndpointRef", "") == ref) ||
                         equalsIgnoreCase(entry.value("privateEndpointId", ""), diff.desired.get<std::string>());
      if (named)
        return waitingForAzure("AwaitingKeyVaultChange", "the volume moves to " + diff.desired.get<std::string>() + " through " +
                                                           account->key.str() + "'s key vault change (changeKeyVault), in place",
                               std::chrono::seconds{5});
    }
    return std::nullopt;
  }

  ReconcileError keySourceChange(const ReconcileContext& context, const VolumeSettings& volume,
                                 const controller::FieldDiff& diff) {
    // CMK -> PMK: the transition is irreversible (issue 7).
    if (auto reversal = refuseKeySourceReversal(context.document.key.str(), volume.encryptionKeySource,
                                                       diff.observed.is_string() ? diff.observed.get<std::string>() : ""))
      return *reversal;
    const std::string vnet = azure::virtualNetworkOf(volume.subnetId);
    if (equalsIgnoreCase(volume.encryptionKeySource, kKeySourceKeyVault))
      if (const auto* account = accountOfVolume(context))
        for (const Json& transition : account->spec.value("transitionToCMK", Json::array()))
          if (equalsIgnoreCase(transition.value("virtualNetworkId", ""), vnet))
            return waitingForAzure("AwaitingTransition", "the volume becomes Microsoft.KeyVault through " + account->key.str() +
                                                           " spec.transitionToCMK for " + vnet, std::chrono::seconds{5});
    ReconcileError error = toReconcileError(kEncryptionKeySourceChange);
    error.message += " (spec.encryptionKeySource " + diff.observed.dump() + " -> " + diff.desired.dump() +
                     ": the volume is never replaced; PMK volumes move to customer-managed keys through the "
                     "account's spec.transitionToCMK, and never back)";
    return error;
  }

  azure::AzureClient& client_;
};

}  // namespace

controller::ReconcilerPtr makeVolumeReconciler(azure::AzureClient& client) {
  return std::make_unique<VolumeReconciler>(client);
}

}  // namespace anf::reconcilers
