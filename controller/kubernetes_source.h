#pragma once
// `source: kubernetes` (SPEC §4a): the documents are custom resources (group anf-cmk.io, version v1alpha1)
// of one namespace, and their status goes back through the /status subresource.
//
// - Documents: each kind is listed (paged), then watched from the list's resourceVersion with bookmarks, on
//   its own thread; a watch the server ends resumes from the last resourceVersion seen; 410 Gone relists and
//   the difference is applied (kube/object_cache.h: no event missed, none applied twice); other failures
//   reconnect with exponential backoff. Events are coalesced like file changes (debounce, maxDelay) into
//   snapshots, so a burst of deletions is one change the engine's mass-deletion guard can refuse. Each resource becomes the same Document a file would give (its text
//   goes through the manifest loader and ManifestIndex), so validation, references and the snapshot +
//   DocumentChanges handed to the engine are those of the directory source, and the engine's mass-deletion
//   guard applies to resources too. A resource being deleted (deletionTimestamp) leaves the desired state.
// - Finalizer `anf-cmk.io/finalizer`: only on resources with spec.deletionPolicy Delete, added before the
//   resource enters the desired state (so no Azure resource exists that a deletion could leak) and removed
//   once the engine has deleted it from Azure (its status was erased); a Retain resource carries none.
//   A missing finalizer never takes a resource out of the desired state (it is added again first). Limit: a
//   deletion that began while no replica tracked the resource (the operator down, or a new leader that never
//   saw it present) is what the engine does with documents removed while it was down: the Azure resource is
//   retained and the finalizer released.
// - Status: after each change of a document's status (StatusStore::setObserver), .status is written with a
//   merge patch of /status: observedGeneration = the metadata.generation whose spec the engine reconciled,
//   the same conditions, facts and azureError. Nothing is written when it equals what the resource has.
//   Each condition whose status or reason changed records an Event (core/v1) with the condition's reason.
//   Writes run on one writer thread, the latest status per key, never on the engine's workers.
//
// Threads, not Asio: a watch is a long blocking read of a streamed response (cpprestsdk's body stream), so each
// kind's list-then-watch loop, the status writer and the publisher have their own thread (8 in all, idle most of
// the time); stop() cancels the streams and joins them.
//
// KubernetesDocuments is what the operator runs: the API connection, leader election (only the holder of the
// Lease runs the source and may write to Azure: mayWrite() is the engine's write gate) and the source.
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/config.h"
#include "controller/document.h"
#include "controller/manifest_loader.h"
#include "controller/status_store.h"
#include "kube/client.h"

namespace anf::kube {
class LeaderElector;
}

namespace anf::controller {

inline constexpr const char* kFinalizer = "anf-cmk.io/finalizer";

/// The custom resource type of a kind: {"anf-cmk.io", "v1alpha1", "netappaccounts"} etc.
kube::ResourceType resourceTypeOf(Kind kind);
/// A custom resource as manifest text: apiVersion, kind, metadata (name, labels, annotations), spec.
std::string manifestTextOf(const Json& object);
/// Whether the resource should carry the finalizer: deletionPolicy Delete and not being deleted.
bool wantsFinalizer(const Json& object);
/// The resource's .status for a document's status; observedGeneration as given (absent when unknown).
Json customResourceStatus(const StoredStatus& entry, std::optional<std::int64_t> observedGeneration);
/// The Events a change of .status records: one per condition whose status or reason changed
/// (a condition's first appearance included), reason = the condition's, Warning when it is False.
std::vector<kube::EventRecord> conditionTransitions(const Json& before, const Json& after, const Json& involvedObject);

class KubernetesSource {
 public:
  struct Options {
    std::string namespaceName;
    LoadOptions load;
    int pageSize = 500;
    int watchTimeoutSeconds = 60;
    std::chrono::milliseconds backoffInitial{500};
    std::chrono::milliseconds backoffMax{30000};
    std::chrono::milliseconds debounce{200};   // quiet time before a snapshot (as the directory source's)
    std::chrono::milliseconds maxDelay{2000};  // at most this after the first unpublished change
  };
  using SnapshotCallback = std::function<void(const DesiredState&, const DocumentChanges&)>;

  /// `client` and `statuses` must outlive the source. `onSnapshot` is called from the source's publisher thread.
  KubernetesSource(kube::KubeClient& client, StatusStore& statuses, Options options, SnapshotCallback onSnapshot);
  ~KubernetesSource();
  KubernetesSource(const KubernetesSource&) = delete;
  KubernetesSource& operator=(const KubernetesSource&) = delete;

  /// Starts the watch threads and the status writer; returns at once.
  void start();
  /// Ends the watches and the writer (in-flight calls are cancelled or finish); no callback after it returns.
  void stop();
  /// The latest snapshot. Thread-safe.
  DesiredState snapshot() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

class KubernetesDocuments {
 public:
  /// Connects as source.kubernetes says (kubeconfig, $KUBECONFIG or in-cluster); fails when that cannot be used.
  static std::expected<std::unique_ptr<KubernetesDocuments>, std::string> create(const OperatorConfig& config);
  ~KubernetesDocuments();

  /// Elects (or not, with leaderElection.enabled false), then runs the source while leading. `onLost`: the
  /// Lease was lost (writes already stopped); the process should exit, as controller-runtime's do.
  void start(StatusStore& statuses, KubernetesSource::SnapshotCallback onSnapshot, std::function<void()> onLost);
  /// Stops the source and releases the Lease.
  void stop();
  /// True while another replica holds the Lease (this one waits, ready to take over).
  bool standby() const;
  /// The engine's write gate: leading now (always true without leader election). Thread-safe.
  bool mayWrite() const;

 private:
  KubernetesDocuments() = default;
  struct Parts;
  std::unique_ptr<Parts> parts_;
};
using KubernetesDocumentsPtr = std::unique_ptr<KubernetesDocuments>;

}  // namespace anf::controller
