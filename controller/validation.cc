#include "controller/validation.h"

#include <algorithm>
#include <functional>
#include <regex>
#include <set>

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include "azure/resource_id.h"
#include "controller/suggest.h"

namespace anf::controller {

namespace {

constexpr std::string_view kKeyVault = "Microsoft.KeyVault";
constexpr std::string_view kNetApp = "Microsoft.NetApp";
constexpr std::string_view kVaultType = "Microsoft.KeyVault/vaults";
constexpr std::string_view kSubnetType = "Microsoft.Network/virtualNetworks/subnets";
constexpr std::string_view kVnetType = "Microsoft.Network/virtualNetworks";
constexpr std::string_view kPrivateEndpointType = "Microsoft.Network/privateEndpoints";
constexpr std::string_view kIdentityType = "Microsoft.ManagedIdentity/userAssignedIdentities";

// ---- schema tables ----------------------------------------------------------------------------

FieldSpec str(std::string name, std::string description = {}) {
  return {.name = std::move(name), .description = std::move(description)};
}
FieldSpec required(FieldSpec f) {
  f.required = true;
  return f;
}
FieldSpec oneOf(std::string name, std::vector<std::string> values, std::optional<std::string> fallback = {}) {
  FieldSpec f{.name = std::move(name), .enumValues = std::move(values)};
  if (fallback) f.defaultValue = Json(*fallback);
  return f;
}
FieldSpec ref(std::string name, Kind kind) {
  return {.name = std::move(name), .format = Format::Dns1123Label, .refKind = kind,
          .description = "metadata.name of a " + std::string(kindName(kind)) + " document"};
}
FieldSpec armId(std::string name, std::string_view type) {
  return {.name = std::move(name), .format = Format::ArmId, .armType = std::string(type),
          .description = "ARM resource ID of a " + std::string(type)};
}
FieldSpec uuid(std::string name) { return {.name = std::move(name), .format = Format::Uuid}; }
FieldSpec object(std::string name, std::vector<FieldSpec> fields) {
  return {.name = std::move(name), .type = FieldType::Object, .fields = std::move(fields)};
}
FieldSpec list(std::string name, FieldSpec item) {
  return {.name = std::move(name), .type = FieldType::Array, .fields = {std::move(item)}};
}
FieldSpec integer(std::string name, std::int64_t min, std::int64_t max, std::optional<std::int64_t> fallback = {}) {
  FieldSpec f{.name = std::move(name), .type = FieldType::Integer, .minimum = min, .maximum = max};
  if (fallback) f.defaultValue = Json(*fallback);
  return f;
}

// Azure's name rules per resource type (azure-api.md §1); the default name is metadata.name.
std::string azureNamePattern(Kind kind) {
  switch (kind) {
    case Kind::NetAppAccount: return "^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,127}$";
    case Kind::CapacityPool: return "^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,63}$";
    case Kind::Volume: return "^[a-zA-Z][a-zA-Z0-9\\-_]{0,63}$";
    case Kind::UserAssignedIdentity: return "^[a-zA-Z0-9][a-zA-Z0-9\\-_]{2,127}$";
    case Kind::PrivateEndpoint: return "^[a-zA-Z0-9][a-zA-Z0-9_.\\-]{0,78}[a-zA-Z0-9_]$|^[a-zA-Z0-9]$";
    case Kind::CrossTenantApplication: return {};
  }
  return {};
}

FieldSpec azureBlock(Kind kind) {
  FieldSpec name = str("name", "Azure resource name; default metadata.name");
  name.pattern = azureNamePattern(kind);
  name.patternHint = "not a valid Azure name for a " + std::string(kindName(kind)) + " (" + name.pattern + ")";
  FieldSpec group = str("resourceGroup");
  group.pattern = "^[-\\w\\._\\(\\)]{1,90}$";
  group.patternHint = "not a valid resource group name";
  FieldSpec location = str("location");
  location.pattern = "^[a-z0-9]+$";
  location.patternHint = "an Azure region name in lowercase without spaces, like eastus";
  FieldSpec azure = object("azure", {str("tenant", "credential name from the operator configuration"),
                                     uuid("subscriptionId"), group, location, name});
  azure.description = "where the resource lives in Azure; each field defaults from the operator configuration";
  return azure;
}

FieldSpec deletionPolicy() { return oneOf("deletionPolicy", {"Retain", "Delete"}, "Retain"); }

FieldSpec privateEndpointBinding() {
  return object("", {required(armId("virtualNetworkId", kVnetType)), ref("privateEndpointRef", Kind::PrivateEndpoint),
                     armId("privateEndpointId", kPrivateEndpointType)});
}

FieldSpec buildSpecSchema(Kind kind) {
  std::vector<FieldSpec> fields;
  if (kind != Kind::CrossTenantApplication) fields.push_back(azureBlock(kind));
  fields.push_back(deletionPolicy());
  switch (kind) {
    case Kind::UserAssignedIdentity: break;
    case Kind::NetAppAccount: {
      FieldSpec keyName = required(str("keyName"));
      keyName.pattern = "^[a-zA-Z0-9-]{1,127}$";
      keyName.patternHint = "a key name has 1 to 127 letters, digits and '-'";
      FieldSpec keyVault = object("keyVault", {required(armId("resourceId", kVaultType)),
                                               {.name = "uri", .format = Format::KeyVaultUri}, keyName,
                                               list("privateEndpoints", privateEndpointBinding())});
      fields.push_back(object("identity", {required(oneOf("type", {"SystemAssigned", "UserAssigned", "None"})),
                                           ref("userAssignedIdentityRef", Kind::UserAssignedIdentity),
                                           armId("userAssignedIdentityId", kIdentityType)}));
      fields.push_back(object(
          "encryption",
          {oneOf("keySource", {std::string(kNetApp), std::string(kKeyVault)}, std::string(kNetApp)), keyVault,
           object("access", {oneOf("mode", {"AccessPolicy", "RoleAssignment", "None"}, "AccessPolicy"),
                             oneOf("role", {"MinimalCustomRole", "KeyVaultCryptoUser"})}),
           object("crossTenant", {ref("applicationRef", Kind::CrossTenantApplication), uuid("federatedClientId")})}));
      fields.push_back(list("transitionToCMK", privateEndpointBinding()));
      break;
    }
    case Kind::PrivateEndpoint:
      fields.push_back(required(armId("subnetId", kSubnetType)));
      fields.push_back(required(armId("keyVaultResourceId", kVaultType)));
      fields.push_back(oneOf("approval", {"Automatic", "Manual"}, "Automatic"));
      break;
    case Kind::CapacityPool:
      fields.push_back(required(ref("accountRef", Kind::NetAppAccount)));
      fields.push_back(oneOf("serviceLevel", {"Standard", "Premium", "Ultra", "StandardZRS", "Flexible"}, "Premium"));
      fields.push_back(integer("sizeTiB", 1, 2048, 4));
      fields.push_back(oneOf("qosType", {"Auto", "Manual"}, "Auto"));
      fields.push_back(oneOf("encryptionType", {"Single", "Double"}, "Single"));
      break;
    case Kind::Volume: {
      FieldSpec token = required(str("creationToken", "the file path"));
      token.pattern = "^[a-zA-Z][a-zA-Z0-9\\-_]{0,79}$";
      token.patternHint = "a creation token starts with a letter and has at most 80 letters, digits, '-' and '_'";
      fields.push_back(required(ref("poolRef", Kind::CapacityPool)));
      fields.push_back(token);
      fields.push_back(integer("usageThresholdGiB", 50, 2457600, 100));
      fields.push_back(required(armId("subnetId", kSubnetType)));
      FieldSpec protocols = list("protocolTypes", oneOf("", {"NFSv3", "NFSv4.1", "CIFS"}));
      protocols.defaultValue = Json::array({"NFSv3"});
      fields.push_back(protocols);
      fields.push_back(oneOf("networkFeatures", {"Basic", "Standard", "Basic_Standard", "Standard_Basic"}, "Basic"));
      fields.push_back(oneOf("encryptionKeySource", {std::string(kNetApp), std::string(kKeyVault)}, std::string(kNetApp)));
      fields.push_back(ref("keyVaultPrivateEndpointRef", Kind::PrivateEndpoint));
      fields.push_back(armId("keyVaultPrivateEndpointId", kPrivateEndpointType));
      break;
    }
    case Kind::CrossTenantApplication:
      fields.insert(fields.begin(), str("tenant", "credential name of the tenant where the app is registered"));
      fields.push_back(required(str("displayName")));
      fields.push_back(required(ref("identityRef", Kind::UserAssignedIdentity)));
      fields.push_back(required(object("customer", {required(uuid("tenantId")), required(armId("keyVaultResourceId", kVaultType)),
                                                    str("credential", "credential name for the customer tenant")})));
      break;
  }
  return object("spec", std::move(fields));
}

FieldSpec metadataSchema() {
  FieldSpec name = required(str("name"));
  name.format = Format::Dns1123Label;
  return object("metadata", {name, {.name = "labels", .type = FieldType::StringMap},
                             {.name = "annotations", .type = FieldType::StringMap}});
}

FieldSpec buildDocumentSchema(Kind kind) {
  return object("", {required(oneOf("apiVersion", {std::string(kApiVersion)})),
                     required(oneOf("kind", {std::string(kindName(kind))})), required(metadataSchema()),
                     required(buildSpecSchema(kind))});
}

template <typename Build>
const FieldSpec& cached(Kind kind, Build build) {
  static const auto table = [&] {
    std::map<Kind, FieldSpec> out;
    for (Kind k : allKinds()) out.emplace(k, build(k));
    return out;
  }();
  return table.at(kind);
}

// ---- per-document rules -----------------------------------------------------------------------

// Reports errors for one document, at the best location known for a field path.
struct Reporter {
  const Document& document;
  std::vector<ManifestError>& errors;

