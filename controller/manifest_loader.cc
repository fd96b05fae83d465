#include "controller/manifest_loader.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <system_error>

#include <yaml-cpp/yaml.h>

namespace anf::controller {

namespace fs = std::filesystem;

namespace {

ManifestError fileError(const std::string& file, int line, int column, std::string message) {
  return {{file, line, column}, "", "", std::move(message)};
}

// Length of the UTF-8 sequence starting at text[i], or 0 when it is invalid.
std::size_t utf8Length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  if (length == 2 && c < 0xC2) return 0;  // overlong
  return length;
}

// A textual pass over YAML that bounds what the parser will see: documents, aliases and nesting depth.
// It follows quotes, comments and block scalars closely enough for a safe upper bound.
class StructureScan {
 public:
  StructureScan(const std::string& file, const ManifestLimits& limits) : file_(file), limits_(limits) {}

  std::optional<ManifestError> run(std::string_view text) {
    int line = 0;
    while (!text.empty()) {
      auto end = text.find('\n');
      std::string_view content = text.substr(0, end);
      ++line;
      if (auto error = scanLine(content, line)) return error;
      if (end == std::string_view::npos) break;
      text.remove_prefix(end + 1);
    }
    return std::nullopt;
  }

 private:
  std::optional<ManifestError> fail(int line, std::size_t column, std::string message) {
    return fileError(file_, line, static_cast<int>(column) + 1, std::move(message));
  }

  std::optional<ManifestError> scanLine(std::string_view s, int line) {
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    std::size_t indent = s.find_first_not_of(' ');
    if (indent == std::string_view::npos) return std::nullopt;  // blank
    if (blockScalarIndent_ && (indent > *blockScalarIndent_ || s[indent] == '#')) return std::nullopt;
    blockScalarIndent_.reset();
    if (quote_ == 0 && flowDepth_ == 0) {
      if (s.starts_with("---") && (s.size() == 3 || s[3] == ' ' || s[3] == '\t')) {
        if (++documents_ > limits_.maxDocumentsPerFile)
          return fail(line, 0, "more than " + std::to_string(limits_.maxDocumentsPerFile) + " documents in one file");
        blocks_.clear();
        indent = s.find_first_not_of(' ', 3);
        if (indent == std::string_view::npos) return std::nullopt;
      } else if (s[indent] != '#') {
        while (!blocks_.empty() && blocks_.back() >= indent) blocks_.pop_back();
        blocks_.push_back(indent);
        // Compact nesting on one line: "- - - key: value".
        std::size_t i = indent;
        while (i + 1 < s.size() && (s[i] == '-' || s[i] == '?') && s[i + 1] == ' ') {
          i = s.find_first_not_of(' ', i + 1);
          if (i == std::string_view::npos) break;
          blocks_.push_back(i);
        }
      }
    }
    if (blocks_.size() + flowDepth_ > limits_.maxDepth)
      return fail(line, indent, "nesting deeper than " + std::to_string(limits_.maxDepth) + " levels");
    char previous = ' ';
    for (std::size_t i = indent; i < s.size(); ++i) {
      const char c = s[i];
      if (quote_ != 0) {
        if (quote_ == '"' && c == '\\') ++i;
        else if (c == quote_) quote_ = 0;
        previous = c;
        continue;
      }
      const bool tokenStart = previous == ' ' || previous == '\t' || previous == '[' || previous == '{' ||
                              previous == ',' || previous == ':' || previous == '-' || i == indent;
      if (c == '#' && (previous == ' ' || previous == '\t' || i == indent)) break;
      if (tokenStart && (c == '\'' || c == '"')) quote_ = c;
      else if (tokenStart && (c == '[' || c == '{')) {
        if (++flowDepth_ + blocks_.size() > limits_.maxDepth)
          return fail(line, i, "nesting deeper than " + std::to_string(limits_.maxDepth) + " levels");
      } else if ((c == ']' || c == '}') && flowDepth_ > 0) --flowDepth_;
      else if (tokenStart && c == '*' && i + 1 < s.size() && s[i + 1] != ' ') {
        if (++aliases_ > limits_.maxAliases)
          return fail(line, i, "more than " + std::to_string(limits_.maxAliases) + " aliases in one file");
      } else if (tokenStart && (c == '|' || c == '>') && flowDepth_ == 0) {
        std::size_t rest = s.find_first_not_of("+-0123456789", i + 1);
        if (rest == std::string_view::npos || s[rest] == ' ' || s[rest] == '#') blockScalarIndent_ = indent;
      }
      previous = c;
    }
    return std::nullopt;
  }

