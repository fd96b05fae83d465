#include "cmd/anf-cmk-operator/commands.h"

namespace anf::cmd {

Command statusCommand() {
  CommandSpec spec{
      .name = "status",
      .summary = "ask a running daemon for its resources and conditions",
      .usage = "status [--addr HOST:PORT] [-o table|json] [KIND [NAME]]",
      .flags = {
          {.name = "addr", .valueName = "HOST:PORT", .help = "the daemon's status server", .defaultValue = "127.0.0.1:8082"},
          {.name = "output", .shortName = "o", .valueName = "FORMAT", .help = "table or json", .defaultValue = "table"},
      },
      .positionals = true};
  return {spec, [](const ParsedArgs&) { return notImplementedYet("status"); }};
}

}  // namespace anf::cmd
