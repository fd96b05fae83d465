#include "controller/config.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "controller/manifest_loader.h"

namespace anf::controller {

namespace {

constexpr std::array<std::pair<Cloud, std::string_view>, 4> kClouds = {{
    {Cloud::AzurePublic, "AzurePublic"},
    {Cloud::AzureUSGovernment, "AzureUSGovernment"},
    {Cloud::AzureChina, "AzureChina"},
    {Cloud::Custom, "Custom"},
}};

FieldSpec field(std::string name, FieldType type = FieldType::String) { return {.name = std::move(name), .type = type}; }
FieldSpec object(std::string name, std::vector<FieldSpec> fields) {
  return {.name = std::move(name), .type = FieldType::Object, .fields = std::move(fields)};
}
FieldSpec described(FieldSpec f, std::string description) {
  f.description = std::move(description);
  return f;
}

constexpr const char* kStateFileDescription =
    "Journal of status and in-flight long-running operations, to resume them after a restart; never a source of "
    "truth: Ready is reported only after this process observed Azure. Default, one per installation: "
    "<temp dir>/anf-cmk-operator/<config file stem>-<hash of the absolute config and manifests paths>/state.db.";

FieldSpec withFormat(FieldSpec f, Format format) {
  f.format = format;
  return f;
}
FieldSpec address(std::string name) {
  FieldSpec f = field(std::move(name));
  f.pattern = "^[^:]*:[0-9]{1,5}$";
  f.patternHint = "an address is [host]:port";
  return f;
}
FieldSpec count(std::string name, std::int64_t min, std::int64_t max) {
  return {.name = std::move(name), .type = FieldType::Integer, .minimum = min, .maximum = max};
}

FieldSpec buildConfigSchema() {
  FieldSpec cloud = field("cloud");
  for (const auto& [c, name] : kClouds) cloud.enumValues.emplace_back(name);
  FieldSpec url = field("");
  url.pattern = "^https?://.+";
  url.patternHint = "a URL like https://127.0.0.1:8443";
  auto urlField = [&](std::string name) {
    FieldSpec f = url;
    f.name = std::move(name);
    return f;
  };
  FieldSpec credential = object(
      "", {withFormat(field("name"), Format::Dns1123Label), withFormat(field("tenantId"), Format::Uuid),
           object("workloadIdentity", {withFormat(field("clientId"), Format::Uuid), field("tokenFile")}),
           object("clientSecret", {withFormat(field("clientId"), Format::Uuid), field("secretFile"), field("secretEnv")}),
           object("managedIdentity", {withFormat(field("clientId"), Format::Uuid)})});
  credential.fields[0].required = true;
  credential.fields[2].fields[0].required = false;
  credential.fields[3].fields[0].required = true;
  credential.fields[3].unknownFieldHint = "secrets are never inline: use secretFile or secretEnv";
  FieldSpec azure = object(
      "azure",
      {cloud,
       object("endpoints", {urlField("resourceManager"), urlField("authority"), urlField("graph"), field("keyVaultSuffix"),
                            field("managedHsmSuffix")}),
       field("caFile"),
       object("defaults", {field("tenant"), withFormat(field("subscriptionId"), Format::Uuid), field("resourceGroup"),
                           field("location")}),
       {.name = "credentials", .type = FieldType::Array, .fields = {credential}},
       object("managedIdentity", {withFormat(field("clientId"), Format::Uuid)})});
  FieldSpec mode = field("mode");
  mode.enumValues = {"auto", "inotify", "poll"};
  FieldSpec controller = object(
      "controller",
      {count("workers", 1, 256), withFormat(field("resyncPeriod"), Format::Duration),
       object("armRateLimit", {count("readsPerSecond", 1, 1000), count("writesPerSecond", 1, 1000), count("maxInFlight", 1, 256)}),
       count("maxDeletionsPerPass", 0, 100000), described(field("stateFile"), kStateFileDescription),
       object("watch", {mode, withFormat(field("debounce"), Format::Duration), withFormat(field("pollInterval"), Format::Duration)})});
  FieldSpec kind = field("kind");
  kind.enumValues = {"directory", "kubernetes"};
  FieldSpec source = object(
      "source",
      {described(kind, "directory: the --manifests paths; kubernetes: custom resources of group anf-cmk.io"),
       object("kubernetes",
              {described(field("kubeconfig"), "kubeconfig file; empty: $KUBECONFIG, else in-cluster"),
               described(field("namespace"), "namespace of the custom resources; empty: the context's or the pod's"),
               object("leaderElection",
                      {field("enabled", FieldType::Boolean), withFormat(field("leaseName"), Format::Dns1123Label),
                       withFormat(field("leaseDuration"), Format::Duration), withFormat(field("renewDeadline"), Format::Duration),
                       withFormat(field("retryPeriod"), Format::Duration)})})});
  FieldSpec format = field("format");
  format.enumValues = {"json", "text"};
  FieldSpec level = field("level");
  level.enumValues = {"trace", "debug", "info", "warn", "error"};
  return object("", {azure, controller, source, object("server", {address("metrics"), address("health"), address("status")}),
                     object("logging", {format, level})});
}

std::chrono::milliseconds duration(const Json& value, std::chrono::milliseconds fallback) {
  if (!value.is_string()) return fallback;
  return std::chrono::milliseconds(parseDurationMillis(value.get<std::string>()).value_or(fallback.count()));
}

std::string str(const Json& object, const char* name, const std::string& fallback = {}) {
  return object.is_object() && object.contains(name) ? object[name].get<std::string>() : fallback;
}

// Workload identity environment: fills what the file leaves out of the default credential.
void applyEnvironment(OperatorConfig& config, const Environment& env, bool authorityFromFile) {
  auto clientId = env("AZURE_CLIENT_ID"), tenantId = env("AZURE_TENANT_ID"), tokenFile = env("AZURE_FEDERATED_TOKEN_FILE");
  if (config.azure.credentials.empty() && clientId && tenantId && tokenFile) {
    std::string name = config.azure.defaultTenant.empty() ? "default" : config.azure.defaultTenant;
    config.azure.credentials.push_back({name, *tenantId, WorkloadIdentityCredential{*clientId, *tokenFile}});
  } else if (!config.azure.credentials.empty()) {
    Credential& first = config.azure.credentials.front();
    if (first.tenantId.empty() && tenantId) first.tenantId = *tenantId;
    if (auto* wi = std::get_if<WorkloadIdentityCredential>(&first.method)) {
      if (wi->clientId.empty() && clientId) wi->clientId = *clientId;
      if (wi->tokenFile.empty() && tokenFile) wi->tokenFile = *tokenFile;
    }
  }
  if (auto authority = env("AZURE_AUTHORITY_HOST"); authority && !authorityFromFile) {
    config.azure.endpoints.authority = *authority;
    if (!config.azure.endpoints.authority.ends_with('/')) config.azure.endpoints.authority += '/';
  }
  if (config.azure.defaultTenant.empty() && !config.azure.credentials.empty())
    config.azure.defaultTenant = config.azure.credentials.front().name;
}

// source: from checked JSON; leader election's durations are checked as client-go does.
void buildSource(const Json& in, SourceConfig& source, const std::function<void(const std::string&, std::string)>& report) {
  source.kind = str(in, "kind", "directory") == "kubernetes" ? SourceKind::Kubernetes : SourceKind::Directory;
  const Json kube = in.value("kubernetes", Json::object());
  source.kubernetes.kubeconfig = str(kube, "kubeconfig");
  source.kubernetes.namespaceName = str(kube, "namespace");
  const Json le = kube.value("leaderElection", Json::object());
  auto& out = source.kubernetes.leaderElection;
  out.enabled = le.value("enabled", out.enabled);
  out.leaseName = str(le, "leaseName", out.leaseName);
  out.leaseDuration = duration(le.value("leaseDuration", Json()), out.leaseDuration);
  out.renewDeadline = duration(le.value("renewDeadline", Json()), out.renewDeadline);
  out.retryPeriod = duration(le.value("retryPeriod", Json()), out.retryPeriod);
  const std::string path = "source.kubernetes.leaderElection";
  if (out.leaseDuration <= out.renewDeadline) report(path + ".leaseDuration", "must be longer than renewDeadline");
  if (out.leaseDuration.count() % 1000 != 0) report(path + ".leaseDuration", "must be whole seconds (Lease.spec.leaseDurationSeconds)");
  if (out.renewDeadline.count() * 10 <= out.retryPeriod.count() * 12)
    report(path + ".renewDeadline", "must be longer than 1.2 x retryPeriod");
  if (out.retryPeriod.count() <= 0) report(path + ".retryPeriod", "must be positive");
}

// Builds the typed configuration from checked JSON; reports rules the schema cannot express.
void buildConfig(const Json& in, OperatorConfig& config, const std::map<std::string, SourceLocation>& where,
                 const std::string& fileName, std::vector<ManifestError>& errors) {
  auto report = [&](const std::string& path, std::string message) {
    SourceLocation at{fileName, 1, 1};
    for (std::string p = path; !p.empty(); p = p.substr(0, p.find_last_of(".[")))
      if (auto it = where.find(p); it != where.end()) {
        at = it->second;
        break;
      } else if (p.find_first_of(".[") == std::string::npos) break;
    errors.push_back({at, "", path, std::move(message)});
  };
  const Json azure = in.value("azure", Json::object());
  const std::string cloud = str(azure, "cloud", "AzurePublic");
  for (const auto& [c, name] : kClouds)
    if (name == cloud) config.azure.cloud = c;
  config.azure.endpoints = endpointsFor(config.azure.cloud);
  const Json endpoints = azure.value("endpoints", Json::object());
  for (auto [name, target] : {std::pair{"resourceManager", &config.azure.endpoints.resourceManager},
                              {"authority", &config.azure.endpoints.authority}, {"graph", &config.azure.endpoints.graph},
                              {"keyVaultSuffix", &config.azure.endpoints.keyVaultSuffix},
                              {"managedHsmSuffix", &config.azure.endpoints.managedHsmSuffix}}) {
    if (endpoints.contains(name)) *target = endpoints[name];
    if (config.azure.cloud == Cloud::Custom && target->empty() && std::string_view(name).find("Suffix") == std::string_view::npos)
      report(std::string("azure.endpoints.") + name, "is required when cloud is Custom");
  }
  if (config.azure.cloud != Cloud::Custom && azure.contains("endpoints"))
    report("azure.endpoints", "only applies when cloud is Custom");
  config.azure.caFile = str(azure, "caFile");
  const Json defaults = azure.value("defaults", Json::object());
  config.azure.defaultTenant = str(defaults, "tenant");
  config.azure.defaultSubscriptionId = str(defaults, "subscriptionId");
  config.azure.defaultResourceGroup = str(defaults, "resourceGroup");
  config.azure.defaultLocation = str(defaults, "location");
  const Json credentials = azure.value("credentials", Json::array());
  for (std::size_t i = 0; i < credentials.size(); ++i) {
    const Json& c = credentials[i];
    const std::string path = "azure.credentials[" + std::to_string(i) + "]";
    Credential credential{.name = str(c, "name"), .tenantId = str(c, "tenantId")};
    int methods = 0;
    if (c.contains("workloadIdentity")) {
      ++methods;
      credential.method = WorkloadIdentityCredential{str(c["workloadIdentity"], "clientId"), str(c["workloadIdentity"], "tokenFile")};
    }
    if (c.contains("clientSecret")) {
      ++methods;
      const Json& s = c["clientSecret"];
      credential.method = ClientSecretCredential{str(s, "clientId"), str(s, "secretFile"), str(s, "secretEnv")};
      if (s.contains("secretFile") == s.contains("secretEnv"))
        report(path + ".clientSecret", "set exactly one of secretFile or secretEnv (secrets are never inline)");
    }
    if (c.contains("managedIdentity")) {
      ++methods;
      credential.method = ManagedIdentityCredential{str(c["managedIdentity"], "clientId")};
    }
    if (methods == 0 && i == 0) credential.method = WorkloadIdentityCredential{};  // from the environment
    else if (methods != 1)
      report(path, "set exactly one of workloadIdentity, clientSecret or managedIdentity");
    for (const auto& other : config.azure.credentials)
      if (other.name == credential.name) report(path + ".name", "duplicate credential name '" + credential.name + "'");
    config.azure.credentials.push_back(std::move(credential));
  }
  if (azure.contains("managedIdentity")) {
    if (!config.azure.credentials.empty())
      report("azure.managedIdentity", "set either credentials or managedIdentity");
    else
      config.azure.credentials.push_back({"default", "", ManagedIdentityCredential{str(azure["managedIdentity"], "clientId")}});
  }
  const Json controller = in.value("controller", Json::object());
  auto& cc = config.controller;
  cc.workers = controller.value("workers", cc.workers);
  cc.resyncPeriod = duration(controller.value("resyncPeriod", Json()), cc.resyncPeriod);
  const Json rate = controller.value("armRateLimit", Json::object());
  cc.armReadsPerSecond = rate.value("readsPerSecond", cc.armReadsPerSecond);
  cc.armWritesPerSecond = rate.value("writesPerSecond", cc.armWritesPerSecond);
  cc.armMaxInFlight = rate.value("maxInFlight", cc.armMaxInFlight);
  cc.maxDeletionsPerPass = controller.value("maxDeletionsPerPass", cc.maxDeletionsPerPass);
  cc.stateFile = str(controller, "stateFile", cc.stateFile);
  const Json watch = controller.value("watch", Json::object());
  const std::string mode = str(watch, "mode", "auto");
  cc.watch.mode = mode == "inotify" ? WatchMode::Inotify : mode == "poll" ? WatchMode::Poll : WatchMode::Auto;
  cc.watch.debounce = duration(watch.value("debounce", Json()), cc.watch.debounce);
  cc.watch.pollInterval = duration(watch.value("pollInterval", Json()), cc.watch.pollInterval);
  if (cc.watch.pollInterval.count() < 10) report("controller.watch.pollInterval", "must be at least 10ms");
  buildSource(in.value("source", Json::object()), config.source, report);
  const Json server = in.value("server", Json::object());
  config.server.metrics = str(server, "metrics", config.server.metrics);
  config.server.health = str(server, "health", config.server.health);
  config.server.status = str(server, "status", config.server.status);
  const Json logging = in.value("logging", Json::object());
  config.logging.format = str(logging, "format", config.logging.format);
  config.logging.level = str(logging, "level", config.logging.level);
}

// Rules that need the environment applied first.
void checkCredentials(const OperatorConfig& config, const std::string& fileName, std::vector<ManifestError>& errors) {
  auto report = [&](std::string path, std::string message) {
    errors.push_back({{fileName, 1, 1}, "", std::move(path), std::move(message)});
  };
  for (std::size_t i = 0; i < config.azure.credentials.size(); ++i) {
    const auto& c = config.azure.credentials[i];
    const std::string path = "azure.credentials[" + std::to_string(i) + "]";
    if (c.tenantId.empty() && !std::holds_alternative<ManagedIdentityCredential>(c.method))
      report(path + ".tenantId", i == 0 ? "is required (or set AZURE_TENANT_ID)" : "is required");
    if (auto* wi = std::get_if<WorkloadIdentityCredential>(&c.method)) {
      if (wi->clientId.empty()) report(path + ".workloadIdentity.clientId", "is required (or set AZURE_CLIENT_ID)");
      if (wi->tokenFile.empty()) report(path + ".workloadIdentity.tokenFile", "is required (or set AZURE_FEDERATED_TOKEN_FILE)");
    }
  }
  if (!config.azure.defaultTenant.empty() && !config.azure.credentials.empty() && !config.azure.credential(config.azure.defaultTenant))
    report("azure.defaults.tenant", "names no credential ('" + config.azure.defaultTenant + "')");
}

}  // namespace

std::string_view cloudName(Cloud cloud) {
  for (const auto& [c, name] : kClouds)
    if (c == cloud) return name;
  return "Unknown";
}

CloudEndpoints endpointsFor(Cloud cloud) {
  switch (cloud) {
    case Cloud::AzurePublic:
      return {"https://management.azure.com", "https://login.microsoftonline.com/", "https://graph.microsoft.com",
              "vault.azure.net", "managedhsm.azure.net"};
    case Cloud::AzureUSGovernment:
      return {"https://management.usgovcloudapi.net", "https://login.microsoftonline.us/", "https://graph.microsoft.us",
              "vault.usgovcloudapi.net", "managedhsm.usgovcloudapi.net"};
    case Cloud::AzureChina:
      return {"https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn/",
              "https://microsoftgraph.chinacloudapi.cn", "vault.azure.cn", "managedhsm.azure.cn"};
    case Cloud::Custom: return {"", "", "", "vault.azure.net", "managedhsm.azure.net"};
  }
  return {};
}

const Credential* AzureConfig::credential(std::string_view name) const {
  for (const auto& c : credentials)
    if (c.name == name) return &c;
  return nullptr;
}

ManifestDefaults OperatorConfig::manifestDefaults(bool requireAzureCoordinates) const {
  return {azure.defaultTenant, azure.defaultSubscriptionId, azure.defaultResourceGroup, azure.defaultLocation,
          requireAzureCoordinates};
}

Environment processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value || !*value) return std::nullopt;
    return std::string(value);
  };
}

