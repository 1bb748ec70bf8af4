#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "common/error.h"
#include "common/size.h"
#include "common/time.h"
#include "generate/options.h"

namespace loadcast::generate {
namespace {

TEST(GenerateOptions, DefaultsAreTheOneMonthWindow) {
  GenerateOptions o;
  EXPECT_EQ(format_timestamp(o.start), "2016-06-01 00:00:00");
  EXPECT_EQ(format_timestamp(o.end), "2016-06-30 23:59:59");
  EXPECT_EQ(o.layout, Layout::kSessions17);
  EXPECT_EQ(o.dirty_rate, 0.01);
  EXPECT_EQ(o.seed, 1u);
  EXPECT_EQ(format_size(o.size), "100M");
  EXPECT_NO_THROW(validate(o));
}

TEST(GenerateOptions, ParsesSizesWithBinarySuffixes) {
  EXPECT_EQ(parse_size("5000"), 5000u);
  EXPECT_EQ(parse_size("64K"), 65536u);
  EXPECT_EQ(parse_size("100M"), 104857600u);
  EXPECT_EQ(parse_size("1G"), 1073741824u);
  EXPECT_EQ(parse_size("1.5G"), 1610612736u);
  EXPECT_EQ(parse_size("10MB"), 10485760u);
  EXPECT_EQ(parse_size("10MiB"), 10485760u);
  EXPECT_EQ(parse_size("2t"), 2199023255552u);
  for (const char* bad : {"", "G", "12X", "-5", "1.2.3M", "10 M", "1e3", "99999999999T"}) {
    EXPECT_FALSE(parse_size(bad).has_value()) << bad;
  }
  for (uint64_t bytes : {uint64_t{1}, uint64_t{1000}, uint64_t{1} << 20, uint64_t{3} << 30}) {
    EXPECT_EQ(parse_size(format_size(bytes)), bytes);
  }
}

TEST(GenerateOptions, ParsesLayoutsAndWindowTimes) {
  const Param<GenerateOptions>& layout = *generate_params().find("layout");
  GenerateOptions o;
  EXPECT_FALSE(layout.from_text("sessions16", o).has_value());
  EXPECT_EQ(o.layout, Layout::kSessions16);
  EXPECT_FALSE(layout.from_text("sessions17", o).has_value());
  EXPECT_EQ(o.layout, Layout::kSessions17);
  EXPECT_TRUE(layout.from_text("auto", o).has_value());  // not a layout one can write
  EXPECT_TRUE(layout.from_text("csv", o).has_value());
  EXPECT_EQ(parse_window_time("2016-06-01", false), 1464739200);
  EXPECT_EQ(parse_window_time("2016-06-30", true), 1467331199);
  EXPECT_EQ(parse_window_time("2016-06-01 01:00:00", false), 1464742800);
  EXPECT_FALSE(parse_window_time("2016-13-01", false).has_value());
  EXPECT_FALSE(parse_window_time("June", false).has_value());
}

// Each check names the option and the value at fault.
void expect_usage_error(const GenerateOptions& o, const std::string& mention) {
  try {
    validate(o);
    ADD_FAILURE() << "no error; expected one mentioning " << mention;
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kUsage);
    EXPECT_NE(std::string(failure.what()).find(mention), std::string::npos) << failure.what();
  }
}

TEST(GenerateOptions, RejectsImpossibleValuesNamingTheOption) {
  GenerateOptions o;
  o.end = o.start - 1;
  expect_usage_error(o, "--end 2016-05-31 23:59:59 is before --start 2016-06-01 00:00:00");
  o = {};
  o.size = 0;
  expect_usage_error(o, "--size 0");
  o = {};
  o.dirty_rate = 1.5;
  expect_usage_error(o, "--dirty-rate 1.5");
  o = {};
  o.servers = 1;
  expect_usage_error(o, "--servers 1");
  o = {};
  o.layout = Layout::kAuto;
  expect_usage_error(o, "--layout");
  o = {};
  o.threads = -1;
  expect_usage_error(o, "--threads -1");
}

TEST(GenerateOptions, DefaultFleetGrowsWithSize) {
  GenerateOptions o;
  o.size = 10 << 20;
  int small = default_servers(o);
  o.size = uint64_t{1} << 30;
  int large = default_servers(o);
  EXPECT_GE(small, 8);
  EXPECT_GT(large, 10 * small);
  EXPECT_LE(large, 10000);
}

// The command line turns every bad option into exit code 2 and one line.
std::pair<int, std::string> run_cli(const std::string& args) {
  std::string command = std::string(LOADCAST_BINARY) + " generate " + args + " 2>&1 >/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 256> buffer;
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  int status = pclose(pipe);
  return {WEXITSTATUS(status), output};
}

TEST(GenerateCli, UsageErrorsExitTwoNamingTheOption) {
  struct Case {
    std::string args, mention;
  };
  for (const Case& c :
       {Case{"", "--out DIR or --stdout"}, Case{"--stdout --out /tmp/x", "--out DIR or --stdout"},
        Case{"--stdout --size 0", "--size 0"}, Case{"--stdout --size 12X", "--size '12X'"},
        Case{"--stdout --layout csv", "--layout 'csv'"},
        Case{"--stdout --start 2016-07-01 --end 2016-06-01", "--end"},
        Case{"--stdout --dirty-rate 2", "--dirty-rate 2"},
        Case{"--stdout --servers 1", "--servers 1"}}) {
    auto [code, output] = run_cli(c.args);
    EXPECT_EQ(code, 2) << c.args;
    EXPECT_NE(output.find(c.mention), std::string::npos) << c.args << ": " << output;
    EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
  }
}

TEST(GenerateCli, HelpExplainsEveryOption) {
  std::string command = std::string(LOADCAST_BINARY) + " generate --help";
  FILE* pipe = popen(command.c_str(), "r");
  std::string help;
  std::array<char, 256> buffer;
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) help.append(buffer.data(), n);
  EXPECT_EQ(pclose(pipe), 0);
  for (const char* text : {"--out", "--stdout", "--start", "2016-06-01 00:00:00", "--end",
                           "2016-06-30 23:59:59", "--servers", "--size", "100M", "--dirty-rate",
                           "0.01", "--layout", "sessions17", "--seed", "--threads", "Monday"}) {
    EXPECT_NE(help.find(text), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace loadcast::generate
