#include "controller/kinds.h"

#include "controller/arm_id.h"

namespace anf::controller {

namespace {

std::optional<std::string> optional(const Json& object, const char* name) {
  if (!object.is_object() || !object.contains(name) || !object[name].is_string()) return std::nullopt;
  return object[name].get<std::string>();
}

std::string text(const Json& object, const char* name, const std::string& fallback = {}) {
  return optional(object, name).value_or(fallback);
}

std::vector<PrivateEndpointBinding> bindings(const Json& items) {
  std::vector<PrivateEndpointBinding> out;
  if (!items.is_array()) return out;
  for (const auto& item : items)
    out.push_back({text(item, "virtualNetworkId"), optional(item, "privateEndpointRef"), optional(item, "privateEndpointId")});
  return out;
}

KeySource keySource(const std::string& value) {
  return value == "Microsoft.KeyVault" ? KeySource::KeyVault : KeySource::NetApp;
}

AzureCoordinates azureOf(const Document& document) { return document.azure.value_or(AzureCoordinates{}); }

}  // namespace

std::string_view keySourceName(KeySource source) {
  return source == KeySource::KeyVault ? "Microsoft.KeyVault" : "Microsoft.NetApp";
}

UserAssignedIdentitySpec UserAssignedIdentitySpec::from(const Document& d) { return {azureOf(d), d.deletionPolicy}; }

NetAppAccountSpec NetAppAccountSpec::from(const Document& d) {
  NetAppAccountSpec out{.azure = azureOf(d), .deletionPolicy = d.deletionPolicy};
  const Json& spec = d.spec;
  if (spec.contains("identity")) {
    const Json& identity = spec["identity"];
    const std::string type = text(identity, "type");
    out.identity = Identity{type == "SystemAssigned" ? IdentityType::SystemAssigned
                            : type == "UserAssigned" ? IdentityType::UserAssigned
                                                     : IdentityType::None,
                            optional(identity, "userAssignedIdentityRef"), optional(identity, "userAssignedIdentityId")};
  }
  const Json encryption = spec.value("encryption", Json::object());
  out.encryption.keySource = keySource(text(encryption, "keySource"));
  if (encryption.contains("keyVault")) {
    const Json& kv = encryption["keyVault"];
    out.encryption.keyVault = KeyVault{text(kv, "resourceId"), optional(kv, "uri"), text(kv, "keyName"),
                                       bindings(kv.value("privateEndpoints", Json::array()))};
  }
  const Json access = encryption.value("access", Json::object());
  const std::string mode = text(access, "mode", "AccessPolicy");
  out.encryption.access.mode = mode == "RoleAssignment" ? KeyAccessMode::RoleAssignment
                               : mode == "None"         ? KeyAccessMode::None
                                                        : KeyAccessMode::AccessPolicy;
  if (auto role = optional(access, "role"))
    out.encryption.access.role = *role == "KeyVaultCryptoUser" ? KeyAccessRole::KeyVaultCryptoUser : KeyAccessRole::MinimalCustomRole;
  if (encryption.contains("crossTenant"))
    out.encryption.crossTenant = CrossTenant{optional(encryption["crossTenant"], "applicationRef"),
                                             optional(encryption["crossTenant"], "federatedClientId")};
  out.transitionToCMK = bindings(spec.value("transitionToCMK", Json::array()));
  return out;
}

PrivateEndpointSpec PrivateEndpointSpec::from(const Document& d) {
  return {azureOf(d), d.deletionPolicy, text(d.spec, "subnetId"), text(d.spec, "keyVaultResourceId"),
          text(d.spec, "approval") == "Manual" ? PrivateEndpointApproval::Manual : PrivateEndpointApproval::Automatic};
}

CapacityPoolSpec CapacityPoolSpec::from(const Document& d) {
  return {azureOf(d),
          d.deletionPolicy,
          text(d.spec, "accountRef"),
          text(d.spec, "serviceLevel", "Premium"),
          d.spec.value("sizeTiB", std::int64_t{4}),
          text(d.spec, "qosType", "Auto"),
          text(d.spec, "encryptionType", "Single")};
}

std::string VolumeSpec::virtualNetworkId() const { return virtualNetworkOfSubnet(subnetId).value_or(""); }

VolumeSpec VolumeSpec::from(const Document& d) {
  VolumeSpec out{.azure = azureOf(d), .deletionPolicy = d.deletionPolicy};
  const Json& spec = d.spec;
  out.poolRef = text(spec, "poolRef");
  out.creationToken = text(spec, "creationToken");
  out.usageThresholdGiB = spec.value("usageThresholdGiB", std::int64_t{100});
  out.subnetId = text(spec, "subnetId");
  out.protocolTypes = spec.value("protocolTypes", std::vector<std::string>{"NFSv3"});
  out.networkFeatures = text(spec, "networkFeatures", "Basic");
  out.encryptionKeySource = keySource(text(spec, "encryptionKeySource"));
  out.keyVaultPrivateEndpointRef = optional(spec, "keyVaultPrivateEndpointRef");
  out.keyVaultPrivateEndpointId = optional(spec, "keyVaultPrivateEndpointId");
  return out;
}

CrossTenantApplicationSpec CrossTenantApplicationSpec::from(const Document& d) {
  const Json customer = d.spec.value("customer", Json::object());
  return {text(d.spec, "tenant"), d.deletionPolicy, text(d.spec, "displayName"), text(d.spec, "identityRef"),
          Customer{text(customer, "tenantId"), text(customer, "keyVaultResourceId"), optional(customer, "credential")}};
}

}  // namespace anf::controller