const FieldSpec& configSchema() {
  static const FieldSpec schema = buildConfigSchema();
  return schema;
}

OperatorConfig defaultConfig(const Environment& environment) {
  OperatorConfig config;
  applyEnvironment(config, environment, false);
  return config;
}

ConfigResult loadConfigText(std::string_view text, const std::string& fileName, const Environment& environment) {
  std::vector<ManifestError> errors;
  if (auto problem = checkHostileText(text, fileName, {})) return std::unexpected(std::vector{*problem});
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return std::unexpected(std::vector<ManifestError>{
        {{fileName, e.mark.line + 1, e.mark.column + 1}, "", "", "YAML syntax error: " + e.msg}});
  }
  std::map<std::string, SourceLocation> locations;
  WalkContext context{.file = fileName, .errors = &errors, .locations = &locations};
  Json checked = root.IsNull() ? Json::object() : checkNode(root, configSchema(), "", context);
  if (context.budgetExceeded) errors.push_back({{fileName, 1, 1}, "", "", "configuration expands to too many nodes"});
  OperatorConfig config;
  if (!errors.empty()) return std::unexpected(errors);
  buildConfig(checked, config, locations, fileName, errors);
  applyEnvironment(config, environment, checked.contains("azure") && checked["azure"].contains("endpoints") &&
                                            checked["azure"]["endpoints"].contains("authority"));
  if (errors.empty()) checkCredentials(config, fileName, errors);
  if (!errors.empty()) return std::unexpected(errors);
  return config;
}

