#include <iostream>

#include <prometheus/registry.h>

#include "cmd/anf-cmk-operator/commands.h"
#include "cmd/anf-cmk-operator/wiring.h"
#include "controller/logging.h"
#include "controller/operator.h"

namespace anf::cmd {

Command planCommand() {
  CommandSpec spec{
      .name = "plan",
      .summary = "one pass: load manifests, observe Azure, print what would change, write nothing",
      .usage = "plan [--config FILE] --manifests PATH... [-o text|json]",
      .description = "Exit 0 when nothing would change, 3 when changes are pending, 1 on error.",
      .flags = {
          {.name = "config", .valueName = "FILE", .help = "operator configuration (operator.yaml)"},
          {.name = "manifests", .valueName = "PATH", .help = "manifest file or directory, read recursively", .repeatable = true},
          {.name = "output", .shortName = "o", .valueName = "FORMAT", .help = "text or json", .defaultValue = "text"},
          {.name = "log-level", .valueName = "LEVEL", .help = "trace, debug, info, warn, error", .defaultValue = "warn"},
      }};
  return {spec, [](const ParsedArgs& args) {
            const auto paths = args.all("manifests");
            if (paths.empty()) {
              std::cerr << "anf-cmk-operator plan: at least one --manifests PATH is needed\n";
              return kExitUsage;
            }
            const std::string format = args.get("output", "text");
            if (format != "text" && format != "json") {
              std::cerr << "anf-cmk-operator plan: --output must be text or json, got '" << format << "'\n";
              return kExitUsage;
            }
            auto config = loadOperatorConfig(args);
            if (!config) {
              std::cerr << "anf-cmk-operator plan: " << config.error() << "\n";
              return kExitError;
            }
            if (!args.has("log-level")) config->logging.level = "warn";
            config->logging.format = "text";
            (void)controller::configureLogging(controller::LogFormat::Text, config->logging.level);
            auto stack = makeAzureStack(*config, std::make_shared<prometheus::Registry>());
            if (!stack) {
              std::cerr << "anf-cmk-operator plan: " << stack.error() << "\n";
              return kExitError;
            }
            auto plan = controller::planOnce(*config, paths, stack->reconcilers,
                                             format == "json" ? controller::PlanFormat::Json : controller::PlanFormat::Text);
            std::cerr << plan.errors;
            std::cout << plan.output;
            return plan.exitCode;
          }};
}

}  // namespace anf::cmd
