// In-process ingest throughput: parse + validate + account + five-minute
// aggregation of realistic sessions17 lines held in memory, on one core.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "common/ip_address.h"
#include "common/time.h"
#include "ingest/line_parser.h"

namespace {

using namespace loadcast;

// About 64 MB of lines: the start of $LOADCAST_BENCH_FILE when set (e.g. a
// file of `loadcast generate`), else 200 synthetic servers over June 2016.
const std::string& sample() {
  static const std::string text = [] {
    std::string out;
    if (const char* path = std::getenv("LOADCAST_BENCH_FILE")) {
      std::ifstream in(path, std::ios::binary);
      out.resize(64u << 20);
      in.read(out.data(), static_cast<std::streamsize>(out.size()));
      out.resize(static_cast<size_t>(in.gcount()));
      out.resize(out.rfind('\n') + 1);
      return out;
    }
    std::mt19937_64 rng(1);
    const int64_t start = days_from_civil(2016, 6, 1) * kSecondsPerDay;
    int64_t t = start;
    while (out.size() < (64u << 20)) {
      t += rng() % 4 == 0 ? 1 : 0;  // ~4 sessions a second: ~6 per server-bucket
      std::string ip;
      append_ipv4(ip, 0x0A000000u + static_cast<uint32_t>(rng() % 200));
      const std::string when = format_timestamp(t);
      out += "web," + when + "," + format_timestamp(t + 300) + "," + std::to_string(rng() % 50) +
             "," + std::to_string(rng() % 1000 / 10.0) + ",1,1,2";
      // Appended piecewise: "," + std::string trips GCC 12's -Wrestrict.
      for (int i = 0; i < 6; ++i) {
        out += ',';
        out += std::to_string(rng() % 100);
      }
      out += ',';
      out += std::to_string(rng() % 5000 / 10.0);
      out += ',';
      out += ip;
      out += ",10.0.0.";
      out += std::to_string(rng() % 250);
      out += '\n';
    }
    return out;
  }();
  return text;
}

void BM_ParseAndAggregate(benchmark::State& state) {
  const std::string& text = sample();
  LineRules rules;
  rules.layout = Layout::kSessions17;
  rules.window_begin = *parse_timestamp("2016-06-01 00:00:00");
  rules.window_end = *parse_timestamp("2016-06-30 23:59:59");
  ServerDictionary servers;
  LineParser parser(rules, servers);
  BucketTable table(1 << 16);
  const size_t chunk = static_cast<size_t>(state.range(0)) << 20;
  for (auto _ : state) {
    LineAccounting acc;
    for (size_t pos = 0; pos < text.size();) {
      size_t end = std::min(text.size(), pos + chunk);
      end = text.rfind('\n', end - 1) + 1;
      table.clear();
      parser.parse(std::string_view(text).substr(pos, end - pos), table, acc);
      pos = end;
    }
    benchmark::DoNotOptimize(acc.accepted);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseAndAggregate)
    ->Arg(1)
    ->Arg(2)
    ->Arg(8)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
