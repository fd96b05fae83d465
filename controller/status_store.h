#pragma once
// Status per document (SPEC §5), kept in memory and persisted to a SQLite database in WAL mode, one row
// per document, so that after a restart the engine resumes polling a long-running operation instead of
// starting it again, and conditions keep their lastTransitionTime. One change writes one row: its cost
// does not grow with the number of documents.
//
// Durability: every change is committed before update() returns, and a commit in WAL mode is in the
// operating system's hands once it returns, so a kill -9 loses nothing committed. Commits that change
// status.operation run with synchronous=FULL (the WAL is fsynced): the record of an operation Azure
// accepted survives a power loss too, before the engine's next request for that document. Other changes
// (conditions, facts) run with synchronous=NORMAL: a power loss may drop the last of them, which the next
// observation of Azure rewrites.
//
// The state file is a journal, never a source of truth: load() keeps what resumes work (the operation,
// its group and action, firstSeen, facts, conditions with their lastTransitionTime) but not what was
// believed: Ready and Synced come back Unknown (NotYetObserved) and `ready` false, so nothing counts as
// Ready (dependency gates, statusOf, metrics) until this process has observed the document in Azure.
// A file that SQLite calls not a database or corrupt is set aside (renamed with a `.damaged-<time>` suffix,
// one log line) and the store starts empty; the JSON state file of earlier versions is imported once. A
// file that cannot be opened or written now (a read-only folder or file, a lock held elsewhere) is never set
// aside: it may be a good journal, and load() fails until it can be used.
//
// The action journal: a POST action (transitiontocmk, changeKeyVault, renewCredentials) is not idempotent, and
// while it runs Azure shows no sign of it that a read can see (azure-api.md §1.1). So the record of each one
// Azure accepted (the entry holding its operation) is also appended, fsynced, to a second file beside the state
// file, `<state file>-actions` (JSON lines, one per record or end), and its end likewise. When the state file
// was damaged or is missing, load() restores the entries of the actions still running from it: the engine
// resumes polling them instead of sending the POST again. A torn last line is skipped. load() rewrites the file
// with the running actions only, so it holds a few lines.
#include <chrono>
#include <condition_variable>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
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

/// One row of the state file (JSON text), and back; also the entries of the old JSON state file.
Json toStateJson(const StoredStatus& entry);
std::optional<StoredStatus> fromStateJson(const Json& json);
/// The status API's JSON of one entry (SPEC §5): kind, name, source {file, line}, azure.resourceId,
/// firstSeen, status {observedGeneration, ready, conditions, facts, operation?, azureError?}; azureError is
/// {code, message (Azure's, verbatim), httpStatus, requestId (x-ms-request-id)}.
Json toApiJson(const StoredStatus& entry);

/// The state file's connection (status_store.cc).
struct StatusDatabase;
using StatusDatabasePtr = std::unique_ptr<StatusDatabase>;

/// Documents of one kind by their `ready` flag, kept on every change (the anf_cmk_resource_* gauges).
struct ReadinessCounts {
  int ready = 0;
  int notReady = 0;
};

/// Thread-safe store of StoredStatus by document key.
class StatusStore {
 public:
  /// Empty `stateFile`: memory only. The file is opened by load(), or by the first change.
  explicit StatusStore(std::filesystem::path stateFile = {});
  ~StatusStore();
  StatusStore(const StatusStore&) = delete;
  StatusStore& operator=(const StatusStore&) = delete;

  /// Opens the state file, creating it when missing, and reads its rows; restored entries are not Ready
  /// (see above). When `stateFile` holds the old JSON format (or, for a `.db` path that does not exist,
  /// the same path with `.json`, the old default name), its entries are imported and the JSON file is
  /// renamed with the suffix `.imported`. A damaged file is set aside (see above). Errors, naming the
  /// path, when the state file cannot be created, opened for writing or renamed (e.g. its directory is
  /// not writable); calling it again once that is repaired is what the operator does.
  std::expected<void, std::string> load();

  std::optional<StoredStatus> get(const DocumentKey& key) const;
  bool contains(const DocumentKey& key) const;
  /// Kept on every change and load(); never a recount.
  ReadinessCounts counts(Kind kind) const;
  /// Applies `change` to the entry of `key` (created with firstSeen = now when missing), persists its
  /// row when anything changed (committed before this returns), and returns the entry as it is afterwards.
  StoredStatus update(const DocumentKey& key, const std::function<void(StoredStatus&)>& change);
  void erase(const DocumentKey& key);
  /// Called after each change that update() persisted (the entry as it is now) and after erase() (nullopt), on
  /// the changing thread, outside the store's lock: how a source that publishes status elsewhere (the
  /// Kubernetes /status subresource) learns of changes. Set it before the engine starts.
  using Observer = std::function<void(const DocumentKey&, const std::optional<StoredStatus>&)>;
  void setObserver(Observer observer);
  /// A copy of every entry: for the status API and start-up, never per document event.
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
  /// Writes the row of `key` (toStateJson; null deletes it), with an fsync when `durable`; logs a failure,
  /// as the store lives on in memory.
  void persistLocked(const DocumentKey& key, const Json& entry, bool durable);
  /// Appends the record (entry with a POST operation) or the end (null) of `key`'s action to the action journal
  /// when it differs from what the journal holds.
  void journalActionLocked(const DocumentKey& key, const StoredStatus* entry);
  /// Restores from the action journal the entries whose action still runs (after a damaged or missing state file).
  void restoreActionsLocked(std::map<DocumentKey, StoredStatus> running);
  void countLocked(const StoredStatus& entry, int delta);
  std::filesystem::path stateFile_;
  std::filesystem::path actionJournal_;  // `<stateFile>-actions`; empty in memory only
  StatusDatabasePtr db_;
  /// Guards everything below and db_. A row is committed under it, so that no reader (the status API, a
  /// test about to kill the process) sees a change the file does not have yet.
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::uint64_t version_ = 0;  // bumped by every change, for waitFor
  std::map<DocumentKey, StoredStatus> entries_;
  std::map<DocumentKey, Json> actions_;  // the running POST operations the action journal holds
  std::map<Kind, ReadinessCounts> counts_;
  std::vector<Condition> operatorConditions_;
  Observer observer_;
};

}  // namespace anf::controller
