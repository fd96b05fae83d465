// libFuzzer target: manifest text -> loadManifestText (hostile-input checks, yaml-cpp, per-document validation)
// -> assembleDesiredState (duplicates, references, cycles, cross-document rules). Any input must come back as
// documents or located errors: no crash, hang, leak or exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controller/manifest_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace anf::controller;
  static const LoadOptions options{.defaults = {.tenant = "10000000-0000-4000-8000-000000000001",
                                                .subscriptionId = "10000000-0000-4000-8000-0000000000a1",
                                                .resourceGroup = "anf-rg",
                                                .location = "eastus",
                                                .requireAzureCoordinates = true}};
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto file = loadManifestText(text, "fuzz.yaml", options);
  auto state = assembleDesiredState({file});
  (void)state;
  return 0;
}
