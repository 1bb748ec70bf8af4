#include "ingest/line_parser.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "common/ip_address.h"
#include "common/number.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
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

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LOADCAST_WIDE_SCAN 1
// block_masks() and the separators' entries at once, for CPUs with AVX-512
// (VBMI2): one compare per byte class for the whole block, and the
// separators' positions compressed into bytes and widened to pointers eight
// at a time, where the baseline finds them one bit at a time. `data`: 64
// readable bytes, the block's or a copy; `valid`: its bytes that count.
// Writes one past each separator to out[0..], and up to seven entries more.
alignas(64) constexpr uint8_t kOnePast[64] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
    23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
    45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64};

[[gnu::target("avx512f,avx512bw,avx512vbmi2")]] BlockMasks scan_block_wide(const char* data,
                                                                           const char* block,
                                                                           uint64_t valid,
                                                                           const char** out) {
  const __m512i v = _mm512_loadu_si512(data);
  BlockMasks m;
  m.comma = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(',')) & valid;
  m.newline = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n')) & valid;
  m.quote = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"')) & valid;
  const uint64_t separators = m.comma | m.newline;
  alignas(64) uint8_t offsets[64];
  _mm512_store_si512(offsets, _mm512_maskz_compress_epi8(separators, _mm512_load_si512(kOnePast)));
  // Integer arithmetic, so that a scratch entry never forms an invalid pointer.
  const __m512i base =
      _mm512_set1_epi64(static_cast<long long>(reinterpret_cast<uintptr_t>(block)));
  const int count = __builtin_popcountll(separators);
  for (int k = 0; k < count; k += 8) {
    const __m128i eight = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(offsets + k));
    _mm512_storeu_si512(out + k, _mm512_add_epi64(base, _mm512_maskz_cvtepu8_epi64(0xFF, eight)));
  }
  return m;
}
#endif

bool wide_scan_available() {
#if defined(LOADCAST_WIDE_SCAN)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vbmi2");
#else
  return false;
#endif
}

}  // namespace

LineParser::LineParser(const LineRules& rules, ServerDictionary& servers, Scan scan)
    : rules_(rules),
      columns_(column_layout(rules.layout)),
      server_keys_(servers),
      wide_scan_(scan == Scan::kWidest && wide_scan_available()) {}

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
  char tail[64];  // the last block's bytes, zero-padded
  for (const char* block = begin; block < end; block += 64) {
    const size_t left = static_cast<size_t>(end - block);
    const char* data = block;
    uint64_t valid = ~uint64_t{0};
    if (left < 64) {
      std::memset(tail, 0, sizeof tail);
      std::memcpy(tail, block, left);
      data = tail;
      valid = (uint64_t{1} << left) - 1;
    }
    const size_t block_first = written;
    BlockMasks m;
#if defined(LOADCAST_WIDE_SCAN)
    if (wide_scan_) {
      m = scan_block_wide(data, block, valid, separators_ + written);
      written += static_cast<size_t>(__builtin_popcountll(m.comma | m.newline));
    } else
#endif
    {
      m = block_masks(data);
      m.comma &= valid;
      m.newline &= valid;
      m.quote &= valid;
      add_separators(block, m.comma | m.newline, written);
    }
    const uint64_t separators = m.comma | m.newline;
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
  if (field_count != columns_.field_count) {
    ++acc.rejected[static_cast<int>(Reject::kFieldCount)];
    return;
  }
  const char** const starts = separators_ + first;
  // A CR ends the last field; the entry after it is also the next line's start.
  const char* const next_line = starts[field_count];
  if (carriage_return) starts[field_count] = line_end + 1;
  classify(starts, readable_end_, table, acc);
  starts[field_count] = next_line;
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
  if (field_count != columns_.field_count) {
    ++acc.rejected[static_cast<int>(Reject::kFieldCount)];
    return;
  }
  classify(quoted_starts_, unquoted_line_.data() + unquoted_line_.size(), table, acc);
}

