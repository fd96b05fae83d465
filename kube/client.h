#pragma once
// The typed calls the operator makes to the Kubernetes API, over one ApiConnection: list (paged), watch
// (resourceVersion, bookmarks, streamed), get, create, replace (optimistic concurrency by resourceVersion),
// patch (merge or JSON patch, of the object or its /status subresource), finalizers, Events and Leases.
// Blocking calls; each runs on its caller's thread.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "kube/http.h"
#include "kube/object_cache.h"

namespace anf::kube {

/// A resource type: group (empty for core), version and plural, e.g. {"coordination.k8s.io", "v1", "leases"}.
struct ResourceType {
  std::string group;
  std::string version;
  std::string plural;
  /// "/apis/<group>/<version>/namespaces/<ns>/<plural>" ("/api/v1/..." for core).
  std::string collection(const std::string& ns) const;
  /// collection(ns) + "/<name>".
  std::string item(const std::string& ns, const std::string& name) const;
};

const ResourceType& leaseType();
const ResourceType& eventType();  // core/v1 events: what `kubectl describe` shows

struct ListResult {
  std::vector<Json> items;
  std::string resourceVersion;  // of the list: where its watch starts
};

/// A Kubernetes Event about one object (core/v1 Event).
struct EventRecord {
  Json involvedObject;  // {apiVersion, kind, name, namespace, uid}
  std::string type;     // Normal | Warning
  std::string reason;   // CamelCase
  std::string message;
  std::string component = "anf-cmk-operator";
};

class KubeClient {
 public:
  explicit KubeClient(ApiConnectionPtr connection) : connection_(std::move(connection)) {}

  /// The configured namespace (the context's or the pod's).
  const std::string& namespaceName() const { return connection_->config().namespaceName; }

  /// Every object, `limit` per page, following continue tokens. A 410 (a continue token outlived by
  /// compaction) is returned: list again from the start.
  Result<ListResult> list(const ResourceType& type, const std::string& ns, int limit = 500);
  /// Watches from `resourceVersion` with bookmarks until the server ends the watch (after about
  /// `timeoutSeconds`), `cancel` is cancelled, or an error. A 410 comes back as an error whose gone() holds,
  /// whether the server answered 410 or sent it as an ERROR event.
  Result<void> watch(const ResourceType& type, const std::string& ns, const std::string& resourceVersion,
                     const std::function<void(const WatchEvent&)>& onEvent, pplx::cancellation_token cancel,
                     int timeoutSeconds = 60);

  Result<Json> get(const ResourceType& type, const std::string& ns, const std::string& name);
  Result<Json> create(const ResourceType& type, const std::string& ns, const Json& object);
  /// PUT: refused with 409 Conflict unless object.metadata.resourceVersion is the stored one.
  Result<Json> replace(const ResourceType& type, const std::string& ns, const Json& object);
  /// A JSON merge patch (RFC 7386) of the object, or of its /status subresource.
  Result<Json> mergePatch(const ResourceType& type, const std::string& ns, const std::string& name, const Json& patch,
                          bool status = false);
  /// Sets metadata.finalizers to `finalizers` if the object is still at `resourceVersion` (409 otherwise).
  Result<Json> setFinalizers(const ResourceType& type, const std::string& ns, const std::string& name,
                             const std::string& resourceVersion, const std::vector<std::string>& finalizers);
  /// Creates a core/v1 Event in `ns`.
  Result<void> recordEvent(const std::string& ns, const EventRecord& event);

 private:
  ApiConnectionPtr connection_;
};
using KubeClientPtr = std::unique_ptr<KubeClient>;

/// Now as Kubernetes writes a MicroTime: "2006-01-02T15:04:05.000000Z".
std::string microTime(std::chrono::system_clock::time_point t);
/// RFC 3339 seconds: "2006-01-02T15:04:05Z".
std::string rfc3339(std::chrono::system_clock::time_point t);

}  // namespace anf::kube
