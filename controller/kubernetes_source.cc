#include "controller/kubernetes_source.h"

#include <utility>  // before Boost.Asio (via cpprest) under C++23

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "controller/directory_source.h"
#include "kube/leader_election.h"

namespace anf::controller {

namespace {

using kube::ObjectCache;
using kube::StoreChange;

constexpr std::size_t kGenerationsKept = 16;

std::string lowerPlural(std::string_view kind) {
  std::string out;
  for (char c : kind) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.ends_with('y')) return out.substr(0, out.size() - 1) + "ies";
  return out + "s";
}

const Json& metadataOf(const Json& object) {
  static const Json empty = Json::object();
  const auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? *it : empty;
}

bool beingDeleted(const Json& object) { return metadataOf(object).contains("deletionTimestamp"); }

std::vector<std::string> finalizersOf(const Json& object) {
  std::vector<std::string> out;
  for (const auto& f : metadataOf(object).value("finalizers", Json::array()))
    if (f.is_string()) out.push_back(f.get<std::string>());
  return out;
}

bool hasFinalizer(const Json& object) { return std::ranges::count(finalizersOf(object), std::string(kFinalizer)) > 0; }

std::optional<std::int64_t> generationOf(const Json& object) {
  const Json& g = metadataOf(object).value("generation", Json());
  if (!g.is_number_integer()) return std::nullopt;
  return g.get<std::int64_t>();
}

/// The merge patch that turns `before` into `after` at the top level (fields now absent become null).
Json statusPatch(const Json& before, const Json& after) {
  Json patch = after;
  if (before.is_object())
    for (const auto& [name, value] : before.items())
      if (!after.contains(name)) patch[name] = nullptr;
  return Json{{"status", patch}};
}

std::string conditionStatus(const Json& conditions, const std::string& type, const char* field) {
  if (!conditions.is_array()) return "";
  for (const auto& c : conditions)
    if (c.value("type", "") == type) return c.value(field, "");
  return "";
}

}  // namespace

kube::ResourceType resourceTypeOf(Kind kind) { return {"anf-cmk.io", "v1alpha1", lowerPlural(kindName(kind))}; }

std::string manifestTextOf(const Json& object) {
  const Json& metadata = metadataOf(object);
  Json doc{{"apiVersion", object.value("apiVersion", std::string(kApiVersion))},
           {"kind", object.value("kind", "")},
           {"metadata", {{"name", metadata.value("name", "")}}}};
  for (const char* field : {"labels", "annotations"})
    if (metadata.contains(field)) doc["metadata"][field] = metadata[field];
  if (object.contains("spec")) doc["spec"] = object["spec"];
  return doc.dump();  // JSON is YAML: the manifest loader reads it as it reads a file
}

bool wantsFinalizer(const Json& object) {
  const Json spec = object.value("spec", Json::object());
  return spec.is_object() && spec.value("deletionPolicy", "") == "Delete" && !beingDeleted(object);
}

Json customResourceStatus(const StoredStatus& entry, std::optional<std::int64_t> observedGeneration) {
  Json status = toApiJson(entry)["status"];
  status.erase("observedGeneration");
  if (observedGeneration) status["observedGeneration"] = *observedGeneration;
  return status;
}

std::vector<kube::EventRecord> conditionTransitions(const Json& before, const Json& after, const Json& involvedObject) {
  std::vector<kube::EventRecord> events;
  const Json none = Json::array();
  const Json& old = before.is_object() ? before.value("conditions", none) : none;
  for (const auto& c : after.value("conditions", none)) {
    const std::string type = c.value("type", ""), status = c.value("status", ""), reason = c.value("reason", "");
    if (conditionStatus(old, type, "status") == status && conditionStatus(old, type, "reason") == reason) continue;
    const std::string message = c.value("message", "");
    events.push_back({.involvedObject = involvedObject,
                      .type = status == "False" ? "Warning" : "Normal",
                      .reason = reason.empty() ? type : reason,
                      .message = type + "=" + status + (message.empty() ? "" : ": " + message)});
  }
  return events;
}

struct KubernetesSource::Impl : std::enable_shared_from_this<Impl> {
  Impl(kube::KubeClient& client, StatusStore& statuses, Options options, SnapshotCallback callback)
      : client(client), statuses(statuses), options(std::move(options)), onSnapshot(std::move(callback)) {}

