// libFuzzer target: operator configuration text -> loadConfigText (YAML, schema, credentials, rate limits,
// endpoints) and, when it loads, the manifest defaults it hands to validation. No crash, hang, leak or exception.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "controller/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace anf::controller;
  // A fixed environment (the workload identity variables set), so that a run does not depend on the machine.
  static const std::map<std::string, std::string> variables{
      {"AZURE_CLIENT_ID", "10000000-0000-4000-8000-00000000c001"},
      {"AZURE_TENANT_ID", "10000000-0000-4000-8000-000000000001"},
      {"AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token"},
      {"ANF_CLIENT_SECRET", "fuzz-secret"}};
  static const Environment environment = [](const std::string& name) -> std::optional<std::string> {
    auto found = variables.find(name);
    return found == variables.end() ? std::nullopt : std::optional(found->second);
  };
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = loadConfigText(text, "operator.yaml", environment);
  if (config) (void)config->manifestDefaults();
  return 0;
}
