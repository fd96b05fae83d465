// The cost of one document edit against the number of documents: the incremental path (the edited
// file parsed again, the ManifestIndex revalidating what the change can affect, the engine applying the
// delta) beside a whole-state rebuild as every event cost before (every document assembled into a new
// state and copied, the whole set validated, the engine diffing both states), in the same run.
// Fleets as bench/fleet.py writes them: one file per account with its pool and 20 volumes.
//
//   build/dev/bench/manifest_events_bench
#include <utility>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "controller/engine.h"
#include "controller/manifest_loader.h"

namespace {

std::atomic<std::uint64_t> allocations{0};
std::atomic<std::uint64_t> allocatedBytes{0};

}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  allocatedBytes.fetch_add(size, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace anf::controller;
using Clock = std::chrono::steady_clock;

constexpr int kVolumesPerAccount = 20;
const std::string kSub = "10000000-0000-4000-8000-0000000000a1";
const std::string kRg = "/subscriptions/" + kSub + "/resourceGroups/anf-rg/providers/";
const LoadOptions kLoad{.defaults = {.tenant = "provider", .subscriptionId = kSub, .resourceGroup = "anf-rg", .location = "eastus"}};

std::string document(const std::string& kind, const std::string& name, const std::string& spec) {
  return "---\napiVersion: anf-cmk.io/v1alpha1\nkind: " + kind + "\nmetadata:\n  name: " + name + "\nspec:\n" + spec;
}

/// One account's file; `edit` changes the size of its first volume.
std::string accountFile(int account, int edit) {
  const std::string a = "acct-" + std::to_string(account);
  std::string text = document("NetAppAccount", a,
                              "  identity:\n    type: SystemAssigned\n  encryption:\n    keySource: Microsoft.KeyVault\n    keyVault:\n"
                              "      resourceId: " + kRg + "Microsoft.KeyVault/vaults/kv\n      keyName: anf-key\n");
  text += document("CapacityPool", a + "-pool", "  accountRef: " + a + "\n");
  for (int v = 0; v < kVolumesPerAccount; ++v) {
    const std::string name = a + "-vol-" + std::to_string(v);
    text += document("Volume", name, "  poolRef: " + a + "-pool\n  creationToken: " + name + "\n  usageThresholdGiB: " +
                                         std::to_string(100 + (v == 0 ? edit : 0)) + "\n  subnetId: " + kRg +
                                         "Microsoft.Network/virtualNetworks/vnet/subnets/delegated\n");
  }
  return text;
}

struct Cost {
  double microseconds = 0;
  double allocations = 0;
  double kibAllocated = 0;
};

template <class F>
Cost measure(int times, F&& once) {
  const auto a0 = allocations.load();
  const auto b0 = allocatedBytes.load();
  const auto t0 = Clock::now();
  for (int i = 1; i <= times; ++i) once(i);
  return {std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / times,
          static_cast<double>(allocations.load() - a0) / times, static_cast<double>(allocatedBytes.load() - b0) / 1024 / times};
}

struct Fleet {
  Fleet(boost::asio::io_context& io, Metrics& metrics) : engine(io, EngineOptions{.workers = 0}, {}, {}, metrics) {}
  Engine engine;
  ManifestIndex index;
  std::vector<FileResult> files;
};

void row(int documents) {
  boost::asio::io_context io;
  Metrics metrics;
  Fleet fleet(io, metrics);
  const int accounts = documents / (kVolumesPerAccount + 2);
  for (int a = 0; a < accounts; ++a) {
    fleet.files.push_back(loadManifestText(accountFile(a, 0), "acct-" + std::to_string(a) + ".yaml", kLoad));
    fleet.index.setFile(fleet.files.back().file, fleet.files.back().documents, fleet.files.back().errors);
  }
  DesiredState state;
  fleet.engine.apply(state, fleet.index.commit(state));
  if (!state.errors.empty()) std::fprintf(stderr, "%s\n", state.errors.front().str().c_str());
  const int total = static_cast<int>(state.documents.size());
  constexpr int kEdits = 20;

  // The parse of the edited file alone, part of both.
  const Cost parse = measure(kEdits, [&](int i) { (void)loadManifestText(accountFile(i % accounts, i), "x.yaml", kLoad); });
  // Now: the edited file parsed, the index updated, the delta applied.
  const Cost now = measure(kEdits, [&](int i) {
    const int a = i % accounts;
    FileResult edited = loadManifestText(accountFile(a, i), fleet.files[a].file, kLoad);
    fleet.index.setFile(edited.file, std::move(edited.documents), std::move(edited.errors));
    DesiredState next;
    const DocumentChanges changes = fleet.index.commit(next);
    fleet.engine.apply(next, changes);
  });
  // Before: the same edit, then every document assembled and copied into a new state, the set validated
  // whole, the engine comparing both states.
  const Cost before = measure(kEdits, [&](int i) {
    const int a = i % accounts;
    fleet.files[a] = loadManifestText(accountFile(a, kEdits + i), fleet.files[a].file, kLoad);
    DesiredState next;
    for (const auto& file : fleet.files)
      for (const auto& d : file.documents) next.documents.emplace(d.key, d);
    auto errors = validateDocumentSet(next.documents);
    fleet.engine.apply(next);
  });
  std::printf("%9d %9.0f %9.0f %10.0f %9.0f %12.0f %10.0f %10.0f %8.1fx\n", total, parse.microseconds, now.microseconds,
              now.allocations, now.kibAllocated, before.microseconds, before.allocations, before.kibAllocated,
              before.microseconds / now.microseconds);
}

}  // namespace

int main() {
  std::printf("cost of one document edit (mean of 20); parse: the edited file of 22 documents alone, part of both\n");
  std::printf("%9s %9s %9s %10s %9s %12s %10s %10s %9s\n", "documents", "parse us", "now us", "allocs", "KiB", "rebuild us",
              "allocs", "KiB", "ratio");
  for (int documents : {1000, 5000}) row(documents);
}
