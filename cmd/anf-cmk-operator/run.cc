#include "cmd/anf-cmk-operator/commands.h"

namespace anf::cmd {

Command runCommand() {
  CommandSpec spec{
      .name = "run",
      .summary = "the daemon: watch manifests, reconcile, serve metrics, health and status",
      .usage = "run [--config FILE] [--manifests PATH]... [--emulator]",
      .description = "Flags override values of the configuration file.",
      .flags = {
          {.name = "config", .valueName = "FILE", .help = "operator configuration (operator.yaml)"},
          {.name = "manifests", .valueName = "PATH", .help = "manifest file or directory, read recursively", .repeatable = true},
          {.name = "emulator", .help = "start an embedded Azure emulator on loopback with the demo world and use it"},
          {.name = "emulator-world", .valueName = "FILE", .help = "with --emulator: world file instead of the demo world"},
          {.name = "workers", .valueName = "N", .help = "concurrent reconciles", .defaultValue = "8"},
          {.name = "metrics-addr", .valueName = "ADDR", .help = "Prometheus metrics listen address", .defaultValue = ":8080"},
          {.name = "health-addr", .valueName = "ADDR", .help = "health probes listen address", .defaultValue = ":8081"},
          {.name = "status-addr", .valueName = "ADDR", .help = "status API listen address", .defaultValue = "127.0.0.1:8082"},
          {.name = "log-level", .valueName = "LEVEL", .help = "trace, debug, info, warn, error", .defaultValue = "info"},
          {.name = "log-format", .valueName = "FORMAT", .help = "json or text", .defaultValue = "json"},
      }};
  return {spec, [](const ParsedArgs&) { return notImplementedYet("run"); }};
}

}  // namespace anf::cmd
