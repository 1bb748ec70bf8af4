#include "ingest/line_parser.h"

#include <gtest/gtest.h>

#include <bit>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "common/number.h"
#include "support/csv.h"

namespace loadcast {
namespace {

constexpr const char* kCleanLine =
    "web,2016-07-01 09:12:00,2016-07-01 23:59:00,12,8,1,1,2,1,2,3,4,5,4,40,210.181.165.92,10.0.0.1";

class LineParserTest : public ::testing::Test {
 protected:
  LineAccounting parse(const std::string& text, Layout layout = Layout::kSessions17,
                       LineParser::Scan scan = LineParser::Scan::kWidest) {
    LineRules rules;
    rules.layout = layout;
    rules.window_begin = *parse_timestamp("2016-07-01 00:00:00");
    rules.window_end = *parse_timestamp("2016-07-05 23:59:59");
    LineParser parser(rules, servers_, scan);
    LineAccounting acc;
    table_.clear();
    parser.parse(text, table_, acc);
    EXPECT_TRUE(acc.balanced());
    return acc;
  }
  ServerDictionary servers_;
  BucketTable table_;
};

TEST_F(LineParserTest, AcceptsACleanLineAndSumsItsMeasures) {
  const auto acc = parse(std::string(kCleanLine) + "\n");
  EXPECT_EQ(acc.lines, 1);
  EXPECT_EQ(acc.accepted, 1);
  ASSERT_EQ(table_.size(), 1u);
  const auto& e = table_.entries()[0];
  EXPECT_EQ(key_server(e.key), *parse_ipv4("210.181.165.92"));
  EXPECT_EQ(e.sums.sum[0], 40);  // TotalLoad
  EXPECT_EQ(e.sums.sum[1], 8);   // MbytesTransferred
  EXPECT_EQ(e.sums.sum[7], 4);   // SecureBytes_Load
  EXPECT_EQ(e.sums.sessions, 1);
}

TEST_F(LineParserTest, LineEndingsAndTheLastLineWithoutNewline) {
  EXPECT_EQ(parse(std::string(kCleanLine) + "\r\n" + kCleanLine).accepted, 2);
  EXPECT_EQ(parse("\n\r\n\n").blank, 3);
  // A lone CR is data, not a line end: the line has a broken ClientIP but 17 fields.
  const auto acc = parse(std::string(kCleanLine) + "\r" + kCleanLine + "\n");
  EXPECT_EQ(acc.lines, 1);
  EXPECT_EQ(acc.rejected_total(), 1);
}

TEST_F(LineParserTest, QuotedFieldsMayHoldCommas) {
  const auto acc = parse(
      "\"web,secure\",2016-07-03 "
      "14:40:00,x,12,1e3,1,1,2,1,2,3,4,5,80,499.75,\"210.181.165.92\",\"a,\"\"b\"\"\"\n");
  EXPECT_EQ(acc.accepted, 1);
  ASSERT_EQ(table_.size(), 1u);
  EXPECT_EQ(table_.entries()[0].sums.sum[0], 499.75);
  EXPECT_EQ(table_.entries()[0].sums.sum[1], 1000);
}

TEST_F(LineParserTest, UnbalancedQuoteRunsToTheEndOfTheLine) {
  const auto acc =
      parse("\"web,2016-07-03 14:40:00,x,12,1,1,1,2,1,2,3,4,5,80,4,210.181.165.92,1\n" +
            std::string(kCleanLine) + "\n");
  EXPECT_EQ(acc.lines, 2);
  EXPECT_EQ(acc.rejected[static_cast<int>(Reject::kFieldCount)], 1);
  EXPECT_EQ(acc.accepted, 1);
}

// Found by an outside fuzzing run: a session of the year 0000 counted as
// outside the window; it is a bad timestamp.
TEST_F(LineParserTest, TheYearZeroIsABadTimestamp) {
  const auto acc = parse("web,0000-01-01 00:00:00,x,12,8,1,1,2,1,2,3,4,5,4,40,10.1.1.1,10.0.0.1\n");
  EXPECT_EQ(acc.rejected[static_cast<int>(Reject::kBadTimestamp)], 1);
  EXPECT_EQ(acc.outside_window, 0);
}

TEST_F(LineParserTest, ReasonsAreCheckedInOrder) {
  // Wrong field count wins over a bad timestamp and a bad IP.
  auto acc = parse("web,2016-13-01 10:00:00,IPs\n");
  EXPECT_EQ(acc.rejected[static_cast<int>(Reject::kFieldCount)], 1);
  acc = parse("web,2016-13-01 10:00:00,x,12,8,1,1,2,1,2,3,4,5,4,40,IPs,10.0.0.1\n");
  EXPECT_EQ(acc.rejected[static_cast<int>(Reject::kBadTimestamp)], 1);
  acc = parse("web,2016-08-01 10:00:00,x,12,8,1,1,2,1,2,3,4,5,4,40,010.1.1.1,10.0.0.1\n");
  EXPECT_EQ(acc.rejected[static_cast<int>(Reject::kBadServerIp)], 1);
  acc = parse("web,2016-08-01 10:00:00,x,12,8,1,1,2,1,2,3,4,5,4,40,10.1.1.1,10.0.0.1\n");
  EXPECT_EQ(acc.outside_window, 1);
}

TEST_F(LineParserTest, MissingValuesCountPerFieldAndSumAsZero) {
  const auto acc =
      parse("web,2016-07-01 09:12:00,x,12,NaN,1,1,2,,2,3,inf,5,4,text,210.181.165.92,1\n");
  EXPECT_EQ(acc.accepted, 1);
  EXPECT_EQ(acc.missing_values[0], 1);  // TotalLoad
  EXPECT_EQ(acc.missing_values[1], 1);  // MbytesTransferred
  EXPECT_EQ(acc.missing_values[2], 1);  // SubService_1_Load
  EXPECT_EQ(acc.missing_values[5], 1);  // SubService_4_Load
  EXPECT_EQ(table_.entries()[0].sums.sum[0], 0);
}

TEST_F(LineParserTest, Sessions16Layout) {
  const auto acc = parse("2016-07-01 09:12:00,x,12,8,1,1,2,1,2,3,4,5,4,40,10.0.0.1,2001:db8::7\n",
                         Layout::kSessions16);
  EXPECT_EQ(acc.accepted, 1);
  EXPECT_EQ(table_.entries()[0].sums.sum[0], 40);
  EXPECT_EQ(servers_.text_of(key_server(table_.entries()[0].key)), "2001:db8::7");
}

// A line-at-a-time reference of docs/data-format.md, written without the structural
// pass: split on newlines, strip one CR, split fields (RFC 4180), then the
// checks in order. Expected (server, bucket) sums, summed in line order.
struct Reference {
  LineAccounting acc;
  std::map<uint64_t, BucketSums> sums;
};

Reference reference_parse(const std::string& text, const LineRules& rules,
                          ServerDictionary& servers) {
  Reference ref;
  const ColumnLayout& columns = column_layout(rules.layout);
  for (std::string_view view : testing::split_lines(text)) {
    std::string line(view);
    ++ref.acc.lines;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      ++ref.acc.blank;
      continue;
    }
    const auto fields = testing::split_csv_line(line);
    if (static_cast<int>(fields.size()) != columns.field_count) {
      ++ref.acc.rejected[static_cast<int>(Reject::kFieldCount)];
      continue;
    }
    const auto time = parse_timestamp(fields[columns.session_start]);
    if (!time) {
      ++ref.acc.rejected[static_cast<int>(Reject::kBadTimestamp)];
      continue;
    }
    const std::string& ip = fields[columns.server_ip];
    std::optional<ServerKey> server;
    if (const auto v4 = parse_ipv4(ip))
      server = *v4;
    else if (is_valid_ipv6(ip))
      server = servers.key_for(ip);
    if (!server) {
      ++ref.acc.rejected[static_cast<int>(Reject::kBadServerIp)];
      continue;
    }
    if (*time < rules.window_begin || *time > rules.window_end) {
      ++ref.acc.outside_window;
      continue;
    }
    ++ref.acc.accepted;
    BucketSums& sums =
        ref.sums[pack_bucket_key(*server, floor_div(seconds_of(*time), kBucketSeconds))];
    for (int m = 0; m < kNumMeasures; ++m) {
      if (const auto v = parse_decimal(fields[columns.measure[m]]))
        sums.sum[m] += *v;
      else
        ++ref.acc.missing_values[m];
    }
    ++sums.sessions;
  }
  return ref;
}

// Random lines from valid and broken pieces (numbers of every shape, quotes,
// CRs, long and wide lines, IPv6 servers) in one chunk must give what the
// reference gives, counter for counter and bit for bit.
TEST_F(LineParserTest, AgreesWithALineAtATimeReference) {
  const char* numbers[] = {"0",     "7",     "42",  "106.25",     "0007", "12345678", "123456789",
                           "1.5e2", "",      "-3",  "+4",         ".5",   "5.",       ".",
                           "1.2.3", "nan",   "x1",  "99999999.5", "3.25", "1,5",      "999",
                           "9999",  "10000", "1/2", "9:",         "0000", " 7"};
  const char* servers[] = {"210.181.165.92",
                           "10.0.0.1",
                           "2001:db8:2f6:3a9::155",
                           "2001:db8::7",
                           "999.1.1.1",
                           "\"10.0.0.2\"",
                           "",
                           "::1"};
  const char* times[] = {"2016-07-01 09:12:00", "2016-07-01 09:17:59", "2016-07-02T23:59:59",
                         "2016-07-09 00:00:00", "2016-07-01 24:00:00", "2016-07-01 09:12:00Z",
                         "2016-07-01 9:12:00",  "2016-02-30 01:00:00"};
  for (const Layout layout : {Layout::kSessions17, Layout::kSessions16}) {
    const ColumnLayout& columns = column_layout(layout);
    std::mt19937 rng(11);
    std::string text;
    for (int line = 0; line < 20000; ++line) {
      const int kind = static_cast<int>(rng() % 40);
      if (kind == 0) {
        text += std::string(rng() % 3000, ',');  // very wide
      } else if (kind == 1) {
        text += std::string(1 + rng() % 100, 'x');
      } else {
        std::vector<std::string> fields(static_cast<size_t>(columns.field_count), "f");
        fields[columns.session_start] = times[rng() % 8];
        fields[columns.server_ip] = servers[rng() % 8];
        for (int m = 0; m < kNumMeasures; ++m)
          fields[columns.measure[m]] = numbers[rng() % std::size(numbers)];
        if (kind == 2) fields.pop_back();
        if (kind == 3) fields[0] = "\"a,\"\"b\"";
        for (size_t f = 0; f < fields.size(); ++f) text += (f ? "," : "") + fields[f];
      }
      text += rng() % 5 == 0 ? "\r\n" : rng() % 50 == 0 ? "\r" : "\n";
    }
    text.pop_back();  // the last line without its newline

    LineRules rules;
    rules.layout = layout;
    rules.window_begin = *parse_timestamp("2016-07-01 00:00:00");
    rules.window_end = *parse_timestamp("2016-07-05 23:59:59");
    const Reference ref = reference_parse(text, rules, servers_);
    // The AVX-512 scan (where the CPU has it) and the baseline alike.
    for (const LineParser::Scan scan : {LineParser::Scan::kWidest, LineParser::Scan::kBaseline}) {
      const LineAccounting acc = parse(text, layout, scan);
      EXPECT_EQ(acc.lines, ref.acc.lines);
      EXPECT_EQ(acc.accepted, ref.acc.accepted);
      EXPECT_EQ(acc.outside_window, ref.acc.outside_window);
      EXPECT_EQ(acc.blank, ref.acc.blank);
      EXPECT_EQ(acc.rejected, ref.acc.rejected);
      EXPECT_EQ(acc.missing_values, ref.acc.missing_values);
      ASSERT_EQ(table_.size(), ref.sums.size());
      for (const auto& e : table_.entries()) {
        const auto it = ref.sums.find(e.key);
        ASSERT_NE(it, ref.sums.end());
        EXPECT_EQ(e.sums.sessions, it->second.sessions);
        for (int m = 0; m < kNumMeasures; ++m)
          EXPECT_EQ(std::bit_cast<uint64_t>(e.sums.sum[m]),
                    std::bit_cast<uint64_t>(it->second.sum[m]))
              << m;
      }
    }
  }
}

TEST(LayoutTest, DetectsTheMajorityLayout) {
  EXPECT_EQ(detect_layout(std::string(kCleanLine) + "\n" + kCleanLine + "\nshort,line\n"),
            Layout::kSessions17);
  EXPECT_EQ(detect_layout("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\n"), Layout::kSessions16);
  EXPECT_EQ(detect_layout("a,b\n\n"), std::nullopt);
}

TEST(ServerIpTest, Ipv4AndIpv6) {
  EXPECT_EQ(parse_ipv4("210.181.165.92"), 0xD2B5A55Cu);
  for (const char* bad :
       {"999.1.1.1", "010.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", "", "a.b.c.d", "1.2.3.4 "})
    EXPECT_FALSE(parse_ipv4(bad)) << bad;
  for (const char* good :
       {"2001:db8::7", "::", "::1", "fe80::", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4", "1::2:3"})
    EXPECT_TRUE(is_valid_ipv6(good)) << good;
  for (const char* bad : {"fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1",
                          "1:", "12345::", "g::1", "1:2:3:4:5:6:7", ":::"})
    EXPECT_FALSE(is_valid_ipv6(bad)) << bad;
}

}  // namespace
}  // namespace loadcast
