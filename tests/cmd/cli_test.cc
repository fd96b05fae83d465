#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "cmd/anf-cmk-operator/cli.h"

using namespace anf::cmd;

namespace {

CommandSpec planSpec() {
  return {.name = "plan",
          .usage = "plan",
          .flags = {{.name = "manifests", .valueName = "PATH", .repeatable = true},
                    {.name = "output", .shortName = "o", .valueName = "FORMAT"},
                    {.name = "emulator"}}};
}

struct Run {
  int exitCode;
  std::string output;
};

Run runBinary(const std::string& args) {
  std::string command = std::string(ANF_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buffer[4096];
  while (auto n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  int status = pclose(pipe);
  return {WEXITSTATUS(status), output};
}

}  // namespace

TEST(ParseArgs, RepeatableFlagsKeepEveryValueInOrder) {
  auto parsed = parseArgs(planSpec(), {"--manifests", "a", "--manifests=b", "-o", "json", "--emulator"});
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->all("manifests"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parsed->get("output"), "json");
  EXPECT_TRUE(parsed->has("emulator"));
}

TEST(ParseArgs, UnknownFlagSuggestsTheClosestOne) {
  auto parsed = parseArgs(planSpec(), {"--manifest", "a"});
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().find("unknown flag --manifest"), std::string::npos) << parsed.error();
  EXPECT_NE(parsed.error().find("did you mean --manifests?"), std::string::npos) << parsed.error();
}

TEST(ParseArgs, MissingValueAndStrayPositionalAreErrors) {
  EXPECT_FALSE(parseArgs(planSpec(), {"--output"}));
  EXPECT_FALSE(parseArgs(planSpec(), {"stray"}));
  EXPECT_FALSE(parseArgs(planSpec(), {"-o", "a", "-o", "b"}));  // not repeatable
}

TEST(Binary, UsageErrorsExitTwoWithASuggestion) {
  auto unknownCommand = runBinary("plna");
  EXPECT_EQ(unknownCommand.exitCode, 2);
  EXPECT_NE(unknownCommand.output.find("did you mean 'plan'?"), std::string::npos) << unknownCommand.output;
  auto unknownFlag = runBinary("validate --ouptut json x.yaml");
  EXPECT_EQ(unknownFlag.exitCode, 2);
  EXPECT_NE(unknownFlag.output.find("did you mean --output?"), std::string::npos) << unknownFlag.output;
}

TEST(Binary, EverySubcommandHasHelp) {
  for (const char* command : {"run", "plan", "validate", "status", "emulator", "version"}) {
    auto help = runBinary(std::string(command) + " --help");
    EXPECT_EQ(help.exitCode, 0) << command;
    EXPECT_NE(help.output.find(std::string("Usage: anf-cmk-operator ") + command), std::string::npos) << help.output;
  }
}

TEST(Binary, VersionNamesTheApiVersionsUsed) {
  auto version = runBinary("version -o json");
  EXPECT_EQ(version.exitCode, 0);
  EXPECT_NE(version.output.find("\"Microsoft.NetApp\":\"2025-06-01\""), std::string::npos) << version.output;
}
