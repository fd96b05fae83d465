#pragma once
// Who names a document: the reverse of Document::references, updated per changed document (the
// engine's dependents, the ManifestIndex's revalidation) rather than rebuilt from every document.
#include <map>
#include <set>

#include "controller/document.h"

namespace anf::controller {

class ReferenceIndex {
 public:
  /// The index of every document of `documents`: a walk, for one-shot users (`plan`, tests).
  static ReferenceIndex of(const DocumentMap& documents) {
    ReferenceIndex index;
    for (const auto& [key, doc] : documents) index.add(doc);
    return index;
  }
  void add(const Document& doc) {
    for (const auto& ref : doc.references) referrers_[ref.target].insert(doc.key);
  }
  void remove(const Document& doc) {
    for (const auto& ref : doc.references) {
      const auto it = referrers_.find(ref.target);
      if (it == referrers_.end()) continue;
      it->second.erase(doc.key);
      if (it->second.empty()) referrers_.erase(it);
    }
  }
  /// The documents whose references name `target` (present or not).
  const std::set<DocumentKey>& referrers(const DocumentKey& target) const {
    static const std::set<DocumentKey> none;
    const auto it = referrers_.find(target);
    return it == referrers_.end() ? none : it->second;
  }

 private:
  std::map<DocumentKey, std::set<DocumentKey>> referrers_;
};

}  // namespace anf::controller
