// Test helpers: temporary folders and a small CSV reader for comparing tables.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace loadcast::testing {

// A fresh folder removed at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The fields of one line as docs/data-format.md reads them (RFC 4180): a quote at a
// field's start opens a quoted part in which "" is a quote and commas are
// data; an unclosed quote runs to the end of the line.
std::vector<std::string> split_csv_line(std::string_view line);

// The lines of `text` split at '\n' (a final line without one included).
std::vector<std::string_view> split_lines(std::string_view text);

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int column(const std::string& name) const;
};

CsvTable read_csv(const std::filesystem::path& file);
// Every part-*.csv under a partitioned folder, concatenated.
CsvTable read_partitioned(const std::filesystem::path& dir);

// Compares two tables keyed by the concatenation of `key_columns`: the same
// keys, and per column equal strings, or numbers within 1e-9 relative (plus
// 1e-9 absolute). Returns a description of the first differences, or "".
std::string compare_tables(const CsvTable& expected, const CsvTable& actual,
                           const std::vector<std::string>& key_columns);

std::string read_text(const std::filesystem::path& file);
void write_text(const std::filesystem::path& file, const std::string& text);

// Every file under the final names in `dir` (not the hidden staging and
// lock files), by relative path, with its content: to see that nothing
// changed.
std::map<std::string, std::string> snapshot(const std::filesystem::path& dir);

// Hidden staging folders and files left in `dir`.
std::vector<std::string> staging_left(const std::filesystem::path& dir);

}  // namespace loadcast::testing
