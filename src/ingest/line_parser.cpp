#include "ingest/line_parser.h"

#include <algorithm>
#include <cstring>

#include "common/ip_address.h"
#include "common/number.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif

namespace loadcast {

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

std::string missing_cpu_features() {
  std::string missing;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#if defined(__POPCNT__)
  if (!__builtin_cpu_supports("popcnt")) missing += "POPCNT ";
#endif
#if defined(__SSSE3__)
  if (!__builtin_cpu_supports("ssse3")) missing += "SSSE3 ";
#endif
#endif
  if (!missing.empty()) missing.pop_back();
  return missing;
}

int count_fields(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return split_rfc4180(line.data(), line.data() + line.size(),
                       [](int, const char*, const char*, bool) {});
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
  return std::find(rules_.filter_ips.begin(), rules_.filter_ips.end(), ip) !=
         rules_.filter_ips.end();
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
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + ptrdiff_t{16} * lane));
    const int shift = 16 * lane;
    m.comma |=
        static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma))))
        << shift;
    m.newline |=
        static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline))))
        << shift;
    m.quote |=
        static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote))))
        << shift;
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

  // separators_ holds one past every comma and newline of the lines in
  // progress, in order, after the chunk start: a line's fields lie between
  // consecutive entries, so a line is split without rescanning it.
  const char* line_begin = begin;
  size_t line_first = 0;  // separators_[line_first]: where the current line begins
  size_t written = 1;
  separators_[0] = begin;
  bool quoted = false;
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
    const uint64_t separators = m.comma | m.newline;
    const size_t block_first = written;
    add_separators(block, separators, written);
    for (uint64_t newlines = m.newline; newlines; newlines &= newlines - 1) {
      const int bit = __builtin_ctzll(newlines);
      const uint64_t before = (uint64_t{1} << bit) - 1;
      const size_t line_last =
          block_first + static_cast<size_t>(__builtin_popcountll(separators & before));
      quoted |= (m.quote & before) != 0;
      m.quote &= ~before;
      finish_line(line_begin, block + bit, line_first, line_last, quoted, table, acc);
      line_first = line_last;
      line_begin = block + bit + 1;
      quoted = false;
    }
    quoted |= m.quote != 0;
    if (written > kSeparatorLimit) {
      // Keep the line in progress only; beyond kStarts entries only its
      // length matters (it cannot have the layout's field count).
      const size_t keep = std::min(written - line_first, size_t{kStarts} + 1);
      std::memmove(separators_, separators_ + line_first, keep * sizeof separators_[0]);
      written = keep;
      line_first = 0;
    }
  }
  if (line_begin < end) {
    separators_[written] = end + 1;
    finish_line(line_begin, end, line_first, written, quoted, table, acc);
  }
}

namespace {

// The index of the lowest set bit of a non-zero `bits`; for zero any value
// (the instruction itself, not the compiler, decides: no undefined behaviour).
[[gnu::always_inline]] inline uint64_t lowest_bit_or_any(uint64_t bits) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  uint64_t index;
  asm("tzcnt %1, %0" : "=r"(index) : "r"(bits) : "cc");
  return index;
#else
  return bits ? static_cast<uint64_t>(__builtin_ctzll(bits)) : 0;
#endif
}

}  // namespace

[[gnu::always_inline]] inline void LineParser::add_separators(const char* block, uint64_t bits,
                                                              size_t& written) {
  // Four entries are written per round whether or not there are four bits
  // left (the extra ones are overwritten next): fewer unpredictable branches
  // than one round per separator.
  // Integer arithmetic, so that an extra entry never forms an invalid pointer.
  const uintptr_t after = reinterpret_cast<uintptr_t>(block + 1);
  const char** out = separators_ + written;
  written += static_cast<size_t>(__builtin_popcountll(bits));
  for (; bits; out += 4) {
    out[0] = reinterpret_cast<const char*>(after + lowest_bit_or_any(bits));
    bits &= bits - 1;
    out[1] = reinterpret_cast<const char*>(after + lowest_bit_or_any(bits));
    bits &= bits - 1;
    out[2] = reinterpret_cast<const char*>(after + lowest_bit_or_any(bits));
    bits &= bits - 1;
    out[3] = reinterpret_cast<const char*>(after + lowest_bit_or_any(bits));
    bits &= bits - 1;
  }
}

void LineParser::finish_line(const char* line_begin, const char* line_end, size_t first,
                             size_t last, bool quoted, BucketTable& table, LineAccounting& acc) {
  ++acc.lines;
  const bool carriage_return = line_end > line_begin && line_end[-1] == '\r';
  line_end -= carriage_return;
  if (line_end == line_begin) {
    ++acc.blank;
    return;
  }
  if (quoted) {
    classify_quoted(line_begin, line_end, table, acc);
    return;
  }
  const int field_count = static_cast<int>(last - first);
  starts_ = separators_ + first;
  if (carriage_return && field_count == columns_.field_count) {
    // The last field ends before the CR; the entry is also the next line's start.
    const char* const next_line = separators_[last];
    separators_[last] = line_end + 1;
    classify(field_count, readable_end_, table, acc);
    separators_[last] = next_line;
    return;
  }
  classify(field_count, readable_end_, table, acc);
}

