#include "generate/sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "common/error.h"
#include "common/time.h"

namespace loadcast::generate {

namespace {

void write_all(int fd, std::string_view bytes, const std::string& name) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_data("cannot write " + name + ": " + std::strerror(errno));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

void FdSink::write(const Chunk& chunk) { write_all(fd_, chunk.bytes, name_); }

FolderSink::FolderSink(std::filesystem::path root) : root_(std::move(root)) { fds_.fill(-1); }

FolderSink::~FolderSink() { close_all(); }

std::filesystem::path FolderSink::file_for(int64_t epoch_second) {
  int64_t day = floor_div(epoch_second, kSecondsPerDay);
  CivilDate date = civil_from_days(day);
  char text[40];
  std::snprintf(text, sizeof text, "%04d/%02d/%c/%d/request.csv", date.year, date.month,
                date.day <= 15 ? 'a' : 'b', weekday_from_days(day));
  return text;
}

void FolderSink::write(const Chunk& chunk) {
  if (chunk.bytes.empty()) return;
  int64_t day = floor_div(chunk.first_second, kSecondsPerDay);
  CivilDate date = civil_from_days(day);
  int64_t month = int64_t{date.year} * 12 + date.month;
  if (month != month_) {
    finish();
    month_ = month;
  }
  int slot = (date.day <= 15 ? 0 : 7) + weekday_from_days(day);
  std::filesystem::path path = root_ / file_for(chunk.first_second);
  if (fds_[slot] < 0) {
    std::error_code error;
    std::filesystem::create_directories(path.parent_path(), error);
    if (error)
      fail_usage("--out: cannot create " + path.parent_path().string() + ": " + error.message());
    fds_[slot] = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fds_[slot] < 0)
      fail_usage("--out: cannot create " + path.string() + ": " + std::strerror(errno));
  }
  write_all(fds_[slot], chunk.bytes, path.string());
}

void FolderSink::finish() {
  for (int& fd : fds_) {
    if (fd >= 0 && ::close(fd) != 0) {
      fd = -1;
      fail_data("cannot close a file under " + root_.string() + ": " + std::strerror(errno));
    }
    fd = -1;
  }
}

void FolderSink::close_all() {
  for (int& fd : fds_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

}  // namespace loadcast::generate
