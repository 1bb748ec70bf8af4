// Atomic outputs (docs/outputs.md): a directory or file is written under a
// temporary sibling name, synced, and only then put in place, so a failed run
// leaves the previous output intact and nothing half-written under a final
// name.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

namespace loadcast {

// An output written under a temporary sibling name and then put in place
// by one rename (a swap with the previous output when there is one).
class StagedOutput {
 public:
  virtual ~StagedOutput();  // removes what is staged unless committed
  StagedOutput(const StagedOutput&) = delete;
  StagedOutput& operator=(const StagedOutput&) = delete;

  // Where to write: the staging directory or file.
  const std::filesystem::path& path() const { return staging_; }
  const std::filesystem::path& final_path() const { return final_; }
  // Replaces the final path (if any) by what is staged, in one rename.
  void commit();

 protected:
  explicit StagedOutput(std::filesystem::path final_path, const std::string& owner = "");

 private:
  friend void commit_together(std::initializer_list<StagedOutput*> outputs);
  // Syncs what is staged; nothing is changed yet.
  virtual void prepare() = 0;
  // Puts the staged output in place, the previous one (if any) now under
  // the staging name.
  void swap_in();
  // Undoes swap_in, as far as the file system lets it.
  void swap_back() noexcept;
  // Drops the previous output and syncs the folder.
  void finish();

  std::filesystem::path final_;
  std::filesystem::path old_;  // the previous output once swapped out (fallback path)
  bool had_previous_ = false;
  bool swapped_ = false;
  bool committed_ = false;

 protected:
  std::filesystem::path staging_;
};

// A directory staged beside `final_path` (created empty). `owner` tells
// apart the stagings of one process (the thread ranks of a test job).
class StagedDirectory : public StagedOutput {
 public:
  explicit StagedDirectory(std::filesystem::path final_path, const std::string& owner = "");

 private:
  void prepare() override;
};

// A file staged beside `final_path`, holding `content` (written and synced
// at once).
class StagedFile : public StagedOutput {
 public:
  StagedFile(std::filesystem::path final_path, const std::string& content);

 private:
  void prepare() override {}
};

// Commits every output, or none: when one cannot be put in place, the ones
// already swapped are put back before the error goes on, so a failed run
// leaves the previous outputs as they were (short of a crash in between).
void commit_together(std::initializer_list<StagedOutput*> outputs);

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

// Writes `content` to `path` (a new file) and syncs it; throws a data error
// naming it when the disk refuses.
void write_synced_file(const std::filesystem::path& path, const std::string& content);

// Writes `content` to `path` through a synced temporary file and a rename.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

// Syncs a file's data to disk; throws a data error naming it on failure.
void sync_file(const std::filesystem::path& path);

}  // namespace loadcast
