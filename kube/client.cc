#include "kube/client.h"

#include <utility>  // before Boost.Asio (via cpprest) under C++23

#include <cstdio>
#include <ctime>

#include "azure/transport.h"

namespace anf::kube {

namespace {

using azure::urlEncode;

std::string withQuery(std::string path, const std::vector<std::pair<std::string, std::string>>& query) {
  char separator = '?';
  for (const auto& [name, value] : query) {
    if (value.empty()) continue;
    path += separator + name + "=" + urlEncode(value);
    separator = '&';
  }
  return path;
}

}  // namespace

std::string ResourceType::collection(const std::string& ns) const {
  const std::string base = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  return base + "/namespaces/" + ns + "/" + plural;
}

std::string ResourceType::item(const std::string& ns, const std::string& name) const { return collection(ns) + "/" + name; }

const ResourceType& leaseType() {
  static const ResourceType type{"coordination.k8s.io", "v1", "leases"};
  return type;
}

const ResourceType& eventType() {
  static const ResourceType type{"", "v1", "events"};
  return type;
}

Result<ListResult> KubeClient::list(const ResourceType& type, const std::string& ns, int limit) {
  ListResult out;
  std::string next;
  do {
    auto page = connection_->call("GET", withQuery(type.collection(ns), {{"limit", std::to_string(limit)}, {"continue", next}}));
    if (!page) return std::unexpected(page.error());
    for (auto& item : (*page)["items"]) out.items.push_back(std::move(item));
    const Json& metadata = (*page)["metadata"];
    next = metadata.value("continue", "");
    out.resourceVersion = metadata.value("resourceVersion", "");
  } while (!next.empty());
  return out;
}

Result<void> KubeClient::watch(const ResourceType& type, const std::string& ns, const std::string& resourceVersion,
                               const std::function<void(const WatchEvent&)>& onEvent, pplx::cancellation_token cancel,
                               int timeoutSeconds) {
  const std::string path = withQuery(type.collection(ns), {{"watch", "1"},
                                                           {"resourceVersion", resourceVersion},
                                                           {"allowWatchBookmarks", "true"},
                                                           {"timeoutSeconds", std::to_string(timeoutSeconds)}});
  std::optional<KubeError> streamError;
  auto streamed = connection_->stream(path, [&](std::string_view line) {
    auto event = parseWatchLine(line);
    if (!event || streamError) return;
    if (event->type == WatchEvent::Type::Error) {  // a Status: 410 Expired after compaction, most often
      streamError = errorFromResponse(event->object.value("code", 500), event->object.dump());
      return;
    }
    onEvent(*event);
  }, cancel);
  if (streamError) return std::unexpected(*streamError);
  return streamed;
}

Result<Json> KubeClient::get(const ResourceType& type, const std::string& ns, const std::string& name) {
  return connection_->call("GET", type.item(ns, name));
}

Result<Json> KubeClient::create(const ResourceType& type, const std::string& ns, const Json& object) {
  return connection_->call("POST", type.collection(ns), object);
}

Result<Json> KubeClient::replace(const ResourceType& type, const std::string& ns, const Json& object) {
  return connection_->call("PUT", type.item(ns, nameOf(object)), object);
}

Result<Json> KubeClient::mergePatch(const ResourceType& type, const std::string& ns, const std::string& name,
                                    const Json& patch, bool status) {
  return connection_->call("PATCH", type.item(ns, name) + (status ? "/status" : ""), patch, "application/merge-patch+json");
}

Result<Json> KubeClient::setFinalizers(const ResourceType& type, const std::string& ns, const std::string& name,
                                       const std::string& resourceVersion, const std::vector<std::string>& finalizers) {
  // A merge patch replaces the whole list; the resourceVersion in it is a precondition (409 when stale).
  return mergePatch(type, ns, name, Json{{"metadata", {{"resourceVersion", resourceVersion}, {"finalizers", finalizers}}}});
}

Result<void> KubeClient::recordEvent(const std::string& ns, const EventRecord& event) {
  const std::string now = rfc3339(std::chrono::system_clock::now());
  Json body{{"apiVersion", "v1"},
            {"kind", "Event"},
            {"metadata", {{"generateName", event.involvedObject.value("name", "object") + "."}, {"namespace", ns}}},
            {"involvedObject", event.involvedObject},
            {"type", event.type},
            {"reason", event.reason},
            {"message", event.message.substr(0, 1024)},
            {"source", {{"component", event.component}}},
            {"reportingComponent", event.component},
            {"firstTimestamp", now},
            {"lastTimestamp", now},
            {"count", 1}};
  auto created = create(eventType(), ns, body);
  if (!created) return std::unexpected(created.error());
  return {};
}

std::string microTime(std::chrono::system_clock::time_point t) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(micros % 1'000'000));
  return out;
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::string micro = microTime(t);
  return micro.substr(0, 19) + "Z";
}

}  // namespace anf::kube
