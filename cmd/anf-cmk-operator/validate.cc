#include <iostream>

#include "cmd/anf-cmk-operator/commands.h"
#include "controller/config.h"
#include "controller/manifest_loader.h"

namespace anf::cmd {

namespace {

using controller::ManifestError;

controller::Json toJson(const ManifestError& e) {
  return {{"file", e.location.file}, {"line", e.location.line}, {"column", e.location.column},
          {"document", e.document},  {"field", e.fieldPath},     {"message", e.message},
          {"text", e.str()}};
}

int report(const std::vector<ManifestError>& errors, std::size_t documents, bool json) {
  if (json) {
    controller::Json out = {{"valid", errors.empty()}, {"documents", documents}, {"errors", controller::Json::array()}};
    for (const auto& e : errors) out["errors"].push_back(toJson(e));
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& e : errors) std::cout << e.str() << "\n";
    if (errors.empty())
      std::cerr << "ok: " << documents << " document" << (documents == 1 ? "" : "s") << " valid\n";
    else
      std::cerr << errors.size() << " error" << (errors.size() == 1 ? "" : "s") << "\n";
  }
  return errors.empty() ? kExitOk : kExitError;
}

int validate(const ParsedArgs& args) {
  const std::string format = args.get("output", "text");
  if (format != "text" && format != "json") {
    std::cerr << "anf-cmk-operator validate: --output must be text or json, not '" << format << "'\n";
    return kExitUsage;
  }
  if (args.positionals.empty()) {
    std::cerr << "anf-cmk-operator validate: give at least one PATH (a manifest file or directory)\n";
    return kExitUsage;
  }
  controller::LoadOptions options;
  if (args.has("config")) {
    auto config = controller::loadConfigFile(args.get("config"));
    if (!config) return report(config.error(), 0, format == "json");
    options.defaults = config->manifestDefaults(true);
  } else {
    options.defaults = controller::defaultConfig().manifestDefaults(false);
  }
  auto state = controller::loadDesiredState(args.positionals, options);
  return report(state.errors, state.documents.size(), format == "json");
}

}  // namespace

Command validateCommand() {
  CommandSpec spec{
      .name = "validate",
      .summary = "check manifests offline; errors as file:line:col: message",
      .usage = "validate [--config FILE] [-o text|json] PATH...",
      .description = "Checks schema, references, cycles and the rules that need no Azure, and prints every error\n"
                     "as file:line:col: Kind/name: field: message. Exit 0 when every document is valid, 1 when\n"
                     "there are errors, 2 on bad usage. With --config, spec.azure fields must resolve from the\n"
                     "configuration's defaults.",
      .flags = {
          {.name = "config", .valueName = "FILE", .help = "operator configuration, for defaults of spec.azure"},
          {.name = "output", .shortName = "o", .valueName = "FORMAT", .help = "text or json", .defaultValue = "text"},
      },
      .positionals = true};
  return {spec, validate};
}

}  // namespace anf::cmd
