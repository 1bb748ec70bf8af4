// `loadcast models export --onnx`: the exported model passes ONNX's full
// checker (Debian's python3-onnx), and ONNX Runtime (npm onnxruntime-node)
// gives loadcast's probabilities within 1e-6 and its labels on every row of
// the feature table, for the golden case and a generated month.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "model/model.h"
#include "serve/service.h"
#include "store/tables.h"
#include "support/csv.h"
#include "support/program.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Exports the bundle under `output`/model and checks it against the model's
// own predictions on every row of `output`/features.
void expect_onnx_agrees(const fs::path& output, const fs::path& work) {
  const fs::path bundle = output / "model";
  const fs::path onnx = work / "model.onnx";
  const auto exported =
      testing::run_program("models export " + bundle.string() + " --onnx " + onnx.string() +
                           " --workspace " + (work / "ws").string());
  ASSERT_EQ(exported.exit_code, 0) << exported.output;

  const auto loaded = serve::load_model_bundle(bundle);
  const Model& model = loaded->model;
  std::string checked;
  ASSERT_EQ(testing::run_shell("/usr/bin/python3 " + std::string(LOADCAST_TESTS_DIR) +
                                   "/peers/onnx_check.py " + onnx.string() + " 2>&1",
                               &checked),
            0)
      << checked;
  const json check = json::parse(checked);
  EXPECT_EQ(check["ops"], json::array({"TreeEnsembleClassifier"}));
  EXPECT_EQ(check["opsets"]["ai.onnx.ml"], 3);
  EXPECT_EQ(json::parse(check["metadata"]["feature_names"].get<std::string>()),
            json(model.encoder().feature_names()));
  EXPECT_EQ(check["metadata"]["version"], loaded->version);

  // Every row's encoded vector, written so that each float reads back exactly.
  const std::vector<FeatureRow> rows = read_feature_table(output / "features", model.schema());
  ASSERT_GT(rows.size(), 10u);
  std::string text;
  std::vector<float> x(static_cast<size_t>(model.encoder().num_features()));
  char number[32];
  for (const FeatureRow& row : rows) {
    model.encoder().transform(row, x);
    for (size_t c = 0; c < x.size(); ++c) {
      std::snprintf(number, sizeof number, "%.9g", static_cast<double>(x[c]));
      if (c) text += ',';
      text += number;
    }
    text += '\n';
  }
  testing::write_text(work / "rows.csv", text);
  std::string ran;
  ASSERT_EQ(testing::run_shell("node " + std::string(LOADCAST_TESTS_DIR) + "/peers/onnx_run.mjs " +
                                   onnx.string() + " " + (work / "rows.csv").string() + " 2>&1",
                               &ran),
            0)
      << ran;
  const json runtime = json::parse(ran);

  const std::vector<Prediction> expected = model.predict(rows);
  ASSERT_EQ(runtime["labels"].size(), expected.size());
  std::set<int> labels;
  double worst = 0;
  for (size_t r = 0; r < expected.size(); ++r) {
    EXPECT_EQ(runtime["labels"][r].get<int>(), expected[r].label) << "row " << r;
    for (size_t k = 0; k < 3; ++k)
      worst = std::max(worst, std::abs(runtime["probabilities"][r][k].get<double>() -
                                       expected[r].probability[k]));
    labels.insert(expected[r].label);
  }
  EXPECT_LE(worst, 1e-6);
  EXPECT_GE(labels.size(), 2u) << "the rows compared hold more than one class";
}

// `loadcast etl` then `train` with `config` into `output`.
void etl_and_train(const fs::path& config, const fs::path& output, const fs::path& workspace) {
  for (const char* command : {"etl ", "train "}) {
    const auto outcome =
        testing::run_program(command + config.string() + " --output " + output.string() +
                             " --workspace " + workspace.string());
    ASSERT_EQ(outcome.exit_code, 0) << outcome.output;
  }
}

TEST(OnnxExport, TheGoldenModelRunsInOnnxRuntimeAsInLoadcast) {
  testing::TempDir temp;
  const fs::path config = fs::path(LOADCAST_GOLDEN_DIR) / "config.json";
  const fs::path output = temp.path() / "out";
  for (const char* command : {"etl ", "train "}) {
    const auto outcome =
        testing::run_program(command + config.string() + " --output " + output.string() +
                             " --workspace " + (temp.path() / "ws").string());
    ASSERT_EQ(outcome.exit_code, 0) << outcome.output;
  }
  expect_onnx_agrees(output, temp.path());
}

TEST(OnnxExport, AGeneratedMonthsModelRunsInOnnxRuntimeAsInLoadcast) {
  testing::TempDir temp;
  ASSERT_EQ(testing::write_generated_case(temp.path(), "--size 4M --seed 11", ""), 0);
  const fs::path output = temp.path() / "out";
  ASSERT_NO_FATAL_FAILURE(etl_and_train(temp.path() / "config.json", output, temp.path() / "ws"));
  expect_onnx_agrees(output, temp.path());
}

// Boosted trees export as a softmax over base values plus leaf weights.
TEST(OnnxExport, BoostedTreesRunInOnnxRuntimeAsInLoadcast) {
  testing::TempDir temp;
  ASSERT_EQ(testing::write_generated_case(
                temp.path(), "--size 4M --seed 12",
                R"("algorithm": "gradientBoostedTrees", "boosting": {"numRounds": 60})"),
            0);
  const fs::path output = temp.path() / "out";
  ASSERT_NO_FATAL_FAILURE(etl_and_train(temp.path() / "config.json", output, temp.path() / "ws"));
  ASSERT_EQ(serve::load_model_bundle(output / "model")->model.forest().trees().size(), 180u);
  expect_onnx_agrees(output, temp.path());
}

TEST(OnnxExport, ARegisteredVersionExportsTheSameBytesAndAMissingOneIsAUsageError) {
  testing::TempDir temp;
  const std::string ws = " --workspace " + (temp.path() / "ws").string();
  const fs::path config = fs::path(LOADCAST_GOLDEN_DIR) / "config.json";
  const fs::path output = temp.path() / "out";
  for (const char* command : {"etl ", "train "}) {
    const auto outcome =
        testing::run_program(command + config.string() + " --output " + output.string() + ws);
    ASSERT_EQ(outcome.exit_code, 0) << outcome.output;
  }
  const json runs = testing::recorded_runs(temp.path() / "ws");
  std::string train_run;
  for (const json& r : runs)
    if (r["command"] == "train") train_run = std::to_string(r["id"].get<int64_t>());
  ASSERT_EQ(
      testing::run_program("models register --run " + train_run + " --name golden" + ws).exit_code,
      0);
  const fs::path by_folder = temp.path() / "folder.onnx";
  const fs::path by_version = temp.path() / "version.onnx";
  ASSERT_EQ(testing::run_program("models export " + (output / "model").string() + " --onnx " +
                                 by_folder.string() + ws)
                .exit_code,
            0);
  const auto exported =
      testing::run_program("models export golden@1 --onnx " + by_version.string() + ws);
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  EXPECT_EQ(testing::read_text(by_version), testing::read_text(by_folder));

  const auto missing = testing::run_program("models export golden@production --onnx " +
                                            (temp.path() / "m.onnx").string() + ws);
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_FALSE(fs::exists(temp.path() / "m.onnx"));
}

}  // namespace
}  // namespace loadcast