  kube::KubeClient& client;
  StatusStore& statuses;
  Options options;
  SnapshotCallback onSnapshot;
  pplx::cancellation_token_source cancel;
  std::vector<std::thread> threads;

  mutable std::mutex mutex;  // guards everything below
  std::condition_variable wake;
  bool stopped = false;
  std::map<Kind, ObjectCache> caches;
  ManifestIndex index;
  DesiredState current;
  /// Per document: the metadata.generation of each spec hash seen lately (observedGeneration).
  std::map<DocumentKey, std::deque<std::pair<std::string, std::int64_t>>> generations;
  std::set<DocumentKey> dirty;             // statuses to write
  std::map<DocumentKey, Json> lastWritten;  // .status as last written
  std::map<DocumentKey, std::string> texts;  // the manifest text each resource in the index was loaded from
  std::optional<std::chrono::steady_clock::time_point> firstUnpublished, lastUnpublished;
  std::mutex indexMutex;  // one list or event into the index at a time (finalizer calls run under it, not under `mutex`)

  std::string fileOf(Kind kind, const std::string& name) const {
    return "kubernetes:" + options.namespaceName + "/" + std::string(kindName(kind)) + "/" + name;
  }

  /// Waits `delay` unless stopped; false when stopped.
  bool pause(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex);
    return !wake.wait_for(lock, delay, [&] { return stopped; });
  }

  bool isStopped() {
    std::lock_guard lock(mutex);
    return stopped;
  }

  /// Adds or removes our finalizer as the resource's deletionPolicy asks; true when it was already right.
  bool finalizerSettled(Kind kind, const Json& object) {
    const bool want = wantsFinalizer(object), has = hasFinalizer(object);
    if (want == has || (has && beingDeleted(object))) return true;
    auto finalizers = finalizersOf(object);
    if (want)
      finalizers.push_back(kFinalizer);
    else
      std::erase(finalizers, std::string(kFinalizer));
    auto patched = client.setFinalizers(resourceTypeOf(kind), options.namespaceName, kube::nameOf(object),
                                        kube::resourceVersionOf(object), finalizers);
    if (!patched && !patched.error().conflict() && !patched.error().notFound())
      spdlog::warn("{}/{}: cannot {} the finalizer: {}", kindName(kind), kube::nameOf(object), want ? "add" : "remove",
                   patched.error().str());
    // Either way the change comes back as a watch event (or a conflict means a newer one is on its way).
    return !want;
  }

  /// Applies what a list or an event changed to the desired state and hands on the snapshot.
  void changed(Kind kind, const StoreChange& change) {
    std::lock_guard indexing(indexMutex);
    for (const auto& object : change.upserted) {
      try {
        upserted(kind, object);
      } catch (const std::exception& e) {  // what the API holds is outside input: one odd resource stops nothing
        spdlog::error("{}/{}: cannot be read: {}", kindName(kind), kube::nameOf(object), e.what());
      }
    }
    std::lock_guard lock(mutex);
    for (const auto& name : change.deleted) {
      forget(kind, name);
      generations.erase({kind, name});
      lastWritten.erase({kind, name});  // a resource created again under this name starts afresh
    }
    const auto now = std::chrono::steady_clock::now();
    if (!firstUnpublished) firstUnpublished = now;
    lastUnpublished = now;
    wake.notify_all();
  }

  /// A new or changed resource into the desired state (or out of it, while being deleted).
  void upserted(Kind kind, const Json& object) {
    const std::string name = kube::nameOf(object);
    const bool enters = finalizerSettled(kind, object);
    std::lock_guard lock(mutex);
    dirty.insert({kind, name});  // its status (or, being deleted, its finalizer) may be due
    if (beingDeleted(object)) {
      forget(kind, name);
      return;
    }
    // The finalizer first: the resource enters, or its change applies, once the resource carries it (its version
    // already in the desired state, if any, stays: a missing finalizer is never taken for a deletion).
    if (!enters) return;
    std::string text = manifestTextOf(object);
    auto& known = texts[{kind, name}];
    if (text == known) return;  // our own status write, or metadata the documents do not carry
    FileResult loaded = loadManifestText(text, fileOf(kind, name), options.load);
    for (const auto& doc : loaded.documents) rememberGeneration(doc, generationOf(object));
    index.setFile(fileOf(kind, name), std::move(loaded.documents), std::move(loaded.errors));
    known = std::move(text);
  }

  /// The resource leaves the desired state; mutex held.
  void forget(Kind kind, const std::string& name) {
    index.removeFile(fileOf(kind, name));
    texts.erase({kind, name});
  }

  void rememberGeneration(const Document& doc, std::optional<std::int64_t> generation) {
    if (!generation) return;
    auto& seen = generations[doc.key];
    if (!seen.empty() && seen.back().first == doc.generation) {
      seen.back().second = *generation;
      return;
    }
    seen.emplace_back(doc.generation, *generation);
    if (seen.size() > kGenerationsKept) seen.pop_front();
  }

  /// Hands on the index's changes once they have been quiet for `debounce` (at most `maxDelay` after the first):
  /// a burst of events (a namespace or a CRD deleted, a GitOps prune) is one snapshot, so the engine's
  /// mass-deletion guard sees it whole, as it sees a burst of file changes.
  void runPublisher() {
    std::unique_lock lock(mutex);
    while (!stopped) {
      if (!firstUnpublished) {
        wake.wait(lock, [&] { return stopped || firstUnpublished; });
        continue;
      }
      const auto due = std::min(*lastUnpublished + options.debounce, *firstUnpublished + options.maxDelay);
      if (std::chrono::steady_clock::now() < due) {
        wake.wait_until(lock, due);
        continue;
      }
      firstUnpublished.reset();
      lock.unlock();
      publish();
      lock.lock();
    }
  }

  void publish() {
    std::lock_guard indexing(indexMutex);
    DesiredState next;
    DocumentChanges changes;
    {
      std::lock_guard lock(mutex);
      if (stopped) return;
      changes = index.commit(next);
      if (current.revision != 0 && changes.empty() && next.errors.size() == current.errors.size()) return;
      next.revision = current.revision + 1;
      current = next;
    }
    if (onSnapshot) onSnapshot(next, changes);
  }

  /// List then watch one kind until stopped (the class comment).
  void runKind(Kind kind) {
    const auto type = resourceTypeOf(kind);
    std::chrono::milliseconds backoff = options.backoffInitial;
    std::mt19937 random(std::random_device{}());
    auto failed = [&](const kube::KubeError& error, const char* what) {
      std::uniform_real_distribution<double> jitter(0.5, 1.0);
      const auto delay = std::chrono::milliseconds(static_cast<long>(backoff.count() * jitter(random)));
      spdlog::warn("{} {}: {} (again in {} ms)", what, type.plural, error.str(), delay.count());
      backoff = std::min(backoff * 2, options.backoffMax);
      return pause(delay);
    };
    while (!isStopped()) {
      std::string from;
      {
        std::lock_guard lock(mutex);
        from = caches[kind].resourceVersion();
      }
      if (from.empty()) {
        auto listed = client.list(type, options.namespaceName, options.pageSize);
        if (!listed) {
          if (!failed(listed.error(), "list")) return;
          continue;
        }
        StoreChange change;
        {
          std::lock_guard lock(mutex);
          change = caches[kind].replace(std::move(listed->items), listed->resourceVersion);
        }
        changed(kind, change);
        continue;
      }
      auto watched = client.watch(type, options.namespaceName, from, [&](const kube::WatchEvent& event) {
        StoreChange change;
        {
          std::lock_guard lock(mutex);
          change = caches[kind].apply(event);
        }
        backoff = options.backoffInitial;
        if (!change.empty()) changed(kind, change);
      }, cancel.get_token(), options.watchTimeoutSeconds);
      if (watched) continue;  // the server ended the watch: resume from the last version seen
      if (watched.error().gone()) {
        spdlog::info("watch {}: resourceVersion {} is gone (compacted): listing again", type.plural, from);
        std::lock_guard lock(mutex);
        caches[kind].expire();
        continue;
      }
      if (isStopped() || !failed(watched.error(), "watch")) return;
    }
  }

  /// Writes the statuses marked dirty, the latest of each, until stopped.
  void runWriter() {
    while (true) {
      DocumentKey key;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] { return stopped || !dirty.empty(); });
        if (stopped) return;
        key = *dirty.begin();
        dirty.erase(dirty.begin());
      }
      bool written = true;
      try {
        written = writeStatus(key);
      } catch (const std::exception& e) {
        spdlog::error("{}: cannot write status: {}", key.str(), e.what());
      }
      if (!written && !pause(options.backoffInitial)) return;
    }
  }

  std::optional<std::int64_t> observedGeneration(const DocumentKey& key, const std::string& hash) const {
    const auto it = generations.find(key);
    if (it == generations.end()) return std::nullopt;
    for (auto seen = it->second.rbegin(); seen != it->second.rend(); ++seen)  // the latest: a spec can come back
      if (seen->first == hash) return seen->second;
    return std::nullopt;
  }

  /// One key's status, finalizer and events; false when the API refused (the key is marked again).
  bool writeStatus(const DocumentKey& key) {
    const auto entry = statuses.get(key);
    Json object, before, status;
    {
      std::lock_guard lock(mutex);
      const Json* found = caches[key.kind].find(key.name);
      if (!found) return true;
      object = *found;
      const auto written = lastWritten.find(key);
      before = written != lastWritten.end() ? written->second : object.value("status", Json());
      if (entry) {
        auto generation = observedGeneration(key, entry->status.generation);
        if (!generation && before.is_object() && before.value("observedGeneration", Json()).is_number_integer())
          generation = before["observedGeneration"].get<std::int64_t>();
        status = customResourceStatus(*entry, generation);
      }
    }
    const auto type = resourceTypeOf(key.kind);
    if (!entry) return releaseFinalizer(key, object);
    if (beingDeleted(object) && !hasFinalizer(object)) return true;
    if (status == before) return true;  // nothing changed: no write
    auto patched = client.mergePatch(type, options.namespaceName, key.name, statusPatch(before, status), true);
    if (!patched) {
      if (patched.error().notFound()) return true;
      spdlog::warn("{}: cannot write status: {}", key.str(), patched.error().str());
      markDirty(key);
      return false;
    }
    {
      std::lock_guard lock(mutex);
      lastWritten[key] = status;
    }
    const Json involved{{"apiVersion", kApiVersion}, {"kind", kindName(key.kind)}, {"name", key.name},
                        {"namespace", options.namespaceName}, {"uid", metadataOf(object).value("uid", "")}};
    for (const auto& event : conditionTransitions(before, status, involved))
      if (auto recorded = client.recordEvent(options.namespaceName, event); !recorded)
        spdlog::warn("{}: cannot record event {}: {}", key.str(), event.reason, recorded.error().str());
    return true;
  }

  /// The engine is done with a deleted resource (its status erased): our finalizer goes.
  bool releaseFinalizer(const DocumentKey& key, const Json& object) {
    if (!beingDeleted(object) || !hasFinalizer(object)) return true;
    auto finalizers = finalizersOf(object);
    std::erase(finalizers, std::string(kFinalizer));
    auto patched = client.setFinalizers(resourceTypeOf(key.kind), options.namespaceName, key.name,
                                        kube::resourceVersionOf(object), finalizers);
    if (patched || patched.error().notFound()) {
      spdlog::info("{}: deleted from Azure; finalizer removed", key.str());
      return true;
    }
    spdlog::warn("{}: cannot remove the finalizer: {}", key.str(), patched.error().str());
    markDirty(key);  // a conflict: the watch brings the newer version, and the next try uses it
    return false;
  }

  void markDirty(const DocumentKey& key) {
    std::lock_guard lock(mutex);
    dirty.insert(key);
    wake.notify_all();
  }
};

