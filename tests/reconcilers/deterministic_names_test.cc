#include "reconcilers/deterministic_names.h"

#include <set>

#include <gtest/gtest.h>

namespace anf::reconcilers {
namespace {

constexpr const char* kVault =
    "/subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/providers/Microsoft.KeyVault/vaults/anfkv-rbac";
constexpr const char* kPrincipal = "10000000-0000-4000-8000-00000000e001";

TEST(DeterministicNames, MatchesTheRfc4122Vector) {
  // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")
  EXPECT_EQ(uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
}

TEST(DeterministicNames, StableAcrossRunsAndArmIdSpellings) {
  // A fixed value: a change here would orphan every role assignment created by an earlier version.
  const std::string name = roleAssignmentName(kVault, kPrincipal, "12338af0-0e69-4776-bea7-57ae8d297424");
  EXPECT_EQ(name, roleAssignmentName(kVault, kPrincipal, "12338af0-0e69-4776-bea7-57ae8d297424"));
  EXPECT_EQ(name, roleAssignmentName(
                      "/SUBSCRIPTIONS/10000000-0000-4000-8000-0000000000a1/resourcegroups/anf-rg/providers/"
                      "microsoft.keyvault/vaults/anfkv-rbac",
                      kPrincipal, "/providers/Microsoft.Authorization/roleDefinitions/12338af0-0e69-4776-bea7-57ae8d297424"));
  EXPECT_EQ(name.size(), 36u);
  EXPECT_EQ(name[14], '5');
  EXPECT_EQ(roleDefinitionName(kVault, "r"), roleDefinitionName(kVault, "r"));
}

TEST(DeterministicNames, DistinctAcrossInputs) {
  std::set<std::string> names{
      roleAssignmentName(kVault, kPrincipal, "a"), roleAssignmentName(kVault, kPrincipal, "b"),
      roleAssignmentName(kVault, "10000000-0000-4000-8000-00000000e002", "a"),
      roleAssignmentName(std::string{kVault} + "2", kPrincipal, "a"), roleDefinitionName(kVault, "a"),
      roleDefinitionName(kVault, "b"), roleDefinitionName(std::string{kVault} + "2", "a")};
  EXPECT_EQ(names.size(), 7u);
}

}  // namespace
}  // namespace anf::reconcilers
