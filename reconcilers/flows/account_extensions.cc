#include "reconcilers/flows/account_extensions.h"

#include "reconcilers/documents.h"
#include "reconcilers/flows/cross_tenant_application.h"
#include "reconcilers/flows/feature_registration.h"
#include "reconcilers/flows/key_vault_change.h"
#include "reconcilers/flows/transition.h"

namespace anf::reconcilers::flows {

namespace {

/// A preview feature in the account's subscription.
FeatureRef featureOf(const controller::Document& account, std::string_view name) {
  const auto& azure = account.azure.value_or(controller::AzureCoordinates{});
  return FeatureRef{.tenant = azure.tenant, .subscriptionId = azure.subscriptionId, .name = std::string(name)};
}

FeatureRef migrationFeature(const controller::Document& account) { return featureOf(account, kFeatureMigratePmkToCmk); }

class KeyVaultChangeExtension : public AccountExtension {
 public:
  explicit KeyVaultChangeExtension(std::shared_ptr<FlowAzure> azure) : azure_(std::move(azure)) {}
  std::string_view name() const override { return "changeKeyVault"; }
  bool handlesKeyVaultChange() const override { return true; }

  controller::Result<void> observe(const controller::ReconcileContext& context, const Json& account,
                                   controller::Observation& observation) override {
    if (!keyVaultChangePending(context.document.spec, account)) return {};
    const auto target = KeyVaultTarget::fromSpec(context.document.spec);
    observation.upToDate = false;
    observation.diff.push_back(controller::FieldDiff{
        .path = "properties.encryption.keyVaultProperties.keyVaultResourceId",
        .desired = target.resourceId,
        .observed = account.value("/properties/encryption/keyVaultProperties/keyVaultResourceId"_json_pointer,
                                  std::string())});
    std::vector<std::string> vnets;
    for (const auto& endpoint : keyVaultEndpointsOf(context)) vnets.push_back(endpoint.virtualNetworkId);
    observation.planNotes.push_back(keyVaultChangePlanNote(account, target, vnets));
    return {};
  }

  controller::Result<std::optional<controller::Outcome>> next(const controller::ReconcileContext& context,
                                                             const Json& account,
                                                             const controller::Observation&) override {
    if (!keyVaultChangePending(context.document.spec, account)) return std::optional<controller::Outcome>{};
    // Steps 3 and 4 of the account flow already checked the declared (new) vault and granted access.
    auto outcome = KeyVaultChangeFlow(*azure_, nullptr).next(context, account);
    if (!outcome) return std::unexpected(outcome.error());
    return std::optional<controller::Outcome>{std::move(*outcome)};
  }

 private:
  std::shared_ptr<FlowAzure> azure_;
};

class TransitionExtension : public AccountExtension {
 public:
  explicit TransitionExtension(std::shared_ptr<FlowAzure> azure) : azure_(std::move(azure)) {}
  std::string_view name() const override { return "transition"; }

  controller::Result<void> observe(const controller::ReconcileContext& context, const Json& account,
                                   controller::Observation& observation) override {
    auto seen = TransitionFlow(*azure_).observe(context, account);
    if (!seen) return std::unexpected(seen.error());
    for (auto& [key, value] : seen->facts.items()) observation.facts[key] = value;
    for (auto& diff : seen->diff) observation.diff.push_back(std::move(diff));
    for (auto& note : seen->planNotes) observation.planNotes.push_back(std::move(note));
    if (!seen->upToDate) {
      observation.upToDate = false;
      const auto feature = migrationFeature(context.document);
      auto state = FeatureGate(*azure_).observe(feature);
      if (!state) return std::unexpected(state.error());
      observation.conditions.push_back(featureCondition(feature, *state));
    }
    return {};
  }

  controller::Result<std::optional<controller::Outcome>> next(const controller::ReconcileContext& context,
                                                             const Json& account,
                                                             const controller::Observation&) override {
    TransitionFlow flow(*azure_);
    auto seen = flow.observe(context, account);
    if (!seen) return std::unexpected(seen.error());
    if (seen->upToDate) return std::optional<controller::Outcome>{};
    auto wait = FeatureGate(*azure_).ensure(migrationFeature(context.document), context.self.facts);
    if (!wait) return std::unexpected(wait.error());
    if (*wait) return wait;
    auto step = flow.next(context, account, *seen);
    if (!step) return std::unexpected(step.error());
    if (!step->sent) return std::optional<controller::Outcome>{};
    return std::optional<controller::Outcome>{std::move(step->outcome)};
  }

 private:
  std::shared_ptr<FlowAzure> azure_;
};

class CrossTenantExtension : public AccountExtension {
 public:
  explicit CrossTenantExtension(std::shared_ptr<FlowAzure> azure) : azure_(std::move(azure)) {}
  std::string_view name() const override { return "crossTenant"; }
  bool handlesCrossTenant() const override { return true; }

