#include "controller/status_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include <sqlite3.h>

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

/// The SQLite state file: one table, one row per document, the row's entry as JSON text (toStateJson).
struct StatusDatabase {
  sqlite3* db = nullptr;
  sqlite3_stmt* upsert = nullptr;
  sqlite3_stmt* remove = nullptr;
  bool fullSync = false;  // the connection's synchronous setting is FULL

  StatusDatabase() = default;
  StatusDatabase(const StatusDatabase&) = delete;
  StatusDatabase& operator=(const StatusDatabase&) = delete;
  ~StatusDatabase() {
    sqlite3_finalize(upsert);
    sqlite3_finalize(remove);
    sqlite3_close(db);
  }
  std::string error() const { return db ? sqlite3_errmsg(db) : "out of memory"; }
  bool exec(const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }
  bool synchronous(bool full) {
    if (fullSync == full) return true;
    fullSync = full;
    return exec(full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  }
};

namespace {

/// Why a state file cannot be used: `damaged` when SQLite says it is not a database or is corrupt (set it
/// aside); otherwise it may be fine but cannot be opened or written now (a read-only or full folder, a lock).
struct OpenError {
  std::string message;
  bool damaged = false;
};

OpenError openError(const StatusDatabase& d) {
  const int code = d.db ? sqlite3_errcode(d.db) & 0xff : SQLITE_NOMEM;
  return {d.error(), code == SQLITE_NOTADB || code == SQLITE_CORRUPT};
}

std::expected<StatusDatabasePtr, OpenError> openDatabase(const std::filesystem::path& file) {
  auto d = std::make_unique<StatusDatabase>();
  if (sqlite3_open_v2(file.c_str(), &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
    return std::unexpected(openError(*d));
  if (sqlite3_db_readonly(d->db, "main") == 1) return std::unexpected(OpenError{"the file is read-only"});
  sqlite3_busy_timeout(d->db, 5000);
  std::string mode;
  const auto keepMode = [](void* out, int, char** values, char**) {
    *static_cast<std::string*>(out) = values[0] ? values[0] : "";
    return 0;
  };
  if (sqlite3_exec(d->db, "PRAGMA journal_mode=WAL", keepMode, &mode, nullptr) != SQLITE_OK) return std::unexpected(openError(*d));
  if (mode != "wal") return std::unexpected(OpenError{"cannot use WAL mode (journal_mode " + mode + ")"});
  if (!d->exec("PRAGMA synchronous=NORMAL") ||
      !d->exec("CREATE TABLE IF NOT EXISTS statuses (kind TEXT NOT NULL, name TEXT NOT NULL, entry TEXT NOT NULL, "
               "PRIMARY KEY (kind, name)) WITHOUT ROWID") ||
      sqlite3_prepare_v2(d->db,
                         "INSERT INTO statuses (kind, name, entry) VALUES (?1, ?2, ?3) "
                         "ON CONFLICT (kind, name) DO UPDATE SET entry = excluded.entry",
                         -1, &d->upsert, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(d->db, "DELETE FROM statuses WHERE kind = ?1 AND name = ?2", -1, &d->remove, nullptr) != SQLITE_OK)
    return std::unexpected(openError(*d));
  return d;
}

/// Every row; an error when the file is damaged (SQLite checks pages as it reads them).
std::expected<std::vector<StoredStatus>, OpenError> readRows(StatusDatabase& d) {
  sqlite3_stmt* select = nullptr;
  if (sqlite3_prepare_v2(d.db, "SELECT entry FROM statuses", -1, &select, nullptr) != SQLITE_OK) return std::unexpected(openError(d));
  std::vector<StoredStatus> rows;
  int rc;
  while ((rc = sqlite3_step(select)) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(select, 0));
    if (auto e = fromStateJson(Json::parse(text ? text : "", nullptr, false))) rows.push_back(std::move(*e));
  }
  sqlite3_finalize(select);
  if (rc != SQLITE_DONE) return std::unexpected(openError(d));
  return rows;
}

/// The database at `file` (created when missing) and its rows; an error when `file` is not a readable one.
std::expected<std::pair<StatusDatabasePtr, std::vector<StoredStatus>>, OpenError> openAndRead(const std::filesystem::path& file) {
  auto opened = openDatabase(file);
  if (!opened) return std::unexpected(opened.error());
  auto rows = readRows(**opened);
  if (!rows) return std::unexpected(rows.error());
  return std::pair{std::move(*opened), std::move(*rows)};
}

/// Binds the key to `stmt`'s first two parameters, runs it once, and resets it.
bool runKeyed(sqlite3_stmt* stmt, const DocumentKey& key, const std::string* entry) {
  const std::string_view kind = kindName(key.kind);
  sqlite3_bind_text(stmt, 1, kind.data(), static_cast<int>(kind.size()), SQLITE_STATIC);
  sqlite3_bind_text(stmt, 2, key.name.data(), static_cast<int>(key.name.size()), SQLITE_STATIC);
  if (entry) sqlite3_bind_text(stmt, 3, entry->data(), static_cast<int>(entry->size()), SQLITE_STATIC);
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return rc == SQLITE_DONE;
}

/// The entries of a state file in the JSON format of earlier versions; nullopt when `file` is not one.
std::optional<std::vector<StoredStatus>> readLegacyJson(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  char first = 0;
  if (!(in >> first) || first != '{') return std::nullopt;  // SQLite files start with "SQLite format 3"
  in.seekg(0);
  const Json json = Json::parse(in, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("resources")) return std::nullopt;
  std::vector<StoredStatus> entries;
  for (const auto& item : json.value("resources", Json::array()))
    if (auto e = fromStateJson(item)) entries.push_back(std::move(*e));
  return entries;
}

/// Renames `file` and its WAL and shared-memory files (a stale WAL would otherwise be replayed into a new
/// database at `file`) to `aside`.
std::expected<void, std::string> moveAside(const std::filesystem::path& file, const std::filesystem::path& aside) {
  std::error_code ec;
  std::filesystem::rename(file, aside, ec);
  if (ec) return std::unexpected("cannot rename " + file.string() + " to " + aside.string() + ": " + ec.message());
  for (const char* sidecar : {"-wal", "-shm"}) {
    const std::filesystem::path from = file.string() + sidecar;
    if (std::filesystem::exists(from, ec)) std::filesystem::rename(from, aside.string() + sidecar, ec);
  }
  return {};
}

std::string timestampSuffix() {
  std::string t = rfc3339(std::chrono::system_clock::now());
  std::erase_if(t, [](char c) { return c == ':' || c == '-'; });
  return t;
}

/// Finds the old JSON state file (at `file`, or its old default name beside a new `.db` path), renames it
/// out of the way and returns its entries; empty when there is none, an error when it cannot be renamed
/// (it is imported once the folder can be written).
std::expected<std::vector<StoredStatus>, std::string> takeLegacyJson(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::path legacy = file;
  if (file.extension() == ".db" && !std::filesystem::exists(file, ec)) legacy.replace_extension(".json");
  auto entries = readLegacyJson(legacy);
  if (!entries) return std::vector<StoredStatus>{};
  const std::filesystem::path imported = legacy.string() + ".imported";
  if (auto moved = moveAside(legacy, imported); !moved)
    return std::unexpected("the state file " + legacy.string() + " is in the old JSON format but " + moved.error());
  spdlog::info("state file {} is in the old JSON format: importing its {} statuses into {} (the JSON is kept as {})",
               legacy.string(), entries->size(), file.string(), imported.string());
  return std::move(*entries);
}

bool holdsPostAction(const StoredStatus& e) {
  return e.status.operation && e.status.operation->is_object() && e.status.operation->value("method", "") == "POST";
}

/// Writes `text` to the open file `fd` and fsyncs it; closes `fd`.
bool writeDurably(int fd, const std::string& text) {
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  return ::close(fd) == 0 && ok;
}

bool appendDurably(const std::filesystem::path& file, const std::string& line) {
  return writeDurably(::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600), line + "\n");
}

/// Replaces `file` by `text` in one rename; removes it when `text` is empty.
bool rewriteDurably(const std::filesystem::path& file, const std::string& text) {
  std::error_code ec;
  if (text.empty()) {
    std::filesystem::remove(file, ec);
    return !ec;
  }
  const std::filesystem::path next = file.string() + ".next";
  if (!writeDurably(::open(next.c_str(), O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0600), text)) return false;
  std::filesystem::rename(next, file, ec);
  return !ec;
}

/// One line of the action journal: the entry holding the action's operation, or null for its end.
Json actionRecord(const DocumentKey& key, const StoredStatus* running) {
  return Json{{"kind", kindName(key.kind)}, {"name", key.name}, {"entry", running ? toStateJson(*running) : Json()}};
}

/// The entries whose action still runs by the action journal: its lines replayed in order; a line that does not
/// parse (a torn last write) is skipped.
std::map<DocumentKey, StoredStatus> readActionJournal(const std::filesystem::path& file) {
  std::map<DocumentKey, StoredStatus> running;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    const Json record = Json::parse(line, nullptr, false);
    const auto kind = record.is_object() ? parseKind(record.value("kind", "")) : std::nullopt;
    if (!kind) continue;
    const DocumentKey key{*kind, record.value("name", "")};
    auto entry = fromStateJson(record.value("entry", Json()));
    if (entry && entry->key == key && holdsPostAction(*entry)) running[key] = std::move(*entry);
    else running.erase(key);
  }
  return running;
}

}  // namespace

StatusStore::StatusStore(std::filesystem::path stateFile)
    : stateFile_(std::move(stateFile)), actionJournal_(stateFile_.empty() ? "" : stateFile_.string() + "-actions") {}

StatusStore::~StatusStore() = default;

std::expected<void, std::string> StatusStore::load() {
  if (stateFile_.empty()) return {};
  auto legacy = takeLegacyJson(stateFile_);
  if (!legacy) return std::unexpected(legacy.error());
  std::vector<StoredStatus> imported = std::move(*legacy);
  std::error_code ec;
  bool rebuilt = !std::filesystem::exists(stateFile_, ec);  // missing, or set aside below: the action journal restores
  auto rows = openAndRead(stateFile_);
  const auto cannotUse = [&] { return "cannot open or write the state file " + stateFile_.string() + ": " + rows.error().message; };
  // Only a file SQLite calls damaged is set aside: one that cannot be opened now (a read-only folder, a lock)
  // may be a good journal.
  if (!rows && (!rows.error().damaged || !std::filesystem::is_regular_file(stateFile_, ec))) return std::unexpected(cannotUse());
  if (!rows) {
    const std::filesystem::path aside = stateFile_.string() + ".damaged-" + timestampSuffix();
    if (auto moved = moveAside(stateFile_, aside); !moved) return std::unexpected("state file: " + moved.error());
    spdlog::warn("state file {} is not a readable status database ({}): set aside as {}; starting with empty status, "
                 "which observing Azure rebuilds", stateFile_.string(), rows.error().message, aside.string());
    rebuilt = true;
    rows = openAndRead(stateFile_);
    if (!rows) return std::unexpected(cannotUse());
  }
  const auto now = std::chrono::system_clock::now();
  std::lock_guard lock(mutex_);
  db_ = std::move(rows->first);
  entries_.clear();
  counts_.clear();
  for (auto& e : rows->second) entries_[e.key] = std::move(e);
  if (!imported.empty()) {  // one transaction, fsynced: the imported operations are records like any other
    db_->synchronous(true);  // set outside the transaction (SQLite refuses it inside)
    db_->exec("BEGIN");
    for (auto& e : imported) {
      persistLocked(e.key, toStateJson(e), true);
      entries_[e.key] = std::move(e);
    }
    db_->exec("COMMIT");
  }
  if (rebuilt) restoreActionsLocked(readActionJournal(actionJournal_));
  actions_.clear();
  std::string journal;  // rewritten with the running actions only
  for (auto& [key, e] : entries_) {
    distrust(e, now);
    countLocked(e, +1);
    if (!holdsPostAction(e)) continue;
    actions_[key] = *e.status.operation;
    journal += actionRecord(key, &e).dump() + "\n";
  }
  if (!rewriteDurably(actionJournal_, journal)) spdlog::error("cannot rewrite the action journal {}", actionJournal_.string());
  return {};
}

void StatusStore::restoreActionsLocked(std::map<DocumentKey, StoredStatus> running) {
  std::erase_if(running, [&](const auto& item) { return entries_.contains(item.first); });
  if (running.empty()) return;
  std::string names;
  db_->synchronous(true);
  db_->exec("BEGIN");
  for (auto& [key, e] : running) {
    names += (names.empty() ? "" : ", ") + key.str() + " " + e.status.operation->value("action", "");
    persistLocked(key, toStateJson(e), true);
    entries_[key] = std::move(e);
  }
  db_->exec("COMMIT");
  spdlog::warn("state file {}: the POST actions still running ({}) are restored from the action journal {}; the operator "
               "polls their operations instead of sending them again", stateFile_.string(), names, actionJournal_.string());
}

void StatusStore::journalActionLocked(const DocumentKey& key, const StoredStatus* entry) {
  if (actionJournal_.empty()) return;
  const bool running = entry && holdsPostAction(*entry);
  const auto held = actions_.find(key);
  if (running ? held != actions_.end() && held->second == *entry->status.operation : held == actions_.end()) return;
  if (!appendDurably(actionJournal_, actionRecord(key, running ? entry : nullptr).dump()))
    spdlog::error("cannot append the action of {} to the action journal {}", key.str(), actionJournal_.string());
  if (running) actions_[key] = *entry->status.operation;
  else actions_.erase(held);
}

void StatusStore::persistLocked(const DocumentKey& key, const Json& entry, bool durable) {
  if (stateFile_.empty()) return;
  if (!db_) {  // changed before load(): opened without reading
    auto opened = openDatabase(stateFile_);
    if (!opened) {
      spdlog::error("cannot open the state file {}: {}", stateFile_.string(), opened.error().message);
      return;
    }
    db_ = std::move(*opened);
  }
  const std::string row = entry.is_null() ? std::string() : entry.dump();
  if (!db_->synchronous(durable) || !runKeyed(entry.is_null() ? db_->remove : db_->upsert, key, entry.is_null() ? nullptr : &row))
    spdlog::error("cannot write the status of {} to the state file {}: {}", key.str(), stateFile_.string(), db_->error());
}

void StatusStore::countLocked(const StoredStatus& e, int delta) {
  auto& c = counts_[e.key.kind];
  (e.status.ready ? c.ready : c.notReady) += delta;
}

std::optional<StoredStatus> StatusStore::get(const DocumentKey& key) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

bool StatusStore::contains(const DocumentKey& key) const {
  std::lock_guard lock(mutex_);
  return entries_.contains(key);
}

ReadinessCounts StatusStore::counts(Kind kind) const {
  std::lock_guard lock(mutex_);
  const auto it = counts_.find(kind);
  return it == counts_.end() ? ReadinessCounts{} : it->second;
}

StoredStatus StatusStore::update(const DocumentKey& key, const std::function<void(StoredStatus&)>& change) {
  std::unique_lock lock(mutex_);
  auto [it, inserted] = entries_.try_emplace(key);
  if (inserted) {
    it->second.key = key;
    it->second.firstSeen = rfc3339(std::chrono::system_clock::now());
  } else {
    countLocked(it->second, -1);
  }
  const Json before = inserted ? Json() : toStateJson(it->second);
  const std::optional<Json> operationBefore = it->second.status.operation;
  change(it->second);
  countLocked(it->second, +1);
  const Json after = toStateJson(it->second);
  if (inserted || after != before) {  // unchanged status: no write, no wake-up
    // The operation's record (or its end) is fsynced before the engine's next request for this document.
    const bool operationChanged = operationBefore != it->second.status.operation;
    persistLocked(key, after, operationChanged);
    if (operationChanged) journalActionLocked(key, &it->second);
    ++version_;
    changed_.notify_all();
    if (observer_) {
      const Observer observer = observer_;  // setObserver may run meanwhile
      StoredStatus now = it->second;
      lock.unlock();
      observer(key, now);
      return now;
    }
  }
  return it->second;
}

void StatusStore::erase(const DocumentKey& key) {
  std::unique_lock lock(mutex_);
  if (const auto it = entries_.find(key); it != entries_.end()) {
    countLocked(it->second, -1);
    entries_.erase(it);
    persistLocked(key, Json(), false);
    journalActionLocked(key, nullptr);
  }
  ++version_;
  changed_.notify_all();
  if (observer_) {
    const Observer observer = observer_;
    lock.unlock();
    observer(key, std::nullopt);
  }
}

void StatusStore::setObserver(Observer observer) {
  std::lock_guard lock(mutex_);
  observer_ = std::move(observer);
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