  SourceLocation at(const std::string& path) const {
    for (std::string p = path;; p = p.substr(0, p.find_last_of(".["))) {
      if (auto it = document.fieldLocations.find(p); it != document.fieldLocations.end()) return it->second;
      if (p.find_first_of(".[") == std::string::npos) return document.source;
    }
  }
  void operator()(const std::string& path, std::string message) const {
    errors.push_back({at(path), document.key.str(), path, std::move(message)});
  }
};

std::string text(const Json& spec, const Json::json_pointer& pointer) {
  return spec.contains(pointer) && spec.at(pointer).is_string() ? spec.at(pointer).get<std::string>() : std::string();
}

// "set exactly one of a or b" for a Ref/Id pair; `needed` says whether one is required.
void exactlyOne(const Reporter& report, const Json& object, const std::string& path, const std::string& a,
                const std::string& b, bool needed) {
  bool hasA = object.contains(a), hasB = object.contains(b);
  if (hasA && hasB) report(path + "." + b, "set only one of " + a + " or " + b);
  if (needed && !hasA && !hasB) report(path + "." + a, "is required (or set " + b + ")");
}

void checkAccountRules(const Reporter& report, const Json& spec) {
  const std::string type = text(spec, "/identity/type"_json_pointer);
  const bool cmk = text(spec, "/encryption/keySource"_json_pointer) == kKeyVault;
  if (spec.contains("identity")) {
    const Json& identity = spec["identity"];
    if (type == "UserAssigned") {
      exactlyOne(report, identity, "spec.identity", "userAssignedIdentityRef", "userAssignedIdentityId", true);
    } else {
      for (const char* field : {"userAssignedIdentityRef", "userAssignedIdentityId"})
        if (identity.contains(field)) report(std::string("spec.identity.") + field, "needs identity.type UserAssigned");
    }
  }
  if (cmk && !spec["encryption"].contains("keyVault"))
    report("spec.encryption.keyVault", "is required when keySource is Microsoft.KeyVault");
  if (cmk && (type.empty() || type == "None"))
    report(spec.contains("identity") ? "spec.identity.type" : "spec.encryption.keySource",
           "encryption with Microsoft.KeyVault needs an identity: set spec.identity.type to SystemAssigned or UserAssigned");
  if (spec.contains("encryption")) {
    const Json& encryption = spec["encryption"];
    if (encryption.contains("access") && encryption["access"].contains("role") &&
        text(encryption, "/access/mode"_json_pointer) != "RoleAssignment")
      report("spec.encryption.access.role", "needs access.mode RoleAssignment");
    if (encryption.contains("crossTenant")) {
      if (type != "UserAssigned") report("spec.encryption.crossTenant", "cross-tenant keys need identity.type UserAssigned");
      exactlyOne(report, encryption["crossTenant"], "spec.encryption.crossTenant", "applicationRef", "federatedClientId", true);
    }
    if (encryption.contains("keyVault") && encryption["keyVault"].contains("privateEndpoints")) {
      const Json& items = encryption["keyVault"]["privateEndpoints"];
      for (std::size_t i = 0; i < items.size(); ++i)
        exactlyOne(report, items[i], "spec.encryption.keyVault.privateEndpoints[" + std::to_string(i) + "]",
                   "privateEndpointRef", "privateEndpointId", true);
    }
  }
  if (spec.contains("transitionToCMK")) {
    const Json& items = spec["transitionToCMK"];
    if (!items.empty() && !cmk) report("spec.transitionToCMK", "needs encryption.keySource Microsoft.KeyVault");
    std::set<std::string> vnets;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string path = "spec.transitionToCMK[" + std::to_string(i) + "]";
      exactlyOne(report, items[i], path, "privateEndpointRef", "privateEndpointId", true);
      std::string vnet = items[i].value("virtualNetworkId", "");
      std::ranges::transform(vnet, vnet.begin(), ::tolower);
      if (!vnets.insert(vnet).second) report(path + ".virtualNetworkId", "this VNet is listed twice");
    }
  }
}

void checkVolumeRules(const Reporter& report, const Json& spec) {
  const bool cmk = spec.value("encryptionKeySource", "") == kKeyVault;
  if (cmk) {
    if (spec.value("networkFeatures", "") != "Standard")
      report(spec.contains("networkFeatures") && report.document.fieldLocations.contains("spec.networkFeatures")
                 ? "spec.networkFeatures"
                 : "spec.encryptionKeySource",
             "a volume with encryptionKeySource Microsoft.KeyVault needs networkFeatures Standard");
    exactlyOne(report, spec, "spec", "keyVaultPrivateEndpointRef", "keyVaultPrivateEndpointId", false);
    if (!spec.contains("keyVaultPrivateEndpointRef") && !spec.contains("keyVaultPrivateEndpointId"))
      report("spec.encryptionKeySource",
             "a volume with encryptionKeySource Microsoft.KeyVault needs keyVaultPrivateEndpointRef or keyVaultPrivateEndpointId");
  } else {
    for (const char* field : {"keyVaultPrivateEndpointRef", "keyVaultPrivateEndpointId"})
      if (spec.contains(field)) report(std::string("spec.") + field, "only applies when encryptionKeySource is Microsoft.KeyVault");
  }
}

// Fills spec.azure from the defaults; reports what stays missing when coordinates are required.
void applyAzureDefaults(Document& document, const ManifestDefaults& defaults, std::vector<ManifestError>& errors) {
  Reporter report{document, errors};
  Json& azure = document.spec["azure"];
  if (azure.is_null()) azure = Json::object();
  auto fill = [&](const char* field, const std::string& fallback) {
    if (!azure.contains(field) && !fallback.empty()) azure[field] = fallback;
    if (!azure.contains(field) && defaults.requireAzureCoordinates)
      report(std::string("spec.azure.") + field, "is required (no default in the operator configuration)");
    return azure.value(field, "");
  };
  AzureCoordinates c;
  c.tenant = fill("tenant", defaults.tenant);
  c.subscriptionId = fill("subscriptionId", defaults.subscriptionId);
  c.resourceGroup = fill("resourceGroup", defaults.resourceGroup);
  c.location = fill("location", defaults.location);
  if (!azure.contains("name")) {
    azure["name"] = document.key.name;
    if (!std::regex_match(document.key.name, std::regex(azureNamePattern(document.key.kind))))
      report("metadata.name", "'" + document.key.name + "' is not a valid Azure name for a " +
                                  std::string(kindName(document.key.kind)) + "; set spec.azure.name");
  }
  c.name = azure["name"];
  document.azure = c;
}

}  // namespace

