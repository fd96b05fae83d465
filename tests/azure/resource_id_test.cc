#include "azure/resource_id.h"

#include <gtest/gtest.h>

#include <unordered_set>

namespace anf::azure {
namespace {

constexpr std::string_view kSubnet =
    "/subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/providers/Microsoft.Network/"
    "virtualNetworks/anf-vnet/subnets/endpoints";

struct ParseCase {
  std::string id;
  std::string subscription;
  std::string resourceGroup;
  std::string ns;
  std::string type;
  std::string name;
  std::string parent;  // "" when none
};

class ResourceIdParse : public testing::TestWithParam<ParseCase> {};

TEST_P(ResourceIdParse, ExposesItsParts) {
  const auto& c = GetParam();
  auto id = ResourceId::parse(c.id);
  ASSERT_TRUE(id.has_value()) << id.error();
  EXPECT_EQ(id->subscriptionId(), c.subscription);
  EXPECT_EQ(id->resourceGroup(), c.resourceGroup);
  EXPECT_EQ(id->providerNamespace(), c.ns);
  EXPECT_EQ(id->resourceType(), c.type);
  EXPECT_EQ(id->name(), c.name);
  auto parent = id->parent();
  EXPECT_EQ(parent ? parent->str() : "", c.parent);
}

INSTANTIATE_TEST_SUITE_P(
    Ids, ResourceIdParse,
    testing::Values(
        ParseCase{std::string(kSubnet), "10000000-0000-4000-8000-0000000000a1", "anf-rg", "Microsoft.Network",
                  "Microsoft.Network/virtualNetworks/subnets", "endpoints",
                  "/subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/providers/"
                  "Microsoft.Network/virtualNetworks/anf-vnet"},
        ParseCase{"/subscriptions/s/resourceGroups/rg/providers/Microsoft.NetApp/netAppAccounts/a", "s", "rg",
                  "Microsoft.NetApp", "Microsoft.NetApp/netAppAccounts", "a", "/subscriptions/s/resourceGroups/rg"},
        ParseCase{"/subscriptions/s/resourceGroups/rg", "s", "rg", "Microsoft.Resources",
                  "Microsoft.Resources/resourceGroups", "rg", "/subscriptions/s"},
        ParseCase{"/subscriptions/s", "s", "", "Microsoft.Resources", "Microsoft.Resources/subscriptions", "s", ""},
        // lower-case keyword as in the ManagedIdentity example, trailing slash as in accessPolicies ids
        ParseCase{"/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u/",
                  "s", "rg", "Microsoft.ManagedIdentity", "Microsoft.ManagedIdentity/userAssignedIdentities", "u",
                  "/subscriptions/s/resourceGroups/rg"},
        // extension resource: the parent of a role assignment is the vault it is scoped to
        ParseCase{"/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v/providers/"
                  "Microsoft.Authorization/roleAssignments/g",
                  "s", "rg", "Microsoft.Authorization", "Microsoft.Authorization/roleAssignments", "g",
                  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v"},
        ParseCase{"/providers/Microsoft.Authorization/roleDefinitions/12338af0-0e69-4776-bea7-57ae8d297424", "", "",
                  "Microsoft.Authorization", "Microsoft.Authorization/roleDefinitions",
                  "12338af0-0e69-4776-bea7-57ae8d297424", ""},
        ParseCase{"/subscriptions/s/providers/Microsoft.Features/providers/Microsoft.NetApp/features/ANFCrossTenantCMK",
                  "s", "", "Microsoft.Features", "Microsoft.Features/providers/features", "ANFCrossTenantCMK",
                  "/subscriptions/s/providers/Microsoft.Features/providers/Microsoft.NetApp"},
        ParseCase{"/subscriptions/s/providers/Microsoft.NetApp", "s", "", "Microsoft.Resources",
                  "Microsoft.Resources/providers", "Microsoft.NetApp", "/subscriptions/s"}));

class ResourceIdReject : public testing::TestWithParam<std::string> {};

TEST_P(ResourceIdReject, SaysWhatIsWrong) {
  auto id = ResourceId::parse(GetParam());
  ASSERT_FALSE(id.has_value());
  EXPECT_NE(id.error().find("invalid resource id"), std::string::npos) << id.error();
}

INSTANTIATE_TEST_SUITE_P(Ids, ResourceIdReject,
                         testing::Values("", "subscriptions/s", "/", "/subscriptions", "/subscriptions/s/resourceGroups",
                                         "/subscriptions/s//resourceGroups/rg",
                                         "/subscriptions/s/resourceGroups/rg/Microsoft.NetApp/netAppAccounts/a",
                                         "/subscriptions/s/resourceGroups/rg/providers/Microsoft.NetApp/netAppAccounts",
                                         "/subscriptions/s/resourceGroups/rg/providers"));

TEST(ResourceId, ErrorNamesTheOffendingSegment) {
  auto id = ResourceId::parse("/subscriptions/s/resourceGroups/rg/foo/bar");
  ASSERT_FALSE(id);
  EXPECT_NE(id.error().find("'foo'"), std::string::npos) << id.error();
}

TEST(ResourceId, ComparesCaseInsensitivelyButKeepsSpelling) {
  auto a = ResourceId::parse(kSubnet).value();
  auto b = ResourceId::parse(
               "/SUBSCRIPTIONS/10000000-0000-4000-8000-0000000000A1/resourcegroups/ANF-RG/providers/microsoft.network/"
               "virtualnetworks/ANF-VNET/subnets/Endpoints")
               .value();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.str(), kSubnet);
  std::unordered_set<ResourceId> set{a};
  EXPECT_TRUE(set.contains(b));
  EXPECT_NE(a, a.parent().value());
}

TEST(ResourceId, ChildBuildsNestedAndExtensionIds) {
  auto rg = ResourceId::resourceGroup("s", "rg");
  auto vnet = rg.child("Microsoft.Network/virtualNetworks", "vnet");
  auto subnet = vnet.child("subnets", "default");
  EXPECT_EQ(subnet.str(), "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default");
  EXPECT_EQ(subnet.types(), (std::vector<std::string>{"virtualNetworks", "subnets"}));
  EXPECT_EQ(subnet.names(), (std::vector<std::string>{"vnet", "default"}));
  EXPECT_EQ(subnet.parent().value(), vnet);

  auto vault = ResourceId::inResourceGroup("s", "rg", "Microsoft.KeyVault/vaults", "kv");
  auto assignment = vault.child("Microsoft.Authorization/roleAssignments", "g");
  EXPECT_EQ(assignment.resourceType(), "Microsoft.Authorization/roleAssignments");
  EXPECT_EQ(assignment.scope().value(), vault);
  EXPECT_FALSE(vault.scope().has_value());
  EXPECT_EQ(ResourceId::parse(assignment.str()).value(), assignment);
}

TEST(ResourceId, RoundTripsThroughText) {
  for (std::string_view text :
       {kSubnet, std::string_view("/providers/Microsoft.Authorization/roleDefinitions/x"),
        std::string_view("/subscriptions/s/providers/Microsoft.Features/providers/Microsoft.NetApp/features/F")}) {
    EXPECT_EQ(ResourceId::parse(text).value().str(), text);
  }
}

TEST(ResourceId, IsResourceTypeForValidators) {
  EXPECT_TRUE(isResourceType(kSubnet, "Microsoft.Network/virtualNetworks/subnets"));
  EXPECT_TRUE(isResourceType(kSubnet, "microsoft.network/VIRTUALNETWORKS/subnets"));
  EXPECT_FALSE(isResourceType(kSubnet, "Microsoft.Network/virtualNetworks"));
  EXPECT_FALSE(isResourceType("not an id", "Microsoft.Network/virtualNetworks/subnets"));
  auto why = checkResourceType(ResourceId::parse(kSubnet)->parent()->str(), "Microsoft.Network/virtualNetworks/subnets");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("got a Microsoft.Network/virtualNetworks id"), std::string::npos) << *why;
}

}  // namespace
}  // namespace anf::azure
