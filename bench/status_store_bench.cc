// The cost of one status change against the number of documents: the SQLite store (one row per document)
// beside the whole-file JSON rewrite it replaced, measured in the same run on the same entries.
//
//   build/dev/bench/status_store_bench [DIR]    (DIR: where the state files go; default the temp directory)
#include <utility>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "controller/conditions.h"
#include "controller/status_store.h"

namespace {

using namespace anf::controller;
using Clock = std::chrono::steady_clock;

/// A volume's status as the engine leaves it once Ready: three conditions and the observed facts.
StoredStatus volumeStatus(int i) {
  const auto now = std::chrono::system_clock::now();
  StoredStatus e{.key = {Kind::Volume, "vol-" + std::to_string(i)}, .source = {"manifests/volumes.yaml", i * 12, 1}};
  e.firstSeen = rfc3339(now);
  e.status.generation = "9f2c4e1a";
  e.status.ready = true;
  e.status.facts = {{"resourceId", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                                   "Microsoft.NetApp/netAppAccounts/acct-" + std::to_string(i % 50) +
                                   "/capacityPools/pool/volumes/vol-" + std::to_string(i)},
                    {"encryptionKeySource", "Microsoft.KeyVault"}, {"usageThreshold", 107374182400}};
  for (std::string_view type : {condition::kReady, condition::kSynced, condition::kDependenciesReady})
    setCondition(e.status.conditions, type, condition::kTrue, reason::kAvailable, "", now);
  return e;
}

/// What StatusStore::update did before: every entry serialised, written to a temporary file, renamed.
void rewriteWholeFile(const std::map<DocumentKey, StoredStatus>& entries, const std::filesystem::path& file) {
  Json resources = Json::array();
  for (const auto& [key, e] : entries) resources.push_back(toStateJson(e));
  const std::string tmp = file.string() + ".tmp";
  std::ofstream(tmp, std::ios::trunc) << Json{{"version", 1}, {"resources", std::move(resources)}}.dump(1) << "\n";
  std::filesystem::rename(tmp, file);
}

double microsecondsPer(int times, const std::function<void(int)>& change) {
  const auto start = Clock::now();
  for (int i = 0; i < times; ++i) change(i);
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / times;
}

struct Row {
  double observation;  // a fact or condition changed (synchronous=NORMAL)
  double operation;    // status.operation set or cleared (synchronous=FULL)
  double wholeFile;    // the old store, either change
};

Row measure(int documents, const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  StatusStore store(dir / "state.db");
  if (!store.load()) std::abort();
  std::map<DocumentKey, StoredStatus> old;
  for (int i = 0; i < documents; ++i) {
    StoredStatus e = volumeStatus(i);
    old[e.key] = e;
    store.update(e.key, [&](StoredStatus& s) { s = e; });
  }
  const DocumentKey one{Kind::Volume, "vol-" + std::to_string(documents / 2)};
  Row row;
  row.observation = microsecondsPer(400, [&](int i) { store.update(one, [&](StoredStatus& s) { s.status.facts["sizeUsed"] = i; }); });
  row.operation = microsecondsPer(100, [&](int i) {
    store.update(one, [&](StoredStatus& s) {
      if (i % 2) s.status.operation.reset(); else s.status.operation = Json{{"id", "op-" + std::to_string(i)}};
    });
  });
  row.wholeFile = microsecondsPer(documents >= 5000 ? 20 : 100, [&](int i) {
    old[one].status.facts["sizeUsed"] = i;
    rewriteWholeFile(old, dir / "state.json");
  });
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path base = argc > 1 ? std::filesystem::path(argv[1]) : std::filesystem::temp_directory_path();
  const auto dir = base / "anf-status-store-bench";
  std::printf("cost of one status change (microseconds), state files in %s\n", dir.c_str());
  std::printf("%9s  %14s  %14s  %16s  %8s\n", "documents", "sqlite (facts)", "sqlite (op)", "JSON whole file", "ratio");
  for (int documents : {200, 1000, 5000}) {
    const Row r = measure(documents, dir);
    std::printf("%9d  %14.1f  %14.1f  %16.1f  %7.0fx\n", documents, r.observation, r.operation, r.wholeFile,
                r.wholeFile / r.observation);
  }
  std::printf("sqlite (facts): synchronous=NORMAL; sqlite (op): status.operation changed, synchronous=FULL (fsync);\n"
              "ratio: JSON whole file / sqlite (facts). The sqlite columns should stay flat as documents grow.\n");
  std::filesystem::remove_all(dir);
  return 0;
}
