#include "controller/schema.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

#include "azure/resource_id.h"
#include "controller/suggest.h"

namespace anf::controller {

namespace {

constexpr std::string_view kUuidPattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
constexpr std::string_view kDnsPattern = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";
constexpr std::string_view kDurationPattern = "^([0-9]+|([0-9]+(ms|s|m|h))+)$";
const std::vector<std::string> kKeyVaultSuffixes = {
    "vault.azure.net",      "vault.usgovcloudapi.net",      "vault.azure.cn",
    "managedhsm.azure.net", "managedhsm.usgovcloudapi.net", "managedhsm.azure.cn"};

std::string inQuotes(std::string_view s) {
  constexpr std::size_t kMax = 80;  // keep messages readable when someone pastes a novel
  return "'" + std::string(s.substr(0, kMax)) + (s.size() > kMax ? "...'" : "'");
}

std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return inQuotes(node.Scalar());
    default: return "null";
  }
}

std::string expected(FieldType type) {
  switch (type) {
    case FieldType::String: return "a string";
    case FieldType::Integer: return "an integer";
    case FieldType::Boolean: return "a boolean";
    case FieldType::Object: return "a mapping";
    case FieldType::Array: return "a list";
    case FieldType::StringMap: return "a mapping of strings";
  }
  return "?";
}

bool isPlain(const YAML::Node& node) { return node.Tag() == "?"; }

