#include <csignal>
#include <iostream>

#include "cmd/anf-cmk-operator/commands.h"
#include "emulator/emulator.h"

namespace anf::cmd {
namespace {

/// Flags -> emulator options; a usage error names the flag.
std::expected<emulator::Options, std::string> emulatorOptions(const ParsedArgs& args) {
  emulator::Options options;
  options.listen = args.get("listen", options.listen);
  options.worldFile = args.get("world");
  options.stateFile = args.get("state");
  options.caOut = args.get("ca-out");
  options.insecureHttp = args.has("insecure-http");
  options.serialVolumeCreation = args.has("serial-volume-creation");
  options.logLevel = args.get("log-level", options.logLevel);
  for (auto [flag, target] : {std::pair{"lro-seconds", &options.lroDuration}, {"feature-registration-seconds", &options.featureRegistrationDelay},
                              {"token-lifetime-seconds", &options.tokenLifetime}, {"clock-offset-seconds", &options.clockOffset}}) {
    if (!args.has(flag)) continue;
    try {
      *target = std::chrono::seconds(std::stoll(args.get(flag)));
    } catch (const std::exception&) {
      return std::unexpected(std::string("--") + flag + " must be a number of seconds");
    }
  }
  if (args.has("fault-seed")) {
    try {
      options.faultSeed = std::stoull(args.get("fault-seed"));
    } catch (const std::exception&) {
      return std::unexpected(std::string("--fault-seed must be a whole number"));
    }
  }
  if (args.has("operation-seconds")) {
    auto durations = emulator::parseOperationDurations(args.get("operation-seconds"));
    if (!durations) return std::unexpected("--operation-seconds: " + durations.error());
    options.operationDurations = std::move(*durations);
  }
  for (auto [flag, target] : {std::pair{"throttle-reads", &options.throttle.reads}, {"throttle-writes", &options.throttle.writes},
                              {"throttle-deletes", &options.throttle.deletes}}) {
    if (!args.has(flag)) continue;
    auto limit = emulator::parseBucketLimit(args.get(flag));
    if (!limit) return std::unexpected(std::string("--") + flag + ": " + limit.error());
    *target = *limit;
  }
  return options;
}

int runEmulator(const ParsedArgs& args) {
  auto options = emulatorOptions(args);
  if (!options) {
    std::cerr << "anf-cmk-operator emulator: " << options.error() << "\n";
    return kExitUsage;
  }
  // Block the stop signals before any thread starts, so that only sigwait below sees them.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  auto running = emulator::Emulator::start(*options);
  if (!running) {
    std::cerr << "anf-cmk-operator emulator: " << running.error() << "\n";
    return kExitError;
  }
  std::cout << (*running)->endpoints().toJson().dump() << std::endl;
  int signal = 0;
  sigwait(&stopSignals, &signal);
  (*running)->stop();
  return kExitOk;
}

}  // namespace

Command emulatorCommand() {
  CommandSpec spec{
      .name = "emulator",
      .summary = "run the Azure emulator alone (ARM, Entra, Graph on loopback HTTPS)",
      .usage = "emulator [--listen ADDR] [--world FILE] [--state FILE] [--ca-out FILE] [--insecure-http]",
      .description = "Prints one JSON line with its endpoints on stdout when ready; logs go to stderr. "
                     "Control endpoints live under /_emulator/ (faults, requests, clock, state, throttling).",
      .flags = {
          {.name = "listen", .valueName = "ADDR", .help = "listen address (port 0 picks a free port)", .defaultValue = "127.0.0.1:0"},
          {.name = "world", .valueName = "FILE", .help = "world to seed (YAML); default: the demo world"},
          {.name = "state", .valueName = "FILE", .help = "persist state here across restarts"},
          {.name = "ca-out", .valueName = "FILE", .help = "where to write the CA certificate (PEM)"},
          {.name = "insecure-http", .help = "serve plain HTTP instead of HTTPS"},
          {.name = "lro-seconds", .valueName = "N", .help = "unit of long-running operation durations (an account takes 1x)", .defaultValue = "1"},
          {.name = "operation-seconds", .valueName = "KIND=N,...",
           .help = "duration per operation kind (account, renewCredentials, pool, privateEndpoint, changeKeyVault, transitionToCmk, "
                   "volume, roleAssignmentPropagation); others take their share of --lro-seconds (volume 3x, pool 1.5x, ...; "
                   "roleAssignmentPropagation 0)"},
          {.name = "fault-seed", .valueName = "N",
           .help = "seed of the fault rules' draws (PUT /_emulator/faults): the same seed gives the same sequence of draws, "
                   "for reproducible soak and kill runs; default: random"},
          {.name = "serial-volume-creation", .help = "fail a volume creation while another runs in the account, as ANF may"},
          {.name = "feature-registration-seconds", .valueName = "N", .help = "Registering to Registered delay", .defaultValue = "2"},
          {.name = "token-lifetime-seconds", .valueName = "N", .help = "lifetime of the access tokens it issues", .defaultValue = "3599"},
          {.name = "clock-offset-seconds", .valueName = "N",
           .help = "run the emulator's clock N seconds ahead of the host's (negative: behind), for clock skew", .defaultValue = "0"},
          {.name = "throttle-reads", .valueName = "B:R", .help = "per-subscription read bucket size and refill per second", .defaultValue = "250:25"},
          {.name = "throttle-writes", .valueName = "B:R", .help = "per-subscription write bucket size and refill per second", .defaultValue = "200:10"},
          {.name = "throttle-deletes", .valueName = "B:R", .help = "per-subscription delete bucket size and refill per second", .defaultValue = "200:10"},
          {.name = "log-level", .valueName = "LEVEL", .help = "trace, debug, info, warn, error", .defaultValue = "info"},
      }};
  return {spec, runEmulator};
}

}  // namespace anf::cmd
