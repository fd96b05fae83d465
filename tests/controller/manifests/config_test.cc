#include <gtest/gtest.h>

#include "controller/config.h"

namespace anf::controller {
namespace {

Environment environment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

const Environment kEmpty = environment({});

std::vector<std::string> errorsOf(const std::string& text, const Environment& env = kEmpty) {
  auto config = loadConfigText(text, "operator.yaml", env);
  std::vector<std::string> out;
  if (!config)
    for (const auto& e : config.error()) out.push_back(e.str());
  return out;
}

TEST(OperatorConfig, DefaultsWithoutAFile) {
  OperatorConfig config = defaultConfig(kEmpty);
  EXPECT_EQ(config.azure.cloud, Cloud::AzurePublic);
  EXPECT_EQ(config.azure.endpoints.resourceManager, "https://management.azure.com");
  EXPECT_EQ(config.azure.endpoints.authority, "https://login.microsoftonline.com/");
  EXPECT_TRUE(config.azure.credentials.empty());
  EXPECT_EQ(config.controller.workers, 8);
  EXPECT_EQ(config.controller.resyncPeriod, std::chrono::minutes(10));
  EXPECT_EQ(config.controller.armReadsPerSecond, 25);
  EXPECT_EQ(config.controller.armWritesPerSecond, 10);
  EXPECT_EQ(config.controller.armMaxInFlight, 16);
  EXPECT_EQ(config.controller.maxDeletionsPerPass, 5);
  EXPECT_EQ(config.controller.stateFile, "") << "unset: defaultStateFile() of the installation";
  EXPECT_EQ(config.controller.watch.mode, WatchMode::Auto);
  EXPECT_EQ(config.controller.watch.debounce, std::chrono::milliseconds(200));
  EXPECT_EQ(config.server.metrics, ":8080");
  EXPECT_EQ(config.server.health, ":8081");
  EXPECT_EQ(config.server.status, "127.0.0.1:8082");
  EXPECT_EQ(config.logging.format, "json");
  EXPECT_EQ(config.logging.level, "info");
}

TEST(OperatorConfig, TheExampleOfTheSpecLoads) {
  const std::string text = R"(
azure:
  cloud: AzureUSGovernment
  caFile: /path/ca.pem
  defaults: {tenant: provider, subscriptionId: 10000000-0000-4000-8000-0000000000a1, resourceGroup: anf-rg, location: eastus}
  credentials:
    - name: provider
      tenantId: 10000000-0000-4000-8000-000000000001
      workloadIdentity: {clientId: 10000000-0000-4000-8000-00000000c001, tokenFile: /var/run/secrets/azure/tokens/azure-identity-token}
    - name: customer
      tenantId: 20000000-0000-4000-8000-000000000002
      clientSecret: {clientId: 20000000-0000-4000-8000-00000000c002, secretFile: /secrets/customer}
controller:
  workers: 4
  resyncPeriod: 1h30m
  armRateLimit: {readsPerSecond: 10, writesPerSecond: 2, maxInFlight: 4}
  maxDeletionsPerPass: 3
  stateFile: /var/lib/anf/state.json
  watch: {mode: poll, debounce: 50ms, pollInterval: 5s}
server: {metrics: ":9090", health: ":9091", status: "0.0.0.0:9092"}
logging: {format: text, level: debug}
)";
  auto config = loadConfigText(text, "operator.yaml", kEmpty);
  ASSERT_TRUE(config.has_value()) << config.error().front().str();
  EXPECT_EQ(config->azure.cloud, Cloud::AzureUSGovernment);
  EXPECT_EQ(config->azure.endpoints.resourceManager, "https://management.usgovcloudapi.net");
  EXPECT_EQ(config->azure.endpoints.keyVaultSuffix, "vault.usgovcloudapi.net");
  EXPECT_EQ(config->azure.caFile, "/path/ca.pem");
  ASSERT_EQ(config->azure.credentials.size(), 2u);
  const auto& provider = config->azure.credentials[0];
  EXPECT_EQ(provider.name, "provider");
  ASSERT_TRUE(std::holds_alternative<WorkloadIdentityCredential>(provider.method));
  EXPECT_EQ(std::get<WorkloadIdentityCredential>(provider.method).tokenFile, "/var/run/secrets/azure/tokens/azure-identity-token");
  const auto* customer = config->azure.credential("customer");
  ASSERT_NE(customer, nullptr);
  EXPECT_EQ(std::get<ClientSecretCredential>(customer->method).secretFile, "/secrets/customer");
  auto defaults = config->manifestDefaults();
  EXPECT_EQ(defaults.tenant, "provider");
  EXPECT_EQ(defaults.subscriptionId, "10000000-0000-4000-8000-0000000000a1");
  EXPECT_EQ(defaults.resourceGroup, "anf-rg");
  EXPECT_EQ(defaults.location, "eastus");
  EXPECT_TRUE(defaults.requireAzureCoordinates);
  EXPECT_EQ(config->controller.workers, 4);
  EXPECT_EQ(config->controller.resyncPeriod, std::chrono::minutes(90));
  EXPECT_EQ(config->controller.armReadsPerSecond, 10);
  EXPECT_EQ(config->controller.armWritesPerSecond, 2);
  EXPECT_EQ(config->controller.armMaxInFlight, 4);
  EXPECT_EQ(config->controller.maxDeletionsPerPass, 3);
  EXPECT_EQ(config->controller.stateFile, "/var/lib/anf/state.json");
  EXPECT_EQ(config->controller.watch.mode, WatchMode::Poll);
  EXPECT_EQ(config->controller.watch.debounce, std::chrono::milliseconds(50));
  EXPECT_EQ(config->controller.watch.pollInterval, std::chrono::seconds(5));
  EXPECT_EQ(config->server.status, "0.0.0.0:9092");
  EXPECT_EQ(config->logging.level, "debug");
}

TEST(OperatorConfig, TheEmulatorExampleLoads) {
  auto config = loadConfigFile(std::string(ANF_SOURCE_DIR) + "/manifests/examples/operator.yaml", kEmpty);
  ASSERT_TRUE(config.has_value()) << config.error().front().str();
  EXPECT_EQ(config->azure.cloud, Cloud::Custom);
  EXPECT_EQ(config->azure.endpoints.resourceManager, "https://127.0.0.1:8443");
  EXPECT_EQ(config->azure.endpoints.keyVaultSuffix, "vault.azure.net");
  EXPECT_EQ(std::get<ClientSecretCredential>(config->azure.credentials[1].method).secretEnv, "ANF_CUSTOMER_SECRET");
}

TEST(OperatorConfig, WorkloadIdentityEnvironmentConfiguresTheDefaultCredential) {
  auto env = environment({{"AZURE_CLIENT_ID", "10000000-0000-4000-8000-00000000c001"},
                          {"AZURE_TENANT_ID", "10000000-0000-4000-8000-000000000001"},
                          {"AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"},
                          {"AZURE_AUTHORITY_HOST", "https://login.example"}});
  OperatorConfig config = defaultConfig(env);
  ASSERT_EQ(config.azure.credentials.size(), 1u);
  EXPECT_EQ(config.azure.credentials[0].name, "default");
  EXPECT_EQ(config.azure.credentials[0].tenantId, "10000000-0000-4000-8000-000000000001");
  EXPECT_EQ(std::get<WorkloadIdentityCredential>(config.azure.credentials[0].method).tokenFile, "/var/run/token");
  EXPECT_EQ(config.azure.endpoints.authority, "https://login.example/");
  EXPECT_EQ(config.azure.defaultTenant, "default");
  // A file naming the tenant but not the identity gets the rest from the environment.
  auto partial = loadConfigText("azure:\n  credentials:\n    - name: provider\n", "operator.yaml", env);
  ASSERT_TRUE(partial.has_value()) << partial.error().front().str();
  EXPECT_EQ(partial->azure.credentials[0].name, "provider");
  EXPECT_EQ(std::get<WorkloadIdentityCredential>(partial->azure.credentials[0].method).clientId, "10000000-0000-4000-8000-00000000c001");
  EXPECT_EQ(partial->azure.defaultTenant, "provider");
  // Without the environment the same file is incomplete.
  EXPECT_EQ(errorsOf("azure:\n  credentials:\n    - name: provider\n"),
            (std::vector<std::string>{
                "operator.yaml:1:1: azure.credentials[0].tenantId: is required (or set AZURE_TENANT_ID)",
                "operator.yaml:1:1: azure.credentials[0].workloadIdentity.clientId: is required (or set AZURE_CLIENT_ID)",
                "operator.yaml:1:1: azure.credentials[0].workloadIdentity.tokenFile: is required (or set AZURE_FEDERATED_TOKEN_FILE)"}));
}

struct BadConfig {
  std::string name;
  std::string text;
  std::vector<std::string> errors;
};
void PrintTo(const BadConfig& c, std::ostream* os) { *os << c.name; }

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, ReportsEveryError) { EXPECT_EQ(errorsOf(GetParam().text), GetParam().errors); }

