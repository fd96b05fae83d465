#include <utility>  // before Boost.Asio (via pplx/threadpool.h) under C++23

#include <malloc.h>

#include <iostream>
#include <string>
#include <vector>

#include <pplx/threadpool.h>

#include "cmd/anf-cmk-operator/commands.h"
#include "controller/suggest.h"

using namespace anf::cmd;

namespace {

constexpr std::size_t kHttpThreads = 4;

std::vector<Command> allCommands() {
  return {runCommand(), planCommand(), validateCommand(), statusCommand(), emulatorCommand(), versionCommand()};
}

void printTopLevelHelp(std::ostream& out, const std::vector<Command>& commands) {
  out << "anf-cmk-operator: declarative customer-managed-key encryption for Azure NetApp Files\n\n"
         "Usage: anf-cmk-operator <command> [flags]\n\nCommands:\n";
  for (const auto& c : commands) out << "  " << c.spec.name << std::string(12 - c.spec.name.size(), ' ') << c.spec.summary << "\n";
  out << "\nRun 'anf-cmk-operator <command> --help' for a command's flags.\n";
}

/// Process-wide settings that must come before the first thread (docs/performance.md, "Memory").
void tuneRuntime() {
  // glibc gives every thread that finds the heap busy an arena of its own, up to 8 per core, and each arena
  // keeps what it freed: with cpprestsdk's pool, the engine's workers and the servers, that was a dozen heaps.
  mallopt(M_ARENA_MAX, 2);
  // cpprestsdk's pool (HTTP I/O and task continuations, none of which block) defaults to 40 threads.
  crossplat::threadpool::initialize_with_threads(kHttpThreads);
}

}  // namespace

int main(int argc, char** argv) {
  tuneRuntime();
  const auto commands = allCommands();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    printTopLevelHelp(std::cerr, commands);
    return kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    printTopLevelHelp(std::cout, commands);
    return kExitOk;
  }
  if (args[0] == "--version") args[0] = "version";
  for (const auto& command : commands) {
    if (command.spec.name != args[0]) continue;
    auto parsed = parseArgs(command.spec, {args.begin() + 1, args.end()});
    if (!parsed) {
      std::cerr << "anf-cmk-operator " << command.spec.name << ": " << parsed.error() << "\n";
      return kExitUsage;
    }
    if (parsed->help) {
      std::cout << helpText(command.spec);
      return kExitOk;
    }
    try {
      return command.run(*parsed);
    } catch (const std::exception& e) {
      std::cerr << "anf-cmk-operator " << command.spec.name << ": " << e.what() << "\n";
      return kExitError;
    }
  }
  std::vector<std::string> names;
  for (const auto& c : commands) names.push_back(c.spec.name);
  std::cerr << "anf-cmk-operator: unknown command '" << args[0] << "'";
  if (auto guess = anf::controller::closestMatch(args[0], names)) std::cerr << " (did you mean '" << *guess << "'?)";
  std::cerr << "; see 'anf-cmk-operator --help'\n";
  return kExitUsage;
}