const FieldSpec& specSchema(Kind kind) { return cached(kind, buildSpecSchema); }
const FieldSpec& documentSchema(Kind kind) { return cached(kind, buildDocumentSchema); }

Json jsonSchemaFor(Kind kind) {
  Json schema = toJsonSchema(documentSchema(kind));
  Json out = {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
              {"$id", "https://anf-cmk.io/schema/v1alpha1/" + std::string(kindName(kind)) + ".json"},
              {"title", std::string(kindName(kind))}};
  out.update(schema);
  return out;
}

std::string specGeneration(const Json& spec) {
  const std::string canonical = spec.dump();  // nlohmann's object keys are sorted: canonical
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(canonical.data(), canonical.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 8 && i < size; ++i) out += {kHex[digest[i] >> 4], kHex[digest[i] & 15]};
  return out;
}

DocumentResult validateDocument(const YAML::Node& root, const std::string& file, const ManifestDefaults& defaults,
                                std::size_t& nodeBudget) {
  DocumentResult result;
  Document document;
  WalkContext context{.file = file, .errors = &result.errors, .locations = &document.fieldLocations,
                      .references = &document.references, .nodeBudget = nodeBudget};
  document.source = context.at(root);
  if (!root.IsMap()) {
    context.error(document.source, "", "a manifest document must be a mapping with apiVersion, kind, metadata and spec");
    return result;
  }
  // Identify the document first so that every later message names it.
  // yaml-cpp throws on type queries of missing keys: ask IsDefined() first.
  auto has = [](const YAML::Node& n, YAML::NodeType::value type) { return n.IsDefined() && n.Type() == type; };
  std::optional<Kind> kind;
  const YAML::Node kindNode = root["kind"];
  if (has(kindNode, YAML::NodeType::Scalar)) kind = parseKind(kindNode.Scalar());
  const YAML::Node metadataNode = root["metadata"];
  const YAML::Node nameNode = has(metadataNode, YAML::NodeType::Map) ? metadataNode["name"] : YAML::Node();
  const bool named = has(nameNode, YAML::NodeType::Scalar) && isDns1123Label(nameNode.Scalar());
  if (kind && named) {
    result.key = DocumentKey{*kind, nameNode.Scalar()};
    context.document = result.key->str();
  }
  Json checked;
  if (kind) {
    checked = checkNode(root, documentSchema(*kind), "", context);
  } else {
    if (!kindNode.IsDefined() || kindNode.IsNull()) {
      context.error(document.source, "kind", "is required");
    } else if (!kindNode.IsScalar()) {
      context.error(context.at(kindNode), "kind", "expected a string, got a " + std::string(kindNode.IsMap() ? "mapping" : "list"));
    } else {
      std::vector<std::string> names;
      for (Kind k : allKinds()) names.emplace_back(kindName(k));
      std::string message = "unknown kind '" + kindNode.Scalar() + "'";
      if (auto guess = closestMatch(kindNode.Scalar(), names)) message += " (did you mean '" + *guess + "'?)";
      context.error(context.at(kindNode), "kind", message + "; known kinds: " + [&] {
        std::string all;
        for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
        return all;
      }());
    }
    FieldSpec apiVersion = required(oneOf("apiVersion", {std::string(kApiVersion)}));
    if (root["apiVersion"].IsDefined()) checkNode(root["apiVersion"], apiVersion, "apiVersion", context);
    checkNode(root["metadata"], metadataSchema(), "metadata", context);
  }
  nodeBudget = context.nodeBudget;
  result.budgetExceeded = context.budgetExceeded;
  result.exhaustedAt = context.exhaustedAt;
  result.exhaustedPath = context.exhaustedPath;
  if (!kind || !result.key || context.budgetExceeded || !result.errors.empty()) return result;

  document.key = *result.key;
  const Json& metadata = checked["metadata"];
  if (metadata.contains("labels")) document.labels = metadata["labels"].get<std::map<std::string, std::string>>();
  if (metadata.contains("annotations"))
    document.annotations = metadata["annotations"].get<std::map<std::string, std::string>>();
  Reporter report{document, result.errors};
  if (auto it = document.annotations.find(std::string(kReconcilePolicyAnnotation)); it != document.annotations.end()) {
    static const std::map<std::string, ReconcilePolicy> policies = {
        {"manage", ReconcilePolicy::Manage}, {"observe", ReconcilePolicy::Observe}, {"skip", ReconcilePolicy::Skip}};
    if (auto policy = policies.find(it->second); policy != policies.end())
      document.reconcilePolicy = policy->second;
    else
      report("metadata.annotations." + it->first, "'" + it->second + "' is not one of manage, observe, skip");
  }
  document.spec = checked["spec"];
  document.deletionPolicy = document.spec.value("deletionPolicy", "Retain") == "Delete" ? DeletionPolicy::Delete : DeletionPolicy::Retain;
  if (*kind == Kind::CrossTenantApplication) {
    if (!document.spec.contains("tenant") && !defaults.tenant.empty()) document.spec["tenant"] = defaults.tenant;
    if (!document.spec.contains("tenant") && defaults.requireAzureCoordinates)
      report("spec.tenant", "is required (no default in the operator configuration)");
  } else {
    applyAzureDefaults(document, defaults, result.errors);
  }
  if (*kind == Kind::NetAppAccount) checkAccountRules(report, document.spec);
  if (*kind == Kind::Volume) checkVolumeRules(report, document.spec);
  if (!result.errors.empty()) return result;
  document.generation = specGeneration(document.spec);
  result.document = std::move(document);
  return result;
}

