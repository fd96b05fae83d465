#pragma once
// Wiring shared by `run` and `plan`: the operator configuration (flags over the file), the Azure
// client, the reconcilers of every kind with the flows of issue 7, and the embedded emulator of
// `run --emulator`. No decisions live here; it only connects the parts.
#include <expected>
#include <memory>
#include <string>
#include <vector>

#include "azure/client.h"
#include "cmd/anf-cmk-operator/cli.h"
#include "controller/config.h"
#include "controller/reconciler.h"

namespace prometheus {
class Registry;
}
namespace anf::emulator {
class Emulator;
}

namespace anf::cmd {

/// The configuration file (or the defaults) with the command-line flags applied over it. Errors are
/// printed as file:line:col: messages.
std::expected<controller::OperatorConfig, std::string> loadOperatorConfig(const ParsedArgs& args);

/// The Azure client's configuration from the operator configuration.
azure::AzureConfig toAzureConfig(const controller::OperatorConfig& config);

/// The client and everything built on it. The client must outlive the reconcilers: keep them together.
struct AzureStack {
  std::shared_ptr<prometheus::Registry> registry;  // the client's metrics live here: keep it alive
  std::shared_ptr<azure::AzureClient> client;
  std::vector<controller::ReconcilerPtr> reconcilers;
  controller::OperationPollFn poll;
  controller::WriteAdmissionFn writeAdmission;
};
std::expected<AzureStack, std::string> makeAzureStack(const controller::OperatorConfig& config,
                                                      std::shared_ptr<prometheus::Registry> registry);

/// `run --emulator`: an in-process emulator on loopback and the configuration that points at it
/// (Custom cloud, its CA, client-secret credentials `provider` and `customer` whose secrets are passed
/// through environment variables of this process, defaults of the demo world, a fresh state file).
struct EmbeddedEmulator {
  std::shared_ptr<emulator::Emulator> emulator;
  controller::OperatorConfig config;
};
std::expected<EmbeddedEmulator, std::string> startEmbeddedEmulator(controller::OperatorConfig base,
                                                                   const std::string& worldFile);

}  // namespace anf::cmd
