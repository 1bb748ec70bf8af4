#include "features/schema.h"

#include <charconv>
#include <cstring>
#include <type_traits>
#include <vector>

#include "common/error.h"
#include "common/number.h"
#include "common/time.h"

namespace loadcast {

namespace {

constexpr std::string_view kPeakPrefix = "peak";
constexpr std::string_view kLagInfix = "Lag";
constexpr std::string_view kRollingSuffix = "DailyLag2Win7";
constexpr std::string_view kDailySuffix = "Daily";

std::string peak_name(int measure) {
  return std::string(kPeakPrefix) + std::string(kMeasureNames[measure]);
}

std::string lag_name(int hours) {
  return peak_name(0) + std::string(kLagInfix) + std::to_string(hours);
}

}  // namespace

FeatureRowPasses passes_over(std::span<const FeatureRow> rows) {
  return [rows](const FeatureRowVisitor& visit) {
    for (const FeatureRow& row : rows) visit(row);
  };
}

std::string_view weekday_name(int dayofweek) {
  static constexpr std::string_view kNames[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                 "Friday", "Saturday", "Sunday"};
  return kNames[dayofweek];
}

int weekday_of_name(std::string_view name) {
  for (int d = 0; d < 7; ++d)
    if (weekday_name(d) == name) return d;  // the usual spelling, without case folding
  for (int d = 0; d < 7; ++d) {
    const std::string_view day = weekday_name(d);
    if (day.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < day.size() && same; ++i) {
      const auto lower = [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
      };
      same = lower(day[i]) == lower(name[i]);
    }
    if (same) return d;
  }
  return -1;
}

FeatureSchema::FeatureSchema(std::vector<int> lags) : lags_(std::move(lags)) {
  if (lags_.size() > static_cast<size_t>(kMaxLags))
    fail_internal("a feature schema holds at most " + std::to_string(kMaxLags) + " lags");
  using R = ColumnRole;
  using T = ColumnType;
  using U = RequestUse;
  const auto add = [&](FeatureColumn c) { columns_.push_back(std::move(c)); };
  add({"key", R::kKey, T::kText, 0, U::kDerived, 0, 0, -1, -1,
       "`<ServerIP>_<SessionStartHourTime>`; optional in a request, echoed by /v1/predict"});
  add({"ServerIP", R::kServer, T::kText, 0, U::kRequired, 0, 0, 1, -1,
       "the server, as written in the logs"});
  add({"SessionStartHourTime", R::kHour, T::kTimestamp, 0, U::kRequired, 0, 0, -1, -1,
       "the hour, `YYYY-MM-DD HH:00:00` UTC (in a request also epoch milliseconds)"});
  for (int m = 0; m < kNumMeasures; ++m)
    add({peak_name(m), R::kPeak, T::kReal, m, U::kNone, 0, 0, -1, -1,
         m == 0 ? "the hour's peak five-minute load: the largest sum of TotalLoad over the hour's "
                  "five-minute buckets (ties: the earliest)"
                : "that peak bucket's sum of " + std::string(kMeasureFieldNames[m])});
  add({"numSessions", R::kSessions, T::kInteger, 0, U::kNone, 0, 0, -1, -1,
       "accepted sessions in the hour"});
  struct CalendarColumn {
    const char* name;
    CalendarField field;
    ColumnType type;
    int lo, hi, categorical;
    const char* description;
  };
  const CalendarColumn calendar[] = {
      {"year", kYear, T::kInteger, 1, 9999, 2, "UTC year"},
      {"month", kMonth, T::kInteger, 1, 12, 3, "1 to 12"},
      {"weekofyear", kWeekOfYear, T::kInteger, 1, 53, 4, "ISO 8601 week"},
      {"dayofmonth", kDayOfMonth, T::kInteger, 1, 31, 5, "1 to 31"},
      {"hourofday", kHourOfDay, T::kInteger, 0, 23, 6, "0 to 23"},
      {"dayofweek", kDayOfWeek, T::kWeekday, 0, 6, 0, "Monday to Sunday"},
      {"Holiday", kHoliday, T::kFlag, 0, 1, 7,
       "1 on US federal holidays (observed dates, as pandas' USFederalHolidayCalendar)"},
      {"BusinessHour", kBusinessHour, T::kFlag, 0, 1, 8, "1 when 8 <= hourofday <= 18"},
      {"Morning", kMorning, T::kFlag, 0, 1, 9, "1 when 6 <= hourofday <= 9"},
  };
  for (const CalendarColumn& c : calendar)
    add({c.name, R::kCalendar, c.type, c.field, U::kDerived, c.lo, c.hi, c.categorical, -1,
         c.description});
  add({"linearTrend", R::kTrend, T::kReal, 0, U::kDerived, 0, 0, -1, -1,
       "(hour - trainBegin) in years of 365.25 days"});
  for (int l = 0; l < num_lags(); ++l) {
    if (lags_[static_cast<size_t>(l)] < 1) fail_internal("a lag must be at least one hour");
    add({lag_name(lags_[static_cast<size_t>(l)]), R::kLag, T::kReal, l, U::kZero, 0, 0, -1, -1,
         peak_name(0) + " of the same server " + std::to_string(lags_[static_cast<size_t>(l)]) +
             " hours earlier, 0 outside its grid"});
  }
  for (int m = 0; m < kNumMeasures; ++m)
    add({peak_name(m) + std::string(kRollingSuffix), R::kRolling, T::kReal, m, U::kZero, 0, 0, -1,
         -1,
         "mean of the server's daily means of " + peak_name(m) + " over days d-" +
             std::to_string(kRollingFirstDayBack) + " to d-" + std::to_string(kRollingLastDayBack) +
             " of the row's day d (the days present; none: 0)"});
  add({"label", R::kLabel, T::kInteger, 0, U::kNone, 0, 0, -1, -1,
       "1 (low) when peakLoad <= lowThreshold, 2 (medium) when <= highThreshold, else 3 (high)"});

  // Encoding order and the scaled features.
  for (int order = 0;; ++order) {
    int found = -1;
    for (int i = 0; i < num_columns(); ++i)
      if (columns_[static_cast<size_t>(i)].categorical == order) found = i;
    if (found < 0) break;
    categorical_.push_back(found);
  }
  for (int i = 0; i < num_columns(); ++i) {
    FeatureColumn& c = columns_[static_cast<size_t>(i)];
    if (c.role == R::kLag || c.role == R::kRolling) {
      c.scaled = num_scaled();
      scaled_.push_back(i);
    }
  }

  // The stores: the hourly peaks as the feature table names them; the daily
  // means of each measure.
  for (const FeatureColumn& c : columns_)
    if (c.role == R::kServer || c.role == R::kHour || c.role == R::kPeak || c.role == R::kSessions)
      hourly_names_.push_back(c.name);
  daily_names_ = {of(R::kServer).name, "SessionStartDay"};
  for (int m = 0; m < kNumMeasures; ++m)
    daily_names_.push_back(peak_name(m) + std::string(kDailySuffix));
}

int FeatureSchema::find(std::string_view name) const {
  for (int i = 0; i < num_columns(); ++i)
    if (columns_[static_cast<size_t>(i)].name == name) return i;
  return -1;
}

const FeatureColumn& FeatureSchema::of(ColumnRole role) const {
  for (const FeatureColumn& c : columns_)
    if (c.role == role) return c;
  fail_internal("the feature schema has no column of this role");
}

namespace {

// Calls f on the member of `row` that holds `column` (a double, an integer
// or a flag) and returns what f returns.
template <class Row, class F>
decltype(auto) with_field(Row& row, const FeatureColumn& column, F&& f) {
  const size_t i = static_cast<size_t>(column.index);
  switch (column.role) {
    case ColumnRole::kPeak:
      return f(row.current.peak[i]);
    case ColumnRole::kSessions:
      return f(row.current.sessions);
    case ColumnRole::kTrend:
      return f(row.linear_trend);
    case ColumnRole::kLag:
      return f(row.lags[i]);
    case ColumnRole::kRolling:
      return f(row.rolling[i]);
    case ColumnRole::kLabel:
      return f(row.label);
    case ColumnRole::kCalendar:
      switch (column.index) {
        case kYear:
          return f(row.calendar.year);
        case kMonth:
          return f(row.calendar.month);
        case kWeekOfYear:
          return f(row.calendar.weekofyear);
        case kDayOfMonth:
          return f(row.calendar.dayofmonth);
        case kHourOfDay:
          return f(row.calendar.hourofday);
        case kDayOfWeek:
          return f(row.calendar.dayofweek);
        case kHoliday:
          return f(row.calendar.holiday);
        case kBusinessHour:
          return f(row.calendar.business_hour);
        case kMorning:
          return f(row.calendar.morning);
        default:
          break;
      }
      break;
    default:
      break;
  }
  fail_internal("column '" + column.name + "' has no number");
}

}  // namespace

double FeatureSchema::number(const FeatureRow& row, const FeatureColumn& column) {
  return with_field(row, column, [](const auto& field) { return static_cast<double>(field); });
}

void FeatureSchema::set_number(FeatureRow& row, const FeatureColumn& column, double v) {
  with_field(row, column, [v](auto& field) {
    using T = std::remove_reference_t<decltype(field)>;
    if constexpr (std::is_same_v<T, bool>) {
      field = v != 0;
    } else {
      field = static_cast<T>(v);
    }
  });
}

std::string FeatureSchema::categorical_value(const FeatureRow& row, int c) const {
  const FeatureColumn& column = columns_[static_cast<size_t>(categorical_[static_cast<size_t>(c)])];
  switch (column.type) {
    case ColumnType::kText:
      return row.server_ip;
    case ColumnType::kWeekday:
      return std::string(weekday_name(row.calendar.dayofweek));
    case ColumnType::kFlag:
      return number(row, column) != 0 ? "1" : "0";
    default:
      return std::to_string(static_cast<int64_t>(number(row, column)));
  }
}

std::vector<std::string> FeatureSchema::names() const {
  std::vector<std::string> out;
  for (const FeatureColumn& c : columns_) out.push_back(c.name);
  return out;
}

void FeatureSchema::append_csv(std::string& out, const FeatureRow& row) const {
  // The row is put together in one buffer and appended at once: a table has
  // millions of cells, and a string's append costs more than a cell's digits.
  // A cell and its comma take at most kMaxDoubleChars + 1 (a weekday name,
  // an integer and a flag take fewer), but for the server's and hour's texts.
  const size_t most =
      (columns_.size() + 1) * (kMaxDoubleChars + 1) + 2 * (row.server_ip.size() + kTimestampChars);
  thread_local std::vector<char> buffer;
  if (buffer.size() < most) buffer.resize(most);
  char when[kTimestampChars];
  put_timestamp(when, row.hour);
  char* p = buffer.data();
  const auto put = [&p](std::string_view text) {
    std::memcpy(p, text.data(), text.size());
    p += text.size();
  };
  for (const FeatureColumn& c : columns_) {
    switch (c.role) {
      case ColumnRole::kKey:
        put(row.server_ip);
        *p++ = '_';
        put({when, kTimestampChars});
        break;
      case ColumnRole::kServer:
        put(row.server_ip);
        break;
      case ColumnRole::kHour:
        put({when, kTimestampChars});
        break;
      default:
        switch (c.type) {
          case ColumnType::kReal:
            p = put_double(p, number(row, c));
            break;
          case ColumnType::kWeekday:
            put(weekday_name(row.calendar.dayofweek));
            break;
          case ColumnType::kFlag:
            *p++ = number(row, c) != 0 ? '1' : '0';
            break;
          default:
            p = put_int(p, c.role == ColumnRole::kSessions ? row.current.sessions
                                                           : static_cast<int64_t>(number(row, c)));
            break;
        }
    }
    *p++ = ',';
  }
  if (p == buffer.data()) ++p;  // no columns: the row is its newline
  p[-1] = '\n';
  out.append(buffer.data(), p);
}

bool FeatureSchema::read_cell(std::string_view text, FeatureRow& row, const FeatureColumn& c) {
  switch (c.role) {
    case ColumnRole::kKey:
      return true;
    case ColumnRole::kServer:
      row.server_ip = std::string(text);
      return true;
    case ColumnRole::kHour: {
      const auto t = parse_timestamp(text);
      if (!t) return false;
      row.hour = seconds_of(*t);
      return true;
    }
    default:
      break;
  }
  if (c.type == ColumnType::kWeekday) {
    const int day = weekday_of_name(text);
    if (day < 0) return false;
    row.calendar.dayofweek = day;
    return true;
  }
  const auto v = parse_decimal(text);
  if (!v) return false;
  set_number(row, c, *v);
  return true;
}

std::optional<FeatureSchema> FeatureSchema::from_scaled_names(
    const std::vector<std::string>& names) {
  const std::string lag_prefix = peak_name(0) + std::string(kLagInfix);
  std::vector<int> lags;
  for (const std::string& name : names) {
    if (!name.starts_with(lag_prefix)) break;
    int hours = 0;
    const char* first = name.data() + lag_prefix.size();
    const char* last = name.data() + name.size();
    const auto [end, ec] = std::from_chars(first, last, hours);
    if (ec != std::errc() || end != last || hours < 1) return std::nullopt;
    lags.push_back(hours);
  }
  if (lags.size() > static_cast<size_t>(kMaxLags)) return std::nullopt;
  FeatureSchema schema(lags);
  std::vector<std::string> expected;
  expected.reserve(static_cast<size_t>(schema.num_scaled()));
  for (int s = 0; s < schema.num_scaled(); ++s) expected.push_back(schema.scaled_name(s));
  if (expected != names) return std::nullopt;
  return schema;
}

const FeatureSchema& default_feature_schema() {
  static const FeatureSchema schema;
  return schema;
}

std::string row_key(const FeatureRow& row) {
  return row.server_ip + "_" + format_timestamp(row.hour);
}

}  // namespace loadcast
