// PrivateEndpoint against the strict fake: created when absent (after the subnet checks), nothing written
// when up to date, never replaced, never deleted while a CMK volume uses it.
#include <gtest/gtest.h>

#include "reconcilers/arm_bodies.h"
#include "reconcilers/registry.h"
#include "tests/reconcilers/reconciler_test.h"

namespace anf::reconcilers::testing {
namespace {

using controller::ErrorClass;
using controller::Kind;

const std::string kEndpointId = kRg + "/providers/Microsoft.Network/privateEndpoints/pe1";
const std::string kSubnet = kVnet + "/subnets/endpoints";
const std::string kVault = kRg + "/providers/Microsoft.KeyVault/vaults/kv";

class PrivateEndpointTest : public ReconcilerTest {
 protected:
  PrivateEndpointTest() : ReconcilerTest(Kind::PrivateEndpoint, "pe1", makePrivateEndpointReconciler) {
    store.putArm(kSubnet, {{"properties", {{"privateEndpointNetworkPolicies", "Disabled"}}}});
    world.add(document(Kind::PrivateEndpoint, "pe1", {{"subnetId", kSubnet}, {"keyVaultResourceId", kVault}}));
  }
  void endpointInAzure(const std::string& state) {
    Json body = privateEndpointBody({.location = "eastus", .subnetId = kSubnet, .keyVaultResourceId = kVault, .connectionName = "pe1"});
    body["properties"]["privateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"] = {{"status", state}};
    store.putArm(kEndpointId, body);
  }
};

TEST_F(PrivateEndpointTest, CreatesTheEndpointToTheVaultWhenAbsent) {
  auto outcome = pass();  // absent: created
  ASSERT_TRUE(outcome) << outcome.error().message;
  const FakeCall write = onlyWrite();
  EXPECT_EQ(write.method, "PUT");
  EXPECT_EQ(write.body.at("/properties/subnet/id"_json_pointer), kSubnet);
  EXPECT_EQ(outcome->facts.value("virtualNetworkId", ""), kVnet);
}

TEST_F(PrivateEndpointTest, UpToDateWritesNothingAndReportsTheConnectionState) {
  endpointInAzure("Pending");
  auto observed = reconciler->observe(context());
  ASSERT_TRUE(observed) << observed.error().message;
  EXPECT_TRUE(observed->upToDate) << (observed->diff.empty() ? "" : observed->diff[0].path);
  EXPECT_EQ(observed->facts.value("connectionState", ""), "Pending");
  EXPECT_TRUE(client.writes().empty());
}

// A resync pass reads the endpoints of a resource group once (issue 14, the no-op pass), not one GET each.
TEST_F(PrivateEndpointTest, TheEndpointsOfOneResourceGroupAreObservedWithOneList) {
  endpointInAzure("Approved");
  Json second = privateEndpointBody({.location = "eastus", .subnetId = kSubnet, .keyVaultResourceId = kVault, .connectionName = "pe2"});
  store.putArm(kRg + "/providers/Microsoft.Network/privateEndpoints/pe2", second);
  world.add(document(Kind::PrivateEndpoint, "pe2", {{"subnetId", kSubnet}, {"keyVaultResourceId", kVault}}));
  for (const std::string name : {"pe1", "pe2"}) {
    auto observed = reconciler->observe(world.context({Kind::PrivateEndpoint, name}));
    ASSERT_TRUE(observed) << observed.error().message;
    EXPECT_TRUE(observed->exists && observed->upToDate) << name;
  }
  ASSERT_EQ(client.calls.size(), 1u);
  EXPECT_EQ(client.calls[0].method, "LIST");
}

TEST_F(PrivateEndpointTest, ATargetChangeIsRefusedNeverAReplacement) {
  endpointInAzure("Approved");
  spec()["keyVaultResourceId"] = kRg + "/providers/Microsoft.KeyVault/vaults/other";
  auto observed = reconciler->observe(context());
  ASSERT_TRUE(observed) << observed.error().message;
  ASSERT_FALSE(observed->upToDate);
  auto outcome = reconciler->update(context(), *observed);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().reason, "PrivateEndpointImmutable");
  EXPECT_TRUE(outcome.error().parked());
  EXPECT_TRUE(client.writes().empty());
}

TEST_F(PrivateEndpointTest, IsNotDeletedWhileACmkVolumeUsesIt) {
  endpointInAzure("Approved");
  world.add(document(Kind::Volume, "vol1", {{"encryptionKeySource", "Microsoft.KeyVault"}, {"keyVaultPrivateEndpointRef", "pe1"}}));
  auto outcome = reconciler->remove(context(), {});
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().reason, "PrivateEndpointInUse");
  EXPECT_TRUE(client.writes().empty());
}

TEST_F(PrivateEndpointTest, TheSubnetDelegatedToNetAppIsRefusedBeforeSending) {
  store.putArm(kSubnet, {{"properties", {{"delegations", {{{"properties", {{"serviceName", "Microsoft.NetApp/volumes"}}}}}}}}});
  auto outcome = reconciler->create(context(), {});
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().reason, "SubnetDelegatedToNetApp");
  EXPECT_EQ(outcome.error().errorClass, ErrorClass::NeedsDocumentChange);
  EXPECT_TRUE(client.writes().empty());
}

TEST_F(PrivateEndpointTest, AMissingSubnetWaitsForAzure) {
  store.arm.clear();
  auto outcome = reconciler->create(context(), {});
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().reason, "SubnetNotFound");
  EXPECT_EQ(outcome.error().errorClass, ErrorClass::WaitsForAzure) << "the subnet can be created in Azure";
  EXPECT_TRUE(client.writes().empty());
}

}  // namespace
}  // namespace anf::reconcilers::testing
