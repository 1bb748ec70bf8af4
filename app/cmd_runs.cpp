// `loadcast runs list | show ID | compare ID ID`: the run history of docs/operations.md.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "cli_support.h"
#include "commands.h"
#include "common/error.h"
#include "table_output.h"
#include "track/run_store.h"

namespace loadcast::app {
namespace {

using track::RunRecord;

const std::vector<std::string> kRunColumns = {"ID",    "COMMAND", "STATUS",        "TARGET",
                                              "RANKS", "THREADS", "STARTED (UTC)", "DURATION",
                                              "HOST",  "ERROR"};

std::string duration_text(const RunRecord& r) {
  if (!r.duration_seconds) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f s", *r.duration_seconds);
  return text;
}

nlohmann::json run_json(const RunRecord& r, bool full) {
  nlohmann::json j = {
      {"id", r.id},
      {"command", r.command},
      {"status", r.status},
      {"target", r.target.empty() ? nlohmann::json() : nlohmann::json(r.target)},
      {"ranks", r.ranks},
      {"threads", r.threads},
      {"host", r.host},
      {"pid", r.pid},
      {"started", track::format_unix_time(r.started_at)},
      {"ended",
       r.ended_at ? nlohmann::json(track::format_unix_time(*r.ended_at)) : nlohmann::json()},
      {"duration_s", r.duration_seconds ? nlohmann::json(*r.duration_seconds) : nlohmann::json()},
      {"git_revision", r.git_revision.empty() ? nlohmann::json() : nlohmann::json(r.git_revision)},
      {"error", r.error.empty() ? nlohmann::json() : nlohmann::json(r.error)},
      {"arguments", r.arguments}};
  if (!full) return j;
  j["config"] = r.config;
  j["params"] = r.params;
  j["metrics"] = nlohmann::json::array();
  for (const auto& m : r.metrics)
    j["metrics"].push_back({{"name", m.name}, {"value", m.value}, {"step", m.step}});
  j["artifacts"] = nlohmann::json::array();
  for (const auto& a : r.artifacts)
    j["artifacts"].push_back({{"name", a.name},
                              {"path", a.path},
                              {"kind", a.kind},
                              {"bytes", a.bytes},
                              {"sha256", a.sha256}});
  return j;
}

RunRecord load_run(track::RunStore& store, int64_t id) {
  auto run = store.find_run(id);
  if (!run)
    fail_usage("run " + std::to_string(id) + " does not exist in " + store.workspace().string());
  return *run;
}

void print(const TextTable& table, const std::string& format) {
  if (format == "csv") {
    table.print_csv(stdout);
  } else {
    table.print_aligned(stdout);
  }
}

int list_runs(track::RunStore& store, const std::string& format, const track::RunFilter& filter) {
  const auto runs = store.list_runs(filter);
  if (format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : runs) out.push_back(run_json(r, false));
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  TextTable table{kRunColumns, {}};
  for (const auto& r : runs) {
    table.rows.push_back({std::to_string(r.id), r.command, r.status,
                          r.target.empty() ? "-" : r.target, std::to_string(r.ranks),
                          std::to_string(r.threads), track::format_unix_time(r.started_at),
                          duration_text(r), r.host, r.error});
  }
  print(table, format);
  return 0;
}

// The runs that are part of `id` (a tuning run's trials), oldest first, in full.
std::vector<RunRecord> child_runs(track::RunStore& store, int64_t id) {
  track::RunFilter filter;
  filter.parent = id;
  std::vector<RunRecord> children;
  for (const RunRecord& c : store.list_runs(filter)) children.push_back(load_run(store, c.id));
  std::reverse(children.begin(), children.end());
  return children;
}

// A trial's values (its params other than "trial") as "name value, ...".
std::string trial_values(const RunRecord& trial) {
  std::string out;
  for (const auto& [name, value] : trial.params)
    if (name != "trial") out.append(out.empty() ? "" : ", ").append(name).append(" ").append(value);
  return out.empty() ? "-" : out;
}

int show_run(track::RunStore& store, const std::string& format, int64_t id) {
  const RunRecord r = load_run(store, id);
  const std::vector<RunRecord> children = child_runs(store, id);
  if (format == "json") {
    nlohmann::json j = run_json(r, true);
    j["parent"] = r.parent ? nlohmann::json(r.parent) : nlohmann::json();
    j["children"] = nlohmann::json::array();
    for (const RunRecord& c : children) j["children"].push_back(run_json(c, true));
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  TextTable table{{"SECTION", "NAME", "VALUE", "DETAIL"}, {}};
  auto row = [&](const char* section, const std::string& name, const std::string& value,
                 const std::string& detail = "") {
    table.rows.push_back({section, name, value, detail});
  };
  std::string arguments;
  for (const auto& a : r.arguments) arguments += (arguments.empty() ? "" : " ") + a;
  row("run", "id", std::to_string(r.id));
  row("run", "command", r.command);
  row("run", "arguments", arguments);
  row("run", "status", r.status, r.error);
  row("run", "target", r.target.empty() ? "-" : r.target);
  row("run", "ranks", std::to_string(r.ranks));
  row("run", "threads", std::to_string(r.threads));
  row("run", "host", r.host, "pid " + std::to_string(r.pid));
  row("run", "git_revision", r.git_revision.empty() ? "-" : r.git_revision);
  row("run", "started", track::format_unix_time(r.started_at));
  row("run", "ended", r.ended_at ? track::format_unix_time(*r.ended_at) : "-");
  row("run", "elapsed", duration_text(r));
  if (r.parent) row("run", "part of", "run " + std::to_string(r.parent));
  // The configuration is one long cell: a row of its own in CSV, a line after the table otherwise.
  if (format == "csv") row("run", "config", r.config.is_null() ? "-" : r.config.dump());
  for (const auto& [name, value] : r.params) row("param", name, value);
  for (const auto& m : r.metrics)
    row("metric", m.name, format_number(m.value), m.step ? "step " + std::to_string(m.step) : "");
  for (const auto& a : r.artifacts)
    row("artifact", a.name, a.path,
        a.kind + ", " + std::to_string(a.bytes) + " bytes, sha256 " + a.sha256);
  // A child's mean metrics and values, one row each: a tuning run's trials.
  for (const RunRecord& c : children) {
    std::string means;
    for (const auto& m : c.metrics)
      if (m.name.starts_with("mean."))
        means += (means.empty() ? "" : ", ") + m.name.substr(5) + " " + format_number(m.value);
    const auto trial = c.params.find("trial");
    row(c.command.c_str(),
        (trial == c.params.end() ? "" : "#" + trial->second + " ") + "(run " +
            std::to_string(c.id) + ")",
        trial_values(c), means);
  }
  print(table, format);
  if (format != "csv")
    std::printf("config (secrets masked): %s\n",
                r.config.is_null() ? "-" : r.config.dump().c_str());
  return 0;
}

int compare_runs(track::RunStore& store, const std::string& format, int64_t id_a, int64_t id_b) {
  const RunRecord a = load_run(store, id_a);
  const RunRecord b = load_run(store, id_b);
  std::set<std::string> param_names;
  for (const auto& p : a.params) param_names.insert(p.first);
  for (const auto& p : b.params) param_names.insert(p.first);
  // Metrics keyed by name and step; the step shows only when not 0.
  std::map<std::pair<std::string, int64_t>, std::pair<std::optional<double>, std::optional<double>>>
      metrics;
  for (const auto& m : a.metrics) metrics[{m.name, m.step}].first = m.value;
  for (const auto& m : b.metrics) metrics[{m.name, m.step}].second = m.value;

  if (format == "json") {
    nlohmann::json out = {{"a", id_a},
                          {"b", id_b},
                          {"params", nlohmann::json::array()},
                          {"metrics", nlohmann::json::array()}};
    for (const auto& name : param_names) {
      const auto pa = a.params.find(name);
      const auto pb = b.params.find(name);
      out["params"].push_back(
          {{"name", name},
           {"a", pa == a.params.end() ? nlohmann::json() : nlohmann::json(pa->second)},
           {"b", pb == b.params.end() ? nlohmann::json() : nlohmann::json(pb->second)},
           {"same", pa != a.params.end() && pb != b.params.end() && pa->second == pb->second}});
    }
    for (const auto& [key, values] : metrics) {
      nlohmann::json m = {{"name", key.first}, {"step", key.second}};
      m["a"] = values.first ? nlohmann::json(*values.first) : nlohmann::json();
      m["b"] = values.second ? nlohmann::json(*values.second) : nlohmann::json();
      m["delta"] = values.first && values.second ? nlohmann::json(*values.second - *values.first)
                                                 : nlohmann::json();
      out["metrics"].push_back(m);
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  TextTable table{
      {"SECTION", "NAME", "RUN " + std::to_string(id_a), "RUN " + std::to_string(id_b), "DELTA"},
      {}};
  table.rows.push_back(
      {"run", "command", a.command, b.command, a.command == b.command ? "" : "differs"});
  table.rows.push_back(
      {"run", "status", a.status, b.status, a.status == b.status ? "" : "differs"});
  table.rows.push_back(
      {"run", "target", a.target.empty() ? "-" : a.target, b.target.empty() ? "-" : b.target, ""});
  table.rows.push_back({"run", "elapsed", duration_text(a), duration_text(b),
                        a.duration_seconds && b.duration_seconds
                            ? format_number(*b.duration_seconds - *a.duration_seconds) + " s"
                            : ""});
  for (const auto& name : param_names) {
    const auto pa = a.params.find(name);
    const auto pb = b.params.find(name);
    const std::string va = pa == a.params.end() ? "-" : pa->second;
    const std::string vb = pb == b.params.end() ? "-" : pb->second;
    table.rows.push_back({"param", name, va, vb, va == vb ? "" : "differs"});
  }
  for (const auto& [key, values] : metrics) {
    const std::string name = key.second ? key.first + "@" + std::to_string(key.second) : key.first;
    table.rows.push_back(
        {"metric", name, values.first ? format_number(*values.first) : "-",
         values.second ? format_number(*values.second) : "-",
         values.first && values.second ? format_number(*values.second - *values.first) : ""});
  }
  print(table, format);
  return 0;
}

}  // namespace

int run_runs(int argc, char** argv) {
  CLI::App cli(
      "Reads the run history of the workspace: every etl, train and score run with its arguments, "
      "configuration (secrets masked), target, ranks, threads, git revision, times, status, "
      "parameters, "
      "metrics and artifacts. A run whose process died shows as failed.",
      "loadcast runs");
  std::string workspace;
  std::string format = "table";
  add_workspace_option(cli, workspace);
  cli.add_option("--format", format, "output format")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();
  cli.fallthrough();
  cli.require_subcommand(1);
  track::RunFilter filter;
  auto* list = cli.add_subcommand("list", "list runs, newest first");
  list->add_option("--command", filter.command, "only runs of this command")
      ->check(CLI::IsMember({"etl", "train", "tune", "score", "forecast"}));
  list->add_option("--status", filter.status, "only runs with this status")
      ->check(CLI::IsMember({"running", "finished", "failed"}));
  int64_t show_id = 0;
  auto* show = cli.add_subcommand("show", "everything recorded about one run");
  show->add_option("ID", show_id, "run id (see 'runs list')")->required();
  std::vector<int64_t> compare_ids;
  auto* compare = cli.add_subcommand(
      "compare", "parameters and metrics of two runs side by side, with deltas (B - A)");
  compare->add_option("ID", compare_ids, "two run ids: A B")->required()->expected(2);
  if (const auto code = parse_command_line(cli, argc, argv)) return *code;

  if (*list &&
      !std::filesystem::exists(std::filesystem::path(workspace) / track::RunStore::kFileName)) {
    // Nothing recorded yet: an empty history, not an error.
    if (format == "json") {
      std::printf("[]\n");
    } else {
      print(TextTable{kRunColumns, {}}, format);
    }
    return 0;
  }
  auto store = track::RunStore::open(workspace, false);
  if (*list) return list_runs(*store, format, filter);
  if (*show) return show_run(*store, format, show_id);
  return compare_runs(*store, format, compare_ids[0], compare_ids[1]);
}

}  // namespace loadcast::app
