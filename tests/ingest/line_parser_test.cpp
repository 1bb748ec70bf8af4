#include "ingest/line_parser.h"

#include <gtest/gtest.h>

#include "ingest/server_ip.h"

namespace loadcast {
namespace {

constexpr const char* kClean =
    "web,2016-07-01 09:12:00,2016-07-01 23:59:00,12,8,1,1,2,1,2,3,4,5,4,40,210.181.165.92,10.0.0.1";

class LineParserTest : public ::testing::Test {
 protected:
  LineAccounting parse(const std::string& text, Layout layout = Layout::kSessions17) {
    LineRules rules;
    rules.layout = layout;
    rules.window_begin = *parse_timestamp("2016-07-01 00:00:00");
    rules.window_end = *parse_timestamp("2016-07-05 23:59:59");
    LineParser parser(rules, servers_);
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
  const auto acc = parse(std::string(kClean) + "\n");
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
  EXPECT_EQ(parse(std::string(kClean) + "\r\n" + kClean).accepted, 2);
  EXPECT_EQ(parse("\n\r\n\n").blank, 3);
  // A lone CR is data, not a line end: the line has a broken ClientIP but 17 fields.
  const auto acc = parse(std::string(kClean) + "\r" + kClean + "\n");
  EXPECT_EQ(acc.lines, 1);
  EXPECT_EQ(acc.rejected_total(), 1);
}

TEST_F(LineParserTest, QuotedFieldsMayHoldCommas) {
  const auto acc = parse(
      "\"web,secure\",2016-07-03 14:40:00,x,12,1e3,1,1,2,1,2,3,4,5,80,499.75,\"210.181.165.92\",\"a,\"\"b\"\"\"\n");
  EXPECT_EQ(acc.accepted, 1);
  ASSERT_EQ(table_.size(), 1u);
  EXPECT_EQ(table_.entries()[0].sums.sum[0], 499.75);
  EXPECT_EQ(table_.entries()[0].sums.sum[1], 1000);
}

TEST_F(LineParserTest, UnbalancedQuoteRunsToTheEndOfTheLine) {
  const auto acc = parse("\"web,2016-07-03 14:40:00,x,12,1,1,1,2,1,2,3,4,5,80,4,210.181.165.92,1\n" +
                         std::string(kClean) + "\n");
  EXPECT_EQ(acc.lines, 2);
  EXPECT_EQ(acc.rejected[static_cast<int>(Reject::kFieldCount)], 1);
  EXPECT_EQ(acc.accepted, 1);
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
  const auto acc = parse("web,2016-07-01 09:12:00,x,12,NaN,1,1,2,,2,3,inf,5,4,text,210.181.165.92,1\n");
  EXPECT_EQ(acc.accepted, 1);
  EXPECT_EQ(acc.missing_values[0], 1);  // TotalLoad
  EXPECT_EQ(acc.missing_values[1], 1);  // MbytesTransferred
  EXPECT_EQ(acc.missing_values[2], 1);  // SubService_1_Load
  EXPECT_EQ(acc.missing_values[5], 1);  // SubService_4_Load
  EXPECT_EQ(table_.entries()[0].sums.sum[0], 0);
}

TEST_F(LineParserTest, Sessions16Layout) {
  const auto acc =
      parse("2016-07-01 09:12:00,x,12,8,1,1,2,1,2,3,4,5,4,40,10.0.0.1,2001:db8::7\n", Layout::kSessions16);
  EXPECT_EQ(acc.accepted, 1);
  EXPECT_EQ(table_.entries()[0].sums.sum[0], 40);
  EXPECT_EQ(servers_.text_of(key_server(table_.entries()[0].key)), "2001:db8::7");
}

TEST(LayoutTest, DetectsTheMajorityLayout) {
  EXPECT_EQ(detect_layout(std::string(kClean) + "\n" + kClean + "\nshort,line\n"), Layout::kSessions17);
  EXPECT_EQ(detect_layout("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\n"), Layout::kSessions16);
  EXPECT_EQ(detect_layout("a,b\n\n"), std::nullopt);
}

TEST(ServerIpTest, Ipv4AndIpv6) {
  EXPECT_EQ(parse_ipv4("210.181.165.92"), 0xD2B5A55Cu);
  for (const char* bad : {"999.1.1.1", "010.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", "", "a.b.c.d", "1.2.3.4 "})
    EXPECT_FALSE(parse_ipv4(bad)) << bad;
  for (const char* good : {"2001:db8::7", "::", "::1", "fe80::", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4", "1::2:3"})
    EXPECT_TRUE(is_valid_ipv6(good)) << good;
  for (const char* bad : {"fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1", "1:", "12345::", "g::1",
                          "1:2:3:4:5:6:7", ":::"})
    EXPECT_FALSE(is_valid_ipv6(bad)) << bad;
}

}  // namespace
}  // namespace loadcast
