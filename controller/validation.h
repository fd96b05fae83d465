#pragma once
// Validation of manifest documents: one document against the schema of its kind (types, enums,
// required fields, names, ARM IDs, key vault URIs, the per-document rules of SPEC §4), and a set of
// documents as a whole (duplicates, references, reference cycles, rules that span documents).
// Every error carries the location, the document and the field path; all errors are reported at once.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controller/document.h"
#include "controller/schema.h"

namespace YAML {
class Node;
}

namespace anf::controller {

/// Defaults of spec.azure (and CrossTenantApplication's spec.tenant) from the operator configuration.
struct ManifestDefaults {
  std::string tenant;
  std::string subscriptionId;
  std::string resourceGroup;
  std::string location;
  /// true: a spec.azure field with neither a value nor a default is an error. `validate` without
  /// --config turns it off (the daemon's configuration will provide them).
  bool requireAzureCoordinates = false;
};

/// The schema of one kind's `spec` (spec.azure and spec.deletionPolicy included where they apply).
const FieldSpec& specSchema(Kind kind);
/// The schema of a whole document of `kind` (apiVersion, kind, metadata, spec).
const FieldSpec& documentSchema(Kind kind);
/// The JSON Schema of a document of `kind`, as published in manifests/schema/<kind>.json.
Json jsonSchemaFor(Kind kind);

/// The outcome of validating one YAML document.
struct DocumentResult {
  std::optional<DocumentKey> key;   // known once kind and metadata.name are valid
  std::optional<Document> document;  // only when the document has no errors
  std::vector<ManifestError> errors;
  bool budgetExceeded = false;  // the document expands to more nodes than allowed (alias bomb)
  SourceLocation exhaustedAt;   // where it did, and in which field
  std::string exhaustedPath;
};

/// Validates one parsed YAML document of `file` and builds the Document (defaults applied,
/// references, field locations, generation). `nodeBudget` bounds the nodes visited (aliases count
/// every time), so that alias expansion cannot run away; it is decremented by what was used.
DocumentResult validateDocument(const YAML::Node& root, const std::string& file, const ManifestDefaults& defaults,
                                std::size_t& nodeBudget);

/// Rules over a whole set: references to missing documents or documents of the wrong kind,
/// reference cycles, and the cross-document rules of SPEC §4 (a CMK volume's account must use
/// Microsoft.KeyVault unless it transitions the volume's VNet; its private endpoint must be in the
/// volume's VNet and not in the delegated subnet; cross-tenant applications use the account's identity).
std::vector<ManifestError> validateDocumentSet(const DocumentMap& documents);

/// The set rules above that concern `document` (one of `documents`): its references, and the volume and
/// account rules. What a change can affect is the changed documents and those that reference them (two
/// hops: a volume's rule reads its pool's account).
std::vector<ManifestError> validateDocumentInSet(const DocumentMap& documents, const Document& document);

/// A reference cycle and its error.
struct ReferenceCycle {
  std::set<DocumentKey> members;
  ManifestError error;
};
/// The reference cycles reachable from `starts`; a new cycle always runs through a changed document.
std::vector<ReferenceCycle> referenceCyclesFrom(const DocumentMap& documents, const std::vector<DocumentKey>& starts);

/// Reference cycles among `documents`, one error per cycle ("reference cycle: A/x -> B/y -> A/x").
std::vector<ManifestError> findReferenceCycles(const DocumentMap& documents);

/// Stable hash of a spec: the first 16 hex digits of the SHA-256 of its canonical JSON.
std::string specGeneration(const Json& spec);

/// Sorts errors by file, line, column, then message, and removes exact duplicates.
void sortErrors(std::vector<ManifestError>& errors);

}  // namespace anf::controller
