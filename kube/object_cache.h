#pragma once
// The bookkeeping of list-then-watch for one resource type (client-go's Reflector + its Store): the objects
// as last seen by name, the resourceVersion to resume a watch from, and what each list or event changed.
// It is what makes "miss no event, apply none twice" hold across reconnects and relists:
// - a watch resumes from the last resourceVersion seen (an event's or a bookmark's), so the server sends
//   exactly what came after it;
// - after 410 Gone (etcd compacted past it) a relist replaces the store, and the change is the difference
//   between the old and the new contents: objects deleted while no watch ran come out as deletions, objects
//   unchanged since the last event come out as nothing;
// - an event carrying a version already held (a replay) or deleting an unknown object changes nothing.
// Pure: no I/O, no clock; not thread-safe.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace anf::kube {

using Json = nlohmann::json;

struct WatchEvent {
  enum class Type { Added, Modified, Deleted, Bookmark, Error };
  Type type = Type::Error;
  Json object;  // the object; for Error, the Status
};

/// One line of a watch stream ({"type": ..., "object": ...}); nullopt when it is not one.
std::optional<WatchEvent> parseWatchLine(std::string_view line);

/// What a list or an event changed in the store.
struct StoreChange {
  std::vector<Json> upserted;         // new or changed objects (as they are now)
  std::vector<std::string> deleted;   // names
  bool empty() const { return upserted.empty() && deleted.empty(); }
};

class ObjectCache {
 public:
  /// A complete list: the store becomes `items`; the watch resumes from `listResourceVersion`.
  StoreChange replace(std::vector<Json> items, std::string listResourceVersion);
  /// One watch event (not Error); a Bookmark only moves the resourceVersion.
  StoreChange apply(const WatchEvent& event);
  /// Where the next watch starts; "" before the first list.
  const std::string& resourceVersion() const { return resourceVersion_; }
  /// Forgets the resourceVersion (after 410 Gone): the next step is a list.
  void expire() { resourceVersion_.clear(); }
  const Json* find(const std::string& name) const;
  const std::map<std::string, Json>& objects() const { return objects_; }

 private:
  std::map<std::string, Json> objects_;
  std::string resourceVersion_;
};

/// metadata.name, metadata.resourceVersion of an object ("" when absent).
std::string nameOf(const Json& object);
std::string resourceVersionOf(const Json& object);

}  // namespace anf::kube
