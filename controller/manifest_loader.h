#pragma once
// Loading manifests from files and directories into a DesiredState: recursive `*.yaml`/`*.yml`,
// multi-document (`---`), empty documents skipped, every document validated, then the set validated
// as a whole. Hostile input (huge files, binary or non-UTF-8 text, deep nesting, alias bombs, too many
// documents) is refused with a clear error before yaml-cpp could crash or hang on it.
#include <cstddef>
#include <expected>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "controller/document.h"
#include "controller/reference_index.h"
#include "controller/validation.h"

namespace anf::controller {

/// Bounds on what one file may cost.
struct ManifestLimits {
  std::size_t maxFileBytes = 1 << 20;      // 1 MiB
  std::size_t maxDocumentsPerFile = 1000;
  std::size_t maxDepth = 64;               // nesting of mappings and lists
  std::size_t maxAliases = 1000;           // `*alias` uses per file
  std::size_t maxNodes = 200000;           // nodes per file after alias expansion (billion laughs)
  std::size_t maxFiles = 10000;            // files under all manifest paths
};

struct LoadOptions {
  ManifestDefaults defaults;
  ManifestLimits limits;
};

/// The outcome of loading one file.
struct FileResult {
  std::string file;
  std::vector<Document> documents;  // the valid documents, in file order
  std::vector<ManifestError> errors;
  /// The keys of documents that were identified (kind and name) but are invalid.
  std::vector<DocumentKey> invalidKeys;
  /// true when the file was read and parsed and every document in it could be identified; only
  /// then does a document missing from the file mean it was removed (the watcher relies on this).
  bool parsed = false;
};

/// Loads manifest text as if it were the file `fileName` (used for error locations).
FileResult loadManifestText(std::string_view text, const std::string& fileName, const LoadOptions& options = {});

/// Reads and loads one file (size checked before reading it all).
FileResult loadManifestFile(const std::filesystem::path& file, const LoadOptions& options = {});

/// Is `name` (a file name, no directory) one to skip: editor temp files (`.swp`, `~`, `.#*`) and dotfiles?
bool isIgnoredName(std::string_view name);

/// The manifest files under `paths` (files as given, directories recursively for *.yaml and *.yml,
/// following symlinks, skipping dot entries such as ConfigMap's `..data`), sorted and unique.
/// A path that does not exist, or more than limits.maxFiles files, is an error. `directories`, when
/// given, receives every directory walked (as reached, possibly through symlinks), for watching.
std::vector<std::filesystem::path> listManifestFiles(const std::vector<std::string>& paths, std::vector<ManifestError>& errors,
                                                     const ManifestLimits& limits = {},
                                                     std::vector<std::filesystem::path>* directories = nullptr);

/// Reads a file's text, refusing files over limits.maxFileBytes before reading them.
std::expected<std::string, ManifestError> readManifestText(const std::filesystem::path& file, const ManifestLimits& limits = {});

/// The desired state of a set of files, kept current one file at a time at a cost in proportion to the
/// change: of documents defined twice (kind/name), the first in file order (files by name) wins and the
/// later one is reported and dropped; the set rules (validateDocumentInSet, cycles) run again only for
/// the documents a change can affect, found through an index of references, not a scan. Not thread-safe.
class ManifestIndex {
 public:
  /// Replaces what `file` contributes: its documents (in file order) and its own errors.
  void setFile(const std::string& file, std::vector<Document> documents, std::vector<ManifestError> errors);
  void removeFile(const std::string& file);
  /// The documents `file` contributes now (empty when unknown).
  const std::vector<Document>& fileDocuments(const std::string& file) const;
  /// Errors that belong to no file (a manifest path that does not exist).
  void setOtherErrors(std::vector<ManifestError> errors);
  /// Applies the changes since the last commit. `state`'s documents are shared with the index (O(1));
  /// its errors are sorted; its revision is left alone.
  DocumentChanges commit(DesiredState& state);

 private:
  struct Definition;  // where a key is defined: (file, index in file)
  struct FileEntry {
    std::vector<Document> documents;
    std::vector<ManifestError> errors;
  };
  void define(const std::string& file, bool add);
  /// The first definition of `key` now, or nullptr; records the duplicates' errors.
  const Document* winner(const DocumentKey& key);
  /// Documents whose set rules may read `key`: those referencing it (under any kind: the "is a X" message),
  /// their referrers (a volume reads its pool's account), and, when `key` appeared or vanished, those
  /// with a missing reference of its kind (the "did you mean" guess).
  void collectAffected(const DocumentKey& key, bool existenceChanged, std::set<DocumentKey>& affected) const;
  void revalidate(const std::set<DocumentKey>& affected);
  void recheckCycles(const DocumentChanges& changes);
  std::vector<ManifestError> allErrors() const;

  std::map<std::string, FileEntry> files_;
  std::map<DocumentKey, std::set<std::pair<std::string, std::size_t>>> definitions_;
  DocumentMap documents_;
  ReferenceIndex referrers_;
  std::map<Kind, std::set<DocumentKey>> missingReferences_;  // documents with a dangling reference of a kind
  std::map<DocumentKey, std::vector<ManifestError>> duplicateErrors_;
  std::map<DocumentKey, std::vector<ManifestError>> setErrors_;
  std::map<std::set<DocumentKey>, ManifestError> cycles_;
  std::vector<ManifestError> otherErrors_;
  std::set<DocumentKey> touched_;  // keys whose definitions changed since the last commit
};

/// Merges per-file results (in order) into a DesiredState through a ManifestIndex. Errors are sorted.
DesiredState assembleDesiredState(const std::vector<FileResult>& files, std::vector<ManifestError> extraErrors = {});

/// Loads every manifest under `paths` into a DesiredState (revision 1): the one-shot path of
/// `validate` and `plan`.
DesiredState loadDesiredState(const std::vector<std::string>& paths, const LoadOptions& options = {});

/// Checks text for the limits that yaml-cpp cannot be trusted with: size, NUL bytes and other binary
/// content, UTF-8 validity, document count, alias count, nesting depth. Returns the first problem.
std::optional<ManifestError> checkHostileText(std::string_view text, const std::string& fileName, const ManifestLimits& limits);

}  // namespace anf::controller
