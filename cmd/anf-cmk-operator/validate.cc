#include "cmd/anf-cmk-operator/commands.h"

namespace anf::cmd {

Command validateCommand() {
  CommandSpec spec{
      .name = "validate",
      .summary = "check manifests offline; errors as file:line:col: message",
      .usage = "validate [--config FILE] [-o text|json] PATH...",
      .description = "Exit 0 when every document is valid, 1 when there are errors.",
      .flags = {
          {.name = "config", .valueName = "FILE", .help = "operator configuration, for defaults of spec.azure"},
          {.name = "output", .shortName = "o", .valueName = "FORMAT", .help = "text or json", .defaultValue = "text"},
      },
      .positionals = true};
  return {spec, [](const ParsedArgs&) { return notImplementedYet("validate"); }};
}

}  // namespace anf::cmd
