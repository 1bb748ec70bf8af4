// `loadcast etl CONFIG [FILTER_IP|FALSE]`: raw sessions -> feature table and
// stores, in one process or under `mpirun -np N`.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "blob_places.h"
#include "cli_support.h"
#include "commands.h"
#include "common/error.h"
#include "common/number.h"
#include "common/progress.h"
#include "common/size.h"
#include "config/config.h"
#include "dist/job.h"
#include "etl/etl.h"
#include "track/run_details.h"

namespace loadcast::app {

int run_etl(int argc, char** argv) {
  CLI::App cli(
      "Reads raw session CSV (the configuration's dataFile: a path, a glob, or '-' for stdin), "
      "aggregates five-minute buckets, builds hourly peaks, daily means, lag, rolling and calendar "
      "features, and writes features/, hourly/, daily/ and etl_summary.json under the output "
      "folder. Every line is accounted for by reason in etl_summary.json. Under 'mpirun -np N "
      "loadcast etl CONFIG' the ranks split the input chunks (stdin: rank 0 reads it), shuffle the "
      "five-minute aggregates to the rank owning each server and write one part file each; the "
      "output "
      "is the same as one process's, and only appears once every rank has finished.",
      "loadcast etl");
  std::string config_path;
  std::string mode = "FALSE";
  int threads = dist::default_threads();
  std::string output;
  double chunk_mb = static_cast<double>(kDefaultChunkBytes) / (1 << 20);
  std::string workspace;
  std::string memory_limit;
  std::string spill_dir;
  std::string format;
  cli.add_option("CONFIG", config_path,
                 "storageconfig.json (the seed's format; docs/configuration.md)")
      ->required();
  cli.add_option(
         "FILTER_IP", mode,
         "FILTER_IP keeps only the servers of the configuration's filterIPs (a debug mode); "
         "FALSE (default) keeps all")
      ->check(CLI::IsMember({"FILTER_IP", "FALSE"}));
  cli.add_option("--threads", threads,
                 "parsing and feature threads per process (default: all cores, shared among the "
                 "MPI ranks of a node)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cli.add_option("--output", output,
                 "output folder, or a blob URL (container and prefix) to publish to (default: the "
                 "configuration's 'output', else outputs/<storageContainer>)");
  cli.add_option(
         "--chunk-mb", chunk_mb,
         "size of the line-aligned input chunks in MiB, fractions allowed (0.0625 = 64 KiB); "
         "outputs are the same for every chunk size up to the last bits of float sums, which "
         "depend on it: keep it fixed across runs to compare")
      ->check(CLI::Range(0.001, 1024.0))
      ->capture_default_str();
  cli.add_option("--memory-limit", memory_limit,
                 wrap_help("what etl may hold in memory per process (512M, 4G); past it the "
                           "five-minute aggregate spills to compressed runs on disk and the "
                           "output is the same, byte for byte (default: the configuration's "
                           "memoryLimit, else " +
                           std::string(kAutoMemoryLimit) + ": " +
                           describe_size(dist::default_memory_limit()) + " here)"))
      ->type_name("BYTES");
  cli.add_option("--spill-dir", spill_dir,
                 wrap_help("where the spill runs go (default: inside the output folder); they "
                           "are removed when etl ends, however it ends"))
      ->type_name("DIR");
  cli.add_option("--format", format,
                 wrap_help("how the feature table and the stores are stored: csv (text) or "
                           "parquet (typed columns, zstd); train, serve and score read either "
                           "(default: the configuration's format, else csv)"))
      ->check(CLI::IsMember({"csv", "parquet"}));
  add_workspace_option(cli, workspace);
  if (const auto code = parse_command_line(cli, argc, argv)) return *code;
  const auto comm = dist::make_communicator();
  const bool root = comm->rank() == 0;
  // Only rank 0 records (RunRecorder), with the rank count.
  track::RunRecorder run({workspace, "etl", recorded_arguments(argc, argv), config_path, threads});
  auto etl = [&] {
    Config config = load_config_for("etl", config_path, output, comm->rank());
    if (!memory_limit.empty()) {
      const auto bytes = parse_size(memory_limit);
      if (!bytes || *bytes < (uint64_t{1} << 20))
        throw dist::CollectiveFailure(ExitCode::kUsage,
                                      "--memory-limit '" + memory_limit +
                                          "': expected a size of 1M or more, like 512M or 4G");
      config.memory_limit = *bytes;
    }
    if (config.memory_limit == 0) config.memory_limit = dist::default_memory_limit();
    if (!format.empty())
      config.format = format == "parquet" ? TableFormat::kParquet : TableFormat::kCsv;
    // A blob output is written here first, then published as one generation.
    OutputCopy copy(config, *comm, "etl");

    EtlOptions options;
    options.threads = threads;
    options.filter_ip = mode == "FILTER_IP";
    options.progress = Progress::stderr_is_terminal();
    options.chunk_bytes = static_cast<size_t>(chunk_mb * (1 << 20));
    options.memory_limit = config.memory_limit;
    options.spill_dir = spill_dir;
    track::record_config(run, config);
    run.param("threads", std::to_string(threads));
    run.param("mode", mode);
    run.param("chunkMB", format_double(chunk_mb));
    const EtlReport report = run_etl(config, options, *comm);
    Published published;
    if (copy.remote())
      dist::decide_on_root(*comm, [&] {
        published = copy.output().publish(kTablesPart, config.output, etl_output_names());
        return nullptr;
      });
    track::record_etl(run, config, report, published.location);
    if (!root) return 0;

    const LineAccounting& a = report.accounting;
    std::printf("%s\n", describe(a).c_str());
    std::printf("servers %lld, feature rows %lld, daily rows %lld -> %s (%s)\n",
                static_cast<long long>(report.servers), static_cast<long long>(report.rows),
                static_cast<long long>(report.daily_rows),
                copy.remote() ? config.output_url.c_str() : config.output.string().c_str(),
                std::string(table_format_name(config.format)).c_str());
    std::printf("ingest %.2f s (%.0f MB/s), total %.2f s, %d threads", report.ingest_seconds,
                report.ingest_seconds > 0 ? a.bytes / 1e6 / report.ingest_seconds : 0.0,
                report.total_seconds, threads);
    if (report.ranks > 1)
      std::printf(" x %d ranks, %.1f MB shuffled in %lld rounds", report.ranks,
                  report.shuffle_bytes / 1e6, static_cast<long long>(report.shuffle_rounds));
    std::printf("\n");
    if (report.blob.requests > 0)
      std::printf("read %s from blob storage in %lld requests (%lld of them retries)\n",
                  describe_size(static_cast<uint64_t>(report.blob.bytes_read)).c_str(),
                  static_cast<long long>(report.blob.requests),
                  static_cast<long long>(report.blob.retries));
    if (copy.remote())
      std::printf("published %lld blobs (%s) as generation %s\n",
                  static_cast<long long>(published.blobs),
                  describe_size(static_cast<uint64_t>(published.bytes)).c_str(),
                  published.generation.c_str());
    if (report.spill.runs > 0)
      std::printf("spilled %s (%s before compression) in %lld runs, within %s per process\n",
                  describe_size(static_cast<uint64_t>(report.spill.bytes)).c_str(),
                  describe_size(static_cast<uint64_t>(report.spill.raw_bytes)).c_str(),
                  static_cast<long long>(report.spill.runs),
                  describe_size(report.memory_limit).c_str());
    return 0;
  };
  return dist::run_job(*comm, "etl", [&] { return run_recorded(run, etl); });
}

}  // namespace loadcast::app
