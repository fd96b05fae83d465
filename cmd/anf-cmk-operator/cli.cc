#include "cmd/anf-cmk-operator/cli.h"

#include <algorithm>
#include <sstream>

#include "controller/suggest.h"

namespace anf::cmd {

std::string ParsedArgs::get(const std::string& flag, const std::string& fallback) const {
  auto it = values.find(flag);
  return it == values.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> ParsedArgs::all(const std::string& flag) const {
  auto it = values.find(flag);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

namespace {

const FlagSpec* findFlag(const CommandSpec& spec, const std::string& name, bool isShort) {
  auto it = std::ranges::find_if(spec.flags, [&](const FlagSpec& f) { return (isShort ? f.shortName : f.name) == name; });
  return it == spec.flags.end() ? nullptr : &*it;
}

std::string unknownFlag(const CommandSpec& spec, const std::string& written) {
  std::vector<std::string> names;
  for (const auto& f : spec.flags) names.push_back("--" + f.name);
  names.push_back("--help");
  std::string message = "unknown flag " + written + " for '" + spec.name + "'";
  if (auto guess = controller::closestMatch(written, names)) message += " (did you mean " + *guess + "?)";
  return message + "; see '" + spec.name + " --help'";
}

}  // namespace

std::expected<ParsedArgs, std::string> parseArgs(const CommandSpec& spec, const std::vector<std::string>& args) {
  ParsedArgs parsed;
  bool onlyPositionals = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (onlyPositionals || arg.size() < 2 || arg[0] != '-') {
      if (!spec.positionals) return std::unexpected("'" + spec.name + "' takes no arguments, got '" + arg + "'");
      parsed.positionals.push_back(arg);
      continue;
    }
    if (arg == "--") {
      onlyPositionals = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
      continue;
    }
    const bool isShort = arg[1] != '-';
    std::string body = arg.substr(isShort ? 1 : 2);
    std::optional<std::string> inlineValue;
    if (auto eq = body.find('='); eq != std::string::npos) {
      inlineValue = body.substr(eq + 1);
      body = body.substr(0, eq);
    }
    const FlagSpec* flag = findFlag(spec, body, isShort);
    if (!flag) return std::unexpected(unknownFlag(spec, arg.substr(0, arg.find('='))));
    std::string value = "true";
    if (!flag->valueName.empty()) {
      if (inlineValue) {
        value = *inlineValue;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return std::unexpected("flag --" + flag->name + " needs a value (" + flag->valueName + ")");
      }
    } else if (inlineValue) {
      if (*inlineValue != "true" && *inlineValue != "false")
        return std::unexpected("flag --" + flag->name + " is a switch; it takes no value");
      if (*inlineValue == "false") continue;
    }
    auto& slot = parsed.values[flag->name];
    if (!slot.empty() && !flag->repeatable && !flag->valueName.empty())
      return std::unexpected("flag --" + flag->name + " given more than once");
    slot.push_back(value);
  }
  return parsed;
}

std::string helpText(const CommandSpec& spec) {
  std::ostringstream out;
  out << "Usage: anf-cmk-operator " << spec.usage << "\n\n" << spec.summary << "\n";
  if (!spec.description.empty()) out << "\n" << spec.description << "\n";
  out << "\nFlags:\n";
  for (const auto& f : spec.flags) {
    std::string left = "  ";
    left += f.shortName.empty() ? "    " : "-" + f.shortName + ", ";
    left += "--" + f.name;
    if (!f.valueName.empty()) left += " " + f.valueName;
    out << left;
    out << std::string(left.size() < 34 ? 34 - left.size() : 1, ' ') << f.help;
    if (!f.defaultValue.empty()) out << " (default " << f.defaultValue << ")";
    if (f.repeatable) out << " (repeatable)";
    out << "\n";
  }
  out << "  -h, --help                      show this help\n";
  return out.str();
}

}  // namespace anf::cmd