namespace {

// Both layouts hold the measures at the same places after SessionStart:
// MbytesTransferred 3 fields on, the other seven in the fields 7 to 13 on,
// TotalLoad last (kMeasureNames order: TotalLoad, MbytesTransferred,
// SubService_1..5_Load, SecureBytes_Load).
constexpr int kBytesMeasure = 1;
constexpr int kBytesAfterStart = 3;
constexpr int kFirstIntegerAfterStart = 7;
// The measure of each of the seven fields.
constexpr std::array<int, 7> kIntegerMeasures = {2, 3, 4, 5, 6, 7, 0};
constexpr bool measures_after_start(const ColumnLayout& columns) {
  if (columns.measure[kBytesMeasure] != columns.session_start + kBytesAfterStart) return false;
  for (size_t i = 0; i < kIntegerMeasures.size(); ++i)
    if (columns.measure[static_cast<size_t>(kIntegerMeasures[i])] !=
        columns.session_start + kFirstIntegerAfterStart + static_cast<int>(i))
      return false;
  return true;
}
static_assert(measures_after_start(kSessions17Columns) && measures_after_start(kSessions16Columns));

}  // namespace

[[gnu::always_inline]] inline unsigned LineParser::parse_integer_measures(const char* const* starts,
                                                                          double* lanes) const {
#if defined(__SSSE3__)
  // Eight fields from the seventh after SessionStart (the seven integer
  // measures and the field after them, whose lane is ignored). Each field's
  // last four bytes, read back from its comma, make one 32-bit lane: a field
  // of one to four digits ends up right-aligned, most significant digit
  // first, and the bytes before it are masked to zero digits. Seven fields
  // lie before the first, so the four bytes are always within the line. Most
  // cells are one or two digits: four lanes per register validate and
  // convert four fields in a few instructions.
  const char* const* at = starts + columns_.session_start + kFirstIntegerAfterStart;
  auto tail = [&](int i) {
    uint32_t bytes;
    std::memcpy(&bytes, at[i + 1] - 5, 4);  // at[i + 1] - 1 is the comma
    return static_cast<int>(bytes);
  };
  // Field lengths plus one, from the field starts, two at a time; a line
  // longer than 32 bits can hold is left to the general parsers.
  if (static_cast<uint64_t>(at[8] - at[0]) > UINT32_MAX) return 0x7F;
  auto lengths = [&](int i) {
    auto load = [&](int k) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at + k)); };
    const __m128i first = _mm_sub_epi64(load(i + 1), load(i));
    const __m128i second = _mm_sub_epi64(load(i + 3), load(i + 2));
    return _mm_castps_si128(
        _mm_shuffle_ps(_mm_castsi128_ps(first), _mm_castsi128_ps(second), _MM_SHUFFLE(2, 0, 2, 0)));
  };
  unsigned failed = 0;
  for (int group = 0; group < 2; ++group) {
    const int i = 4 * group;
    const __m128i text = _mm_setr_epi32(tail(i), tail(i + 1), tail(i + 2), tail(i + 3));
    const __m128i spans = lengths(i);  // length + 1 per lane
    // The length in every byte of its lane, and byte j of a lane is a digit
    // of the field when j + length >= 4, i.e. j + span > 4.
    const __m128i span_bytes =
        _mm_shuffle_epi8(spans, _mm_setr_epi8(0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12));
    const __m128i in_field = _mm_cmpgt_epi8(
        _mm_add_epi8(span_bytes, _mm_setr_epi8(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3)),
        _mm_set1_epi8(4));
    const __m128i digits = _mm_and_si128(_mm_sub_epi8(text, _mm_set1_epi8('0')), in_field);
    const __m128i nine = _mm_set1_epi8(9);
    // A lane is good when its bytes are 0..9 and its length is 1..4.
    const __m128i length_ok = _mm_and_si128(_mm_cmpgt_epi32(spans, _mm_set1_epi32(1)),
                                            _mm_cmplt_epi32(spans, _mm_set1_epi32(6)));
    const __m128i good = _mm_and_si128(
        length_ok,
        _mm_cmpeq_epi32(_mm_cmpeq_epi8(_mm_max_epu8(digits, nine), nine), _mm_set1_epi32(-1)));
    failed |= static_cast<unsigned>(~_mm_movemask_ps(_mm_castsi128_ps(good)) & 0xF) << i;
    const __m128i value = _mm_madd_epi16(
        _mm_maddubs_epi16(digits,
                          _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1)),
        _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
    _mm_storeu_pd(lanes + i, _mm_cvtepi32_pd(value));
    _mm_storeu_pd(lanes + i + 2, _mm_cvtepi32_pd(_mm_unpackhi_epi64(value, value)));
  }
  return failed & 0x7F;
