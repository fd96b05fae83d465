// What the Azure CLI (Debian 12's azure-cli 2.45, tests/cli-az) needs from the emulator, over real HTTPS:
//  - the managed identity endpoint that MSI_ENDPOINT names (Cloud Shell, and the retired VM managed identity
//    extension): `az login --identity` POSTs `resource=...` as a form with `Metadata: true` and no api-version;
//  - Microsoft.KeyVault api-version 2022-07-01, the CLI's default for `az keyvault show` / `set-policy`.
#include <utility>  // before Boost.Asio (via cpprest) under C++23

#include <cpprest/http_client.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "tests/azure/emulator_process.h"

namespace anf::testing {
namespace {

using nlohmann::json;

constexpr const char* kProviderTenant = "10000000-0000-4000-8000-000000000001";
constexpr const char* kProviderSubscription = "10000000-0000-4000-8000-0000000000a1";
constexpr const char* kCliArmResource = "https://management.core.windows.net/";
constexpr const char* kVault =
    "/subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/providers/Microsoft.KeyVault/vaults/anfkv-provider";

struct Reply {
  int status = 0;
  json body;
};

Reply send(const std::string& caFile, const std::string& method, const std::string& url, const std::map<std::string, std::string>& headers = {},
           const std::string& body = "", const std::string& contentType = "application/json") {
  web::http::client::http_client_config config;
  config.set_timeout(std::chrono::seconds(10));
  config.set_ssl_context_callback([caFile](boost::asio::ssl::context& context) { context.load_verify_file(caFile); });
  web::uri uri(url);
  web::http::client::http_client client(uri.scheme() + "://" + uri.host() + ":" + std::to_string(uri.port()), config);
  web::http::http_request request(method);
  request.set_request_uri(uri.resource().to_string());
  for (const auto& [name, value] : headers) request.headers().add(name, value);
  if (!body.empty()) request.set_body(body, contentType);
  auto response = client.request(request).get();
  auto text = response.extract_utf8string(true).get();
  return {response.status_code(), text.empty() ? json() : json::parse(text, nullptr, false)};
}

json jwtClaims(const std::string& token) {
  auto first = token.find('.'), second = token.find('.', first + 1);
  if (first == std::string::npos || second == std::string::npos) return json();
  std::string payload = token.substr(first + 1, second - first - 1);
  std::ranges::replace(payload, '-', '+');
  std::ranges::replace(payload, '_', '/');
  while (payload.size() % 4 != 0) payload += '=';
  auto decoded = utility::conversions::from_base64(payload);
  return json::parse(std::string(decoded.begin(), decoded.end()), nullptr, false);
}

std::string formEncode(const std::string& text) { return web::uri::encode_data_string(text); }

class CliFidelity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = EmulatorProcess::start({.extraArgs = {"--lro-seconds", "1"}});
    ASSERT_TRUE(started) << started.error();
    emulator_ = started->release();
  }
  static void TearDownTestSuite() {
    delete emulator_;
    emulator_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(emulator_, nullptr); }

  /// POST {base}/oauth2/token as msrestazure's get_msi_token does for `az login --identity` with MSI_ENDPOINT set.
  Reply msiToken(const std::string& form, bool metadataHeader = true, const std::string& method = "POST") const {
    std::map<std::string, std::string> headers;
    if (metadataHeader) headers["Metadata"] = "true";
    return send(emulator_->caFile(), method, emulator_->resourceManager() + "/oauth2/token", headers, form,
                "application/x-www-form-urlencoded");
  }
  Reply arm(const std::string& method, const std::string& pathAndQuery, const std::string& token, const json& body = nullptr) const {
    return send(emulator_->caFile(), method, emulator_->resourceManager() + pathAndQuery, {{"Authorization", "Bearer " + token}},
                body.is_null() ? "" : body.dump());
  }
  std::string adminToken() const {
    auto reply = msiToken("resource=" + formEncode(kCliArmResource));
    EXPECT_EQ(reply.status, 200) << reply.body.dump();
    return reply.body.is_object() ? reply.body.value("access_token", "") : "";
  }

  static EmulatorProcess* emulator_;
};
EmulatorProcess* CliFidelity::emulator_ = nullptr;

