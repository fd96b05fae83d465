// UserAssignedIdentity: a Microsoft.ManagedIdentity identity; status facts resourceId, principalId,
// clientId, tenantId (the account reconciler grants key access to principalId).
#include "azure/client.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/documents.h"
#include "reconcilers/registry.h"

namespace anf::reconcilers {
namespace {

constexpr std::string_view kIdentityType = "Microsoft.ManagedIdentity/userAssignedIdentities";

Json identityFacts(const Json& identity) {
  Json facts{{"resourceId", identity.value("id", "")}};
  for (const char* field : {"principalId", "clientId", "tenantId"})
    if (identity.contains("properties") && identity["properties"].contains(field)) facts[field] = identity["properties"][field];
  return facts;
}

class UserAssignedIdentityReconciler final : public controller::Reconciler {
 public:
  explicit UserAssignedIdentityReconciler(azure::AzureClient& client) : client_(client) {}
  Kind kind() const override { return Kind::UserAssignedIdentity; }

  Result<Observation> observe(const ReconcileContext& context) override {
    auto listed = observeListed(client_, context, idOf(context), kIdentityType);  // one LIST per resource group and pass
    if (!listed) return std::unexpected(listed.error());
    auto& [observation, identity] = *listed;
    if (!identity) return observation;
    observation.exists = observation.upToDate = true;
    observation.facts = identityFacts(*identity);
    return observation;
  }

  Result<Outcome> create(const ReconcileContext& context, const Observation&) override {
    Json body{{"location", context.document.azure->location}};
    auto result = await(client_.put(credentialOf(context.document), idOf(context), body));
    if (!recordWrite(context.cache, idOf(context), result)) return std::unexpected(result.error());
    Outcome outcome = outcomeOf(*result, "created user-assigned identity");
    if (result->body.is_object()) outcome.facts = identityFacts(result->body);
    return outcome;
  }

  Result<Outcome> update(const ReconcileContext& context, const Observation& observed) override {
    return create(context, observed);
  }

  Result<Outcome> remove(const ReconcileContext& context, const Observation&) override {
    return writeListed(client_, context, ListedWrite::Delete, idOf(context), nullptr, "deleted user-assigned identity");
  }

 private:
  static azure::ResourceId idOf(const ReconcileContext& context) {
    return topLevelId(context.document, kIdentityType);
  }
  azure::AzureClient& client_;
};

}  // namespace

controller::ReconcilerPtr makeUserAssignedIdentityReconciler(azure::AzureClient& client) {
  return std::make_unique<UserAssignedIdentityReconciler>(client);
}

}  // namespace anf::reconcilers
