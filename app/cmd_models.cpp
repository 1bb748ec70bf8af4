// `loadcast models register | list | show | promote`: the model registry of docs/operations.md.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "blob_places.h"
#include "cli_support.h"
#include "commands.h"
#include "common/error.h"
#include "model/onnx_export.h"
#include "store/atomic_dir.h"
#include "table_output.h"
#include "track/registry.h"

namespace loadcast::app {
namespace {

nlohmann::json version_json(const track::ModelVersion& v) {
  return {{"name", v.name},          {"version", v.version},
          {"stage", v.stage},        {"run", v.run_id},
          {"path", v.path.string()}, {"bytes", v.bytes},
          {"sha256", v.sha256},      {"created", track::format_unix_time(v.created_at)}};
}

void print_versions(const std::vector<track::ModelVersion>& versions, const std::string& format) {
  if (format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : versions) out.push_back(version_json(v));
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  TextTable table{{"NAME", "VERSION", "STAGE", "RUN", "CREATED (UTC)", "BYTES", "SHA256", "PATH"},
                  {}};
  for (const auto& v : versions) {
    table.rows.push_back({v.name, std::to_string(v.version), v.stage, std::to_string(v.run_id),
                          track::format_unix_time(v.created_at), std::to_string(v.bytes),
                          v.sha256.substr(0, 16), v.path.string()});
  }
  if (format == "csv") {
    table.print_csv(stdout);
  } else {
    table.print_aligned(stdout);
  }
}

}  // namespace

int run_models(int argc, char** argv) {
  CLI::App cli(
      "The model registry: numbered versions of named model bundles, copied into "
      "<workspace>/registry/NAME/VERSION/ with a sha256 over their files, and staged (staging, "
      "production, archived; one production version per name). 'loadcast serve --model "
      "NAME@production' "
      "or NAME@VERSION loads a registered bundle after checking its hash.",
      "loadcast models");
  std::string workspace;
  std::string format = "table";
  add_workspace_option(cli, workspace);
  cli.add_option("--format", format, "output format of list and show")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();
  cli.fallthrough();
  cli.require_subcommand(1);

  int64_t run_id = 0;
  std::string register_name;
  auto* reg = cli.add_subcommand(
      "register", "store a finished train run's model bundle as the next version of NAME");
  reg->add_option("--run", run_id,
                  "id of a finished train run (see 'loadcast runs list --command train')")
      ->required();
  reg->add_option("--name", register_name, "model name: letters, digits, '.', '_', '-'")
      ->required();

  std::string list_name;
  auto* list = cli.add_subcommand("list", "every registered version (of NAME when given)");
  list->add_option("NAME", list_name, "only this model");

  std::string show_ref;
  auto* show = cli.add_subcommand(
      "show", "NAME: all its versions; NAME@VERSION or NAME@STAGE: one, with its content check");
  show->add_option("REF", show_ref, "NAME, NAME@VERSION or NAME@STAGE")->required();

  std::string promote_name;
  int promote_version = 0;
  std::string stage;
  auto* promote = cli.add_subcommand(
      "promote",
      "set a version's stage; promoting to production archives the previous production version");
  promote->add_option("NAME", promote_name, "model name")->required();
  promote->add_option("VERSION", promote_version, "version number")
      ->required()
      ->check(CLI::PositiveNumber);
  promote->add_option("--stage", stage, "staging, production or archived")
      ->required()
      ->check(CLI::IsMember({"staging", "production", "archived"}));
  std::string export_ref;
  std::string onnx_file;
  auto* export_model = cli.add_subcommand(
      "export",
      "write a model as ONNX: an ai.onnx.ml TreeEnsembleClassifier over the encoded feature "
      "vector, the feature names in its metadata (docs/onnx.md)");
  export_model
      ->add_option("REF", export_ref,
                   "a bundle folder, NAME@VERSION or NAME@STAGE, or a blob output's URL")
      ->required();
  export_model->add_option("--onnx", onnx_file, "the .onnx file to write")->required();
  if (const auto code = parse_command_line(cli, argc, argv)) return *code;

  if (*export_model) {
    const auto loaded = load_model_reference(workspace, export_ref);
    const std::string bytes = onnx_model(loaded->model, loaded->version);
    write_file_atomically(onnx_file, bytes);
    std::printf("wrote %s: %zu trees over %d features, version %s (%zu bytes)\n", onnx_file.c_str(),
                loaded->model.forest().trees().size(), loaded->model.forest().num_features(),
                loaded->version.c_str(), bytes.size());
    return 0;
  }
  if (*reg) {
    auto store = track::RunStore::open(workspace, false);
    const auto v = track::register_model(*store, run_id, register_name);
    std::printf("registered %s version %d from run %lld: %s (sha256 %s)\n", v.name.c_str(),
                v.version, static_cast<long long>(run_id), v.path.string().c_str(),
                v.sha256.c_str());
    return 0;
  }
  if (*promote) {
    auto store = track::RunStore::open(workspace, false);
    const auto v = track::promote_model(*store, promote_name, promote_version, stage);
    std::printf("%s version %d is now %s\n", v.name.c_str(), v.version, v.stage.c_str());
    return 0;
  }
  if (!std::filesystem::exists(std::filesystem::path(workspace) / track::RunStore::kFileName)) {
    if (*list) {
      print_versions({}, format);
      return 0;
    }
    fail_usage("no model registry in workspace " + workspace);
  }
  auto store = track::RunStore::open(workspace, false);
  if (*list) {
    print_versions(track::list_models(*store, list_name), format);
    return 0;
  }
  if (show_ref.find('@') == std::string::npos) {
    const auto versions = track::list_models(*store, show_ref);
    if (versions.empty())
      fail_usage("no model named '" + show_ref + "' in the registry of " + workspace);
    print_versions(versions, format);
    return 0;
  }
  const auto v = track::find_model(*store, show_ref);
  std::string check = "ok";
  try {
    track::verify_model(v);
  } catch (const Failure& e) {
    check = std::string("FAILED: ") + e.what();
  }
  // A bundle that fails its check is a data error, after it is shown.
  const int code = check == "ok" ? 0 : static_cast<int>(ExitCode::kData);
  if (format == "json") {
    auto j = version_json(v);
    j["content_check"] = check;
    std::printf("%s\n", j.dump(2).c_str());
    return code;
  }
  print_versions({v}, format);
  if (format == "table") std::printf("content check: %s\n", check.c_str());
  return code;
}

}  // namespace loadcast::app
