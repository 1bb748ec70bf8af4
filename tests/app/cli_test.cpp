// The program's command line: exit codes and one-line errors of docs/errors.md.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>

#include "support/csv.h"
#include "support/program.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;
using testing::ProgramOutcome;
using testing::run_program;

ProgramOutcome run(const std::string& args) { return run_program(args); }

class CliTest : public ::testing::Test {
 protected:
  fs::path write_config(const std::string& json) {
    const fs::path path = temp_.path() / "config.json";
    testing::write_text(path, json);
    return path;
  }
  testing::TempDir temp_;
};

TEST_F(CliTest, UnknownSubcommandIsAUsageError) {
  const auto out = run("frobnicate");
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.output.find("unknown command 'frobnicate'"), std::string::npos);
}

TEST_F(CliTest, HelpExplainsEachSubcommand) {
  for (const char* sub : {"etl", "train", "generate"}) {
    const auto out = run(std::string(sub) + " --help");
    EXPECT_EQ(out.exit_code, 0) << sub;
    EXPECT_NE(out.output.find("--threads"), std::string::npos) << sub;
  }
  EXPECT_EQ(run("--help").exit_code, 0);
}

TEST_F(CliTest, MissingConfigNamesTheFile) {
  const auto out = run("etl " + (temp_.path() / "nope.json").string());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.output.find("nope.json"), std::string::npos);
}

TEST_F(CliTest, BadJsonAndWrongTypesAreUsageErrors) {
  auto out = run("etl " + write_config("{\"dataFile\": ").string());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.output.find("not valid JSON"), std::string::npos);
  out = run("etl " +
            write_config(R"({"dataFile": "x", "storageContainer": "c", "lowThreshold": "low"})")
                .string());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.output.find("'lowThreshold' must be a number"), std::string::npos);
  out = run("etl " +
            write_config(R"({"dataFile": "x", "storageContainer": "c", "forest": {"maxDepth": 0}})")
                .string());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.output.find("forest.maxDepth"), std::string::npos);
}

TEST_F(CliTest, NoMatchingInputIsADataError) {
  const auto out = run(
      "etl " + write_config(R"({"dataFile": "nothing/*.csv", "storageContainer": "c"})").string() +
      " --output " + (temp_.path() / "out").string());
  EXPECT_EQ(out.exit_code, 3);
  EXPECT_NE(out.output.find("no input file matches"), std::string::npos);
}

TEST_F(CliTest, NoAcceptedRowsIsADataErrorAndLeavesNoOutput) {
  testing::write_text(temp_.path() / "in.csv", "garbage\n\n");
  const auto out =
      run("etl " +
          write_config(R"({"dataFile": "in.csv", "storageContainer": "c", "layout": "sessions17"})")
              .string() +
          " --output " + (temp_.path() / "out").string());
  EXPECT_EQ(out.exit_code, 3);
  EXPECT_NE(out.output.find("no accepted rows"), std::string::npos);
  EXPECT_FALSE(fs::exists(temp_.path() / "out" / "features"));
}

TEST_F(CliTest, EtlGoldenThroughTheProgramAndStdin) {
  const fs::path golden = LOADCAST_GOLDEN_DIR;
  auto out = run("etl " + (golden / "config.json").string() + " --threads 2 --output " +
                 (temp_.path() / "a").string());
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("accepted 44"), std::string::npos);
  // The golden configuration reading standard input (built piecewise:
  // std::string::replace trips GCC 12's -Wrestrict).
  const std::string golden_json = testing::read_text(golden / "config.json");
  const std::string input = "input/request.csv";
  const size_t at = golden_json.find(input);
  std::string json(golden_json, 0, at);
  json += '-';
  json.append(golden_json, at + input.size());
  const fs::path config = write_config(json);
  out = run("etl " + config.string() + " --output " + (temp_.path() / "b").string() + " < " +
            (golden / "input/request.csv").string());
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(testing::read_text(temp_.path() / "a/features/2016/07/part-00000.csv"),
            testing::read_text(temp_.path() / "b/features/2016/07/part-00000.csv"));
}

}  // namespace
}  // namespace loadcast
