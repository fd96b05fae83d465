// CapacityPool: observed through one LIST of the account's pools per pass (ObservationCache).
// Status facts: resourceId, poolId. serviceLevel cannot change in place (refused); size and qosType PATCH.
#include "azure/client.h"
#include "reconcilers/arm_bodies.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/documents.h"
#include "reconcilers/registry.h"

namespace anf::reconcilers {
namespace {


PoolSettings settingsOf(const controller::Document& document) {
  PoolSettings pool{.location = document.azure->location};
  if (auto level = specString(document, "/serviceLevel"); !level.empty()) pool.serviceLevel = level;
  if (auto qos = specString(document, "/qosType"); !qos.empty()) pool.qosType = qos;
  if (document.spec.contains("sizeTiB") && document.spec["sizeTiB"].is_number()) pool.sizeTiB = document.spec["sizeTiB"].get<std::int64_t>();
  return pool;
}

class CapacityPoolReconciler final : public controller::Reconciler {
 public:
  explicit CapacityPoolReconciler(azure::AzureClient& client) : client_(client) {}
  Kind kind() const override { return Kind::CapacityPool; }

  /// Pools of one account are written in parallel, apart from their volumes' and their account's writes.
  controller::MutationGroup mutationGroup(const ReconcileContext& context) const override {
    auto id = poolIdOf(context.document, context.desired);
    return id ? controller::MutationGroup(id->parent()->key(), id->key()) : controller::MutationGroup();
  }

  Result<Observation> observe(const ReconcileContext& context) override {
    auto id = poolIdOf(context.document, context.desired);
    if (!id) return std::unexpected(dependencyNotReady("the pool's NetApp account document"));
    auto listed = observeListed(client_, context, *id, "capacityPools");
    if (!listed) return std::unexpected(listed.error());
    auto& [observation, pool] = *listed;
    if (!pool) return observation;
    observation.exists = true;
    if (pool->contains("/properties/poolId"_json_pointer)) observation.facts["poolId"] = pool->at("/properties/poolId"_json_pointer);
    observation.diff = diffBodies(poolBody(settingsOf(context.document)), *pool, {.ignorePaths = {"location"}});
    observation.upToDate = observation.diff.empty();
    return observation;
  }

  Result<Outcome> create(const ReconcileContext& context, const Observation&) override {
    auto id = poolIdOf(context.document, context.desired);
    if (!id) return std::unexpected(dependencyNotReady("the pool's NetApp account document"));
    return writeListed(client_, context, ListedWrite::Put, *id, poolBody(settingsOf(context.document)),
                       "created capacity pool");
  }

  Result<Outcome> update(const ReconcileContext& context, const Observation& observed) override {
    auto id = poolIdOf(context.document, context.desired);
    if (!id) return std::unexpected(dependencyNotReady("the pool's NetApp account document"));
    for (const auto& d : observed.diff)
      if (d.path == "properties.serviceLevel")
        return std::unexpected(refused("PoolServiceLevelImmutable",
                                       "spec.serviceLevel: a capacity pool's service level cannot change in place (" +
                                           d.observed.dump() + " -> " + d.desired.dump() + ")"));
    const Json body = poolBody(settingsOf(context.document));
    Json patch{{"properties", {{"size", body["properties"]["size"]}, {"qosType", body["properties"]["qosType"]}}}};
    return writeListed(client_, context, ListedWrite::Patch, *id, std::move(patch),
                       "updated capacity pool size/qosType");
  }

  Result<Outcome> remove(const ReconcileContext& context, const Observation&) override {
    auto id = poolIdOf(context.document, context.desired);
    if (!id) return Outcome{.description = "account document gone: nothing to delete"};
    return writeListed(client_, context, ListedWrite::Delete, *id, nullptr, "deleted capacity pool");
  }

 private:
  azure::AzureClient& client_;
};

}  // namespace

controller::ReconcilerPtr makeCapacityPoolReconciler(azure::AzureClient& client) {
  return std::make_unique<CapacityPoolReconciler>(client);
}

}  // namespace anf::reconcilers
