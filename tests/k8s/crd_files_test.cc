// The CustomResourceDefinitions under manifests/crds/ and charts/anf-cmk-operator/crds/ are what the validator's
// schema tables generate (controller/schema.h customResourceDefinition), so the CRDs, the C++ validator and
// manifests/schema/*.json cannot drift apart. Regenerate after changing the tables (with manifests/schema):
//   ANF_UPDATE_SCHEMA=1 ./k8s_crd_tests
// tests/k8s/crd_e2e_test.py applies them to a real kube-apiserver.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "controller/validation.h"

namespace anf::controller {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = fs::path(ANF_SOURCE_DIR);
const fs::path kFolders[] = {kSource / "manifests" / "crds", kSource / "charts" / "anf-cmk-operator" / "crds"};

std::string fileName(Kind kind) { return customResourceNames(kind).plural + ".anf-cmk.io.yaml"; }

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// YAML as the apiserver reads it (YAML 1.2 core schema: plain true/false and integers are typed).
Json toJson(const YAML::Node& node) {
  if (node.IsMap()) {
    Json out = Json::object();
    for (const auto& kv : node) out[kv.first.Scalar()] = toJson(kv.second);
    return out;
  }
  if (node.IsSequence()) {
    Json out = Json::array();
    for (const auto& item : node) out.push_back(toJson(item));
    return out;
  }
  if (node.IsNull()) return nullptr;
  const std::string& s = node.Scalar();
  if (node.Tag() == "?") {
    if (s == "true" || s == "false") return s == "true";
    if (!s.empty() && s.find_first_not_of("-0123456789") == std::string::npos) return std::stoll(s);
  }
  return s;
}

TEST(CrdFiles, AreWhatTheSchemaTablesGenerate) {
  const bool update = std::getenv("ANF_UPDATE_SCHEMA") != nullptr;
  for (Kind kind : allKinds()) {
    // "---" first: `helm show crds` and `cat manifests/crds/*` join the files into one stream of documents.
    const std::string text = "---\n" + toYaml(customResourceDefinition(kind, documentSchema(kind)));
    for (const auto& folder : kFolders) {
      if (update) {
        fs::create_directories(folder);
        std::ofstream(folder / fileName(kind)) << text;
      }
      EXPECT_EQ(read(folder / fileName(kind)), text)
          << (folder / fileName(kind)) << " is stale: regenerate with ANF_UPDATE_SCHEMA=1 ./k8s_crd_tests";
    }
  }
}

TEST(CrdFiles, ReadBackAsTheGeneratedDefinition) {
  // The YAML keeps every value's type (a string that looks like a number or a boolean is quoted).
  for (Kind kind : allKinds())
    EXPECT_EQ(toJson(YAML::LoadFile((kFolders[0] / fileName(kind)).string())),
              customResourceDefinition(kind, documentSchema(kind)))
        << fileName(kind);
}

TEST(CrdFiles, NoOtherFilesInTheFolders) {
  // A kind removed from the table must not leave its CRD behind.
  for (const auto& folder : kFolders)
    for (const auto& entry : fs::directory_iterator(folder)) {
      bool known = false;
      for (Kind kind : allKinds()) known = known || entry.path().filename() == fileName(kind);
      EXPECT_TRUE(known) << entry.path() << " is no kind's CRD";
    }
}

TEST(Crd, CarriesStatusPrinterColumnsAndShortNames) {
  const Json crd = customResourceDefinition(Kind::Volume, documentSchema(Kind::Volume));
  const Json& version = crd["spec"]["versions"][0];
  EXPECT_EQ(crd["metadata"]["name"], "volumes.anf-cmk.io");
  EXPECT_EQ(version["name"], "v1alpha1");
  EXPECT_TRUE(version["subresources"].contains("status"));
  std::vector<std::string> columns;
  for (const auto& c : version["additionalPrinterColumns"]) columns.push_back(c["name"]);
  EXPECT_EQ(columns, (std::vector<std::string>{"READY", "REASON", "AGE"}));
  EXPECT_EQ(crd["spec"]["names"]["shortNames"], Json({"anfvolume", "anfvol"}));
  EXPECT_EQ(customResourceNames(Kind::UserAssignedIdentity).plural, "userassignedidentities");
}

TEST(Crd, SpecSchemaIsTheValidatorsWithoutAdditionalPropertiesFalse) {
  // Same fields, enums and patterns as manifests/schema; only what a structural schema forbids differs.
  const Json crdSpec = customResourceDefinition(Kind::NetAppAccount, documentSchema(Kind::NetAppAccount))
                           ["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
  const Json published = jsonSchemaFor(Kind::NetAppAccount)["properties"]["spec"];
  EXPECT_EQ(published["additionalProperties"], false);
  EXPECT_FALSE(crdSpec.contains("additionalProperties"));
  EXPECT_EQ(crdSpec["properties"]["encryption"]["properties"]["keySource"]["enum"],
            published["properties"]["encryption"]["properties"]["keySource"]["enum"]);
  EXPECT_EQ(crdSpec.value("required", Json()), published.value("required", Json()));
  EXPECT_EQ(crdSpec["properties"].size(), published["properties"].size());
}

TEST(Yaml, QuotesStringsThatReadAsOtherTypes) {
  const Json value = {{"a", "true"}, {"b", "10"}, {"c", "no"}, {"d", "plain"}, {"e", 10}, {"f", true}, {"g", ""}};
  EXPECT_EQ(toJson(YAML::Load(toYaml(value))), value);
  EXPECT_NE(toYaml(value).find("a: \"true\""), std::string::npos);
}

}  // namespace
}  // namespace anf::controller