std::string child(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

// Case-insensitive regex for an ARM keyword or type name, for the JSON Schema ("[mM][iI]...").
std::string caseInsensitive(std::string_view word) {
  std::string out;
  for (char c : word) {
    if (std::isalpha(static_cast<unsigned char>(c)))
      out += std::string("[") + char(std::tolower(c)) + char(std::toupper(c)) + "]";
    else if (c == '.')
      out += "\\.";
    else
      out += c;
  }
  return out;
}

/// An ARM id as armIdPattern() describes it: a resource in a resource group (no extension scope, no
/// trailing slash), so that the validator and the published schema accept the same texts.
std::optional<azure::ResourceId> parseResourceInGroup(std::string_view value) {
  if (value.ends_with('/')) return std::nullopt;
  auto id = azure::ResourceId::parse(value);
  if (!id || id->resourceGroup().empty() || id->scope() || id->names().empty()) return std::nullopt;
  return *id;
}

std::string armIdPattern(std::string_view type) {
  auto slash = type.find('/');
  std::string out = "^/" + caseInsensitive("subscriptions") + "/[^/]+/" + caseInsensitive("resourceGroups") + "/[^/]+/" +
                    caseInsensitive("providers") + "/" + caseInsensitive(type.substr(0, slash));
  std::string_view rest = type.substr(slash + 1);
  while (!rest.empty()) {
    auto next = rest.find('/');
    out += "/" + caseInsensitive(rest.substr(0, next)) + "/[^/]+";
    if (next == std::string_view::npos) break;
    rest.remove_prefix(next + 1);
  }
  return out + "$";
}

std::string keyVaultUriPattern() {
  std::string alternatives;
  for (const auto& s : kKeyVaultSuffixes) {
    std::string escaped;
    for (char c : s) escaped += (c == '.') ? std::string("\\.") : std::string(1, c);
    alternatives += (alternatives.empty() ? "" : "|") + escaped;
  }
  return "^https://[a-zA-Z0-9-]{3,24}\\.(" + alternatives + ")(:443)?/?$";
}

// Checks a string against the spec's enum, format and pattern; returns false (after reporting) when invalid.
bool checkString(const std::string& value, const FieldSpec& spec, const SourceLocation& where, const std::string& path,
                 WalkContext& context) {
  if (!spec.enumValues.empty() && !std::ranges::count(spec.enumValues, value)) {
    std::string message = inQuotes(value) + " is not one of " + joined(spec.enumValues);
    if (auto guess = closestMatch(value, spec.enumValues)) message += " (did you mean '" + *guess + "'?)";
    context.error(where, path, message);
    return false;
  }
  switch (spec.format) {
    case Format::None: break;
    case Format::Dns1123Label:
      if (!isDns1123Label(value)) {
        context.error(where, path,
                      inQuotes(value) + " is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending "
                                      "with a letter or digit, at most 63 characters)");
        return false;
      }
      break;
    case Format::Uuid:
      if (!isUuid(value)) {
        context.error(where, path, inQuotes(value) + " is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
        return false;
      }
      break;
    case Format::ArmId: {
      auto id = parseResourceInGroup(value);
      if (!id) {
        context.error(where, path,
                      inQuotes(value) + " is not an ARM resource ID (/subscriptions/{id}/resourceGroups/{group}/providers/"
                                      "{namespace}/{type}/{name})");
        return false;
      }
      if (!azure::equalsIgnoreCase(id->resourceType(), spec.armType)) {
        context.error(where, path, "names a " + id->resourceType() + ", expected a " + spec.armType);
        return false;
      }
      break;
    }
    case Format::KeyVaultUri:
      if (!isKeyVaultUri(value)) {
        context.error(where, path,
                      inQuotes(value) + " is not a key vault URI (https://<vault>.vault.azure.net/, "
                                      "https://<hsm>.managedhsm.azure.net/, or a sovereign cloud's suffix)");
        return false;
      }
      break;
    case Format::Duration:
      if (!parseDurationMillis(value)) {
        context.error(where, path, inQuotes(value) + " is not a duration (like 200ms, 30s, 10m, 1h30m)");
        return false;
      }
      break;
  }
  if (!spec.pattern.empty() && !std::regex_match(value, std::regex(spec.pattern))) {
    context.error(where, path,
                  inQuotes(value) + " is not valid: " + (spec.patternHint.empty() ? "must match " + spec.pattern : spec.patternHint));
    return false;
  }
  return true;
}

Json checkScalar(const YAML::Node& node, const FieldSpec& spec, const std::string& path, WalkContext& context) {
  const auto where = context.at(node);
  if (!node.IsScalar()) {
    context.error(where, path, "expected " + expected(spec.type) + ", got " + describe(node));
    return nullptr;
  }
  const std::string& text = node.Scalar();
  switch (spec.type) {
    case FieldType::Integer: {
      std::int64_t value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (!isPlain(node) || ec != std::errc{} || end != text.data() + text.size()) {
        context.error(where, path, "expected an integer, got " + describe(node));
        return nullptr;
      }
      if (spec.minimum && value < *spec.minimum) {
        context.error(where, path, "must be at least " + std::to_string(*spec.minimum));
        return nullptr;
      }
      if (spec.maximum && value > *spec.maximum) {
        context.error(where, path, "must be at most " + std::to_string(*spec.maximum));
        return nullptr;
      }
      return value;
    }
    case FieldType::Boolean:
      if (isPlain(node) && (text == "true" || text == "false")) return text == "true";
      context.error(where, path, "expected a boolean (true or false), got " + describe(node));
      return nullptr;
    default:
      if (!checkString(text, spec, where, path, context)) return nullptr;
      if (spec.refKind && context.references) context.references->push_back({path, {*spec.refKind, text}});
      return text;
  }
}

Json checkObject(const YAML::Node& node, const FieldSpec& spec, const std::string& path, WalkContext& context) {
  const auto where = context.at(node);
  if (!node.IsMap()) {
    context.error(where, path, "expected " + expected(spec.type) + ", got " + describe(node));
    return nullptr;
  }
  Json out = Json::object();
  std::set<std::string> seen;
  std::vector<std::string> names;
  for (const auto& f : spec.fields) names.push_back(f.name);
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (context.budgetExceeded) return nullptr;
    // Copies: yaml-cpp's operator-> returns a temporary proxy, so references to its members dangle.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) {
      context.error(context.at(key), path, "field names must be strings");
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string fieldPath = child(path, name);
    // Every entry costs budget, even one only reported: aliased mappings of unknown fields multiply errors.
    if (!context.spend(key, fieldPath)) return nullptr;
    if (!seen.insert(name).second) {
      context.error(context.at(key), fieldPath, "duplicate field");
      continue;
    }
    if (spec.type == FieldType::StringMap) {
      if (!value.IsScalar()) {
        context.error(context.at(value), fieldPath, "expected a string, got " + describe(value));
        continue;
      }
      out[name] = value.Scalar();
      if (context.locations) (*context.locations)[fieldPath] = context.at(value);
      continue;
    }
    const FieldSpec* field = spec.find(name);
    if (!field) {
      std::string message = "unknown field";
      if (auto guess = closestMatch(name, names)) message += " (did you mean '" + *guess + "'?)";
      if (!spec.unknownFieldHint.empty()) message += "; " + spec.unknownFieldHint;
      context.error(context.at(key), fieldPath, message);
      continue;
    }
    Json checked = checkNode(value, *field, fieldPath, context);
    if (!checked.is_null()) out[name] = std::move(checked);
  }
  for (const auto& field : spec.fields) {
    if (out.contains(field.name) || (seen.contains(field.name) && !node[field.name].IsNull())) continue;
    if (field.defaultValue)
      out[field.name] = *field.defaultValue;
    else if (field.required)
      context.error(where, child(path, field.name), "is required");
  }
  return out;
}

}  // namespace

