#include "controller/directory_source.h"

#include <utility>  // before Boost.Asio 1.74 under C++23

#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
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

// What stat(2) says of a file. A file whose stamp is unchanged since a read made more than a second
// after its last change is not read again (git's "racy" rule: a change within the timestamps'
// granularity of the read could otherwise hide behind an equal stamp).
struct FileStamp {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::int64_t modifiedNs = 0;
  std::int64_t changedNs = 0;
  bool operator==(const FileStamp&) const = default;
};

std::optional<FileStamp> stampOf(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return std::nullopt;
  auto ns = [](const timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; };
  return FileStamp{st.st_dev, st.st_ino, st.st_size, ns(st.st_mtim), ns(st.st_ctim)};
}

std::int64_t realtimeNs() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

bool sameErrors(const std::vector<ManifestError>& a, const std::vector<ManifestError>& b) {
  return std::ranges::equal(a, b, [](const ManifestError& x, const ManifestError& y) { return x.str() == y.str(); });
}

}  // namespace

struct DirectorySource::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, Options options, SnapshotCallback callback)
      : io(io), options(std::move(options)), onSnapshot(std::move(callback)), debounceTimer(io), pollTimer(io) {}

  // What we know of one file: its last text and when it was read (its documents are in `index`).
  struct FileState {
    std::string text;
    bool loaded = false;
    std::optional<FileStamp> stamp;  // set when the stamp can be trusted for the next scan
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
  ManifestIndex index;
  std::atomic<std::uint64_t> parsed{0};
  std::optional<Clock::time_point> firstPendingChange;
  bool stopped = false;
  mutable std::mutex mutex;  // guards `current`
  DesiredState current;

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
  static std::vector<Document> keptDocuments(FileResult& now, const std::vector<Document>& before) {
    if (!now.parsed) return before;
    std::vector<Document> out = std::move(now.documents);
    for (const auto& key : now.invalidKeys)
      for (const auto& d : before)
        if (d.key == key) out.push_back(d);
    return out;
  }

  // Re-reads `file` unless its stamp says it is unchanged, and re-loads it when its text changed.
  void refreshFile(const fs::path& file) {
    const std::string name = file.string();
    FileState& state = files[name];
    const auto stamp = stampOf(file);
    if (state.loaded && stamp && state.stamp == stamp) return;
    const std::int64_t readAt = realtimeNs();
    auto text = readManifestText(file, options.load.limits);
    state.stamp = stamp && stamp->changedNs < readAt - 1'000'000'000 ? stamp : std::nullopt;
    if (text && *text == state.text && state.loaded) return;
    ++parsed;
    FileResult result = text ? loadManifestText(*text, name, options.load) : FileResult{.file = name, .errors = {text.error()}};
    index.setFile(name, keptDocuments(result, index.fileDocuments(name)), std::move(result.errors));
    state.text = text ? std::move(*text) : std::string();
    state.loaded = true;
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
        seen.insert(file.string());
        refreshFile(file);
      }
    }
    std::erase_if(files, [&](const auto& entry) {
      if (seen.contains(entry.first)) return false;
      index.removeFile(entry.first);
      return true;
    });
    index.setOtherErrors(std::move(listErrors));
    publish();
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

  // Hands on the index's state when documents or errors changed; the documents are shared, not copied.
  void publish() {
    DesiredState next;
    const DocumentChanges changes = index.commit(next);
    {
      std::lock_guard lock(mutex);
      if (current.revision != 0 && changes.empty() && sameErrors(next.errors, current.errors)) return;
      next.revision = current.revision + 1;
      current = next;
    }
    if (onSnapshot) onSnapshot(next, changes);
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

std::uint64_t DirectorySource::filesParsed() const { return impl_->parsed; }

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
