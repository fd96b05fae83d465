// The strict fake refuses what the real client refuses, and its store answers like Azure.
#include "tests/reconcilers/fake_azure_client.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

namespace anf::reconcilers::testing {
namespace {

const std::string kVault =
    "/subscriptions/20000000-0000-4000-8000-0000000000b1/resourceGroups/kv-rg/providers/Microsoft.KeyVault/vaults/kv";

TEST(FakeAzureClient, AnUnconfiguredMethodFailsTheTest) {
  FakeAzureClient client;
  Expected<ArmResult> result;
  EXPECT_NONFATAL_FAILURE(result = client.get("provider", *ResourceId::parse(kVault)).get(), "unexpected GET");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "FakeNotConfigured");
}

TEST(FakeAzureClient, AnUnknownCredentialIsRefusedLikeTheRealClient) {
  FakeAzureClient client;
  FakeAzureStore store;
  store.serve(client);
  auto result = client.get("nobody", *ResourceId::parse(kVault)).get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "UnknownCredential");
}

TEST(FakeAzureClient, AnEmptyGraphObjectIdIsABadRequest) {
  FakeAzureClient client;
  FakeAzureStore store;
  store.serve(client);
  auto result = client.deleteApplication("provider", "").get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().httpStatus, 400);
}

TEST(FakeAzureClient, AnEmptyActionOrChildTypeIsABadRequest) {
  FakeAzureClient client;
  FakeAzureStore store;
  store.serve(client);
  const auto vault = *ResourceId::parse(kVault);
  EXPECT_EQ(client.list("provider", vault, "").get().error().code, "InvalidRequestUri");
  client.postFn = [](const std::string&, const ResourceId&, std::string_view, const Json&,
                     const RequestOptions&) -> Expected<ArmResult> { return armOk(nullptr); };
  EXPECT_EQ(client.post("provider", vault, "").get().error().code, "InvalidRequestUri");
  EXPECT_TRUE(client.post("provider", vault, "regenerate").get());
}

TEST(FakeAzureStore, AnAccessPolicyAddIsMergedIntoTheVault) {
  FakeAzureClient client;
  FakeAzureStore store;
  store.serve(client);
  const auto vault = *ResourceId::parse(kVault);
  EXPECT_TRUE(client.put("provider", vault.child("accessPolicies", "add"), {{"properties", {{"accessPolicies", {{{"objectId", "p"}}}}}}})
                  .get()
                  .error()
                  .isNotFound());
  store.putArm(kVault, {{"properties", {{"accessPolicies", Json::array()}}}});
  ASSERT_TRUE(client.put("provider", vault.child("accessPolicies", "add"), {{"properties", {{"accessPolicies", {{{"objectId", "p"}}}}}}}).get());
  EXPECT_EQ(store.findArm(kVault)->at("properties").at("accessPolicies").size(), 1u);
}

TEST(FakeAzureStore, AnswersLikeArm) {
  FakeAzureClient client;
  FakeAzureStore store;
  store.serve(client);
  const auto vault = *ResourceId::parse(kVault);
  EXPECT_TRUE(client.get("provider", vault).get().error().isNotFound());
  EXPECT_TRUE(client.patch("provider", vault, {{"a", 1}}).get().error().isNotFound());
  ASSERT_TRUE(client.put("provider", vault, {{"properties", {{"enableRbacAuthorization", false}}}}).get());
  ASSERT_TRUE(client.put("provider", vault.child("privateEndpointConnections", "c1"), Json::object()).get());
  auto listed = client.list("provider", vault, "privateEndpointConnections").get();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].value("name", ""), "c1");
  EXPECT_TRUE(client.remove("provider", vault).get());
  EXPECT_TRUE(client.remove("provider", vault).get().error().isNotFound());
}

TEST(FakeAzureStore, AnswersLikeGraph) {
  FakeAzureClient client;
  FakeAzureStore store;
  store.serve(client);
  auto app = client.createApplication("provider", "app").get();
  ASSERT_TRUE(app);
  const std::string objectId = app->value("id", "");
  ASSERT_TRUE(client.createFederatedIdentityCredential("provider", objectId, {{"name", "fic"}, {"subject", "a"}}).get());
  auto fics = client.listFederatedIdentityCredentials("provider", objectId).get();
  ASSERT_TRUE(fics);
  ASSERT_EQ(fics->size(), 1u);
  EXPECT_EQ(client.updateFederatedIdentityCredential("provider", objectId, (*fics)[0].value("id", ""), {{"name", "x"}})
                .get()
                .error()
                .httpStatus,
            400);
  EXPECT_TRUE(client.findApplicationByAppId("provider", app->value("appId", "")).get()->has_value());
  EXPECT_FALSE(client.findApplicationByAppId("customer", app->value("appId", "")).get()->has_value());
  ASSERT_TRUE(client.deleteApplication("provider", objectId).get());
  EXPECT_TRUE(client.deleteApplication("provider", objectId).get().error().isNotFound());
}

}  // namespace
}  // namespace anf::reconcilers::testing
