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
#include <vector>

#include "common/error.h"
#include "common/faults.h"

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

StagedOutput::StagedOutput(fs::path final_path, const std::string& owner)
    : final_(std::move(final_path)) {
  const fs::path parent = final_.has_parent_path() ? final_.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) fail_data("cannot create output folder '" + parent.string() + "': " + ec.message());
  std::string process = std::to_string(::getpid());
  if (!owner.empty()) process += "-" + owner;
  staging_ = parent / staging_name(final_, process);
  fs::remove_all(staging_, ec);
}

StagedOutput::~StagedOutput() {
  std::error_code ec;
  if (swapped_ && !committed_) swap_back();
  if (!committed_) fs::remove_all(staging_, ec);
}

void StagedOutput::swap_in() {
  if (fault_at("commit", final_.string()) != Fault::kNone)
    fail_data("cannot move output into '" + final_.string() + "': " + std::strerror(ENOSPC));
  std::error_code ec;
  had_previous_ = fs::exists(final_, ec);
  if (!had_previous_) {
    fs::rename(staging_, final_, ec);
    if (ec) fail_data("cannot move output into '" + final_.string() + "': " + ec.message());
  } else if (::syscall(SYS_renameat2, AT_FDCWD, staging_.c_str(), AT_FDCWD, final_.c_str(),
                       RENAME_EXCHANGE) != 0) {
    // No exchange on this file system: move the previous output aside first.
    old_ = staging_.string() + ".old";
    fs::remove_all(old_, ec);
    fs::rename(final_, old_, ec);
    if (ec) fail_data("cannot replace '" + final_.string() + "': " + ec.message());
    fs::rename(staging_, final_, ec);
    if (ec) {
      fs::rename(old_, final_, ec);
      fail_data("cannot move output into '" + final_.string() + "': " + ec.message());
    }
  }
  swapped_ = true;
}

void StagedOutput::swap_back() noexcept {
  std::error_code ec;
  if (!had_previous_) {
    fs::rename(final_, staging_, ec);
  } else if (!old_.empty()) {
    fs::rename(final_, staging_, ec);
    fs::rename(old_, final_, ec);
  } else {
    ::syscall(SYS_renameat2, AT_FDCWD, staging_.c_str(), AT_FDCWD, final_.c_str(), RENAME_EXCHANGE);
  }
  swapped_ = false;
}

void StagedOutput::finish() {
  std::error_code ec;
  if (had_previous_) fs::remove_all(old_.empty() ? staging_ : old_, ec);
  committed_ = true;
  const fs::path parent = final_.has_parent_path() ? final_.parent_path() : fs::path(".");
  sync_path(parent, O_RDONLY | O_DIRECTORY);
}

void StagedOutput::commit() { commit_together({this}); }

void commit_together(std::initializer_list<StagedOutput*> outputs) {
  for (StagedOutput* out : outputs) out->prepare();
  std::vector<StagedOutput*> swapped;
  try {
    for (StagedOutput* out : outputs) {
      out->swap_in();
      swapped.push_back(out);
    }
  } catch (...) {
    for (auto it = swapped.rbegin(); it != swapped.rend(); ++it) (*it)->swap_back();
    throw;
  }
  for (StagedOutput* out : outputs) out->finish();
}

StagedDirectory::StagedDirectory(fs::path final_path, const std::string& owner)
    : StagedOutput(std::move(final_path), owner) {
  std::error_code ec;
  fs::create_directories(staging_, ec);
  if (ec) fail_data("cannot create '" + staging_.string() + "': " + ec.message());
}

void StagedDirectory::prepare() {
  // Every file inside was synced when written; sync the folders themselves.
  for (const auto& entry : fs::recursive_directory_iterator(staging_))
    if (entry.is_directory()) sync_path(entry.path(), O_RDONLY | O_DIRECTORY);
  sync_path(staging_, O_RDONLY | O_DIRECTORY);
}

StagedFile::StagedFile(fs::path final_path, const std::string& content)
    : StagedOutput(std::move(final_path)) {
  write_synced_file(staging_, content);
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

void write_synced_file(const fs::path& path, const std::string& content) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) fail_data("cannot write '" + path.string() + "': " + std::strerror(errno));
  const bool ok =
      write_checked(f, content.data(), content.size(), path.string()) == content.size() &&
      std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int error = errno;
  std::fclose(f);
  if (!ok) fail_data("cannot write '" + path.string() + "': " + std::strerror(error));
}

void write_file_atomically(const fs::path& path, const std::string& content) {
  StagedFile(path, content).commit();
}

}  // namespace loadcast
