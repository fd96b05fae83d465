#include "cmd/anf-cmk-operator/commands.h"

namespace anf::cmd {

Command planCommand() {
  CommandSpec spec{
      .name = "plan",
      .summary = "one pass: load manifests, observe Azure, print what would change, write nothing",
      .usage = "plan [--config FILE] [--manifests PATH]... [-o text|json]",
      .description = "Exit 0 when nothing would change, 3 when changes are pending, 1 on error.",
      .flags = {
          {.name = "config", .valueName = "FILE", .help = "operator configuration (operator.yaml)"},
          {.name = "manifests", .valueName = "PATH", .help = "manifest file or directory, read recursively", .repeatable = true},
          {.name = "output", .shortName = "o", .valueName = "FORMAT", .help = "text or json", .defaultValue = "text"},
          {.name = "log-level", .valueName = "LEVEL", .help = "trace, debug, info, warn, error", .defaultValue = "warn"},
      }};
  return {spec, [](const ParsedArgs&) { return notImplementedYet("plan"); }};
}

}  // namespace anf::cmd
