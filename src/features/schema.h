// The feature record, declared once. Every column of the feature table is
// listed here with its role, its type, whether and within which bounds a
// scoring record may carry it, its place in the encoding, and where it lives
// in a FeatureRow. The table's header, writer and reader, both request
// parsers and their field lookup, record_of, the encoder's categorical and
// scaled columns, the hourly and daily stores' columns and the column table
// of docs/outputs.md all come from a FeatureSchema. Adding a lag is one entry
// of kDefaultHourlyLags; a schema with other lags is a FeatureSchema(lags).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "features/feature_row.h"

namespace loadcast {

// What a column is.
enum class ColumnRole {
  kKey,       // `<ServerIP>_<hour>`, derived from the two
  kServer,    // ServerIP
  kHour,      // SessionStartHourTime
  kPeak,      // the row's own peak of one measure
  kSessions,  // numSessions
  kCalendar,  // a calendar field of the hour
  kTrend,     // linearTrend
  kLag,       // an hourly lag of peakLoad
  kRolling,   // a rolling mean of one measure's daily means
  kLabel,     // the class: 1 low, 2 medium, 3 high
};

// How its values are written.
enum class ColumnType {
  kText,       // as it is
  kTimestamp,  // YYYY-MM-DD HH:MM:SS
  kReal,       // shortest round-trip decimal
  kInteger,
  kWeekday,  // an English day name
  kFlag,     // 0 or 1
};

// The calendar fields, in table order (ColumnRole::kCalendar's index).
enum CalendarField : int {
  kYear,
  kMonth,
  kWeekOfYear,
  kDayOfMonth,
  kHourOfDay,
  kDayOfWeek,
  kHoliday,
  kBusinessHour,
  kMorning,
  kNumCalendarFields
};

// How a scoring record may carry a column.
enum class RequestUse {
  kNone,      // not read (the row's own peaks, the label)
  kRequired,  // ServerIP, SessionStartHourTime
  kDerived,   // optional; derived from the hour when left out (calendar, trend, key)
  kZero,      // optional; 0 when left out (lags, rolling means)
};

struct FeatureColumn {
  std::string name;
  ColumnRole role;
  ColumnType type;
  int index = 0;  // the measure, lag, rolling mean or CalendarField
  RequestUse request = RequestUse::kNone;
  int lo = 0, hi = 0;       // an integer field's bounds in a request
  int categorical = -1;     // position among the encoder's categorical columns
  int scaled = -1;          // position among the scaled numeric features
  std::string description;  // for people (docs/outputs.md)
};

class FeatureSchema {
 public:
  // The feature table with these hourly lags (at most kMaxLags, each >= 1).
  explicit FeatureSchema(std::vector<int> lags = kDefaultHourlyLags);

  const std::vector<FeatureColumn>& columns() const { return columns_; }
  const FeatureColumn& column(int i) const { return columns_[static_cast<size_t>(i)]; }
  int num_columns() const { return static_cast<int>(columns_.size()); }
  // The column named `name`, -1 when there is none.
  int find(std::string_view name) const;
  // The first column of a role (kKey, kServer, kHour, kTrend, kLabel have one).
  const FeatureColumn& of(ColumnRole role) const;

  const std::vector<int>& lags() const { return lags_; }
  int num_lags() const { return static_cast<int>(lags_.size()); }

  // The categorical columns in encoding order (dayofweek, ServerIP, year,
  // ...), as column indices.
  const std::vector<int>& categorical() const { return categorical_; }
  // The scaled numeric features in vector order: the lags, then the rolling
  // means, as column indices.
  const std::vector<int>& scaled() const { return scaled_; }
  int num_scaled() const { return static_cast<int>(scaled_.size()); }

  // A numeric column's value (a weekday's index, a flag's 0/1).
  // REQUIRES: the column is not kText or kTimestamp.
  static double number(const FeatureRow& row, const FeatureColumn& column);
  static void set_number(FeatureRow& row, const FeatureColumn& column, double value);
  // Categorical column `c` (0-based in encoding order) as the indexers see
  // it: the day's name, ServerIP, or an integer without decimals.
  std::string categorical_value(const FeatureRow& row, int c) const;
  double scaled_value(const FeatureRow& row, int s) const {
    return number(row, columns_[static_cast<size_t>(scaled_[static_cast<size_t>(s)])]);
  }
  const std::string& scaled_name(int s) const {
    return columns_[static_cast<size_t>(scaled_[static_cast<size_t>(s)])].name;
  }

  // The column names in table order.
  std::vector<std::string> names() const;
  // The CSV text of a row: the cells in table order, comma-separated, with
  // a newline.
  void append_csv(std::string& out, const FeatureRow& row) const;
  // Reads one cell of `column` into `row`; false when the text is not a
  // value of the column's type. The key is checked by nothing (it follows
  // from ServerIP and the hour).
  static bool read_cell(std::string_view text, FeatureRow& row, const FeatureColumn& column);

  // The schema of a model's feature vector: the lags named by its scaled
  // column names (peakLoadLag<L> ..., then the rolling means); nullopt when
  // the names are not such a list.
  static std::optional<FeatureSchema> from_scaled_names(const std::vector<std::string>& names);

  // The columns of the hourly store (ServerIP, the hour, the peaks,
  // numSessions) and of the daily store (ServerIP, the day, the daily means).
  const std::vector<std::string>& hourly_store_names() const { return hourly_names_; }
  const std::vector<std::string>& daily_store_names() const { return daily_names_; }

 private:
  std::vector<int> lags_;
  std::vector<FeatureColumn> columns_;
  std::vector<int> categorical_;
  std::vector<int> scaled_;
  std::vector<std::string> hourly_names_;
  std::vector<std::string> daily_names_;
};

// The schema of the feature table loadcast writes (kDefaultHourlyLags).
const FeatureSchema& default_feature_schema();

// `<ServerIP>_<YYYY-MM-DD HH:MM:SS>`, the key column's value.
std::string row_key(const FeatureRow& row);

}  // namespace loadcast
