// What every subcommand does around its own work: parse the command line
// (help exits 0, a usage error exits 2), declare --workspace, load the
// configuration (warning once per unknown field) and record the run.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "blob/storage.h"
#include "common/error.h"
#include "config/config.h"
#include "dist/job.h"
#include "serve/auth.h"
#include "track/recorder.h"
#include "track/registry.h"

namespace loadcast::app {

// nullopt when parsing succeeded; otherwise the exit code to return.
inline std::optional<int> parse_command_line(CLI::App& cli, int argc, char** argv) {
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
  }
  return std::nullopt;
}

// --workspace, declared here only so every subcommand has the same one.
inline CLI::Option* add_workspace_option(CLI::App& cli, std::string& workspace,
                                         const char* note = nullptr) {
  workspace = ".loadcast";
  std::string help = "run history, model registry and targets.json folder";
  if (note) help += std::string(" (") + note + ")";
  return cli.add_option("--workspace", workspace, help)->type_name("DIR")->capture_default_str();
}

// Runs `body` (returning an exit code) as the recorded run: finished on 0,
// failed with the message of an exception, which is then rethrown.
template <class Body>
int run_recorded(track::RunRecorder& run, Body&& body) {
  try {
    const int code = body();
    if (code == 0) {
      run.finish();
    } else {
      run.fail("exit code " + std::to_string(code));
    }
    return code;
  } catch (const std::exception& e) {
    run.fail(e.what());
    throw;
  }
}

// The command line after the subcommand name, as recorded in the run.
inline std::vector<std::string> recorded_arguments(int argc, char** argv) {
  return std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc);
}

// `text` broken into lines of at most `width` characters at spaces, for
// option help that CLI11 prints as it is.
inline std::string wrap_help(const std::string& text, size_t width = 64) {
  std::string out;
  size_t line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const size_t word = end - pos;
    if (line > 0 && line + 1 + word > width) {
      out += '\n';
      line = 0;
    } else if (line > 0) {
      out += ' ';
      ++line;
    }
    out.append(text, pos, word);
    line += word;
    pos = end + 1;
  }
  return out;
}

// One command-line option per declared field of a ParamSet (--name), with
// its help, allowed values and default; apply() reads the options given
// into the options struct, with errors naming the option.
template <class S>
class DeclaredOptions {
 public:
  DeclaredOptions(CLI::App& cli, const ParamSet<S>& params)
      : params_(params), texts_(params.params().size()), options_(params.params().size()) {
    // CLI11 keeps a reference to each text: texts_ never grows after this.
    for (size_t i = 0; i < params.params().size(); ++i) {
      const Param<S>& p = params.params()[i];
      if (!p.from_text) continue;
      std::string help = p.help;
      if (!p.allowed_text.empty()) help += " (" + p.allowed_text + ")";
      options_[i] = cli.add_option("--" + p.name, texts_[i], wrap_help(help))
                        ->type_name(type_name(p.type_name))
                        ->default_str(p.default_text);
    }
  }

  DeclaredOptions(const DeclaredOptions&) = delete;
  DeclaredOptions& operator=(const DeclaredOptions&) = delete;

  void apply(S& target) const {
    std::vector<std::pair<std::string, std::string>> given;
    for (size_t i = 0; i < options_.size(); ++i)
      if (options_[i] && options_[i]->count() > 0)
        given.emplace_back(params_.params()[i].name, texts_[i]);
    params_.read_options(given, target);
  }

 private:
  static std::string type_name(const std::string& type) {
    if (type == "integer") return "N";
    if (type == "number") return "X";
    if (type == "size") return "BYTES";
    if (type == "timestamp") return "T";
    if (type == "choice") return "NAME";
    return "TEXT";
  }

  const ParamSet<S>& params_;
  std::vector<std::string> texts_;
  std::vector<CLI::Option*> options_;
};

// The configuration at `path`, with the command line's --output (when not
// empty) in place of the file's. Every rank of a job reads the same file, so
// a refusal is the whole job's (said once, by rank 0), and rank 0 alone
// prints the warnings.
// The bundle folder of --model: a folder as given, or a registered
// NAME@VERSION / NAME@STAGE resolved in the workspace's registry (its hash checked).
// A blob URL is returned as it is (blob_places.h fetches it).
inline std::string model_bundle_path(const std::string& workspace, const std::string& reference) {
  if (blob::is_blob_url(reference)) return reference;
  if (reference.find('@') != std::string::npos && !std::filesystem::is_directory(reference))
    return track::resolve_model_reference(workspace, reference).string();
  return reference;
}

// The service keys from --keys-file, else LOADCAST_SERVICE_KEYS; a usage
// error naming both (and `alternative`) when there are none.
inline serve::ServiceKeys service_keys(const std::string& keys_file,
                                       const std::string& alternative) {
  if (!keys_file.empty()) return serve::ServiceKeys::from_file(keys_file);
  if (const char* env = std::getenv("LOADCAST_SERVICE_KEYS"); env && *env)
    return serve::ServiceKeys::parse(env, "LOADCAST_SERVICE_KEYS");
  fail_usage("no service keys: pass --keys-file F, set LOADCAST_SERVICE_KEYS=primary,secondary, " +
             alternative);
}

inline Config load_config_for(const std::string& command, const std::string& path,
                              const std::string& output, int rank) {
  Config config;
  try {
    config = load_config(path, output);
  } catch (const Failure& f) {
    throw dist::CollectiveFailure(f.code(), f.what());
  }
  if (rank != 0) return config;
  for (const auto& field : config.warnings)
    std::fprintf(stderr, "loadcast %s: warning: %s: unknown field '%s' ignored\n", command.c_str(),
                 path.c_str(), field.c_str());
  return config;
}

}  // namespace loadcast::app
