#include "controller/metrics.h"

#include <array>
#include <map>
#include <mutex>
#include <set>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "reconcilers/limit_refusals.h"

namespace anf::controller {

namespace {
constexpr std::string_view kQueueName = "anf-cmk";
const std::array<std::string_view, 4> kResults = {result::kSuccess, result::kError, result::kRequeue,
                                                  result::kRequeueAfter};
std::string kindLabel(Kind kind) { return std::string(kindName(kind)); }
// The kinds Azure NetApp Files refuses for its limits: their anf_cmk_documents_refused series exist from the start.
constexpr std::array<Kind, 3> kLimitedKinds = {Kind::NetAppAccount, Kind::CapacityPool, Kind::Volume};
prometheus::Histogram::BucketBoundaries reconcileBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9,
          1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60};
}
prometheus::Histogram::BucketBoundaries queueBuckets() {
  return {1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10};
}
}  // namespace

struct Metrics::Families {
  explicit Families(prometheus::Registry& r)
      : reconcileTotal(prometheus::BuildCounter()
                           .Name("controller_runtime_reconcile_total")
                           .Help("Total number of reconciliations per controller")
                           .Register(r)),
        reconcileErrors(prometheus::BuildCounter()
                            .Name("controller_runtime_reconcile_errors_total")
                            .Help("Total number of reconciliation errors per controller")
                            .Register(r)),
        reconcileTime(prometheus::BuildHistogram()
                          .Name("controller_runtime_reconcile_time_seconds")
                          .Help("Length of time per reconciliation per controller")
                          .Register(r)),
        activeWorkers(prometheus::BuildGauge()
                          .Name("controller_runtime_active_workers")
                          .Help("Number of currently used workers per controller")
                          .Register(r)),
        depth(prometheus::BuildGauge().Name("workqueue_depth").Help("Current depth of workqueue").Register(r)),
        adds(prometheus::BuildCounter()
                 .Name("workqueue_adds_total")
                 .Help("Total number of adds handled by workqueue")
                 .Register(r)),
        queueDuration(prometheus::BuildHistogram()
                          .Name("workqueue_queue_duration_seconds")
                          .Help("How long in seconds an item stays in workqueue before being requested")
                          .Register(r)),
        retries(prometheus::BuildCounter()
                    .Name("workqueue_retries_total")
                    .Help("Total number of retries handled by workqueue")
                    .Register(r)),
        resourceReady(prometheus::BuildGauge()
                          .Name("anf_cmk_resource_ready")
                          .Help("Number of documents of a kind whose Ready condition is True")
                          .Register(r)),
        resourceNotReady(prometheus::BuildGauge()
                             .Name("anf_cmk_resource_not_ready")
                             .Help("Number of documents of a kind whose Ready condition is not True")
                             .Register(r)),
        driftCorrected(prometheus::BuildCounter()
                           .Name("anf_cmk_drift_corrected_total")
                           .Help("Resources changed outside the operator and set back to the manifests")
                           .Register(r)),
        manifestErrors(prometheus::BuildGauge()
                           .Name("anf_cmk_manifest_errors")
                           .Help("Problems in the current manifests (parse, validation, refused deletions)")
                           .Register(r)),
        keyExpiry(prometheus::BuildGauge()
                      .Name("anf_cmk_key_expiry_timestamp_seconds")
                      .Help("Expiry time of the key vault keys in use, as a Unix timestamp")
                      .Register(r)),
        keyVaultStatus(prometheus::BuildGauge()
                           .Name("anf_cmk_key_vault_status")
                           .Help("Key vault status of a NetApp account (1 for the current status)")
                           .Register(r)),
        documentsRefused(prometheus::BuildGauge()
                             .Name("anf_cmk_documents_refused")
                             .Help("Documents Azure refuses for an Azure NetApp Files resource limit or quota, by Azure's code")
                             .Register(r)) {}

  prometheus::Family<prometheus::Counter>& reconcileTotal;
  prometheus::Family<prometheus::Counter>& reconcileErrors;
  prometheus::Family<prometheus::Histogram>& reconcileTime;
  prometheus::Family<prometheus::Gauge>& activeWorkers;
  prometheus::Family<prometheus::Gauge>& depth;
  prometheus::Family<prometheus::Counter>& adds;
  prometheus::Family<prometheus::Histogram>& queueDuration;
  prometheus::Family<prometheus::Counter>& retries;
  prometheus::Family<prometheus::Gauge>& resourceReady;
  prometheus::Family<prometheus::Gauge>& resourceNotReady;
  prometheus::Family<prometheus::Counter>& driftCorrected;
  prometheus::Family<prometheus::Gauge>& manifestErrors;
  prometheus::Family<prometheus::Gauge>& keyExpiry;
  prometheus::Family<prometheus::Gauge>& keyVaultStatus;
  prometheus::Family<prometheus::Gauge>& documentsRefused;
  std::mutex mutex;  // guards keyVaultStatuses, keyInUse, keyUsers and refusedNow
  std::map<DocumentKey, std::string> refusedNow;  // document -> Azure's code
  std::map<std::string, std::set<std::string>> keyVaultStatuses;
  std::map<std::string, prometheus::Labels> keyInUse;           // account -> {vault, key}
  std::map<prometheus::Labels, std::set<std::string>> keyUsers;  // {vault, key} -> accounts
  /// The account no longer uses its key: the series goes when no other account uses that key. Mutex held.
  void releaseKey(const std::string& account) {
    const auto it = keyInUse.find(account);
    if (it == keyInUse.end()) return;
    auto& users = keyUsers[it->second];
    users.erase(account);
    if (users.empty()) {
      keyExpiry.Remove(&keyExpiry.Add(it->second));
      keyUsers.erase(it->second);
    }
    keyInUse.erase(it);
  }
};

