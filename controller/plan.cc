#include "controller/plan.h"

#include <algorithm>
#include <set>

#include "controller/decision.h"
#include "controller/engine.h"
#include "controller/limits.h"

namespace anf::controller {

namespace {

int kindRank(Kind kind) {
  const auto& kinds = allKinds();
  return static_cast<int>(std::find(kinds.begin(), kinds.end(), kind) - kinds.begin());
}

bool before(const DocumentKey& a, const DocumentKey& b) {
  return std::pair(kindRank(a.kind), a.name) < std::pair(kindRank(b.kind), b.name);
}

std::string quoted(const Json& value) { return value.is_null() ? "(none)" : value.dump(); }

/// What decide()'s final action means in the plan.
PlannedChange::Action planned(Decision::Action action) {
  switch (action) {
    case Decision::Action::Skip: return PlannedChange::Action::Skip;
    case Decision::Action::Blocked: return PlannedChange::Action::Blocked;
    case Decision::Action::ReportDrift: return PlannedChange::Action::Drift;
    case Decision::Action::Create: return PlannedChange::Action::Create;
    case Decision::Action::Update: return PlannedChange::Action::Update;
    default: return PlannedChange::Action::NoChange;
  }
}

}  // namespace

std::string_view actionName(PlannedChange::Action action) {
  switch (action) {
    case PlannedChange::Action::Create: return "create";
    case PlannedChange::Action::Update: return "update";
    case PlannedChange::Action::NoChange: return "no change";
    case PlannedChange::Action::Drift: return "drift (observe only)";
    case PlannedChange::Action::Skip: return "skip";
    case PlannedChange::Action::Blocked: return "blocked";
  }
  return "unknown";
}

std::vector<DocumentKey> dependencyOrder(const DesiredState& desired) {
  std::map<DocumentKey, int> missing;  // references to documents not yet placed
  std::map<DocumentKey, std::vector<DocumentKey>> dependents;
  for (const auto& [key, doc] : desired.documents) {
    missing[key];
    for (const auto& ref : doc.references)
      if (desired.documents.contains(ref.target) && ref.target != key) {
        ++missing[key];
        dependents[ref.target].push_back(key);
      }
  }
  auto cmp = [](const DocumentKey& a, const DocumentKey& b) { return before(a, b); };
  std::set<DocumentKey, decltype(cmp)> ready(cmp);
  for (const auto& [key, n] : missing)
    if (n == 0) ready.insert(key);
  std::vector<DocumentKey> order;
  while (!ready.empty()) {
    const DocumentKey key = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(key);
    for (const auto& d : dependents[key])
      if (--missing[d] == 0) ready.insert(d);
  }
  for (const auto& [key, n] : missing)
    if (n > 0) order.push_back(key);  // a cycle (validation reports it)
  return order;
}

Plan makePlan(const DesiredState& desired, const std::vector<ReconcilerPtr>& reconcilers) {
  std::map<Kind, Reconciler*> byKind;
  for (const auto& r : reconcilers) byKind[r->kind()] = r.get();
  std::map<DocumentKey, ResourceStatus> observed;  // what this plan found, for statusOf
  std::map<DocumentKey, PlannedChange::Action> actions;
  auto referenceState = [&](const DocumentKey& k) {
    const auto a = actions.find(k);
    if (a == actions.end() || a->second == PlannedChange::Action::Blocked) return ReferenceState::Blocked;
    return a->second == PlannedChange::Action::Create ? ReferenceState::WillBeCreated : ReferenceState::Ready;
  };
  PassCache cache;
  const ReferenceIndex index = ReferenceIndex::of(desired.documents);
  const auto referrers = [&](const DocumentKey& k) { return index.referrers(k); };
  Plan plan;
  for (const auto& key : dependencyOrder(desired)) {
    const Document& doc = desired.documents.at(key);
    Reconciler* rec = byKind.contains(key.kind) ? byKind[key.kind] : nullptr;
    PlannedChange change{.key = key};
    DecisionInput input{.document = doc, .desired = desired, .referenceState = referenceState, .hasReconciler = rec != nullptr};
    Decision decision = decide(input);
    if (decision.action == Decision::Action::Observe) {
      const ResourceStatus self;
      const ReconcileContext ctx{doc,
                                 [&](const DocumentKey& k) -> const ResourceStatus* {
                                   const auto it = observed.find(k);
                                   return it == observed.end() ? nullptr : &it->second;
                                 },
                                 desired, referrers, cache, self, true};
      auto obs = rec->observe(ctx);
      if (!obs) {
        decision = Decision{.action = Decision::Action::Blocked, .reason = obs.error().reason, .message = obs.error().message};
      } else {
        observed[key] = ResourceStatus{.generation = doc.generation, .ready = obs->exists && obs->upToDate,
                                       .facts = obs->facts, .conditions = obs->conditions};
        change.notes = obs->planNotes;
        change.diff = obs->diff;
        input.observed = &*obs;
        decision = decide(input);
      }
    }
    change.action = decision.after ? PlannedChange::Action::Create : planned(decision.action);
    change.after = decision.after;
    if (change.action == PlannedChange::Action::Blocked) {
      change.reason = decision.reason;
      change.message = decision.message;
    }
    actions[key] = change.action;
    plan.changes.push_back(std::move(change));
  }
  plan.warnings = limitWarnings(desired);
  return plan;
}

int Plan::exitCode() const {
  bool pending = false;
  for (const auto& c : changes) {
    if (c.action == PlannedChange::Action::Blocked) return 1;
    pending = pending || c.action == PlannedChange::Action::Create || c.action == PlannedChange::Action::Update;
  }
  return pending ? 3 : 0;
}

std::string Plan::text() const {
  std::string out;
  int create = 0, update = 0, same = 0, blocked = 0;
  for (const auto& c : changes) {
    out += c.key.str() + ": " + std::string(actionName(c.action));
    if (c.after) out += " (after " + c.after->str() + ")";
    if (c.action == PlannedChange::Action::Blocked) out += ": " + c.reason + ": " + c.message;
    out += "\n";
    for (const auto& d : c.diff) out += "    ~ " + d.path + ": " + quoted(d.observed) + " -> " + quoted(d.desired) + "\n";
    for (const auto& n : c.notes) out += "    note: " + n + "\n";
    switch (c.action) {
      case PlannedChange::Action::Create: ++create; break;
      case PlannedChange::Action::Update: ++update; break;
      case PlannedChange::Action::Blocked: ++blocked; break;
      default: ++same;
    }
  }
  if (!warnings.empty()) out += "\n";
  for (const auto& w : warnings) out += "warning: " + w + "\n";
  out += "\nPlan: " + std::to_string(create) + " to create, " + std::to_string(update) + " to update, " +
         std::to_string(same) + " unchanged, " + std::to_string(blocked) + " blocked.\n";
  return out;
}

Json Plan::json() const {
  Json resources = Json::array();
  std::map<std::string, int> summary{{"create", 0}, {"update", 0}, {"unchanged", 0}, {"blocked", 0}};
  for (const auto& c : changes) {
    Json diff = Json::array();
    for (const auto& d : c.diff) diff.push_back({{"path", d.path}, {"desired", d.desired}, {"observed", d.observed}});
    Json r{{"kind", kindName(c.key.kind)}, {"name", c.key.name}, {"action", actionName(c.action)}, {"diff", diff},
           {"notes", c.notes}};
    if (c.after) r["after"] = c.after->str();
    if (c.action == PlannedChange::Action::Blocked) {
      r["reason"] = c.reason;
      r["message"] = c.message;
    }
    resources.push_back(std::move(r));
    switch (c.action) {
      case PlannedChange::Action::Create: ++summary["create"]; break;
      case PlannedChange::Action::Update: ++summary["update"]; break;
      case PlannedChange::Action::Blocked: ++summary["blocked"]; break;
      default: ++summary["unchanged"];
    }
  }
  return Json{{"changesPending", exitCode() == 3}, {"exitCode", exitCode()}, {"summary", summary}, {"resources", resources},
              {"warnings", warnings}};
}

}  // namespace anf::controller
