#include "reconcilers/documents.h"

#include <algorithm>

#include "reconcilers/arm_bodies.h"

namespace anf::reconcilers {

using controller::Kind;

std::string specString(const Document& document, std::string_view pointer) {
  const Json::json_pointer p{std::string{pointer}};
  return document.spec.contains(p) && document.spec.at(p).is_string() ? document.spec.at(p).get<std::string>() : "";
}

std::string credentialOf(const Document& document) { return document.azure ? document.azure->tenant : ""; }

azure::ResourceId topLevelId(const Document& document, std::string_view fullType) {
  const auto& a = *document.azure;
  return azure::ResourceId::inResourceGroup(a.subscriptionId, a.resourceGroup, fullType, a.name);
}

const Document* findDocument(const controller::DesiredState& desired, Kind kind, const std::string& name) {
  auto it = desired.documents.find(controller::DocumentKey{kind, name});
  return it == desired.documents.end() ? nullptr : &it->second;
}

std::optional<azure::ResourceId> accountIdOf(const Document& account) {
  if (!account.azure) return std::nullopt;
  return topLevelId(account, "Microsoft.NetApp/netAppAccounts");
}

std::optional<azure::ResourceId> poolIdOf(const Document& pool, const controller::DesiredState& desired) {
  const Document* account = findDocument(desired, Kind::NetAppAccount, specString(pool, "/accountRef"));
  if (!account || !pool.azure) return std::nullopt;
  auto accountId = accountIdOf(*account);
  if (!accountId) return std::nullopt;
  return accountId->child("capacityPools", pool.azure->name);
}

std::optional<azure::ResourceId> volumeIdOf(const Document& volume, const controller::DesiredState& desired) {
  const Document* pool = findDocument(desired, Kind::CapacityPool, specString(volume, "/poolRef"));
  if (!pool || !volume.azure) return std::nullopt;
  auto poolId = poolIdOf(*pool, desired);
  if (!poolId) return std::nullopt;
  return poolId->child("volumes", volume.azure->name);
}

std::optional<std::string> referencedFact(const controller::ReconcileContext& context, Kind kind,
                                          const std::string& name, const std::string& fact) {
  if (!context.statusOf) return std::nullopt;
  const controller::ResourceStatus* status = context.statusOf(controller::DocumentKey{kind, name});
  if (!status || !status->facts.contains(fact) || !status->facts[fact].is_string()) return std::nullopt;
  return status->facts[fact].get<std::string>();
}

std::vector<const Document*> referringDocuments(const controller::ReconcileContext& context,
                                                const controller::DocumentKey& target, Kind kind) {
  std::vector<const Document*> out;
  for (const auto& key : context.referrers(target)) {
    if (key.kind != kind) continue;
    const auto it = context.desired.documents.find(key);
    if (it != context.desired.documents.end()) out.push_back(&it->second);  // else a later snapshot's document
  }
  return out;
}

std::vector<const Document*> documentsOfKind(const controller::DesiredState& desired, Kind kind) {
  std::vector<const Document*> out;
  for (auto it = desired.documents.lower_bound({kind, ""}); it != desired.documents.end() && it->first.kind == kind; ++it)
    out.push_back(&it->second);
  return out;
}

std::vector<const Document*> cmkVolumesOfAccount(const controller::ReconcileContext& context) {
  std::vector<const Document*> volumes;
  for (const Document* pool : referringDocuments(context, context.document.key, Kind::CapacityPool))
    for (const Document* volume : referringDocuments(context, pool->key, Kind::Volume))
      if (equalsIgnoreCase(specString(*volume, "/encryptionKeySource"), kKeySourceKeyVault)) volumes.push_back(volume);
  std::ranges::sort(volumes, {}, [](const Document* d) -> const controller::DocumentKey& { return d->key; });
  return volumes;
}

bool sameArmId(std::string_view a, std::string_view b) {
  auto left = azure::ResourceId::parse(a);
  auto right = azure::ResourceId::parse(b);
  return left && right ? *left == *right : azure::equalsIgnoreCase(a, b);
}

std::string joinKeys(const std::vector<const Document*>& documents) {
  std::string out;
  for (const Document* document : documents) out += (out.empty() ? "" : ", ") + document->key.str();
  return out;
}

bool declaresCrossTenant(const Document& account) {
  const Json crossTenant = account.spec.value("/encryption/crossTenant"_json_pointer, Json::object());
  return crossTenant.is_object() && !crossTenant.empty();
}

}  // namespace anf::reconcilers
