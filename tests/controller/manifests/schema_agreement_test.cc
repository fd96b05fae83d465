// The published JSON Schema (manifests/schema/*.json) and the C++ validator must agree: the files are
// what the validator's tables generate, and an independent JSON Schema checker (the subset of draft
// 2020-12 the files use) accepts every example and rejects exactly the schema-level bad inputs.
// Regenerate the files after changing the tables: ANF_UPDATE_SCHEMA=1 ./manifests_tests --gtest_filter='Schema*'
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "controller/config.h"
#include "controller/validation.h"
#include "tests/controller/manifests/corpus.h"

namespace anf::controller {
namespace {

namespace fs = std::filesystem;

const fs::path kSchemaDir = fs::path(ANF_SOURCE_DIR) / "manifests" / "schema";

// ---- YAML to JSON, as a JSON Schema tool would see the document (YAML 1.2 core schema) ----
Json toJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : node) out[kv.first.Scalar()] = toJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(toJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "?") {
        if (std::regex_match(s, std::regex("-?[0-9]+"))) return std::stoll(s);
        if (s == "true" || s == "false") return s == "true";
        if (s == "null" || s == "~") return nullptr;
      }
      return s;
    }
    default: return nullptr;
  }
}

// ---- a JSON Schema checker for the keywords the files use ----
const std::regex& compiled(const std::string& pattern) {
  static std::map<std::string, std::regex> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) it = cache.emplace(pattern, std::regex(pattern)).first;
  return it->second;
}

bool conforms(const Json& value, const Json& schema) {
  if (schema.contains("type")) {
    const std::string type = schema["type"];
    bool ok = (type == "object" && value.is_object()) || (type == "array" && value.is_array()) ||
              (type == "string" && value.is_string()) || (type == "integer" && value.is_number_integer()) ||
              (type == "boolean" && value.is_boolean());
    if (!ok) return false;
  }
  if (schema.contains("enum") && std::ranges::find(schema["enum"], value) == schema["enum"].end()) return false;
  if (schema.contains("pattern") && value.is_string() &&
      !std::regex_search(value.get<std::string>(), compiled(schema["pattern"].get<std::string>())))
    return false;
  if (schema.contains("minimum") && value.is_number() && value < schema["minimum"]) return false;
  if (schema.contains("maximum") && value.is_number() && value > schema["maximum"]) return false;
  if (schema.contains("allOf"))
    for (const auto& sub : schema["allOf"])
      if (!conforms(value, sub)) return false;
  if (value.is_object()) {
    for (const auto& name : schema.value("required", Json::array()))
      if (!value.contains(name)) return false;
    const Json properties = schema.value("properties", Json::object());
    for (const auto& [name, item] : value.items()) {
      if (properties.contains(name)) {
        if (!conforms(item, properties[name])) return false;
      } else if (schema.contains("additionalProperties")) {
        const Json& extra = schema["additionalProperties"];
        if (extra.is_boolean() ? !extra.get<bool>() : !conforms(item, extra)) return false;
      }
    }
  }
  if (value.is_array() && schema.contains("items"))
    for (const auto& item : value)
      if (!conforms(item, schema["items"])) return false;
  return true;
}

Json readJson(const fs::path& file) {
  std::ifstream in(file);
  return Json::parse(in, nullptr, false);
}

std::map<std::string, Json> publishedSchemas() {
  std::map<std::string, Json> out;
  for (Kind kind : allKinds()) out[std::string(kindName(kind))] = readJson(kSchemaDir / (std::string(kindName(kind)) + ".json"));
  return out;
}

bool schemaAccepts(const Json& document) {
  static const auto schemas = publishedSchemas();
  if (!document.is_object() || !document.contains("kind") || !document["kind"].is_string()) return false;
  auto it = schemas.find(document["kind"].get<std::string>());
  return it != schemas.end() && conforms(document, it->second);
}

std::map<std::string, Json> generated() {
  std::map<std::string, Json> out;
  for (Kind kind : allKinds()) out[std::string(kindName(kind)) + ".json"] = jsonSchemaFor(kind);
  Json config = toJsonSchema(configSchema());
  config["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  config["$id"] = "https://anf-cmk.io/schema/v1alpha1/OperatorConfig.json";
  config["title"] = "OperatorConfig";
  out["OperatorConfig.json"] = config;
  return out;
}

TEST(SchemaFiles, AreWhatTheValidatorTablesGenerate) {
  const bool update = std::getenv("ANF_UPDATE_SCHEMA") != nullptr;
  for (const auto& [name, schema] : generated()) {
    if (update) {
      fs::create_directories(kSchemaDir);
      std::ofstream(kSchemaDir / name) << schema.dump(2) << "\n";
    }
    EXPECT_EQ(readJson(kSchemaDir / name), schema) << name << " is stale: regenerate with ANF_UPDATE_SCHEMA=1";
  }
}

TEST(SchemaAgreement, EveryExampleDocumentConforms) {
  int documents = 0;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(ANF_SOURCE_DIR) / "manifests" / "examples")) {
    if (entry.path().extension() != ".yaml") continue;
    if (entry.path().filename() == "operator.yaml") {
      EXPECT_TRUE(conforms(toJson(YAML::LoadFile(entry.path().string())), readJson(kSchemaDir / "OperatorConfig.json")));
      continue;
    }
    for (const auto& node : YAML::LoadAllFromFile(entry.path().string())) {
      if (node.IsNull()) continue;
      ++documents;
      EXPECT_TRUE(schemaAccepts(toJson(node))) << entry.path() << ": " << toJson(node).dump();
    }
  }
  EXPECT_GT(documents, 40);
}

class SchemaOnBadInput : public ::testing::TestWithParam<testing::BadCase> {};

TEST_P(SchemaOnBadInput, RejectsExactlyTheSchemaLevelCases) {
  const auto& c = GetParam();
  std::vector<YAML::Node> nodes;
  try {
    nodes = YAML::LoadAll(c.yaml + (c.withContext ? testing::context() : ""));
  } catch (const YAML::Exception&) {
    GTEST_SKIP() << "not YAML: neither side can read it";
  }
  ASSERT_FALSE(nodes.empty());
  EXPECT_EQ(schemaAccepts(toJson(nodes[0])), !c.schemaLevel)
      << (c.schemaLevel ? "the C++ validator rejects a field the schema accepts" : "the schema rejects what is only a semantic rule");
  for (std::size_t i = 1; i < nodes.size(); ++i) EXPECT_TRUE(schemaAccepts(toJson(nodes[i]))) << "context document " << i;
}

INSTANTIATE_TEST_SUITE_P(Corpus, SchemaOnBadInput, ::testing::ValuesIn(testing::badCases()),
                         [](const auto& info) { return info.param.name; });

TEST(SchemaChecker, CanFail) {
  // Guard against a checker that accepts everything.
  EXPECT_FALSE(conforms(Json{{"a", 1}}, Json::parse(R"({"type":"object","additionalProperties":false,"properties":{}})")));
  EXPECT_FALSE(conforms(Json("x"), Json::parse(R"({"type":"string","pattern":"^y$"})")));
  EXPECT_FALSE(conforms(Json(5), Json::parse(R"({"type":"integer","maximum":4})")));
  EXPECT_FALSE(conforms(Json::object(), Json::parse(R"({"type":"object","required":["a"]})")));
}

}  // namespace
}  // namespace anf::controller
