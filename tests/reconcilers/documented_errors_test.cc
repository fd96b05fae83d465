#include "reconcilers/documented_errors.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace anf::reconcilers {
namespace {

std::string referencePage() {
  std::ifstream in{std::string{ANF_SOURCE_DIR} + "/../shared/reference/anf-customer-managed-keys.md"};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(DocumentedErrors, EveryTableRowIsQuotedFromTheReferencePage) {
  const std::string page = referencePage();
  if (page.empty()) GTEST_SKIP() << "reference page not found beside the checkout";
  for (const DocumentedError* row : documentedTableRows())
    EXPECT_NE(page.find("| `" + std::string{row->text} + "` |"), std::string::npos) << row->text;
  EXPECT_EQ(documentedTableRows().size(), 12u);
}

TEST(DocumentedErrors, OurChecksSayTheDocumentedTextWithItsResolution) {
  auto error = toReconcileError(kKeyVaultKeyNotFound);
  EXPECT_EQ(error.reason, "KeyVaultKeyNotFound");
  EXPECT_EQ(error.message,
            "The operation failed because the specified key vault key was not found. Resolution: When entering key "
            "URI manually, ensure that the URI is correct.");
  EXPECT_EQ(error.conditionType, std::optional<std::string>{"KeyVaultValid"});
  EXPECT_EQ(toReconcileError(kRegionNotSupported, "polandcentral").message,
            "Azure NetApp Files customer-managed keys is not supported in the account's region (polandcentral). "
            "Resolution: Use a region the page lists under Supported regions.");
}

TEST(DocumentedErrors, SupportedRegionsFollowThePage) {
  EXPECT_TRUE(isCmkSupportedRegion("eastus"));
  EXPECT_TRUE(isCmkSupportedRegion("East US 2"));
  EXPECT_TRUE(isCmkSupportedRegion("australiacentral2"));
  EXPECT_TRUE(isCmkSupportedRegion("usgovvirginia"));
  EXPECT_FALSE(isCmkSupportedRegion("polandcentral"));
  EXPECT_EQ(cmkSupportedRegions().size(), 46u);
}

}  // namespace
}  // namespace anf::reconcilers
