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

TEST(DocumentedErrors, AzureTextReachesStatusVerbatimWithTheResolution) {
  auto error = fromAzureError("KeyVaultKeyNotFound",
                              "The operation failed because the specified key vault key was not found.", false);
  EXPECT_EQ(error.reason, "KeyVaultKeyNotFound");
  EXPECT_EQ(error.message,
            "The operation failed because the specified key vault key was not found. Resolution: When entering key "
            "URI manually, ensure that the URI is correct.");
  EXPECT_EQ(error.errorClass, controller::ErrorClass::WaitsForAzure);  // a key can be created: re-checked, not parked
  EXPECT_EQ(error.conditionType, std::optional<std::string>{"KeyVaultValid"});
}

TEST(DocumentedErrors, VolumeTableRowsMapToTheirResolution) {
  auto error = fromAzureError("BadRequest", "EncryptionKeySource cannot be changed", false);
  EXPECT_EQ(error.reason, "EncryptionKeySourceCannotBeChanged");
  EXPECT_EQ(error.message,
            "EncryptionKeySource cannot be changed. Resolution: No resolution. The EncryptionKeySource property of a "
            "volume can't be changed.");
  EXPECT_FALSE(error.conditionType.has_value());

  auto unreachable = fromAzureError("BadRequest", "Could not connect to the KeyVault", false);
  EXPECT_EQ(unreachable.reason, "KeyVaultUnreachable");
}

TEST(DocumentedErrors, UndocumentedErrorsKeepCodeAndTextAndRequestedRetryability) {
  auto error = fromAzureError("AnotherOperationInProgress", "Another operation is in progress", false);
  EXPECT_EQ(error.reason, "AnotherOperationInProgress");
  EXPECT_EQ(error.message, "Another operation is in progress");
  EXPECT_FALSE(error.parked());
  EXPECT_TRUE(fromAzureError("InvalidParameter", "bad", true).parked());
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
