#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/time.h"
#include "generate/fleet.h"
#include "generate/generator.h"
#include "generate/line_writer.h"
#include "session_lines.h"

namespace loadcast::generate {
namespace {

using testing::parse_number;
using testing::parse_plain_time;
using testing::split_csv;
using testing::split_lines;
using testing::valid_ipv4;
using testing::valid_server_ip;

std::string generate_text(const GenerateOptions& o, GenerateStats* stats = nullptr) {
  MemorySink sink;
  GenerateStats s = generate(o, sink);
  if (stats) *stats = s;
  EXPECT_EQ(s.bytes, sink.data().size());
  return sink.data();
}

GenerateOptions small(uint64_t size, double dirty_rate = 0.01) {
  GenerateOptions o;
  o.size = size;
  o.dirty_rate = dirty_rate;
  o.threads = 2;
  return o;
}

// ---- clean output --------------------------------------------------------

void expect_all_clean(Layout layout) {
  GenerateOptions o = small(2 << 20, 0.0);
  o.layout = layout;
  GenerateStats stats;
  std::string text = generate_text(o, &stats);
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  const bool l17 = layout == Layout::kSessions17;
  const size_t field_count = l17 ? 17 : 16;
  const int start = l17 ? 1 : 0, server = 15, client = l17 ? 16 : 14;
  std::set<std::string> servers;
  int64_t previous = o.start;
  size_t lines = 0;
  for (std::string_view line : split_lines(text)) {
    ++lines;
    ASSERT_EQ(line.find('"'), std::string_view::npos) << line;
    std::vector<std::string> f = split_csv(line);
    ASSERT_EQ(f.size(), field_count) << line;
    auto t = parse_plain_time(f[start]);
    auto end = parse_plain_time(f[start + 1]);
    ASSERT_TRUE(t && end) << line;
    ASSERT_GE(*t, o.start) << line;
    ASSERT_LE(*t, o.end) << line;
    ASSERT_GE(*end, *t) << line;
    ASSERT_GE(*t, previous) << "lines out of time order: " << line;
    previous = *t;
    ASSERT_TRUE(valid_server_ip(f[server])) << line;
    ASSERT_TRUE(valid_ipv4(f[client])) << line;
    for (int i = start + 2; i < start + 14; ++i) ASSERT_TRUE(parse_number(f[i])) << line;
    if (l17) {
      ASSERT_NE(std::find(kTrafficTypes.begin(), kTrafficTypes.end(), f[0]), kTrafficTypes.end());
    }
    servers.insert(f[server]);
  }
  EXPECT_EQ(lines, stats.lines);
  EXPECT_EQ(stats.dirty_lines, 0u);
  EXPECT_TRUE(servers.count("115.220.193.16"));
  EXPECT_TRUE(servers.count("210.181.165.92"));
  EXPECT_TRUE(std::any_of(servers.begin(), servers.end(), [](const std::string& ip) {
    return ip.find(':') != std::string::npos;
  })) << "expected an IPv6 server";
  EXPECT_EQ(static_cast<int>(servers.size()), stats.servers);
}

TEST(GenerateOutput, EveryLineIsCleanAtDirtyRateZeroSessions17) {
  expect_all_clean(Layout::kSessions17);
}
TEST(GenerateOutput, EveryLineIsCleanAtDirtyRateZeroSessions16) {
  expect_all_clean(Layout::kSessions16);
}

TEST(GenerateOutput, StreamStartsOnTheWindowsFirstDay) {
  std::string text = generate_text(small(64 << 10, 0.0));
  std::string first(split_lines(text).front());
  std::vector<std::string> f = split_csv(first);
  ASSERT_EQ(f.size(), 17u);
  EXPECT_EQ(f[1].substr(0, 11), "2016-06-01 ");
}

// ---- dirty lines -----------------------------------------------------------

// Names the dirty kind of a sessions17 line from its text alone; "clean" for
// an ordinary line.
std::string classify(std::string_view line, const GenerateOptions& o) {
  if (line.empty()) return "blank";
  std::vector<std::string> f = split_csv(line);
  if (f.size() < 17) return "too_few_fields";
  if (f.size() > 17) return "too_many_fields";
  if (line.find('"') != std::string_view::npos) return "quoted_comma";
  const std::string& t = f[1];
  if (!parse_plain_time(t)) {
    if (t.size() >= 7 && t.substr(4, 3) == "-13") return "month_13";
    if (t.size() >= 10 && t.substr(4, 6) == "-02-30") return "feb_30";
    if (!parse_timestamp(t)) return "garbage_time";
    if (t.size() > 19 && (t[t.size() - 6] == '+' || t[t.size() - 6] == '-')) return "time_offset";
    if (t.back() == 'Z') return "time_z";
    if (t.find('.') != std::string::npos) return "time_fraction";
    if (t[10] == 'T') return "time_t";
    return "unexpected time " + t;
  }
  const std::string& ip = f[15];
  if (!valid_server_ip(ip)) {
    if (ip.starts_with("999.") || ip.starts_with("256.")) return "ip_out_of_range";
    if (ip.size() > 1 && ip[0] == '0' && ip[1] >= '0' && ip[1] <= '9') return "ip_leading_zero";
    return "ip_text";
  }
  int64_t start = *parse_plain_time(t);
  if (start < o.start || start > o.end) return "outside_window";
  for (int i : {4, 8, 9, 10, 11, 12, 13, 14}) {
    const std::string& v = f[i];
    if (parse_number(v)) continue;
    if (v.empty()) return "empty_number";
    std::string lower = v;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower.find("nan") != std::string::npos) return "nan";
    if (lower.find("inf") != std::string::npos || lower == "1e999") return "infinity";
    return "text_number";
  }
  return "clean";
}

TEST(GenerateOutput, EveryDirtyKindAppearsAtFivePercent) {
  GenerateOptions o = small(3 << 20, 0.05);
  GenerateStats stats;
  std::string text = generate_text(o, &stats);
  std::map<std::string, size_t> seen;
  size_t lines = 0;
  for (std::string_view line : split_lines(text)) {
    ++seen[classify(line, o)];
    ++lines;
  }
  EXPECT_EQ(lines, stats.lines);
  for (int k = 0; k < kDirtyKindCount; ++k) {
    std::string name(dirty_kind_name(static_cast<DirtyKind>(k)));
    EXPECT_GT(seen[name], 0u) << name;
  }
  size_t dirty = lines - seen["clean"];
  EXPECT_EQ(dirty, stats.dirty_lines);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kDirtyKindCount) + 1) << "an unexpected kind";
  double share = static_cast<double>(dirty) / static_cast<double>(lines);
  EXPECT_NEAR(share, 0.05, 0.007);
  // Outside-window lines are the rarest kind, but present.
  EXPECT_LT(seen["outside_window"], seen["blank"]);
}