Metrics::Metrics() : Metrics(std::make_shared<prometheus::Registry>()) {}

Metrics::Metrics(std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)), families_(std::make_unique<Families>(*registry_)) {
  auto& f = *families_;
  for (Kind kind : allKinds()) {
    const std::string k = kindLabel(kind);
    for (auto r : kResults) f.reconcileTotal.Add({{"controller", k}, {"result", std::string(r)}});
    f.reconcileErrors.Add({{"controller", k}});
    f.reconcileTime.Add({{"controller", k}}, reconcileBuckets());
    f.activeWorkers.Add({{"controller", k}});
    f.resourceReady.Add({{"kind", k}});
    f.resourceNotReady.Add({{"kind", k}});
    f.driftCorrected.Add({{"kind", k}});
  }
  for (Kind kind : kLimitedKinds)
    for (auto reason : reconcilers::limitRefusalReasons())
      f.documentsRefused.Add({{"kind", kindLabel(kind)}, {"reason", std::string(reason)}});
  const std::string q(kQueueName);
  f.depth.Add({{"name", q}});
  f.adds.Add({{"name", q}});
  f.queueDuration.Add({{"name", q}}, queueBuckets());
  f.retries.Add({{"name", q}});
  f.manifestErrors.Add({});
}

Metrics::~Metrics() = default;

std::shared_ptr<prometheus::Registry> Metrics::registry() const { return registry_; }

std::string Metrics::text() const { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

void Metrics::reconciled(Kind kind, std::string_view r, double seconds) {
  const std::string k = kindLabel(kind);
  families_->reconcileTotal.Add({{"controller", k}, {"result", std::string(r)}}).Increment();
  families_->reconcileTime.Add({{"controller", k}}, reconcileBuckets()).Observe(seconds);
}

void Metrics::reconcileError(Kind kind) { families_->reconcileErrors.Add({{"controller", kindLabel(kind)}}).Increment(); }

void Metrics::workerStarted(Kind kind) { families_->activeWorkers.Add({{"controller", kindLabel(kind)}}).Increment(); }

void Metrics::workerFinished(Kind kind) { families_->activeWorkers.Add({{"controller", kindLabel(kind)}}).Decrement(); }

WorkQueueHooks Metrics::workQueueHooks() {
  const prometheus::Labels labels{{"name", std::string(kQueueName)}};
  auto& depth = families_->depth.Add(labels);
  auto& adds = families_->adds.Add(labels);
  auto& duration = families_->queueDuration.Add(labels, queueBuckets());
  auto& retries = families_->retries.Add(labels);
  return WorkQueueHooks{.depth = [&depth](std::size_t d) { depth.Set(static_cast<double>(d)); },
                        .added = [&adds] { adds.Increment(); },
                        .queued = [&duration](double s) { duration.Observe(s); },
                        .retried = [&retries] { retries.Increment(); }};
}

void Metrics::setResourceReady(Kind kind, int count) {
  families_->resourceReady.Add({{"kind", kindLabel(kind)}}).Set(count);
}

void Metrics::setResourceNotReady(Kind kind, int count) {
  families_->resourceNotReady.Add({{"kind", kindLabel(kind)}}).Set(count);
}

void Metrics::driftCorrected(Kind kind) { families_->driftCorrected.Add({{"kind", kindLabel(kind)}}).Increment(); }

void Metrics::setManifestErrors(int count) { families_->manifestErrors.Add({}).Set(count); }

void Metrics::setKeyExpiry(const std::string& account, const std::string& vault, const std::string& key, double unixSeconds) {
  const prometheus::Labels labels{{"vault", vault}, {"key", key}};
  std::lock_guard lock(families_->mutex);
  if (const auto it = families_->keyInUse.find(account); it != families_->keyInUse.end() && it->second != labels)
    families_->releaseKey(account);  // a rekey or a vault change: the old key's expiry no longer matters
  families_->keyInUse[account] = labels;
  families_->keyUsers[labels].insert(account);
  families_->keyExpiry.Add(labels).Set(unixSeconds);
}

void Metrics::forgetKeyExpiry(const std::string& account) {
  std::lock_guard lock(families_->mutex);
  families_->releaseKey(account);
}

void Metrics::setKeyVaultStatus(const std::string& account, const std::string& status) {
  std::lock_guard lock(families_->mutex);
  auto& seen = families_->keyVaultStatuses[account];
  seen.insert(status);
  for (const auto& s : seen) families_->keyVaultStatus.Add({{"account", account}, {"status", s}}).Set(s == status ? 1 : 0);
}

void Metrics::setRefused(const DocumentKey& key, std::string_view reason) {
  auto& f = *families_;
  std::lock_guard lock(f.mutex);
  const auto it = f.refusedNow.find(key);
  const std::string before = it == f.refusedNow.end() ? "" : it->second;
  if (before == reason) return;
  const std::string k = kindLabel(key.kind);
  if (!before.empty()) f.documentsRefused.Add({{"kind", k}, {"reason", before}}).Decrement();
  if (reason.empty()) {
    f.refusedNow.erase(key);
    return;
  }
  f.documentsRefused.Add({{"kind", k}, {"reason", std::string(reason)}}).Increment();
  f.refusedNow[key] = std::string(reason);
}

}  // namespace anf::controller
