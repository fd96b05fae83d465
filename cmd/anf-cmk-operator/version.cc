#include <iostream>

#include <nlohmann/json.hpp>

#include "azure/api_versions.h"
#include "cmd/anf-cmk-operator/commands.h"

namespace anf::cmd {

#ifndef ANF_VERSION
#define ANF_VERSION "0.0.0"
#endif
#ifndef ANF_GIT_REVISION
#define ANF_GIT_REVISION "unknown"
#endif

Command versionCommand() {
  CommandSpec spec{.name = "version",
                   .summary = "print the version, git revision and Azure API versions used",
                   .usage = "version [-o text|json]",
                   .flags = {{.name = "output", .shortName = "o", .valueName = "FORMAT", .help = "text or json", .defaultValue = "text"}}};
  return {spec, [](const ParsedArgs& args) {
            const std::string format = args.get("output", "text");
            if (format != "text" && format != "json") {
              std::cerr << "anf-cmk-operator version: --output must be text or json, got '" << format << "'\n";
              return kExitUsage;
            }
            nlohmann::json apis = nlohmann::json::object();
            for (const auto& [ns, version] : azure::apiVersions()) apis[ns] = version;
            if (format == "json") {
              std::cout << nlohmann::json{{"version", ANF_VERSION}, {"gitRevision", ANF_GIT_REVISION}, {"apiVersions", apis}}.dump()
                        << "\n";
              return kExitOk;
            }
            std::cout << "anf-cmk-operator " << ANF_VERSION << " (git " << ANF_GIT_REVISION << ")\nAzure API versions:\n";
            for (const auto& [ns, version] : azure::apiVersions()) std::cout << "  " << ns << " " << version << "\n";
            return kExitOk;
          }};
}

int notImplementedYet(const std::string& what) {
  std::cerr << "anf-cmk-operator: " << what << " is not implemented yet\n";
  return kExitError;
}

}  // namespace anf::cmd