TEST(GenerateOutput, DirtyLinesInSessions16KeepTheirShape) {
  GenerateOptions o = small(1 << 20, 0.2);
  o.layout = Layout::kSessions16;
  std::string text = generate_text(o);
  size_t quoted = 0, sixteen = 0;
  for (std::string_view line : split_lines(text)) {
    std::vector<std::string> f = split_csv(line);
    if (line.find('"') != std::string_view::npos) {
      ++quoted;
      EXPECT_EQ(f.size(), 16u) << line;
      EXPECT_TRUE(valid_server_ip(f[15])) << line;
    }
    if (f.size() == 16) ++sixteen;
  }
  EXPECT_GT(quoted, 0u);
  EXPECT_GT(sixteen, 0u);
}

// ---- labels ----------------------------------------------------------------

struct LabelShares {
  double share[3] = {};
  size_t rows = 0;
  size_t servers = 0;
};

// The ETL's labels, recomputed: per server and five-minute bucket the sum of
// TotalLoad over accepted sessions in the window; per grid hour its largest
// bucket (0 when empty); label 1 if <= 100, 2 if <= 500, else 3.
LabelShares label_shares(const std::string& text, const GenerateOptions& o) {
  std::unordered_map<std::string, std::map<int64_t, double>> buckets;
  for (std::string_view line : split_lines(text)) {
    std::vector<std::string> f = split_csv(line);
    if (f.size() != 17) continue;
    std::optional<TimeNs> t = parse_timestamp(f[1]);
    if (!t || !valid_server_ip(f[15])) continue;
    int64_t second = seconds_of(*t);
    if (*t < o.start * kNanosPerSecond || *t > o.end * kNanosPerSecond) continue;
    buckets[f[15]][floor_div(second, 300)] += parse_number(f[14]).value_or(0);
  }
  LabelShares shares;
  size_t counts[3] = {};
  for (const auto& [server, by_bucket] : buckets) {
    std::map<int64_t, double> peak;  // hour -> peak bucket
    for (const auto& [bucket, load] : by_bucket) {
      double& p = peak[floor_div(bucket, 12)];
      p = std::max(p, load);
    }
    for (int64_t hour = peak.begin()->first; hour <= peak.rbegin()->first; ++hour) {
      auto it = peak.find(hour);
      double p = it == peak.end() ? 0 : it->second;
      ++counts[p <= 100 ? 0 : (p <= 500 ? 1 : 2)];
    }
  }
  shares.rows = counts[0] + counts[1] + counts[2];
  shares.servers = buckets.size();
  for (int i = 0; i < 3; ++i)
    shares.share[i] = static_cast<double>(counts[i]) / static_cast<double>(shares.rows);
  return shares;
}