// ---- set rules ----------------------------------------------------------------------------------

namespace {

const Document* find(const DocumentMap& documents, Kind kind, const std::string& name) {
  auto it = documents.find({kind, name});
  return it == documents.end() ? nullptr : &it->second;
}

const Document* referenced(const DocumentMap& documents, const Document& from, const std::string& path) {
  for (const auto& r : from.references)
    if (r.fieldPath == path) return find(documents, r.target.kind, r.target.name);
  return nullptr;
}

std::string lowerVnet(const std::string& subnetId) {
  auto vnet = azure::virtualNetworkOf(subnetId);
  std::ranges::transform(vnet, vnet.begin(), ::tolower);
  return vnet;
}

void checkReferences(const DocumentMap& documents, const Document& document,
                     std::vector<ManifestError>& errors) {
  Reporter report{document, errors};
  for (const auto& r : document.references) {
    if (documents.contains(r.target)) continue;
    std::string message;
    for (Kind other : allKinds())
      if (other != r.target.kind && documents.contains({other, r.target.name}))
        message = "'" + r.target.name + "' is a " + std::string(kindName(other)) + ", expected a " +
                  std::string(kindName(r.target.kind));
    if (message.empty()) {
      std::vector<std::string> names;
      for (const auto& [key, d] : documents)
        if (key.kind == r.target.kind) names.push_back(key.name);
      message = "no " + std::string(kindName(r.target.kind)) + " named '" + r.target.name + "'";
      if (auto guess = closestMatch(r.target.name, names)) message += " (did you mean '" + *guess + "'?)";
    }
    report(r.fieldPath, message);
  }
}

void checkVolume(const DocumentMap& documents, const Document& volume, std::vector<ManifestError>& errors) {
  Reporter report{volume, errors};
  const Json& spec = volume.spec;
  if (spec.value("encryptionKeySource", "") != kKeyVault) return;
  const std::string vnet = lowerVnet(spec.value("subnetId", ""));
  if (const Document* pe = referenced(documents, volume, "spec.keyVaultPrivateEndpointRef")) {
    const std::string peSubnet = pe->spec.value("subnetId", "");
    if (azure::equalsIgnoreCase(peSubnet, spec.value("subnetId", "")))
      report("spec.keyVaultPrivateEndpointRef", pe->key.str() + " is in the volume's delegated subnet; it needs another subnet of the same VNet");
    else if (lowerVnet(peSubnet) != vnet)
      report("spec.keyVaultPrivateEndpointRef", pe->key.str() + " is in VNet " + azure::virtualNetworkOf(peSubnet) +
                                                     ", not in the volume's VNet " + azure::virtualNetworkOf(spec.value("subnetId", "")));
  }
  const Document* pool = referenced(documents, volume, "spec.poolRef");
  const Document* account = pool ? referenced(documents, *pool, "spec.accountRef") : nullptr;
  if (!account || text(account->spec, "/encryption/keySource"_json_pointer) == kKeyVault) return;
  for (const auto& t : account->spec.value("transitionToCMK", Json::array())) {
    std::string listed = t.value("virtualNetworkId", "");
    std::ranges::transform(listed, listed.begin(), ::tolower);
    if (listed == vnet) return;
  }
  report("spec.encryptionKeySource", "the pool's account " + account->key.str() +
                                         " does not use encryption.keySource Microsoft.KeyVault (nor list this volume's VNet in transitionToCMK)");
}

void checkAccount(const DocumentMap& documents, const Document& account, std::vector<ManifestError>& errors) {
  Reporter report{account, errors};
  // Each private endpoint must sit in the VNet it is listed for.
  auto checkBindings = [&](const Json& items, const std::string& base) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string path = base + "[" + std::to_string(i) + "].privateEndpointRef";
      const Document* pe = referenced(documents, account, path);
      if (!pe) continue;
      std::string vnet = items[i].value("virtualNetworkId", "");
      std::ranges::transform(vnet, vnet.begin(), ::tolower);
      if (lowerVnet(pe->spec.value("subnetId", "")) != vnet)
        report(path, pe->key.str() + " is not in VNet " + items[i].value("virtualNetworkId", ""));
    }
  };
  checkBindings(account.spec.value("transitionToCMK", Json::array()), "spec.transitionToCMK");
  if (account.spec.contains("encryption") && account.spec["encryption"].contains("keyVault"))
    checkBindings(account.spec["encryption"]["keyVault"].value("privateEndpoints", Json::array()),
                  "spec.encryption.keyVault.privateEndpoints");
  // A cross-tenant application federates one identity; the account must use that same identity.
  const Document* app = referenced(documents, account, "spec.encryption.crossTenant.applicationRef");
  const Document* identity = referenced(documents, account, "spec.identity.userAssignedIdentityRef");
  if (app && identity) {
    const std::string federated = app->spec.value("identityRef", "");
    if (federated != identity->key.name)
      report("spec.encryption.crossTenant.applicationRef", app->key.str() + " federates UserAssignedIdentity/" + federated +
                                                               ", but the account uses " + identity->key.str());
  }
}

}  // namespace

