// The chunk source against one parse of the whole text: a file cut into
// line-aligned chunks (sizes from 1 byte up, read in pieces) and parsed
// chunk by chunk counts every line exactly as the whole text does (a
// leading byte-order mark skipped), with the same five-minute keys and
// session counts.
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <map>
#include <string>

#include "aggregate/server_dictionary.h"
#include "common/time.h"
#include "fuzz_support.h"
#include "ingest/chunk_source.h"
#include "ingest/line_parser.h"

namespace {

using namespace loadcast;

struct Parsed {
  LineAccounting acc;
  std::map<std::string, std::pair<int64_t, double>>
      buckets;  // server text + bucket -> sessions, load
};

void add(Parsed& out, const BucketTable& table, const ServerDictionary& servers) {
  for (const auto& e : table.entries()) {
    auto& b =
        out.buckets[servers.text_of(key_server(e.key)) + "@" + std::to_string(key_bucket(e.key))];
    b.first += e.sums.sessions;
    b.second += e.sums.sum[0];
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t chunk_bytes = 1 + data[0] * 37;  // 1 .. 9436 bytes
  const size_t piece_bytes = 1 + data[1] * 11;
  std::string_view text = fuzz::text_of(data + 2, size - 2);
  const auto file = fuzz::scratch_dir() / "chunks.csv";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  LineRules rules;
  rules.layout = Layout::kSessions17;
  rules.window_begin = *parse_timestamp("2016-06-01 00:00:00");
  rules.window_end = *parse_timestamp("2016-07-31 23:59:59");

  Parsed chunked;
  {
    ServerDictionary servers;
    LineParser parser(rules, servers);
    ChunkSource source({InputFile{file.string(), static_cast<int64_t>(text.size())}}, chunk_bytes,
                       0, 1, piece_bytes);
    Chunk chunk;
    ChunkRange range;
    while (source.claim(chunk, range)) {
      BucketTable table;
      source.read_lines(range, chunk, [&](std::string_view lines) {
        fuzz::check(!lines.empty(), "an empty piece");
        parser.parse(lines, table, chunked.acc);
      });
      add(chunked, table, servers);
    }
  }

  Parsed whole;
  {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    ServerDictionary servers;
    LineParser parser(rules, servers);
    BucketTable table;
    parser.parse(text, table, whole.acc);
    add(whole, table, servers);
  }
  whole.acc.bytes = chunked.acc.bytes;  // the mark's bytes are read, not parsed
  fuzz::check(counter_values(chunked.acc) == counter_values(whole.acc),
              "chunks count lines otherwise than the whole text");
  fuzz::check(chunked.buckets.size() == whole.buckets.size(), "chunks make other buckets");
  for (const auto& [key, value] : whole.buckets) {
    const auto it = chunked.buckets.find(key);
    fuzz::check(it != chunked.buckets.end(), "a bucket is missing from the chunks");
    fuzz::check(it->second.first == value.first, "a bucket's sessions differ");
    // Sums in another order differ in their last bits (and past 1e300 may
    // overflow in one order only).
    const double a = it->second.second, b = value.second;
    const bool huge =
        !std::isfinite(a) || !std::isfinite(b) || std::abs(a) > 1e300 || std::abs(b) > 1e300;
    fuzz::check(huge || a == b || std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b)),
                "a bucket's load differs");
  }
  return 0;
}
