#include "serve/records.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <optional>
#include <string_view>

#include "features/calendar.h"

namespace loadcast::serve {
namespace {

using nlohmann::json;

constexpr double kSecondsPerYear = 365.25 * kSecondsPerDay;

[[noreturn]] void bad(size_t index, std::string_view field, const std::string& what) {
  throw RequestError(
      400, "record " + std::to_string(index) + ", field '" + std::string(field) + "': " + what);
}

std::string type_of(const json& v) { return v.type_name(); }

// The value of `field`, or nullptr when absent or null (both mean "not given").
const json* find(const json& record, std::string_view field) {
  const auto it = record.find(field);
  if (it == record.end() || it->is_null()) return nullptr;
  return &*it;
}

double number_field(const json& record, size_t index, std::string_view field) {
  const json* v = find(record, field);
  if (!v) return 0.0;
  if (!v->is_number()) bad(index, field, "expected a number, got " + type_of(*v));
  const double x = v->get<double>();
  if (!std::isfinite(x)) bad(index, field, "not a finite number");
  return x;
}

// An integer calendar field in [lo, hi]; pandas may send integral floats.
std::optional<int> int_field(const json& record, size_t index, std::string_view field, int lo,
                             int hi, bool allow_bool) {
  const json* v = find(record, field);
  if (!v) return std::nullopt;
  double x;
  if (v->is_boolean() && allow_bool) {
    x = v->get<bool>() ? 1 : 0;
  } else if (v->is_number()) {
    x = v->get<double>();
  } else {
    bad(index, field, "expected an integer, got " + type_of(*v));
  }
  if (!(x >= lo && x <= hi)) {
    bad(index, field,
        "value " + v->dump() + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  if (x != std::floor(x)) bad(index, field, "expected an integer, got " + v->dump());
  return static_cast<int>(x);
}

int weekday_of_name(std::string_view name) {
  for (int d = 0; d < 7; ++d)
    if (weekday_name(d) == name) return d;  // the usual spelling, without case folding
  for (int d = 0; d < 7; ++d) {
    const std::string_view day = weekday_name(d);
    if (day.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < day.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(day[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return d;
  }
  return -1;
}

int64_t hour_field(const json& record, size_t index) {
  constexpr std::string_view kField = "SessionStartHourTime";
  const json* v = find(record, kField);
  if (!v) bad(index, kField, "missing");
  int64_t seconds;
  if (v->is_string()) {
    const auto t = parse_timestamp(v->get_ref<const std::string&>());
    if (!t) bad(index, kField, "not a timestamp (YYYY-MM-DD HH:MM:SS): " + v->dump());
    seconds = seconds_of(*t);
    if (*t % kNanosPerSecond != 0) bad(index, kField, "not a whole hour: " + v->dump());
  } else if (v->is_number_integer()) {
    // pandas' to_json writes datetimes as epoch milliseconds by default.
    const int64_t ms = v->get<int64_t>();
    constexpr int64_t kLimit = 9'000'000'000'000;  // about the years 1685..2255, what TimeNs holds
    if (ms < -kLimit || ms > kLimit || ms % 1000 != 0)
      bad(index, kField, "not a whole hour: " + v->dump());
    seconds = ms / 1000;
  } else {
    bad(index, kField, "expected a timestamp string, got " + type_of(*v));
  }
  if (seconds % kSecondsPerHour != 0) bad(index, kField, "not a whole hour: " + v->dump());
  return seconds;
}

}  // namespace

std::string row_key(const FeatureRow& row) {
  return row.server_ip + "_" + format_timestamp(row.hour);
}

ParsedRecord parse_record(const json& record, size_t index, TimeNs train_begin) {
  if (!record.is_object()) {
    throw RequestError(
        400, "record " + std::to_string(index) + ": expected an object, got " + type_of(record));
  }
  ParsedRecord out;
  FeatureRow& row = out.row;

  const json* ip = find(record, "ServerIP");
  if (!ip) bad(index, "ServerIP", "missing");
  if (!ip->is_string() || ip->get_ref<const std::string&>().empty())
    bad(index, "ServerIP", "expected a non-empty string, got " + ip->dump());
  row.server_ip = ip->get<std::string>();
  row.hour = hour_field(record, index);

  // Calendar fields the record leaves out follow from the hour, as in the ETL.
  Calendar& c = row.calendar;
  static constexpr std::string_view kCalendarFields[] = {"year",       "month",        "weekofyear",
                                                         "dayofmonth", "hourofday",    "dayofweek",
                                                         "Holiday",    "BusinessHour", "Morning"};
  bool complete = true;
  for (std::string_view field : kCalendarFields) complete = complete && find(record, field);
  if (!complete) c = calendar_of_hour(row.hour);  // the holiday rules are the costly part
  if (auto v = int_field(record, index, "year", 1, 9999, false)) c.year = *v;
  if (auto v = int_field(record, index, "month", 1, 12, false)) c.month = *v;
  if (auto v = int_field(record, index, "weekofyear", 1, 53, false)) c.weekofyear = *v;
  if (auto v = int_field(record, index, "dayofmonth", 1, 31, false)) c.dayofmonth = *v;
  if (auto v = int_field(record, index, "hourofday", 0, 23, false)) c.hourofday = *v;
  if (auto v = int_field(record, index, "Holiday", 0, 1, true)) c.holiday = *v;
  if (auto v = int_field(record, index, "BusinessHour", 0, 1, true)) c.business_hour = *v;
  if (auto v = int_field(record, index, "Morning", 0, 1, true)) c.morning = *v;
  if (const json* d = find(record, "dayofweek")) {
    if (!d->is_string())
      bad(index, "dayofweek", "expected a day name (\"Monday\"), got " + type_of(*d));
    const int day = weekday_of_name(d->get_ref<const std::string&>());
    if (day < 0) bad(index, "dayofweek", "not a day name: " + d->dump());
    c.dayofweek = day;
  }

  if (find(record, "linearTrend")) {
    row.linear_trend = number_field(record, index, "linearTrend");
  } else {
    row.linear_trend = static_cast<double>(row.hour - seconds_of(train_begin)) / kSecondsPerYear;
  }
  for (int i = 0; i < kNumScaled; ++i) {
    const double x = number_field(record, index, scaled_column_name(i));
    if (i < kNumLags)
      row.lags[i] = x;
    else
      row.rolling[i - kNumLags] = x;
  }

  if (const json* k = find(record, "key")) {
    if (!k->is_string()) bad(index, "key", "expected a string, got " + type_of(*k));
    out.key = k->get<std::string>();
  } else {
    out.key = row_key(row);
  }
  return out;
}

namespace {

// The fields the fast path reads; any other key of a record is ignored.
enum Field : int {
  kServerIP,
  kHourTime,
  kYear,
  kMonth,
  kWeekOfYear,
  kDayOfMonth,
  kHourOfDay,
  kHoliday,
  kBusinessHour,
  kMorning,
  kDayOfWeek,
  kLinearTrend,
  kKey,
  kFirstScaled,
};
constexpr int kNumFields = kFirstScaled + kNumScaled;

// The first min(n, 8) bytes at p as a little-endian word, the rest zero.
uint64_t load_word(const char* p, size_t n) {
  uint64_t w = 0;
  std::memcpy(&w, p, std::min<size_t>(n, 8));
  return w;
}

// Field name -> Field, as a small open-addressing table: a record's keys are
// looked up once each, so the hash reads a few words rather than every byte.
class FieldIds {
 public:
  FieldIds() {
    for (int i = 0; i < kNumScaled; ++i) scaled_[i] = scaled_column_name(i);
    const std::pair<std::string_view, int> fixed[] = {{"ServerIP", kServerIP},
                                                      {"SessionStartHourTime", kHourTime},
                                                      {"year", kYear},
                                                      {"month", kMonth},
                                                      {"weekofyear", kWeekOfYear},
                                                      {"dayofmonth", kDayOfMonth},
                                                      {"hourofday", kHourOfDay},
                                                      {"Holiday", kHoliday},
                                                      {"BusinessHour", kBusinessHour},
                                                      {"Morning", kMorning},
                                                      {"dayofweek", kDayOfWeek},
                                                      {"linearTrend", kLinearTrend},
                                                      {"key", kKey}};
    for (const auto& [name, id] : fixed) insert(name, id);
    for (int i = 0; i < kNumScaled; ++i) insert(scaled_[i], kFirstScaled + i);
  }

  // Whether the key starting at `raw` (the text of a JSON string just past
  // its opening quote, followed by at least 32 readable bytes) is field
  // `id`'s name: four masked words, without looking for the key's end.
  bool is_name_at(const char* raw, int id) const {
    const Padded& name = padded_[id];
    if (name.size == 0) return false;
    uint64_t diff = 0;
    for (size_t w = 0; w < 4; ++w)
      diff |= (load_word(raw + 8 * w, 8) ^ name.words[w]) & name.masks[w];
    return diff == 0 && raw[name.size] == '"';
  }

  // The field's id, or -1 for a key the records do not use.
  int find(std::string_view name) const {
    for (size_t at = hash(name);; at = (at + 1) & (kSlots - 1)) {
      const Slot& slot = slots_[at];
      if (slot.id < 0) return -1;
      if (slot.name == name) return slot.id;
    }
  }

 private:
  static constexpr size_t kSlots = 128;  // a power of two, about 4x the fields
  struct Slot {
    std::string_view name;
    int id = -1;
  };

  // Length, first, middle and last eight bytes: enough to tell the names apart.
  static size_t hash(std::string_view s) {
    const size_t n = s.size();
    uint64_t h = n;
    if (n >= 8) {
      h ^= load_word(s.data(), 8) ^ std::rotl(load_word(s.data() + n / 2 - 4, 8), 21) ^
           std::rotl(load_word(s.data() + n - 8, 8), 42);
    } else {
      h ^= load_word(s.data(), n);
    }
    return static_cast<size_t>((h * 0x9E3779B97F4A7C15ULL) >> 57);  // 7 bits: kSlots
  }
  void insert(std::string_view name, int id) {
    if (name.size() <= 32) {  // every field's is
      Padded& p = padded_[id];
      p.size = name.size();
      char bytes[32] = {};
      std::memcpy(bytes, name.data(), name.size());
      for (size_t w = 0; w < 4; ++w) {
        p.words[w] = load_word(bytes + 8 * w, 8);
        char ones[8] = {};
        for (size_t b = 0; b < 8; ++b) ones[b] = 8 * w + b < name.size() ? '\xff' : '\0';
        p.masks[w] = load_word(ones, 8);
      }
    }
    size_t at = hash(name);
    while (slots_[at].id >= 0) at = (at + 1) & (kSlots - 1);
    slots_[at] = {name, id};
  }

  std::array<std::string, kNumScaled> scaled_;  // owns the scaled names the slots point at
  std::array<Slot, kSlots> slots_{};
  struct Padded {
    size_t size = 0;  // 0: no fast comparison
    uint64_t words[4] = {};
    uint64_t masks[4] = {};
  };
  std::array<Padded, kNumFields> padded_{};
};

const FieldIds& field_ids() {
  static const FieldIds ids;
  return ids;
}

// One record's value of a field the fast path reads, as far as parse_record
// cares: absent (or null), a string, a number (with its integer value when the
// token is an integer that fits int64_t) or a boolean. Trivial, so that a
// record's array of them costs nothing to declare; the members a kind does
// not read stay unset.
struct Given {
  enum Kind : uint8_t { kAbsent, kString, kNumber, kBool };
  Kind kind;
  bool integral;     // kNumber: an integer token within int64_t (then `integer`)
  bool flag;         // kBool
  int64_t integer;   // kNumber, integral
  double number;     // kNumber
  const char* text;  // kString: into the parser's string buffer
  size_t text_size;
  std::string_view string() const { return {text, text_size}; }
};

namespace ondemand = simdjson::ondemand;

// Reads any JSON value to its end, checking it as nlohmann would (simdjson
// On Demand checks only what is read): the fast path accepts no body
// nlohmann refuses. False on an error or nesting deeper than `depth`.
bool consume(ondemand::value value, int depth) {
  ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return false;
  switch (type) {
    case ondemand::json_type::array: {
      ondemand::array array;
      if (depth == 0 || value.get_array().get(array) != simdjson::SUCCESS) return false;
      for (auto element : array) {
        ondemand::value v;
        if (std::move(element).get(v) != simdjson::SUCCESS || !consume(v, depth - 1)) return false;
      }
      return true;
    }
    case ondemand::json_type::object: {
      ondemand::object object;
      if (depth == 0 || value.get_object().get(object) != simdjson::SUCCESS) return false;
      for (auto member : object) {
        ondemand::field field;
        std::string_view key;
        if (std::move(member).get(field) != simdjson::SUCCESS ||
            field.unescaped_key().get(key) != simdjson::SUCCESS ||
            !consume(field.value(), depth - 1))
          return false;
      }
      return true;
    }
    case ondemand::json_type::number: {
      double x;
      return value.get_double().get(x) == simdjson::SUCCESS;
    }
    case ondemand::json_type::string: {
      std::string_view text;
      return value.get_string().get(text) == simdjson::SUCCESS;
    }
    case ondemand::json_type::boolean: {
      bool b;
      return value.get_bool().get(b) == simdjson::SUCCESS;
    }
    case ondemand::json_type::null: {
      bool null = false;
      return value.is_null().get(null) == simdjson::SUCCESS && null;
    }
  }
  return false;
}

// Reads a known field's value; false on anything parse_record might refuse
// or read differently (the caller then declines the body).
bool read_given(ondemand::value value, Given& out) {
  ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return false;
  out.kind = Given::kAbsent;
  switch (type) {
    case ondemand::json_type::null: {
      bool null = false;
      return value.is_null().get(null) == simdjson::SUCCESS && null;  // "not given"
    }
    case ondemand::json_type::string: {
      out.kind = Given::kString;
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) return false;
      out.text = text.data();
      out.text_size = text.size();
      return true;
    }
    case ondemand::json_type::boolean:
      out.kind = Given::kBool;
      return value.get_bool().get(out.flag) == simdjson::SUCCESS;
    case ondemand::json_type::number: {
      out.kind = Given::kNumber;
      out.integral = false;
      // simdjson 3.0.1's On Demand misreads many numbers of 19 or more
      // significant digits (0.1000000000000000055511151231257827 reads as
      // 0): those take the checked path. Shorter ones read as strtod does
      // (a double needs at most 17).
      const std::string_view token = value.raw_json_token();  // may end in whitespace
      if (token.size() > 18) {                                // else it cannot hold 19 digits
        int significant = 0;
        for (const char c : token) {
          if (c == 'e' || c == 'E') break;
          if (c < '0' || c > '9' || (c == '0' && significant == 0))
            continue;  // sign, point, leading zeros
          ++significant;
        }
        if (significant > 18) return false;
      }
      ondemand::number number;
      if (value.get_number().get(number) != simdjson::SUCCESS) return false;
      if (number.is_int64()) {
        out.integer = number.get_int64();
        out.integral = true;
        out.number = static_cast<double>(out.integer);  // as nlohmann's get<double>() of an integer
        return true;
      }
      // Integers past int64_t are nlohmann's unsigned ones; they take the checked path.
      if (!number.is_double()) return false;
      out.number = number.get_double();
      return true;
    }
    default:
      return false;  // an array or object where parse_record wants a scalar
  }
}

// The field ids of the previous record's keys, position by position: clients
// send their records alike, so the key at each position is first compared
// with the name seen there before, without looking for its end or hashing.
struct KeyOrder {
  static constexpr size_t kPositions = 64;
  std::array<int, kPositions> ids;
  KeyOrder() { ids.fill(-1); }
};

// The id of an object member's key (-1: not a field of the records), without
// a copy when the key has no escapes; false on a malformed key.
bool member_id(ondemand::field& field, size_t position, KeyOrder& order, int& id) {
  const FieldIds& ids = field_ids();
  // Just past the opening quote; a key is followed by at least `:0}]` and
  // the SIMDJSON_PADDING bytes, so 32 bytes from here are readable.
  const char* raw = field.key().raw();
  if (position < KeyOrder::kPositions && order.ids[position] >= 0 &&
      ids.is_name_at(raw, order.ids[position])) {
    id = order.ids[position];
    return true;
  }
  size_t n = 0;
  while (raw[n] != '"' && raw[n] != '\\') ++n;  // stage 1 checked that the string ends
  std::string_view key(raw, n);
  if (raw[n] != '"' && field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
  id = ids.find(key);
  if (position < KeyOrder::kPositions) order.ids[position] = id;
  return true;
}

// A calendar field as int_field reads it, or nullopt where int_field throws.
inline std::optional<int> fast_int(const Given& v, int lo, int hi, bool allow_bool) {
  double x;
  if (allow_bool && v.kind == Given::kBool) {
    x = v.flag ? 1 : 0;
  } else if (v.kind == Given::kNumber) {
    x = v.number;
  } else {
    return std::nullopt;
  }
  if (!(x >= lo && x <= hi) || x != std::floor(x)) return std::nullopt;
  return static_cast<int>(x);
}

// parse_record on a record read by simdjson; nullopt wherever parse_record
// throws. Duplicate keys keep the last value, as nlohmann does.
std::optional<ParsedRecord> fast_record(ondemand::value element, TimeNs train_begin, bool keys,
                                        KeyOrder& order) {
  ondemand::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  static_assert(kNumFields <= 64);
  std::array<Given, kNumFields> given;  // set where `present` has the field's bit
  uint64_t present = 0;
  size_t position = 0;
  for (auto member : object) {
    ondemand::field field;
    int id = -1;
    if (std::move(member).get(field) != simdjson::SUCCESS ||
        !member_id(field, position++, order, id))
      return std::nullopt;
    if (id < 0) {
      if (!consume(field.value(), 16)) return std::nullopt;  // ignored, but it must be JSON
      continue;
    }
    if (!read_given(field.value(), given[id])) return std::nullopt;
    const uint64_t bit = uint64_t{1} << id;
    present = given[id].kind == Given::kAbsent ? present & ~bit : present | bit;  // null: not given
  }
  const auto has = [&](int field) { return ((present >> field) & 1) != 0; };
  const auto is = [&](int field, Given::Kind kind) {
    return has(field) && given[field].kind == kind;
  };

  ParsedRecord out;
  FeatureRow& row = out.row;
  if (!is(kServerIP, Given::kString) || given[kServerIP].text_size == 0) return std::nullopt;
  row.server_ip = given[kServerIP].string();

  const Given& hour = given[kHourTime];
  int64_t seconds;
  if (is(kHourTime, Given::kString)) {
    const auto t = parse_timestamp(hour.string());
    if (!t || *t % kNanosPerSecond != 0) return std::nullopt;
    seconds = seconds_of(*t);
  } else if (is(kHourTime, Given::kNumber) && hour.integral) {
    constexpr int64_t kLimit = 9'000'000'000'000;
    const int64_t ms = hour.integer;
    if (ms < -kLimit || ms > kLimit || ms % 1000 != 0) return std::nullopt;
    seconds = ms / 1000;
  } else {
    return std::nullopt;
  }
  if (seconds % kSecondsPerHour != 0) return std::nullopt;
  row.hour = seconds;

  Calendar& c = row.calendar;
  bool complete = true;
  for (int f = kYear; f <= kDayOfWeek; ++f) complete = complete && has(f);
  if (!complete) c = calendar_of_hour(row.hour);
  struct IntField {
    int field, lo, hi;
    int Calendar::*member;
  };
  static constexpr IntField kInts[] = {{kYear, 1, 9999, &Calendar::year},
                                       {kMonth, 1, 12, &Calendar::month},
                                       {kWeekOfYear, 1, 53, &Calendar::weekofyear},
                                       {kDayOfMonth, 1, 31, &Calendar::dayofmonth},
                                       {kHourOfDay, 0, 23, &Calendar::hourofday}};
  for (const IntField& f : kInts) {
    if (!has(f.field)) continue;
    const auto v = fast_int(given[f.field], f.lo, f.hi, false);
    if (!v) return std::nullopt;
    c.*f.member = *v;
  }
  const std::pair<int, bool Calendar::*> kFlags[] = {{kHoliday, &Calendar::holiday},
                                                     {kBusinessHour, &Calendar::business_hour},
                                                     {kMorning, &Calendar::morning}};
  for (const auto& [field, member] : kFlags) {
    if (!has(field)) continue;
    const auto v = fast_int(given[field], 0, 1, true);
    if (!v) return std::nullopt;
    c.*member = *v;
  }
  if (has(kDayOfWeek)) {
    if (given[kDayOfWeek].kind != Given::kString) return std::nullopt;
    const int day = weekday_of_name(given[kDayOfWeek].string());
    if (day < 0) return std::nullopt;
    c.dayofweek = day;
  }

  const auto number = [&](int field, double& x) {
    const Given& v = given[field];
    if (!has(field)) {
      x = 0.0;
      return true;
    }
    if (v.kind != Given::kNumber) return false;
    x = v.number;
    return std::isfinite(x);
  };
  if (has(kLinearTrend)) {
    if (!number(kLinearTrend, row.linear_trend)) return std::nullopt;
  } else {
    row.linear_trend = static_cast<double>(row.hour - seconds_of(train_begin)) / kSecondsPerYear;
  }
  for (int i = 0; i < kNumScaled; ++i) {
    double& x = i < kNumLags ? row.lags[i] : row.rolling[i - kNumLags];
    if (!number(kFirstScaled + i, x)) return std::nullopt;
  }

  if (has(kKey)) {
    if (given[kKey].kind != Given::kString) return std::nullopt;
    if (keys) out.key = given[kKey].string();
  } else if (keys) {
    out.key = row_key(row);
  }
  return out;
}

}  // namespace

std::optional<std::vector<ParsedRecord>> parse_records_fast(std::string_view body,
                                                            TimeNs train_begin, size_t limit,
                                                            bool keys) {
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: a padded copy,
  // in a buffer each thread keeps, as it keeps its parser.
  thread_local ondemand::parser parser;
  thread_local std::string padded;
  if (padded.size() < body.size() + simdjson::SIMDJSON_PADDING)
    padded.resize(body.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(padded.data(), body.data(), body.size());
  std::memset(padded.data() + body.size(), 0, simdjson::SIMDJSON_PADDING);

  ondemand::document doc;
  if (parser.iterate(padded.data(), body.size(), padded.size()).get(doc) != simdjson::SUCCESS)
    return std::nullopt;
  ondemand::array array;
  if (doc.get_array().get(array) != simdjson::SUCCESS) return std::nullopt;
  std::vector<ParsedRecord> records;
  records.reserve(std::min<size_t>(limit, 1 + body.size() / 256));
  KeyOrder order;
  for (auto element : array) {
    ondemand::value value;
    if (std::move(element).get(value) != simdjson::SUCCESS || records.size() == limit)
      return std::nullopt;
    auto record = fast_record(value, train_begin, keys, order);
    if (!record) return std::nullopt;
    records.push_back(std::move(*record));
  }
  // Nothing may follow the array: the location past it is out of bounds.
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS) return std::nullopt;
  return records;
}

json record_of(const FeatureRow& row, bool with_trend) {
  json r = json::object();
  r["key"] = row_key(row);
  r["ServerIP"] = row.server_ip;
  r["SessionStartHourTime"] = format_timestamp(row.hour);
  const Calendar& c = row.calendar;
  r["year"] = c.year;
  r["month"] = c.month;
  r["weekofyear"] = c.weekofyear;
  r["dayofmonth"] = c.dayofmonth;
  r["hourofday"] = c.hourofday;
  r["dayofweek"] = std::string(weekday_name(c.dayofweek));
  r["Holiday"] = c.holiday ? 1 : 0;
  r["BusinessHour"] = c.business_hour ? 1 : 0;
  r["Morning"] = c.morning ? 1 : 0;
  if (with_trend) r["linearTrend"] = row.linear_trend;
  for (int i = 0; i < kNumScaled; ++i) r[scaled_column_name(i)] = scaled_value(row, i);
  return r;
}

}  // namespace loadcast::serve
