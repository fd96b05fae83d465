#pragma once
// The desired state as the engine sees it: one Document per manifest document, kind-agnostic.
// Reconcilers read each kind's spec through reconcilers/documents.h; the engine only needs what is here.
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace anf::controller {

using Json = nlohmann::json;

inline constexpr std::string_view kApiVersion = "anf-cmk.io/v1alpha1";

enum class Kind { UserAssignedIdentity, NetAppAccount, PrivateEndpoint, CapacityPool, Volume, CrossTenantApplication };

/// "NetAppAccount" etc.
std::string_view kindName(Kind kind);
/// Exact, case-sensitive parse of a kind name.
std::optional<Kind> parseKind(std::string_view name);
/// Every kind, in dependency-friendly order (identities first, volumes last).
const std::vector<Kind>& allKinds();

/// Where a document (or a field inside it) was written: 1-based line and column.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  std::string str() const;  // "file:line:col", or "file" when the line is unknown (0)
  auto operator<=>(const SourceLocation&) const = default;
};

/// The identity of a document: kind and metadata.name. Renders as "Kind/name".
struct DocumentKey {
  Kind kind{};
  std::string name;
  std::string str() const;
  auto operator<=>(const DocumentKey&) const = default;
};

/// metadata.annotations["anf-cmk.io/reconcile-policy"].
enum class ReconcilePolicy { Manage, Observe, Skip };
/// spec.deletionPolicy: what removing the document does in Azure.
enum class DeletionPolicy { Retain, Delete };

inline constexpr std::string_view kReconcilePolicyAnnotation = "anf-cmk.io/reconcile-policy";

/// spec.azure after defaults from the operator configuration were applied.
struct AzureCoordinates {
  std::string tenant;  // credential name from the operator configuration
  std::string subscriptionId;
  std::string resourceGroup;
  std::string location;
  std::string name;  // Azure resource name; defaults to metadata.name
  auto operator<=>(const AzureCoordinates&) const = default;
};

/// A `...Ref` field naming another document.
struct Reference {
  std::string fieldPath;  // e.g. "spec.poolRef" or "spec.transitionToCMK[0].privateEndpointRef"
  DocumentKey target;
  auto operator<=>(const Reference&) const = default;
};

/// One validated manifest document.
struct Document {
  DocumentKey key;
  SourceLocation source;  // where the document starts
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  ReconcilePolicy reconcilePolicy = ReconcilePolicy::Manage;
  DeletionPolicy deletionPolicy = DeletionPolicy::Retain;
  std::optional<AzureCoordinates> azure;  // absent for CrossTenantApplication (it names spec.tenant)
  Json spec;                              // spec with defaults applied (spec.azure filled in)
  std::vector<Reference> references;      // every ...Ref in the spec
  std::string generation;                 // stable hash of `spec` (status.observedGeneration)
  /// Where each field's value is written ("spec.poolRef" -> file:line:col), for precise messages
  /// from rules that look at several documents. Paths as in Reference::fieldPath.
  std::map<std::string, SourceLocation> fieldLocations;
};

/// A problem with the manifests, rendered "file:line:col: Kind/name: field.path: message".
struct ManifestError {
  SourceLocation location;
  std::string document;   // "Kind/name", or empty when the document has no identity yet
  std::string fieldPath;  // "spec.keyVault.uri", or empty
  std::string message;
  std::string str() const;
};

/// A consistent snapshot of the desired state. Documents of a file that stopped parsing keep
/// their last good version here (and the file's errors are listed), so a broken file never
/// looks like deleted documents.
struct DesiredState {
  std::map<DocumentKey, Document> documents;
  std::vector<ManifestError> errors;
  std::vector<std::string> filesWithErrors;
  std::uint64_t revision = 0;  // increases with every snapshot a source produces
};

}  // namespace anf::controller
