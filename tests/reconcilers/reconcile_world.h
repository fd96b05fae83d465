#pragma once
// What a ReconcileContext points at, for reconciler unit tests: the desired documents, the statuses of
// other documents, this document's own status and a per-test ObservationCache, kept alive together.
#include <functional>
#include <map>
#include <set>
#include <string>

#include "controller/reconciler.h"
#include "controller/validation.h"

namespace anf::reconcilers::testing {

/// An ObservationCache that caches for the life of the test (one "pass").
class MapCache : public controller::ObservationCache {
 public:
  controller::Result<controller::Json> getOrLoad(const std::string& key,
                                                 const std::function<controller::Result<controller::Json>()>& load) override {
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
    auto value = load();
    if (value) entries_[key] = *value;
    return value;
  }
  void update(const std::string& key, const std::function<void(controller::Json&)>& change) override {
    if (auto it = entries_.find(key); it != entries_.end()) change(it->second);
  }
  void invalidate(const std::string& key) override { entries_.erase(key); }
  void invalidatePrefix(const std::string& prefix) override {
    std::erase_if(entries_, [&](const auto& entry) { return entry.first.starts_with(prefix); });
  }
  void clear() { entries_.clear(); }

 private:
  std::map<std::string, controller::Json> entries_;
};

/// ReconcileContext::referrers as the engine's reference index answers it: the documents of `documents` with a
/// ...Ref field of their kind's schema naming `target` (the references the loader would find; documents built in
/// tests have none recorded, and tests edit their specs in place).
inline std::set<controller::DocumentKey> referrersIn(const controller::DocumentMap& documents,
                                                     const controller::DocumentKey& target) {
  std::set<controller::DocumentKey> out;
  std::function<bool(const controller::Json&, const controller::FieldSpec&)> names = [&](const controller::Json& value,
                                                                                          const controller::FieldSpec& spec) {
    if (spec.refKind) return value.is_string() && controller::DocumentKey{*spec.refKind, value.get<std::string>()} == target;
    if (spec.type == controller::FieldType::Object && value.is_object())
      for (const auto& field : spec.fields)
        if (value.contains(field.name) && names(value[field.name], field)) return true;
    if (spec.type == controller::FieldType::Array && value.is_array())
      for (const auto& item : value)
        if (names(item, spec.item())) return true;
    return false;
  };
  for (const auto& [key, doc] : documents)
    if (names(doc.spec, controller::specSchema(key.kind))) out.insert(key);
  return out;
}

/// The default world's names (emulator/worlds: provider and customer subscriptions and tenants).
inline const std::string kProviderSub = "10000000-0000-4000-8000-0000000000a1";
inline const std::string kCustomerSub = "20000000-0000-4000-8000-0000000000b1";
inline const std::string kProviderTenantId = "10000000-0000-4000-8000-000000000001";
inline const std::string kCustomerTenantId = "20000000-0000-4000-8000-000000000002";
inline const std::string kRg = "/subscriptions/" + kProviderSub + "/resourceGroups/anf-rg";
inline const std::string kVnet = kRg + "/providers/Microsoft.Network/virtualNetworks/anf-vnet";
inline const std::string kVnet2 = kRg + "/providers/Microsoft.Network/virtualNetworks/anf-vnet-2";
inline const std::string kAccountId = kRg + "/providers/Microsoft.NetApp/netAppAccounts/acct";
inline const std::string kPoolId = kAccountId + "/capacityPools/pool1";

/// A document with spec.azure coordinates in the provider's anf-rg.
inline controller::Document document(controller::Kind kind, std::string name, controller::Json spec,
                                     std::string tenant = "provider") {
  controller::Document doc;
  doc.key = {kind, name};
  doc.azure = controller::AzureCoordinates{.tenant = tenant, .subscriptionId = kProviderSub,
                                           .resourceGroup = "anf-rg", .location = "eastus", .name = name};
  doc.spec = std::move(spec);
  return doc;
}

struct World {
  controller::DesiredState desired;
  std::map<controller::DocumentKey, controller::ResourceStatus> statuses;
  controller::ResourceStatus self;
  MapCache cache;

  void add(controller::Document doc) { desired.documents[doc.key] = std::move(doc); }
  controller::ReconcileContext context(const controller::DocumentKey& key) {
    return controller::ReconcileContext{
        .document = desired.documents.at(key),
        .statusOf = [this](const controller::DocumentKey& k) -> const controller::ResourceStatus* {
          auto it = statuses.find(k);
          return it == statuses.end() ? nullptr : &it->second;
        },
        .desired = desired,
        .referrers = [this](const controller::DocumentKey& k) { return referrersIn(desired.documents, k); },
        .cache = cache,
        .self = self};
  }
};

}  // namespace anf::reconcilers::testing
