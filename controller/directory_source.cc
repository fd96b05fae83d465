#include "controller/directory_source.h"

#include <utility>  // before Boost.Asio 1.74 under C++23

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <mutex>
#include <set>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace anf::controller {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint32_t kWatchMask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
                                     IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

// Editor temp files never trigger a rescan; `..data`-style names (ConfigMap swaps) always do.
bool triggersRescan(std::string_view name) { return name.starts_with("..") || !isIgnoredName(name); }

// The canonical directories whose entries decide what `root` resolves to: the parent of the root and
// of every symlink on its way (a swapped link is an event in its parent directory).
std::vector<fs::path> linkParents(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::path prefix;
  for (const auto& part : fs::absolute(root, ec)) {
    prefix /= part;
    if (fs::is_symlink(prefix, ec) || prefix == fs::absolute(root, ec)) {
      auto parent = fs::weakly_canonical(prefix.parent_path(), ec);
      if (!ec) out.push_back(parent);
    }
  }
  return out;
}

// A compact description of a snapshot, to skip snapshots that change nothing.
std::string signature(const DesiredState& state) {
  std::string out;
  for (const auto& [key, d] : state.documents) {
    out += key.str() + "@" + d.source.str() + "#" + d.generation + "|";
    for (const auto& [k, v] : d.annotations) out += k + "=" + v + ";";
    for (const auto& [k, v] : d.labels) out += k + "=" + v + ";";
    out += "\n";
  }
  for (const auto& e : state.errors) out += e.str() + "\n";
  return out;
}

}  // namespace

struct DirectorySource::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, Options options, SnapshotCallback callback)
      : io(io), options(std::move(options)), onSnapshot(std::move(callback)), debounceTimer(io), pollTimer(io) {}

  // What we know of one file: its last text, how it loaded, and its last good documents.
  struct FileState {
    std::string text;
    FileResult result;
    std::vector<Document> documents;  // what the snapshot holds for this file
  };

  asio::io_context& io;
  DirectorySource::Options options;
  SnapshotCallback onSnapshot;
  asio::steady_timer debounceTimer;
  asio::steady_timer pollTimer;
  std::unique_ptr<asio::posix::stream_descriptor> inotify;
  std::array<char, 64 * 1024> buffer{};
  std::map<int, fs::path> watchedByDescriptor;
  std::map<fs::path, int> watchedByDirectory;
  std::map<std::string, FileState> files;
  std::optional<Clock::time_point> firstPendingChange;
  bool stopped = false;
  mutable std::mutex mutex;  // guards `current`
  DesiredState current;
  std::string currentSignature;

  bool startInotify() {
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return false;
    inotify = std::make_unique<asio::posix::stream_descriptor>(io, fd);
    return true;
  }

  void stopInotify() {
    if (!inotify) return;
    boost::system::error_code ignored;
    inotify->close(ignored);
    inotify.reset();
    watchedByDescriptor.clear();
    watchedByDirectory.clear();
  }

  // Watches exactly `wanted` (canonical directories); false when the kernel refuses (watch limit).
  bool syncWatches(const std::set<fs::path>& wanted) {
    for (auto it = watchedByDirectory.begin(); it != watchedByDirectory.end();) {
      if (wanted.contains(it->first)) {
        ++it;
        continue;
      }
      inotify_rm_watch(inotify->native_handle(), it->second);
      watchedByDescriptor.erase(it->second);
      it = watchedByDirectory.erase(it);
    }
    for (const auto& dir : wanted) {
      if (watchedByDirectory.contains(dir)) continue;
      int wd = inotify_add_watch(inotify->native_handle(), dir.c_str(), kWatchMask);
      if (wd < 0) {
        if (errno == ENOSPC || errno == ENOMEM) return false;
        continue;  // vanished meanwhile: the next event rescans
      }
      watchedByDescriptor[wd] = dir;
      watchedByDirectory[dir] = wd;
    }
    return true;
  }

  void readEvents() {
    if (!inotify) return;
    inotify->async_read_some(asio::buffer(buffer), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      if (self->stopped || ec == asio::error::operation_aborted) return;
      if (ec) {  // the descriptor broke: fall back to polling rather than go blind
        self->stopInotify();
        self->schedulePoll();
        return;
      }
      bool relevant = false;
      for (std::size_t offset = 0; offset + sizeof(inotify_event) <= n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(self->buffer.data() + offset);
        offset += sizeof(inotify_event) + event->len;
        if (event->mask & IN_IGNORED) {
          if (auto it = self->watchedByDescriptor.find(event->wd); it != self->watchedByDescriptor.end()) {
            self->watchedByDirectory.erase(it->second);
            self->watchedByDescriptor.erase(it);
          }
          relevant = true;
          continue;
        }
        const std::string_view name = event->len ? std::string_view(event->name) : std::string_view();
        if ((event->mask & IN_Q_OVERFLOW) || name.empty() || triggersRescan(name)) relevant = true;
      }
      if (relevant) self->changed();
      self->readEvents();
    });
  }

  // Debounce: wait for `debounce` of quiet, but never longer than `maxDelay` after the first change.
  void changed() {
    const auto now = Clock::now();
    if (!firstPendingChange) firstPendingChange = now;
    debounceTimer.expires_at(std::min(now + options.debounce, *firstPendingChange + options.maxDelay));
    debounceTimer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->stopped) return;
      self->firstPendingChange.reset();
      self->scan();
    });
  }

  void schedulePoll() {
    pollTimer.expires_after(options.pollInterval);
    pollTimer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->stopped) return;
      self->scan();
      self->schedulePoll();
    });
  }

  // The documents this file contributes, given how it loaded now (see the class comment).
  static std::vector<Document> keptDocuments(const FileResult& now, const std::vector<Document>& before) {
    if (!now.parsed) return before;
    std::vector<Document> out = now.documents;
    for (const auto& key : now.invalidKeys)
      for (const auto& d : before)
        if (d.key == key) out.push_back(d);
    return out;
  }

  void scan() {
    std::vector<ManifestError> listErrors;
    std::vector<fs::path> directories;
    std::set<std::string> seen;
    std::set<fs::path> watch;
    for (const auto& root : options.paths) {
      std::vector<ManifestError> rootErrors;
      auto found = listManifestFiles({root}, rootErrors, options.load.limits, &directories);
      for (const auto& parent : linkParents(root)) watch.insert(parent);
      if (!rootErrors.empty()) {
        // A vanished path keeps its documents: keep every file we had under it.
        const std::string prefix = fs::path(root).lexically_normal().string();
        for (const auto& [name, state] : files)
          if (name.starts_with(prefix)) seen.insert(name);
        listErrors.insert(listErrors.end(), rootErrors.begin(), rootErrors.end());
      }
      for (const auto& file : found) {
        const std::string name = file.string();
        seen.insert(name);
        auto text = readManifestText(file, options.load.limits);
        FileState& state = files[name];
        if (text && *text == state.text && !state.result.file.empty()) continue;  // unchanged
        FileResult result = text ? loadManifestText(*text, name, options.load) : FileResult{.file = name, .errors = {text.error()}};
        state.documents = keptDocuments(result, state.documents);
        state.text = text ? *text : std::string();
        state.result = std::move(result);
      }
    }
    std::erase_if(files, [&](const auto& entry) { return !seen.contains(entry.first); });
    std::vector<FileResult> results;
    for (const auto& [name, state] : files)
      results.push_back({.file = name, .documents = state.documents, .errors = state.result.errors});
    publish(assembleDesiredState(results, std::move(listErrors)));
    if (inotify) {
      std::error_code ec;
      for (const auto& dir : directories) {
        auto canonical = fs::canonical(dir, ec);
        if (!ec) watch.insert(canonical);
      }
      if (!syncWatches(watch) && options.mode == WatchMode::Auto) {  // out of inotify watches
        stopInotify();
        schedulePoll();
      }
    }
  }

  void publish(DesiredState next) {
    std::string nextSignature = signature(next);
    DesiredState copy;
    {
      std::lock_guard lock(mutex);
      if (current.revision != 0 && nextSignature == currentSignature) return;
      next.revision = current.revision + 1;
      current = next;
      currentSignature = std::move(nextSignature);
      copy = current;
    }
    if (onSnapshot) onSnapshot(copy);
  }
};

