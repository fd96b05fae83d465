#include "controller/status_store.h"

#include <fstream>

#include <spdlog/spdlog.h>

#include "controller/conditions.h"

namespace anf::controller {

namespace {

Json conditionsJson(const std::vector<Condition>& conditions) {
  Json out = Json::array();
  for (const auto& c : conditions) out.push_back(toJson(c));
  return out;
}

std::vector<Condition> conditionsFrom(const Json& json) {
  std::vector<Condition> out;
  if (json.is_array())
    for (const auto& c : json) out.push_back(conditionFromJson(c));
  return out;
}

Json azureErrorJson(const AzureErrorDetails& e) {
  return Json{{"code", e.code}, {"message", e.message}, {"httpStatus", e.httpStatus}, {"requestId", e.requestId}};
}

std::optional<AzureErrorDetails> azureErrorFrom(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  return AzureErrorDetails{.httpStatus = j.value("httpStatus", 0), .code = j.value("code", ""),
                           .message = j.value("message", ""), .requestId = j.value("requestId", "")};
}

/// A restored entry until this process observes it: what it claimed is not believed.
void distrust(StoredStatus& e, std::chrono::system_clock::time_point now) {
  for (std::string_view type : {condition::kReady, condition::kSynced})
    setCondition(e.status.conditions, type, condition::kUnknown, reason::kNotYetObserved,
                 "restored from the state file; not yet observed in Azure by this process", now);
  e.status.ready = false;
}

}  // namespace

Json toStateJson(const StoredStatus& e) {
  Json j{{"kind", kindName(e.key.kind)},
         {"name", e.key.name},
         {"source", {{"file", e.source.file}, {"line", e.source.line}, {"column", e.source.column}}},
         {"firstSeen", e.firstSeen},
         {"generation", e.status.generation},
         {"ready", e.status.ready},
         {"facts", e.status.facts},
         {"conditions", conditionsJson(e.status.conditions)}};
  if (e.status.operation) {
    j["operation"] = *e.status.operation;
    j["operationGroup"] = e.operationGroup;
    j["operationAction"] = e.operationAction;
  }
  if (e.parkedGeneration) j["parkedGeneration"] = *e.parkedGeneration;
  if (e.status.azureError) j["azureError"] = azureErrorJson(*e.status.azureError);
  return j;
}

std::optional<StoredStatus> fromStateJson(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  auto kind = parseKind(j.value("kind", ""));
  if (!kind) return std::nullopt;
  StoredStatus e;
  e.key = {*kind, j.value("name", "")};
  if (const auto s = j.find("source"); s != j.end() && s->is_object())
    e.source = {s->value("file", ""), s->value("line", 0), s->value("column", 0)};
  e.firstSeen = j.value("firstSeen", "");
  e.status.generation = j.value("generation", "");
  e.status.ready = j.value("ready", false);
  e.status.facts = j.value("facts", Json::object());
  e.status.conditions = conditionsFrom(j.value("conditions", Json::array()));
  if (j.contains("operation") && !j["operation"].is_null()) {
    e.status.operation = j["operation"];
    e.operationGroup = j.value("operationGroup", "");
    e.operationAction = j.value("operationAction", "");
  }
  if (j.contains("parkedGeneration")) e.parkedGeneration = j.value("parkedGeneration", "");
  if (j.contains("azureError")) e.status.azureError = azureErrorFrom(j["azureError"]);
  return e;
}

Json toApiJson(const StoredStatus& e) {
  Json status{{"observedGeneration", e.status.generation},
              {"ready", e.status.ready},
              {"conditions", conditionsJson(e.status.conditions)},
              {"facts", e.status.facts}};
  if (e.status.operation) status["operation"] = {{"action", e.operationAction}, {"state", *e.status.operation}};
  if (e.status.azureError) status["azureError"] = azureErrorJson(*e.status.azureError);
  return Json{{"kind", kindName(e.key.kind)},
              {"name", e.key.name},
              {"source", {{"file", e.source.file}, {"line", e.source.line}}},
              {"azure", {{"resourceId", e.status.facts.value("resourceId", "")}}},
              {"firstSeen", e.firstSeen},
              {"status", std::move(status)}};
}

StatusStore::StatusStore(std::filesystem::path stateFile) : stateFile_(std::move(stateFile)) {}

std::expected<void, std::string> StatusStore::load() {
  if (stateFile_.empty()) return {};
  std::error_code ec;
  if (!std::filesystem::exists(stateFile_, ec)) return {};
  std::ifstream in(stateFile_);
  Json json = Json::parse(in, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return std::unexpected("state file " + stateFile_.string() + " is not valid JSON");
  const auto now = std::chrono::system_clock::now();
  std::lock_guard lock(mutex_);
  entries_.clear();
  for (const auto& item : json.value("resources", Json::array()))
    if (auto e = fromStateJson(item)) {
      distrust(*e, now);
      entries_[e->key] = std::move(*e);
    }
  return {};
}

void StatusStore::persistLocked() const {
  if (stateFile_.empty()) return;
  Json resources = Json::array();
  for (const auto& [key, e] : entries_) resources.push_back(toStateJson(e));
  const Json doc{{"version", 1}, {"resources", std::move(resources)}};
  const auto tmp = stateFile_.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << doc.dump(1) << "\n";
    if (!out) {
      spdlog::error("cannot write state file {}", tmp);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, stateFile_, ec);
  if (ec) spdlog::error("cannot replace state file {}: {}", stateFile_.string(), ec.message());
}

std::optional<StoredStatus> StatusStore::get(const DocumentKey& key) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

StoredStatus StatusStore::update(const DocumentKey& key, const std::function<void(StoredStatus&)>& change) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = entries_.try_emplace(key);
  if (inserted) {
    it->second.key = key;
    it->second.firstSeen = rfc3339(std::chrono::system_clock::now());
  }
  const Json before = inserted ? Json() : toStateJson(it->second);
  change(it->second);
  if (inserted || toStateJson(it->second) != before) {  // unchanged status: no write, no wake-up
    persistLocked();
    ++version_;
    changed_.notify_all();
  }
  return it->second;
}

void StatusStore::erase(const DocumentKey& key) {
  std::lock_guard lock(mutex_);
  if (entries_.erase(key) > 0) persistLocked();
  ++version_;
  changed_.notify_all();
}

bool StatusStore::waitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  while (true) {
    const auto seen = version_;
    lock.unlock();
    if (predicate()) return true;
    lock.lock();
    if (!changed_.wait_until(lock, deadline, [&] { return version_ != seen; })) return false;
  }
}

std::vector<StoredStatus> StatusStore::list() const {
  std::lock_guard lock(mutex_);
  std::vector<StoredStatus> out;
  for (const auto& [key, e] : entries_) out.push_back(e);
  return out;
}

std::vector<Condition> StatusStore::operatorConditions() const {
  std::lock_guard lock(mutex_);
  return operatorConditions_;
}

void StatusStore::setOperatorCondition(std::string_view type, std::string_view status, std::string_view reason,
                                       std::string message) {
  std::lock_guard lock(mutex_);
  setCondition(operatorConditions_, type, status, reason, std::move(message), std::chrono::system_clock::now());
  ++version_;
  changed_.notify_all();
}

Json StatusStore::listJson() const {
  std::lock_guard lock(mutex_);
  Json items = Json::array();
  for (const auto& [key, e] : entries_) items.push_back(toApiJson(e));
  return Json{{"kind", "ResourceList"}, {"items", std::move(items)},
              {"operator", {{"conditions", conditionsJson(operatorConditions_)}}}};
}

}  // namespace anf::controller
