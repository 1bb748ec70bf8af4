// Atomic outputs (SPEC §6): a directory or file is written under a temporary
// sibling name, synced, and only then put in place, so a failed run leaves
// the previous output intact and nothing half-written under a final name.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace loadcast {

class StagedDirectory {
 public:
  // Creates an empty staging directory beside `final_path`.
  explicit StagedDirectory(std::filesystem::path final_path);
  ~StagedDirectory();  // removes the staging directory unless committed
  StagedDirectory(const StagedDirectory&) = delete;
  StagedDirectory& operator=(const StagedDirectory&) = delete;

  const std::filesystem::path& path() const { return staging_; }
  // Replaces `final_path` (if any) by the staged directory in one rename.
  void commit();

 private:
  std::filesystem::path final_;
  std::filesystem::path staging_;
  bool committed_ = false;
};

// One writer at a time for a set of outputs in one folder: an exclusive
// lock on `folder/.<name>.lock`, waited for, and released when the holder
// ends, however it ends. Holding it, the staging folders of `outputs` that a
// killed writer left behind are removed (no live writer can own them).
class OutputLock {
 public:
  OutputLock(const std::filesystem::path& folder, const std::string& name,
             const std::vector<std::filesystem::path>& outputs);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  int fd_ = -1;
};

// Writes `content` to `path` through a synced temporary file and a rename.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

// Syncs a file's data to disk; throws a data error naming it on failure.
void sync_file(const std::filesystem::path& path);

}  // namespace loadcast