std::vector<ReferenceCycle> referenceCyclesFrom(const DocumentMap& documents, const std::vector<DocumentKey>& starts) {
  std::vector<ReferenceCycle> cycles;
  enum class Mark { Visiting, Done };
  std::map<DocumentKey, Mark> marks;
  std::vector<const Document*> stack;
  std::set<std::set<DocumentKey>> reported;
  std::function<void(const Document&)> visit = [&](const Document& d) {
    marks[d.key] = Mark::Visiting;
    stack.push_back(&d);
    for (const auto& r : d.references) {
      auto target = documents.find(r.target);
      if (target == documents.end()) continue;
      auto mark = marks.find(r.target);
      if (mark == marks.end()) {
        visit(target->second);
      } else if (mark->second == Mark::Visiting) {
        auto start = std::ranges::find_if(stack, [&](const Document* s) { return s->key == r.target; });
        ReferenceCycle cycle;
        std::string chain;
        for (auto it = start; it != stack.end(); ++it) {
          cycle.members.insert((*it)->key);
          chain += (*it)->key.str() + " -> ";
        }
        if (!reported.insert(cycle.members).second) continue;
        std::vector<ManifestError> error;
        Reporter{d, error}(r.fieldPath, "reference cycle: " + chain + r.target.str());
        cycle.error = std::move(error.front());
        cycles.push_back(std::move(cycle));
      }
    }
    stack.pop_back();
    marks[d.key] = Mark::Done;
  };
  for (const auto& key : starts)
    if (auto d = documents.find(key); d != documents.end() && !marks.contains(key)) visit(d->second);
  return cycles;
}