DirectorySource::DirectorySource(asio::io_context& io, Options options, SnapshotCallback onSnapshot)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(onSnapshot))) {}

DirectorySource::~DirectorySource() { stop(); }

void DirectorySource::start() {
  const bool wantInotify = impl_->options.mode != WatchMode::Poll;
  if (wantInotify && !impl_->startInotify() && impl_->options.mode == WatchMode::Inotify)
    throw std::runtime_error("inotify is unavailable (set controller.watch.mode to poll or auto)");
  impl_->scan();
  if (impl_->inotify)
    impl_->readEvents();
  else
    impl_->schedulePoll();
}

void DirectorySource::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->debounceTimer.cancel();
  impl_->pollTimer.cancel();
  impl_->stopInotify();
}

DesiredState DirectorySource::snapshot() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->current;
}

bool DirectorySource::usingInotify() const { return impl_->inotify != nullptr; }

void DirectorySource::rescan() {
  asio::post(impl_->io, [self = impl_] {
    if (!self->stopped) self->scan();
  });
}

DirectorySource::Options directorySourceOptions(const OperatorConfig& config, std::vector<std::string> paths) {
  DirectorySource::Options options;
  options.paths = std::move(paths);
  options.load.defaults = config.manifestDefaults(true);
  options.mode = config.controller.watch.mode;
  options.debounce = config.controller.watch.debounce;
  options.maxDelay = std::max(options.debounce * 10, std::chrono::milliseconds(1000));
  options.pollInterval = config.controller.watch.pollInterval;
  return options;
}

}  // namespace anf::controller
