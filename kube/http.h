#pragma once
// The HTTP link to one Kubernetes API server, on cpprestsdk like the Azure client (azure/transport.h): TLS
// with the cluster's CA (never unverified unless the kubeconfig says insecure-skip-tls-verify), client
// certificates or a bearer token (re-read on rotation), a timeout per request, and long-lived streamed
// responses for watches. Errors are values: the API's Status (code, reason, message) or a transport
// failure (status 0). The token never appears in errors or logs.
#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <pplx/pplxtasks.h>

#include "kube/config.h"

namespace anf::kube {

using Json = nlohmann::json;

/// A failed call: the API's Status object (metav1.Status) or, with status 0, no response at all.
struct KubeError {
  int status = 0;      // HTTP status; 0: the request never got an answer
  std::string reason;  // Status.reason: NotFound, AlreadyExists, Conflict, Expired, Gone, ...
  std::string message;
  bool notFound() const { return status == 404; }
  bool conflict() const { return status == 409; }
  /// 410 Gone: the resourceVersion is older than etcd keeps (compaction): relist.
  bool gone() const { return status == 410 || reason == "Expired" || reason == "Gone"; }
  /// "409 Conflict: message" or "connection failed: message".
  std::string str() const;
};

template <typename T>
using Result = std::expected<T, KubeError>;

/// The error a non-2xx answer describes (its Status body, or the status line alone).
KubeError errorFromResponse(int status, std::string_view body);

class ApiConnection {
 public:
  /// Fails when the CA or the client key pair cannot be used.
  static std::expected<std::unique_ptr<ApiConnection>, std::string> open(KubeConfig config,
                                                                           std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~ApiConnection();
  ApiConnection(const ApiConnection&) = delete;
  ApiConnection& operator=(const ApiConnection&) = delete;

  /// One request (`path` with its query); the answer's JSON body, or null for an empty one. Blocking.
  Result<Json> call(const std::string& method, const std::string& path, const std::optional<Json>& body = std::nullopt,
                    const std::string& contentType = "application/json");
  /// A GET whose body is a stream of lines (a watch): each complete line goes to `onLine` as it arrives.
  /// Returns when the server ends the response, `cancel` is cancelled (then an error), or the link fails.
  Result<void> stream(const std::string& path, const std::function<void(std::string_view line)>& onLine,
                      pplx::cancellation_token cancel);

  const KubeConfig& config() const { return config_; }

 private:
  struct Clients;
  ApiConnection(KubeConfig config, std::unique_ptr<Clients> clients);
  KubeConfig config_;
  std::unique_ptr<Clients> clients_;
  BearerToken token_;
};
using ApiConnectionPtr = std::unique_ptr<ApiConnection>;

}  // namespace anf::kube
