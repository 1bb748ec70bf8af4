#include "config/config.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace loadcast {
namespace {

std::string usage_error(const std::string& json) {
  try {
    parse_config(json, "conf/storageconfig.json");
  } catch (const Failure& f) {
    EXPECT_EQ(f.code(), ExitCode::kUsage);
    return f.what();
  }
  return "";
}

TEST(ConfigTest, SeedConfigurationWorksUnchanged) {
  const Config c =
      parse_config(R"({"storageAccount": "acct", "storageKey": "k", "storageContainer": "data",
    "dataFile": "20[0,1][0-9]/[0,1][0-9]/[a,b]/[0-6]/request.csv", "duration": "ONE_MONTH"})",
                   "conf/storageconfig.json");
  EXPECT_EQ(c.train_begin, *parse_timestamp("2016-06-01 00:00:00"));
  EXPECT_EQ(c.train_end, *parse_timestamp("2016-06-30 23:59:59"));
  EXPECT_EQ(c.test_split_start, *parse_timestamp("2016-06-29 00:00:00"));
  EXPECT_EQ(c.low_threshold, 100);
  EXPECT_EQ(c.high_threshold, 500);
  EXPECT_EQ(c.output, std::filesystem::path("outputs/data"));
  EXPECT_EQ(c.data_file, "conf/20[0,1][0-9]/[0,1][0-9]/[a,b]/[0-6]/request.csv");
  EXPECT_EQ(c.forest.num_trees, 100);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ConfigTest, FullPresetAndOverrides) {
  const Config c = parse_config(R"({"storageContainer": "x", "dataFile": "-", "duration": "FULL",
    "lowThreshold": 50, "forest": {"numTrees": 7, "maxDepth": 3}, "color": "blue"})",
                                "c.json");
  EXPECT_EQ(c.train_begin, *parse_timestamp("2009-01-01 00:00:00"));
  EXPECT_EQ(c.low_threshold, 50);
  EXPECT_EQ(c.high_threshold, 3500);
  EXPECT_EQ(c.data_file, "-");
  EXPECT_EQ(c.forest.num_trees, 7);
  EXPECT_EQ(c.forest.max_depth, 3);
  EXPECT_EQ(c.warnings, std::vector<std::string>{"color"});
}

TEST(ConfigTest, ErrorsNameTheField) {
  EXPECT_NE(usage_error("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(usage_error("[1]").find("JSON object"), std::string::npos);
  EXPECT_NE(usage_error(R"({"dataFile": 3})").find("'dataFile' must be a string"),
            std::string::npos);
  EXPECT_NE(usage_error(R"({"storageContainer": "x"})").find("'dataFile' is required"),
            std::string::npos);
  EXPECT_NE(usage_error(R"({"dataFile": "a", "storageContainer": "x", "duration": "WEEK"})")
                .find("'duration'"),
            std::string::npos);
  EXPECT_NE(usage_error(R"({"dataFile": "a", "storageContainer": "x", "duration": "CUSTOM"})")
                .find("'trainBegin'"),
            std::string::npos);
  EXPECT_NE(
      usage_error(R"({"dataFile": "a", "storageContainer": "x", "trainBegin": "2016-07-01 00:00:00",
                            "trainEnd": "2016-06-01 00:00:00"})")
          .find("'trainEnd'"),
      std::string::npos);
  EXPECT_NE(usage_error(R"({"dataFile": "a", "storageContainer": "x", "trainBegin": "yesterday"})")
                .find("'trainBegin'"),
            std::string::npos);
  EXPECT_NE(usage_error(R"({"dataFile": "a", "storageContainer": "x", "forest": {"maxDepth": 0}})")
                .find("'forest.maxDepth'"),
            std::string::npos);
  EXPECT_NE(
      usage_error(R"({"dataFile": "a", "storageContainer": "x", "forest": {"numTrees": 2.5}})")
          .find("'forest.numTrees' must be a whole number"),
      std::string::npos);
  EXPECT_NE(usage_error(R"({"dataFile": "a", "storageContainer": "x", "highThreshold": 10})")
                .find("'highThreshold'"),
            std::string::npos);
  EXPECT_NE(usage_error(R"({"dataFile": "a", "storageContainer": "x", "layout": "csv"})")
                .find("'layout'"),
            std::string::npos);
  EXPECT_NE(usage_error(R"({"dataFile": "a"})").find("'storageContainer'"), std::string::npos);
}

TEST(ConfigTest, AValueWithControlCharactersIsShownOnOneLine) {
  // A fuzzing finding: the newline of a bad value went into the message.
  const std::string what = usage_error(
      "{\"dataFile\": \"a\", \"storageContainer\": \"x\", \"trainEnd\": \"2016\\n05\\u0001\"}");
  EXPECT_NE(what.find("'2016\\n05\\x01'"), std::string::npos) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
}

TEST(ConfigTest, AnOutputGivenOnTheCommandLineNeedsNoContainer) {
  EXPECT_NE(usage_error(R"({"dataFile": "a"})").find("'storageContainer'"), std::string::npos);
  const Config c = parse_config(R"({"dataFile": "a", "output": "x"})", "c.json", "elsewhere");
  EXPECT_EQ(c.output, std::filesystem::path("elsewhere"));
  const Config d = parse_config(R"({"dataFile": "a"})", "c.json", "out");
  EXPECT_EQ(d.output, std::filesystem::path("out"));
}

TEST(ConfigTest, StorageKeyFromTheEnvironment) {
  setenv("LOADCAST_STORAGE_KEY", "from-env", 1);
  const Config c = parse_config(
      R"({"storageContainer": "x", "dataFile": "-", "storageKey": "in-file"})", "c.json");
  unsetenv("LOADCAST_STORAGE_KEY");
  EXPECT_EQ(c.storage_key, "from-env");
}

}  // namespace
}  // namespace loadcast
