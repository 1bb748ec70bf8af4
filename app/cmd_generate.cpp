// `loadcast generate`: command-line front of src/generate. Parses and checks
// the options, picks the sink (folder layout or stdout), reports on stderr.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>

#include "cli_support.h"
#include "commands.h"
#include "common/error.h"
#include "common/progress.h"
#include "common/time.h"
#include "generate/generator.h"
#include "generate/options.h"
#include "generate/sink.h"

namespace loadcast::app {

int run_generate(int argc, char** argv) {
  namespace gen = loadcast::generate;
  gen::GenerateOptions options;
  std::string out_dir;
  bool to_stdout = false;
  std::string workspace = ".loadcast";

  CLI::App app(
      "Writes realistic session logs (docs/data-format.md) with a share of dirty lines: a\n"
      "fleet with per-server scale, daily and weekly cycles, US holiday dips, growth, bursts\n"
      "and servers that join and leave; it always holds 115.220.193.16 and 210.181.165.92.\n"
      "With the default window each label of the ONE_MONTH thresholds covers at least 15 %\n"
      "of server-hours. The same options and seed give the same bytes, whatever --threads.",
      "loadcast generate");
  app.add_option("--out", out_dir,
                 "write the seed folder layout DIR/YYYY/MM/{a,b}/{0..6}/request.csv:\n"
                 "a = days 1-15, b = days 16 to month end, 0..6 = weekday of the\n"
                 "sessions' UTC day, 0 = Monday .. 6 = Sunday")
      ->type_name("DIR");
  app.add_flag("--stdout", to_stdout, "write one stream, in time order, to standard output");
  const DeclaredOptions<gen::GenerateOptions> declared(app, gen::generate_params());
  app.add_option("--workspace", workspace,
                 "run-history folder shared by all subcommands (generate records no run)")
      ->type_name("DIR")
      ->capture_default_str();
  app.footer(
      "A summary (bytes, lines, seconds, MB/s) goes to stderr at the end; progress too, when\n"
      "stderr is a terminal.\n"
      "example: loadcast generate --stdout --size 1G | loadcast etl config.json\n");

  if (const auto code = parse_command_line(app, argc, argv)) return *code;

  if (out_dir.empty() == !to_stdout) fail_usage("give exactly one of --out DIR or --stdout");
  declared.apply(options);
  gen::validate(options);

  std::optional<gen::FdSink> stdout_sink;
  std::optional<gen::FolderSink> folder_sink;
  gen::Sink* sink;
  if (to_stdout) {
    sink = &stdout_sink.emplace(STDOUT_FILENO, "stdout");
  } else {
    sink = &folder_sink.emplace(out_dir);
  }

  Progress progress("generate", static_cast<int64_t>(options.size), Progress::stderr_is_terminal());
  gen::GenerateStats last;
  gen::GenerateStats stats = gen::generate(options, *sink, [&](const gen::GenerateStats& now) {
    progress.advance(static_cast<int64_t>(now.bytes - last.bytes),
                     static_cast<int64_t>(now.lines - last.lines));
    last = now;
  });
  progress.finish();

  double mb = static_cast<double>(stats.bytes) / 1e6;
  std::fprintf(
      stderr,
      "loadcast generate: %llu bytes, %llu lines (%llu dirty), %d servers, %.2f s, "
      "%.1f MB/s -> %s\n",
      static_cast<unsigned long long>(stats.bytes), static_cast<unsigned long long>(stats.lines),
      static_cast<unsigned long long>(stats.dirty_lines), stats.servers, stats.seconds,
      stats.seconds > 0 ? mb / stats.seconds : 0.0, to_stdout ? "stdout" : out_dir.c_str());
  return 0;
}

}  // namespace loadcast::app
