#include "emulator/providers/key_checks.h"

#include <regex>

#include "emulator/providers/private_link.h"

namespace anf::emulator::keychecks {
namespace {

constexpr std::string_view kVaultType = "Microsoft.KeyVault/vaults";

std::string normalizedLocation(std::string location) {
  std::erase(location, ' ');
  return arm::lower(location);
}

}  // namespace

arm::Error error(std::string_view code, std::string_view message, std::string detail) {
  return arm::Error{400, std::string(code), std::string(message), std::move(detail)};
}

std::optional<std::string> vaultNameFromUri(const std::string& keyVaultUri) {
  static const std::regex kUri(R"(^https://([a-zA-Z0-9-]{3,24})\.vault\.azure\.net(:443)?/?$)", std::regex::icase);
  std::smatch match;
  if (!std::regex_match(keyVaultUri, match, kUri)) return std::nullopt;
  return arm::lower(match[1].str());
}

Json* vaultByUri(World& world, const std::string& keyVaultUri) {
  auto name = vaultNameFromUri(keyVaultUri);
  if (!name) return nullptr;
  for (Json* vault : arm::ofType(world, kVaultType)) {
    if (vaultNameFromUri(arm::stringAt(*vault, "/properties/vaultUri")) == name) return vault;
  }
  return nullptr;
}

std::expected<VaultKey, arm::Error> checkAccountKey(World& world, const std::string& keyVaultUri, const std::string& keyName,
                                                    const std::string& keyVaultResourceId, const std::string& accountLocation) {
  if (!vaultNameFromUri(keyVaultUri)) {
    return std::unexpected(error(kCodeUriInvalid, kUriInvalid, "'" + keyVaultUri + "' is not of the form https://{vault-name}.vault.azure.net/."));
  }
  Json* vault = vaultByUri(world, keyVaultUri);
  if (vault == nullptr) {
    return std::unexpected(error(kCodeUriInvalid, kUriInvalid, "No key vault answers at " + keyVaultUri + "."));
  }
  if (!keyVaultResourceId.empty() && !arm::sameId(keyVaultResourceId, vault->value("id", std::string{}))) {
    return std::unexpected(error(kCodeUriInvalid, kUriInvalid,
                                 "The key vault at " + keyVaultUri + " is not " + keyVaultResourceId + "."));
  }
  Json* key = arm::findTyped(world, vault->value("id", std::string{}) + "/keys/" + keyName, "Microsoft.KeyVault/vaults/keys");
  if (keyName.empty() || key == nullptr) {
    return std::unexpected(error(kCodeKeyNotFound, kKeyNotFound, "Key '" + keyName + "' does not exist in " + keyVaultUri + "."));
  }
  std::string kty = arm::stringAt(*key, "/properties/kty");
  if (!arm::iequals(kty, "RSA") && !arm::iequals(kty, "RSA-HSM")) {
    return std::unexpected(error(kCodeKeyNotRsa, kKeyNotRsa, "Key '" + keyName + "' has kty " + kty + "."));
  }
  const Json attributes = (*key)["properties"].value("attributes", Json::object());
  std::int64_t now = world.clock.unixSeconds();
  if (!attributes.value("enabled", true)) return std::unexpected(error(kCodeKeyNotEnabled, kKeyNotEnabled));
  if (attributes.contains("exp") && attributes["exp"].is_number() && attributes["exp"].get<std::int64_t>() <= now) {
    return std::unexpected(error(kCodeKeyExpired, kKeyExpired));
  }
  if (attributes.contains("nbf") && attributes["nbf"].is_number() && attributes["nbf"].get<std::int64_t>() > now) {
    return std::unexpected(error(kCodeKeyNotActivated, kKeyNotActivated));
  }
  const Json& properties = (*vault)["properties"];
  if (!properties.value("enableSoftDelete", true) || !properties.value("enablePurgeProtection", false)) {
    return std::unexpected(error(kCodeNotRecoverable, kNotRecoverable));
  }
  if (normalizedLocation(vault->value("location", std::string{})) != normalizedLocation(accountLocation)) {
    return std::unexpected(error(kCodeRegionMismatch, kRegionMismatch,
                                 "The account is in " + accountLocation + ", the vault in " + vault->value("location", std::string{}) + "."));
  }
  return VaultKey{vault, key};
}

std::string keyUnusableReason(World& world, const Json& key) {
  const Json attributes = key.contains("properties") ? key["properties"].value("attributes", Json::object()) : Json::object();
  std::int64_t now = world.clock.unixSeconds();
  if (!attributes.value("enabled", true)) return std::string(kKeyNotEnabled);
  if (attributes.contains("exp") && attributes["exp"].is_number() && attributes["exp"].get<std::int64_t>() <= now) {
    return std::string(kKeyExpired);
  }
  if (attributes.contains("nbf") && attributes["nbf"].is_number() && attributes["nbf"].get<std::int64_t>() > now) {
    return std::string(kKeyNotActivated);
  }
  return "";
}

std::string vnetOfSubnet(const std::string& subnetId) { return arm::parentId(subnetId); }

std::optional<arm::Error> checkVaultReachable(World& world, const Json& vault, const std::string& privateEndpointId,
                                              const std::string& virtualNetworkId) {
  auto unreachable = [](std::string detail) { return error(kCodeVaultUnreachable, kVaultUnreachable, std::move(detail)); };
  if (privateEndpointId.empty()) return unreachable("No key vault private endpoint is given.");
  Json* endpoint = arm::findTyped(world, privateEndpointId, privatelink::kPrivateEndpointType);
  if (endpoint == nullptr) return unreachable("The private endpoint " + privateEndpointId + " does not exist.");
  if (!arm::sameId(privatelink::targetOf(*endpoint), vault.value("id", std::string{}))) {
    return unreachable("The private endpoint " + privateEndpointId + " does not connect to key vault " + vault.value("name", std::string{}) + ".");
  }
  std::string subnetId = privatelink::subnetOf(*endpoint);
  if (!arm::sameId(vnetOfSubnet(subnetId), virtualNetworkId)) {
    return unreachable("The private endpoint " + privateEndpointId + " is not in the virtual network " + virtualNetworkId + ".");
  }
  Json* subnet = arm::findTyped(world, subnetId, privatelink::kSubnetType);
  if (subnet == nullptr) return unreachable("The private endpoint's subnet " + subnetId + " does not exist.");
  if (privatelink::isDelegatedTo(*subnet, "Microsoft.NetApp/volumes")) {
    return unreachable("The private endpoint is in the subnet delegated to Microsoft.NetApp/volumes; it must be in another subnet of the VNet.");
  }
  if (!arm::iequals(arm::stringAt(*subnet, "/properties/privateEndpointNetworkPolicies", "Disabled"), "Disabled")) {
    return unreachable("Private endpoint network policies are enabled on subnet " + subnetId + "; they must be Disabled.");
  }
  std::string status = privatelink::connectionStatus(world, *endpoint);
  if (status != "Approved") {
    return unreachable("The private endpoint connection to the key vault is " + status + ", not Approved.");
  }
  const Json& properties = vault["properties"];
  bool publicDisabled = arm::iequals(properties.value("publicNetworkAccess", std::string("Enabled")), "Disabled");
  bool aclDenies = arm::iequals(arm::stringAt(vault, "/properties/networkAcls/defaultAction", "Allow"), "Deny");
  bool bypass = arm::iequals(arm::stringAt(vault, "/properties/networkAcls/bypass", "AzureServices"), "AzureServices");
  if ((publicDisabled || aclDenies) && !bypass) {
    return unreachable("The key vault denies public access without allowing trusted Microsoft services to bypass its firewall.");
  }
  return std::nullopt;
}

}  // namespace anf::emulator::keychecks
