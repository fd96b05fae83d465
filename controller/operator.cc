#include "controller/operator.h"

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <future>
#include <iostream>
#include <thread>

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "controller/directory_source.h"
#include "controller/engine.h"
#include "controller/kubernetes_source.h"
#include "controller/logging.h"
#include "controller/manifest_loader.h"
#include "controller/metrics.h"
#include "controller/plan.h"
#include "controller/servers.h"

namespace anf::controller {

namespace asio = boost::asio;

namespace {

EngineOptions engineOptions(const OperatorConfig& config) {
  EngineOptions o;
  o.workers = config.controller.workers;
  o.resyncPeriod = config.controller.resyncPeriod;
  o.maxDeletionsPerPass = config.controller.maxDeletionsPerPass;
  o.stateFile = config.controller.stateFile;
  return o;
}

}  // namespace

struct Operator::Impl {
  explicit Impl(OperatorOptions o)
      : options(std::move(o)),
        metrics(options.registry ? options.registry : std::make_shared<prometheus::Registry>()),
        signals(io, SIGINT, SIGTERM),
        serial(asio::make_strand(io)),
        engineRetry(serial) {}

  OperatorOptions options;
  asio::io_context io;
  Metrics metrics;
  asio::signal_set signals;
  KubernetesDocumentsPtr kube;  // source: kubernetes; outlives the engine, whose write gate it is
  std::unique_ptr<Engine> engine;
  std::vector<HttpServerPtr> servers;
  OperatorPorts ports;
  DirectorySourcePtr source;
  asio::strand<asio::io_context::executor_type> serial;  // the engine's retries and the shutdown, never at once
  asio::steady_timer engineRetry;
  std::chrono::seconds engineRetryDelay{1};
  std::mutex engineProblemMutex;
  std::string engineProblem;  // why the engine has not started (its state file cannot be used): /readyz says so
  std::vector<std::thread> ioThreads;
  std::promise<void> stopRequested;
  std::once_flag stopOnce;
  bool started = false;

  void requestStop() {
    std::call_once(stopOnce, [this] { stopRequested.set_value(); });
  }

  std::expected<void, std::string> startServers() {
    const auto& s = options.config.server;
    // Addresses that coincide share one server (e.g. metrics and health on ":8080").
    std::map<std::string, Routes> byAddress;
    byAddress[s.metrics].merge(metricsRoutes(metrics));
    byAddress[s.health].merge(healthRoutes([this] {
      if (std::lock_guard lock(engineProblemMutex); !engineProblem.empty()) return engineProblem;
      if (!engine->loaded() && !(kube && kube->standby())) return std::string("manifests not loaded yet");
      return options.readiness ? options.readiness() : std::string();
    }));
    byAddress[s.status].merge(statusRoutes(*engine));
    std::map<std::string, std::uint16_t> bound;
    for (auto& [address, routes] : byAddress) {
      auto server = HttpServer::start(io, address, std::move(routes));
      if (!server) return std::unexpected(server.error());
      bound[address] = (*server)->port();
      spdlog::info("serving {} on port {}", address, (*server)->port());
      servers.push_back(std::move(*server));
    }
    ports = {bound[s.metrics], bound[s.health], bound[s.status]};
    return {};
  }

  /// Starts the engine, then the manifest watcher. While the state file cannot be used (a read-only or full
  /// folder), nothing is reconciled, as no operation Azure accepted could be recorded: the process stays up,
  /// not ready with the reason, and tries again (1 s, doubling to 30 s) until the folder is repaired.
  std::expected<void, std::string> startEngine() {
    if (auto started = engine->start(); !started) {
      const bool first = [&] {
        std::lock_guard lock(engineProblemMutex);
        const bool wasFine = engineProblem.empty();
        engineProblem = started.error() + "; nothing is reconciled until it can be written";
        return wasFine;
      }();
      if (first) spdlog::error("{}; nothing is reconciled until it can be written (retrying)", started.error());
      engineRetry.expires_after(engineRetryDelay);
      engineRetryDelay = std::min(engineRetryDelay * 2, std::chrono::seconds(30));
      engineRetry.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        if (auto watching = startEngine(); !watching) {
          spdlog::error("cannot start: {}", watching.error());
          requestStop();
        }
      });
      return {};
    }
    if (std::lock_guard lock(engineProblemMutex); !engineProblem.empty()) {
      engineProblem.clear();
      spdlog::info("the state file {} can be used now: starting", options.config.controller.stateFile);
    }
    if (kube) {
      kube->start(engine->statuses(), [this](const DesiredState& snapshot, const DocumentChanges& changes) { engine->apply(snapshot, changes); },
                  [this] { requestStop(); });
      return {};
    }
    source = std::make_unique<DirectorySource>(io, directorySourceOptions(options.config, options.manifestPaths),
                                               [this](const DesiredState& snapshot, const DocumentChanges& changes) { engine->apply(snapshot, changes); });
    try {
      source->start();
    } catch (const std::exception& e) {
      source.reset();
      return std::unexpected(std::string("manifest watcher: ") + e.what());
    }
    return {};
  }
};

