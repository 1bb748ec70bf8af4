// Scoring speed in-process: model bundle load time, batch predict rows/s
// (and the plain encoder + forest path it replaced), reading a /score body,
// and one /score request of 48 records through the service without HTTP.
// LOADCAST_BENCH_OUTPUT names an ETL+train output folder (features/, model/);
// without it the golden case is run through ETL and training first.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "etl/etl.h"
#include "model/trainer.h"
#include "serve/records.h"
#include "serve/service.h"
#include "store/tables.h"

namespace {

namespace fs = std::filesystem;
using namespace loadcast;

fs::path output_folder() {
  static const fs::path folder = [] {
    if (const char* given = std::getenv("LOADCAST_BENCH_OUTPUT")) return fs::path(given);
    const fs::path out = fs::temp_directory_path() / "loadcast_predict_bench";
    Config config = load_config(fs::path(LOADCAST_SOURCE_DIR) / "tests/golden/case/config.json");
    config.output = out;
    run_etl(config, EtlOptions{});
    const auto rows = read_feature_table(out / "features", default_feature_schema());
    train_model(config, rows, TrainRequest{}).model->save(out / "model");
    return out;
  }();
  return folder;
}

const std::vector<FeatureRow>& feature_rows() {
  static const std::vector<FeatureRow> rows =
      read_feature_table(output_folder() / "features", default_feature_schema());
  return rows;
}

void BM_ModelLoad(benchmark::State& state) {
  const fs::path dir = output_folder() / "model";
  for (auto _ : state) benchmark::DoNotOptimize(serve::load_model_bundle(dir));
}
BENCHMARK(BM_ModelLoad)->Unit(benchmark::kMillisecond);

void BM_PredictBatch(benchmark::State& state) {
  static const Model model = Model::load(output_folder() / "model");
  const auto& all = feature_rows();
  std::vector<FeatureRow> rows;
  for (size_t i = 0; rows.size() < static_cast<size_t>(state.range(0)); ++i)
    rows.push_back(all[i % all.size()]);
  for (auto _ : state)
    benchmark::DoNotOptimize(model.predict(rows, static_cast<int>(state.range(1))));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_PredictBatch)
    ->Args({48, 1})
    ->Args({4096, 1})
    ->Args({4096, 2})
    ->Unit(benchmark::kMicrosecond);

// What Model::predict did before its scoring layouts (and still computes,
// bit for bit): Encoder::transform_all, then Forest::predict_proba.
void BM_PredictBatchReference(benchmark::State& state) {
  static const Model model = Model::load(output_folder() / "model");
  const auto& all = feature_rows();
  std::vector<FeatureRow> rows;
  for (size_t i = 0; rows.size() < static_cast<size_t>(state.range(0)); ++i)
    rows.push_back(all[i % all.size()]);
  const size_t width = static_cast<size_t>(model.encoder().num_features());
  for (auto _ : state) {
    const auto matrix = model.encoder().transform_all(rows, 1);
    benchmark::DoNotOptimize(
        model.forest().predict_proba(forest::MatrixView{matrix, rows.size(), width}, 1));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_PredictBatchReference)->Arg(48)->Arg(4096)->Unit(benchmark::kMicrosecond);

void BM_ScoreRequest48(benchmark::State& state) {
  serve::ServiceOptions options;
  options.require_auth = false;
  serve::ScoringService service(options, serve::load_model_bundle(output_folder() / "model"), {});
  nlohmann::json records = nlohmann::json::array();
  const auto& all = feature_rows();
  for (size_t i = 0; i < 48; ++i)
    records.push_back(serve::record_of(all[i % all.size()], default_feature_schema()));
  const std::string body = records.dump();
  serve::HttpRequest request{"POST", "/score", "application/json", "", body, ""};
  for (auto _ : state) {
    auto response = service.handle(request);
    if (response.status != 200) state.SkipWithError("not 200");
    benchmark::DoNotOptimize(response);
  }
  state.SetItemsProcessed(state.iterations() * 48);
}
BENCHMARK(BM_ScoreRequest48)->Unit(benchmark::kMicrosecond);

// The body of BM_ScoreRequest48 read into records, without scoring.
void BM_ParseRecords48(benchmark::State& state) {
  nlohmann::json records = nlohmann::json::array();
  const auto& all = feature_rows();
  for (size_t i = 0; i < 48; ++i)
    records.push_back(serve::record_of(all[i % all.size()], default_feature_schema()));
  const std::string body = records.dump();
  for (auto _ : state) {
    auto parsed = serve::parse_records_fast(body, default_feature_schema(), 0, 100000, false);
    if (!parsed) state.SkipWithError("declined");
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
  state.SetItemsProcessed(state.iterations() * 48);
}
BENCHMARK(BM_ParseRecords48)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
