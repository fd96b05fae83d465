#pragma once
// The operator configuration (SPEC §3, operator.yaml) as a typed struct with defaults, loaded and
// validated like a manifest (same error format, unknown fields with suggestions). The standard Azure
// Workload Identity environment (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE,
// AZURE_AUTHORITY_HOST) configures the default credential when the file does not.
#include <chrono>
#include <expected>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "controller/document.h"
#include "controller/validation.h"

namespace anf::controller {

enum class Cloud { AzurePublic, AzureUSGovernment, AzureChina, Custom };

/// "AzurePublic" etc.
std::string_view cloudName(Cloud cloud);

/// Where a cloud's services live.
struct CloudEndpoints {
  std::string resourceManager;   // https://management.azure.com
  std::string authority;         // https://login.microsoftonline.com/
  std::string graph;             // https://graph.microsoft.com
  std::string keyVaultSuffix;    // vault.azure.net
  std::string managedHsmSuffix;  // managedhsm.azure.net
};

/// The well-known endpoints of a public or sovereign cloud (Custom: empty; the file gives them).
CloudEndpoints endpointsFor(Cloud cloud);

/// A federated token file (AKS workload identity): client assertion grant.
struct WorkloadIdentityCredential {
  std::string clientId;
  std::string tokenFile;
};
/// An app registration's secret, read from a file or an environment variable (never inline).
struct ClientSecretCredential {
  std::string clientId;
  std::string secretFile;  // one of secretFile and secretEnv is set
  std::string secretEnv;
};
/// A managed identity (IMDS, or IDENTITY_ENDPOINT on App Service); clientId selects a user-assigned one.
struct ManagedIdentityCredential {
  std::string clientId;
};

/// One tenant the operator acts in. Documents name it through spec.azure.tenant.
struct Credential {
  std::string name;
  std::string tenantId;
  std::variant<WorkloadIdentityCredential, ClientSecretCredential, ManagedIdentityCredential> method;
};

struct AzureConfig {
  Cloud cloud = Cloud::AzurePublic;
  CloudEndpoints endpoints = endpointsFor(Cloud::AzurePublic);  // filled for the cloud; Custom from the file
  std::string caFile;                                            // extra CA bundle for TLS (PEM)
  /// Defaults of spec.azure; tenant defaults to the first credential's name.
  std::string defaultTenant, defaultSubscriptionId, defaultResourceGroup, defaultLocation;
  std::vector<Credential> credentials;  // the first is the default

  /// The credential named `name`, or nullptr.
  const Credential* credential(std::string_view name) const;
};

enum class WatchMode { Auto, Inotify, Poll };

struct WatchConfig {
  WatchMode mode = WatchMode::Auto;                  // Auto: inotify, polling where inotify is unavailable
  std::chrono::milliseconds debounce{200};           // quiet time before a snapshot
  std::chrono::milliseconds pollInterval{2000};      // Poll mode (and Auto without inotify)
};

struct ControllerConfig {
  int workers = 8;
  std::chrono::milliseconds resyncPeriod{10 * 60 * 1000};  // with jitter
  int armReadsPerSecond = 25;                              // per subscription: Azure's rates (azure::RateLimits)
  int armWritesPerSecond = 10;
  int armMaxInFlight = 16;                                 // requests on the wire per subscription
  int maxDeletionsPerPass = 5;  // a larger sudden loss of documents is refused, not applied
  /// The journal of status and in-flight operations (status_store.h). Empty: defaultStateFile() of this
  /// installation (cmd/ fills it in from --config and --manifests).
  std::string stateFile;
  WatchConfig watch;
};

struct ServerConfig {
  std::string metrics = ":8080";
  std::string health = ":8081";
  std::string status = "127.0.0.1:8082";
};

struct LoggingConfig {
  std::string format = "json";  // json | text
  std::string level = "info";   // trace | debug | info | warn | error
};

/// source.kubernetes.leaderElection: a coordination.k8s.io/v1 Lease, client-go's defaults.
struct LeaderElectionSettings {
  bool enabled = true;
  std::string leaseName = "anf-cmk-operator";
  std::chrono::milliseconds leaseDuration{15000};
  std::chrono::milliseconds renewDeadline{10000};
  std::chrono::milliseconds retryPeriod{2000};
};

/// source.kubernetes (SPEC §4a): the documents as custom resources of one namespace.
struct KubernetesSourceConfig {
  std::string kubeconfig;     // empty: $KUBECONFIG, else in-cluster
  std::string namespaceName;  // empty: the kubeconfig context's, or the pod's own namespace
  LeaderElectionSettings leaderElection;
};

enum class SourceKind { Directory, Kubernetes };

/// source: where documents come from (directory: the --manifests paths, the default).
struct SourceConfig {
  SourceKind kind = SourceKind::Directory;
  KubernetesSourceConfig kubernetes;
};

struct OperatorConfig {
  AzureConfig azure;
  ControllerConfig controller;
  SourceConfig source;
  ServerConfig server;
  LoggingConfig logging;

  /// The defaults manifests take from this configuration.
  ManifestDefaults manifestDefaults(bool requireAzureCoordinates = true) const;
};

/// Looks up an environment variable; tests pass a map instead of the process environment.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;
/// The process environment (getenv).
Environment processEnvironment();

using ConfigResult = std::expected<OperatorConfig, std::vector<ManifestError>>;

/// The configuration without a file: defaults plus the workload identity environment.
OperatorConfig defaultConfig(const Environment& environment = processEnvironment());
/// Parses and validates configuration text; `fileName` is used in error locations.
ConfigResult loadConfigText(std::string_view text, const std::string& fileName,
                            const Environment& environment = processEnvironment());
/// Reads and loads a configuration file.
ConfigResult loadConfigFile(const std::string& path, const Environment& environment = processEnvironment());

/// The state file of one installation when neither the configuration nor --state-file names one:
/// <temp dir>/anf-cmk-operator/<config file stem or "default">-<16 hex digits>/state.db, the digits a
/// hash of the absolute configuration path and the sorted absolute manifests paths. Two daemons on one
/// host with different configurations or manifests never share a state file; one restarted keeps its own.
std::filesystem::path defaultStateFile(const std::string& configPath, std::vector<std::string> manifestPaths);

/// The schema of operator.yaml (also published as manifests/schema/OperatorConfig.json).
const FieldSpec& configSchema();

}  // namespace anf::controller