  const std::string& file_;
  const ManifestLimits& limits_;
  std::size_t documents_ = 1;
  std::size_t aliases_ = 0;
  std::size_t flowDepth_ = 0;
  std::vector<std::size_t> blocks_;  // indentation of the open block levels
  std::optional<std::size_t> blockScalarIndent_;
  char quote_ = 0;
};

}  // namespace

std::optional<ManifestError> checkHostileText(std::string_view text, const std::string& fileName, const ManifestLimits& limits) {
  if (text.size() > limits.maxFileBytes)
    return fileError(fileName, 1, 1, "file is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                                         std::to_string(limits.maxFileBytes));
  int line = 1, column = 1;
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0) return fileError(fileName, line, column, "binary file (NUL byte); manifests are UTF-8 YAML text");
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r')
      return fileError(fileName, line, column, "binary file (control character " + std::to_string(c) + "); manifests are UTF-8 YAML text");
    std::size_t length = utf8Length(text, i);
    if (length == 0) return fileError(fileName, line, column, "not valid UTF-8; manifests are UTF-8 YAML text");
    i += length;
    if (c == '\n') ++line, column = 1;
    else ++column;
  }
  return StructureScan(fileName, limits).run(text);
}

FileResult loadManifestText(std::string_view text, const std::string& fileName, const LoadOptions& options) {
  FileResult result{.file = fileName};
  if (auto problem = checkHostileText(text, fileName, options.limits)) {
    result.errors.push_back(*problem);
    return result;
  }
  std::vector<YAML::Node> roots;
  try {
    roots = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    result.errors.push_back(fileError(fileName, e.mark.line + 1, e.mark.column + 1, "YAML syntax error: " + e.msg));
    return result;
  } catch (const std::exception& e) {
    result.errors.push_back(fileError(fileName, 1, 1, std::string("cannot parse YAML: ") + e.what()));
    return result;
  }
  bool allIdentified = true;
  std::size_t budget = options.limits.maxNodes;
  for (const auto& root : roots) {
    if (root.IsNull() || !root.IsDefined()) continue;  // empty document
    DocumentResult checked;
    try {
      checked = validateDocument(root, fileName, options.defaults, budget);
    } catch (const std::exception& e) {  // yaml-cpp on input we did not foresee: an error, never a crash
      result.errors.push_back(fileError(fileName, root.Mark().line + 1, root.Mark().column + 1,
                                        std::string("cannot read this document: ") + e.what()));
      allIdentified = false;
      continue;
    }
    if (checked.budgetExceeded) {
      result.errors.push_back({checked.exhaustedAt, checked.key ? checked.key->str() : "", checked.exhaustedPath,
                               "document expands to more than " + std::to_string(options.limits.maxNodes) +
                                   " nodes (YAML aliases?); refused"});
      return result;
    }
    result.errors.insert(result.errors.end(), checked.errors.begin(), checked.errors.end());
    if (checked.document) result.documents.push_back(std::move(*checked.document));
    else if (checked.key) result.invalidKeys.push_back(*checked.key);
    else allIdentified = false;
  }
  result.parsed = allIdentified;
  return result;
}

