#include "reconcilers/arm_bodies.h"

#include <algorithm>
#include <cctype>

namespace anf::reconcilers {

const std::vector<std::string>& minimalKeyDataActions() {
  static const std::vector<std::string> actions{"Microsoft.KeyVault/vaults/keys/read",
                                                "Microsoft.KeyVault/vaults/keys/encrypt/action",
                                                "Microsoft.KeyVault/vaults/keys/decrypt/action"};
  return actions;
}

const std::vector<std::string>& minimalKeyPermissions() {
  static const std::vector<std::string> permissions{"get", "encrypt", "decrypt"};
  return permissions;
}

const Json* findMember(const Json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  if (auto it = object.find(name); it != object.end()) return &*it;
  for (auto it = object.begin(); it != object.end(); ++it)
    if (equalsIgnoreCase(it.key(), name)) return &it.value();
  return nullptr;
}

Json accountIdentityBody(const AccountIdentity& identity) {
  Json body{{"type", identity.type}};
  if (!identity.userAssignedIdentityId.empty())
    body["userAssignedIdentities"] = Json{{identity.userAssignedIdentityId, Json::object()}};
  return body;
}

Json accountEncryptionBody(const AccountEncryption& encryption) {
  Json body{{"keySource", encryption.keySource}};
  if (!equalsIgnoreCase(encryption.keySource, kKeySourceKeyVault)) return body;
  Json vault{{"keyVaultUri", encryption.keyVaultUri}, {"keyName", encryption.keyName}};
  if (!encryption.keyVaultResourceId.empty()) vault["keyVaultResourceId"] = encryption.keyVaultResourceId;
  body["keyVaultProperties"] = std::move(vault);
  Json identity = Json::object();
  if (!encryption.userAssignedIdentity.empty()) identity["userAssignedIdentity"] = encryption.userAssignedIdentity;
  if (!encryption.federatedClientId.empty()) identity["federatedClientId"] = encryption.federatedClientId;
  if (!identity.empty()) body["identity"] = std::move(identity);
  return body;
}

Json accountPutBody(const std::string& location, const std::optional<AccountIdentity>& identity,
                    const std::optional<AccountEncryption>& encryption) {
  Json body = accountPatchBody(identity, encryption);
  body["location"] = location;
  if (!body.contains("properties")) body["properties"] = Json::object();
  return body;
}

Json accountPatchBody(const std::optional<AccountIdentity>& identity, const std::optional<AccountEncryption>& encryption) {
  Json body = Json::object();
  if (identity) body["identity"] = accountIdentityBody(*identity);
  if (encryption) body["properties"]["encryption"] = accountEncryptionBody(*encryption);
  return body;
}

Json poolBody(const PoolSettings& pool) {
  return Json{{"location", pool.location},
              {"properties", {{"serviceLevel", pool.serviceLevel}, {"size", pool.sizeTiB * kTiB}, {"qosType", pool.qosType}}}};
}

Json volumeBody(const VolumeSettings& volume) {
  Json properties{{"creationToken", volume.creationToken},
                  {"usageThreshold", volume.usageThresholdGiB * kGiB},
                  {"subnetId", volume.subnetId},
                  {"protocolTypes", volume.protocolTypes},
                  {"networkFeatures", volume.networkFeatures},
                  {"encryptionKeySource", volume.encryptionKeySource}};
  if (!volume.serviceLevel.empty()) properties["serviceLevel"] = volume.serviceLevel;
  if (!volume.keyVaultPrivateEndpointResourceId.empty())
    properties["keyVaultPrivateEndpointResourceId"] = volume.keyVaultPrivateEndpointResourceId;
  return Json{{"location", volume.location}, {"properties", std::move(properties)}};
}

const std::vector<std::string>& volumeCreateOnlyPaths() {
  static const std::vector<std::string> paths{"properties.creationToken", "properties.subnetId",
                                              "properties.networkFeatures", "properties.protocolTypes",
                                              "properties.keyVaultPrivateEndpointResourceId", "location"};
  return paths;
}

Json privateEndpointBody(const PrivateEndpointSettings& endpoint) {
  Json connection{{"name", endpoint.connectionName},
                  {"properties", {{"privateLinkServiceId", endpoint.keyVaultResourceId}, {"groupIds", {"vault"}}}}};
  if (!endpoint.requestMessage.empty()) connection["properties"]["requestMessage"] = endpoint.requestMessage;
  const char* list = endpoint.manualApproval ? "manualPrivateLinkServiceConnections" : "privateLinkServiceConnections";
  return Json{{"location", endpoint.location},
              {"properties", {{"subnet", {{"id", endpoint.subnetId}}}, {list, Json::array({connection})}}}};
}

std::string privateEndpointConnectionState(const Json& endpoint) {
  for (const char* list : {"privateLinkServiceConnections", "manualPrivateLinkServiceConnections"}) {
    const Json::json_pointer pointer{std::string{"/properties/"} + list};
    if (!endpoint.contains(pointer) || !endpoint.at(pointer).is_array()) continue;
    for (const Json& connection : endpoint.at(pointer)) {
      const Json::json_pointer status{"/properties/privateLinkServiceConnectionState/status"};
      if (connection.contains(status) && connection.at(status).is_string()) return connection.at(status).get<std::string>();
    }
  }
  return {};
}

Json accessPolicyAddBody(const std::string& tenantId, const std::string& objectId) {
  return Json{{"properties",
               {{"accessPolicies",
                 Json::array({{{"tenantId", tenantId},
                               {"objectId", objectId},
                               {"permissions", {{"keys", minimalKeyPermissions()}}}}})}}}};
}

bool hasKeyAccessPolicy(const Json& vault, const std::string& objectId) {
  const Json::json_pointer policies{"/properties/accessPolicies"};
  if (!vault.contains(policies) || !vault.at(policies).is_array()) return false;
  for (const Json& policy : vault.at(policies)) {
    if (!equalsIgnoreCase(policy.value("objectId", ""), objectId)) continue;
    const Json::json_pointer keys{"/permissions/keys"};
    if (!policy.contains(keys) || !policy.at(keys).is_array()) continue;
    auto has = [&](const std::string& wanted) {
      return std::ranges::any_of(policy.at(keys), [&](const Json& p) {
        return p.is_string() && (equalsIgnoreCase(p.get<std::string>(), wanted) || equalsIgnoreCase(p.get<std::string>(), "all"));
      });
    };
    if (std::ranges::all_of(minimalKeyPermissions(), has)) return true;
  }
  return false;
}

std::string minimalRoleName(const std::string& vaultResourceId) {
  return "ANF CMK key access (" + vaultResourceId.substr(vaultResourceId.find_last_of('/') + 1) + ")";
}

Json minimalRoleDefinitionBody(const std::string& vaultResourceId) {
  return Json{{"properties",
               {{"roleName", minimalRoleName(vaultResourceId)},
                {"description",
                 "Has the necessary permissions for customer-managed key encryption: get key, encrypt and decrypt"},
                {"type", "CustomRole"},
                {"permissions", Json::array({{{"actions", Json::array()},
                                              {"notActions", Json::array()},
                                              {"dataActions", minimalKeyDataActions()},
                                              {"notDataActions", Json::array()}}})},
                {"assignableScopes", Json::array({vaultResourceId})}}}};
}

std::string roleDefinitionId(std::string_view guid, std::string_view subscriptionId) {
  const std::string scope = subscriptionId.empty() ? "" : "/subscriptions/" + std::string{subscriptionId};
  return scope + "/providers/Microsoft.Authorization/roleDefinitions/" + std::string{guid};
}

Json roleAssignmentBody(const std::string& roleDefinitionId, const std::string& principalId) {
  return Json{{"properties",
               {{"roleDefinitionId", roleDefinitionId}, {"principalId", principalId}, {"principalType", "ServicePrincipal"}}}};
}

namespace {

bool listed(const std::vector<std::string>& paths, const std::string& path) {
  return std::ranges::any_of(paths, [&](const std::string& p) {
    return path == p || (path.starts_with(p) && (path[p.size()] == '.' || path[p.size()] == '['));
  });
}

std::string childPath(const std::string& parent, const std::string& key) {
  if (key.find_first_of("./") != std::string::npos) return parent + "[" + key + "]";
  return parent.empty() ? key : parent + "." + key;
}

void diffInto(const Json& desired, const Json* observed, const std::string& path, const DiffOptions& options,
              std::vector<FieldDiff>& out) {
  if (listed(options.ignorePaths, path) || desired.is_null()) return;
  const Json observedValue = observed ? *observed : Json();
  if (desired.is_object()) {
    if (!observedValue.is_object() && !desired.empty()) {
      out.push_back({path, desired, observedValue});
      return;
    }
    for (auto it = desired.begin(); it != desired.end(); ++it)
      diffInto(it.value(), findMember(observedValue, it.key()), childPath(path, it.key()), options, out);
    return;
  }
  bool same = false;
  if (desired.is_string() && observedValue.is_string())
    same = listed(options.caseSensitivePaths, path)
               ? desired == observedValue
               : equalsIgnoreCase(desired.get<std::string>(), observedValue.get<std::string>());
  else if (desired.is_number() && observedValue.is_number())
    same = desired.get<double>() == observedValue.get<double>();
  else if (desired.is_array() && observedValue.is_array() && desired.size() == observedValue.size()) {
    std::vector<FieldDiff> inner;
    for (std::size_t i = 0; i < desired.size(); ++i)
      diffInto(desired[i], &observedValue[i], path + "[" + std::to_string(i) + "]", options, inner);
    same = inner.empty();
  } else
    same = desired == observedValue;
  if (!same) out.push_back({path, desired, observedValue});
}

}  // namespace

std::vector<FieldDiff> diffBodies(const Json& desired, const Json& observed, const DiffOptions& options) {
  std::vector<FieldDiff> out;
  diffInto(desired, &observed, "", options, out);
  return out;
}

}  // namespace anf::reconcilers
