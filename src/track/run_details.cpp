#include "track/run_details.h"

#include "common/time.h"
#include "ingest/accounting.h"

namespace loadcast::track {

namespace {

std::string number_text(double v) {
  nlohmann::json j = v;
  return j.dump();
}

void record_metrics(RunRecorder& run, const std::string& prefix, const Metrics& m) {
  run.metric(prefix + ".accuracy", m.accuracy);
  run.metric(prefix + ".weightedPrecision", m.weighted_precision);
  run.metric(prefix + ".weightedRecall", m.weighted_recall);
  run.metric(prefix + ".f1", m.f1);
  run.metric(prefix + ".rows", static_cast<double>(m.rows));
}

}  // namespace

void record_config(RunRecorder& run, const Config& config) {
  run.param("dataFile", config.data_file);
  run.param("duration", config.duration);
  run.param("output", std::filesystem::absolute(config.output).lexically_normal().string());
  run.param("layout", std::string(layout_name(config.layout)));
  run.param("trainBegin", format_timestamp(seconds_of(config.train_begin)));
  run.param("trainEnd", format_timestamp(seconds_of(config.train_end)));
  run.param("testSplitStart", format_timestamp(seconds_of(config.test_split_start)));
  run.param("lowThreshold", number_text(config.low_threshold));
  run.param("highThreshold", number_text(config.high_threshold));
  run.param("forest.numTrees", std::to_string(config.forest.num_trees));
  run.param("forest.maxDepth", std::to_string(config.forest.max_depth));
  run.param("forest.seed", std::to_string(config.forest.seed));
  run.param("forest.maxBins", std::to_string(config.forest.max_bins));
  run.param("forest.featureSubsetStrategy", config.forest.feature_subset_strategy);
  run.param("forest.subsamplingRate", number_text(config.forest.subsampling_rate));
}

void record_etl(RunRecorder& run, const Config& config, const EtlReport& report) {
  const LineAccounting& a = report.accounting;
  for_each_counter(
      a, [&](const CounterName& c, int64_t v) { run.metric(c.dotted(), static_cast<double>(v)); });
  run.metric("servers", static_cast<double>(report.servers));
  run.metric("rows", static_cast<double>(report.rows));
  run.metric("daily_rows", static_cast<double>(report.daily_rows));
  run.metric("ingest_seconds", report.ingest_seconds);
  run.metric("total_seconds", report.total_seconds);
  run.metric("MBps", report.ingest_seconds > 0 ? a.bytes / 1e6 / report.ingest_seconds : 0.0);
  if (report.ranks > 1) run.metric("shuffle_bytes", static_cast<double>(report.shuffle_bytes));
  run.artifact("etl_summary", config.output / "etl_summary.json");
  run.artifact("features", config.output / "features");
  run.artifact("hourly", config.output / "hourly");
  run.artifact("daily", config.output / "daily");
}

void record_train(RunRecorder& run, const BundleMetrics& metrics, double train_seconds,
                  double total_seconds, const std::filesystem::path& model_dir) {
  record_metrics(run, "train", metrics.train);
  record_metrics(run, "test", metrics.test);
  run.metric("train_seconds", train_seconds);
  run.metric("total_seconds", total_seconds);
  run.artifact("model", model_dir);
}

}  // namespace loadcast::track
