// The pure parts of `source: kubernetes` (controller/kubernetes_source.h): a custom resource becomes the document a
// file would give, the resource's .status and its Events from a document's status, and who carries the finalizer;
// and the operator configuration's source block.
#include "controller/kubernetes_source.h"

#include <gtest/gtest.h>

#include "controller/conditions.h"

namespace anf::controller {
namespace {

using namespace std::chrono_literals;

const std::string kFileText = R"(apiVersion: anf-cmk.io/v1alpha1
kind: CapacityPool
metadata:
  name: pool1
  labels: {team: a}
spec:
  accountRef: anf-account
  serviceLevel: Premium
  sizeTiB: 4
  qosType: Auto
)";

Json customResource() {
  return Json{{"apiVersion", "anf-cmk.io/v1alpha1"},
              {"kind", "CapacityPool"},
              {"metadata", {{"name", "pool1"}, {"namespace", "ops"}, {"uid", "u-1"}, {"generation", 3},
                            {"resourceVersion", "77"}, {"labels", {{"team", "a"}}},
                            {"managedFields", Json::array({Json::object()})}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
              {"spec", {{"accountRef", "anf-account"}, {"serviceLevel", "Premium"}, {"sizeTiB", 4}, {"qosType", "Auto"}}},
              {"status", {{"observedGeneration", 2}}}};
}

LoadOptions options() {
  return {.defaults = {.tenant = "provider", .subscriptionId = "10000000-0000-4000-8000-0000000000a1",
                       .resourceGroup = "anf-rg", .location = "eastus"}};
}

TEST(KubernetesSource, ACustomResourceBecomesTheDocumentItsFileWouldGive) {
  const auto fromFile = loadManifestText(kFileText, "f.yaml", options());
  const auto fromApi = loadManifestText(manifestTextOf(customResource()), "kubernetes:ops/CapacityPool/pool1", options());
  ASSERT_EQ(fromFile.documents.size(), 1u);
  ASSERT_EQ(fromApi.documents.size(), 1u) << (fromApi.errors.empty() ? "" : fromApi.errors[0].str());
  EXPECT_EQ(fromApi.documents[0].key, fromFile.documents[0].key);
  EXPECT_EQ(fromApi.documents[0].spec, fromFile.documents[0].spec);
  EXPECT_EQ(fromApi.documents[0].generation, fromFile.documents[0].generation);
  EXPECT_EQ(fromApi.documents[0].labels, fromFile.documents[0].labels);
}

TEST(KubernetesSource, ResourceTypesArePluralsOfTheGroupVersion) {
  EXPECT_EQ(resourceTypeOf(Kind::CapacityPool).collection("ops"), "/apis/anf-cmk.io/v1alpha1/namespaces/ops/capacitypools");
  EXPECT_EQ(resourceTypeOf(Kind::UserAssignedIdentity).plural, "userassignedidentities");
  EXPECT_EQ(resourceTypeOf(Kind::CrossTenantApplication).plural, "crosstenantapplications");
}

TEST(KubernetesSource, OnlyTheDeletePolicyWantsTheFinalizerAndNotWhileBeingDeleted) {
  Json r = customResource();
  EXPECT_FALSE(wantsFinalizer(r));  // Retain by default
  r["spec"]["deletionPolicy"] = "Retain";
  EXPECT_FALSE(wantsFinalizer(r));
  r["spec"]["deletionPolicy"] = "Delete";
  EXPECT_TRUE(wantsFinalizer(r));
  r["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  EXPECT_FALSE(wantsFinalizer(r));
}

StoredStatus statusWith(std::string_view ready, std::string_view reason) {
  StoredStatus s{.key = {Kind::CapacityPool, "pool1"}};
  setCondition(s.status.conditions, condition::kReady, ready, reason, "message", std::chrono::system_clock::time_point(1000s));
  s.status.generation = "hash-1";
  s.status.facts = {{"resourceId", "/subscriptions/x/pool1"}};
  return s;
}

TEST(KubernetesSource, StatusCarriesTheKubernetesGenerationAndTheSameConditions) {
  const Json status = customResourceStatus(statusWith("True", "Available"), 3);
  EXPECT_EQ(status["observedGeneration"], 3);
  ASSERT_EQ(status["conditions"].size(), 1u);
  EXPECT_EQ(status["conditions"][0]["type"], "Ready");
  EXPECT_EQ(status["conditions"][0]["reason"], "Available");
  EXPECT_EQ(status["facts"]["resourceId"], "/subscriptions/x/pool1");
  EXPECT_FALSE(customResourceStatus(statusWith("True", "Available"), std::nullopt).contains("observedGeneration"));
}

TEST(KubernetesSource, AnEventPerConditionTransitionWithItsReason) {
  const Json involved{{"kind", "CapacityPool"}, {"name", "pool1"}};
  const Json creating = customResourceStatus(statusWith("False", "Creating"), 1);
  const Json ready = customResourceStatus(statusWith("True", "Available"), 1);
  auto first = conditionTransitions(Json(), creating, involved);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].reason, "Creating");
  EXPECT_EQ(first[0].type, "Warning");
  EXPECT_EQ(first[0].involvedObject, involved);
  auto next = conditionTransitions(creating, ready, involved);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].reason, "Available");
  EXPECT_EQ(next[0].type, "Normal");
  EXPECT_NE(next[0].message.find("Ready=True"), std::string::npos);
  EXPECT_TRUE(conditionTransitions(ready, ready, involved).empty());
}

