#pragma once
// Which writes may overlap, and how many at once (issue 14).
//
// Azure coordinates the writes of one NetApp account (the scope). An operation on the account itself
// (PATCH, changeKeyVault, transitiontocmk, renewCredentials) conflicts with every operation below it, and a
// pool's with its volumes' (Azure answers 409 AnotherOperationInProgress), while the volumes of one account,
// and its pools, are written in parallel. A write is named by its path in the resource tree; two writes
// conflict when one path is the other's ancestor or the same path.
//
// ANF at times refuses concurrent volume creations in one account anyway ("Another volume creation is in
// progress. Please try again in a few minutes", or AnotherOperationInProgress). Each scope therefore has a
// limit on its writes at once, AIMD-like (TCP's congestion window): it starts at the ceiling, is halved on
// a refusal while other writes of the scope ran (from the writes then running, never below 1) and grows by 1/limit on each success of a
// write started since the last decrease, while the limit was what held writes back. Scopes never wait for
// each other: a refusal narrows only its own account.
//
// Waiters are served in arrival order: a key that finds its path or the limit taken waits, and a release
// wakes the waiters that now fit (reserving their places until they come back), stopping behind a waiter
// that conflicts with running writes, so that an account's PATCH is not starved by its volumes. A woken key
// that ends its reconcile without asking for its place (Azure was corrected meanwhile) passes it on.
// Thread-safe.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controller/document.h"

namespace anf::controller {

/// What one write changes, for MutationGroups. Reconcilers return it from mutationGroup().
struct MutationGroup {
  std::string scope;  // the NetApp account's resource key; "": no coordination
  std::string path;   // the written resource's key ('/'-separated, under the scope); the scope itself for its own writes

  MutationGroup() = default;
  /// A write on the scope itself: it excludes every other write of the scope.
  MutationGroup(std::string scopeItself) : scope(scopeItself), path(std::move(scopeItself)) {}  // NOLINT: implicit
  MutationGroup(std::string scope_, std::string path_) : scope(std::move(scope_)), path(std::move(path_)) {}
  bool empty() const { return scope.empty(); }
  bool operator==(const MutationGroup&) const = default;

  /// One string for the status store ("scope" or "scope|path"); fromStored() reads it back, and reads an
  /// older state file's plain scope as a write on the scope itself.
  std::string stored() const;
  static MutationGroup fromStored(std::string_view stored);
};

class MutationGroups {
 public:
  /// How a held write ended.
  enum class Outcome {
    Succeeded,  // Azure accepted it: the scope's limit grows
    Refused,    // Azure refused it for another operation in the scope: the limit is halved
    Ended,      // anything else (another failure, a document forgotten): the limit is left
  };

  /// `ceiling`: a scope's writes at once while Azure accepts them all (its starting limit).
  explicit MutationGroups(int ceiling = 32) : ceiling_(ceiling < 1 ? 1 : ceiling) {}

  /// Takes `group` for `key` (true; also when `key` already holds one in the scope), or queues `key` as a
  /// waiter (false) to be returned by a later release() or passOn().
  bool acquire(const MutationGroup& group, const DocumentKey& key);
  /// Holds `group` for `key` whatever else runs (an operation resumed from the state file).
  void restore(const MutationGroup& group, const DocumentKey& key);
  /// Ends the write `key` holds, if any; returns the waiters that now fit, to be queued again.
  std::vector<DocumentKey> release(const DocumentKey& key, Outcome outcome);
  /// After `key`'s reconcile: when it was woken and did not come back for its place, the place goes to the
  /// next waiters (returned).
  std::vector<DocumentKey> passOn(const DocumentKey& key);

  /// The scope's current limit (the ceiling for a scope never narrowed).
  double limit(const std::string& scope) const;
  /// Writes held in the scope now.
  int held(const std::string& scope) const;

 private:
  struct Hold {
    std::string path;
    std::uint64_t window = 0;  // the scope's decreases when it started
  };
  struct Scope {
    double limit = 1;
    std::uint64_t window = 0;  // decreases so far
    std::map<DocumentKey, Hold> held;
    std::map<DocumentKey, std::string> woken;  // places reserved for woken waiters
    std::vector<std::pair<DocumentKey, std::string>> waiting;  // arrival order; a key at most once
  };
  Scope& scopeLocked(const std::string& scope);
  bool fitsLocked(const Scope& s, const DocumentKey& key, const std::string& path, bool woken) const;
  std::vector<DocumentKey> wakeLocked(Scope& s);
  void adjustLocked(Scope& s, const Hold& hold, Outcome outcome, std::size_t running);
  void dropIfIdleLocked(const std::string& scope);

  const double ceiling_;
  mutable std::mutex mutex_;
  std::map<std::string, Scope> scopes_;
  std::map<DocumentKey, std::string> scopeOf_;  // the scope a key holds, waits or is woken in
};

}  // namespace anf::controller
