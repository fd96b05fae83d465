// Kubernetes client configuration (kube/config.h): in-cluster and kubeconfig, token rotation.
#include "kube/config.h"

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

namespace anf::kube {
namespace {

namespace fs = std::filesystem;

class KubeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kube-config-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

Environment env(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST_F(KubeConfigTest, InClusterUsesTheServiceAccountAndTheServiceEnvironment) {
  write("token", "tok-1\n");
  write("ca.crt", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n");
  write("namespace", "ops\n");
  auto config = inClusterConfig(env({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}), dir_.string());
  ASSERT_TRUE(config) << config.error();
  EXPECT_EQ(config->server, "https://10.0.0.1:443");
  EXPECT_EQ(config->namespaceName, "ops");
  EXPECT_EQ(config->tokenFile, (dir_ / "token").string());
  EXPECT_NE(config->caPem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(BearerToken(*config).current(), "tok-1");
}

TEST_F(KubeConfigTest, InClusterBracketsAnIpv6Host) {
  write("token", "t");
  write("ca.crt", "c");
  auto config = inClusterConfig(env({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "443"}}), dir_.string());
  ASSERT_TRUE(config);
  EXPECT_EQ(config->server, "https://[fd00::1]:443");
  EXPECT_EQ(config->namespaceName, "default");
}

TEST_F(KubeConfigTest, OutsideAClusterInClusterSaysWhy) {
  auto config = inClusterConfig(env({}), dir_.string());
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().find("KUBERNETES_SERVICE_HOST"), std::string::npos);
}

TEST_F(KubeConfigTest, TheTokenFileIsReadAgainWhenTheKubeletRotatesIt) {
  const auto file = write("token", "first");
  KubeConfig config{.tokenFile = file};
  BearerToken token(config);
  EXPECT_EQ(token.current(), "first");
  // A rotation replaces the file (a new inode and modification time).
  write("token.new", "second");
  fs::last_write_time(dir_ / "token.new", fs::last_write_time(file) + std::chrono::seconds(5));
  fs::rename(dir_ / "token.new", file);
  EXPECT_EQ(token.current(), "second");
}

TEST_F(KubeConfigTest, AKubeconfigGivesTheCurrentContextsClusterUserAndNamespace) {
  write("ca.pem", "CA-TEXT");
  const auto path = write("config", R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: other
  cluster: {server: https://other:6443}
- name: local
  cluster: {server: https://127.0.0.1:6443, certificate-authority: ca.pem}
users:
- name: admin
  user:
    token: secret-token
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
contexts:
- name: prod
  context: {cluster: other, user: admin}
- name: dev
  context: {cluster: local, user: admin, namespace: team-a}
)");
  auto config = loadKubeconfig(path);
  ASSERT_TRUE(config) << config.error();
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");
  EXPECT_EQ(config->namespaceName, "team-a");
  EXPECT_EQ(config->caPem, "CA-TEXT");  // a relative file, relative to the kubeconfig
  EXPECT_EQ(config->token, "secret-token");
  EXPECT_EQ(config->clientCertPem, "CERT");
  EXPECT_EQ(config->clientKeyPem, "KEY");
}

TEST_F(KubeConfigTest, AKubeconfigWithoutItsCurrentContextIsRefused) {
  const auto path = write("config", "current-context: missing\ncontexts: []\nclusters: []\nusers: []\n");
  auto config = loadKubeconfig(path);
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().find("missing"), std::string::npos);
}

TEST_F(KubeConfigTest, KubeconfigEnvironmentIsUsedWhenNoPathIsGiven) {
  const auto path = write("config", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k:1"}}]
users: [{name: u, user: {}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
  auto config = resolveKubeConfig("", env({{"KUBECONFIG", path}}));
  ASSERT_TRUE(config) << config.error();
  EXPECT_EQ(config->server, "https://k:1");
  EXPECT_EQ(config->namespaceName, "default");
}

}  // namespace
}  // namespace anf::kube
