#pragma once
// Where the Kubernetes API is and how to authenticate to it (client-go's rest.Config, the small part we use):
// in-cluster (the service account's token and CA, KUBERNETES_SERVICE_HOST/PORT) or a kubeconfig file (the
// current context's cluster and user: token or token file, client certificate and key, CA as data or file).
// PEM material is held as text; file references are read once, except the bearer token file, which the
// kubelet rotates and BearerToken re-reads.
#include <chrono>
#include <expected>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace anf::kube {

/// Looks up an environment variable (tests pass a map).
using Environment = std::function<std::optional<std::string>(const std::string& name)>;
Environment processEnvironment();

struct KubeConfig {
  std::string server;         // https://host:port
  std::string namespaceName;  // the context's namespace, or the pod's; "default" when neither says
  std::string caPem;          // trust for the API server (empty: the system's)
  std::string token;          // a static bearer token
  std::string tokenFile;      // or a file holding it (re-read on rotation)
  std::string clientCertPem;  // client certificate authentication
  std::string clientKeyPem;
  bool insecure = false;  // insecure-skip-tls-verify
};

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT, `dir`/token, `dir`/ca.crt, `dir`/namespace.
std::expected<KubeConfig, std::string> inClusterConfig(const Environment& env = processEnvironment(),
                                                       const std::string& dir = kServiceAccountDir);
/// The current context of a kubeconfig file (relative file references are relative to the file).
std::expected<KubeConfig, std::string> loadKubeconfig(const std::string& path);
/// `path` when set, else $KUBECONFIG when set, else in-cluster.
std::expected<KubeConfig, std::string> resolveKubeConfig(const std::string& path, const Environment& env = processEnvironment());

/// The bearer token to send: the static token, or the token file's content, re-read when the file changed
/// (the kubelet rotates projected tokens) and at least every minute (client-go's cachingTokenSource). Thread-safe.
class BearerToken {
 public:
  explicit BearerToken(const KubeConfig& config) : token_(config.token), file_(config.tokenFile) {}
  /// "" when there is none (client certificates) or the file cannot be read.
  std::string current();

 private:
  std::mutex mutex_;
  std::string token_;
  std::string file_;
  std::chrono::steady_clock::time_point readAt_{};
  long long modified_ = -1;
};

}  // namespace anf::kube
