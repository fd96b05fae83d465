#include "controller/limits.h"

#include <map>

namespace anf::controller {
namespace {

constexpr const char* kRaised = "; a support request may have raised it for this subscription";

/// The document `from`'s `fieldPath` reference points at, or nullptr.
const Document* referenced(const DesiredState& desired, const Document& from, std::string_view fieldPath) {
  for (const auto& ref : from.references) {
    if (ref.fieldPath != fieldPath) continue;
    const auto it = desired.documents.find(ref.target);
    return it == desired.documents.end() ? nullptr : &it->second;
  }
  return nullptr;
}

/// "subscription S, region R" of a document (a pool's region is its account's).
std::string regionOf(const Document& doc) {
  return doc.azure ? "subscription " + doc.azure->subscriptionId + ", region " + doc.azure->location : "";
}
std::string subscriptionOf(const Document& doc) { return doc.azure ? "subscription " + doc.azure->subscriptionId : ""; }

/// One limit: what is counted, the page's name for it, its default and the code Azure refuses with.
struct Limit {
  std::string counted;  // "NetAppAccount documents"
  std::string name;
  long value;
  std::string unit;  // "" or " TiB"
  std::string code;
};

void warnAbove(std::vector<std::string>& out, const std::map<std::string, long>& counts, const Limit& limit) {
  for (const auto& [where, count] : counts) {
    if (where.empty() || count <= limit.value) continue;
    out.push_back(std::to_string(count) + limit.unit + " " + limit.counted + " in " + where + " exceed the default limit \"" +
                  limit.name + "\" (" + std::to_string(limit.value) + limit.unit + "): Azure refuses those beyond it with " +
                  limit.code + kRaised);
  }
}

}  // namespace

std::vector<std::string> limitWarnings(const DesiredState& desired, const DefaultLimits& limits) {
  std::map<std::string, long> accounts, poolsPerAccount, volumesPerPool, volumesPerSubscription, capacityTiB;
  for (const auto& [key, doc] : desired.documents) {
    if (key.kind == Kind::NetAppAccount) ++accounts[regionOf(doc)];
    if (key.kind == Kind::CapacityPool) {
      const Document* account = referenced(desired, doc, "spec.accountRef");
      ++poolsPerAccount[account ? "NetAppAccount/" + account->key.name : ""];
      capacityTiB[regionOf(account ? *account : doc)] += doc.spec.value("sizeTiB", 0L);
    }
    if (key.kind == Kind::Volume) {
      const Document* pool = referenced(desired, doc, "spec.poolRef");
      ++volumesPerPool[pool ? "CapacityPool/" + pool->key.name : ""];
      ++volumesPerSubscription[subscriptionOf(doc)];
    }
  }
  std::vector<std::string> out;
  warnAbove(out, accounts, {"NetAppAccount documents", "Number of NetApp accounts per Azure region per subscription",
                            limits.accountsPerRegion, "", "AccountQuotaExceeded"});
  warnAbove(out, poolsPerAccount, {"CapacityPool documents", "Number of capacity pools per NetApp account",
                                   limits.poolsPerAccount, "", "PoolQuotaExceeded"});
  warnAbove(out, volumesPerPool, {"Volume documents", "Number of volumes per capacity pool", limits.volumesPerPool, "",
                                  "VolumeQuotaExceeded"});
  warnAbove(out, volumesPerSubscription, {"Volume documents", "Number of volumes per subscription",
                                          limits.volumesPerSubscription, "", "VolumeQuotaExceeded"});
  warnAbove(out, capacityTiB, {"of CapacityPool documents", "Regional capacity quota per subscription", limits.regionalCapacityTiB,
                               " TiB", "SizeQuotaExceeded"});
  return out;
}

}  // namespace anf::controller
