#include "serve/mlflow.h"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <string>

#include "common/number.h"

namespace loadcast::serve {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 4> kShapes = {"dataframe_split", "dataframe_records",
                                                     "instances", "inputs"};

std::string shape_list() {
  std::string out;
  for (size_t i = 0; i < kShapes.size(); ++i) {
    out += i == 0 ? "" : (i + 1 == kShapes.size() ? " or " : ", ");
    out += kShapes[i];
  }
  return out;
}

[[noreturn]] void bad(const std::string& what) { throw RequestError(400, what); }

// The records of columns and rows of values, row by row: dataframe_split's
// `data`, or the columns of `instances`/`inputs` turned into rows.
template <typename ValueOf>
std::vector<ParsedRecord> rows_of_columns(const std::vector<std::string>& names, size_t rows,
                                          const ValueOf& value_of, const FeatureSchema& schema,
                                          TimeNs train_begin) {
  std::vector<ParsedRecord> records;
  records.reserve(rows);
  for (size_t i = 0; i < rows; ++i) {
    json record = json::object();
    for (size_t c = 0; c < names.size(); ++c) record[names[c]] = value_of(i, c);
    records.push_back(parse_record(record, i, schema, train_begin));
  }
  return records;
}

std::vector<ParsedRecord> split_records(const json& split, const FeatureSchema& schema,
                                        TimeNs train_begin, size_t limit) {
  if (!split.is_object())
    bad("dataframe_split: expected an object, got " + std::string(split.type_name()));
  const auto columns = split.find("columns");
  const auto data = split.find("data");
  if (columns == split.end() || !columns->is_array())
    bad("dataframe_split.columns: expected an array of column names");
  if (data == split.end() || !data->is_array())
    bad("dataframe_split.data: expected an array of rows");
  std::vector<std::string> names;
  for (size_t c = 0; c < columns->size(); ++c) {
    if (!(*columns)[c].is_string())
      bad("dataframe_split.columns[" + std::to_string(c) + "]: expected a string");
    names.push_back((*columns)[c].get<std::string>());
  }
  check_record_count(data->size(), limit);
  // pandas' to_json(orient='split') also writes the index; the answer keeps
  // the rows' order, so it only has to fit.
  if (const auto index = split.find("index"); index != split.end()) {
    if (!index->is_array() || index->size() != data->size())
      bad("dataframe_split.index: expected an array of " + std::to_string(data->size()) +
          " labels, one per row of data");
  }
  for (size_t i = 0; i < data->size(); ++i) {
    const json& values = (*data)[i];
    if (!values.is_array() || values.size() != names.size())
      bad("record " + std::to_string(i) + ": dataframe_split.data[" + std::to_string(i) +
          "] must be an array of " + std::to_string(names.size()) + " values");
  }
  return rows_of_columns(
      names, data->size(), [&](size_t i, size_t c) -> const json& { return (*data)[i][c]; }, schema,
      train_begin);
}

// `{"column": [values...], ...}`: every column as long as the first.
std::vector<ParsedRecord> column_records(const json& columns, std::string_view key,
                                         const FeatureSchema& schema, TimeNs train_begin,
                                         size_t limit) {
  std::vector<std::string> names;
  std::vector<const json*> values;
  for (const auto& [name, column] : columns.items()) {
    if (!column.is_array())
      bad(std::string(key) + "." + name + ": expected an array of values, got " +
          column.type_name());
    if (!values.empty() && column.size() != values.front()->size())
      bad(std::string(key) + "." + name + ": " + std::to_string(column.size()) + " values, but " +
          names.front() + " has " + std::to_string(values.front()->size()));
    names.push_back(name);
    values.push_back(&column);
  }
  const size_t rows = values.empty() ? 0 : values.front()->size();
  check_record_count(rows, limit);
  return rows_of_columns(
      names, rows, [&](size_t i, size_t c) -> const json& { return (*values[c])[i]; }, schema,
      train_begin);
}

// One record of a CSV text at a time (RFC 4180: a quoted field may hold
// commas, line breaks and doubled quotes). Blank lines are skipped, as pandas
// skips them.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}