TEST(StatusStoreObserver, SeesEachPersistedChangeAndEachEraseButNoUnchangedUpdate) {
  StatusStore store;  // memory only
  std::vector<std::pair<std::string, bool>> seen;  // key, entry present
  store.setObserver([&](const DocumentKey& key, const std::optional<StoredStatus>& entry) { seen.emplace_back(key.str(), entry.has_value()); });
  const DocumentKey key{Kind::CapacityPool, "pool1"};
  store.update(key, [](StoredStatus& s) { s.status.generation = "g1"; });
  store.update(key, [](StoredStatus& s) { s.status.generation = "g1"; });  // nothing changed
  store.update(key, [](StoredStatus& s) { s.status.generation = "g2"; });
  store.erase(key);
  store.setObserver(nullptr);
  store.update(key, [](StoredStatus& s) { s.status.generation = "g3"; });
  using Seen = std::vector<std::pair<std::string, bool>>;
  EXPECT_EQ(seen, (Seen{{"CapacityPool/pool1", true}, {"CapacityPool/pool1", true}, {"CapacityPool/pool1", false}}));
}

TEST(SourceConfig, DirectoryByDefaultKubernetesWithClientGoLeaderElectionDefaults) {
  auto plain = loadConfigText("controller: {workers: 2}\n", "operator.yaml", [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->source.kind, SourceKind::Directory);
  auto kube = loadConfigText("source:\n  kind: kubernetes\n  kubernetes: {namespace: ops, kubeconfig: /k}\n", "operator.yaml",
                             [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(kube);
  EXPECT_EQ(kube->source.kind, SourceKind::Kubernetes);
  EXPECT_EQ(kube->source.kubernetes.namespaceName, "ops");
  EXPECT_EQ(kube->source.kubernetes.kubeconfig, "/k");
  const auto& le = kube->source.kubernetes.leaderElection;
  EXPECT_TRUE(le.enabled);
  EXPECT_EQ(le.leaseDuration, 15s);
  EXPECT_EQ(le.renewDeadline, 10s);
  EXPECT_EQ(le.retryPeriod, 2s);
}

TEST(SourceConfig, LeaderElectionDurationsAreCheckedAsClientGoDoes) {
  auto load = [](const std::string& le) {
    return loadConfigText("source: {kind: kubernetes, kubernetes: {leaderElection: " + le + "}}\n", "operator.yaml",
                          [](const std::string&) { return std::nullopt; });
  };
  EXPECT_TRUE(load("{leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 1s}"));
  EXPECT_FALSE(load("{leaseDuration: 10s, renewDeadline: 10s}"));
  EXPECT_FALSE(load("{renewDeadline: 2s, retryPeriod: 2s}"));
  EXPECT_FALSE(load("{leaseDuration: 1500ms, renewDeadline: 1s, retryPeriod: 100ms}"));
  auto unknownKind = loadConfigText("source: {kind: etcd}\n", "operator.yaml", [](const std::string&) { return std::nullopt; });
  EXPECT_FALSE(unknownKind);
}

}  // namespace
}  // namespace anf::controller
