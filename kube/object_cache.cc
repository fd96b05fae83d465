#include "kube/object_cache.h"

namespace anf::kube {

namespace {

std::string metadataField(const Json& object, const char* field) {
  if (!object.is_object()) return "";
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  const auto value = metadata->find(field);
  return value != metadata->end() && value->is_string() ? value->get<std::string>() : "";
}

std::optional<WatchEvent::Type> eventType(const std::string& type) {
  if (type == "ADDED") return WatchEvent::Type::Added;
  if (type == "MODIFIED") return WatchEvent::Type::Modified;
  if (type == "DELETED") return WatchEvent::Type::Deleted;
  if (type == "BOOKMARK") return WatchEvent::Type::Bookmark;
  if (type == "ERROR") return WatchEvent::Type::Error;
  return std::nullopt;
}

}  // namespace

std::string nameOf(const Json& object) { return metadataField(object, "name"); }
std::string resourceVersionOf(const Json& object) { return metadataField(object, "resourceVersion"); }

std::optional<WatchEvent> parseWatchLine(std::string_view line) {
  Json parsed = Json::parse(line, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("type") || !parsed["type"].is_string() || !parsed.contains("object"))
    return std::nullopt;
  auto type = eventType(parsed["type"].get<std::string>());
  if (!type) return std::nullopt;
  return WatchEvent{*type, std::move(parsed["object"])};
}

StoreChange ObjectCache::replace(std::vector<Json> items, std::string listResourceVersion) {
  StoreChange change;
  std::map<std::string, Json> next;
  for (auto& item : items) {
    const std::string name = nameOf(item);
    const auto before = objects_.find(name);
    if (before == objects_.end() || resourceVersionOf(before->second) != resourceVersionOf(item)) change.upserted.push_back(item);
    next[name] = std::move(item);
  }
  for (const auto& [name, object] : objects_)
    if (!next.contains(name)) change.deleted.push_back(name);
  objects_ = std::move(next);
  resourceVersion_ = std::move(listResourceVersion);
  return change;
}

StoreChange ObjectCache::apply(const WatchEvent& event) {
  StoreChange change;
  if (event.type == WatchEvent::Type::Error) return change;
  const std::string version = resourceVersionOf(event.object);
  if (!version.empty()) resourceVersion_ = version;
  if (event.type == WatchEvent::Type::Bookmark) return change;
  const std::string name = nameOf(event.object);
  const auto it = objects_.find(name);
  if (event.type == WatchEvent::Type::Deleted) {
    if (it == objects_.end()) return change;
    objects_.erase(it);
    change.deleted.push_back(name);
    return change;
  }
  if (it != objects_.end() && resourceVersionOf(it->second) == version) return change;  // a replay
  objects_[name] = event.object;
  change.upserted.push_back(event.object);
  return change;
}

const Json* ObjectCache::find(const std::string& name) const {
  const auto it = objects_.find(name);
  return it == objects_.end() ? nullptr : &it->second;
}

}  // namespace anf::kube