TEST_F(CliFidelity, MsiEndpointPostIssuesTheDefaultIdentitysTokenWithImdsFields) {
  auto reply = msiToken("resource=" + formEncode(kCliArmResource));
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(reply.body.value("token_type", ""), "Bearer");
  EXPECT_EQ(reply.body.value("resource", ""), kCliArmResource);
  ASSERT_TRUE(reply.body["expires_on"].is_string()) << "msrestazure and the CLI take int(expires_on): " << reply.body.dump();
  EXPECT_GT(std::stoll(reply.body["expires_on"].get<std::string>()), 0);
  auto claims = jwtClaims(reply.body.value("access_token", ""));
  EXPECT_EQ(claims.value("tid", ""), kProviderTenant) << claims.dump();
  EXPECT_EQ(claims.value("oid", ""), emulator_->tenant("provider").principal("admin").objectId) << claims.dump();
  EXPECT_EQ(claims.value("aud", ""), kCliArmResource) << claims.dump();

  // The token is good for ARM: the CLI lists the tenant's subscriptions right after the login.
  auto subscriptions = arm("GET", "/subscriptions?api-version=2019-11-01", reply.body.value("access_token", ""));
  ASSERT_EQ(subscriptions.status, 200) << subscriptions.body.dump();
  ASSERT_EQ(subscriptions.body["value"].size(), 1u) << subscriptions.body.dump();
  EXPECT_EQ(subscriptions.body["value"][0].value("subscriptionId", ""), kProviderSubscription);
}

TEST_F(CliFidelity, MsiEndpointWantsMetadataHeaderPostAndResource) {
  auto noHeader = msiToken("resource=" + formEncode(kCliArmResource), false);
  EXPECT_EQ(noHeader.status, 400) << noHeader.body.dump();
  EXPECT_EQ(noHeader.body.value("error", ""), "invalid_request");

  auto noResource = msiToken("");
  EXPECT_EQ(noResource.status, 400) << noResource.body.dump();
  EXPECT_EQ(noResource.body.value("error", ""), "invalid_request");

  auto get = msiToken("", true, "GET");
  EXPECT_EQ(get.status, 405) << get.body.dump();
}

TEST_F(CliFidelity, MsiEndpointClientIdSelectsAUserAssignedIdentity) {
  std::string identity = "/subscriptions/" + std::string(kProviderSubscription) +
                         "/resourceGroups/anf-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/cli-msi";
  auto created = arm("PUT", identity + "?api-version=2024-11-30", adminToken(), {{"location", "eastus"}});
  ASSERT_TRUE(created.status == 200 || created.status == 201) << created.body.dump();
  std::string clientId = created.body["properties"].value("clientId", "");

  auto reply = msiToken("resource=" + formEncode(kCliArmResource) + "&client_id=" + clientId);
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(jwtClaims(reply.body.value("access_token", "")).value("oid", ""), created.body["properties"].value("principalId", ""));

  auto unknown = msiToken("resource=" + formEncode(kCliArmResource) + "&client_id=00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(unknown.status, 400) << unknown.body.dump();
}

TEST_F(CliFidelity, KeyVaultServesTheCliApiVersion20220701) {
  std::string token = adminToken();
  auto vault = arm("GET", std::string(kVault) + "?api-version=2022-07-01", token);
  ASSERT_EQ(vault.status, 200) << vault.body.dump();
  EXPECT_EQ(vault.body["properties"].value("vaultUri", ""), "https://anfkv-provider.vault.azure.net/");

  json policy{{"properties",
               {{"accessPolicies",
                 {{{"tenantId", kProviderTenant},
                   {"objectId", "30000000-0000-4000-8000-0000000000e1"},
                   {"permissions", {{"keys", {"get", "encrypt", "decrypt"}}}}}}}}}};
  auto added = arm("PUT", std::string(kVault) + "/accessPolicies/add?api-version=2022-07-01", token, policy);
  EXPECT_EQ(added.status, 200) << added.body.dump();

  // Versions Azure does not have are still refused.
  auto unknown = arm("GET", std::string(kVault) + "?api-version=2022-07-02", token);
  EXPECT_EQ(unknown.status, 400) << unknown.body.dump();
  EXPECT_EQ(unknown.body["error"].value("code", ""), "InvalidApiVersionParameter");
}

}  // namespace
}  // namespace anf::testing
