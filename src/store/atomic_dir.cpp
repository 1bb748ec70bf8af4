#include "store/atomic_dir.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "common/error.h"

namespace loadcast {

namespace fs = std::filesystem;

namespace {

std::string staging_name(const fs::path& final_path,
                         const std::string& owner = std::to_string(::getpid())) {
  std::string name = ".";  // appended piecewise: "." + string trips GCC 12's -Wrestrict
  name += final_path.filename().string();
  name += ".tmp-";
  name += owner;
  return name;
}

void sync_path(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) fail_data("cannot open '" + path.string() + "' to sync it: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail_data("cannot sync '" + path.string() + "': " + std::strerror(errno));
}

}  // namespace

void sync_file(const fs::path& path) { sync_path(path, O_RDONLY); }

StagedDirectory::StagedDirectory(fs::path final_path) : final_(std::move(final_path)) {
  const fs::path parent = final_.has_parent_path() ? final_.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) fail_data("cannot create output folder '" + parent.string() + "': " + ec.message());
  staging_ = parent / staging_name(final_);
  fs::remove_all(staging_, ec);
  fs::create_directories(staging_, ec);
  if (ec) fail_data("cannot create '" + staging_.string() + "': " + ec.message());
}

StagedDirectory::~StagedDirectory() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
}

void StagedDirectory::commit() {
  // Every file inside was synced when written; sync the folders themselves.
  for (const auto& entry : fs::recursive_directory_iterator(staging_))
    if (entry.is_directory()) sync_path(entry.path(), O_RDONLY | O_DIRECTORY);
  sync_path(staging_, O_RDONLY | O_DIRECTORY);
  std::error_code ec;
  if (fs::exists(final_, ec)) {
    // Swap in one step, then drop the old contents now under the staging name.
    if (::syscall(SYS_renameat2, AT_FDCWD, staging_.c_str(), AT_FDCWD, final_.c_str(),
                  RENAME_EXCHANGE) != 0) {
      const fs::path old = staging_.string() + ".old";
      fs::remove_all(old, ec);
      fs::rename(final_, old, ec);
      if (ec) fail_data("cannot replace '" + final_.string() + "': " + ec.message());
      fs::rename(staging_, final_, ec);
      if (ec) fail_data("cannot move output into '" + final_.string() + "': " + ec.message());
      fs::remove_all(old, ec);
    } else {
      fs::remove_all(staging_, ec);
    }
  } else {
    fs::rename(staging_, final_, ec);
    if (ec) fail_data("cannot move output into '" + final_.string() + "': " + ec.message());
  }
  committed_ = true;
  const fs::path parent = final_.has_parent_path() ? final_.parent_path() : fs::path(".");
  sync_path(parent, O_RDONLY | O_DIRECTORY);
}

OutputLock::OutputLock(const fs::path& folder, const std::string& name,
                       const std::vector<fs::path>& outputs) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) fail_data("cannot create output folder '" + folder.string() + "': " + ec.message());
  const fs::path lock = folder / ("." + name + ".lock");
  fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail_data("cannot open '" + lock.string() + "': " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    std::fprintf(stderr, "loadcast: waiting for another %s writing to '%s'\n", name.c_str(),
                 folder.c_str());
    while (::flock(fd_, LOCK_EX) != 0)
      if (errno != EINTR) fail_data("cannot lock '" + lock.string() + "': " + std::strerror(errno));
  }
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    for (const auto& output : outputs)
      if (entry.path().filename().string().starts_with(staging_name(output, "")))
        stale.push_back(entry.path());
  for (const auto& path : stale) fs::remove_all(path, ec);
}

OutputLock::~OutputLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

void write_file_atomically(const fs::path& path, const std::string& content) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  const fs::path temp = parent / staging_name(path);
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f) fail_data("cannot write '" + temp.string() + "': " + std::strerror(errno));
  const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size() &&
                  std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  std::fclose(f);
  if (!ok) {
    fs::remove(temp, ec);
    fail_data("cannot write '" + path.string() + "': " + std::strerror(errno));
  }
  fs::rename(temp, path, ec);
  if (ec)
    fail_data("cannot move '" + temp.string() + "' to '" + path.string() + "': " + ec.message());
}

}  // namespace loadcast
