#pragma once
// Status per document (SPEC §5), kept in memory and persisted atomically (write to a temporary file,
// then rename) to a JSON state file, so that after a restart the engine resumes polling a long-running
// operation instead of starting it again, and conditions keep their lastTransitionTime.
//
// The state file is a journal, never a source of truth: load() keeps what resumes work (the operation,
// its group and action, firstSeen, facts, conditions with their lastTransitionTime) but not what was
// believed: Ready and Synced come back Unknown (NotYetObserved) and `ready` false, so nothing counts as
// Ready (dependency gates, statusOf, metrics) until this process has observed the document in Azure.
#include <chrono>
#include <condition_variable>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "controller/reconciler.h"

namespace anf::controller {

/// A document's status plus what the engine needs to resume work.
struct StoredStatus {
  DocumentKey key;
  SourceLocation source;
  ResourceStatus status;
  std::string firstSeen;  // RFC 3339; the AGE column of `status`
  /// A NeedsDocumentChange error was met at this generation: the engine does not resend the refused
  /// write before the next resync pass or a spec change.
  std::optional<std::string> parkedGeneration;
  /// With status.operation: the mutation group it holds and what it does (create, update, remove).
  std::string operationGroup;
  std::string operationAction;
};

/// The state file's JSON of one entry, and back.
Json toStateJson(const StoredStatus& entry);
std::optional<StoredStatus> fromStateJson(const Json& json);
/// The status API's JSON of one entry (SPEC §5): kind, name, source {file, line}, azure.resourceId,
/// firstSeen, status {observedGeneration, ready, conditions, facts, operation?, azureError?}; azureError is
/// {code, message (Azure's, verbatim), httpStatus, requestId (x-ms-request-id)}.
Json toApiJson(const StoredStatus& entry);

/// Thread-safe store of StoredStatus by document key.
class StatusStore {
 public:
  /// Empty `stateFile`: memory only.
  explicit StatusStore(std::filesystem::path stateFile = {});

  /// Reads the state file when it exists (a missing file is an empty store, not an error); restored
  /// entries are not Ready (see above).
  std::expected<void, std::string> load();

  std::optional<StoredStatus> get(const DocumentKey& key) const;
  /// Applies `change` to the entry of `key` (created with firstSeen = now when missing), persists when
  /// anything changed, and returns the entry as it is afterwards.
  StoredStatus update(const DocumentKey& key, const std::function<void(StoredStatus&)>& change);
  void erase(const DocumentKey& key);
  std::vector<StoredStatus> list() const;

  /// Conditions of the operator itself (Synced=False with TooManyDeletions, ManifestErrors).
  std::vector<Condition> operatorConditions() const;
  void setOperatorCondition(std::string_view type, std::string_view status, std::string_view reason, std::string message);

  /// Blocks until `predicate` (called under no lock, after every change) holds or `timeout` passes;
  /// returns whether it holds. For tests and for waiting on a state without polling.
  bool waitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) const;

  /// GET /api/v1/resources: {"kind": "ResourceList", "items": [...], "operator": {"conditions": [...]}}.
  Json listJson() const;

 private:
  void persistLocked() const;
  std::filesystem::path stateFile_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::uint64_t version_ = 0;  // bumped by every change, for waitFor
  std::map<DocumentKey, StoredStatus> entries_;
  std::vector<Condition> operatorConditions_;
};

}  // namespace anf::controller
