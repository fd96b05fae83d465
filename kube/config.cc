#include "kube/config.h"

#include <utility>  // before Boost.Asio (via cpprest) under C++23

#include <cpprest/asyncrt_utils.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace anf::kube {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::expected<std::string, std::string> base64(const std::string& data, const std::string& field) {
  try {
    auto bytes = utility::conversions::from_base64(data);
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception&) {
    return std::unexpected("kubeconfig: " + field + " is not base64");
  }
}

/// A kubeconfig `<name>-data` (base64) or `<name>` (a file, relative to the kubeconfig) field, as text.
std::expected<std::string, std::string> pemField(const YAML::Node& node, const std::string& name, const fs::path& base) {
  if (node[name + "-data"]) return base64(node[name + "-data"].as<std::string>(), name + "-data");
  if (!node[name]) return std::string();
  fs::path file = node[name].as<std::string>();
  if (file.is_relative()) file = base / file;
  auto text = readFile(file.string());
  if (!text) return std::unexpected("kubeconfig: cannot read " + name + " " + file.string());
  return *text;
}

/// The entry `name` of a kubeconfig list (clusters, users, contexts): its inner mapping.
YAML::Node named(const YAML::Node& list, const std::string& key, const std::string& name) {
  for (const auto& item : list)
    if (item["name"] && item["name"].as<std::string>() == name) return item[key];
  return YAML::Node(YAML::NodeType::Undefined);
}

std::expected<KubeConfig, std::string> fromKubeconfig(const YAML::Node& root, const fs::path& base) {
  const std::string contextName = root["current-context"] ? root["current-context"].as<std::string>() : "";
  const YAML::Node context = named(root["contexts"], "context", contextName);
  if (!context) return std::unexpected("kubeconfig: no context '" + contextName + "' (current-context)");
  const YAML::Node cluster = named(root["clusters"], "cluster", context["cluster"].as<std::string>(""));
  if (!cluster || !cluster["server"]) return std::unexpected("kubeconfig: the current context's cluster has no server");
  const YAML::Node user = named(root["users"], "user", context["user"].as<std::string>(""));
  KubeConfig config;
  config.server = cluster["server"].as<std::string>();
  config.namespaceName = context["namespace"].as<std::string>("default");
  config.insecure = cluster["insecure-skip-tls-verify"].as<bool>(false);
  auto ca = pemField(cluster, "certificate-authority", base);
  if (!ca) return std::unexpected(ca.error());
  config.caPem = *ca;
  if (user) {
    config.token = user["token"].as<std::string>("");
    if (user["tokenFile"]) {
      fs::path file = user["tokenFile"].as<std::string>();
      config.tokenFile = (file.is_relative() ? base / file : file).string();
    }
    auto cert = pemField(user, "client-certificate", base);
    auto key = pemField(user, "client-key", base);
    if (!cert) return std::unexpected(cert.error());
    if (!key) return std::unexpected(key.error());
    config.clientCertPem = *cert;
    config.clientKeyPem = *key;
  }
  return config;
}

}  // namespace

Environment processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value || !*value) return std::nullopt;
    return std::string(value);
  };
}

std::expected<KubeConfig, std::string> inClusterConfig(const Environment& env, const std::string& dir) {
  const auto host = env("KUBERNETES_SERVICE_HOST");
  const auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || !port) return std::unexpected("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset");
  KubeConfig config;
  const bool ipv6 = host->find(':') != std::string::npos;
  config.server = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + *port;
  config.tokenFile = dir + "/token";
  if (!readFile(config.tokenFile)) return std::unexpected("cannot read the service account token " + config.tokenFile);
  auto ca = readFile(dir + "/ca.crt");
  if (!ca) return std::unexpected("cannot read the service account CA " + dir + "/ca.crt");
  config.caPem = *ca;
  config.namespaceName = trimmed(readFile(dir + "/namespace").value_or("default"));
  return config;
}

std::expected<KubeConfig, std::string> loadKubeconfig(const std::string& path) {
  auto text = readFile(path);
  if (!text) return std::unexpected("cannot read kubeconfig " + path);
  try {
    return fromKubeconfig(YAML::Load(*text), fs::absolute(path).parent_path());
  } catch (const YAML::Exception& e) {
    return std::unexpected("kubeconfig " + path + ": " + e.what());
  }
}

std::expected<KubeConfig, std::string> resolveKubeConfig(const std::string& path, const Environment& env) {
  if (!path.empty()) return loadKubeconfig(path);
  if (auto fromEnv = env("KUBECONFIG")) return loadKubeconfig(fromEnv->substr(0, fromEnv->find(':')));
  return inClusterConfig(env);
}

std::string BearerToken::current() {
  if (file_.empty()) return token_;
  std::lock_guard lock(mutex_);
  struct stat st {};
  const long long modified = ::stat(file_.c_str(), &st) == 0 ? st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec : -1;
  const auto now = std::chrono::steady_clock::now();
  if (modified != modified_ || now - readAt_ > std::chrono::minutes(1)) {
    if (auto text = readFile(file_)) token_ = trimmed(*text);
    modified_ = modified;
    readAt_ = now;
  }
  return token_;
}

}  // namespace anf::kube
