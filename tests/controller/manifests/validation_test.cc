#include <chrono>
#include <fstream>
#include <set>

#include <unistd.h>
#include <filesystem>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "controller/config.h"
#include "controller/manifest_loader.h"
#include "controller/validation.h"
#include "tests/controller/manifests/corpus.h"

namespace anf::controller {
namespace {

using testing::badCases;
using testing::BadCase;

ManifestDefaults providerDefaults() {
  return {.tenant = "provider", .subscriptionId = testing::kSub, .resourceGroup = "anf-rg", .location = "eastus"};
}

std::vector<std::string> errorsOf(const std::string& yaml, ManifestDefaults defaults = providerDefaults()) {
  LoadOptions options{.defaults = defaults};
  DesiredState state = assembleDesiredState({loadManifestText(yaml, "bad.yaml", options)});
  std::vector<std::string> out;
  for (const auto& e : state.errors) out.push_back(e.str());
  return out;
}

class BadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInput, ReportsExactLocationAndMessage) {
  const BadCase& c = GetParam();
  auto actual = errorsOf(c.yaml + (c.withContext ? testing::context() : ""));
  EXPECT_EQ(actual, c.errors) << [&] {
    std::string all;
    for (const auto& a : actual) all += "      \"" + a + "\",\n";
    return all;
  }();
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadInput, ::testing::ValuesIn(badCases()),
                         [](const auto& info) { return info.param.name; });

TEST(BadInputCorpus, HasAtLeastFortyDistinctCases) {
  std::set<std::string> messages;
  for (const auto& c : badCases())
    for (const auto& e : c.errors) messages.insert(e.substr(e.find(": ") + 2));
  EXPECT_GE(badCases().size(), 40u);
  EXPECT_GE(messages.size(), 40u);
}

TEST(Context, IsValid) { EXPECT_EQ(errorsOf(testing::context().substr(4)), std::vector<std::string>{}); }

}  // namespace
}  // namespace anf::controller

