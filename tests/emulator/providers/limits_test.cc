// Azure NetApp Files resource limits (emulator/providers/netapp_limits.h): each refusal with its code and words,
// and a subscription whose limits a support request raised (world.subscriptionLimits, from the world file).
#include <gtest/gtest.h>

#include "emulator/providers/netapp_limits.h"
#include "tests/emulator/providers/fake_azure.h"

namespace anf::emulator::testing {
namespace {

constexpr std::int64_t kGiB = netapplimits::kGiB;
constexpr std::int64_t kTiB = netapplimits::kTiB;
constexpr const char* kLearnMore =
    " To learn more about Azure NetApp Files capacity constraints, see Resource limits for Azure NetApp Files "
    "https://docs.microsoft.com/azure/azure-netapp-files/azure-netapp-files-resource-limits";

std::string pool(const std::string& accountName, const std::string& name) { return account(accountName) + "/capacityPools/" + name; }

Response putAccount(FakeAzure& azure, const std::string& name, const std::string& location = "eastus") {
  return azure.call("PUT", account(name), {{"location", location}, {"properties", Json::object()}});
}

Response putPool(FakeAzure& azure, const std::string& accountName, const std::string& name, std::int64_t size) {
  return azure.call("PUT", pool(accountName, name), {{"location", "eastus"}, {"properties", {{"size", size}, {"serviceLevel", "Premium"}}}});
}

Response putVolume(FakeAzure& azure, const std::string& poolId, const std::string& name, std::int64_t size, const Json& extra = Json::object(),
                   const std::string& subnetName = "anf-delegated") {
  Json properties{{"creationToken", name}, {"usageThreshold", size}, {"subnetId", subnet(subnetName)}};
  for (const auto& [key, value] : extra.items()) properties[key] = value;
  return azure.call("PUT", poolId + "/volumes/" + name, {{"location", "eastus"}, {"properties", properties}});
}

void expectError(const Response& response, int status, const std::string& code, const std::string& message) {
  EXPECT_EQ(response.status, status) << response.body.dump();
  EXPECT_EQ(response.body["error"]["code"], code);
  EXPECT_EQ(response.body["error"]["message"], message);
}

void raise(FakeAzure& azure, const Json& limits) {
  azure.world().subscriptionLimits[arm::lower(kProviderSub)]["Microsoft.NetApp"] = limits;
}

TEST(NetAppLimits, TheEleventhAccountInARegionIsRefused) {
  FakeAzure azure;
  for (int k = 0; k < 10; ++k) ASSERT_EQ(putAccount(azure, "acct" + std::to_string(k)).status, 201);
  expectError(putAccount(azure, "acct10"), 409, "AccountQuotaExceeded",
              std::string("Creating a new netAppAccount would exceed the limit of 10 NetApp accounts per region per subscription in "
                          "'eastus'. Current usage is 10.") + kLearnMore);
  EXPECT_EQ(putAccount(azure, "acct-west", "westus").status, 201) << "the limit is per region";
  azure.settle();
  EXPECT_EQ(azure.call("PUT", account("acct0"), {{"location", "eastus"}, {"tags", {{"a", "b"}}}}).status, 201) << "an update is no new account";
}

TEST(NetAppLimits, PoolsBeyondTheRegionalCapacityQuotaAreRefusedWithAzuresWords) {
  FakeAzure azure;
  azure.createAccount("acct");
  azure.createAccount("other");
  ASSERT_EQ(putPool(azure, "acct", "p16", 16 * kTiB).status, 201);
  ASSERT_EQ(putPool(azure, "other", "p8", 8 * kTiB).status, 201);
  azure.settle();
  expectError(putPool(azure, "acct", "p-more", 8 * kTiB), 409, "SizeQuotaExceeded",
              std::string("Creating a new capacityPool of size 8 TiB would exceed the regional quota of 25 TiB. Current usage is 24 TiB.") +
                  kLearnMore);
  EXPECT_EQ(putPool(azure, "acct", "p1", 1 * kTiB).status, 201) << "25 TiB is within the quota";
  azure.settle();
  Response grown = azure.call("PATCH", pool("other", "p8"), {{"properties", {{"size", 9 * kTiB}}}});
  EXPECT_EQ(grown.body["error"]["code"], "SizeQuotaExceeded") << "growing a pool counts too";
  EXPECT_EQ(azure.call("PATCH", pool("other", "p8"), {{"properties", {{"size", 4 * kTiB}}}}).status, 202) << "shrinking does not";
}

TEST(NetAppLimits, PoolSizesAreWholeTiBFromOneTo2048) {
  FakeAzure azure;
  azure.createAccount("acct");
  raise(azure, {{"regionalCapacityTiB", 5000}});
  std::string message = "The capacity pool size must be a multiple of 1 TiB (1099511627776 bytes), at least 1 TiB and at most 2048 TiB.";
  expectError(putPool(azure, "acct", "p", 512 * kGiB), 400, "InvalidPoolSize", message);
  expectError(putPool(azure, "acct", "p", kTiB + kTiB / 2), 400, "InvalidPoolSize", message);
  expectError(putPool(azure, "acct", "p", 2049 * kTiB), 400, "InvalidPoolSize", message);
  EXPECT_EQ(putPool(azure, "acct", "p", 2048 * kTiB).status, 201);
}

TEST(NetAppLimits, The26thPoolOfAnAccountIsRefused) {
  FakeAzure azure;
  azure.createAccount("acct");
  for (int k = 0; k < 25; ++k) ASSERT_EQ(putPool(azure, "acct", "p" + std::to_string(k), kTiB).status, 201);
  azure.settle();
  expectError(putPool(azure, "acct", "p25", kTiB), 409, "PoolQuotaExceeded",
              std::string("Creating a new capacityPool would exceed the limit of 25 capacity pools per NetApp account. Current usage is 25.") +
                  kLearnMore);
}

TEST(NetAppLimits, VolumeSizesRegularAndLarge) {
  FakeAzure azure;
  azure.createAccount("acct");
  raise(azure, {{"regionalCapacityTiB", 1000}});
  ASSERT_EQ(putPool(azure, "acct", "big", 600 * kTiB).status, 201);
  azure.settle();
  std::string big = pool("acct", "big");
  expectError(putVolume(azure, big, "v50g", 50 * kGiB), 400, "InvalidValueReceived",
              "An invalid value '53687091200' was received for Volume.UsageThreshold. Must be between 107374182400 and 109951162777600 "
              "for a regular volume.");
  EXPECT_EQ(putVolume(azure, big, "v195t", 195 * kTiB).body["error"]["code"], "InvalidValueReceived") << "195 TiB is no regular volume";
  EXPECT_EQ(putVolume(azure, big, "large40t", 40 * kTiB, {{"isLargeVolume", true}}).body["error"]["message"],
            "An invalid value '43980465111040' was received for Volume.UsageThreshold. Must be between 54975581388800 and 549755813888000 "
            "for a large volume.");
  EXPECT_EQ(putVolume(azure, big, "large195t", 195 * kTiB, {{"isLargeVolume", true}}).status, 201);
  EXPECT_EQ(putVolume(azure, big, "v100g", 100 * kGiB).status, 201);
}

TEST(NetAppLimits, VolumesCannotOutgrowTheirPool) {
  FakeAzure azure;
  azure.createAccount("acct");
  ASSERT_EQ(putPool(azure, "acct", "p2", 2 * kTiB).status, 201);
  azure.settle();
  std::string p2 = pool("acct", "p2");
  expectError(putVolume(azure, p2, "v3t", 3 * kTiB), 400, "PoolSizeTooSmall", "Pool size too small for total volume size.");
  ASSERT_EQ(putVolume(azure, p2, "v1", 1536 * kGiB).status, 201);
  azure.settle();
  EXPECT_EQ(putVolume(azure, p2, "v2", 1 * kTiB).body["error"]["code"], "PoolSizeTooSmall") << "only 512 GiB are left";
  EXPECT_EQ(putVolume(azure, p2, "v2", 512 * kGiB).status, 201);
  azure.settle();
  EXPECT_EQ(azure.call("PATCH", p2 + "/volumes/v1", {{"properties", {{"usageThreshold", 1537 * kGiB}}}}).body["error"]["code"], "PoolSizeTooSmall");
  EXPECT_EQ(azure.call("PATCH", p2, {{"properties", {{"size", kTiB}}}}).body["error"]["code"], "PoolSizeTooSmall")
      << "a pool cannot shrink below its volumes";
}

TEST(NetAppLimits, VolumeCountsPerPoolAndPerSubscription) {
  FakeAzure azure;
  azure.createAccount("acct");
  raise(azure, {{"volumesPerPool", 2}, {"volumesPerSubscription", 3}});
  ASSERT_EQ(putPool(azure, "acct", "a", 4 * kTiB).status, 201);
  ASSERT_EQ(putPool(azure, "acct", "b", 4 * kTiB).status, 201);
  azure.settle();
  for (const char* name : {"a1", "a2"}) ASSERT_EQ(putVolume(azure, pool("acct", "a"), name, 100 * kGiB).status, 201);
  expectError(putVolume(azure, pool("acct", "a"), "a3", 100 * kGiB), 409, "VolumeQuotaExceeded",
              std::string("Creating a new volume would exceed the limit of 2 volumes per capacity pool. Current usage is 2.") + kLearnMore);
  ASSERT_EQ(putVolume(azure, pool("acct", "b"), "b1", 100 * kGiB).status, 201);
  expectError(putVolume(azure, pool("acct", "b"), "b2", 100 * kGiB), 409, "VolumeQuotaExceeded",
              std::string("Creating a new volume would exceed the limit of 3 volumes per subscription. Current usage is 3.") + kLearnMore);
}

TEST(NetAppLimits, OneDelegatedSubnetPerVnet) {
  FakeAzure azure;
  azure.ok("PUT", subnet("anf-second"),
           {{"properties",
             {{"addressPrefix", "10.0.3.0/24"},
              {"delegations", {{{"name", "netapp"}, {"properties", {{"serviceName", "Microsoft.NetApp/volumes"}}}}}}}}});
  azure.createAccount("acct");
  ASSERT_EQ(putPool(azure, "acct", "p", 4 * kTiB).status, 201);
  azure.settle();
  ASSERT_EQ(putVolume(azure, pool("acct", "p"), "v1", 100 * kGiB).status, 201);
  Response second = putVolume(azure, pool("acct", "p"), "v2", 100 * kGiB, Json::object(), "anf-second");
  EXPECT_EQ(second.status, 400);
  EXPECT_EQ(second.body["error"]["code"], "SubnetDelegationLimitExceeded");
  EXPECT_EQ(second.body["error"]["message"],
            "Only one subnet per virtual network can be delegated to Microsoft.NetApp/volumes: virtual network '" +
                rg("/providers/Microsoft.Network/virtualNetworks/anf-vnet") + "' already holds Azure NetApp Files volumes in subnet '" +
                subnet("anf-delegated") + "'.");
  EXPECT_EQ(putVolume(azure, pool("acct", "p"), "v3", 100 * kGiB).status, 201) << "the first delegated subnet takes more";
}

TEST(NetAppLimits, ASupportRequestRaisesALimitForItsSubscriptionOnly) {
  FakeAzure azure;
  raise(azure, {{"accountsPerRegion", 12}});
  for (int k = 0; k < 12; ++k) ASSERT_EQ(putAccount(azure, "acct" + std::to_string(k)).status, 201);
  EXPECT_NE(putAccount(azure, "acct12").body["error"]["message"].get<std::string>().find("limit of 12 NetApp accounts"), std::string::npos);
  EXPECT_EQ(netapplimits::limitsOf(azure.world(), kCustomerSub).accountsPerRegion, 10) << "the other subscription keeps the default";
}

TEST(NetAppLimits, OnlyAdjustableLimitsCanBeRaised) {
  EXPECT_EQ(netapplimits::checkRaisedLimits({{"regionalCapacityTiB", 50}, {"maxPoolSizeTiB", 4096}}), "");
  EXPECT_NE(netapplimits::checkRaisedLimits({{"minVolumeGiB", 10}}).find("no limit a support request can raise"), std::string::npos);
  EXPECT_NE(netapplimits::checkRaisedLimits({{"accountsPerRegion", "many"}}).find("positive integer"), std::string::npos);
}

}  // namespace
}  // namespace anf::emulator::testing