KubernetesSource::KubernetesSource(kube::KubeClient& client, StatusStore& statuses, Options options, SnapshotCallback onSnapshot)
    : impl_(std::make_shared<Impl>(client, statuses, std::move(options), std::move(onSnapshot))) {}

KubernetesSource::~KubernetesSource() { stop(); }

void KubernetesSource::start() {
  std::weak_ptr<Impl> weak = impl_;
  impl_->statuses.setObserver([weak](const DocumentKey& key, const std::optional<StoredStatus>&) {
    if (auto impl = weak.lock()) impl->markDirty(key);
  });
  for (Kind kind : allKinds()) impl_->threads.emplace_back([impl = impl_, kind] { impl->runKind(kind); });
  impl_->threads.emplace_back([impl = impl_] { impl->runWriter(); });
  impl_->threads.emplace_back([impl = impl_] { impl->runPublisher(); });
}

void KubernetesSource::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->statuses.setObserver(nullptr);
  impl_->wake.notify_all();
  impl_->cancel.cancel();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
}

DesiredState KubernetesSource::snapshot() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->current;
}

// ---- KubernetesDocuments: connection, leader election, source ----

struct KubernetesDocuments::Parts {
  OperatorConfig config;
  kube::KubeClientPtr client;
  kube::LeaseStorePtr leases;
  std::unique_ptr<kube::LeaderElector> elector;  // null without leader election
  std::unique_ptr<KubernetesSource> source;
  std::thread electing;
  mutable std::mutex mutex;  // guards source and stopping
  bool stopping = false;
};

