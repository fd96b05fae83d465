#include <iostream>

#include "cmd/anf-cmk-operator/commands.h"
#include "controller/status_client.h"

namespace anf::cmd {

Command statusCommand() {
  CommandSpec spec{
      .name = "status",
      .summary = "ask a running daemon for its resources and conditions",
      .usage = "status [--addr HOST:PORT] [-o table|json] [KIND [NAME]]",
      .description = "Exit 1 when the daemon cannot be reached or the resource does not exist.",
      .flags = {
          {.name = "addr", .valueName = "HOST:PORT", .help = "the daemon's status server", .defaultValue = "127.0.0.1:8082"},
          {.name = "output", .shortName = "o", .valueName = "FORMAT", .help = "table or json", .defaultValue = "table"},
      },
      .positionals = true};
  return {spec, [](const ParsedArgs& args) {
            const std::string output = args.get("output", "table");
            if (output != "table" && output != "json") {
              std::cerr << "anf-cmk-operator status: -o must be table or json, not '" << output << "'\n";
              return kExitUsage;
            }
            if (args.positionals.size() > 2) {
              std::cerr << "anf-cmk-operator status: at most KIND and NAME\n";
              return kExitUsage;
            }
            const std::string kind = args.positionals.empty() ? "" : args.positionals[0];
            const std::string name = args.positionals.size() < 2 ? "" : args.positionals[1];
            auto list = controller::fetchStatus(args.get("addr", "127.0.0.1:8082"), kind, name);
            if (!list) {
              std::cerr << "anf-cmk-operator status: " << list.error() << "\n";
              return kExitError;
            }
            if (output == "json")
              std::cout << list->dump(2) << "\n";
            else
              std::cout << controller::formatStatusTable(*list, std::chrono::system_clock::now());
            return kExitOk;
          }};
}

}  // namespace anf::cmd