std::expected<std::string, ManifestError> readManifestText(const fs::path& file, const ManifestLimits& limits) {
  const std::string name = file.string();
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return std::unexpected(fileError(name, 0, 0, "cannot read: " + ec.message()));
  if (size > limits.maxFileBytes)
    return std::unexpected(fileError(name, 1, 1, "file is " + std::to_string(size) + " bytes, more than the limit of " +
                                                     std::to_string(limits.maxFileBytes)));
  std::ifstream in(file, std::ios::binary);
  std::string text(size, '\0');
  if (!in) return std::unexpected(fileError(name, 0, 0, "cannot read the file"));
  in.read(text.data(), static_cast<std::streamsize>(size));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

FileResult loadManifestFile(const fs::path& file, const LoadOptions& options) {
  auto text = readManifestText(file, options.limits);
  if (!text) return {.file = file.string(), .errors = {text.error()}};
  return loadManifestText(*text, file.string(), options);
}

bool isIgnoredName(std::string_view name) {
  return name.empty() || name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") ||
         name.ends_with(".swx") || name.ends_with(".tmp");
}

std::vector<fs::path> listManifestFiles(const std::vector<std::string>& paths, std::vector<ManifestError>& errors,
                                        const ManifestLimits& limits, std::vector<fs::path>* directories) {
  std::set<fs::path> files;
  auto isManifest = [](const fs::path& p) {
    const auto ext = p.extension();
    return (ext == ".yaml" || ext == ".yml") && !isIgnoredName(p.filename().string());
  };
  for (const auto& path : paths) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      errors.push_back(fileError(path, 0, 0, "no such file or directory"));
      continue;
    }
    if (!fs::is_directory(status)) {
      files.insert(fs::path(path));
      continue;
    }
    if (directories) directories->push_back(path);
    fs::recursive_directory_iterator it(path, fs::directory_options::follow_directory_symlink |
                                                  fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const auto name = it->path().filename().string();
      if (isIgnoredName(name) || it.depth() > 32) {  // dot entries: ConfigMap's ..data, .git, editor files
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (directories && it->is_directory(ec)) directories->push_back(it->path());
      if (it->is_regular_file(ec) && isManifest(it->path())) files.insert(it->path());
      if (files.size() > limits.maxFiles) {
        errors.push_back(fileError(path, 0, 0, "more than " + std::to_string(limits.maxFiles) + " manifest files"));
        return {files.begin(), files.end()};
      }
    }
    if (ec) errors.push_back(fileError(path, 0, 0, "cannot list directory: " + ec.message()));
  }
  return {files.begin(), files.end()};
}

void ManifestIndex::define(const std::string& file, bool add) {
  const auto& documents = files_[file].documents;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    const DocumentKey& key = documents[i].key;
    touched_.insert(key);
    auto& where = definitions_[key];
    if (add) {
      where.emplace(file, i);
    } else {
      where.erase({file, i});
      if (where.empty()) definitions_.erase(key);
    }
  }
}

void ManifestIndex::setFile(const std::string& file, std::vector<Document> documents, std::vector<ManifestError> errors) {
  define(file, false);
  files_[file] = FileEntry{std::move(documents), std::move(errors)};
  define(file, true);
}

void ManifestIndex::removeFile(const std::string& file) {
  if (!files_.contains(file)) return;
  define(file, false);
  files_.erase(file);
}

const std::vector<Document>& ManifestIndex::fileDocuments(const std::string& file) const {
  static const std::vector<Document> none;
  const auto it = files_.find(file);
  return it == files_.end() ? none : it->second.documents;
}

void ManifestIndex::setOtherErrors(std::vector<ManifestError> errors) { otherErrors_ = std::move(errors); }

const Document* ManifestIndex::winner(const DocumentKey& key) {
  duplicateErrors_.erase(key);
  const auto it = definitions_.find(key);
  if (it == definitions_.end()) return nullptr;
  const Document* first = nullptr;
  for (const auto& [file, index] : it->second) {
    const Document& d = files_.at(file).documents.at(index);
    if (!first) {
      first = &d;
      continue;
    }
    duplicateErrors_[key].push_back({d.source, key.str(), "metadata.name", "duplicate " + key.str() + ", already defined at " + first->source.str()});
  }
  return first;
}

namespace {

// Two versions of a document that a consumer cannot tell apart.
bool sameDocument(const Document& a, const Document& b) {
  return a.generation == b.generation && a.source == b.source && a.reconcilePolicy == b.reconcilePolicy &&
         a.deletionPolicy == b.deletionPolicy && a.labels == b.labels && a.annotations == b.annotations &&
         a.fieldLocations == b.fieldLocations;
}

}  // namespace

