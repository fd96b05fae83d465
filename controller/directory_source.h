#pragma once
// Watches the --manifests paths and produces a consistent DesiredState snapshot after each change.
//
// - inotify through Boost.Asio (one descriptor, async reads on the caller's io_context), debounced:
//   a snapshot is taken once changes have been quiet for `debounce`, and at least every `maxDelay`
//   while they keep coming, so a burst of writes coalesces into few snapshots.
// - Robust to editors' temp files (`.swp`, `~`, `.#*`, dotfiles) and to atomic symlink swaps:
//   Kubernetes ConfigMap volumes swap `..data`, git-sync swaps its worktree link. The parent
//   directories of the paths and of every link on them are watched, and links are re-resolved on
//   every rescan (watches follow the directories the links point to now).
// - A file that stops parsing keeps its last good documents in the snapshot and its errors are
//   listed; an invalid document keeps its last good version. Only a removed file, or a document
//   removed from a file that still parses, removes documents. A path that vanishes keeps its files'
//   documents (and reports the path) until it comes back.
// - Polling at `pollInterval` where inotify is unavailable (or when asked for).
//
// Asio stays out of this header (pimpl): many files include it.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "controller/config.h"
#include "controller/document.h"
#include "controller/manifest_loader.h"

namespace boost::asio {
class io_context;
}

namespace anf::controller {

class DirectorySource {
 public:
  struct Options {
    std::vector<std::string> paths;                 // files or directories
    LoadOptions load;                               // defaults from the operator configuration, limits
    WatchMode mode = WatchMode::Auto;
    std::chrono::milliseconds debounce{200};
    std::chrono::milliseconds maxDelay{2000};       // upper bound on the wait during a continuous stream of changes
    std::chrono::milliseconds pollInterval{2000};   // Poll mode, and Auto without inotify
  };
  /// Called on the io_context's thread (and once from start()) with each new snapshot and what it
  /// changed against the previous one (the first: every document added). Only called when the
  /// documents or the errors changed. A change re-reads only files whose stat changed, re-parses only
  /// files whose text changed, and validates only what the change can affect (ManifestIndex).
  using SnapshotCallback = std::function<void(const DesiredState&, const DocumentChanges&)>;

  DirectorySource(boost::asio::io_context& io, Options options, SnapshotCallback onSnapshot);
  /// Stops watching; safe while the io_context still runs.
  ~DirectorySource();
  DirectorySource(const DirectorySource&) = delete;
  DirectorySource& operator=(const DirectorySource&) = delete;

  /// Scans the paths, delivers the first snapshot (synchronously, on the calling thread), then watches.
  /// Throws std::runtime_error when mode is Inotify and inotify cannot be used.
  void start();
  /// Stops watching; no callback is made after stop() returns (when called on the io_context's thread).
  void stop();
  /// The latest snapshot (revision 0 before start()). Thread-safe.
  DesiredState snapshot() const;
  /// true when changes are seen through inotify, false when polling.
  bool usingInotify() const;
  /// Files parsed since start() (a file is parsed when its text changed). Thread-safe.
  std::uint64_t filesParsed() const;
  /// Rescans now on the io_context (e.g. on SIGHUP).
  void rescan();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};
using DirectorySourcePtr = std::unique_ptr<DirectorySource>;

/// Options from the operator configuration's controller.watch and manifest defaults.
DirectorySource::Options directorySourceOptions(const OperatorConfig& config, std::vector<std::string> paths);

}  // namespace anf::controller