const FieldSpec* FieldSpec::find(std::string_view wanted) const {
  for (const auto& f : fields)
    if (f.name == wanted) return &f;
  return nullptr;
}

bool WalkContext::spend(const YAML::Node& node, const std::string& fieldPath) {
  if (budgetExceeded) return false;
  if (nodeBudget == 0) {
    budgetExceeded = true;
    exhaustedAt = node.IsDefined() ? at(node) : SourceLocation{file, 1, 1};  // an absent field has no mark
    exhaustedPath = fieldPath;
    return false;
  }
  --nodeBudget;
  return true;
}

void WalkContext::error(const SourceLocation& where, std::string fieldPath, std::string message) const {
  if (errors) errors->push_back({where, document, std::move(fieldPath), std::move(message)});
}

SourceLocation WalkContext::at(const YAML::Node& node) const {
  auto mark = node.Mark();
  return {file, mark.line + 1, mark.column + 1};
}

Json checkNode(const YAML::Node& node, const FieldSpec& spec, const std::string& path, WalkContext& context) {
  if (!context.spend(node, path)) return nullptr;
  if (!node.IsDefined() || node.IsNull()) return nullptr;
  if (context.locations) (*context.locations)[path] = context.at(node);
  switch (spec.type) {
    case FieldType::Object:
    case FieldType::StringMap: return checkObject(node, spec, path, context);
    case FieldType::Array: {
      if (!node.IsSequence()) {
        context.error(context.at(node), path, "expected a list, got " + describe(node));
        return nullptr;
      }
      Json out = Json::array();
      for (std::size_t i = 0; i < node.size() && !context.budgetExceeded; ++i) {
        Json item = checkNode(node[i], spec.item(), path + "[" + std::to_string(i) + "]", context);
        if (!item.is_null()) out.push_back(std::move(item));
      }
      return out;
    }
    default: return checkScalar(node, spec, path, context);
  }
}

