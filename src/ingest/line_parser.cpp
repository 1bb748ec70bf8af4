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

namespace {

// Bit i of each mask: byte i of a 64-byte block is a comma, newline or quote.
struct BlockMasks {
  uint64_t comma, newline, quote;
};

inline BlockMasks block_masks(const char* p) {
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i quote = _mm_set1_epi8('"');
  BlockMasks m{0, 0, 0};
  for (int lane = 0; lane < 4; ++lane) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * lane));
    const int shift = 16 * lane;
    m.comma |= static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)))) << shift;
    m.newline |= static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline)))) << shift;
    m.quote |= static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)))) << shift;
  }
  return m;
#else
  BlockMasks m{0, 0, 0};
  for (int i = 0; i < 64; ++i) {
    m.comma |= uint64_t{p[i] == ','} << i;
    m.newline |= uint64_t{p[i] == '\n'} << i;
    m.quote |= uint64_t{p[i] == '"'} << i;
  }
  return m;
#endif
}

}  // namespace

void LineParser::parse(std::string_view chunk, BucketTable& table, LineAccounting& acc) {
  // One structural pass over the chunk, 64 bytes at a time: the comma and
  // newline bits are visited in order, so every line is split without
  // rescanning it. A quote anywhere in a line sends that line to the RFC 4180
  // path; newlines always end lines, inside quotes too.
  const char* const begin = chunk.data();
  const char* const end = begin + chunk.size();
  readable_end_ = end;
  acc.bytes += static_cast<int64_t>(chunk.size());

  // starts_[k] is where field k begins: the line start, then one past each
  // comma. The index wraps, which is harmless: only lines with the layout's
  // field count (at most 17) are ever read back.
  const char* line_begin = begin;
  unsigned commas = 0;
  bool quoted = false;
  starts_[0] = line_begin;
  for (const char* block = begin; block < end; block += 64) {
    BlockMasks m;
    const size_t left = static_cast<size_t>(end - block);
    if (left >= 64) {
      m = block_masks(block);
    } else {
      char tail[64] = {};
      std::memcpy(tail, block, left);
      m = block_masks(tail);
      const uint64_t valid = (uint64_t{1} << left) - 1;
      m.comma &= valid;
      m.newline &= valid;
      m.quote &= valid;
    }
    for (uint64_t newlines = m.newline; newlines; newlines &= newlines - 1) {
      const int bit = __builtin_ctzll(newlines);
      const uint64_t before = (uint64_t{1} << bit) - 1;
      add_commas(block, m.comma & before, commas);
      m.comma &= ~before;
      quoted |= (m.quote & before) != 0;
      m.quote &= ~before;
      finish_line(line_begin, block + bit, commas, quoted, table, acc);
      line_begin = block + bit + 1;
      starts_[0] = line_begin;
      commas = 0;
      quoted = false;
    }
    add_commas(block, m.comma, commas);
    quoted |= m.quote != 0;
  }
  if (line_begin < end) finish_line(line_begin, end, commas, quoted, table, acc);
}

[[gnu::always_inline]] inline void LineParser::add_commas(const char* block, uint64_t bits, unsigned& commas) {
  // Four starts are written per round whether or not there are four commas
  // left (the extra slots are overwritten later or never read): fewer
  // unpredictable branches than one round per comma.
  const unsigned count = static_cast<unsigned>(__builtin_popcountll(bits));
  const char* after = block + 1;
  for (unsigned k = commas + 1; bits; k += 4) {
    starts_[k % kStarts] = after + __builtin_ctzll(bits);
    bits &= bits - 1;
    starts_[(k + 1) % kStarts] = after + __builtin_ctzll(bits | (uint64_t{1} << 63));
    bits &= bits - 1;
    starts_[(k + 2) % kStarts] = after + __builtin_ctzll(bits | (uint64_t{1} << 63));
    bits &= bits - 1;
    starts_[(k + 3) % kStarts] = after + __builtin_ctzll(bits | (uint64_t{1} << 63));
    bits &= bits - 1;
  }
  commas += count;
}

void LineParser::finish_line(const char* line_begin, const char* line_end, unsigned commas, bool quoted,
                             BucketTable& table, LineAccounting& acc) {
  ++acc.lines;
  if (line_end > line_begin && line_end[-1] == '\r') --line_end;
  if (line_end == line_begin) {
    ++acc.blank;
    return;
  }
  if (quoted) {
    classify_quoted(line_begin, line_end, table, acc);
    return;
  }
  const int field_count = static_cast<int>(commas) + 1;
  if (field_count == columns_.field_count) starts_[field_count] = line_end + 1;
  classify(field_count, readable_end_, table, acc);
}

void LineParser::classify_quoted(const char* begin, const char* end, BucketTable& table, LineAccounting& acc) {
  // The unquoted fields are laid out one after another, each followed by a
  // separator byte, so that starts_ describes them as it does a plain line;
  // zero padding keeps the wide loads of the server key cache in bounds.
  unquoted_line_.clear();
  size_t offsets[kStarts];
  const int field_count = split_rfc4180(begin, end, [&](int index, const char* b, const char* e, bool quoted) {
    if (index >= kStarts - 1) return;
    offsets[index] = unquoted_line_.size();
    if (quoted) {
      unquote(b, e, unquoted_field_);
      unquoted_line_ += unquoted_field_;
    } else {
      unquoted_line_.append(b, e);
    }
    unquoted_line_ += ',';
  });
  const int kept = std::min(field_count, kStarts - 1);
  offsets[kept] = unquoted_line_.size();
  unquoted_line_.append(16, '\0');
  for (int i = 0; i <= kept; ++i) starts_[i] = unquoted_line_.data() + offsets[i];
  classify(field_count, unquoted_line_.data() + unquoted_line_.size(), table, acc);
}

void LineParser::classify(int field_count, const char* readable_end, BucketTable& table, LineAccounting& acc) {
  if (field_count != columns_.field_count) {
    ++acc.rejected[static_cast<int>(Reject::kFieldCount)];
    return;
  }
  const auto time = parse_timestamp(field(columns_.session_start), &dates_);
  if (!time) {
    ++acc.rejected[static_cast<int>(Reject::kBadTimestamp)];
    return;
  }
  const std::string_view ip = field(columns_.server_ip);
  const auto server = server_keys_.key_for(ip, readable_end);
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
    const std::string_view text = field(columns_.measure[m]);
    const bool wide_load_fits = text.data() + 8 <= readable_end;
    if ((wide_load_fits && number_detail::parse_short_decimal(text.data(), text.size(), value)) ||
        parse_decimal(text, value)) {
      sums.sum[m] += value;
    } else {
      ++acc.missing_values[m];
    }
  }
  ++sums.sessions;
}

}  // namespace loadcast
