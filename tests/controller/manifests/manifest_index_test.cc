// The persistent DocumentMap and the ManifestIndex: a change costs its documents and what references
// them, and gives the same errors as validating the whole set.
#include <utility>

#include <gtest/gtest.h>

#include "controller/manifest_loader.h"
#include "tests/controller/manifests/corpus.h"

namespace anf::controller {
namespace {

Document named(Kind kind, const std::string& name, const std::string& generation = "g1") {
  Document d;
  d.key = {kind, name};
  d.generation = generation;
  return d;
}

TEST(DocumentMap, ACopySharesItsDocumentsAndNeverSeesLaterChanges) {
  DocumentMap before;
  for (int i = 0; i < 100; ++i) before.emplace(DocumentKey{Kind::Volume, "v" + std::to_string(1000 + i)}, named(Kind::Volume, "v"));
  DocumentMap after = before;
  after.insert_or_assign(DocumentKey{Kind::Volume, "v1050"}, named(Kind::Volume, "v", "g2"));
  after.erase({Kind::Volume, "v1000"});
  after.emplace(DocumentKey{Kind::Volume, "v0"}, named(Kind::Volume, "v"));
  EXPECT_EQ(before.size(), 100u);
  EXPECT_EQ(before.at({Kind::Volume, "v1050"}).generation, "g1");
  EXPECT_TRUE(before.contains({Kind::Volume, "v1000"}));
  EXPECT_FALSE(before.contains({Kind::Volume, "v0"}));
  EXPECT_EQ(after.size(), 100u);
  EXPECT_EQ(after.at({Kind::Volume, "v1050"}).generation, "g2");
  const DocumentKey untouched{Kind::Volume, "v1099"};
  EXPECT_EQ(&std::as_const(before).at(untouched), &std::as_const(after).at(untouched));  // shared, not copied
  std::vector<std::string> names;
  for (const auto& [key, d] : after) names.push_back(key.name);
  EXPECT_TRUE(std::ranges::is_sorted(names));
  EXPECT_EQ(names.front(), "v0");
  EXPECT_EQ(names.size(), 100u);
  EXPECT_THROW((void)std::as_const(after).at({Kind::Volume, "v1000"}), std::out_of_range);
  after.at({Kind::Volume, "v1050"}).generation = "g3";  // edited in place: this copy only
  EXPECT_EQ(std::as_const(after).at({Kind::Volume, "v1050"}).generation, "g3");
  EXPECT_EQ(before.at({Kind::Volume, "v1050"}).generation, "g1");
}

TEST(DocumentMap, LowerBoundStartsTheWalkOfOneKind) {
  DocumentMap documents;
  for (int i = 0; i < 50; ++i) {
    documents.emplace(DocumentKey{Kind::Volume, "v" + std::to_string(100 + i)}, named(Kind::Volume, "v"));
    documents.emplace(DocumentKey{Kind::CapacityPool, "p" + std::to_string(100 + i)}, named(Kind::CapacityPool, "p"));
  }
  documents.emplace(DocumentKey{Kind::NetAppAccount, "a"}, named(Kind::NetAppAccount, "a"));
  std::vector<std::string> pools;
  for (auto it = documents.lower_bound({Kind::CapacityPool, ""}); it != documents.end() && it->first.kind == Kind::CapacityPool; ++it)
    pools.push_back(it->first.name);
  ASSERT_EQ(pools.size(), 50u);
  EXPECT_EQ(pools.front(), "p100");
  EXPECT_EQ(pools.back(), "p149");
  EXPECT_EQ(documents.lower_bound({Kind::Volume, "v120"})->first.name, "v120") << "a present key is its own bound";
  EXPECT_EQ(documents.lower_bound({Kind::Volume, "v120a"})->first.name, "v121");
  EXPECT_TRUE(documents.lower_bound({Kind::Volume, "w"}) == documents.end());
  EXPECT_TRUE(documents.lower_bound({Kind::CrossTenantApplication, ""}) == documents.end());
}

class Index : public ::testing::Test {
 protected:
  DocumentChanges set(const std::string& file, const std::string& text) {
    files[file] = loadManifestText(text, file, {.defaults = {.tenant = "provider", .subscriptionId = testing::kSub,
                                                             .resourceGroup = "anf-rg", .location = "eastus"}});
    index.setFile(file, files[file].documents, files[file].errors);
    return commit();
  }
  DocumentChanges remove(const std::string& file) {
    files.erase(file);
    index.removeFile(file);
    return commit();
  }
  DocumentChanges commit() {
    auto changes = index.commit(state);
    EXPECT_EQ(render(state.errors), render(fullValidation()));
    return changes;
  }
  // What validating everything again finds: duplicates by a scan of all files, then the set rules.
  std::vector<ManifestError> fullValidation() const {
    std::vector<ManifestError> errors = validateDocumentSet(state.documents);
    std::map<DocumentKey, SourceLocation> first;
    for (const auto& [name, file] : files) {
      errors.insert(errors.end(), file.errors.begin(), file.errors.end());
      for (const auto& d : file.documents)
        if (auto [it, inserted] = first.emplace(d.key, d.source); !inserted)
          errors.push_back({d.source, d.key.str(), "metadata.name", "duplicate " + d.key.str() + ", already defined at " + it->second.str()});
    }
    sortErrors(errors);
    return errors;
  }
  static std::vector<std::string> render(const std::vector<ManifestError>& errors) {
    std::vector<std::string> out;
    for (const auto& e : errors) out.push_back(e.str());
    return out;
  }
  std::vector<std::string> errors() const { return render(state.errors); }

