#include "serve/records.h"

#include <array>
#include <cctype>
#include <cmath>
#include <optional>
#include <simdjson.h>
#include <string_view>
#include <unordered_map>

#include "features/calendar.h"

namespace loadcast::serve {
namespace {

using nlohmann::json;

constexpr double kSecondsPerYear = 365.25 * kSecondsPerDay;

[[noreturn]] void bad(size_t index, std::string_view field, const std::string& what) {
  throw RequestError(400, "record " + std::to_string(index) + ", field '" + std::string(field) +
                              "': " + what);
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
std::optional<int> int_field(const json& record, size_t index, std::string_view field, int lo, int hi,
                             bool allow_bool) {
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
    bad(index, field, "value " + v->dump() + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  if (x != std::floor(x)) bad(index, field, "expected an integer, got " + v->dump());
  return static_cast<int>(x);
}

int weekday_of_name(std::string_view name) {
  for (int d = 0; d < 7; ++d) {
    const std::string_view day = weekday_name(d);
    if (day.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < day.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(day[i])) == std::tolower(static_cast<unsigned char>(name[i]));
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
    if (ms < -kLimit || ms > kLimit || ms % 1000 != 0) bad(index, kField, "not a whole hour: " + v->dump());
    seconds = ms / 1000;
  } else {
    bad(index, kField, "expected a timestamp string, got " + type_of(*v));
  }
  if (seconds % kSecondsPerHour != 0) bad(index, kField, "not a whole hour: " + v->dump());
  return seconds;
}

}  // namespace

std::string row_key(const FeatureRow& row) { return row.server_ip + "_" + format_timestamp(row.hour); }

ParsedRecord parse_record(const json& record, size_t index, TimeNs train_begin) {
  if (!record.is_object()) {
    throw RequestError(400, "record " + std::to_string(index) + ": expected an object, got " + type_of(record));
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
  static constexpr std::string_view kCalendarFields[] = {"year",      "month",     "weekofyear",   "dayofmonth", "hourofday",
                                                         "dayofweek", "Holiday",   "BusinessHour", "Morning"};
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
    if (!d->is_string()) bad(index, "dayofweek", "expected a day name (\"Monday\"), got " + type_of(*d));
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
    if (i < kNumLags) row.lags[i] = x;
    else row.rolling[i - kNumLags] = x;
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
  kServerIP, kHourTime, kYear, kMonth, kWeekOfYear, kDayOfMonth, kHourOfDay, kHoliday, kBusinessHour, kMorning,
  kDayOfWeek, kLinearTrend, kKey, kFirstScaled,
};
constexpr int kNumFields = kFirstScaled + kNumScaled;

const std::unordered_map<std::string_view, int>& field_ids() {
  static const auto ids = [] {
    static std::vector<std::string> scaled;  // owns the names the views point at
    for (int i = 0; i < kNumScaled; ++i) scaled.push_back(scaled_column_name(i));
    std::unordered_map<std::string_view, int> m = {
        {"ServerIP", kServerIP},     {"SessionStartHourTime", kHourTime}, {"year", kYear},
        {"month", kMonth},           {"weekofyear", kWeekOfYear},         {"dayofmonth", kDayOfMonth},
        {"hourofday", kHourOfDay},   {"Holiday", kHoliday},               {"BusinessHour", kBusinessHour},
        {"Morning", kMorning},       {"dayofweek", kDayOfWeek},           {"linearTrend", kLinearTrend},
        {"key", kKey}};
    for (int i = 0; i < kNumScaled; ++i) m.emplace(scaled[i], kFirstScaled + i);
    return m;
  }();
  return ids;
}

// A calendar field as int_field reads it, or nullopt where int_field throws.
std::optional<int> fast_int(simdjson::dom::element v, int lo, int hi, bool allow_bool) {
  double x;
  bool b;
  if (allow_bool && v.get_bool().get(b) == simdjson::SUCCESS) {
    x = b ? 1 : 0;
  } else if (v.get_double().get(x) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  if (!(x >= lo && x <= hi) || x != std::floor(x)) return std::nullopt;
  return static_cast<int>(x);
}

// parse_record on a simdjson object; nullopt wherever parse_record throws.
// Duplicate keys keep the last value, as nlohmann does.
std::optional<ParsedRecord> fast_record(simdjson::dom::element element, TimeNs train_begin) {
  simdjson::dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  std::array<simdjson::dom::element, kNumFields> given{};
  std::array<bool, kNumFields> present{};
  const auto& ids = field_ids();
  for (simdjson::dom::key_value_pair kv : object) {
    const auto it = ids.find(kv.key);
    if (it == ids.end()) continue;
    present[it->second] = !kv.value.is_null();  // null means "not given"
    given[it->second] = kv.value;
  }

  ParsedRecord out;
  FeatureRow& row = out.row;
  std::string_view text;
  if (!present[kServerIP] || given[kServerIP].get_string().get(text) != simdjson::SUCCESS || text.empty())
    return std::nullopt;
  row.server_ip = text;

  if (!present[kHourTime]) return std::nullopt;
  int64_t seconds;
  int64_t ms;
  if (given[kHourTime].get_string().get(text) == simdjson::SUCCESS) {
    const auto t = parse_timestamp(text);
    if (!t || *t % kNanosPerSecond != 0) return std::nullopt;
    seconds = seconds_of(*t);
  } else if (given[kHourTime].is_int64() && given[kHourTime].get_int64().get(ms) == simdjson::SUCCESS) {
    constexpr int64_t kLimit = 9'000'000'000'000;
    if (ms < -kLimit || ms > kLimit || ms % 1000 != 0) return std::nullopt;
    seconds = ms / 1000;
  } else {
    return std::nullopt;
  }
  if (seconds % kSecondsPerHour != 0) return std::nullopt;
  row.hour = seconds;

  Calendar& c = row.calendar;
  bool complete = true;
  for (int f = kYear; f <= kDayOfWeek; ++f) complete = complete && present[f];
  if (!complete) c = calendar_of_hour(row.hour);
  struct IntField {
    int field, lo, hi;
    bool allow_bool;
    int Calendar::*member;
  };
  static constexpr IntField kInts[] = {
      {kYear, 1, 9999, false, &Calendar::year},          {kMonth, 1, 12, false, &Calendar::month},
      {kWeekOfYear, 1, 53, false, &Calendar::weekofyear}, {kDayOfMonth, 1, 31, false, &Calendar::dayofmonth},
      {kHourOfDay, 0, 23, false, &Calendar::hourofday}};
  for (const IntField& f : kInts) {
    if (!present[f.field]) continue;
    const auto v = fast_int(given[f.field], f.lo, f.hi, f.allow_bool);
    if (!v) return std::nullopt;
    c.*f.member = *v;
  }
  const std::pair<int, bool Calendar::*> kFlags[] = {
      {kHoliday, &Calendar::holiday}, {kBusinessHour, &Calendar::business_hour}, {kMorning, &Calendar::morning}};
  for (const auto& [field, member] : kFlags) {
    if (!present[field]) continue;
    const auto v = fast_int(given[field], 0, 1, true);
    if (!v) return std::nullopt;
    c.*member = *v;
  }
  if (present[kDayOfWeek]) {
    if (given[kDayOfWeek].get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
    const int day = weekday_of_name(text);
    if (day < 0) return std::nullopt;
    c.dayofweek = day;
  }

  const auto number = [&](int field, double& x) {
    if (!present[field]) {
      x = 0.0;
      return true;
    }
    return given[field].get_double().get(x) == simdjson::SUCCESS && std::isfinite(x);
  };
  if (present[kLinearTrend]) {
    if (!number(kLinearTrend, row.linear_trend)) return std::nullopt;
  } else {
    row.linear_trend = static_cast<double>(row.hour - seconds_of(train_begin)) / kSecondsPerYear;
  }
  for (int i = 0; i < kNumScaled; ++i) {
    double& x = i < kNumLags ? row.lags[i] : row.rolling[i - kNumLags];
    if (!number(kFirstScaled + i, x)) return std::nullopt;
  }

  if (present[kKey]) {
    if (given[kKey].get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
    out.key = text;
  } else {
    out.key = row_key(row);
  }
  return out;
}

}  // namespace

std::optional<std::vector<ParsedRecord>> parse_records_fast(std::string_view body, TimeNs train_begin,
                                                            size_t limit) {
  // Shallow enough that the service's own nesting limit (64) never applies to
  // a body this path accepts; deeper bodies take the checked path.
  constexpr size_t kMaxDepth = 32;
  thread_local simdjson::dom::parser parser;
  if (parser.max_depth() != kMaxDepth || parser.capacity() < body.size()) {
    if (parser.allocate(std::max<size_t>(body.size(), 1 << 16), kMaxDepth) != simdjson::SUCCESS) return std::nullopt;
  }
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::array array;
  if (root.get_array().get(array) != simdjson::SUCCESS) return std::nullopt;
  if (array.size() > limit) return std::nullopt;
  std::vector<ParsedRecord> records;
  records.reserve(array.size());
  for (simdjson::dom::element element : array) {
    auto record = fast_record(element, train_begin);
    if (!record) return std::nullopt;
    records.push_back(std::move(*record));
  }
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