  // The next record's fields; false at the end of the text.
  bool next(std::vector<std::string>& fields) {
    while (at_ < text_.size() && (text_[at_] == '\n' || text_[at_] == '\r')) {
      if (text_[at_] == '\n') ++line_;
      ++at_;
    }
    if (at_ >= text_.size()) return false;
    record_line_ = line_;
    fields.clear();
    while (true) {
      std::string field;
      if (at_ < text_.size() && text_[at_] == '"') {
        ++at_;
        while (true) {
          if (at_ >= text_.size())
            bad("line " + std::to_string(record_line_) + ": a quoted field is not closed");
          const char c = text_[at_++];
          if (c == '"') {
            if (at_ < text_.size() && text_[at_] == '"') {
              field += '"';
              ++at_;
              continue;
            }
            break;
          }
          if (c == '\n') ++line_;
          field += c;
        }
        if (at_ < text_.size() && text_[at_] != ',' && text_[at_] != '\n' && text_[at_] != '\r')
          bad("line " + std::to_string(line_) + ": text after a closing quote");
      } else {
        const size_t end = text_.find_first_of(",\r\n", at_);
        const size_t stop = end == std::string_view::npos ? text_.size() : end;
        field.assign(text_.substr(at_, stop - at_));
        at_ = stop;
      }
      fields.push_back(std::move(field));
      if (at_ < text_.size() && text_[at_] == ',') {
        ++at_;
        continue;
      }
      break;  // the end of the line or of the text
    }
    return true;
  }

  int line() const { return record_line_; }

 private:
  std::string_view text_;
  size_t at_ = 0;
  int line_ = 1;
  int record_line_ = 1;
};

// A CSV cell as the JSON value pandas would have read: text columns stay
// text; elsewhere an integer, a decimal, True/False, or else the text (which
// the record then refuses, naming it). An empty cell is left out.
json cell_value(const std::string& cell, const FeatureColumn& column) {
  if (cell.empty()) return nullptr;
  if (column.type == ColumnType::kText || column.type == ColumnType::kTimestamp ||
      column.type == ColumnType::kWeekday)
    return cell;
  if (cell == "True" || cell == "true") return true;
  if (cell == "False" || cell == "false") return false;
  int64_t integer;
  const char* end = cell.data() + cell.size();
  if (const auto r = std::from_chars(cell.data(), end, integer);
      r.ec == std::errc() && r.ptr == end)
    return integer;
  if (const auto real = parse_decimal(cell)) return *real;
  return cell;
}

}  // namespace

std::vector<ParsedRecord> mlflow_json_records(const json& body, const FeatureSchema& schema,
                                              TimeNs train_begin, size_t limit) {
  if (!body.is_object())
    bad("expected an object with " + shape_list() + ", got " + body.type_name());
  std::string_view shape;
  for (const std::string_view key : kShapes) {
    if (!body.contains(key)) continue;
    if (!shape.empty())
      bad("give one of " + shape_list() + ", not both '" + std::string(shape) + "' and '" +
          std::string(key) + "'");
    shape = key;
  }
  if (shape.empty()) bad("expected an object with " + shape_list());
  const json& value = body.at(shape);
  if (shape == "dataframe_split") return split_records(value, schema, train_begin, limit);
  if (value.is_object() && shape != "dataframe_records")
    return column_records(value, shape, schema, train_begin, limit);
  return parse_records(value, schema, train_begin, limit, shape);
}

std::vector<ParsedRecord> mlflow_csv_records(std::string_view body, const FeatureSchema& schema,
                                             TimeNs train_begin, size_t limit) {
  // JSON bodies are checked by their parser; CSV text must be UTF-8 too, as
  // every record's strings end up in JSON answers and messages.
  if (!simdjson::validate_utf8(body.data(), body.size())) bad("the CSV body is not UTF-8 text");
  CsvReader reader(body);
  std::vector<std::string> header;
  if (!reader.next(header)) bad("the CSV body is empty: expected a header line and rows");
  // Each header name's schema column, -1 for the columns a record ignores
  // (pandas' unnamed index column among them).
  std::vector<int> column_of(header.size(), -1);
  for (size_t c = 0; c < header.size(); ++c) {
    const int at = schema.find(header[c]);
    if (at >= 0 && schema.column(at).request != RequestUse::kNone) column_of[c] = at;
  }
  std::vector<ParsedRecord> records;
  std::vector<std::string> fields;
  size_t rows = 0;
  while (reader.next(fields)) {
    if (fields.size() != header.size())
      bad("line " + std::to_string(reader.line()) + ": " + std::to_string(fields.size()) +
          " fields, but the header has " + std::to_string(header.size()));
    if (++rows > limit) continue;  // counted for the message, not read
    json record = json::object();
    for (size_t c = 0; c < fields.size(); ++c)
      if (column_of[c] >= 0) record[header[c]] = cell_value(fields[c], schema.column(column_of[c]));
    records.push_back(parse_record(record, rows - 1, schema, train_begin));
  }
  check_record_count(rows, limit);
  return records;
}

}  // namespace loadcast::serve