void expect_balanced_labels(const GenerateOptions& o, const std::string& what) {
  LabelShares s = label_shares(generate_text(o), o);
  std::printf("[ labels   ] %s: %zu servers, %zu server-hours: %.1f%% / %.1f%% / %.1f%%\n",
              what.c_str(), s.servers, s.rows, 100 * s.share[0], 100 * s.share[1],
              100 * s.share[2]);
  for (int i = 0; i < 3; ++i) EXPECT_GE(s.share[i], 0.15) << what << ": label " << i + 1;
}

TEST(GenerateLabels, EachLabelHoldsAtLeast15PercentWithDefaults) {
  expect_balanced_labels(small(4 << 20), "4M");
  expect_balanced_labels(small(48 << 20), "48M");
  GenerateOptions other_seed = small(8 << 20);
  other_seed.seed = 12345;
  expect_balanced_labels(other_seed, "8M seed 12345");
}

TEST(GenerateLabels, ExplicitServerCountsKeepTheBalance) {
  GenerateOptions few = small(8 << 20);
  few.servers = 2;
  expect_balanced_labels(few, "8M, 2 servers");
  GenerateOptions many = small(8 << 20);
  many.servers = 60;
  expect_balanced_labels(many, "8M, 60 servers");
}

// ---- determinism, size ---------------------------------------------------

TEST(GenerateDeterminism, SameBytesWhateverTheThreadCount) {
  GenerateOptions o = small(3 << 20, 0.05);
  o.threads = 1;
  std::string one = generate_text(o);
  o.threads = 2;
  EXPECT_EQ(generate_text(o), one);
  o.threads = 5;
  EXPECT_EQ(generate_text(o), one);
  // Slices smaller than an hour (a large size over a short window) too.
  GenerateOptions fine = small(12 << 20);
  fine.end = fine.start + 3 * kSecondsPerHour - 1;
  fine.threads = 1;
  std::string fine_one = generate_text(fine);
  fine.threads = 3;
  EXPECT_EQ(generate_text(fine), fine_one);
}

TEST(GenerateDeterminism, DifferentSeedsDiffer) {
  GenerateOptions o = small(1 << 20);
  std::string first = generate_text(o);
  o.seed = 2;
  EXPECT_NE(generate_text(o), first);
}

TEST(GenerateSize, IsHonouredWithinAFewPercent) {
  struct Case {
    uint64_t size;
    int64_t hours;
    int servers;
  };
  for (const Case& c : {Case{1 << 20, 720, 0}, Case{16 << 20, 720, 0}, Case{16 << 20, 720, 3},
                        Case{4 << 20, 24 * 7, 0}, Case{12 << 20, 3, 0}}) {
    GenerateOptions o = small(c.size);
    o.end = o.start + c.hours * kSecondsPerHour - 1;
    o.servers = c.servers;
    MemorySink sink;
    GenerateStats stats = generate(o, sink);
    double error = (static_cast<double>(stats.bytes) - static_cast<double>(c.size)) /
                   static_cast<double>(c.size);
    EXPECT_LT(std::abs(error), 0.03)
        << c.size << " bytes over " << c.hours << " hours: got " << stats.bytes;
  }
}

TEST(GenerateOutput, WindowEdgesNeedNotBeWholeHours) {
  GenerateOptions o = small(256 << 10, 0.0);
  o.start = *parse_window_time("2016-06-03 10:17:05", false);
  o.end = *parse_window_time("2016-06-04 08:02:59", false);
  std::string text = generate_text(o);
  for (std::string_view line : split_lines(text)) {
    auto t = parse_plain_time(split_csv(line)[1]);
    ASSERT_TRUE(t);
    EXPECT_GE(*t, o.start);
    EXPECT_LE(*t, o.end);
  }
}

