#include "ingest/line_parser.h"

#include <algorithm>
#include <cstring>

#include "common/number.h"
#include "ingest/server_ip.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace loadcast {

const ColumnLayout& column_layout(Layout layout) {
  // measure order: TotalLoad, MbytesTransferred, SubService_1..5_Load, SecureBytes_Load
  static const ColumnLayout k17{17, 1, 15, {14, 4, 8, 9, 10, 11, 12, 13}};
  static const ColumnLayout k16{16, 0, 15, {13, 3, 7, 8, 9, 10, 11, 12}};
  return layout == Layout::kSessions16 ? k16 : k17;
}

namespace {

// RFC 4180 field splitting of one line: calls `emit(index, begin, end, quoted)`
// for every field. A quote that is never closed runs to the end of the line.
template <typename Emit>
int split_rfc4180(const char* p, const char* end, Emit&& emit) {
  int index = 0;
  while (true) {
    const char* begin = p;
    bool quoted = false;
    if (p < end && *p == '"') {
      quoted = true;
      ++p;
      while (p < end) {
        if (*p == '"') {
          if (p + 1 < end && p[1] == '"') {
            p += 2;
            continue;
          }
          ++p;
          break;
        }
        ++p;
      }
    }
    while (p < end && *p != ',') ++p;
    emit(index, begin, p, quoted);
    ++index;
    if (p == end) return index;
    ++p;  // the comma
  }
}

// The value of a quoted field: outer quotes removed, doubled quotes halved,
// anything after the closing quote kept as written.
void unquote(const char* begin, const char* end, std::string& out) {
  out.clear();
  const char* p = begin + 1;
  while (p < end) {
    if (*p == '"') {
      if (p + 1 < end && p[1] == '"') {
        out += '"';
        p += 2;
        continue;
      }
      out.append(p + 1, end);
      return;
    }
    out += *p++;
  }
}

}  // namespace

int count_fields(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return split_rfc4180(line.data(), line.data() + line.size(), [](int, const char*, const char*, bool) {});
}

std::optional<Layout> detect_layout(std::string_view text, int max_lines) {
  int with17 = 0, with16 = 0, seen = 0;
  size_t pos = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  while (pos < text.size() && seen < max_lines) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) {
      ++seen;
      const int n = count_fields(line);
      with17 += n == 17;
      with16 += n == 16;
    }
    pos = nl + 1;
  }
  if (with17 == 0 && with16 == 0) return std::nullopt;
  return with16 > with17 ? Layout::kSessions16 : Layout::kSessions17;
}

LineParser::LineParser(const LineRules& rules, ServerDictionary& servers)
    : rules_(rules), columns_(column_layout(rules.layout)), server_keys_(servers) {}

bool LineParser::server_allowed(std::string_view ip) const {
  return std::find(rules_.filter_ips.begin(), rules_.filter_ips.end(), ip) != rules_.filter_ips.end();
}

void LineParser::parse(std::string_view chunk, BucketTable& table, LineAccounting& acc) {
  const char* p = chunk.data();
  const char* const end = p + chunk.size();
  readable_end_ = end;
  acc.bytes += static_cast<int64_t>(chunk.size());
  while (p < end) {
    const char* line_end = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (!line_end) line_end = end;
    scan_line(p, line_end, table, acc);
    p = line_end + 1;
  }
}

namespace {

#if defined(__SSE2__)
inline const char* scan_blocks_sse2(const char* p, const char* end, unsigned& quotes, auto&& comma_at) {
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i quote = _mm_set1_epi8('"');
  for (; p + 16 <= end; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)));
    quotes |= static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)));
    while (mask) {
      comma_at(p + __builtin_ctz(mask));
      mask &= mask - 1;
    }
  }
  return p;
}
#endif

}  // namespace

void LineParser::scan_line(const char* begin, const char* end, BucketTable& table, LineAccounting& acc) {
  // Commas are found sixteen bytes at a time; a quote anywhere
  // sends the line to the RFC 4180 path. Positions past kTracked land in a
  // spare slot, so recording one is branch-free.
  const char* field_begin = begin;
  int commas = 0;
  auto comma_at = [&](const char* c) {
    fields_[commas < kTracked ? commas : kTracked] = {field_begin, c};
    ++commas;
    field_begin = c + 1;
  };
  const char* p = begin;
  unsigned quotes = 0;
#if defined(__SSE2__)
  p = scan_blocks_sse2(p, end, quotes, comma_at);
#endif
  bool quoted = quotes != 0;
  for (; p < end; ++p) {
    if (*p == ',') comma_at(p);
    quoted |= *p == '"';
  }
  finish_line(begin, end, field_begin, commas, quoted, table, acc);
}

void LineParser::finish_line(const char* line_begin, const char* line_end, const char* last_field_begin,
                             int commas, bool quoted, BucketTable& table, LineAccounting& acc) {
  ++acc.lines;
  if (line_end > line_begin && line_end[-1] == '\r') --line_end;
  if (line_end == line_begin) {
    ++acc.blank;
    return;
  }
  int field_count = commas + 1;
  if (quoted) {
    split_quoted(line_begin, line_end, field_count);
  } else if (commas < kTracked) {
    fields_[commas] = {last_field_begin, line_end};
  }
  classify(field_count, table, acc);
}

void LineParser::split_quoted(const char* begin, const char* end, int& field_count) {
  field_count = split_rfc4180(begin, end, [&](int index, const char* b, const char* e, bool quoted) {
    if (index >= kTracked) return;
    if (quoted) {
      unquote(b, e, unquoted_[index]);
      fields_[index] = {unquoted_[index].data(), unquoted_[index].data() + unquoted_[index].size()};
    } else {
      fields_[index] = {b, e};
    }
  });
}

void LineParser::classify(int field_count, BucketTable& table, LineAccounting& acc) {
  if (field_count != columns_.field_count) {
    ++acc.rejected[static_cast<int>(Reject::kFieldCount)];
    return;
  }
  const auto time = parse_timestamp(fields_[columns_.session_start].view(), &dates_);
  if (!time) {
    ++acc.rejected[static_cast<int>(Reject::kBadTimestamp)];
    return;
  }
  const std::string_view ip = fields_[columns_.server_ip].view();
  const auto server = server_keys_.key_for(ip, readable_end_);
  if (!server) {
    ++acc.rejected[static_cast<int>(Reject::kBadServerIp)];
    return;
  }
  if (*time < rules_.window_begin || *time > rules_.window_end) {
    ++acc.outside_window;
    return;
  }
  if (rules_.filter_ip && !server_allowed(ip)) {
    ++acc.filtered_ip;
    return;
  }
  ++acc.accepted;
  const int64_t bucket = floor_div(seconds_of(*time), kBucketSeconds);
  BucketSums& sums = table.at(pack_bucket_key(*server, bucket));
  for (int m = 0; m < kNumMeasures; ++m) {
    double value;
    if (parse_decimal(fields_[columns_.measure[m]].view(), value)) {
      sums.sum[m] += value;
    } else {
      ++acc.missing_values[m];
    }
  }
  ++sums.sessions;
}

}  // namespace loadcast
