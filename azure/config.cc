#include "azure/config.h"

#include <array>
#include <cstdlib>

#include "azure/resource_id.h"

namespace anf::azure {
namespace {

constexpr std::array<std::pair<Cloud, std::string_view>, 4> kClouds{{
    {Cloud::AzurePublic, "AzurePublic"},
    {Cloud::AzureUSGovernment, "AzureUSGovernment"},
    {Cloud::AzureChina, "AzureChina"},
    {Cloud::Custom, "Custom"},
}};

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string withoutTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

std::string_view cloudName(Cloud cloud) {
  for (const auto& [value, name] : kClouds)
    if (value == cloud) return name;
  return "";
}

std::optional<Cloud> parseCloud(std::string_view name) {
  for (const auto& [value, text] : kClouds)
    if (equalsIgnoreCase(text, name)) return value;
  return std::nullopt;
}

std::string_view credentialKindName(CredentialKind kind) {
  switch (kind) {
    case CredentialKind::ClientSecret: return "clientSecret";
    case CredentialKind::WorkloadIdentity: return "workloadIdentity";
    case CredentialKind::ManagedIdentity: return "managedIdentity";
  }
  return "";
}

std::expected<Endpoints, std::string> resolveEndpoints(Cloud cloud, const Endpoints& custom) {
  switch (cloud) {
    case Cloud::AzurePublic:
      return Endpoints{"https://management.azure.com", "https://login.microsoftonline.com/",
                       "https://graph.microsoft.com", "https://management.azure.com", "https://graph.microsoft.com"};
    case Cloud::AzureUSGovernment:
      return Endpoints{"https://management.usgovcloudapi.net", "https://login.microsoftonline.us/",
                       "https://graph.microsoft.us", "https://management.usgovcloudapi.net",
                       "https://graph.microsoft.us"};
    case Cloud::AzureChina:
      return Endpoints{"https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn/",
                       "https://microsoftgraph.chinacloudapi.cn", "https://management.chinacloudapi.cn",
                       "https://microsoftgraph.chinacloudapi.cn"};
    case Cloud::Custom: break;
  }
  for (auto [field, name] : {std::pair{&custom.resourceManager, "resourceManager"},
                             std::pair{&custom.authority, "authority"}, std::pair{&custom.graph, "graph"}}) {
    if (field->empty()) return std::unexpected(std::string("azure.endpoints.") + name + " is required for cloud Custom");
  }
  Endpoints out;
  out.resourceManager = withoutTrailingSlash(custom.resourceManager);
  out.authority = withoutTrailingSlash(custom.authority) + "/";
  out.graph = withoutTrailingSlash(custom.graph);
  out.resourceManagerAudience =
      custom.resourceManagerAudience.empty() ? "https://management.azure.com" : custom.resourceManagerAudience;
  out.graphAudience = custom.graphAudience.empty() ? "https://graph.microsoft.com" : custom.graphAudience;
  return out;
}

std::optional<CredentialConfig> workloadIdentityFromEnvironment(std::string name) {
  CredentialConfig c;
  c.name = std::move(name);
  c.kind = CredentialKind::WorkloadIdentity;
  c.clientId = env("AZURE_CLIENT_ID");
  c.tenantId = env("AZURE_TENANT_ID");
  c.tokenFile = env("AZURE_FEDERATED_TOKEN_FILE");
  c.authorityHost = env("AZURE_AUTHORITY_HOST");
  if (c.clientId.empty() || c.tenantId.empty() || c.tokenFile.empty()) return std::nullopt;
  return c;
}

void applyManagedIdentityEnvironment(CredentialConfig& credential) {
  if (!credential.identityEndpoint.empty() || !credential.identityHeader.empty()) return;
  auto endpoint = env("IDENTITY_ENDPOINT");
  auto header = env("IDENTITY_HEADER");
  if (endpoint.empty() || header.empty()) return;
  credential.identityEndpoint = endpoint;
  credential.identityHeader = header;
}

}  // namespace anf::azure