// ---- folder layout ---------------------------------------------------------

TEST(GenerateFolder, WritesTheSeedLayoutByHalfMonthAndWeekday) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("loadcast_generate_" + std::to_string(::getpid()));
  fs::remove_all(root);
  GenerateOptions o = small(2 << 20);
  o.end = *parse_window_time("2016-07-20", true);  // spans two months
  FolderSink folder(root);
  generate(o, folder);
  std::string stream = generate_text(o);

  std::vector<std::string> from_files, from_stream;
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::string relative = fs::relative(entry.path(), root).string();
    // YYYY/MM/{a,b}/{0..6}/request.csv
    ASSERT_EQ(relative.size(), 23u) << relative;
    ASSERT_TRUE(relative.ends_with("/request.csv")) << relative;
    const int year = std::stoi(relative.substr(0, 4)), month = std::stoi(relative.substr(5, 2));
    const char half = relative[8];
    const int weekday = relative[10] - '0';
    ASSERT_TRUE(half == 'a' || half == 'b') << relative;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string content = buffer.str();
    int64_t previous = INT64_MIN;
    for (std::string_view line : split_lines(content)) {
      from_files.emplace_back(line);
      auto f = split_csv(line);
      if (f.size() != 17) continue;
      auto t = parse_plain_time(f[1]);
      if (!t || *t < o.start || *t > o.end) continue;
      int64_t day = floor_div(*t, kSecondsPerDay);
      CivilDate date = civil_from_days(day);
      EXPECT_EQ(date.year, year) << line;
      EXPECT_EQ(date.month, month) << line;
      EXPECT_EQ(date.day <= 15 ? 'a' : 'b', half) << line;
      EXPECT_EQ(weekday_from_days(day), weekday) << line;  // 0 = Monday
      EXPECT_GE(*t, previous) << relative;
      previous = *t;
    }
  }
  // June: both halves, every weekday; July 1-20: all of a, b for five weekdays.
  EXPECT_EQ(files, 7u + 7 + 7 + 5);
  for (std::string_view line : split_lines(stream)) from_stream.emplace_back(line);
  std::sort(from_files.begin(), from_files.end());
  std::sort(from_stream.begin(), from_stream.end());
  EXPECT_EQ(from_files, from_stream) << "the folders hold exactly the stream's lines";
  EXPECT_EQ(FolderSink::file_for(1464739200).string(), "2016/06/a/2/request.csv");  // a Wednesday
  fs::remove_all(root);
}

// ---- fleet -------------------------------------------------------------------

TEST(GenerateFleet, HasCyclesHolidaysAndChurn) {
  int64_t start = *parse_window_time("2016-01-01", false);
  int64_t end = *parse_window_time("2016-12-31", true);
  Fleet fleet(1, 200, start, end);
  EXPECT_EQ(fleet.servers()[0].ip, "210.181.165.92");
  EXPECT_EQ(fleet.servers()[1].ip, "115.220.193.16");
  EXPECT_TRUE(fleet.holiday(days_from_civil(2016, 7, 4)));
  EXPECT_TRUE(fleet.holiday(days_from_civil(2016, 11, 24)));  // Thanksgiving
  EXPECT_TRUE(fleet.holiday(days_from_civil(2016, 12, 26)));  // Christmas, observed Monday
  EXPECT_FALSE(fleet.holiday(days_from_civil(2016, 7, 5)));
  int joining = 0, leaving = 0, ipv6 = 0;
  for (const Server& s : fleet.servers()) {
    joining += s.online_hour > start / 3600;
    leaving += s.offline_hour <= end / 3600;
    ipv6 += s.ipv6;
  }
  EXPECT_GT(joining, 0);
  EXPECT_GT(leaving, 0);
  EXPECT_GT(ipv6, 0);
  EXPECT_LT(ipv6, 20);
  // Busier in the afternoon than at night, on average over the fleet.
  double night = 0, afternoon = 0;
  int64_t day = days_from_civil(2016, 3, 9) * 24;
  for (const Server& s : fleet.servers()) {
    night += fleet.activity(s, day + 4 - s.tz_hours);
    afternoon += fleet.activity(s, day + 15 - s.tz_hours);
  }
  EXPECT_GT(afternoon, 4 * night);
}

}  // namespace
}  // namespace loadcast::generate
