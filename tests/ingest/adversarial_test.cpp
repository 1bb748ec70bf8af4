// The line accounting identity of docs/data-format.md on hostile inputs, through the whole
// ingest pipeline (files, chunking, threads). Run under ASan/UBSan in CI.
#include <gtest/gtest.h>

#include <random>

#include "common/ip_address.h"
#include "etl/etl.h"
#include "ingest/pipeline.h"
#include "support/csv.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;

constexpr const char* kClean =
    "web,2016-07-01 09:12:00,2016-07-01 23:59:00,12,8,1,1,2,1,2,3,4,5,4,40,210.181.165.92,10.0.0.1";

// Physical lines as docs/data-format.md defines them, counted independently of the parser.
int64_t physical_lines(const std::string& text) {
  std::string_view t = text;
  if (t.substr(0, 3) == "\xEF\xBB\xBF") t.remove_prefix(3);
  int64_t n = 0;
  for (char c : t) n += c == '\n';
  if (!t.empty() && t.back() != '\n') ++n;
  return n;
}

class AdversarialTest : public ::testing::Test {
 protected:
  Config config_for(const std::vector<std::string>& contents, Layout layout = Layout::kSessions17) {
    for (size_t i = 0; i < contents.size(); ++i) {
      const fs::path file = temp_.path() / "in" / ("part" + std::to_string(i) + ".csv");
      testing::write_text(file, contents[i]);
    }
    Config c;
    c.data_file = (temp_.path() / "in" / "*.csv").string();
    c.layout = layout;
    c.train_begin = *parse_timestamp("2016-07-01 00:00:00");
    c.train_end = *parse_timestamp("2016-07-05 23:59:59");
    c.test_split_start = *parse_timestamp("2016-07-05 00:00:00");
    c.output = temp_.path() / "out";
    return c;
  }

  LineAccounting ingest_all(const std::vector<std::string>& contents, int threads = 2,
                            size_t chunk = 1 << 12, Layout layout = Layout::kSessions17) {
    IngestOptions options;
    options.threads = threads;
    options.chunk_bytes = chunk;
    const Config config = config_for(contents, layout);
    LineRules rules;
    rules.layout = config.layout;
    rules.window_begin = config.train_begin;
    rules.window_end = config.train_end;
    const auto result = ingest(config.data_file, rules, options);
    int64_t expected_lines = 0;
    for (const auto& c : contents) expected_lines += physical_lines(c);
    EXPECT_EQ(result.accounting.lines, expected_lines);
    EXPECT_TRUE(result.accounting.balanced());
    return result.accounting;
  }

  testing::TempDir temp_;
};

TEST_F(AdversarialTest, EmptyFiles) {
  const auto acc = ingest_all({"", ""});
  EXPECT_EQ(acc.lines, 0);
}

TEST_F(AdversarialTest, OnlyGarbageAndNulBytes) {
  std::string garbage(100000, '\0');
  std::mt19937 rng(7);
  for (size_t i = 0; i < garbage.size(); i += 3) garbage[i] = static_cast<char>(rng());
  const auto acc = ingest_all({garbage, std::string(5000, '\0')}, 2, 1 << 12, Layout::kSessions17);
  EXPECT_EQ(acc.accepted, 0);
}

TEST_F(AdversarialTest, NoTrailingNewlineCrlfLoneCrAndBoms) {
  const std::string bom = "\xEF\xBB\xBF";
  const auto acc =
      ingest_all({bom + kClean + "\r\n" + kClean, bom + kClean + "\r" + kClean + "\n\r\n", bom});
  EXPECT_EQ(acc.accepted, 2);
  EXPECT_EQ(acc.rejected_total(), 1);
  EXPECT_EQ(acc.blank, 1);
}

TEST_F(AdversarialTest, UnbalancedQuotes) {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += (i % 3 ? std::string(kClean) : "\"" + std::string(kClean)) + "\n";
  text += "\"\"\"\n\"";
  const auto acc = ingest_all({text});
  EXPECT_EQ(acc.accepted, 666);
}

TEST_F(AdversarialTest, TenMegabyteLineAndThousandFields) {
  std::string text = std::string(kClean) + "\n" + std::string(10 << 20, 'x') + "\n";
  std::string wide;
  for (int i = 0; i < 1000; ++i) wide += "1,";
  text += wide + "\n" + kClean;
  const auto acc = ingest_all({text}, 2, 1 << 16);
  EXPECT_EQ(acc.accepted, 2);
  EXPECT_EQ(acc.rejected[static_cast<int>(Reject::kFieldCount)], 2);
}

