#pragma once
// The engine's Prometheus metrics (SPEC §6), on one prometheus::Registry that the Azure client shares
// (it registers anf_cmk_arm_* and anf_cmk_lro_in_flight itself). Labels are bounded: `controller` and
// `kind` are kind names, `result` is success|error|requeue|requeue_after, and every such label set is
// created at 0 up front so that dashboards see the series before the first event.
#include <memory>
#include <string>
#include <string_view>

#include "controller/document.h"
#include "controller/workqueue.h"

namespace prometheus {
class Registry;
}

namespace anf::controller {

/// Values of the `result` label of controller_runtime_reconcile_total.
namespace result {
inline constexpr std::string_view kSuccess = "success";
inline constexpr std::string_view kError = "error";
inline constexpr std::string_view kRequeue = "requeue";
inline constexpr std::string_view kRequeueAfter = "requeue_after";
}  // namespace result

class Metrics {
 public:
  /// A fresh registry.
  Metrics();
  /// Registers on `registry` (shared with the Azure client).
  explicit Metrics(std::shared_ptr<prometheus::Registry> registry);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  std::shared_ptr<prometheus::Registry> registry() const;
  /// The whole registry in the Prometheus text format (what /metrics serves).
  std::string text() const;

  /// One reconcile of `kind` ended with `result` after `seconds`.
  void reconciled(Kind kind, std::string_view result, double seconds);
  void reconcileError(Kind kind);
  void workerStarted(Kind kind);
  void workerFinished(Kind kind);
  /// Observers for the workqueue_* metrics.
  WorkQueueHooks workQueueHooks();
  /// anf_cmk_resource_ready{kind}: number of Ready documents of `kind`.
  void setResourceReady(Kind kind, int count);
  /// anf_cmk_resource_not_ready{kind}: number of documents of `kind` whose Ready condition is not True.
  void setResourceNotReady(Kind kind, int count);
  void driftCorrected(Kind kind);
  /// anf_cmk_manifest_errors: manifest problems in the current snapshot (incl. a refused deletion pass).
  void setManifestErrors(int count);
  /// anf_cmk_key_expiry_timestamp_seconds{vault,key} of the key `account` uses; the series of a key no
  /// account uses any more (after a rekey) is removed, so the expiry alert never fires for it.
  void setKeyExpiry(const std::string& account, const std::string& vault, const std::string& key, double unixSeconds);
  /// `account` is gone: its key's series goes unless another account uses that key.
  void forgetKeyExpiry(const std::string& account);
  /// anf_cmk_documents_refused{kind,reason}: documents whose Ready condition is False because Azure refused
  /// them for an ANF resource limit or quota; `reason` is Azure's code from reconcilers::limitRefusalReasons().
  /// A gauge of documents refused now, not a counter of refusals: a refusal that waits for a support request
  /// is re-sent at every resync, so a counter would grow with the resync period while nothing changes; the
  /// gauge is what an alert wants ("> 0 for 15m": some document cannot be created until someone acts) and it
  /// falls back to 0 once the quota is raised. `reason` empty: `key` is not (or no longer) refused.
  void setRefused(const DocumentKey& key, std::string_view reason);
  /// anf_cmk_key_vault_status{account,status}: 1 for `status`, 0 for the account's other statuses seen.
  void setKeyVaultStatus(const std::string& account, const std::string& status);

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
};

}  // namespace anf::controller
