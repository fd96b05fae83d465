#pragma once
// The subcommands of SPEC §2. Each lives in its own file (run.cc, plan.cc, ...): wiring only, no logic.
#include <functional>
#include <vector>

#include "cmd/anf-cmk-operator/cli.h"

namespace anf::cmd {

struct Command {
  CommandSpec spec;
  std::function<int(const ParsedArgs&)> run;  // returns the process exit code
};

Command runCommand();
Command planCommand();
Command validateCommand();
Command statusCommand();
Command emulatorCommand();
Command versionCommand();

/// Prints "<what> is not implemented yet" to stderr and returns kExitError (never pretend to work).
int notImplementedYet(const std::string& what);

}  // namespace anf::cmd
