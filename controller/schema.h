#pragma once
// A small declarative schema (one FieldSpec tree per kind and one for the operator configuration) and
// the walker that checks a YAML tree against it. The same tables produce the JSON Schema files under
// manifests/schema/, so the C++ validator and the published schema cannot silently drift apart
// (tests/controller/manifests/schema_agreement_test.cc checks both against the same corpora).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/document.h"

namespace YAML {
class Node;
}

namespace anf::controller {

enum class FieldType { String, Integer, Boolean, Object, Array, StringMap };

/// Checks beyond the type. Each maps to a `pattern` in the JSON Schema; the C++ checks give the better message.
enum class Format {
  None,
  Dns1123Label,  // metadata.name and ...Ref values
  Uuid,          // tenant, subscription, client ids
  ArmId,         // an ARM resource ID whose type is FieldSpec::armType
  KeyVaultUri,   // https://<vault>.vault.azure.net/ (and sovereign and managed HSM suffixes)
  Duration,      // "10m", "200ms", "1h30m"
};

/// One field of a manifest or of the operator configuration.
struct FieldSpec {
  std::string name;
  FieldType type = FieldType::String;
  bool required = false;
  std::vector<std::string> enumValues;  // String: allowed values (case-sensitive)
  Format format = Format::None;
  std::string armType;                  // ArmId: "Microsoft.Network/virtualNetworks/subnets"
  std::optional<Kind> refKind;          // a ...Ref: the kind of the document it names
  std::string pattern;                  // String: ECMAScript regex the whole value must match
  std::string patternHint;              // human explanation of `pattern` for the message
  std::optional<std::int64_t> minimum, maximum;  // Integer
  std::optional<Json> defaultValue;     // applied when the field is absent
  std::vector<FieldSpec> fields;        // Object: properties; Array: exactly one element, the item
  std::string description;
  std::string unknownFieldHint;         // Object: appended to "unknown field" messages

  /// The property named `name` (Object), or nullptr.
  const FieldSpec* find(std::string_view name) const;
  /// The item spec of an Array.
  const FieldSpec& item() const { return fields.front(); }
};

/// State of one walk over a YAML document: where errors go, and the budget that stops alias bombs.
struct WalkContext {
  std::string file;
  std::string document;  // "Kind/name" for error messages, or empty
  std::vector<ManifestError>* errors = nullptr;
  std::map<std::string, SourceLocation>* locations = nullptr;  // field path -> where its value is written
  std::vector<Reference>* references = nullptr;                // every Ref field found
  std::size_t nodeBudget = 100000;  // nodes left to visit; aliases count each time they are visited
  bool budgetExceeded = false;
  SourceLocation exhaustedAt;  // the node and field where the budget ran out
  std::string exhaustedPath;

  /// Takes one node (or mapping entry) from the budget; false, remembering where, when none is left.
  bool spend(const YAML::Node& node, const std::string& fieldPath);
  void error(const SourceLocation& where, std::string fieldPath, std::string message) const;
  SourceLocation at(const YAML::Node& node) const;
};

/// Checks `node` against `spec` and returns it as JSON with defaults applied. Errors (all of them) go
/// to `context.errors`; a field with an error is left out of the result. Null or absent input gives null.
Json checkNode(const YAML::Node& node, const FieldSpec& spec, const std::string& path, WalkContext& context);

/// The JSON Schema (draft 2020-12) of a FieldSpec tree.
Json toJsonSchema(const FieldSpec& spec);

/// The structural OpenAPI v3 schema (a CustomResourceDefinition's) of a FieldSpec tree: the JSON Schema less
/// `additionalProperties: false`, which a structural schema forbids (the apiserver prunes unknown fields, and
/// rejects them under fieldValidation=Strict, kubectl's default) and the x-anf-ref-kind extension (not OpenAPI).
Json toStructuralSchema(const FieldSpec& spec);

/// A kind's names as a custom resource of group anf-cmk.io.
struct CustomResourceNames {
  std::string plural;    // "netappaccounts", "userassignedidentities"
  std::string singular;  // "netappaccount"
  std::vector<std::string> shortNames;
};
CustomResourceNames customResourceNames(Kind kind);

/// The CustomResourceDefinition (apiextensions.k8s.io/v1) of `kind`, version v1alpha1, from the schema of its
/// whole document (`documentSchema`: apiVersion, kind, metadata, spec): status subresource, printer columns
/// READY, REASON, AGE, short names and the category `anf-cmk` (`kubectl get anf-cmk` lists every kind).
Json customResourceDefinition(Kind kind, const FieldSpec& documentSchema);

/// Block-style YAML of a JSON value; strings that YAML would read as another type are quoted.
std::string toYaml(const Json& value);

/// Parses a duration like "10m", "200ms", "1h30m", "45s" (Go style; a bare integer is seconds).
std::optional<std::int64_t> parseDurationMillis(std::string_view text);

/// Is `value` a DNS-1123 label (lowercase alphanumerics and '-', alphanumeric at both ends, at most 63)?
bool isDns1123Label(std::string_view value);
/// Is `value` a UUID in 8-4-4-4-12 hex form?
bool isUuid(std::string_view value);
/// Is `value` a key vault or managed HSM URI of a known Azure cloud (https://<name>.vault.azure.net/)?
bool isKeyVaultUri(std::string_view value);

}  // namespace anf::controller