namespace anf::controller {
namespace {

namespace fs = std::filesystem;

const std::string kExamples = std::string(ANF_SOURCE_DIR) + "/manifests/examples";

/// Every folder under manifests/examples that holds manifests directly (a flow, or a stage of one).
std::vector<fs::path> exampleFolders() {
  std::set<fs::path> out;
  for (const auto& entry : fs::recursive_directory_iterator(kExamples))
    if (entry.path().extension() == ".yaml" && entry.path().parent_path() != fs::path(kExamples)) out.insert(entry.path().parent_path());
  return {out.begin(), out.end()};
}

LoadOptions exampleOptions() {
  auto config = loadConfigFile(kExamples + "/operator.yaml", [](const std::string&) { return std::nullopt; });
  EXPECT_TRUE(config.has_value());
  return {.defaults = config ? config->manifestDefaults(true) : ManifestDefaults{}};
}

class Example : public ::testing::TestWithParam<fs::path> {};

TEST_P(Example, IsValidWithTheDemoWorldConfiguration) {
  DesiredState state = loadDesiredState({GetParam().string()}, exampleOptions());
  std::string errors;
  for (const auto& e : state.errors) errors += e.str() + "\n";
  EXPECT_EQ(errors, "");
  EXPECT_GE(state.documents.size(), 3u);
  EXPECT_TRUE(fs::exists(GetParam() / "README.md") || fs::exists(GetParam().parent_path() / "README.md"));
}

INSTANTIATE_TEST_SUITE_P(Examples, Example, ::testing::ValuesIn(exampleFolders()), [](const auto& info) {
  std::string name = fs::relative(info.param, kExamples).string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
});

TEST(Examples, CoverEveryDocumentedFlow) {
  for (const char* flow : {"quickstart", "cmk-system-assigned", "cmk-user-assigned", "cmk-rbac-minimal-role", "rekey",
                           "identity-switch", "pmk-to-cmk-transition", "change-key-vault", "cross-tenant"})
    EXPECT_TRUE(fs::exists(fs::path(kExamples) / flow / "README.md")) << flow;
  EXPECT_GE(exampleFolders().size(), 11u);
}

TEST(Documents, CarryReferencesPoliciesAndGeneration) {
  const std::string yaml = testing::doc("Volume", "vol1", testing::volumeSpec(testing::kCmkVolume + "  deletionPolicy: Delete\n")) +
                           testing::context();
  DesiredState state = assembleDesiredState({loadManifestText(yaml, "v.yaml", {.defaults = providerDefaults()})});
  ASSERT_TRUE(state.errors.empty()) << state.errors.front().str();
  const Document& volume = state.documents.at({Kind::Volume, "vol1"});
  EXPECT_EQ(volume.references, (std::vector<Reference>{{"spec.poolRef", {Kind::CapacityPool, "pool1"}},
                                                       {"spec.keyVaultPrivateEndpointRef", {Kind::PrivateEndpoint, "pe1"}}}));
  EXPECT_EQ(volume.deletionPolicy, DeletionPolicy::Delete);
  EXPECT_EQ(volume.reconcilePolicy, ReconcilePolicy::Manage);
  EXPECT_EQ(volume.source, (SourceLocation{"v.yaml", 1, 1}));
  EXPECT_EQ(volume.fieldLocations.at("spec.poolRef"), (SourceLocation{"v.yaml", 6, 12}));
  EXPECT_EQ(volume.spec["azure"]["name"], "vol1");
  EXPECT_EQ(volume.spec["usageThresholdGiB"], 100);  // default applied
  EXPECT_EQ(volume.generation.size(), 16u);
  // Same spec written differently (flow style, other key order, comments): same generation.
  const std::string reordered = "apiVersion: anf-cmk.io/v1alpha1\nkind: Volume\nmetadata: {name: vol1, annotations: {anf-cmk.io/reconcile-policy: observe}}\n"
                                "spec: {subnetId: '" + testing::kDelegated + "', creationToken: vol1, poolRef: pool1, deletionPolicy: Delete, "
                                "keyVaultPrivateEndpointRef: pe1, encryptionKeySource: Microsoft.KeyVault, networkFeatures: Standard}  # comment\n";
  auto again = loadManifestText(reordered, "w.yaml", {.defaults = providerDefaults()});
  ASSERT_EQ(again.documents.size(), 1u);
  EXPECT_EQ(again.documents[0].generation, volume.generation);
  EXPECT_EQ(again.documents[0].reconcilePolicy, ReconcilePolicy::Observe);
  auto changed = loadManifestText(testing::doc("Volume", "vol1", testing::volumeSpec(testing::kCmkVolume + "  usageThresholdGiB: 200\n")),
                                  "x.yaml", {.defaults = providerDefaults()});
  ASSERT_EQ(changed.documents.size(), 1u);
  EXPECT_NE(changed.documents[0].generation, volume.generation);
}

TEST(Documents, AzureCoordinatesAreRequiredWhenTheConfigurationHasNoDefault) {
  auto result = loadManifestText(testing::doc("UserAssignedIdentity", "ids", "  azure: {location: westeurope}\n"), "u.yaml",
                                 {.defaults = {.tenant = "provider", .requireAzureCoordinates = true}});
  std::vector<std::string> errors;
  for (const auto& e : result.errors) errors.push_back(e.str());
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "u.yaml:6:10: UserAssignedIdentity/ids: spec.azure.subscriptionId: is required (no default in the operator configuration)",
                        "u.yaml:6:10: UserAssignedIdentity/ids: spec.azure.resourceGroup: is required (no default in the operator configuration)"}));
}

TEST(Documents, EmptyDocumentsAndCommentsAreSkipped) {
  auto result = loadManifestText("# only a comment\n---\n---\n" + testing::doc("UserAssignedIdentity", "ids", "  {}\n") + "---\n# trailing\n",
                                 "e.yaml", {.defaults = providerDefaults()});
  EXPECT_TRUE(result.errors.empty());
  EXPECT_TRUE(result.parsed);
  ASSERT_EQ(result.documents.size(), 1u);
  EXPECT_EQ(result.documents[0].source.line, 4);
}

