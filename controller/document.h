#pragma once
// The desired state as the engine sees it: one Document per manifest document, kind-agnostic.
// Reconcilers read each kind's spec through reconcilers/documents.h; the engine only needs what is here.
#include <compare>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
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

/// The documents of a DesiredState: an ordered map (the std::map subset the code uses) that is
/// persistent. A copy shares every node (O(1)); a change copies only the O(log n) nodes on its path, so
/// each snapshot can be handed on while the next one is built from it, at a cost per changed document.
/// Copies never see each other's changes. One instance is not safe for concurrent mutation.
class DocumentMap {
 public:
  using key_type = DocumentKey;
  using mapped_type = Document;
  using value_type = std::pair<const DocumentKey, Document>;
  struct Node;
  using NodePtr = std::shared_ptr<const Node>;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = DocumentMap::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = const value_type*;
    using reference = const value_type&;
    const_iterator() = default;
    reference operator*() const;
    pointer operator->() const { return &**this; }
    const_iterator& operator++();
    const_iterator operator++(int) {
      auto before = *this;
      ++*this;
      return before;
    }
    bool operator==(const const_iterator& other) const;

   private:
    friend class DocumentMap;
    void descendLeft(const Node* node);
    std::vector<const Node*> path_;  // the nodes still to visit whose left side is being visited; back() is current
  };
  using iterator = const_iterator;

  DocumentMap() = default;
  DocumentMap(std::initializer_list<value_type> items);
  const_iterator begin() const;
  const_iterator end() const { return {}; }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  const_iterator find(const DocumentKey& key) const;
  bool contains(const DocumentKey& key) const { return find(key) != end(); }
  /// The first document whose key is not less than `key` (keys order by kind first: the documents of one kind).
  const_iterator lower_bound(const DocumentKey& key) const;
  /// Throws std::out_of_range when absent.
  const Document& at(const DocumentKey& key) const;
  /// Inserts unless present (then nothing changes); true when inserted.
  /// Like std::map's, the value is built before either argument is moved from (emplace(d.key, std::move(d))).
  template <class K, class D>
  std::pair<const_iterator, bool> emplace(K&& key, D&& document) {
    return insert(std::make_shared<value_type>(std::forward<K>(key), std::forward<D>(document)), false);
  }
  template <class K, class D>
  void insert_or_assign(K&& key, D&& document) {
    insert(std::make_shared<value_type>(std::forward<K>(key), std::forward<D>(document)), true);
  }
  std::size_t erase(const DocumentKey& key);
  /// Default-inserts when absent. The reference is this copy's own (the document is copied out of
  /// what it shared) and is valid until the next change or copy of this map.
  Document& operator[](const DocumentKey& key);
  /// operator[] that throws std::out_of_range when absent (tests that edit a document in place).
  Document& at(const DocumentKey& key);

 private:
  std::pair<const_iterator, bool> insert(std::shared_ptr<const value_type> value, bool replace);
  NodePtr root_;
  std::size_t size_ = 0;
};

/// A consistent snapshot of the desired state. Documents of a file that stopped parsing keep
/// their last good version here (and the file's errors are listed), so a broken file never
/// looks like deleted documents.
struct DesiredState {
  DocumentMap documents;
  std::vector<ManifestError> errors;
  std::vector<std::string> filesWithErrors;
  std::uint64_t revision = 0;  // increases with every snapshot a source produces
};

/// What one snapshot changed against the previous one of the same source, so that its consumer does
/// work in proportion to the change (Engine::apply).
struct DocumentChanges {
  std::vector<DocumentKey> changed;  // added, or replaced by another version (any field)
  std::vector<DocumentKey> removed;
  bool empty() const { return changed.empty() && removed.empty(); }
};

}  // namespace anf::controller
