#include "controller/decision.h"

#include "controller/conditions.h"

namespace anf::controller {

namespace {

Decision blocked(std::string_view reason, std::string message, std::optional<DocumentKey> after = std::nullopt) {
  return Decision{.action = Decision::Action::Blocked, .reason = std::string(reason), .message = std::move(message), .after = after};
}

/// The first reference that keeps the document from being acted on.
std::optional<Decision> blockingReference(const DecisionInput& in) {
  for (const auto& ref : in.document.references) {
    const std::string named = ref.target.str() + " (" + ref.fieldPath + ")";
    if (!in.desired.documents.contains(ref.target))
      return blocked(reason::kDependencyNotFound, named + " is not declared in the manifests");
    switch (in.referenceState(ref.target)) {
      case ReferenceState::Ready: break;
      case ReferenceState::NotReady: return blocked(reason::kDependencyNotReady, "waiting for " + named + " to be Ready");
      case ReferenceState::Blocked: return blocked(reason::kDependencyBlocked, named + " cannot be planned");
      case ReferenceState::WillBeCreated:
        return blocked(reason::kDependencyNotReady, "waiting for " + named + " to be created", ref.target);
    }
  }
  return std::nullopt;
}

Decision removal(const DecisionInput& in) {
  const Document& doc = in.document;
  if (doc.deletionPolicy != DeletionPolicy::Delete || doc.reconcilePolicy != ReconcilePolicy::Manage || !in.hasReconciler)
    return Decision{.action = Decision::Action::Forget};
  if (in.observed == nullptr) return Decision{.action = Decision::Action::Observe};
  return Decision{.action = in.observed->exists ? Decision::Action::Delete : Decision::Action::Forget};
}

}  // namespace

Decision decide(const DecisionInput& in) {
  using Action = Decision::Action;
  if (in.removed) return removal(in);
  if (in.document.reconcilePolicy == ReconcilePolicy::Skip) return Decision{.action = Action::Skip};
  if (!in.hasReconciler)
    return blocked(reason::kNoReconciler, "this operator has no reconciler for kind " + std::string(kindName(in.document.key.kind)));
  if (in.observed == nullptr) return blockingReference(in).value_or(Decision{.action = Action::Observe});
  const Observation& o = *in.observed;
  if (o.exists && o.upToDate) return Decision{.action = Action::NoChange};
  if (in.document.reconcilePolicy == ReconcilePolicy::Observe) return Decision{.action = Action::ReportDrift};
  return Decision{.action = o.exists ? Action::Update : Action::Create};
}

}  // namespace anf::controller
