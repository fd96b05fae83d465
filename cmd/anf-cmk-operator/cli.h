#pragma once
// Command-line parsing shared by every subcommand: GNU-style long flags (--flag value, --flag=value),
// a few short aliases, repeatable flags, positionals, generated --help, and "did you mean" for typos.
#include <expected>
#include <map>
#include <string>
#include <vector>

namespace anf::cmd {

/// Exit codes of SPEC §2.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitChangesPending = 3;  // plan only

struct FlagSpec {
  std::string name;          // without dashes: "manifests"
  std::string shortName;     // optional one letter: "o"
  std::string valueName;     // empty: a boolean switch
  std::string help;
  std::string defaultValue;  // shown in --help; applied by the command itself
  bool repeatable = false;
};

struct CommandSpec {
  std::string name;     // "plan"
  std::string summary;  // one line for the top-level help
  std::string usage;    // "plan [flags]"
  std::string description;
  std::vector<FlagSpec> flags;
  bool positionals = false;  // does it take positional arguments?
};

struct ParsedArgs {
  std::map<std::string, std::vector<std::string>> values;  // boolean switches map to {"true"}
  std::vector<std::string> positionals;
  bool help = false;

  bool has(const std::string& flag) const { return values.contains(flag); }
  std::string get(const std::string& flag, const std::string& fallback = "") const;
  std::vector<std::string> all(const std::string& flag) const;
};

/// Parses argv[first..argc) against `spec`. Errors are usage errors (exit 2), with a suggestion.
std::expected<ParsedArgs, std::string> parseArgs(const CommandSpec& spec, const std::vector<std::string>& args);

/// The --help text of a command.
std::string helpText(const CommandSpec& spec);

}  // namespace anf::cmd
