#include "controller/operator.h"

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <future>
#include <iostream>
#include <thread>

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "controller/directory_source.h"
#include "controller/engine.h"
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
        signals(io, SIGINT, SIGTERM) {}

  OperatorOptions options;
  asio::io_context io;
  Metrics metrics;
  asio::signal_set signals;
  std::unique_ptr<Engine> engine;
  std::vector<HttpServerPtr> servers;
  OperatorPorts ports;
  DirectorySourcePtr source;
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
      if (!engine->loaded()) return std::string("manifests not loaded yet");
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
  d.engine = std::make_unique<Engine>(d.io, engineOptions(config), std::move(d.options.reconcilers), d.options.poll, d.metrics);
  if (auto started = d.engine->start(); !started) return started;
  if (auto served = d.startServers(); !served) {
    d.engine->stop(std::chrono::milliseconds(0));
    return served;
  }
  d.signals.async_wait([&d](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("received signal {}: shutting down", signal);
    d.requestStop();
  });
  d.source = std::make_unique<DirectorySource>(d.io, directorySourceOptions(config, d.options.manifestPaths),
                                               [&d](const DesiredState& snapshot, const DocumentChanges& changes) { d.engine->apply(snapshot, changes); });
  try {
    d.source->start();
  } catch (const std::exception& e) {
    d.engine->stop(std::chrono::milliseconds(0));
    return std::unexpected(std::string("manifest watcher: ") + e.what());
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
  std::promise<void> sourceStopped;
  asio::post(d.io, [&] {
    d.source->stop();  // no snapshot after this, on the io thread as the watcher wants
    boost::system::error_code ignored;
    d.signals.cancel(ignored);
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
