#pragma once
// `plan`: the engine's decision tree run once over every document in dependency order, with observe()
// only (dryRun): what would be created, updated, left alone, or cannot be decided, and why.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/reconciler.h"

namespace anf::controller {

struct PlannedChange {
  enum class Action {
    Create,    // does not exist in Azure (or a dependency is created first: see `after`)
    Update,    // exists and differs: `diff`
    NoChange,  // exists and matches
    Drift,     // differs, but reconcile-policy observe: reported, never corrected
    Skip,      // reconcile-policy skip
    Blocked,   // cannot be decided: `reason`, `message`
  };
  DocumentKey key;
  Action action = Action::NoChange;
  std::optional<DocumentKey> after;  // create after this dependency is created
  std::vector<FieldDiff> diff;
  std::vector<std::string> notes;  // Observation::planNotes
  std::string reason;
  std::string message;
};

std::string_view actionName(PlannedChange::Action action);  // "create", "update", "no change", ...

struct Plan {
  std::vector<PlannedChange> changes;  // in dependency order
  /// Default ANF limits the desired state alone exceeds (limits.h); they never change exitCode().
  std::vector<std::string> warnings;
  /// 1 when something is blocked (the plan is incomplete), else 3 when something would change, else 0.
  int exitCode() const;
  /// Readable plan: one block per document, one "warning: ..." line per limit exceeded, then
  /// "Plan: N to create, N to update, N unchanged, N blocked."
  std::string text() const;
  /// {"changesPending": bool, "summary": {...}, "resources": [{kind, name, action, after?, diff, notes, reason?, message?}],
  ///  "warnings": [...]}
  Json json() const;
};

/// Documents ordered so that every document comes after what it references (ties: kind order of
/// allKinds(), then name). Documents in a cycle come last in key order.
std::vector<DocumentKey> dependencyOrder(const DesiredState& desired);

/// Observes every document once (never writes) with `reconcilers` (at most one per kind).
Plan makePlan(const DesiredState& desired, const std::vector<ReconcilerPtr>& reconcilers);

}  // namespace anf::controller
