// Hostile input: every limit gives a clear error, fast, and never a crash or a hang.
#include <chrono>

#include <gtest/gtest.h>

#include "controller/manifest_loader.h"

namespace anf::controller {
namespace {

struct HostileCase {
  std::string name;
  std::string text;
  std::string error;  // exactly, as ManifestError::str() for file "h.yaml"
};

void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

std::string billionLaughs() {
  std::string text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i <= 9; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int k = 1; k < 10; ++k) text += ", " + prev;
    text += "]\n";
  }
  return text;
}

std::vector<HostileCase> hostileCases() {
  std::string manyDocuments;
  for (int i = 0; i < 1001; ++i) manyDocuments += "---\n";
  std::string manyAliases = "x: &x 1\ny: [";
  for (int i = 0; i < 1001; ++i) manyAliases += "*x, ";
  manyAliases += "*x]\n";
  std::string deepBlock;
  for (int i = 0; i < 70; ++i) deepBlock += std::string(2 * i, ' ') + "k" + std::to_string(i) + ":\n";
  std::string compact = "a:\n  " + [] {
    std::string dashes;
    for (int i = 0; i < 70; ++i) dashes += "- ";
    return dashes;
  }() + "x\n";
  return {
      {"TooLarge", std::string((1 << 20) + 1, '#'), "h.yaml:1:1: file is 1048577 bytes, more than the limit of 1048576"},
      {"NulByte", std::string("kind: Volume\nmetadata:\0\n", 24), "h.yaml:2:10: binary file (NUL byte); manifests are UTF-8 YAML text"},
      {"ControlCharacter", "kind: \x01Volume\n", "h.yaml:1:7: binary file (control character 1); manifests are UTF-8 YAML text"},
      {"InvalidUtf8", "kind: Vol\xff" "ume\n", "h.yaml:1:10: not valid UTF-8; manifests are UTF-8 YAML text"},
      {"TruncatedUtf8", "name: caf\xc3", "h.yaml:1:10: not valid UTF-8; manifests are UTF-8 YAML text"},
      {"OverlongUtf8", "name: \xc0\xaf\n", "h.yaml:1:7: not valid UTF-8; manifests are UTF-8 YAML text"},
      {"DeepFlowNesting", "spec: " + std::string(100000, '[') + std::string(100000, ']') + "\n", "h.yaml:1:70: nesting deeper than 64 levels"},
      {"DeepFlowMappings", "spec: " + [] {
         std::string s;
         for (int i = 0; i < 5000; ++i) s += "{a: ";
         return s;
       }(), "h.yaml:1:259: nesting deeper than 64 levels"},
      {"DeepBlockNesting", deepBlock, "h.yaml:65:129: nesting deeper than 64 levels"},
      {"CompactSequences", compact, "h.yaml:2:3: nesting deeper than 64 levels"},
      {"TooManyDocuments", manyDocuments, "h.yaml:1000:1: more than 1000 documents in one file"},
      {"TooManyAliases", manyAliases, "h.yaml:2:4005: more than 1000 aliases in one file"},
  };
}

class HostileInput : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileInput, IsRefusedFastWithAClearError) {
  const auto& c = GetParam();
  const auto start = std::chrono::steady_clock::now();
  FileResult result = loadManifestText(c.text, "h.yaml");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].str(), c.error);
  EXPECT_TRUE(result.documents.empty());
  EXPECT_FALSE(result.parsed);  // the watcher keeps the file's last good documents
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

INSTANTIATE_TEST_SUITE_P(Limits, HostileInput, ::testing::ValuesIn(hostileCases()), [](const auto& info) { return info.param.name; });

TEST(HostileInput, BillionLaughsIsRefusedFast) {
  // yaml-cpp shares aliased nodes instead of copying them, and the validator only descends where the
  // schema has structure, so the classic bomb costs a few microseconds and is refused as a document.
  const auto start = std::chrono::steady_clock::now();
  FileResult result = loadManifestText(billionLaughs(), "h.yaml");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  ASSERT_FALSE(result.errors.empty());
  EXPECT_EQ(result.errors[0].str(), "h.yaml:1:1: kind: is required");
  EXPECT_TRUE(result.documents.empty());
}