namespace {

/// POD_NAME (the chart sets it) or the host name, and a random suffix: unique per process, as client-go asks.
std::string replicaIdentity() {
  std::string name;
  if (const char* pod = std::getenv("POD_NAME"); pod && *pod) {
    name = pod;
  } else {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    name = host;
  }
  std::mt19937_64 random(std::random_device{}());
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(random()));
  return name + "_" + suffix;
}

}  // namespace

std::expected<KubernetesDocumentsPtr, std::string> KubernetesDocuments::create(const OperatorConfig& config) {
  auto kubeConfig = kube::resolveKubeConfig(config.source.kubernetes.kubeconfig);
  if (!kubeConfig) return std::unexpected(kubeConfig.error());
  if (!config.source.kubernetes.namespaceName.empty()) kubeConfig->namespaceName = config.source.kubernetes.namespaceName;
  auto connection = kube::ApiConnection::open(std::move(*kubeConfig));
  if (!connection) return std::unexpected(connection.error());
  KubernetesDocumentsPtr out(new KubernetesDocuments());
  out->parts_ = std::make_unique<Parts>();
  auto& p = *out->parts_;
  p.config = config;
  p.client = std::make_unique<kube::KubeClient>(std::move(*connection));
  const auto& le = config.source.kubernetes.leaderElection;
  if (le.enabled) {
    kube::LeaderElectionConfig election{.leaseName = le.leaseName, .leaseNamespace = p.client->namespaceName(),
                                        .identity = replicaIdentity(), .leaseDuration = le.leaseDuration,
                                        .renewDeadline = le.renewDeadline, .retryPeriod = le.retryPeriod};
    p.leases = kube::makeLeaseStore(*p.client, election.leaseNamespace, election.leaseName);
    p.elector = std::make_unique<kube::LeaderElector>(std::move(election), *p.leases);
  }
  return out;
}

