#include "support/csv.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/number.h"
#include "store/tables.h"

namespace loadcast::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "loadcast-test-XXXXXX").string();
  path_ = mkdtemp(pattern.data());
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<std::string> split_csv_line(std::string_view line) {
  std::vector<std::string> fields(1);
  bool in_quotes = false;
  bool field_start = true;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        fields.back() += c;
      }
    } else if (c == ',') {
      fields.emplace_back();
      field_start = true;
      continue;
    } else if (c == '"' && field_start) {
      in_quotes = true;
    } else {
      fields.back() += c;
    }
    field_start = false;
  }
  return fields;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t newline = text.find('\n', begin);
    if (newline == std::string_view::npos) newline = text.size();
    lines.push_back(text.substr(begin, newline - begin));
    begin = newline + 1;
  }
  return lines;
}

int CsvTable::column(const std::string& name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

static std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::stringstream in(line);
  while (std::getline(in, field, ',')) out.push_back(field);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

CsvTable read_csv(const fs::path& file) {
  CsvTable t;
  std::ifstream in(file);
  std::string line;
  if (std::getline(in, line)) t.header = split(line);
  while (std::getline(in, line))
    if (!line.empty()) t.rows.push_back(split(line));
  return t;
}

CsvTable read_partitioned(const fs::path& dir) {
  CsvTable all;
  for (const auto& file : partition_files(dir)) {
    CsvTable part = read_csv(file);
    all.header = part.header;
    all.rows.insert(all.rows.end(), part.rows.begin(), part.rows.end());
  }
  return all;
}

std::string compare_tables(const CsvTable& expected, const CsvTable& actual,
                           const std::vector<std::string>& key_columns) {
  std::ostringstream problems;
  int reported = 0;
  auto note = [&](const std::string& s) {
    if (reported++ < 20) problems << s << "\n";
  };
  auto keyed = [&](const CsvTable& t) {
    std::map<std::string, const std::vector<std::string>*> out;
    for (const auto& row : t.rows) {
      std::string key;
      for (const auto& k : key_columns) key += row[static_cast<size_t>(t.column(k))] + "|";
      out[key] = &row;
    }
    return out;
  };
  if (expected.rows.size() != actual.rows.size())
    note("row count: expected " + std::to_string(expected.rows.size()) + ", got " +
         std::to_string(actual.rows.size()));
  const auto e = keyed(expected);
  const auto a = keyed(actual);
  for (const auto& [key, erow] : e) {
    auto it = a.find(key);
    if (it == a.end()) {
      note("missing row " + key);
      continue;
    }
    for (size_t c = 0; c < expected.header.size(); ++c) {
      const int ac = actual.column(expected.header[c]);
      if (ac < 0) {
        note("missing column " + expected.header[c]);
        continue;
      }
      const std::string& want = (*erow)[c];
      const std::string& got = (*it->second)[static_cast<size_t>(ac)];
      if (want == got) continue;
      const auto wv = parse_decimal(want);
      const auto gv = parse_decimal(got);
      if (wv && gv && std::fabs(*wv - *gv) <= 1e-9 * std::fabs(*wv) + 1e-9) continue;
      note(key + " " + expected.header[c] + ": expected " + want + ", got " + got);
    }
  }
  for (const auto& [key, _] : a)
    if (!e.count(key)) note("unexpected row " + key);
  return problems.str();
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->path().filename().string().starts_with(".")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file())
      files[it->path().lexically_relative(dir).string()] = read_text(it->path());
  }
  return files;
}

std::vector<std::string> staging_left(const fs::path& dir) {
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp-") != std::string::npos)
      left.push_back(entry.path().filename().string());
  return left;
}

}  // namespace loadcast::testing
