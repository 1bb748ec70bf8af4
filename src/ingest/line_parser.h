// The ingest hot path: splits a chunk of raw session CSV into lines and
// fields, validates and accounts every line (SPEC §1) and adds accepted lines
// to five-minute aggregates. No allocation per line or field on the common
// (unquoted) path.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "aggregate/bucket_table.h"
#include "common/time.h"
#include "config/config.h"
#include "ingest/accounting.h"
#include "ingest/server_dictionary.h"
#include "ingest/server_key_cache.h"

namespace loadcast {

// Positions of the used fields for one column layout (0-based).
struct ColumnLayout {
  int field_count;
  int session_start;
  int server_ip;
  std::array<int, kNumMeasures> measure;  // kMeasureNames order
};
const ColumnLayout& column_layout(Layout layout);  // kSessions17 or kSessions16

// What decides a line's fate besides its own text.
struct LineRules {
  Layout layout = Layout::kSessions17;  // never kAuto here
  TimeNs window_begin = 0;
  TimeNs window_end = 0;
  bool filter_ip = false;
  std::vector<std::string> filter_ips;
};

// Counts the fields of one line the way the parser does (quote-aware), for
// layout detection.
int count_fields(std::string_view line);

// Picks sessions17 or sessions16 from the majority of field counts of the
// first `max_lines` non-empty lines; nullopt when neither count occurs.
std::optional<Layout> detect_layout(std::string_view text, int max_lines = 100);

class LineParser {
 public:
  LineParser(const LineRules& rules, ServerDictionary& servers);

  // Accounts every line of `chunk` and aggregates the accepted ones. The
  // chunk holds whole lines; its last line may lack a newline.
  void parse(std::string_view chunk, BucketTable& table, LineAccounting& accounting);

 private:
  static constexpr int kStarts = 32;  // a power of two above the widest layout

  // Records the commas of `bits` (positions in the 64-byte `block`) as field starts.
  void add_commas(const char* block, uint64_t bits, unsigned& commas);
  void finish_line(const char* line_begin, const char* line_end, unsigned commas, bool quoted, BucketTable& table,
                   LineAccounting& acc);
  void classify_quoted(const char* begin, const char* end, BucketTable& table, LineAccounting& acc);
  // `readable_end`: the field texts may be over-read up to here.
  void classify(int field_count, const char* readable_end, BucketTable& table, LineAccounting& acc);
  bool server_allowed(std::string_view ip) const;
  // Field i of the current line; valid for i < its field count (at most kStarts - 1).
  std::string_view field(int i) const {
    return {starts_[i], static_cast<size_t>(starts_[i + 1] - 1 - starts_[i])};
  }

  LineRules rules_;
  ColumnLayout columns_;
  ServerKeyCache server_keys_;
  const char* readable_end_ = nullptr;  // end of the chunk being parsed
  const char* starts_[kStarts];         // field starts of the current line, plus one past its end
  std::string unquoted_line_;           // a quoted line's fields, unquoted (RFC 4180 path)
  std::string unquoted_field_;
  DateCache dates_;
};

}  // namespace loadcast