std::vector<ManifestError> findReferenceCycles(const DocumentMap& documents) {
  std::vector<DocumentKey> all;
  for (const auto& [key, d] : documents) all.push_back(key);
  std::vector<ManifestError> errors;
  for (auto& cycle : referenceCyclesFrom(documents, all)) errors.push_back(std::move(cycle.error));
  return errors;
}

std::vector<ManifestError> validateDocumentInSet(const DocumentMap& documents, const Document& document) {
  std::vector<ManifestError> errors;
  checkReferences(documents, document, errors);
  if (document.key.kind == Kind::Volume) checkVolume(documents, document, errors);
  if (document.key.kind == Kind::NetAppAccount) checkAccount(documents, document, errors);
  return errors;
}

std::vector<ManifestError> validateDocumentSet(const DocumentMap& documents) {
  std::vector<ManifestError> errors;
  for (const auto& [key, d] : documents) {
    auto own = validateDocumentInSet(documents, d);
    errors.insert(errors.end(), own.begin(), own.end());
  }
  auto cycles = findReferenceCycles(documents);
  errors.insert(errors.end(), cycles.begin(), cycles.end());
  return errors;
}

void sortErrors(std::vector<ManifestError>& errors) {
  auto tie = [](const ManifestError& e) { return std::tie(e.location, e.document, e.fieldPath, e.message); };
  std::ranges::sort(errors, [&](const auto& a, const auto& b) { return tie(a) < tie(b); });
  auto dup = std::ranges::unique(errors, [&](const auto& a, const auto& b) { return tie(a) == tie(b); });
  errors.erase(dup.begin(), dup.end());
}

}  // namespace anf::controller