#else
  (void)starts;
  (void)lanes;
  return 0x7F;
#endif
}

[[gnu::always_inline]] inline uint64_t LineParser::key_of(const char* const* starts,
                                                          const char* readable_end,
                                                          LineAccounting& acc,
                                                          uint32_t*& last_entry) {
  TimeNs time;
  int64_t seconds;
  if (!parse_timestamp_cached(field(starts, columns_.session_start), dates_, time, seconds)) {
    ++acc.rejected[static_cast<int>(Reject::kBadTimestamp)];
    return 0;
  }
  const std::string_view ip = field(starts, columns_.server_ip);
  ServerKey server;
  if (!server_keys_.key_for(ip, readable_end, server, last_entry)) {
    ++acc.rejected[static_cast<int>(Reject::kBadServerIp)];
    return 0;
  }
  if (time < rules_.window_begin || time > rules_.window_end) {
    ++acc.outside_window;
    return 0;
  }
  if (rules_.filter_ip && !server_allowed(ip)) {
    ++acc.filtered_ip;
    return 0;
  }
  ++acc.accepted;
  return pack_bucket_key(server, floor_div(seconds, kBucketSeconds));
}

[[gnu::always_inline]] inline void LineParser::add_measures(const char* const* starts,
                                                            const char* readable_end,
                                                            BucketSums& sums,
                                                            LineAccounting& acc) const {
  // Each measure's sum gets one addition per line, of its value, or none
  // when it is missing; the measures are independent, so their order does
  // not matter.
  auto add_decimal = [&](int m) {
    const std::string_view text = field(starts, columns_.measure[m]);
    const bool wide_load_fits = text.data() + 8 <= readable_end;
    double value;
    if ((wide_load_fits && number_detail::parse_short_decimal(text.data(), text.size(), value)) ||
        parse_decimal(text, value)) {
      sums.sum[m] += value;
    } else {
      ++acc.missing_values[m];
    }
  };
  double lanes[8];
  const unsigned failed = parse_integer_measures(starts, lanes);
  if (failed == 0) {
    for (size_t i = 0; i < kIntegerMeasures.size(); ++i)
      sums.sum[static_cast<size_t>(kIntegerMeasures[i])] += lanes[i];
  } else {
    for (size_t i = 0; i < kIntegerMeasures.size(); ++i) {
      if (failed >> i & 1)
        add_decimal(kIntegerMeasures[i]);
      else
        sums.sum[static_cast<size_t>(kIntegerMeasures[i])] += lanes[i];
    }
  }
  add_decimal(kBytesMeasure);
  ++sums.sessions;
}

void LineParser::classify(const char* const* starts, const char* readable_end, BucketTable& table,
                          LineAccounting& acc) {
  uint32_t* last_entry;
  const uint64_t key = key_of(starts, readable_end, acc, last_entry);
  if (key == 0) return;
  // Lines come roughly in time order: most go where the server's last line
  // went, else see index_of_in_order().
  BucketTable::Entries& entries = table.entries();
  if (!(*last_entry < entries.size() && entries[*last_entry].key == key))
    *last_entry = table.index_of_in_order(key);
  add_measures(starts, readable_end, entries[*last_entry].sums, acc);
}

}  // namespace loadcast