  ManifestIndex index;
  DesiredState state;
  std::map<std::string, FileResult> files;
};

const DocumentKey kPe{Kind::PrivateEndpoint, "pe1"};
const DocumentKey kPool1{Kind::CapacityPool, "pool1"};

std::string volume(const std::string& name) {
  return testing::doc("Volume", name, testing::volumeSpec(testing::kCmkVolume));
}

TEST_F(Index, AChangeRevalidatesTheDocumentsThatReferenceIt) {
  set("ctx.yaml", testing::context());
  auto changes = set("vols.yaml", volume("vol1") + "---\n" + volume("vol2"));
  EXPECT_EQ(changes.changed.size(), 2u);
  EXPECT_TRUE(errors().empty());
  // The endpoint leaves the context file: both volumes (another file) now name a missing document.
  std::string context = testing::context();
  const auto pe = context.find("---\napiVersion: anf-cmk.io/v1alpha1\nkind: PrivateEndpoint");
  const auto next = context.find("---\n", pe + 4);
  context.erase(pe, next - pe);
  changes = set("ctx.yaml", context);
  EXPECT_EQ(changes.removed, (std::vector<DocumentKey>{kPe}));
  EXPECT_EQ(errors().size(), 2u);  // each volume names the missing endpoint
  // It comes back in a file of its own.
  changes = set("pe.yaml", testing::doc("PrivateEndpoint", "pe1", "  subnetId: " + testing::kEndpoints +
                                                                  "\n  keyVaultResourceId: " + testing::kVault + "\n"));
  EXPECT_EQ(changes.changed, (std::vector<DocumentKey>{kPe}));
  EXPECT_TRUE(errors().empty());
}

TEST_F(Index, AnAccountChangeReachesTheVolumesOfItsPools) {
  set("ctx.yaml", testing::context());
  set("vols.yaml", volume("vol1"));
  ASSERT_TRUE(errors().empty());
  std::string context = testing::context();
  const std::string cmk = "  encryption:\n    keySource: Microsoft.KeyVault\n";
  context.replace(context.find(cmk), cmk.size(), "  encryption:\n    keySource: Microsoft.NetApp\n");
  set("ctx.yaml", context);
  EXPECT_FALSE(errors().empty());  // the volume's rule reads its pool's account (equal to a full validation)
}

TEST_F(Index, ARenamedTargetIsGuessedAndADuplicateIsReportedAtTheLaterFile) {
  set("ctx.yaml", testing::context());
  set("vols.yaml", volume("vol1"));
  std::string context = testing::context();
  context.replace(context.find("name: pool1"), 11, "name: pool2");
  auto changes = set("ctx.yaml", context);
  EXPECT_EQ(changes.removed, (std::vector<DocumentKey>{kPool1}));
  ASSERT_EQ(errors().size(), 1u);
  EXPECT_NE(errors()[0].find("did you mean 'pool2'?"), std::string::npos);
  changes = set("z.yaml", testing::doc("CapacityPool", "pool2", "  accountRef: acct\n"));
  EXPECT_TRUE(changes.empty());  // the first definition (ctx.yaml) stays
  EXPECT_EQ(errors().size(), 2u);  // the guess, and the duplicate
  changes = set("a.yaml", testing::doc("CapacityPool", "pool1", "  accountRef: acct\n"));
  EXPECT_EQ(changes.changed, (std::vector<DocumentKey>{kPool1}));
  EXPECT_EQ(errors().size(), 1u);  // the volume's pool is back; the duplicate stays
  remove("z.yaml");
  EXPECT_TRUE(errors().empty());
}

}  // namespace
}  // namespace anf::controller
