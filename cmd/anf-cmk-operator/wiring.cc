#include "cmd/anf-cmk-operator/wiring.h"

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include <prometheus/registry.h>

#include "emulator/emulator.h"
#include "reconcilers/registry.h"

namespace anf::cmd {

namespace {

std::string withTrailingSlash(std::string url) {
  if (!url.empty() && url.back() != '/') url += '/';
  return url;
}

std::string withoutTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

azure::Cloud toAzureCloud(controller::Cloud cloud) {
  switch (cloud) {
    case controller::Cloud::AzurePublic: return azure::Cloud::AzurePublic;
    case controller::Cloud::AzureUSGovernment: return azure::Cloud::AzureUSGovernment;
    case controller::Cloud::AzureChina: return azure::Cloud::AzureChina;
    case controller::Cloud::Custom: return azure::Cloud::Custom;
  }
  return azure::Cloud::AzurePublic;
}

azure::CredentialConfig toAzureCredential(const controller::Credential& credential) {
  azure::CredentialConfig out{.name = credential.name, .tenantId = credential.tenantId};
  if (const auto* wi = std::get_if<controller::WorkloadIdentityCredential>(&credential.method)) {
    out.kind = azure::CredentialKind::WorkloadIdentity;
    out.clientId = wi->clientId;
    out.tokenFile = wi->tokenFile;
  } else if (const auto* secret = std::get_if<controller::ClientSecretCredential>(&credential.method)) {
    out.kind = azure::CredentialKind::ClientSecret;
    out.clientId = secret->clientId;
    out.secretFile = secret->secretFile;
    out.secretEnv = secret->secretEnv;
  } else if (const auto* mi = std::get_if<controller::ManagedIdentityCredential>(&credential.method)) {
    out.kind = azure::CredentialKind::ManagedIdentity;
    out.clientId = mi->clientId;
    azure::applyManagedIdentityEnvironment(out);
  }
  return out;
}

std::string flagOr(const ParsedArgs& args, const std::string& flag, const std::string& fallback) {
  return args.has(flag) ? args.get(flag) : fallback;
}

}  // namespace

std::expected<controller::OperatorConfig, std::string> loadOperatorConfig(const ParsedArgs& args) {
  controller::OperatorConfig config;
  if (args.has("config")) {
    auto loaded = controller::loadConfigFile(args.get("config"));
    if (!loaded) {
      std::string message;
      for (const auto& error : loaded.error()) message += error.str() + "\n";
      return std::unexpected(message);
    }
    config = std::move(*loaded);
  } else {
    config = controller::defaultConfig();
  }
  if (args.has("workers")) {
    try {
      config.controller.workers = std::stoi(args.get("workers"));
    } catch (const std::exception&) {
      return std::unexpected("--workers must be a whole number, got '" + args.get("workers") + "'");
    }
    if (config.controller.workers < 1 || config.controller.workers > 256)
      return std::unexpected("--workers must be between 1 and 256");
  }
  config.server.metrics = flagOr(args, "metrics-addr", config.server.metrics);
  config.server.health = flagOr(args, "health-addr", config.server.health);
  config.server.status = flagOr(args, "status-addr", config.server.status);
  config.controller.stateFile = flagOr(args, "state-file", config.controller.stateFile);
  if (config.controller.stateFile.empty())  // one journal per installation, never one shared by the host
    config.controller.stateFile = controller::defaultStateFile(args.has("config") ? args.get("config") : "", args.all("manifests")).string();
  if (args.has("source")) {
    const std::string source = args.get("source");
    if (source != "directory" && source != "kubernetes")
      return std::unexpected("--source must be directory or kubernetes, got '" + source + "'");
    config.source.kind = source == "kubernetes" ? controller::SourceKind::Kubernetes : controller::SourceKind::Directory;
  }
  config.source.kubernetes.kubeconfig = flagOr(args, "kubeconfig", config.source.kubernetes.kubeconfig);
  config.source.kubernetes.namespaceName = flagOr(args, "namespace", config.source.kubernetes.namespaceName);
  config.logging.level = flagOr(args, "log-level", config.logging.level);
  config.logging.format = flagOr(args, "log-format", config.logging.format);
  if (config.logging.format != "json" && config.logging.format != "text")
    return std::unexpected("--log-format must be json or text, got '" + config.logging.format + "'");
  return config;
}

azure::AzureConfig toAzureConfig(const controller::OperatorConfig& config) {
  azure::AzureConfig out;
  out.cloud = toAzureCloud(config.azure.cloud);
  if (out.cloud == azure::Cloud::Custom) {
    out.endpoints.resourceManager = withoutTrailingSlash(config.azure.endpoints.resourceManager);
    out.endpoints.authority = withTrailingSlash(config.azure.endpoints.authority);
    out.endpoints.graph = withoutTrailingSlash(config.azure.endpoints.graph);
  }
  out.caFile = config.azure.caFile;
  for (const auto& credential : config.azure.credentials) out.credentials.push_back(toAzureCredential(credential));
  out.rateLimits.readsPerSecond = config.controller.armReadsPerSecond;
  out.rateLimits.writesPerSecond = config.controller.armWritesPerSecond;
  out.rateLimits.maxInFlight = config.controller.armMaxInFlight;
  return out;
}

std::expected<AzureStack, std::string> makeAzureStack(const controller::OperatorConfig& config,
                                                      std::shared_ptr<prometheus::Registry> registry) {
  auto client = azure::makeAzureClient(toAzureConfig(config), {.registry = registry.get()});
  if (!client) return std::unexpected("Azure client: " + client.error().message);
  AzureStack stack;
  stack.registry = std::move(registry);
  stack.client = std::shared_ptr<azure::AzureClient>(std::move(*client));
  reconcilers::ReconcilerOptions options;
  if (!config.azure.endpoints.authority.empty())
    options.crossTenant.issuerAuthority = options.crossTenant.consentAuthority =
        withTrailingSlash(config.azure.endpoints.authority);
  stack.reconcilers = reconcilers::makeReconcilers(*stack.client, std::move(options));
  stack.poll = reconcilers::makeOperationPoll(*stack.client);
  stack.writeAdmission = reconcilers::makeWriteAdmission(*stack.client);
  return stack;
}

std::expected<EmbeddedEmulator, std::string> startEmbeddedEmulator(controller::OperatorConfig base,
                                                                   const std::string& worldFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("anf-cmk-operator-emulator-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  emulator::Options options{.worldFile = worldFile, .caOut = (dir / "ca.pem").string(), .logLevel = "warn"};
  auto started = emulator::Emulator::start(options);
  if (!started) return std::unexpected("embedded emulator: " + started.error());
  EmbeddedEmulator embedded{std::shared_ptr<emulator::Emulator>(std::move(*started)), std::move(base)};
  const auto endpoints = embedded.emulator->endpoints();

  auto& azure = embedded.config.azure;
  azure.cloud = controller::Cloud::Custom;
  azure.endpoints.resourceManager = endpoints.resourceManager;
  azure.endpoints.authority = withTrailingSlash(endpoints.authority);
  azure.endpoints.graph = endpoints.graph;
  azure.caFile = endpoints.caFile;
  azure.credentials.clear();
  for (const auto& tenant : endpoints.tenants) {
    for (const auto& principal : tenant.principals) {
      if (principal.name != "admin") continue;
      // Secrets never sit in configuration: hand them over through this process's environment.
      std::string variable = "ANF_EMULATOR_SECRET_" + tenant.name;
      for (auto& c : variable) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      ::setenv(variable.c_str(), principal.clientSecret.c_str(), 1);
      azure.credentials.push_back({.name = tenant.name,
                                   .tenantId = tenant.tenantId,
                                   .method = controller::ClientSecretCredential{.clientId = principal.clientId,
                                                                                .secretEnv = variable}});
    }
  }
  if (!endpoints.tenants.empty()) {
    const auto& provider = endpoints.tenants.front();
    azure.defaultTenant = provider.name;
    if (azure.defaultSubscriptionId.empty() && !provider.subscriptions.empty())
      azure.defaultSubscriptionId = provider.subscriptions.front();
  }
  if (azure.defaultResourceGroup.empty()) azure.defaultResourceGroup = "anf-rg";
  if (azure.defaultLocation.empty()) azure.defaultLocation = "eastus";
  // A fresh emulator world goes with a fresh status file.
  embedded.config.controller.stateFile = (dir / "state.db").string();
  return embedded;
}

}  // namespace anf::cmd
