#include "cmd/anf-cmk-operator/commands.h"

namespace anf::cmd {

Command emulatorCommand() {
  CommandSpec spec{
      .name = "emulator",
      .summary = "run the Azure emulator alone (ARM, Entra, Graph on loopback HTTPS)",
      .usage = "emulator [--listen ADDR] [--world FILE] [--state FILE] [--ca-out FILE] [--insecure-http]",
      .description = "Prints one JSON line with its endpoints on stdout when ready; logs go to stderr.",
      .flags = {
          {.name = "listen", .valueName = "ADDR", .help = "listen address (port 0 picks a free port)", .defaultValue = "127.0.0.1:0"},
          {.name = "world", .valueName = "FILE", .help = "world to seed (YAML); default: the demo world"},
          {.name = "state", .valueName = "FILE", .help = "persist state here across restarts"},
          {.name = "ca-out", .valueName = "FILE", .help = "where to write the CA certificate (PEM)"},
          {.name = "insecure-http", .help = "serve plain HTTP instead of HTTPS"},
          {.name = "lro-seconds", .valueName = "N", .help = "duration of long-running operations", .defaultValue = "1"},
          {.name = "feature-registration-seconds", .valueName = "N", .help = "Registering to Registered delay", .defaultValue = "2"},
          {.name = "log-level", .valueName = "LEVEL", .help = "trace, debug, info, warn, error", .defaultValue = "info"},
      }};
  return {spec, [](const ParsedArgs&) { return notImplementedYet("emulator"); }};
}

}  // namespace anf::cmd
