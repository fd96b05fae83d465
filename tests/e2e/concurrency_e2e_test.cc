// End-to-end: volumes of one NetApp account created in parallel (issue 14), against an emulator that refuses a
// volume creation while another runs in the account, as ANF may (--serial-volume-creation: the operation fails
// with "Another volume creation is in progress. Please try again in a few minutes."). The operator narrows that
// account's writes and every volume converges; none is left Failed in Azure or in status. Fixture: e2e_support.h.
#include "tests/e2e/e2e_support.h"

namespace anf::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr int kExtraVolumes = 5;  // beside the quickstart's vol1, in its pool1

std::string volumeDocument(const std::string& name) {
  return "apiVersion: anf-cmk.io/v1alpha1\nkind: Volume\nmetadata:\n  name: " + name + "\nspec:\n  poolRef: pool1\n  creationToken: " + name +
         "\n  usageThresholdGiB: 100\n  subnetId: " + kResourceGroup +
         "/providers/Microsoft.Network/virtualNetworks/anf-vnet/subnets/anf-delegated\n  protocolTypes: [NFSv3]\n"
         "  networkFeatures: Standard\n  encryptionKeySource: Microsoft.KeyVault\n  keyVaultPrivateEndpointRef: anfkv-provider-pe\n";
}

class ConcurrencyE2eTest : public E2eTest {
 protected:
  void SetUp() override { startEmulator({"--lro-seconds", "0", "--operation-seconds", "volume=1", "--serial-volume-creation"}); }

  /// The volume PUTs the operator sent (the emulator's request log).
  long volumePuts() {
    long n = 0;
    for (const auto& item : emulator_->control("GET", "/_emulator/requests").body.value("items", Json::array()))
      n += item.value("method", "") == "PUT" && item.value("path", "").find("/volumes/") != std::string::npos ? 1 : 0;
    return n;
  }
};

TEST_F(ConcurrencyE2eTest, RefusedConcurrentVolumeCreationsAreRetriedUntilEveryVolumeIsReady) {
  std::ofstream extra(dir_ / "manifests" / "more-volumes.yaml");
  for (int i = 2; i < 2 + kExtraVolumes; ++i) extra << (i > 2 ? "---\n" : "") << volumeDocument("vol" + std::to_string(i));
  extra.close();
  startOperator();
  awaitAllReady(120s, 4 + kExtraVolumes);

  const std::string pool = kAccount + "/capacityPools/pool1";
  const Json listed = arm_->get(pool + "/volumes", kNetAppApi);
  ASSERT_EQ(listed.value("value", Json::array()).size(), 1u + kExtraVolumes) << listed.dump(2);
  for (const auto& volume : listed["value"])
    EXPECT_EQ(volume["properties"].value("provisioningState", ""), "Succeeded") << volume.value("name", "");
  // More PUTs than volumes: creations were sent in parallel, refused by the emulator, and sent again.
  EXPECT_GT(volumePuts(), 1 + kExtraVolumes);
  EXPECT_NE(operator_->log().find("Another volume creation is in progress"), std::string::npos);
}

}  // namespace
}  // namespace anf::testing
