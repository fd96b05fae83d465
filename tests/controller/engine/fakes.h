#pragma once
// Test doubles for the engine: a Reconciler built from plain functions (crossplane's ExternalClientFns),
// documents made in code, and a harness that runs an Engine on its own io_context thread.
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <thread>

#include <unistd.h>

#include <gtest/gtest.h>

#include "controller/conditions.h"
#include "controller/engine.h"
#include "controller/reconciler.h"

namespace anf::controller::testing {

/// Reconciler whose methods are std::function members; unset ones behave as "exists and up to date"
/// (observe) or succeed doing nothing (writes).
struct ReconcilerFns : Reconciler {
  explicit ReconcilerFns(Kind k) : kindValue(k) {}
  Kind kindValue;
  std::function<Result<Observation>(const ReconcileContext&)> observeFn;
  std::function<Result<Outcome>(const ReconcileContext&, const Observation&)> createFn, updateFn, removeFn;
  std::function<MutationGroup(const ReconcileContext&)> groupFn;

  Kind kind() const override { return kindValue; }
  Result<Observation> observe(const ReconcileContext& c) override {
    return observeFn ? observeFn(c) : Observation{.exists = true, .upToDate = true};
  }
  Result<Outcome> create(const ReconcileContext& c, const Observation& o) override { return createFn ? createFn(c, o) : Outcome{}; }
  Result<Outcome> update(const ReconcileContext& c, const Observation& o) override { return updateFn ? updateFn(c, o) : Outcome{}; }
  Result<Outcome> remove(const ReconcileContext& c, const Observation& o) override { return removeFn ? removeFn(c, o) : Outcome{}; }
  MutationGroup mutationGroup(const ReconcileContext& c) const override { return groupFn ? groupFn(c) : MutationGroup(); }
};

/// A fake Azure resource: observe() reports it, create()/update() set it. Thread-safe.
struct FakeResource {
  std::mutex mutex;
  bool exists = false;
  std::string value;  // the one field that can drift
  std::atomic<int> observes{0}, creates{0}, updates{0}, removes{0};

  /// observe/create/update/remove against this resource for documents whose spec.value is the desired value.
  void wire(ReconcilerFns& fns) {
    fns.observeFn = [this](const ReconcileContext& c) -> Result<Observation> {
      ++observes;
      std::lock_guard lock(mutex);
      Observation o{.exists = exists};
      const std::string desired = c.document.spec.value("value", "");
      o.upToDate = exists && value == desired;
      if (exists && !o.upToDate) o.diff.push_back({"properties.value", desired, value});
      o.facts["resourceId"] = "/subscriptions/s/resourceGroups/rg/providers/Fake/" + c.document.key.name;
      return o;
    };
    fns.createFn = [this](const ReconcileContext& c, const Observation&) -> Result<Outcome> {
      ++creates;
      std::lock_guard lock(mutex);
      exists = true;
      value = c.document.spec.value("value", "");
      return Outcome{.requeueAfter = std::chrono::milliseconds(0), .description = "created"};
    };
    fns.updateFn = [this](const ReconcileContext& c, const Observation&) -> Result<Outcome> {
      ++updates;
      std::lock_guard lock(mutex);
      value = c.document.spec.value("value", "");
      return Outcome{.requeueAfter = std::chrono::milliseconds(0), .description = "updated"};
    };
    fns.removeFn = [this](const ReconcileContext&, const Observation&) -> Result<Outcome> {
      ++removes;
      std::lock_guard lock(mutex);
      exists = false;
      return Outcome{};
    };
  }
  void drift(const std::string& v) {
    std::lock_guard lock(mutex);
    value = v;
  }
};

inline Document makeDocument(Kind kind, const std::string& name, const std::string& value = "v1",
                             std::vector<DocumentKey> refs = {}) {
  Document d;
  d.key = {kind, name};
  d.source = {"manifests/" + name + ".yaml", 1, 1};
  d.spec = Json{{"value", value}};
  for (const auto& r : refs) {
    const std::string field = "spec." + std::string(kindName(r.kind)) + "Ref";
    d.references.push_back({field, r});
    d.spec[std::string(kindName(r.kind)) + "Ref"] = r.name;
  }
  d.generation = std::to_string(std::hash<std::string>{}(d.spec.dump()));
  return d;
}

inline DesiredState makeState(std::vector<Document> docs) {
  static std::atomic<std::uint64_t> revision{0};
  DesiredState s;
  for (auto& d : docs) s.documents.emplace(d.key, std::move(d));
  s.revision = ++revision;
  return s;
}

/// Runs an io_context on one thread for the engine's timers (and servers).
class IoThread {
 public:
  IoThread() : guard_(io.get_executor()), thread_([this] { io.run(); }) {}
  ~IoThread() { stop(); }
  void stop() {
    guard_.reset();
    io.stop();
    if (thread_.joinable()) thread_.join();
  }
  boost::asio::io_context io;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

inline EngineOptions fastOptions(int workers = 4) {
  EngineOptions o;
  o.workers = workers;
  o.resyncPeriod = std::chrono::hours(1);
  o.backoff.baseDelay = std::chrono::milliseconds(1);
  o.backoff.maxDelay = std::chrono::milliseconds(50);
  o.backoff.bucketQps = 1000;
  o.backoff.bucketBurst = 1000;
  o.defaultPollInterval = std::chrono::milliseconds(5);
  return o;
}

inline std::vector<ReconcilerPtr> reconcilers(std::unique_ptr<ReconcilerFns> a, std::unique_ptr<ReconcilerFns> b = nullptr) {
  std::vector<ReconcilerPtr> out;
  out.push_back(std::move(a));
  if (b) out.push_back(std::move(b));
  return out;
}

/// A condition's status ("True"/"False"/"Unknown"), or "" when absent or the document has no status.
inline std::string conditionStatus(const Engine& engine, const DocumentKey& key, std::string_view type) {
  const auto s = engine.statuses().get(key);
  if (!s) return "";
  const Condition* c = findCondition(s->status.conditions, type);
  return c ? c->status : "";
}

inline std::string conditionReason(const Engine& engine, const DocumentKey& key, std::string_view type) {
  const auto s = engine.statuses().get(key);
  if (!s) return "";
  const Condition* c = findCondition(s->status.conditions, type);
  return c ? c->reason : "";
}

/// Waits (notified by every status change) until `key` is Ready.
inline bool waitReady(const Engine& engine, const DocumentKey& key, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  return engine.statuses().waitFor([&] { return conditionStatus(engine, key, condition::kReady) == "True"; }, timeout);
}

/// The value of one series in the Prometheus text (`name{labels}` as printed), or nullopt when absent.
inline std::optional<double> seriesValue(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + series.size() + 2));
}

inline std::filesystem::path tempDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = "anf-engine-" + std::string(info->test_suite_name()) + "-" + info->name() + "-" + std::to_string(::getpid());
  std::replace(name.begin(), name.end(), '/', '_');
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace anf::controller::testing