TEST(DocumentSet, ReportsEachReferenceCycleOnce) {
  // The kinds of SPEC §4 cannot form a cycle through valid fields, so build one by hand.
  auto make = [](Kind kind, std::string name, Kind to, std::string target) {
    Document d;
    d.key = {kind, std::move(name)};
    d.source = {"c.yaml", 1, 1};
    d.references = {{"spec.ref", {to, std::move(target)}}};
    d.fieldLocations["spec.ref"] = {"c.yaml", 7, 3};
    return d;
  };
  DocumentMap documents;
  for (auto d : {make(Kind::Volume, "a", Kind::CapacityPool, "b"), make(Kind::CapacityPool, "b", Kind::NetAppAccount, "c"),
                 make(Kind::NetAppAccount, "c", Kind::Volume, "a"), make(Kind::UserAssignedIdentity, "d", Kind::UserAssignedIdentity, "d")})
    documents.emplace(d.key, d);
  std::vector<std::string> errors;
  for (const auto& e : findReferenceCycles(documents)) errors.push_back(e.str());
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "c.yaml:7:3: UserAssignedIdentity/d: spec.ref: reference cycle: UserAssignedIdentity/d -> UserAssignedIdentity/d",
                        "c.yaml:7:3: CapacityPool/b: spec.ref: reference cycle: NetAppAccount/c -> Volume/a -> CapacityPool/b -> NetAppAccount/c"}));
  documents.erase({Kind::NetAppAccount, "c"});
  documents.erase({Kind::UserAssignedIdentity, "d"});
  EXPECT_TRUE(findReferenceCycles(documents).empty());
}

TEST(DocumentSet, DuplicatesAcrossFilesNameBothPlaces) {
  const std::string pool = testing::doc("CapacityPool", "pool1", "  accountRef: acct\n");
  const std::string account = testing::doc("NetAppAccount", "acct", testing::accountSpec());
  DesiredState state = assembleDesiredState({loadManifestText(account + "---\n" + pool, "a.yaml", {.defaults = providerDefaults()}),
                                             loadManifestText(pool, "b.yaml", {.defaults = providerDefaults()})});
  ASSERT_EQ(state.errors.size(), 1u);
  EXPECT_EQ(state.errors[0].str(), "b.yaml:1:1: CapacityPool/pool1: metadata.name: duplicate CapacityPool/pool1, already defined at a.yaml:14:1");
  EXPECT_EQ(state.filesWithErrors, std::vector<std::string>{"b.yaml"});
  EXPECT_EQ(state.documents.size(), 2u);
}

TEST(Loading, DirectoriesAreReadRecursivelySkippingEditorFiles) {
  fs::path dir = fs::temp_directory_path() / ("anf-load-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "sub" / ".hidden");
  auto write = [](const fs::path& p, const std::string& text) { std::ofstream(p) << text; };
  write(dir / "a.yaml", testing::doc("UserAssignedIdentity", "one", "  {}\n"));
  write(dir / "sub" / "b.yml", testing::doc("UserAssignedIdentity", "two", "  {}\n"));
  write(dir / "sub" / "notes.txt", "not yaml");
  write(dir / "sub" / ".b.yml.swp", "garbage: [");
  write(dir / "sub" / "b.yml~", "garbage: [");
  write(dir / "sub" / ".hidden" / "c.yaml", "garbage: [");
  DesiredState state = loadDesiredState({dir.string(), (dir / "missing").string()}, {.defaults = providerDefaults()});
  ASSERT_EQ(state.errors.size(), 1u);
  EXPECT_EQ(state.errors[0].str(), (dir / "missing").string() + ": no such file or directory");
  EXPECT_EQ(state.documents.size(), 2u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace anf::controller
