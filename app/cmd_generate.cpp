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
  const gen::GenerateOptions defaults;
  gen::GenerateOptions options;

  std::string out_dir;
  bool to_stdout = false;
  std::string start_text = format_timestamp(defaults.start);
  std::string end_text = format_timestamp(defaults.end);
  std::string size_text = gen::format_size(defaults.size);
  std::string layout_text(gen::layout_text(defaults.layout));
  std::string workspace = ".loadcast";

  CLI::App app(
      "Writes realistic session logs (SPEC §1) with a share of dirty lines: a fleet with\n"
      "per-server scale, daily and weekly cycles, US holiday dips, growth, bursts and servers\n"
      "that join and leave; it always holds 115.220.193.16 and 210.181.165.92. With the\n"
      "default window each label (peak five-minute load <= 100, <= 500, above) covers at\n"
      "least 15 % of server-hours. The same options and seed give the same bytes, whatever\n"
      "--threads.",
      "loadcast generate");
  app.add_option("--out", out_dir,
                 "write the seed folder layout DIR/YYYY/MM/{a,b}/{0..6}/request.csv:\n"
                 "a = days 1-15, b = days 16 to month end, 0..6 = weekday of the\n"
                 "sessions' UTC day, 0 = Monday .. 6 = Sunday")
      ->type_name("DIR");
  app.add_flag("--stdout", to_stdout, "write one stream, in time order, to standard output");
  app.add_option("--start", start_text,
                 "first session second (UTC), YYYY-MM-DD[ HH:MM:SS]; a bare date means\n"
                 "its 00:00:00")
      ->type_name("T")
      ->capture_default_str();
  app.add_option("--end", end_text,
                 "last session second (UTC), inclusive; a bare date is its 23:59:59")
      ->type_name("T")
      ->capture_default_str();
  app.add_option("--servers", options.servers,
                 "fleet size, 2..100000; 0 = from --size: about 50 sessions per server-hour,\n"
                 "8..2000 servers; per-session loads scale so the label balance holds")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--size", size_text,
                 "bytes to write, within a few percent; suffixes K, M, G, T are powers of\n"
                 "1024 (500K, 1G, 1.5G)")
      ->type_name("BYTES")
      ->capture_default_str();
  app.add_option("--dirty-rate", options.dirty_rate,
                 "share of all lines that are dirty, 0..1: wrong field counts, bad timestamps and\n"
                 "server IPs, blank lines, empty/NaN/inf/text numbers, and valid oddities (quoted\n"
                 "commas, T/Z/fraction/offset timestamps, a few lines outside the window)")
      ->type_name("F")
      ->capture_default_str();
  app.add_option("--layout", layout_text,
                 "sessions17 (TrafficType first, ServerIP before ClientIP) or sessions16")
      ->type_name("L")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "random seed; another seed gives another data set")
      ->type_name("S")
      ->capture_default_str();
  app.add_option("--threads", options.threads,
                 "worker threads, 0..1024; 0 = one per hardware thread")
      ->type_name("N")
      ->capture_default_str();
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
  std::optional<int64_t> start = gen::parse_window_time(start_text, false);
  if (!start) fail_usage("--start '" + start_text + "': expected YYYY-MM-DD[ HH:MM:SS]");
  std::optional<int64_t> end = gen::parse_window_time(end_text, true);
  if (!end) fail_usage("--end '" + end_text + "': expected YYYY-MM-DD[ HH:MM:SS]");
  std::optional<uint64_t> size = gen::parse_size(size_text);
  if (!size) fail_usage("--size '" + size_text + "': expected a byte count like 500000, 10M or 1G");
  std::optional<Layout> layout = gen::parse_layout(layout_text);
  if (!layout) fail_usage("--layout '" + layout_text + "': expected sessions17 or sessions16");
  options.start = *start;
  options.end = *end;
  options.size = *size;
  options.layout = *layout;
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
