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
  struct FieldSpan {
    const char* begin;
    const char* end;
    std::string_view view() const { return {begin, static_cast<size_t>(end - begin)}; }
  };
  static constexpr int kTracked = 17;  // fields whose positions are kept

  void scan_line(const char* begin, const char* end, BucketTable& table, LineAccounting& acc);
  void finish_line(const char* line_begin, const char* line_end, const char* last_field_begin,
                   int commas, bool quoted, BucketTable& table, LineAccounting& acc);
  void classify(int field_count, BucketTable& table, LineAccounting& acc);
  void split_quoted(const char* begin, const char* end, int& field_count);
  bool server_allowed(std::string_view ip) const;

  LineRules rules_;
  ColumnLayout columns_;
  ServerKeyCache server_keys_;
  const char* readable_end_ = nullptr;  // end of the chunk being parsed
  FieldSpan fields_[kTracked + 1];  // the last slot absorbs untracked fields
  std::string unquoted_[kTracked];
  DateCache dates_;  // storage of the quoted slow path
};

}  // namespace loadcast