void ManifestIndex::collectAffected(const DocumentKey& key, bool existenceChanged, std::set<DocumentKey>& affected) const {
  affected.insert(key);
  for (Kind kind : allKinds())
    for (const auto& from : referrers_.referrers({kind, key.name})) {
      affected.insert(from);
      for (const auto& second : referrers_.referrers(from)) affected.insert(second);
    }
  if (!existenceChanged) return;
  if (const auto it = missingReferences_.find(key.kind); it != missingReferences_.end())
    affected.insert(it->second.begin(), it->second.end());
}

void ManifestIndex::revalidate(const std::set<DocumentKey>& affected) {
  for (const auto& key : affected) {
    for (auto& [kind, keys] : missingReferences_) keys.erase(key);
    setErrors_.erase(key);
    const auto doc = documents_.find(key);
    if (doc == documents_.end()) continue;
    if (auto errors = validateDocumentInSet(documents_, doc->second); !errors.empty()) setErrors_[key] = std::move(errors);
    for (const auto& ref : doc->second.references)
      if (!documents_.contains(ref.target)) missingReferences_[ref.target.kind].insert(key);
  }
}

void ManifestIndex::recheckCycles(const DocumentChanges& changes) {
  std::set<DocumentKey> changed(changes.changed.begin(), changes.changed.end());
  changed.insert(changes.removed.begin(), changes.removed.end());
  std::erase_if(cycles_, [&](const auto& cycle) {  // may be broken now; found again below when not
    return std::ranges::any_of(cycle.first, [&](const DocumentKey& k) { return changed.contains(k); });
  });
  for (auto& cycle : referenceCyclesFrom(documents_, changes.changed)) cycles_.try_emplace(cycle.members, std::move(cycle.error));
}

std::vector<ManifestError> ManifestIndex::allErrors() const {
  std::vector<ManifestError> errors = otherErrors_;
  for (const auto& [file, entry] : files_) errors.insert(errors.end(), entry.errors.begin(), entry.errors.end());
  for (const auto* byKey : {&duplicateErrors_, &setErrors_})
    for (const auto& [key, list] : *byKey) errors.insert(errors.end(), list.begin(), list.end());
  for (const auto& [members, error] : cycles_) errors.push_back(error);
  sortErrors(errors);
  return errors;
}

DocumentChanges ManifestIndex::commit(DesiredState& state) {
  DocumentChanges changes;
  std::set<DocumentKey> affected;
  for (const auto& key : touched_) {
    const Document* now = winner(key);
    const auto before = documents_.find(key);
    const bool existed = before != documents_.end();
    if (existed && now && sameDocument(before->second, *now)) continue;
    if (existed) referrers_.remove(before->second);
    if (now) {
      referrers_.add(*now);
      documents_.insert_or_assign(key, *now);
      changes.changed.push_back(key);
    } else {
      documents_.erase(key);
      changes.removed.push_back(key);
    }
    collectAffected(key, existed != (now != nullptr), affected);
  }
  touched_.clear();
  revalidate(affected);
  recheckCycles(changes);
  state.documents = documents_;
  state.errors = allErrors();
  std::set<std::string> withErrors;
  for (const auto& e : state.errors) withErrors.insert(e.location.file);
  state.filesWithErrors.assign(withErrors.begin(), withErrors.end());
  return changes;
}

DesiredState assembleDesiredState(const std::vector<FileResult>& files, std::vector<ManifestError> extraErrors) {
  ManifestIndex index;
  for (const auto& file : files) index.setFile(file.file, file.documents, file.errors);
  index.setOtherErrors(std::move(extraErrors));
  DesiredState state;
  index.commit(state);
  state.revision = 1;
  return state;
}

DesiredState loadDesiredState(const std::vector<std::string>& paths, const LoadOptions& options) {
  std::vector<ManifestError> errors;
  std::vector<FileResult> results;
  for (const auto& file : listManifestFiles(paths, errors, options.limits)) results.push_back(loadManifestFile(file, options));
  return assembleDesiredState(results, std::move(errors));
}

}  // namespace anf::controller