Operator::Operator(OperatorOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Operator::~Operator() {
  if (impl_->started) {
    impl_->requestStop();
    waitAndShutDown();
  }
}

std::expected<void, std::string> Operator::start() {
  auto& d = *impl_;
  const auto& config = d.options.config;
  if (d.options.configureLogging) {
    auto format = parseLogFormat(config.logging.format);
    if (!format) return std::unexpected(format.error());
    if (auto configured = configureLogging(*format, config.logging.level); !configured) return configured;
  }
  if (!config.controller.stateFile.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(config.controller.stateFile).parent_path(), ec);
  }
  EngineOptions engine = engineOptions(config);
  if (config.source.kind == SourceKind::Kubernetes) {
    auto kube = KubernetesDocuments::create(config);
    if (!kube) return std::unexpected("source kubernetes: " + kube.error());
    d.kube = std::move(*kube);
    engine.writeGate = [kube = d.kube.get()] { return kube->mayWrite(); };
    if (d.options.gateAzureWrites) d.options.gateAzureWrites(engine.writeGate);
  }
  engine.writeAdmission = d.options.writeAdmission;
  d.engine = std::make_unique<Engine>(d.io, std::move(engine), std::move(d.options.reconcilers), d.options.poll, d.metrics);
  if (auto served = d.startServers(); !served) return served;
  d.signals.async_wait([&d](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("received signal {}: shutting down", signal);
    d.requestStop();
  });
  if (auto started = d.startEngine(); !started) {
    d.engine->stop(std::chrono::milliseconds(0));
    return started;
  }
  for (int i = 0; i < 2; ++i) d.ioThreads.emplace_back([&d] { d.io.run(); });
  d.started = true;
  return {};
}

void Operator::requestStop() { impl_->requestStop(); }

int Operator::waitAndShutDown() {
  auto& d = *impl_;
  if (!d.started) return 0;
  d.stopRequested.get_future().wait();
  d.started = false;
  if (d.kube) d.kube->stop();  // no snapshot or status write after this; the Lease is released
  std::promise<void> sourceStopped;
  asio::post(d.serial, [&] {
    if (d.source) d.source->stop();  // no snapshot after this, on the io thread as the watcher wants
    boost::system::error_code ignored;
    d.signals.cancel(ignored);
    d.engineRetry.cancel();
    sourceStopped.set_value();
  });
  sourceStopped.get_future().wait();
  if (!d.engine->stop(d.options.shutdownGracePeriod)) {
    spdlog::error("reconciles still running after the {}s grace period; exiting anyway",
                  std::chrono::duration_cast<std::chrono::seconds>(d.options.shutdownGracePeriod).count());
    spdlog::shutdown();
    std::_Exit(0);  // the workers are blocked in Azure calls; the state file is consistent
  }
  for (auto& server : d.servers) server->stop();
  d.io.stop();
  for (auto& t : d.ioThreads) t.join();
  d.ioThreads.clear();
  spdlog::info("shut down cleanly");
  return 0;
}

int Operator::run() {
  if (auto started = start(); !started) {
    spdlog::error("cannot start: {}", started.error());
    std::cerr << "anf-cmk-operator run: " << started.error() << "\n";
    return 1;
  }
  return waitAndShutDown();
}

OperatorPorts Operator::ports() const { return impl_->ports; }

Engine& Operator::engine() { return *impl_->engine; }

PlanResult planOnce(const OperatorConfig& config, const std::vector<std::string>& manifestPaths,
                    const std::vector<ReconcilerPtr>& reconcilers, PlanFormat format) {
  PlanResult result;
  const DesiredState desired = loadDesiredState(manifestPaths, LoadOptions{.defaults = config.manifestDefaults()});
  if (!desired.errors.empty()) {
    for (const auto& e : desired.errors) result.errors += e.str() + "\n";
    result.exitCode = 1;
    return result;
  }
  const Plan plan = makePlan(desired, reconcilers);
  result.output = format == PlanFormat::Json ? plan.json().dump(2) + "\n" : plan.text();
  result.exitCode = plan.exitCode();
  return result;
}

}  // namespace anf::controller
