// Reading the feature table in shares (one per MPI rank): the shares of a
// table hold every row exactly once, whatever their count and the part files.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "store/tables.h"
#include "support/csv.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;

std::string row_id(const FeatureRow& row) {
  return row.server_ip + "_" + format_timestamp(row.hour);
}

std::vector<std::string> ids(const std::vector<FeatureRow>& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(row_id(row));
  std::sort(out.begin(), out.end());
  return out;
}

// The golden feature table cut into three part files of uneven sizes, two
// in one month folder.
fs::path split_golden_table(const fs::path& root) {
  const std::string text =
      testing::read_text(fs::path(LOADCAST_GOLDEN_DIR) / "expected/features.csv");
  const size_t header_end = text.find('\n') + 1;
  const std::string header = text.substr(0, header_end);
  std::vector<std::string> lines;
  for (size_t at = header_end; at < text.size();) {
    const size_t end = text.find('\n', at) + 1;
    lines.push_back(text.substr(at, end - at));
    at = end;
  }
  const size_t cuts[] = {0, lines.size() / 5, lines.size() / 2, lines.size()};
  const char* files[] = {"2016/07/part-00000.csv", "2016/07/part-00001.csv",
                         "2016/08/part-00000.csv"};
  for (int f = 0; f < 3; ++f) {
    std::string part = header;
    for (size_t i = cuts[f]; i < cuts[f + 1]; ++i) part += lines[i];
    testing::write_text(root / files[f], part);
  }
  return root;
}

TEST(FeatureTableShares, EveryRowInExactlyOneShare) {
  testing::TempDir temp;
  const fs::path dir = split_golden_table(temp.path() / "features");
  const auto whole = ids(read_feature_table(dir, default_feature_schema()));
  ASSERT_EQ(whole.size(), 237u);
  for (int shares = 1; shares <= 7; ++shares) {
    std::vector<std::string> all;
    for (int share = 0; share < shares; ++share) {
      const auto part = ids(read_feature_table(dir, default_feature_schema(), share, shares));
      all.insert(all.end(), part.begin(), part.end());
    }
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, whole) << shares << " shares";
  }
  // More shares than lines: some are empty, none fails.
  size_t total = 0;
  for (int share = 0; share < 1000; ++share)
    total += read_feature_table(dir, default_feature_schema(), share, 1000).size();
  EXPECT_EQ(total, whole.size());
}

TEST(FeatureTableShares, ABadRowIsNamedByFileAndByte) {
  testing::TempDir temp;
  const fs::path dir = split_golden_table(temp.path() / "features");
  const fs::path last = dir / "2016/08/part-00000.csv";
  std::string text = testing::read_text(last);
  // The last line: in the last share, which starts inside this file.
  const size_t line_start = text.rfind('\n', text.size() - 2) + 1;
  const size_t at = text.find("day,", line_start);
  ASSERT_NE(at, std::string::npos);
  const size_t name = text.rfind(',', at) + 1;
  text.replace(name, at + 3 - name, "Funday");
  testing::write_text(last, text);
  try {
    read_feature_table(dir, default_feature_schema(), 3, 4);
    FAIL() << "expected a Failure";
  } catch (const Failure& f) {
    const std::string message = f.what();
    EXPECT_EQ(f.code(), ExitCode::kData);
    EXPECT_NE(message.find(last.string() + " (line at byte " + std::to_string(line_start) + ")"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("'Funday'"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace loadcast