namespace {

std::string absolute(const std::string& path) {
  std::error_code ec;
  const auto abs = std::filesystem::absolute(path, ec);
  auto normal = (ec ? std::filesystem::path(path) : abs).lexically_normal();
  return (normal.has_filename() ? normal : normal.parent_path()).string();  // "dir/" is "dir"
}

/// FNV-1a, 64 bits: stable across builds and runs (std::hash is not promised to be).
std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

std::filesystem::path defaultStateFile(const std::string& configPath, std::vector<std::string> manifestPaths) {
  for (auto& p : manifestPaths) p = absolute(p);
  std::sort(manifestPaths.begin(), manifestPaths.end());
  std::string identity = configPath.empty() ? "" : absolute(configPath);
  for (const auto& p : manifestPaths) identity += '\n' + p;
  const std::string stem = configPath.empty() ? "default" : std::filesystem::path(configPath).stem().string();
  std::error_code ec;
  auto tmp = std::filesystem::temp_directory_path(ec);
  if (ec) tmp = "/tmp";
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(identity)));
  return tmp / "anf-cmk-operator" / (stem + "-" + hash) / "state.db";
}

ConfigResult loadConfigFile(const std::string& path, const Environment& environment) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(std::vector<ManifestError>{{{path, 0, 0}, "", "", "cannot read the configuration file"}});
  std::ostringstream text;
  text << in.rdbuf();
  return loadConfigText(text.str(), path, environment);
}

}  // namespace anf::controller