Json toJsonSchema(const FieldSpec& spec) {
  Json out = Json::object();
  if (!spec.description.empty()) out["description"] = spec.description;
  switch (spec.type) {
    case FieldType::String: out["type"] = "string"; break;
    case FieldType::Integer: out["type"] = "integer"; break;
    case FieldType::Boolean: out["type"] = "boolean"; break;
    case FieldType::StringMap:
      out["type"] = "object";
      out["additionalProperties"] = {{"type", "string"}};
      break;
    case FieldType::Array:
      out["type"] = "array";
      out["items"] = toJsonSchema(spec.item());
      break;
    case FieldType::Object: {
      out["type"] = "object";
      out["additionalProperties"] = false;
      Json properties = Json::object();
      Json required = Json::array();
      for (const auto& f : spec.fields) {
        properties[f.name] = toJsonSchema(f);
        if (f.required && !f.defaultValue) required.push_back(f.name);
      }
      out["properties"] = properties;
      if (!required.empty()) out["required"] = required;
      break;
    }
  }
  if (!spec.enumValues.empty()) out["enum"] = spec.enumValues;
  if (spec.minimum) out["minimum"] = *spec.minimum;
  if (spec.maximum) out["maximum"] = *spec.maximum;
  if (spec.defaultValue) out["default"] = *spec.defaultValue;
  // The formats become patterns so that any JSON Schema validator enforces them.
  std::vector<std::string> patterns;
  switch (spec.format) {
    case Format::None: break;
    case Format::Dns1123Label: patterns.emplace_back(kDnsPattern); break;
    case Format::Uuid: patterns.emplace_back(kUuidPattern); break;
    case Format::ArmId: patterns.push_back(armIdPattern(spec.armType)); break;
    case Format::KeyVaultUri: patterns.push_back(keyVaultUriPattern()); break;
    case Format::Duration: patterns.emplace_back(kDurationPattern); break;
  }
  if (!spec.pattern.empty()) patterns.push_back(spec.pattern);
  if (patterns.size() == 1) out["pattern"] = patterns.front();
  if (patterns.size() > 1) {
    Json all = Json::array();
    for (const auto& p : patterns) all.push_back({{"pattern", p}});
    out["allOf"] = all;
  }
  if (spec.refKind) out["x-anf-ref-kind"] = std::string(kindName(*spec.refKind));
  return out;
}

std::optional<std::int64_t> parseDurationMillis(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  bool bare = std::ranges::all_of(text, [](unsigned char c) { return std::isdigit(c); });
  while (!text.empty()) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end == text.data()) return std::nullopt;
    text.remove_prefix(end - text.data());
    std::int64_t unit = 0;
    if (bare) unit = 1000;
    else if (text.starts_with("ms")) unit = 1, text.remove_prefix(2);
    else if (text.starts_with("s")) unit = 1000, text.remove_prefix(1);
    else if (text.starts_with("m")) unit = 60'000, text.remove_prefix(1);
    else if (text.starts_with("h")) unit = 3'600'000, text.remove_prefix(1);
    else return std::nullopt;
    if (value > (INT64_MAX / 4) / unit) return std::nullopt;
    total += value * unit;
  }
  return total;
}

bool isDns1123Label(std::string_view v) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (v.empty() || v.size() > 63 || !alnum(v.front()) || !alnum(v.back())) return false;
  return std::ranges::all_of(v, [&](char c) { return alnum(c) || c == '-'; });
}

bool isUuid(std::string_view v) {
  if (v.size() != 36) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? v[i] != '-' : !std::isxdigit(static_cast<unsigned char>(v[i]))) return false;
  }
  return true;
}

bool isKeyVaultUri(std::string_view v) {
  static const std::regex pattern(keyVaultUriPattern());
  return std::regex_match(v.begin(), v.end(), pattern);
}

}  // namespace anf::controller

namespace anf::controller {

namespace {

// The JSON Schema node (toJsonSchema's output) made structural, in place; see toStructuralSchema.
void makeStructural(Json& schema) {
  if (schema.contains("additionalProperties") && schema["additionalProperties"] == false)
    schema.erase("additionalProperties");
  schema.erase("x-anf-ref-kind");  // a Ref's description already names the kind
  if (schema.contains("properties"))
    for (auto& [name, property] : schema["properties"].items()) makeStructural(property);
  if (schema.contains("items")) makeStructural(schema["items"]);
  if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object())
    makeStructural(schema["additionalProperties"]);
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

Json readyColumn(const std::string& name, const std::string& field, const std::string& description) {
  return {{"name", name}, {"type", "string"}, {"description", description},
          {"jsonPath", ".status.conditions[?(@.type==\"Ready\")]." + field}};
}

// A string YAML would read as something else (null, a boolean, a number) or as nothing.
bool needsQuotes(const std::string& text) {
  static const std::regex other(
      "|~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N"
      "|[-+]?(\\.[0-9]+|[0-9][0-9_]*(\\.[0-9_]*)?)([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+"
      "|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)|[0-9]+(:[0-5]?[0-9])+");
  return std::regex_match(text, other);
}

void emit(YAML::Emitter& out, const Json& value) {
  if ((value.is_object() || value.is_array()) && value.empty()) out << YAML::Flow;  // "status: {}" on one line
  if (value.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [key, item] : value.items()) {
      out << YAML::Key << key << YAML::Value;
      emit(out, item);
    }
    out << YAML::EndMap;
  } else if (value.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& item : value) emit(out, item);
    out << YAML::EndSeq;
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (needsQuotes(text)) out << YAML::DoubleQuoted;
    out << text;
  } else if (value.is_null()) {
    out << YAML::Null;
  } else {
    out << value.dump();  // booleans and numbers as JSON writes them, which YAML reads back the same
  }
}

}  // namespace