void LineParser::classify_quoted(const char* begin, const char* end, BucketTable& table,
                                 LineAccounting& acc) {
  // The unquoted fields are laid out one after another, each followed by a
  // separator byte, so that field starts describe them as they do a plain
  // line; zero padding keeps the wide loads of the server key cache in bounds.
  unquoted_line_.clear();
  size_t offsets[kStarts];
  const int field_count =
      split_rfc4180(begin, end, [&](int index, const char* b, const char* e, bool quoted) {
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
  for (int i = 0; i <= kept; ++i) quoted_starts_[i] = unquoted_line_.data() + offsets[i];
  starts_ = quoted_starts_;
  classify(field_count, unquoted_line_.data() + unquoted_line_.size(), table, acc);
}

#if defined(__SSSE3__)
namespace {

// kAlign.shuffle[n] moves the n bytes of a field to the end of the low eight
// bytes, most significant digit first, and zeroes every other byte.
struct AlignTable {
  alignas(16) uint8_t shuffle[9][16];
};
constexpr AlignTable make_align_table() {
  AlignTable table{};
  for (int n = 0; n <= 8; ++n)
    for (int j = 0; j < 16; ++j)
      table.shuffle[n][j] = j < 8 && j >= 8 - n ? static_cast<uint8_t>(j - (8 - n)) : 0x80;
  return table;
}
constexpr AlignTable kAlign = make_align_table();
alignas(16) constexpr char kNoText[16] = {};

}  // namespace
#endif

unsigned LineParser::parse_integer_measures(const char* readable_end, double* values) const {
  static_assert(kNumMeasures == 8, "the measures are parsed four at a time");
#if defined(__SSSE3__)
  // Each field becomes eight digit bytes (value minus '0'), two fields per
  // register; a field that is longer than eight bytes, empty, too close to
  // the end of the buffer or has a byte that is not a digit fails its lane.
  unsigned failed = 0;
  auto digits = [&](int m) {
    const char* p = starts_[columns_.measure[m]];
    const size_t n = static_cast<size_t>(starts_[columns_.measure[m] + 1] - 1 - p);
    const bool usable = n - 1 < 8 && p + 16 <= readable_end;
    failed |= unsigned{!usable} << m;
    const __m128i text = _mm_loadu_si128(reinterpret_cast<const __m128i*>(usable ? p : kNoText));
    const __m128i align =
        _mm_load_si128(reinterpret_cast<const __m128i*>(kAlign.shuffle[usable ? n : 0]));
    return _mm_shuffle_epi8(_mm_sub_epi8(text, _mm_set1_epi8('0')), align);
  };
  // Digit pairs, then quads: each field is two 32-bit lanes of four digits.
  __m128i quads[4];
  for (int k = 0; k < 4; ++k) {
    const __m128i pair = _mm_unpacklo_epi64(digits(2 * k), digits(2 * k + 1));
    const __m128i nine = _mm_set1_epi8(9);
    const unsigned ok =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(pair, nine), nine)));
    failed |= unsigned{(ok & 0xFF) != 0xFF} << (2 * k) | unsigned{(ok >> 8) != 0xFF} << (2 * k + 1);
    quads[k] = _mm_madd_epi16(_mm_maddubs_epi16(pair, _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10,
                                                                    1, 10, 1, 10, 1, 10, 1)),
                              _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
  }
  // Halves: four eight-digit values per register, exact as doubles.
  const __m128i halves = _mm_setr_epi16(10000, 1, 10000, 1, 10000, 1, 10000, 1);
  const __m128i low = _mm_madd_epi16(_mm_packs_epi32(quads[0], quads[1]), halves);
  const __m128i high = _mm_madd_epi16(_mm_packs_epi32(quads[2], quads[3]), halves);
  _mm_storeu_pd(values + 0, _mm_cvtepi32_pd(low));
  _mm_storeu_pd(values + 2, _mm_cvtepi32_pd(_mm_unpackhi_epi64(low, low)));
  _mm_storeu_pd(values + 4, _mm_cvtepi32_pd(high));
  _mm_storeu_pd(values + 6, _mm_cvtepi32_pd(_mm_unpackhi_epi64(high, high)));
  return failed;
#else
  (void)readable_end;
  (void)values;
  return (1u << kNumMeasures) - 1;
#endif
}

void LineParser::classify(int field_count, const char* readable_end, BucketTable& table,
                          LineAccounting& acc) {
  if (field_count != columns_.field_count) {
    ++acc.rejected[static_cast<int>(Reject::kFieldCount)];
    return;
  }
  TimeNs time;
  if (!parse_timestamp_cached(field(columns_.session_start), dates_, time)) {
    ++acc.rejected[static_cast<int>(Reject::kBadTimestamp)];
    return;
  }
  const std::string_view ip = field(columns_.server_ip);
  ServerKey server;
  if (!server_keys_.key_for(ip, readable_end, server)) {
    ++acc.rejected[static_cast<int>(Reject::kBadServerIp)];
    return;
  }
  if (time < rules_.window_begin || time > rules_.window_end) {
    ++acc.outside_window;
    return;
  }
  if (rules_.filter_ip && !server_allowed(ip)) {
    ++acc.filtered_ip;
    return;
  }
  ++acc.accepted;
  const int64_t bucket = floor_div(seconds_of(time), kBucketSeconds);
  // Lines come roughly in time order: see index_of_in_order().
  BucketSums& sums = table.entries()[table.index_of_in_order(pack_bucket_key(server, bucket))].sums;
  double values[kNumMeasures];
  for (unsigned others = parse_integer_measures(readable_end, values); others;
       others &= others - 1) {
    const int m = __builtin_ctz(others);
    const std::string_view text = field(columns_.measure[m]);
    const bool wide_load_fits = text.data() + 8 <= readable_end;
    if (!(wide_load_fits &&
          number_detail::parse_short_decimal(text.data(), text.size(), values[m])) &&
        !parse_decimal(text, values[m])) {
      values[m] = -0.0;  // x + -0.0 is x for every x, -0.0 included
      ++acc.missing_values[m];
    }
  }
  for (int m = 0; m < kNumMeasures; ++m) sums.sum[m] += values[m];
  ++sums.sessions;
}

}  // namespace loadcast