TEST_F(AdversarialTest, TwoHundredThousandServers) {
  std::string text;
  for (uint32_t i = 0; i < 200000; ++i) {
    std::string ip;
    append_ipv4(ip, 0x0A000000u + i);
    text += "web,2016-07-02 10:00:00,x,1,2,1,1,2,1,2,3,4,5,4,40," + ip + ",10.0.0.1\n";
  }
  Config config = config_for({text});
  EtlOptions options;
  options.threads = 2;
  const EtlReport report = run_etl(config, options);
  EXPECT_EQ(report.accounting.accepted, 200000);
  EXPECT_EQ(report.servers, 200000);
  EXPECT_EQ(report.rows, 200000);
}

// Output rows are ordered by server text, then time, whatever order the
// lines come in: the same stores from lines in time order and reversed.
TEST_F(AdversarialTest, LinesInAnyOrderGiveTheSameSortedStores) {
  std::vector<std::string> lines;
  for (int minute = 0; minute < 180; minute += 2)
    for (uint32_t server = 0; server < 40; ++server) {
      std::string ip;
      append_ipv4(ip, 0xC0A80000u + server * 7919u % 65536u);
      lines.push_back("web," +
                      format_timestamp(*parse_timestamp("2016-07-02 10:00:00") / kNanosPerSecond +
                                       minute * 60) +
                      ",x,1,2,1,1,2,1,2,3,4,5,4," + std::to_string(minute % 7) + "," + ip +
                      ",10.0.0.1\n");
    }
  auto stores = [&](const std::vector<std::string>& in_order, const std::string& name) {
    std::string text;
    for (const auto& line : in_order) text += line;
    Config config = config_for({text});
    config.output = temp_.path() / name;
    EtlOptions options;
    options.threads = 2;
    options.chunk_bytes = 4096;
    run_etl(config, options);
    return testing::read_partitioned(config.output / "hourly");
  };
  const auto forward = stores(lines, "forward");
  std::reverse(lines.begin(), lines.end());
  const auto reversed = stores(lines, "reversed");
  ASSERT_EQ(forward.rows.size(), 40u * 3u);
  EXPECT_EQ(forward.rows, reversed.rows);
  const int server = forward.column("ServerIP"), hour = forward.column("SessionStartHourTime");
  for (size_t i = 1; i < forward.rows.size(); ++i) {
    const auto& a = forward.rows[i - 1];
    const auto& b = forward.rows[i];
    EXPECT_TRUE(a[server] < b[server] || (a[server] == b[server] && a[hour] < b[hour]))
        << "row " << i;
  }
}

// Random mixes of valid and broken lines: the accounting does not depend on
// chunk size or thread count, and the identity always holds.
TEST_F(AdversarialTest, AccountingIsIndependentOfChunkingAndThreads) {
  const char* pieces[] = {kClean,
                          "",
                          "\r",
                          "\"",
                          ",,,,",
                          "web,2016-07-02T10:00:00Z,x,1,2,1,1,2,1,2,3,4,5,4,40,::1,y",
                          "web,2016-07-09 10:00:00,x,1,2,1,1,2,1,2,3,4,5,4,40,1.2.3.4,y",
                          "\xEF\xBB\xBF",
                          "web,2016-02-30 10:00:00,x,1,2,1,1,2,1,2,3,4,5,4,40,1.2.3.4,y",
                          "\n",
                          "\r\n",
                          "web,2016-07-02 10:00:00,x,1,2,1,1,2,1,2,3,4,5,4,40,1.2.3.04,y"};
  std::mt19937 rng(42);
  std::vector<std::string> files(3);
  for (auto& f : files)
    for (int i = 0; i < 3000; ++i) f += pieces[rng() % std::size(pieces)];
  const auto reference = ingest_all(files, 1, 1 << 20);
  for (size_t chunk : {size_t{64}, size_t{1000}, size_t{1} << 14}) {
    for (int threads : {1, 2, 3}) {
      const auto acc = ingest_all(files, threads, chunk);
      EXPECT_EQ(acc.accepted, reference.accepted);
      EXPECT_EQ(acc.blank, reference.blank);
      EXPECT_EQ(acc.outside_window, reference.outside_window);
      EXPECT_EQ(acc.rejected, reference.rejected);
      EXPECT_EQ(acc.missing_values, reference.missing_values);
    }
  }
  EXPECT_GT(reference.accepted, 0);
  EXPECT_GT(reference.rejected_total(), 0);
}

}  // namespace
}  // namespace loadcast