Json toStructuralSchema(const FieldSpec& spec) {
  Json schema = toJsonSchema(spec);
  makeStructural(schema);
  return schema;
}

CustomResourceNames customResourceNames(Kind kind) {
  std::string singular = lowercase(kindName(kind));
  std::string plural = singular.ends_with('y') ? singular.substr(0, singular.size() - 1) + "ies" : singular + "s";
  // Prefixed: the plain words (volume, pool, account) are other operators' short names too.
  std::vector<std::string> shortNames;
  switch (kind) {
    case Kind::UserAssignedIdentity: shortNames = {"anfidentity"}; break;
    case Kind::NetAppAccount: shortNames = {"anfaccount"}; break;
    case Kind::PrivateEndpoint: shortNames = {"anfpe"}; break;
    case Kind::CapacityPool: shortNames = {"anfpool"}; break;
    case Kind::Volume: shortNames = {"anfvolume", "anfvol"}; break;
    case Kind::CrossTenantApplication: shortNames = {"anfapp"}; break;
  }
  return {plural, singular, shortNames};
}

Json customResourceDefinition(Kind kind, const FieldSpec& documentSchema) {
  const Json document = toStructuralSchema(documentSchema);
  const Json& properties = document.at("properties");
  // At the root a structural schema may only restrict metadata.name; apiVersion and kind are the apiserver's.
  Json root = {
      {"type", "object"},
      {"required", Json::array({"spec"})},
      {"properties",
       {{"apiVersion", {{"type", "string"}}},
        {"kind", {{"type", "string"}}},
        {"metadata", {{"type", "object"}, {"properties", {{"name", properties.at("metadata").at("properties").at("name")}}}}},
        {"spec", properties.at("spec")},
        {"status", {{"type", "object"},
                    {"description", "Written by the operator through the status subresource: observedGeneration, "
                                    "conditions (Ready, Synced, ...), azureError and the kind's own fields."},
                    {"x-kubernetes-preserve-unknown-fields", true}}}}}};
  const CustomResourceNames names = customResourceNames(kind);
  const auto slash = kApiVersion.find('/');
  Json version = {
      {"name", std::string(kApiVersion.substr(slash + 1))}, {"served", true}, {"storage", true},
      {"subresources", {{"status", Json::object()}}},
      {"schema", {{"openAPIV3Schema", root}}},
      {"additionalPrinterColumns",
       {readyColumn("READY", "status", "The Ready condition: Azure matches the spec"),
        readyColumn("REASON", "reason", "Why Ready is what it is (a stable CamelCase code)"),
        {{"name", "AGE"}, {"type", "date"}, {"jsonPath", ".metadata.creationTimestamp"}}}}};
  std::string group(kApiVersion.substr(0, slash));
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", names.plural + "." + group}}},
          {"spec",
           {{"group", group},
            {"scope", "Namespaced"},
            {"names", {{"kind", std::string(kindName(kind))}, {"listKind", std::string(kindName(kind)) + "List"},
                       {"plural", names.plural}, {"singular", names.singular}, {"shortNames", names.shortNames},
                       {"categories", Json::array({"anf-cmk"})}}},
            {"versions", Json::array({version})}}}};
}

std::string toYaml(const Json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, value);
  return std::string(out.c_str()) + "\n";
}

}  // namespace anf::controller
