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

void record_tuning(RunRecorder& run, const Config& config, const TuningOutcome& outcome) {
  const auto text = [](const nlohmann::json& v) {
    return v.is_string() ? v.get<std::string>() : v.dump();
  };
  for (const TrialResult& t : outcome.trials) {
    std::vector<std::pair<std::string, std::string>> params{
        {"trial", std::to_string(t.trial.index)}};
    for (auto it = t.trial.values.begin(); it != t.trial.values.end(); ++it)
      params.emplace_back(it.key(), text(*it));
    std::vector<MetricValue> metrics;
    double accuracy = 0;
    double f1 = 0;
    for (size_t f = 0; f < t.folds.size(); ++f) {
      const FoldResult& r = t.folds[f];
      const auto step = static_cast<int64_t>(f);
      metrics.push_back({"validation.accuracy", r.metrics.accuracy, step});
      metrics.push_back({"validation.f1", r.metrics.f1, step});
      metrics.push_back({"validation.rows", static_cast<double>(r.validation_rows), step});
      metrics.push_back({"train.rows", static_cast<double>(r.train_rows), step});
      if (r.boosting_rounds_kept > 0)
        metrics.push_back(
            {"boosting_rounds_kept", static_cast<double>(r.boosting_rounds_kept), step});
      accuracy += r.metrics.accuracy;
      f1 += r.metrics.f1;
    }
    const auto folds = static_cast<double>(t.folds.size());
    metrics.push_back({"mean.accuracy", accuracy / folds, 0});
    metrics.push_back({"mean.f1", f1 / folds, 0});
    metrics.push_back({"seconds", t.seconds, 0});
    run.child("trial", params, metrics, t.seconds);
  }
  const TrialResult& best = outcome.trials[static_cast<size_t>(outcome.best)];
  for (auto it = best.trial.values.begin(); it != best.trial.values.end(); ++it)
    run.param("best." + it.key(), text(*it));
  run.metric("trials", static_cast<double>(outcome.trials.size()));
  run.metric("folds", static_cast<double>(outcome.folds.size()));
  run.metric("best_trial", best.trial.index);
  run.metric(std::string("best.mean.") + metric_name(config.tuning.metric), best.score);
  // The search's wall time: binning, growing and scoring every fold, not the refit.
  const double search_seconds = outcome.seconds - outcome.refit.total_seconds;
  run.metric("search_seconds", search_seconds);
  if (search_seconds > 0)
    run.metric("trials_per_minute",
               60.0 * static_cast<double>(outcome.trials.size()) / search_seconds);
}

}  // namespace loadcast::track
