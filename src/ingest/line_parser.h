// The ingest hot path: splits a chunk of raw session CSV into lines and
// fields, validates and accounts every line (docs/data-format.md) and adds accepted lines
// to five-minute aggregates. No allocation per line or field on the common
// (unquoted) path.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "aggregate/bucket_table.h"
#include "aggregate/server_dictionary.h"
#include "common/time.h"
#include "ingest/accounting.h"
#include "ingest/layout.h"
#include "ingest/server_key_cache.h"

namespace loadcast {

// What decides a line's fate besides its own text.
struct LineRules {
  Layout layout = Layout::kSessions17;  // never kAuto here
  TimeNs window_begin = 0;
  TimeNs window_end = 0;
  bool filter_ip = false;
  std::vector<std::string> filter_ips;
};

// The instruction set extensions the parser was compiled for and this CPU
// lacks (e.g. "SSSE3"), empty when it can run.
std::string missing_cpu_features();

// Counts the fields of one line the way the parser does (quote-aware), for
// layout detection.
int count_fields(std::string_view line);

// Picks sessions17 or sessions16 from the majority of field counts of the
// first `max_lines` non-empty lines; nullopt when neither count occurs.
std::optional<Layout> detect_layout(std::string_view text, int max_lines = 100);

class LineParser {
 public:
  // kWidest finds the separators with AVX-512 where the CPU has it (the
  // results are the same); kBaseline always uses SSSE3.
  enum class Scan { kWidest, kBaseline };
  LineParser(const LineRules& rules, ServerDictionary& servers, Scan scan = Scan::kWidest);

  // Accounts every line of `chunk` and aggregates the accepted ones. The
  // chunk holds whole lines; its last line may lack a newline.
  void parse(std::string_view chunk, BucketTable& table, LineAccounting& accounting);

 private:
  // Exact field starts are kept for lines of up to kStarts fields (more than
  // the widest layout). The separators of the lines in progress are kept
  // until there are more than kSeparatorLimit; a block adds at most 64, and
  // up to eight are written at a time.
  static constexpr int kStarts = 32;
  static constexpr size_t kSeparatorLimit = 1024;
  static constexpr size_t kSeparatorSlots = kSeparatorLimit + 64 + 8;

  // Records one past each separator of `bits` (positions in the 64-byte `block`).
  void add_separators(const char* block, uint64_t bits, size_t& written);
  // The line [line_begin, line_end) whose field starts are separators_[first..last].
  void finish_line(const char* line_begin, const char* line_end, size_t first, size_t last,
                   bool quoted, BucketTable& table, LineAccounting& acc);
  void classify_quoted(const char* begin, const char* end, BucketTable& table, LineAccounting& acc);
  // Accounts a line of the layout's field count and adds it when accepted.
  // `starts`: its field starts, then one past its end; `readable_end`: the
  // field texts may be over-read up to here.
  void classify(const char* const* starts, const char* readable_end, BucketTable& table,
                LineAccounting& acc);
  // A line's fate up to its five-minute key: the key of an accepted line, or
  // 0 (its fate is counted). `last_entry`: where the ingest keeps the
  // server's last table entry (a hint, checked before use).
  uint64_t key_of(const char* const* starts, const char* readable_end, LineAccounting& acc,
                  uint32_t*& last_entry);
  // Adds an accepted line's measures to `sums`, counting the missing ones.
  void add_measures(const char* const* starts, const char* readable_end, BucketSums& sums,
                    LineAccounting& acc) const;
  // Parses the seven integer measures (all but MbytesTransferred), in field
  // order, into `lanes` when they are plain integers of one to four digits
  // (SSSE3, four fields at once); returns a bit for each field it left to the
  // general parsers.
  unsigned parse_integer_measures(const char* const* starts, double* lanes) const;
  bool server_allowed(std::string_view ip) const;

  // Field i of a line; valid for i below its field count (at most kStarts - 1).
  static std::string_view field(const char* const* starts, int i) {
    return {starts[i], static_cast<size_t>(starts[i + 1] - 1 - starts[i])};
  }

  LineRules rules_;
  ColumnLayout columns_;
  ServerKeyCache server_keys_;
  const char* readable_end_ = nullptr;       // end of the chunk being parsed
  const char* separators_[kSeparatorSlots];  // see parse()
  const char* quoted_starts_[kStarts + 1];   // field starts of a quoted line, unquoted
  std::string unquoted_line_;                // a quoted line's fields, unquoted (RFC 4180 path)
  std::string unquoted_field_;
  DateCache dates_;
  bool wide_scan_;
};

}  // namespace loadcast