INSTANTIATE_TEST_SUITE_P(
    Config, BadConfigTest,
    ::testing::Values(
        BadConfig{"UnknownField", "controller:\n  worker: 3\n", {"operator.yaml:2:3: controller.worker: unknown field (did you mean 'workers'?)"}},
        BadConfig{"UnknownCloud", "azure:\n  cloud: AzureGermany\n",
                  {"operator.yaml:2:10: azure.cloud: 'AzureGermany' is not one of AzurePublic, AzureUSGovernment, AzureChina, Custom"}},
        BadConfig{"CustomNeedsEndpoints", "azure:\n  cloud: Custom\n  endpoints: {resourceManager: https://127.0.0.1:8443}\n",
                  {"operator.yaml:3:14: azure.endpoints.authority: is required when cloud is Custom",
                   "operator.yaml:3:14: azure.endpoints.graph: is required when cloud is Custom"}},
        BadConfig{"BadDuration", "controller:\n  resyncPeriod: ten minutes\n",
                  {"operator.yaml:2:17: controller.resyncPeriod: 'ten minutes' is not a duration (like 200ms, 30s, 10m, 1h30m)"}},
        BadConfig{"InlineSecretRefused",
                  "azure:\n  credentials:\n    - name: provider\n      tenantId: 10000000-0000-4000-8000-000000000001\n"
                  "      clientSecret: {clientId: 10000000-0000-4000-8000-00000000c001, secret: hunter2}\n",
                  {"operator.yaml:5:70: azure.credentials[0].clientSecret.secret: unknown field; secrets are never inline: use secretFile or secretEnv"}},
        BadConfig{"SecretFromNowhere",
                  "azure:\n  credentials:\n    - name: provider\n      tenantId: 10000000-0000-4000-8000-000000000001\n"
                  "      clientSecret: {clientId: 10000000-0000-4000-8000-00000000c001}\n",
                  {"operator.yaml:5:21: azure.credentials[0].clientSecret: set exactly one of secretFile or secretEnv (secrets are never inline)"}},
        BadConfig{"DefaultTenantUnknown",
                  "azure:\n  defaults: {tenant: nobody}\n  credentials:\n    - name: provider\n      tenantId: 10000000-0000-4000-8000-000000000001\n"
                  "      managedIdentity: {}\n",
                  {"operator.yaml:1:1: azure.defaults.tenant: names no credential ('nobody')"}},
        BadConfig{"WrongTypes", "controller:\n  workers: many\nserver: [1]\nlogging: {level: verbose}\n",
                  {"operator.yaml:2:12: controller.workers: expected an integer, got 'many'",
                   "operator.yaml:3:9: server: expected a mapping, got a list",
                   "operator.yaml:4:18: logging.level: 'verbose' is not one of trace, debug, info, warn, error"}},
        BadConfig{"YamlSyntax", "azure: {cloud: [\n", {"operator.yaml:2:1: YAML syntax error: end of sequence flow not found"}}),
    [](const auto& info) { return info.param.name; });

TEST(Durations, ParseLikeGo) {
  EXPECT_EQ(parseDurationMillis("200ms"), 200);
  EXPECT_EQ(parseDurationMillis("10m"), 600000);
  EXPECT_EQ(parseDurationMillis("1h30m"), 5400000);
  EXPECT_EQ(parseDurationMillis("45"), 45000);
  EXPECT_EQ(parseDurationMillis("10x"), std::nullopt);
  EXPECT_EQ(parseDurationMillis(""), std::nullopt);
  EXPECT_EQ(parseDurationMillis("99999999999999999999h"), std::nullopt);
}

}  // namespace
}  // namespace anf::controller
