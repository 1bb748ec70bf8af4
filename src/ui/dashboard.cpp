#include "ui/dashboard.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "aggregate/measures.h"
#include "common/error.h"
#include "common/sha256.h"
#include "common/time.h"
#include "common/url.h"
#include "eval/metrics.h"
#include "store/blob_output.h"
#include "track/registry.h"
#include "ui/charts.h"
#include "ui/html.h"

namespace loadcast::ui {
namespace {

using serve::HttpRequest;
using serve::HttpResponse;

constexpr const char* kClassColors[kNumLabels] = {"var(--low)", "var(--medium)", "var(--high)"};

HttpResponse html(std::string body, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = "text/html; charset=utf-8";
  return r;
}

HttpResponse message_page(int status, std::string_view title, std::string_view message,
                          std::string_view section = "") {
  return html(page(title, section,
                   "<h1>" + escaped(title) + "</h1><p class=\"error\" id=\"message\">" +
                       escaped(message) + "</p>"),
              status);
}

std::optional<int64_t> parse_id(std::string_view text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (text.empty() || r.ec != std::errc() || r.ptr != end || v < 1) return std::nullopt;
  return v;
}

std::string cell(std::string_view text, bool number = false) {
  return std::string(number ? "<td class=\"num\">" : "<td>") + escaped(text) + "</td>";
}

std::string status_span(const std::string& status) {
  return "<span class=\"status status-" + escaped(status) + "\">" + escaped(status) + "</span>";
}

std::string duration_text(const track::RunRecord& run) {
  if (!run.duration_seconds) return "";
  const double s = *run.duration_seconds;
  if (s < 60) return format_number(s, 3) + " s";
  if (s < 3600) return format_number(s / 60, 3) + " min";
  return format_number(s / 3600, 3) + " h";
}

// The metrics a runs table shows for a command, in this order.
std::vector<std::string> key_metrics(const std::string& command) {
  if (command == "train") return {"test.accuracy", "test.f1", "train.rows"};
  if (command == "tune") return {"best.mean.accuracy", "test.accuracy", "trials"};
  if (command == "etl") return {"rows", "servers", "MBps"};
  if (command == "forecast") return {"servers", "idle_servers", "hot_servers"};
  if (command == "score") return {"predictions"};
  return {};
}

std::optional<double> metric_of(const track::RunRecord& run, const std::string& name) {
  for (const auto& m : run.metrics)
    if (m.name == name) return m.value;
  return std::nullopt;
}

std::string run_link(int64_t id) {
  return "<a href=\"/runs/" + std::to_string(id) + "\">" + std::to_string(id) + "</a>";
}

// The trials of a tuning run: a table (the best one shaded) with each
// trial's values, its validation accuracy on every fold and the mean, and
// the same as a chart, one point per trial.
std::string trials_section(const track::RunRecord& run,
                           const std::vector<track::RunRecord>& trials) {
  std::vector<std::string> names;  // the searched fields
  size_t folds = 0;
  for (const auto& t : trials) {
    for (const auto& [name, value] : t.params)
      if (name != "trial" && std::find(names.begin(), names.end(), name) == names.end())
        names.push_back(name);
    for (const auto& m : t.metrics)
      if (m.name == "validation.accuracy") folds = std::max(folds, static_cast<size_t>(m.step) + 1);
  }
  const auto best = metric_of(run, "best_trial");
  std::string out = "<h2>Trials</h2><table id=\"trials\"><thead><tr><th>trial</th><th>run</th>";
  for (const auto& n : names) out += "<th>" + escaped(n) + "</th>";
  for (size_t f = 0; f < folds; ++f)
    out += "<th class=\"num\">fold " + std::to_string(f + 1) + "</th>";
  out +=
      "<th class=\"num\">mean accuracy</th><th class=\"num\">mean F1</th><th class=\"num\">"
      "seconds</th></tr></thead><tbody>";
  LineChart chart;
  chart.points = true;
  chart.from_zero = false;
  chart.series.push_back({"mean accuracy", "var(--accent)", {}});
  for (size_t f = 0; f < folds; ++f)
    chart.series.push_back({"fold " + std::to_string(f + 1), kClassColors[f % kNumLabels], {}});
  for (const auto& t : trials) {
    const auto index = t.params.count("trial") ? t.params.at("trial") : "";
    const bool is_best = best && index == std::to_string(static_cast<int64_t>(*best));
    out += "<tr data-trial=\"" + escaped(index) + "\"" +
           (is_best ? " class=\"differs\" data-best=\"1\"" : "") + ">" +
           cell(index + (is_best ? " (best)" : "")) + "<td>" + run_link(t.id) + "</td>";
    for (const auto& n : names) out += cell(t.params.count(n) ? t.params.at(n) : "—");
    std::vector<double> fold_values(folds, std::nan(""));
    for (const auto& m : t.metrics)
      if (m.name == "validation.accuracy" && static_cast<size_t>(m.step) < folds)
        fold_values[static_cast<size_t>(m.step)] = m.value;
    for (const double v : fold_values) out += cell(std::isnan(v) ? "—" : format_number(v), true);
    const double mean = metric_of(t, "mean.accuracy").value_or(std::nan(""));
    out += "<td class=\"num\" data-mean=\"" + format_number(mean, 17) + "\">" +
           format_number(mean) + "</td>" +
           cell(format_number(metric_of(t, "mean.f1").value_or(0)), true) +
           cell(format_number(metric_of(t, "seconds").value_or(0), 3), true) + "</tr>";
    chart.x_labels.push_back("#" + index);
    chart.series[0].values.push_back(mean);
    for (size_t f = 0; f < folds; ++f) chart.series[f + 1].values.push_back(fold_values[f]);
  }
  out += "</tbody></table>";
  if (!trials.empty())
    out += "<h2>Validation accuracy by trial</h2>" + line_chart(chart, "trials-chart");
  return out;
}

std::string select_box(const std::string& name, const std::vector<std::string>& choices,
                       const std::string& chosen, const std::string& any) {
  std::string out = "<select name=\"" + name + "\">";
  if (!any.empty()) out += "<option value=\"\">" + escaped(any) + "</option>";
  for (const std::string& c : choices)
    out += "<option value=\"" + escaped(c) + "\"" + (c == chosen ? " selected" : "") + ">" +
           escaped(c) + "</option>";
  return out + "</select>";
}

std::string hour_label(int64_t epoch_seconds) {
  return format_timestamp(epoch_seconds).substr(5, 11);  // MM-DD HH:MM
}

}  // namespace

Dashboard::Dashboard(DashboardOptions options) : options_(std::move(options)) {
  if (!std::filesystem::exists(options_.workspace / track::RunStore::kFileName))
    fail_usage("no run history in '" + options_.workspace.string() +
               "' (run etl or train there first, or pass --workspace DIR)");
  store_ = track::RunStore::open(options_.workspace, false);
  if (options_.model && !options_.stores.empty()) {
    ForecastRequest request;
    request.threads = options_.threads;
    fleet_ = forecast_fleet(options_.model->model, options_.stores, request);
    for (size_t i = 0; i < fleet_.size(); ++i) fleet_index_[fleet_[i].history->server_ip] = i;
  }
}

HttpResponse Dashboard::handle(const HttpRequest& request) {
  try {
    const std::string_view path = request.path;
    if (request.method == "POST") {
      if (path == "/models/promote") return promote(request);
      return message_page(405, "Not allowed", std::string(path) + " takes GET");
    }
    if (request.method != "GET" && request.method != "HEAD")
      return message_page(405, "Not allowed", "the dashboard takes GET (and POST to promote)");
    if (path == "/" || path == "/runs") return runs_page(request);
    if (path.rfind("/runs/", 0) == 0) {
      const auto id = parse_id(path.substr(6));
      if (!id)
        return message_page(404, "No such run", "not a run id: " + std::string(path.substr(6)));
      return run_page(*id);
    }
    if (path == "/compare") return compare_page(request);
    if (path == "/models") return models_page("");
    if (path == "/fleet") return fleet_page();
    if (path.rfind("/fleet/", 0) == 0) return server_page(std::string(path.substr(7)));
    if (path == "/healthz") {
      HttpResponse r;
      r.body = "{\"status\":\"ok\"}";
      return r;
    }
    return message_page(404, "Not found", "no such page: " + std::string(path.substr(0, 200)));
  } catch (const Failure& e) {
    return message_page(e.code() == ExitCode::kInternal ? 500 : 400, "Error", e.what());
  } catch (const std::exception& e) {
    return message_page(500, "Error", std::string("internal error: ") + e.what());
  }
}

HttpResponse Dashboard::runs_page(const HttpRequest& request) {
  track::RunFilter filter;
  filter.command = query_value(request.query, "command").value_or("");
  filter.status = query_value(request.query, "status").value_or("");
  const size_t per_page = options_.runs_per_page;
  size_t page_number = 1;
  if (const auto p = query_value(request.query, "page"); p && parse_id(*p))
    page_number = static_cast<size_t>(*parse_id(*p));

  // One page of the history: its count, the page's rows in full, and the
  // commands for the filter; each an indexed query, whatever the history's size.
  std::vector<track::RunRecord> shown;
  std::vector<std::string> commands;
  int64_t total = 0;
  track::RunFilter page_filter = filter;
  page_filter.limit = per_page;
  page_filter.offset = (page_number - 1) * per_page;
  {
    std::lock_guard lock(store_mutex_);
    commands = store_->commands();
    total = store_->count_runs(filter);
    for (const auto& row : store_->list_runs(page_filter))
      if (auto full = store_->find_run(row.id)) shown.push_back(std::move(*full));
  }
  std::string body = "<h1>Runs</h1>";
  body += "<form class=\"filters\" method=\"get\" action=\"/\"><label>command " +
          select_box("command", commands, filter.command, "any") + "</label><label>status " +
          select_box("status", {"running", "finished", "failed"}, filter.status, "any") +
          "</label><button type=\"submit\">Filter</button></form>";
  const size_t from = page_filter.offset;
  body +=
      "<p class=\"note\" id=\"count\">" +
      (shown.empty() ? (total == 0 ? std::string("no runs") : "no runs on this page")
                     : "runs " + std::to_string(from + 1) + "–" +
                           std::to_string(from + shown.size()) + " of " + std::to_string(total)) +
      "</p>";
  body +=
      "<form method=\"get\" action=\"/compare\"><table id=\"runs\"><thead><tr><th></th>"
      "<th class=\"num\">id</th><th>command</th><th>status</th><th>started (UTC)</th>"
      "<th class=\"num\">duration</th><th>target</th><th class=\"num\">ranks</th>"
      "<th>key metrics</th></tr></thead><tbody>";
  for (const auto& run : shown) {
    body += "<tr data-run=\"" + std::to_string(run.id) + "\" data-command=\"" +
            escaped(run.command) + "\" data-status=\"" + escaped(run.status) + "\">";
    body += "<td><input type=\"checkbox\" name=\"ids\" value=\"" + std::to_string(run.id) +
            "\" aria-label=\"compare run " + std::to_string(run.id) + "\"></td>";
    body += "<td class=\"num\">" + run_link(run.id) + "</td>" + cell(run.command) + "<td>" +
            status_span(run.status) + "</td>" + cell(track::format_unix_time(run.started_at)) +
            cell(duration_text(run), true) + cell(run.target.empty() ? "—" : run.target) +
            cell(std::to_string(run.ranks), true) + "<td class=\"metrics\">";
    for (const std::string& name : key_metrics(run.command))
      if (const auto v = metric_of(run, name))
        body += "<span class=\"badge\" data-metric=\"" + escaped(name) + "\" data-value=\"" +
                format_number(*v, 17) + "\">" + escaped(name) + " " + format_number(*v) +
                "</span> ";
    body += "</td></tr>";
  }
  body += "</tbody></table><button type=\"submit\">Compare the runs ticked</button></form>";
  const size_t pages = (static_cast<size_t>(total) + per_page - 1) / std::max<size_t>(per_page, 1);
  if (pages > 1) {
    const auto link = [&](size_t p, const std::string& text) {
      return "<a href=\"/?command=" + url_encode(filter.command) +
             "&status=" + url_encode(filter.status) + "&page=" + std::to_string(p) + "\">" + text +
             "</a>";
    };
    body += "<p class=\"pages\">";
    if (page_number > 1) body += link(page_number - 1, "← newer") + " ";
    body += "page " + std::to_string(page_number) + " of " + std::to_string(pages);
    if (page_number < pages) body += " " + link(page_number + 1, "older →");
    body += "</p>";
  }
  return html(page("Runs", "runs", body));
}

HttpResponse Dashboard::run_page(int64_t id) {
  std::optional<track::RunRecord> found;
  std::vector<track::RunRecord> trials;
  {
    std::lock_guard lock(store_mutex_);
    found = store_->find_run(id);
    track::RunFilter children;
    children.parent = id;
    for (const auto& row : store_->list_runs(children))
      if (auto full = store_->find_run(row.id)) trials.push_back(std::move(*full));
  }
  std::reverse(trials.begin(), trials.end());  // oldest first
  if (!found)
    return message_page(404, "No such run", "no run " + std::to_string(id) + " in the history",
                        "runs");
  const track::RunRecord& run = *found;
  std::string body = "<h1 id=\"title\" data-run=\"" + std::to_string(run.id) + "\">Run " +
                     std::to_string(run.id) + " · " + escaped(run.command) + " " +
                     status_span(run.status) + "</h1>";
  std::string arguments;
  for (const auto& a : run.arguments) arguments += (arguments.empty() ? "" : " ") + a;
  body += "<table id=\"summary\"><tbody>";
  const std::pair<const char*, std::string> facts[] = {
      {"started (UTC)", track::format_unix_time(run.started_at)},
      {"ended (UTC)", run.ended_at ? track::format_unix_time(*run.ended_at) : "—"},
      {"took", duration_text(run)},
      {"host", run.host},
      {"pid", std::to_string(run.pid)},
      {"target", run.target.empty() ? "—" : run.target},
      {"ranks", std::to_string(run.ranks)},
      {"threads", std::to_string(run.threads)},
      {"revision", run.git_revision.empty() ? "—" : run.git_revision},
      {"arguments", arguments}};
  for (const auto& [name, value] : facts)
    body += "<tr><th>" + std::string(name) + "</th>" + cell(value) + "</tr>";
  if (run.parent)
    body += "<tr><th>part of</th><td id=\"parent\">run " + run_link(run.parent) + "</td></tr>";
  body += "</tbody></table>";
  if (!run.error.empty())
    body += "<h2>Error</h2><div class=\"error\" id=\"error\">" + escaped(run.error) + "</div>";

  body +=
      "<div class=\"grid\"><div><h2>Metrics</h2><table id=\"metrics\"><thead><tr><th>name</th>"
      "<th class=\"num\">value</th><th class=\"num\">step</th></tr></thead><tbody>";
  for (const auto& m : run.metrics)
    body += "<tr data-metric=\"" + escaped(m.name) + "\" data-value=\"" +
            format_number(m.value, 17) + "\">" + cell(m.name) +
            cell(format_number(m.value, 6), true) + cell(std::to_string(m.step), true) + "</tr>";
  body += "</tbody></table></div><div><h2>Parameters</h2><table id=\"params\"><tbody>";
  for (const auto& [name, value] : run.params)
    body += "<tr data-param=\"" + escaped(name) + "\">" + cell(name) + cell(value) + "</tr>";
  body += "</tbody></table></div></div>";
  if (!trials.empty()) body += trials_section(run, trials);

  body +=
      "<h2>Artifacts</h2><table id=\"artifacts\"><thead><tr><th>name</th><th>kind</th>"
      "<th class=\"num\">size</th><th>sha256</th><th>path</th></tr></thead><tbody>";
  std::string model_dir, model_sha256;
  for (const auto& a : run.artifacts) {
    body += "<tr data-artifact=\"" + escaped(a.name) + "\" data-sha256=\"" + escaped(a.sha256) +
            "\">" + cell(a.name) + cell(a.kind) +
            cell(format_bytes(static_cast<double>(a.bytes)), true) + "<td class=\"mono\">" +
            escaped(a.sha256) + "</td>" + cell(a.path) + "</tr>";
    if (a.name == "model" && a.kind == "dir") model_dir = a.path, model_sha256 = a.sha256;
  }
  body += "</tbody></table>";

  // A train run's bundle: its test metrics in full, and what the forest splits on.
  // Only the bundle this run wrote: a later train run may have replaced it.
  if (!model_dir.empty()) {
    try {
      // A bundle published to blob storage is read from a copy.
      const RecordedFolder copy(model_dir);
      const std::filesystem::path& bundle = copy.path();
      if (bundle.empty())
        throw std::runtime_error("it is no longer there (a later run replaced it)");
      if (sha256_tree(bundle).sha256 != model_sha256)
        throw std::runtime_error("it has changed since this run (a later run replaced it)");
      const Model model = Model::load(bundle);
      const Metrics& test = model.metrics().test;
      std::vector<std::vector<int64_t>> confusion;
      for (const auto& row : test.confusion) confusion.emplace_back(row.begin(), row.end());
      const std::vector<std::string> names(kLabelNames.begin(), kLabelNames.end());
      body +=
          "<h2>Test set: " + std::to_string(test.rows) + " rows, accuracy " +
          format_number(test.accuracy) + "</h2><div class=\"grid\"><div>" +
          heat_map(confusion, names, names, "true class", "predicted class", "confusion") +
          "</div><div><table id=\"per-class\"><thead><tr><th>class</th>"
          "<th class=\"num\">precision</th><th class=\"num\">recall</th><th class=\"num\">F1</th>"
          "<th class=\"num\">support</th></tr></thead><tbody>";
      for (int c = 0; c < kNumLabels; ++c) {
        const ClassMetrics& m = test.per_class[static_cast<size_t>(c)];
        body += "<tr data-class=\"" + std::string(kLabelNames[static_cast<size_t>(c)]) +
                "\"><td class=\"" + kLabelNames[static_cast<size_t>(c)] + "\">" +
                kLabelNames[static_cast<size_t>(c)] + "</td>" +
                cell(format_number(m.precision), true) + cell(format_number(m.recall), true) +
                cell(format_number(m.f1), true) + cell(std::to_string(m.support), true) + "</tr>";
      }
      body += "</tbody></table></div></div>";
      const std::vector<double> importances = model.forest().feature_importances();
      const auto& feature_names = model.encoder().feature_names();
      std::vector<std::pair<std::string, double>> bars;
      for (size_t f = 0; f < importances.size() && f < feature_names.size(); ++f)
        if (importances[f] > 0) bars.emplace_back(feature_names[f], importances[f]);
      std::stable_sort(bars.begin(), bars.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
      if (bars.size() > 20) bars.resize(20);
      body += "<h2>Feature importances (the 20 largest)</h2>" + bar_chart(bars, "importances");
    } catch (const std::exception& e) {
      body += "<p class=\"note\" id=\"bundle-note\">The model bundle at " + escaped(model_dir) +
              " cannot be read now: " + escaped(e.what()) + "</p>";
    }
  }
  return html(page("Run " + std::to_string(run.id), "runs", body));
}

HttpResponse Dashboard::compare_page(const HttpRequest& request) {
  std::vector<int64_t> ids;
  for (const std::string& text : query_values(request.query, "ids", true)) {
    const auto id = parse_id(text);
    if (!id) return message_page(400, "Compare runs", "not a run id: " + text, "runs");
    if (std::find(ids.begin(), ids.end(), *id) == ids.end()) ids.push_back(*id);
  }
  if (ids.size() < 2)
    return message_page(400, "Compare runs", "tick two or more runs to compare them", "runs");
  std::vector<track::RunRecord> runs;
  {
    std::lock_guard lock(store_mutex_);
    for (const int64_t id : ids) {
      auto run = store_->find_run(id);
      if (!run)
        return message_page(404, "Compare runs", "no run " + std::to_string(id) + " in the history",
                            "runs");
      runs.push_back(std::move(*run));
    }
  }
  std::set<std::string> metric_names, param_names;
  for (const auto& r : runs) {
    for (const auto& m : r.metrics) metric_names.insert(m.name);
    for (const auto& [name, value] : r.params) param_names.insert(name);
  }
  std::string chosen = query_value(request.query, "metric").value_or("");
  if (!metric_names.count(chosen)) {
    chosen.clear();
    for (const char* preferred : {"test.accuracy", "rows", "seconds"})
      if (metric_names.count(preferred)) {
        chosen = preferred;
        break;
      }
    if (chosen.empty() && !metric_names.empty()) chosen = *metric_names.begin();
  }

  std::string ids_text;
  for (const int64_t id : ids) ids_text += (ids_text.empty() ? "" : ",") + std::to_string(id);
  std::string body = "<h1>Runs " + escaped(ids_text) + " side by side</h1>";
  if (!chosen.empty()) {
    LineChart chart;
    chart.points = true;
    chart.from_zero = false;
    Series series{chosen, "var(--accent)", {}};
    for (const auto& r : runs) {
      chart.x_labels.push_back("run " + std::to_string(r.id));
      series.values.push_back(metric_of(r, chosen).value_or(NAN));
    }
    chart.series.push_back(std::move(series));
    std::vector<std::string> names(metric_names.begin(), metric_names.end());
    body +=
        "<form class=\"filters\" method=\"get\" action=\"/compare\"><input type=\"hidden\" "
        "name=\"ids\" value=\"" +
        escaped(ids_text) + "\"><label>metric " + select_box("metric", names, chosen, "") +
        "</label><button type=\"submit\">Show</button></form>" + line_chart(chart, "compare-chart");
  }
  const auto table = [&](const std::string& id, const std::set<std::string>& names,
                         const auto& value_of) {
    std::string out = "<table id=\"" + id + "\"><thead><tr><th>name</th>";
    for (const auto& r : runs)
      out += "<th class=\"num\">" + run_link(r.id) + " " + escaped(r.command) + "</th>";
    out += "</tr></thead><tbody>";
    for (const std::string& name : names) {
      std::vector<std::string> values;
      values.reserve(runs.size());
      for (const auto& r : runs) values.push_back(value_of(r, name));
      const bool differs =
          std::adjacent_find(values.begin(), values.end(), std::not_equal_to<>()) != values.end();
      out += "<tr data-name=\"" + escaped(name) + "\"" + (differs ? " class=\"differs\"" : "") +
             ">" + cell(name);
      for (const auto& v : values) out += cell(v, true);
      out += "</tr>";
    }
    return out + "</tbody></table>";
  };
  body += "<h2>Metrics</h2>" + table("compare-metrics", metric_names,
                                     [](const track::RunRecord& r, const std::string& n) {
                                       const auto v = metric_of(r, n);
                                       return v ? format_number(*v, 6) : std::string("—");
                                     });
  body += "<h2>Parameters</h2><p class=\"note\">rows that differ are shaded</p>" +
          table("compare-params", param_names, [](const track::RunRecord& r, const std::string& n) {
            const auto it = r.params.find(n);
            return it == r.params.end() ? std::string("—") : it->second;
          });
  return html(page("Compare runs", "runs", body));
}

HttpResponse Dashboard::models_page(const std::string& message) {
  std::vector<track::ModelVersion> versions;
  {
    std::lock_guard lock(store_mutex_);
    versions = track::list_models(*store_);
  }
  std::string body = "<h1>Models</h1>";
  if (!message.empty()) body += "<p class=\"error\" id=\"message\">" + escaped(message) + "</p>";
  if (versions.empty())
    body +=
        "<p class=\"note\">No model is registered yet: <code>loadcast models register RUN_ID "
        "NAME</code> adds a train run's bundle.</p>";
  body +=
      "<table id=\"models\"><thead><tr><th>name</th><th class=\"num\">version</th>"
      "<th>stage</th><th class=\"num\">run</th><th class=\"num\">size</th><th>sha256</th>"
      "<th>registered (UTC)</th>" +
      std::string(options_.allow_writes ? "<th>promote</th>" : "") + "</tr></thead><tbody>";
  for (const auto& v : versions) {
    body += "<tr data-model=\"" + escaped(v.name) + "\" data-version=\"" +
            std::to_string(v.version) + "\" data-stage=\"" + escaped(v.stage) + "\">" +
            cell(v.name) + cell(std::to_string(v.version), true) + cell(v.stage) +
            "<td class=\"num\">" + run_link(v.run_id) + "</td>" +
            cell(format_bytes(static_cast<double>(v.bytes)), true) + "<td class=\"mono\">" +
            escaped(v.sha256.substr(0, 16)) + "</td>" + cell(track::format_unix_time(v.created_at));
    if (options_.allow_writes)
      body +=
          "<td><form method=\"post\" action=\"/models/promote\"><input type=\"hidden\" "
          "name=\"name\" value=\"" +
          escaped(v.name) +
          "\"><input type=\"hidden\" "
          "name=\"version\" value=\"" +
          std::to_string(v.version) + "\">" +
          select_box("stage", {"staging", "production", "archived"}, v.stage, "") +
          " <input type=\"password\" name=\"serviceKey\" placeholder=\"service key\" "
          "autocomplete=\"off\"> <button type=\"submit\">Promote</button></form></td>";
    body += "</tr>";
  }
  body += "</tbody></table>";
  if (!options_.allow_writes)
    body +=
        "<p class=\"note\">Read-only: start <code>loadcast ui --allow-writes</code> (with "
        "service keys) to promote versions here.</p>";
  return html(page("Models", "models", body));
}

HttpResponse Dashboard::promote(const HttpRequest& request) {
  if (!options_.allow_writes)
    return message_page(403, "Read-only",
                        "this dashboard is read-only: start it with --allow-writes to promote",
                        "models");
  const std::string form(request.body);
  const std::string key = query_value(form, "serviceKey").value_or("");
  if (!options_.keys.accepts("Bearer " + key))
    return html(models_page("the service key is missing or wrong").body, 401);
  const std::string name = query_value(form, "name").value_or("");
  const std::string stage = query_value(form, "stage").value_or("");
  const auto version = parse_id(query_value(form, "version").value_or(""));
  if (name.empty() || !version || !track::is_stage(stage))
    return html(models_page("promote needs a model name, a version and a stage (staging, "
                            "production or archived)")
                    .body,
                400);
  {
    std::lock_guard lock(store_mutex_);
    track::promote_model(*store_, name, static_cast<int>(*version), stage);
  }
  HttpResponse r = html("");
  r.status = 303;
  r.headers.emplace_back("Location", "/models");
  return r;
}

HttpResponse Dashboard::fleet_page() {
  if (fleet_.empty())
    return html(page("Fleet", "fleet",
                     "<h1>Fleet forecast</h1><p class=\"note\" id=\"message\">Start <code>loadcast "
                     "ui --model DIR|NAME@STAGE --stores DIR</code> to see the fleet's next 48 "
                     "hours here.</p>"));
  const ForecastSummary summary = summarize(fleet_);
  std::string body = "<h1>Fleet forecast</h1><p id=\"fleet-summary\" data-servers=\"" +
                     std::to_string(summary.servers) + "\" data-idle=\"" +
                     std::to_string(summary.idle.size()) + "\" data-hot=\"" +
                     std::to_string(summary.hot.size()) + "\">" + std::to_string(summary.servers) +
                     " servers, the 48 hours after each one's last stored hour, model " +
                     escaped(options_.model->version) + ": <b class=\"low\">" +
                     std::to_string(summary.idle.size()) +
                     "</b> low in every hour (candidates to pack together), <b class=\"high\">" +
                     std::to_string(summary.hot.size()) + "</b> high in some hour.</p>";
  LineChart chart;
  for (int c = 0; c < kNumLabels; ++c)
    chart.series.push_back(
        {std::string("predicted ") + kLabelNames[static_cast<size_t>(c)], kClassColors[c], {}});
  chart.series.push_back({"expected busy", "var(--accent)", {}});
  for (const auto& h : summary.hours) {
    chart.x_labels.push_back(hour_label(h.hour));
    for (int c = 0; c < kNumLabels; ++c)
      chart.series[static_cast<size_t>(c)].values.push_back(
          static_cast<double>(h.counts[static_cast<size_t>(c)]));
    chart.series[3].values.push_back(h.expected_busy);
  }
  body +=
      "<h2>Servers per predicted class, hour by hour (UTC)</h2>" + line_chart(chart, "fleet-chart");
  const auto server_list = [](const std::vector<std::string>& servers, const std::string& id) {
    std::string out = "<p id=\"" + id + "\">";
    for (const auto& s : servers)
      out += "<a class=\"badge\" href=\"/fleet/" + url_encode(s) + "\">" + escaped(s) + "</a> ";
    return out + (servers.empty() ? "none" : "") + "</p>";
  };
  body += "<h2>Low in every hour (" + std::to_string(summary.idle.size()) + ")</h2>" +
          server_list(summary.idle, "idle");
  body += "<h2>High in some hour (" + std::to_string(summary.hot.size()) + ")</h2>" +
          server_list(summary.hot, "hot");
  body +=
      "<h2>Every server</h2><table id=\"servers\"><thead><tr><th>server</th><th>from "
      "(UTC)</th><th class=\"num\">low hours</th><th class=\"num\">medium</th><th "
      "class=\"num\">high</th></tr></thead><tbody>";
  for (const ServerForecast& f : fleet_) {
    std::array<int, kNumLabels> counts{};
    for (const Prediction& p : f.predictions) ++counts[static_cast<size_t>(p.label - 1)];
    const std::string& ip = f.history->server_ip;
    body += "<tr data-server=\"" + escaped(ip) + "\"><td><a href=\"/fleet/" + url_encode(ip) +
            "\">" + escaped(ip) + "</a></td>" + cell(format_timestamp(f.start)) +
            cell(std::to_string(counts[0]), true) + cell(std::to_string(counts[1]), true) +
            cell(std::to_string(counts[2]), true) + "</tr>";
  }
  body += "</tbody></table>";
  return html(page("Fleet", "fleet", body));
}

HttpResponse Dashboard::server_page(const std::string& server) {
  const auto found = fleet_index_.find(server);
  if (found == fleet_index_.end())
    return message_page(404, "No such server",
                        fleet_.empty() ? "the dashboard runs without stores"
                                       : "server " + server + " is not in the stores",
                        "fleet");
  const ServerForecast& f = fleet_[found->second];
  const ServerHistory& history = *f.history;
  const ModelInfo& info = options_.model->model.info();
  std::string body = "<h1>Server " + escaped(server) + "</h1>";

  const size_t shown =
      std::min(history.hours.size(), static_cast<size_t>(options_.history_days) * 24);
  LineChart past;
  past.thresholds = {{"low below", info.low_threshold}, {"high from", info.high_threshold}};
  Series load{std::string(kMeasureNames[0]), "var(--accent)", {}};
  for (size_t i = history.hours.size() - shown; i < history.hours.size(); ++i) {
    past.x_labels.push_back(
        hour_label((history.first_hour + static_cast<int64_t>(i)) * kSecondsPerHour));
    load.values.push_back(history.hours[i].peak[0]);
  }
  past.series.push_back(std::move(load));
  body += "<h2>Hourly peak " + escaped(kMeasureNames[0]) + ", the last " +
          std::to_string(shown / 24) + " days stored (UTC)</h2>" +
          line_chart(past, "history-chart");

  LineChart next;
  next.points = f.predictions.size() <= 72;
  for (int c = 0; c < kNumLabels; ++c)
    next.series.push_back(
        {std::string("P(") + kLabelNames[static_cast<size_t>(c)] + ")", kClassColors[c], {}});
  std::string rows;
  for (size_t h = 0; h < f.predictions.size(); ++h) {
    const int64_t hour = f.start + static_cast<int64_t>(h) * kSecondsPerHour;
    const Prediction& p = f.predictions[h];
    next.x_labels.push_back(hour_label(hour));
    for (int c = 0; c < kNumLabels; ++c)
      next.series[static_cast<size_t>(c)].values.push_back(p.probability[static_cast<size_t>(c)]);
    const char* label = kLabelNames[static_cast<size_t>(p.label - 1)];
    rows += "<tr data-hour=\"" + format_timestamp(hour) + "\" data-label=\"" + label + "\">" +
            cell(format_timestamp(hour)) + "<td class=\"" + label + "\">" + label + "</td>";
    for (int c = 0; c < kNumLabels; ++c)
      rows += cell(format_number(p.probability[static_cast<size_t>(c)], 3), true);
    rows += "</tr>";
  }
  body += "<h2>The next " + std::to_string(f.predictions.size()) +
          " hours: class probabilities</h2>" + line_chart(next, "forecast-chart");
  body +=
      "<table id=\"forecast\"><thead><tr><th>hour (UTC)</th><th>class</th><th "
      "class=\"num\">P(low)</th><th class=\"num\">P(medium)</th><th "
      "class=\"num\">P(high)</th></tr></thead><tbody>" +
      rows + "</tbody></table>";
  return html(page("Server " + server, "fleet", body));
}

}  // namespace loadcast::ui
