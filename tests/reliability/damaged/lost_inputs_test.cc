// Lost inputs (issue 15): the manifests come from a git-sync checkout (--manifests is a symbolic link swapped to
// each new worktree, docs/operations.md). The checkout vanishes, is swapped for an empty directory, or for a
// half-written one; a manifest stops parsing. Nothing is deleted in Azure (the volume has deletionPolicy Delete, so
// a wrong deletion would show as a DELETE in the emulator's request log), every document keeps its status, and the
// operator's condition and anf_cmk_manifest_errors say why; a parse error is located (file:line:col).
#include <regex>

#include "tests/reliability/damaged/damaged_support.h"

namespace anf::testing {
namespace {

class LostInputs : public ReliabilityTest {
 protected:
  /// The quickstart with the Volume's deletionPolicy Delete as worktree `rev-1` of a git-sync root and
  /// manifests -> git/rev-1; then the operator, all Ready, and the request log cleared.
  void SetUp() override {
    startEmulator({"--lro-seconds", "0"}, "quickstart");
    fs::remove_all(dir_ / "manifests");
    copyExample("quickstart", dir_ / "pristine");
    const std::string text = readFile(dir_ / "pristine/quickstart.yaml");
    std::ofstream(dir_ / "pristine/quickstart.yaml")
        << std::regex_replace(text, std::regex("  poolRef: pool1\n"), "  poolRef: pool1\n  deletionPolicy: Delete\n");
    swapCheckout(worktree("rev-1"));
    startOperator();
    awaitAllReady(60s, 4);
    emulator_->control("DELETE", "/_emulator/requests");
  }

  /// git/<name>, a checkout of the manifests of SetUp (created once).
  fs::path worktree(const std::string& name) {
    const fs::path tree = dir_ / "git" / name;
    if (!fs::exists(tree)) {
      fs::create_directories(tree);
      fs::copy(dir_ / "pristine", tree, fs::copy_options::recursive);
    }
    return tree;
  }

  /// Points manifests at `tree` in one rename, as git-sync does.
  void swapCheckout(const fs::path& tree) {
    const fs::path link = dir_ / "manifests.tmp";
    fs::remove(link);
    fs::create_directory_symlink(tree, link);
    fs::rename(link, dir_ / "manifests");
  }

  /// Awaits the operator's condition `type` with `status`; returns it (null on timeout, with a failure).
  Json awaitOperatorCondition(const std::string& type, const std::string& status) {
    Json last;
    const bool seen = await([&] { return (last = operatorCondition(type)).is_object() && last.value("status", "") == status; }, 30s);
    EXPECT_TRUE(seen) << "operator condition " << type << "=" << status << " not seen; last: " << last.dump() << "\n"
                      << tail(operator_->log());
    return seen ? last : Json();
  }

  /// Two more passes of the Volume (what a deletion would have needed), then: nothing deleted, every document
  /// still listed.
  void expectNothingDeleted() {
    awaitTwoPasses("Volume");
    for (const auto& entry : requestLog()) EXPECT_NE(entry.value("method", ""), "DELETE") << entry.dump();
    const Json list = operator_->statusJson();
    EXPECT_EQ(list.value("items", Json::array()).size(), 4u) << list.dump(2);
  }

  /// The checkout back: the guard clears, everything Ready, nothing written.
  void expectRecoveryOn(const std::string& worktreeName) {
    swapCheckout(worktree(worktreeName));
    EXPECT_TRUE(await([&] { return metric("anf_cmk_manifest_errors") == 0; }, 30s)) << operator_->metricsText();
    awaitAllReady(30s, 4);
    for (const auto& entry : requestLog()) EXPECT_EQ(entry.value("method", ""), "GET") << "written: " << entry.dump();
  }
};

TEST_F(LostInputs, CheckoutThatVanishesDeletesNothingAndIsNamed) {
  fs::remove(dir_ / "manifests");
  fs::remove_all(dir_ / "git/rev-1");
  const Json manifests = awaitOperatorCondition("ManifestsValid", "False");
  EXPECT_NE(manifests.dump().find((dir_ / "manifests").string()), std::string::npos) << "the path is not named: " << manifests.dump();
  EXPECT_TRUE(await([&] { return metric("anf_cmk_manifest_errors") >= 1; }, 10s)) << operator_->metricsText();
  expectNothingDeleted();
  expectRecoveryOn("rev-2");
}

TEST_F(LostInputs, CheckoutSwappedForAnEmptyDirectoryDeletesNothingAndIsNamed) {
  fs::create_directories(dir_ / "git/empty");
  swapCheckout(dir_ / "git/empty");
  const Json synced = awaitOperatorCondition("Synced", "False");
  EXPECT_NE(synced.dump().find("Volume/vol1"), std::string::npos) << "the documents kept are not named: " << synced.dump();
  EXPECT_TRUE(await([&] { return metric("anf_cmk_manifest_errors") >= 1; }, 10s)) << operator_->metricsText();
  expectNothingDeleted();
  expectRecoveryOn("rev-1");
}

TEST_F(LostInputs, HalfWrittenCheckoutDeletesNothingAndLocatesTheError) {
  const fs::path file = worktree("rev-2") / "quickstart.yaml";
  const std::string text = readFile(file);
  std::ofstream(file, std::ios::trunc) << text.substr(0, text.find("kind: CapacityPool") + 22);  // cut inside the pool
  swapCheckout(dir_ / "git/rev-2");
  const Json manifests = awaitOperatorCondition("ManifestsValid", "False");
  EXPECT_TRUE(std::regex_search(manifests.value("message", ""), std::regex(R"(quickstart\.yaml:\d+:\d+)"))) << manifests.dump();
  EXPECT_TRUE(await([&] { return metric("anf_cmk_manifest_errors") >= 1; }, 10s)) << operator_->metricsText();
  expectNothingDeleted();
  expectRecoveryOn("rev-1");
}

TEST_F(LostInputs, ManifestThatStopsParsingKeepsItsDocumentsAndLocatesTheError) {
  const fs::path file = dir_ / "git/rev-1/quickstart.yaml";
  const std::string text = readFile(file);
  std::ofstream(file, std::ios::trunc) << std::regex_replace(text, std::regex("  sizeTiB: 4\n"), "  sizeTiB: [4\n");
  const Json manifests = awaitOperatorCondition("ManifestsValid", "False");
  EXPECT_TRUE(std::regex_search(manifests.value("message", ""), std::regex(R"(quickstart\.yaml:\d+:\d+)"))) << manifests.dump();
  expectNothingDeleted();
  const Json list = operator_->statusJson();
  EXPECT_TRUE(allReady(list, 4)) << "documents of the file that stopped parsing changed: " << list.dump(2);
  std::ofstream(file, std::ios::trunc) << text;
  expectRecoveryOn("rev-1");
}

}  // namespace
}  // namespace anf::testing
