#include "generate/line_writer.h"

#include <algorithm>
#include <cstring>

#include "common/time.h"

namespace loadcast::generate {

namespace {

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// The two digits of 0 <= v < 100.
inline const char* digit_pair(uint32_t v) { return kDigitPairs + size_t{2} * v; }

inline int digit_count(uint32_t v) {
  if (v < 10) return 1;
  if (v < 100) return 2;
  if (v < 1000) return 3;
  if (v < 10000) return 4;
  if (v < 100000) return 5;
  if (v < 1000000) return 6;
  if (v < 10000000) return 7;
  if (v < 100000000) return 8;
  if (v < 1000000000) return 9;
  return 10;
}

inline char* put_uint(char* out, uint32_t v) {
  char* end = out + digit_count(v);
  char* p = end;
  while (v >= 100) {
    p -= 2;
    std::memcpy(p, digit_pair(v % 100), 2);
    v /= 100;
  }
  if (v >= 10) {
    std::memcpy(p - 2, digit_pair(v), 2);
  } else {
    p[-1] = static_cast<char>('0' + v);
  }
  return end;
}

// "MM:SS" for every second of an hour.
const std::array<std::array<char, 5>, 3600>& minute_second_text() {
  static const auto table = [] {
    std::array<std::array<char, 5>, 3600> t{};
    for (int s = 0; s < 3600; ++s) {
      std::memcpy(t[s].data(), digit_pair(s / 60), 2);
      t[s][2] = ':';
      std::memcpy(t[s].data() + 3, digit_pair(s % 60), 2);
    }
    return t;
  }();
  return table;
}

std::array<char, 11> day_text(int64_t day) {
  CivilDate date = civil_from_days(day);
  std::array<char, 11> text{};
  int year = date.year < 0 ? 0 : (date.year > 9999 ? 9999 : date.year);
  std::memcpy(text.data(), digit_pair(year / 100), 2);
  std::memcpy(text.data() + 2, digit_pair(year % 100), 2);
  text[4] = '-';
  std::memcpy(text.data() + 5, digit_pair(date.month), 2);
  text[7] = '-';
  std::memcpy(text.data() + 8, digit_pair(date.day), 2);
  text[10] = ' ';
  return text;
}

// Splits a line (without its newline) at every comma; no quotes in clean lines.
std::vector<std::string> split_fields(std::string_view line) {
  std::vector<std::string> fields;
  size_t begin = 0;
  for (;;) {
    size_t comma = line.find(',', begin);
    fields.emplace_back(line.substr(begin, comma - begin));
    if (comma == std::string_view::npos) return fields;
    begin = comma + 1;
  }
}

template <size_t N>
std::string_view pick(const std::string_view (&choices)[N], uint64_t bits) {
  return choices[bits % N];
}

}  // namespace

std::string_view dirty_kind_name(DirtyKind kind) {
  static constexpr std::string_view kNames[kDirtyKindCount] = {
      "too_few_fields", "too_many_fields", "month_13",      "feb_30",
      "garbage_time",   "ip_out_of_range", "ip_text",       "ip_leading_zero",
      "blank",          "empty_number",    "nan",           "infinity",
      "text_number",    "quoted_comma",    "time_t",        "time_z",
      "time_fraction",  "time_offset",     "outside_window"};
  return kNames[static_cast<int>(kind)];
}

LineWriter::LineWriter(const Fleet& fleet, Layout layout, int64_t window_start, int64_t window_end)
    : sessions17_(layout != Layout::kSessions16),
      window_start_(window_start),
      window_end_(window_end),
      first_day_(floor_div(window_start, kSecondsPerDay) - 1) {
  auto short_text = [](std::string_view text) {
    ShortText t;
    t.size = static_cast<uint8_t>(std::min(text.size(), t.text.size()));
    std::memcpy(t.text.data(), text.data(), t.size);
    return t;
  };
  for (const Server& server : fleet.servers()) server_ip_.push_back(short_text(server.ip));
  for (size_t i = 0; i < kTrafficTypes.size(); ++i) {
    traffic_[i] = short_text(std::string(kTrafficTypes[i]) + ",");
  }
  for (int i = 0; i < 256; ++i) octet_[i] = short_text(std::to_string(i) + ".");
  // Session ends run up to a day past the window.
  int64_t last_day = floor_div(window_end, kSecondsPerDay) + 2;
  day_text_.reserve(static_cast<size_t>(last_day - first_day_ + 1));
  for (int64_t day = first_day_; day <= last_day; ++day) day_text_.push_back(day_text(day));
}

char* LineWriter::write_time(char* out, int64_t t) const {
  int64_t day = floor_div(t, kSecondsPerDay);
  int64_t second = t - day * kSecondsPerDay;
  int64_t i = day - first_day_;
  if (i >= 0 && i < static_cast<int64_t>(day_text_.size())) {
    std::memcpy(out, day_text_[i].data(), 11);
  } else {
    std::memcpy(out, day_text(day).data(), 11);
  }
  std::memcpy(out + 11, digit_pair(second / 3600), 2);
  out[13] = ':';
  std::memcpy(out + 14, minute_second_text()[second % 3600].data(), 5);
  return out + 19;
}

char* LineWriter::write_time(char* out, int64_t t, HourPrefix& cache) const {
  int64_t hour = floor_div(t, kSecondsPerHour);
  if (hour != cache.hour) {
    write_time(cache.text.data(), hour * kSecondsPerHour);
    cache.hour = hour;
  }
  std::memcpy(out, cache.text.data(), 16);  // "YYYY-MM-DD HH:" and slack
  std::memcpy(out + 14, minute_second_text()[t - hour * kSecondsPerHour].data(), 5);
  return out + 19;
}

char* LineWriter::put_short(char* out, const ShortText& text) {
  std::memcpy(out, text.text.data(), text.text.size());
  return out + text.size;
}

char* LineWriter::put_client_ip(char* out, uint32_t ip) const {
  out = put_short(out, octet_[ip >> 24]);
  out = put_short(out, octet_[(ip >> 16) & 255]);
  out = put_short(out, octet_[(ip >> 8) & 255]);
  out = put_short(out, octet_[ip & 255]);
  return out - 1;  // the last octet's dot
}

char* LineWriter::write_clean(char* p, const Session& s) const {
  if (sessions17_) p = put_short(p, traffic_[s.traffic]);
  // Consecutive lines mostly share their hours; one cache per thread and field.
  thread_local HourPrefix start_hour, end_hour;
  p = write_time(p, s.start, start_hour);
  *p++ = ',';
  p = write_time(p, s.end, end_hour);
  *p++ = ',';
  p = put_uint(p, s.connections);
  *p++ = ',';
  p = put_uint(p, s.mbytes_centi / 100);
  *p++ = '.';
  std::memcpy(p, digit_pair(s.mbytes_centi % 100), 2);
  p += 2;
  *p++ = ',';
  *p++ = static_cast<char>('0' + s.grade);
  *p++ = ',';
  *p++ = static_cast<char>('0' + s.http1);
  *p++ = ',';
  *p++ = static_cast<char>('0' + s.server_type);
  *p++ = ',';
  for (uint32_t load : s.sub_load) {
    p = put_uint(p, load);
    *p++ = ',';
  }
  p = put_uint(p, s.secure_load);
  *p++ = ',';
  p = put_uint(p, s.total_load);
  *p++ = ',';
  const ShortText& server_ip = server_ip_[s.server];
  if (sessions17_) {
    p = put_short(p, server_ip);
    *p++ = ',';
    p = put_client_ip(p, s.client_ip);
  } else {
    p = put_client_ip(p, s.client_ip);
    *p++ = ',';
    p = put_short(p, server_ip);
  }
  *p++ = '\n';
  return p;
}

void LineWriter::append_dirty(std::string& out, const Session& s, DirtyKind kind,
                              uint64_t bits) const {
  if (kind == DirtyKind::kBlank) {
    out += '\n';
    return;
  }
  char clean[kMaxCleanLine];
  char* end = write_clean(clean, s);
  std::vector<std::string> f = split_fields(std::string_view(clean, end - clean - 1));

  // Field positions; sessions16 lacks TrafficType and swaps the two IPs.
  const int o = sessions17_ ? 1 : 0;
  const int start = o, end_field = o + 1, mbytes = o + 3, server_type = o + 6;
  const int server_ip = 15;
  // The numeric fields the ETL sums: MbytesTransferred, SubService_1..5,
  // SecureBytes_Load, TotalLoad.
  const int used_numbers[] = {mbytes, o + 7, o + 8, o + 9, o + 10, o + 11, o + 12, o + 13};
  const int number = used_numbers[(bits >> 8) % std::size(used_numbers)];
  const uint64_t b = bits & 0xff;

  switch (kind) {
    case DirtyKind::kTooFewFields:
      f.resize(f.size() - 1 - b % 3);
      break;
    case DirtyKind::kTooManyFields:
      f.push_back(b % 2 ? "" : "0");
      if (b % 3 == 0) f.push_back("extra");
      break;
    case DirtyKind::kMonth13:
      f[start].replace(5, 2, "13");
      break;
    case DirtyKind::kFeb30:
      f[start].replace(5, 5, "02-30");
      break;
    case DirtyKind::kGarbageTime: {
      static constexpr std::string_view kGarbage[] = {"not-a-time",
                                                      "",
                                                      "2016/06/03 10:00:00",
                                                      "16-06-03 10:00",
                                                      "2016-06-03 25:00:00",
                                                      "2016-06-31 10:00:00",
                                                      "2016-06-03 10:61:00",
                                                      "2016-06-03",
                                                      "NULL",
                                                      "2016-6-3 1:2:3"};
      f[start] = pick(kGarbage, b);
      break;
    }
    case DirtyKind::kIpOutOfRange:
      f[server_ip] = (b % 2 ? "999." : "256.") + std::to_string(b) + "." +
                     std::to_string((bits >> 16) & 255) + ".1";
      break;
    case DirtyKind::kIpText: {
      static constexpr std::string_view kText[] = {
          "server-17", "localhost", "unknown", "", "N/A", "fe80::1%eth0", "2001:db8::zz", "10.0.0"};
      f[server_ip] = pick(kText, b);
      break;
    }
    case DirtyKind::kIpLeadingZero: {
      char text[32];
      char* p = text;
      *p++ = '0';
      uint32_t first = 1 + b % 99;
      if (first < 10) *p++ = '0';
      p = put_uint(p, first);
      *p++ = '.';
      p = put_uint(p, (bits >> 16) & 255);
      *p++ = '.';
      p = put_uint(p, (bits >> 24) & 255);
      *p++ = '.';
      p = put_uint(p, (bits >> 32) & 255);
      f[server_ip].assign(text, p);
      break;
    }
    case DirtyKind::kEmptyNumber:
      f[number].clear();
      break;
    case DirtyKind::kNaN: {
      static constexpr std::string_view kNaNs[] = {"NaN", "nan", "-nan", "NAN"};
      f[number] = pick(kNaNs, b);
      break;
    }
    case DirtyKind::kInfinity: {
      static constexpr std::string_view kInfs[] = {"inf", "-inf", "Infinity", "1e999"};
      f[number] = pick(kInfs, b);
      break;
    }
    case DirtyKind::kTextNumber: {
      static constexpr std::string_view kTexts[] = {"n/a", "null", "high", "twelve"};
      f[number] = pick(kTexts, b);
      break;
    }
    case DirtyKind::kQuotedComma:
      // Only fields the ETL does not use are quoted: their value is irrelevant,
      // the quoted comma must not shift the fields after it.
      if (sessions17_) {
        f[0] = "\"" + f[0] + (b % 2 ? ",mobile\"" : ",cdn\"");
      } else {
        f[server_type] = "\"" + f[server_type] + ",4\"";
      }
      break;
    case DirtyKind::kTimeT:
      f[start][10] = 'T';
      if (b % 2) f[end_field][10] = 'T';
      break;
    case DirtyKind::kTimeZ:
      if (b % 2) f[start][10] = 'T';
      f[start] += 'Z';
      break;
    case DirtyKind::kTimeFraction: {
      static constexpr std::string_view kFractions[] = {".5", ".123", ".000001", ".999999999"};
      // A fraction on the window's last second would move the line outside.
      f[start] += s.start >= window_end_ ? std::string_view(".0") : pick(kFractions, b);
      break;
    }
    case DirtyKind::kTimeOffset: {
      static constexpr int kOffsetMinutes[] = {120, -300, 330, -480, 60, 0};
      int minutes = kOffsetMinutes[b % std::size(kOffsetMinutes)];
      char text[32];
      char* p = write_time(text, s.start + int64_t{minutes} * 60);
      *p++ = minutes < 0 ? '-' : '+';
      int magnitude = minutes < 0 ? -minutes : minutes;
      std::memcpy(p, digit_pair(magnitude / 60), 2);
      p[2] = ':';
      std::memcpy(p + 3, digit_pair(magnitude % 60), 2);
      f[start].assign(text, p + 5);
      break;
    }
    case DirtyKind::kOutsideWindow: {
      int64_t shift = 1 + static_cast<int64_t>((bits >> 16) % (3 * kSecondsPerDay));
      int64_t moved = b % 2 ? window_end_ + shift : window_start_ - shift;
      char text[32];
      f[start].assign(text, write_time(text, moved));
      f[end_field].assign(text, write_time(text, moved + (s.end - s.start)));
      break;
    }
    case DirtyKind::kBlank:
      break;
  }
  for (size_t i = 0; i < f.size(); ++i) {
    if (i) out += ',';
    out += f[i];
  }
  out += '\n';
}

}  // namespace loadcast::generate