TEST(HostileInput, AliasExpansionIsBoundedByTheNodeBudget) {
  // Where aliases do expand through the schema (a list of objects), the node budget stops the walk.
  std::string text = "apiVersion: anf-cmk.io/v1alpha1\nkind: NetAppAccount\nmetadata: {name: acct}\nspec:\n  transitionToCMK:\n"
                     "    - &t {virtualNetworkId: /subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v, "
                     "privateEndpointRef: pe1}\n";
  for (int i = 0; i < 40; ++i) text += "    - *t\n";
  ManifestLimits limits;
  limits.maxNodes = 100;
  FileResult result = loadManifestText(text, "h.yaml", {.limits = limits});
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].str(), "h.yaml:6:29: NetAppAccount/acct: spec.transitionToCMK[17].virtualNetworkId: "
            "document expands to more than 100 nodes (YAML aliases?); refused");
  EXPECT_FALSE(result.parsed);
  limits.maxNodes = 1000;
  FileResult roomy = loadManifestText(text, "h.yaml", {.limits = limits});
  ASSERT_FALSE(roomy.errors.empty());  // transitionToCMK without Microsoft.KeyVault, but walked to the end
  EXPECT_EQ(roomy.errors[0].message, "needs encryption.keySource Microsoft.KeyVault");
}

TEST(HostileInput, AliasedMappingsOfUnknownFieldsAreBoundedByTheNodeBudget) {
  // Each use of an alias to a mapping of 100 unknown fields made 100 errors for one node of budget: a 47 KB
  // file (999 uses of 5,000 fields, found by fuzz_manifest) took over 1.5 GB. Every field now costs budget.
  std::string text = "apiVersion: anf-cmk.io/v1alpha1\nkind: NetAppAccount\nmetadata: {name: acct}\nspec:\n  transitionToCMK:\n"
                     "    - &m {";
  for (int i = 0; i < 100; ++i) text += (i ? ", k" : "k") + std::to_string(i) + ": 1";
  text += "}\n";
  for (int i = 0; i < 40; ++i) text += "    - *m\n";
  ManifestLimits limits;
  limits.maxNodes = 1000;
  FileResult result = loadManifestText(text, "h.yaml", {.limits = limits});
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].str(),
            "h.yaml:6:617: NetAppAccount/acct: spec.transitionToCMK[9].k77: document expands to more than 1000 nodes (YAML aliases?); refused");
  EXPECT_FALSE(result.parsed);
}

TEST(HostileInput, TheTextScanIsNotFooledByQuotesCommentsOrBlockScalars) {
  // Brackets, stars and quotes inside strings, comments and block scalars are content, not structure.
  std::string text = "apiVersion: anf-cmk.io/v1alpha1\nkind: UserAssignedIdentity\nmetadata:\n  name: ids\n"
                     "  annotations:\n    a: \"[[[[[[ *x *y don't\"\n    b: '{{{{ \"'\n    c: |\n      [[[[[[[[[[[[[[[\n      'unclosed\n"
                     "    d: x # [[[[[[[[ *z\nspec: {}\n";
  for (int i = 0; i < 10; ++i) text.insert(text.find("      [[["), "      " + std::string(30, '[') + "\n");
  ManifestLimits limits;
  limits.maxDepth = 8;
  limits.maxAliases = 0;
  FileResult result = loadManifestText(text, "q.yaml", {.limits = limits});
  EXPECT_TRUE(result.errors.empty()) << result.errors.front().str();
  EXPECT_EQ(result.documents.size(), 1u);
}

TEST(HostileInput, FilesOverTheLimitAreNotRead) {
  ManifestLimits limits;
  limits.maxFileBytes = 10;
  auto text = readManifestText(std::string(ANF_SOURCE_DIR) + "/manifests/examples/quickstart/quickstart.yaml", limits);
  ASSERT_FALSE(text.has_value());
  EXPECT_TRUE(text.error().message.ends_with("more than the limit of 10")) << text.error().message;
}

}  // namespace
}  // namespace anf::controller
