#include "track/run_details.h"

#include "ingest/accounting.h"

namespace loadcast::track {

namespace {

// Parameters as the run history holds them: texts as they are, other
// values as JSON, the fields of an object as `object.field`.
void record_params(RunRecorder& run, const nlohmann::json& params, const std::string& prefix = "") {
  for (auto it = params.begin(); it != params.end(); ++it) {
    const std::string name = prefix + it.key();
    if (it->is_object()) {
      record_params(run, *it, name + ".");
    } else {
      run.param(name, it->is_string() ? it->get<std::string>() : it->dump());
    }
  }
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
  // Every declared field but the secrets; the output folder as an absolute path.
  Config shown = config;
  shown.output = config.output_url.empty()
                     ? std::filesystem::absolute(config.output).lexically_normal()
                     : std::filesystem::path(config.output_url);
  record_params(run, config_params().to_json(shown));
}

void record_etl(RunRecorder& run, const Config& config, const EtlReport& report,
                const std::string& location) {
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
  run.metric("spill_bytes", static_cast<double>(report.spill.bytes));
  run.metric("spill_runs", static_cast<double>(report.spill.runs));
  if (report.blob.requests > 0) {
    run.metric("blob_requests", static_cast<double>(report.blob.requests));
    run.metric("blob_retries", static_cast<double>(report.blob.retries));
  }
  // Each as its file name says (etl_summary.json: "etl_summary").
  for (const std::string& name : etl_output_names()) {
    const std::string kept = location.empty() ? "" : (location + "/").append(name);
    run.artifact(std::filesystem::path(name).stem().string(), config.output / name, kept);
  }
}

void record_train(RunRecorder& run, const BundleMetrics& metrics, double train_seconds,
                  double total_seconds, const std::filesystem::path& model_dir,
                  const std::string& location) {
  record_metrics(run, "train", metrics.train);
  record_metrics(run, "test", metrics.test);
  run.metric("train_seconds", train_seconds);
  run.metric("total_seconds", total_seconds);
  run.artifact("model", model_dir, location.empty() ? "" : location + "/model");
}

}  // namespace loadcast::track
