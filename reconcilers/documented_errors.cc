#include "reconcilers/documented_errors.h"

#include <algorithm>
#include <cctype>

#include "reconcilers/error_classes.h"

namespace anf::reconcilers {

const DocumentedError kKeyVaultKeyNotFound{
    "KeyVaultKeyNotFound", "The operation failed because the specified key vault key was not found",
    "When entering key URI manually, ensure that the URI is correct.", "KeyVaultValid"};
const DocumentedError kKeyVaultKeyNotRsa{"KeyVaultKeyNotRsa", "Azure Key Vault key is not a valid RSA key",
                                         "Ensure that the selected key is of type RSA.", "KeyVaultValid"};
const DocumentedError kKeyVaultKeyDisabled{"KeyVaultKeyDisabled", "Azure Key Vault key is not enabled",
                                           "Ensure that the selected key is enabled.", "KeyVaultValid"};
const DocumentedError kKeyVaultKeyExpired{"KeyVaultKeyExpired", "Azure Key Vault key is expired",
                                          "Ensure that the selected key is valid.", "KeyVaultValid"};
const DocumentedError kKeyVaultKeyNotActive{"KeyVaultKeyNotActive", "Azure Key Vault key has not been activated",
                                            "Ensure that the selected key is active.", "KeyVaultValid"};
const DocumentedError kKeyVaultUriInvalid{"KeyVaultUriInvalid", "Key Vault URI is invalid",
                                          "When entering key URI manually, ensure that the URI is correct.",
                                          "KeyVaultValid"};
const DocumentedError kKeyVaultNotRecoverable{
    "KeyVaultNotRecoverable",
    "Azure Key Vault is not recoverable. Make sure that Soft-delete and Purge protection are both enabled on the "
    "Azure Key Vault",
    "Update the key vault recovery level to: "
    "\u201cRecoverable/Recoverable+ProtectedSubscription/CustomizedRecoverable/"
    "CustomizedRecoverable+ProtectedSubscription\u201d",
    "KeyVaultValid"};
const DocumentedError kKeyVaultRegionMismatch{"KeyVaultRegionMismatch", "Account must be in the same region as the Vault",
                                              "Ensure the key vault is in the same region as the NetApp account.",
                                              "KeyVaultValid"};

const DocumentedError kAccountNotConfiguredForCmk{
    "AccountNotConfiguredForCmk",
    "Volume cannot be encrypted with Microsoft.KeyVault, NetAppAccount has not been configured with KeyVault "
    "encryption",
    "Your NetApp account doesn't have customer-managed key encryption enabled. Configure the NetApp account to use "
    "customer-managed key.",
    ""};
const DocumentedError kEncryptionKeySourceChange{
    "EncryptionKeySourceCannotBeChanged", "EncryptionKeySource cannot be changed",
    "No resolution. The EncryptionKeySource property of a volume can't be changed.", ""};
const DocumentedError kEncryptionKeyUnusable{
    "EncryptionKeyUnusable", "Unable to use the configured encryption key, please check if key is active",
    "Check that: -Are all access policies correct on the key vault: Get, Encrypt, Decrypt? -Does a private "
    "endpoint for the key vault exist? -Is there a Virtual Network NAT in the VNet, with the delegated Azure "
    "NetApp Files subnet enabled?",
    ""};
const DocumentedError kKeyVaultUnreachable{
    "KeyVaultUnreachable", "Could not connect to the KeyVault",
    "Ensure that the private endpoint is set up correctly and the firewalls aren't blocking the connection from "
    "your Virtual Network to your KeyVault.",
    ""};

const DocumentedError kKeyVaultPublicAccessBlocked{
    "KeyVaultPublicAccessBlocked",
    "Key vault public access is disabled and trusted Microsoft services are not allowed to bypass its firewall",
    "When selecting this option, you must also select Allow trusted Microsoft services to bypass this firewall to "
    "permit the Azure NetApp Files service to access your encryption key.",
    "KeyVaultValid"};
const DocumentedError kRegionNotSupported{
    "RegionNotSupported", "Azure NetApp Files customer-managed keys is not supported in the account's region",
    "Use a region the page lists under Supported regions.", "KeyVaultValid"};

const std::vector<const DocumentedError*>& documentedTableRows() {
  static const std::vector<const DocumentedError*> rows{
      &kKeyVaultKeyNotFound,        &kKeyVaultKeyNotRsa,     &kKeyVaultKeyDisabled,       &kKeyVaultKeyExpired,
      &kKeyVaultKeyNotActive,       &kKeyVaultUriInvalid,    &kKeyVaultNotRecoverable,    &kKeyVaultRegionMismatch,
      &kAccountNotConfiguredForCmk, &kEncryptionKeySourceChange, &kEncryptionKeyUnusable, &kKeyVaultUnreachable};
  return rows;
}

std::string withResolution(std::string_view text, const DocumentedError& row) {
  return withResolution(text, row.resolution);
}

std::string withResolution(std::string_view text, std::string_view resolution) {
  while (!text.empty() && (text.back() == '.' || text.back() == ' ')) text.remove_suffix(1);
  return std::string{text} + std::string{kResolutionSeparator} + std::string{resolution};
}

controller::ReconcileError toReconcileError(const DocumentedError& error, std::string_view detail) {
  std::string text{error.text};
  if (!detail.empty()) text += " (" + std::string{detail} + ")";
  controller::ReconcileError result{.reason = std::string{error.reason}, .message = withResolution(text, error)};
  if (!error.conditionType.empty()) result.conditionType = std::string{error.conditionType};
  return classified(std::move(result), {.documented = &error});
}

const DocumentedError* findDocumentedError(std::string_view azureMessage) {
  for (const DocumentedError* row : documentedTableRows())
    if (azureMessage.find(row->text) != std::string_view::npos) return row;
  return nullptr;
}

namespace {
std::string normalizedRegion(std::string_view name) {
  std::string out;
  for (char c : name)
    if (c != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

const std::vector<std::string>& cmkSupportedRegions() {
  static const std::vector<std::string> regions = [] {
    const char* displayNames[] = {
        "Australia Central", "Australia Central 2", "Australia East", "Australia Southeast", "Brazil South",
        "Brazil Southeast", "Canada Central", "Canada East", "Central India", "Central US", "East Asia", "East US",
        "East US 2", "France Central", "Germany North", "Germany West Central", "Israel Central", "Italy North",
        "Japan East", "Japan West", "Korea Central", "Korea South", "North Central US", "North Europe", "Norway East",
        "Norway West", "Qatar Central", "South Africa North", "South Central US", "South India", "Southeast Asia",
        "Spain Central", "Sweden Central", "Switzerland North", "Switzerland West", "UAE Central", "UAE North",
        "UK South", "UK West", "US Gov Arizona", "US Gov Texas", "US Gov Virginia", "West Europe", "West US",
        "West US 2", "West US 3"};
    std::vector<std::string> out;
    for (const char* name : displayNames) out.push_back(normalizedRegion(name));
    return out;
  }();
  return regions;
}

bool isCmkSupportedRegion(std::string_view location) {
  const auto& regions = cmkSupportedRegions();
  return std::ranges::find(regions, normalizedRegion(location)) != regions.end();
}

}  // namespace anf::reconcilers
