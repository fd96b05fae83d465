#include <chrono>
#include <iostream>
#include <mutex>

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "cmd/anf-cmk-operator/commands.h"
#include "cmd/anf-cmk-operator/wiring.h"
#include "controller/operator.h"
#include "emulator/emulator.h"

namespace anf::cmd {

namespace {

/// /readyz: the default credential can get a token. The last answer is kept for a while so that probes
/// stay cheap and never wait on Entra.
std::function<std::string()> credentialReadiness(std::shared_ptr<azure::AzureClient> client) {
  struct Cache {
    std::mutex mutex;
    std::string lastError = "credentials not checked yet";
    std::chrono::steady_clock::time_point checkedAt{};
    bool inFlight = false;
  };
  auto cache = std::make_shared<Cache>();
  return [client, cache]() -> std::string {
    std::lock_guard lock(cache->mutex);
    const auto now = std::chrono::steady_clock::now();
    if (!cache->inFlight && now - cache->checkedAt > std::chrono::seconds(30)) {
      cache->inFlight = true;
      const auto names = client->credentialNames();
      const std::string name = names.empty() ? "" : names.front();
      client->checkCredential(name).then([cache, name](azure::Expected<void> result) {
        std::lock_guard lock(cache->mutex);
        cache->inFlight = false;
        cache->checkedAt = std::chrono::steady_clock::now();
        cache->lastError = result ? "" : "credential " + name + ": " + result.error().message;
      });
    }
    return cache->lastError;
  };
}

}  // namespace

Command runCommand() {
  CommandSpec spec{
      .name = "run",
      .summary = "the daemon: watch manifests, reconcile, serve metrics, health and status",
      .usage = "run [--config FILE] (--manifests PATH... | --source kubernetes [--kubeconfig FILE]) [--emulator]",
      .description = "Flags override values of the configuration file. SIGTERM or SIGINT stop taking work, let\n"
                     "in-flight writes finish, then exit 0.",
      .flags = {
          {.name = "config", .valueName = "FILE", .help = "operator configuration (operator.yaml)"},
          {.name = "manifests", .valueName = "PATH", .help = "manifest file or directory, read recursively", .repeatable = true},
          {.name = "source", .valueName = "KIND",
           .help = "where documents come from: directory (the --manifests paths) or kubernetes (custom resources)",
           .defaultValue = "source.kind, else directory"},
          {.name = "kubeconfig", .valueName = "FILE", .help = "with --source kubernetes: kubeconfig (else $KUBECONFIG, else in-cluster)"},
          {.name = "namespace", .valueName = "NS", .help = "with --source kubernetes: namespace of the custom resources"},
          {.name = "emulator", .help = "start an embedded Azure emulator on loopback with the demo world and use it"},
          {.name = "emulator-world", .valueName = "FILE", .help = "with --emulator: world file instead of the demo world"},
          {.name = "workers", .valueName = "N", .help = "concurrent reconciles", .defaultValue = "8"},
          {.name = "metrics-addr", .valueName = "ADDR", .help = "Prometheus metrics listen address", .defaultValue = ":8080"},
          {.name = "health-addr", .valueName = "ADDR", .help = "health probes listen address", .defaultValue = ":8081"},
          {.name = "status-addr", .valueName = "ADDR", .help = "status API listen address", .defaultValue = "127.0.0.1:8082"},
          {.name = "state-file", .valueName = "FILE",
           .help = "journal of in-flight operations (never trusted for Ready); one per installation",
           .defaultValue = "controller.stateFile, else $TMPDIR/anf-cmk-operator/<config stem>-<hash of the config and "
                           "manifests paths>/state.db"},
          {.name = "log-level", .valueName = "LEVEL", .help = "trace, debug, info, warn, error", .defaultValue = "info"},
          {.name = "log-format", .valueName = "FORMAT", .help = "json or text", .defaultValue = "json"},
      }};
  return {spec, [](const ParsedArgs& args) {
            const auto paths = args.all("manifests");
            if (args.has("emulator-world") && !args.has("emulator")) {
              std::cerr << "anf-cmk-operator run: --emulator-world goes with --emulator\n";
              return kExitUsage;
            }
            auto config = loadOperatorConfig(args);
            if (!config) {
              std::cerr << "anf-cmk-operator run: " << config.error() << "\n";
              return kExitError;
            }
            const bool fromKubernetes = config->source.kind == controller::SourceKind::Kubernetes;
            if (paths.empty() != fromKubernetes) {
              std::cerr << "anf-cmk-operator run: "
                        << (fromKubernetes ? "--manifests does not go with source kubernetes\n"
                                           : "at least one --manifests PATH is needed (or --source kubernetes)\n");
              return kExitUsage;
            }
            std::shared_ptr<emulator::Emulator> embedded;
            if (args.has("emulator")) {
              auto started = startEmbeddedEmulator(std::move(*config), args.get("emulator-world"));
              if (!started) {
                std::cerr << "anf-cmk-operator run: " << started.error() << "\n";
                return kExitError;
              }
              embedded = started->emulator;
              config = std::move(started->config);
              std::cerr << "anf-cmk-operator run: embedded Azure emulator at " << embedded->endpoints().resourceManager
                        << " (CA " << embedded->endpoints().caFile << ")\n";
            }
            auto registry = std::make_shared<prometheus::Registry>();
            auto stack = makeAzureStack(*config, registry);
            if (!stack) {
              std::cerr << "anf-cmk-operator run: " << stack.error() << "\n";
              return kExitError;
            }
            controller::Operator op({.config = std::move(*config),
                                     .manifestPaths = paths,
                                     .reconcilers = std::move(stack->reconcilers),
                                     .poll = stack->poll,
                                     .writeAdmission = stack->writeAdmission,
                                     .gateAzureWrites = [client = stack->client](std::function<bool()> gate) { client->gateWrites(std::move(gate)); },
                                     .readiness = credentialReadiness(stack->client),
                                     .registry = registry});
            return op.run();
          }};
}

}  // namespace anf::cmd
