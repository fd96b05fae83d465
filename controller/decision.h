#pragma once
// The one decision tree (crossplane's managed reconciler), shared by the engine and by `plan`: given a
// document's policies, its references and, once observed, what Azure holds, what is to be done. Called
// twice per document: first without an observation (Skip, Blocked, Forget, or Observe), then with what
// observe() returned (NoChange, ReportDrift, Create, Update, Delete, Forget).
#include <functional>
#include <optional>
#include <string>

#include "controller/reconciler.h"

namespace anf::controller {

/// How a referenced document stands, as the caller knows it.
enum class ReferenceState {
  Ready,          // engine: observed Ready by this process; plan: nothing to create
  NotReady,       // engine: not (yet) Ready
  Blocked,        // plan: cannot be planned itself
  WillBeCreated,  // plan: is created first
};

struct DecisionInput {
  const Document& document;
  const DesiredState& desired;
  /// The state of a reference that the manifests declare.
  std::function<ReferenceState(const DocumentKey&)> referenceState;
  bool hasReconciler = true;
  /// The document is no longer in the manifests.
  bool removed = false;
  /// What observe() returned; nullptr before observing.
  const Observation* observed = nullptr;
};

struct Decision {
  enum class Action {
    Skip,         // reconcile-policy skip: Azure is left alone
    Blocked,      // cannot act: `reason`, `message`
    Observe,      // observe() first, then decide again with the observation
    NoChange,     // exists and matches the document
    ReportDrift,  // differs or is missing under reconcile-policy observe: reported, never corrected
    Create,
    Update,
    Delete,       // removed with deletionPolicy Delete (reconcile-policy manage) and still in Azure
    Forget,       // removed: only the status is dropped (retained, or already gone from Azure)
  } action = Action::Observe;
  std::string reason;   // Blocked: NoReconciler, DependencyNotFound, DependencyNotReady, DependencyBlocked
  std::string message;  // Blocked: names the reference and its field
  /// Blocked on a reference that is created first (`plan` reports "create (after ...)").
  std::optional<DocumentKey> after;
};

Decision decide(const DecisionInput& input);

}  // namespace anf::controller
