#include "controller/mutation_groups.h"

#include <algorithm>
#include <cmath>

namespace anf::controller {
namespace {

constexpr char kPathSeparator = '|';  // not in ARM resource names

/// One path is the other's ancestor, or the same.
bool conflicts(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  return b.starts_with(a) && (b.size() == a.size() || b[a.size()] == '/');
}

const std::string& pathOf(const std::string& path) { return path; }
template <typename Hold>
const std::string& pathOf(const Hold& hold) {
  return hold.path;
}

/// `path` conflicts with one of the (key, path or hold) entries.
template <typename Entries>
bool conflictsWithAny(const Entries& entries, const std::string& path) {
  return std::ranges::any_of(entries, [&](const auto& entry) { return conflicts(pathOf(entry.second), path); });
}

}  // namespace

std::string MutationGroup::stored() const { return path == scope ? scope : scope + kPathSeparator + path; }

MutationGroup MutationGroup::fromStored(std::string_view stored) {
  const auto at = stored.find(kPathSeparator);
  if (at == std::string_view::npos) return MutationGroup(std::string(stored));
  return MutationGroup(std::string(stored.substr(0, at)), std::string(stored.substr(at + 1)));
}

MutationGroups::Scope& MutationGroups::scopeLocked(const std::string& scope) {
  return scopes_.try_emplace(scope, Scope{.limit = ceiling_}).first->second;
}

bool MutationGroups::fitsLocked(const Scope& s, const DocumentKey& key, const std::string& path, bool woken) const {
  const auto places = static_cast<std::size_t>(std::max(1.0, std::floor(s.limit)));
  if (s.held.size() + s.woken.size() >= places) return false;
  if (conflictsWithAny(s.held, path) || conflictsWithAny(s.woken, path)) return false;
  if (woken) return true;  // its turn came
  // First come, first served among writes that conflict: an earlier waiter keeps its turn.
  for (const auto& [waiter, waiterPath] : s.waiting) {
    if (waiter == key) break;
    if (conflicts(waiterPath, path)) return false;
  }
  return true;
}

bool MutationGroups::acquire(const MutationGroup& group, const DocumentKey& key) {
  if (group.empty()) return true;
  std::lock_guard lock(mutex_);
  if (auto old = scopeOf_.find(key); old != scopeOf_.end() && old->second != group.scope) {
    Scope& before = scopeLocked(old->second);  // the document moved to another account: its old place goes
    before.woken.erase(key);
    std::erase_if(before.waiting, [&](const auto& w) { return w.first == key; });
  }
  scopeOf_[key] = group.scope;
  Scope& s = scopeLocked(group.scope);
  const bool woken = s.woken.erase(key) > 0;  // it came back for its place
  if (auto held = s.held.find(key); held != s.held.end()) {
    held->second.path = group.path;
    return true;
  }
  const auto waiting = std::ranges::find_if(s.waiting, [&](const auto& w) { return w.first == key; });
  if (fitsLocked(s, key, group.path, woken)) {
    if (waiting != s.waiting.end()) s.waiting.erase(waiting);
    s.held[key] = Hold{.path = group.path, .window = s.window};
    return true;
  }
  if (waiting == s.waiting.end())
    s.waiting.emplace_back(key, group.path);
  else
    waiting->second = group.path;
  return false;
}

void MutationGroups::restore(const MutationGroup& group, const DocumentKey& key) {
  if (group.empty()) return;
  std::lock_guard lock(mutex_);
  Scope& s = scopeLocked(group.scope);
  s.held[key] = Hold{.path = group.path, .window = s.window};
  scopeOf_[key] = group.scope;
}

void MutationGroups::adjustLocked(Scope& s, const Hold& hold, Outcome outcome, std::size_t running) {
  if (hold.window != s.window) return;  // started before the last decrease: that one already answered it
  if (outcome == Outcome::Refused && running > 1) {  // alone, it was refused for someone else's operation
    s.limit = std::max(1.0, std::min(s.limit, static_cast<double>(running)) / 2);
    ++s.window;
  } else if (outcome == Outcome::Succeeded && static_cast<double>(running) >= std::floor(s.limit)) {
    s.limit = std::min(ceiling_, s.limit + 1 / s.limit);
  }
}

std::vector<DocumentKey> MutationGroups::wakeLocked(Scope& s) {
  std::vector<DocumentKey> woken;
  std::vector<std::pair<DocumentKey, std::string>> passedOver;  // waiters still blocked: later ones queue behind them
  const auto places = static_cast<std::size_t>(std::max(1.0, std::floor(s.limit)));
  for (auto it = s.waiting.begin(); it != s.waiting.end() && s.held.size() + s.woken.size() < places;) {
    if (conflictsWithAny(s.held, it->second) || conflictsWithAny(s.woken, it->second) || conflictsWithAny(passedOver, it->second)) {
      passedOver.push_back(*it++);
      continue;
    }
    s.woken.emplace(it->first, it->second);
    woken.push_back(it->first);
    it = s.waiting.erase(it);
  }
  return woken;
}

void MutationGroups::dropIfIdleLocked(const std::string& scope) {
  const auto it = scopes_.find(scope);
  const Scope& s = it->second;
  if (s.held.empty() && s.woken.empty() && s.waiting.empty() && s.limit >= ceiling_) scopes_.erase(it);
}

std::vector<DocumentKey> MutationGroups::release(const DocumentKey& key, Outcome outcome) {
  std::lock_guard lock(mutex_);
  const auto owner = scopeOf_.find(key);
  if (owner == scopeOf_.end()) return {};
  const std::string scope = owner->second;
  Scope& s = scopeLocked(scope);
  const auto held = s.held.find(key);
  if (held == s.held.end()) return {};
  const Hold hold = held->second;
  const std::size_t running = s.held.size();
  s.held.erase(held);
  scopeOf_.erase(owner);
  adjustLocked(s, hold, outcome, running);
  auto woken = wakeLocked(s);
  dropIfIdleLocked(scope);
  return woken;
}

std::vector<DocumentKey> MutationGroups::passOn(const DocumentKey& key) {
  std::lock_guard lock(mutex_);
  const auto owner = scopeOf_.find(key);
  if (owner == scopeOf_.end()) return {};
  const std::string scope = owner->second;
  Scope& s = scopeLocked(scope);
  if (!s.woken.erase(key)) return {};  // it holds or waits: nothing to pass on
  scopeOf_.erase(owner);
  auto woken = wakeLocked(s);
  dropIfIdleLocked(scope);
  return woken;
}

double MutationGroups::limit(const std::string& scope) const {
  std::lock_guard lock(mutex_);
  const auto it = scopes_.find(scope);
  return it == scopes_.end() ? ceiling_ : it->second.limit;
}

int MutationGroups::held(const std::string& scope) const {
  std::lock_guard lock(mutex_);
  const auto it = scopes_.find(scope);
  return it == scopes_.end() ? 0 : static_cast<int>(it->second.held.size());
}

}  // namespace anf::controller