KubernetesDocuments::~KubernetesDocuments() { stop(); }

void KubernetesDocuments::start(StatusStore& statuses, KubernetesSource::SnapshotCallback onSnapshot, std::function<void()> onLost) {
  auto& p = *parts_;
  const auto directory = directorySourceOptions(p.config, {});  // the same coalescing of changes
  KubernetesSource::Options options{.namespaceName = p.client->namespaceName(), .load = directory.load,
                                    .debounce = directory.debounce, .maxDelay = directory.maxDelay};
  auto startSource = [&p, &statuses, options, onSnapshot] {
    std::lock_guard lock(p.mutex);
    if (p.stopping) return;  // the Lease came as the process stops: released at once by the elector
    p.source = std::make_unique<KubernetesSource>(*p.client, statuses, options, onSnapshot);
    p.source->start();
  };
  if (!p.elector) {
    startSource();
    return;
  }
  spdlog::info("leader election: {} is a candidate for Lease {}/{}", p.elector->config().identity,
               p.elector->config().leaseNamespace, p.elector->config().leaseName);
  p.electing = std::thread([&p, startSource, onLost] { p.elector->run(startSource, onLost); });
}

void KubernetesDocuments::stop() {
  if (!parts_) return;
  auto& p = *parts_;
  {
    std::lock_guard lock(p.mutex);
    p.stopping = true;
    if (p.source) p.source->stop();
  }
  if (p.elector) p.elector->stop();  // releases the Lease after the source stopped writing
  if (p.electing.joinable()) p.electing.join();
}

bool KubernetesDocuments::standby() const {
  std::lock_guard lock(parts_->mutex);
  return parts_->elector && !parts_->source;
}

bool KubernetesDocuments::mayWrite() const { return !parts_->elector || parts_->elector->mayWrite(); }

}  // namespace anf::controller
