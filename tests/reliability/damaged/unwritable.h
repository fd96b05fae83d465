#pragma once
// Makes a file or folder unwritable for this process and its children, for the tests of a state file or folder
// that cannot be written: mode 0555 (0444 for a file), or, for root, whom modes do not stop, the immutable
// attribute (ext4, xfs, btrfs). Header-only; no library.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <filesystem>

namespace anf::testing {

/// Sets `path` writable again or not; false when neither way is possible here (the test then skips).
inline bool setWritable(const std::filesystem::path& path, bool writable) {
  namespace fs = std::filesystem;
  if (::geteuid() != 0) {
    const fs::perms readable = fs::perms::owner_read | (fs::is_directory(path) ? fs::perms::owner_exec : fs::perms::none);
    fs::permissions(path, writable ? readable | fs::perms::owner_write : readable);
    return true;
  }
  const int fd = ::open(path.c_str(), O_RDONLY);
  int flags = 0;
  bool ok = fd >= 0 && ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  flags = writable ? flags & ~FS_IMMUTABLE_FL : flags | FS_IMMUTABLE_FL;
  ok = ok && ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
}

}  // namespace anf::testing