  controller::Result<void> observe(const controller::ReconcileContext& context, const Json& account,
                                   controller::Observation& observation) override {
    if (!declaresCrossTenant(context.document)) return {};
    const auto feature = crossTenantFeature(context.document);
    auto state = FeatureGate(*azure_).observe(feature);
    if (!state) return std::unexpected(state.error());
    observation.conditions.push_back(featureCondition(feature, *state));
    if (auto awaiting = customerStepsMissing(context, account)) observation.conditions.push_back(*awaiting);
    return {};
  }

  controller::Result<std::optional<controller::Outcome>> next(const controller::ReconcileContext&, const Json&,
                                                             const controller::Observation&) override {
    return std::optional<controller::Outcome>{};
  }

  controller::Result<std::optional<controller::Outcome>> beforeCrossTenantEncryption(
      const controller::ReconcileContext& context) override {
    auto wait = FeatureGate(*azure_).ensure(crossTenantFeature(context.document), context.self.facts);
    if (!wait) return std::unexpected(wait.error());
    if (*wait) return wait;
    auto clientId = CrossTenantChain(*azure_).check(context);
    if (!clientId) return std::unexpected(clientId.error());
    return std::optional<controller::Outcome>{};
  }

 private:
  /// Azure could not use the customer's key (the encryption PATCH failed: keyVaultProperties.status Error):
  /// AwaitingCustomer=True naming the customer's steps the provider tenant cannot see (admin consent, Key Vault
  /// Crypto User), from the CrossTenantApplication's status. Without a customer credential only Azure's failure
  /// tells that at least one of them is missing: its error (EncryptionKeyUnusable) is the same without consent and
  /// with consent but without the role, so the status names both and says it cannot tell which (without consent
  /// there is no service principal to assign the role to: both are missing).
  static std::optional<controller::Condition> customerStepsMissing(const controller::ReconcileContext& context,
                                                                   const Json& account) {
    const std::string status = account.value("/properties/encryption/keyVaultProperties/status"_json_pointer, std::string());
    const std::string state = account.value("/properties/provisioningState"_json_pointer, std::string());
    if (status == "InUse" && state == "Succeeded")
      return controller::Condition{.type = "AwaitingCustomer", .status = "False", .reason = "CustomerStepsDone",
                                   .message = "Azure uses the key in the customer's vault"};
    if (status != "Error" && state != "Failed") return std::nullopt;
    const std::string appRef = context.document.spec.value("/encryption/crossTenant/applicationRef"_json_pointer, std::string());
    const auto* app = context.statusOf && !appRef.empty()
                          ? context.statusOf(controller::DocumentKey{controller::Kind::CrossTenantApplication, appRef})
                          : nullptr;
    std::vector<CustomerStep> steps;
    for (const auto& step : app ? app->facts.value("customerSteps", Json::array()) : Json::array())
      if (step.value("done", Json()) != Json(true))
        steps.push_back(CustomerStep{.step = step.value("step", ""), .done = false, .detail = step.value("detail", "")});
    if (steps.empty()) return std::nullopt;
    return controller::Condition{
        .type = "AwaitingCustomer",
        .status = "True",
        .reason = "CustomerStepMissing",
        .message = "Azure could not use the key in the customer's vault (keyVaultProperties.status " + status +
                   ", provisioningState " + state +
                   "); the provider tenant cannot see these customer steps and Azure's error does not say which is "
                   "missing (without consent the role cannot be assigned either): " +
                   customerInstructions(steps)};
  }

  static FeatureRef crossTenantFeature(const controller::Document& account) {
    return featureOf(account, kFeatureCrossTenantCmk);
  }
  std::shared_ptr<FlowAzure> azure_;
};

}  // namespace

AccountExtensionPtr makeKeyVaultChangeExtension(std::shared_ptr<FlowAzure> azure) {
  return std::make_unique<KeyVaultChangeExtension>(std::move(azure));
}

AccountExtensionPtr makeTransitionExtension(std::shared_ptr<FlowAzure> azure) {
  return std::make_unique<TransitionExtension>(std::move(azure));
}

AccountExtensionPtr makeCrossTenantExtension(std::shared_ptr<FlowAzure> azure) {
  return std::make_unique<CrossTenantExtension>(std::move(azure));
}

std::vector<AccountExtensionPtr> makeAccountExtensions(std::shared_ptr<FlowAzure> azure) {
  std::vector<AccountExtensionPtr> out;
  out.push_back(makeKeyVaultChangeExtension(azure));
  out.push_back(makeTransitionExtension(azure));
  out.push_back(makeCrossTenantExtension(std::move(azure)));
  return out;
}

}  // namespace anf::reconcilers::flows
