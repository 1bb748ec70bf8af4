#include "serve/records.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "features/calendar.h"
#include "features/engine.h"

namespace loadcast::serve {
namespace {

using nlohmann::json;

// A record's fields fit a 64-bit mask of given columns.
constexpr int kMaxColumns = 64;

// Epoch milliseconds a SessionStartHourTime may be: about the years
// 1685..2255, what TimeNs holds.
constexpr int64_t kMillisecondLimit = 9'000'000'000'000;

// One record's value of a field, as either parser read it: absent (or null),
// a string, a number (with its integer value when the token is an integer
// that fits int64_t), a boolean, or anything else. `source` is the checked
// parser's value, for the messages; the fast parser has none and declines a
// record whose message would need it. Trivial, so that a record's array of
// them costs nothing to declare; the members a kind does not read stay unset.
struct Given {
  enum Kind : uint8_t { kAbsent, kString, kNumber, kBool, kOther };
  Kind kind;
  bool integral;     // kNumber: an integer token within int64_t (then `integer`)
  bool flag;         // kBool
  int64_t integer;   // kNumber, integral
  double number;     // kNumber
  const char* text;  // kString
  size_t text_size;
  const json* source;
  std::string_view string() const { return {text, text_size}; }
};

// The fields of one record, by schema column; bit c of `present` says
// column c was given (not null).
struct GivenFields {
  std::array<Given, kMaxColumns> field;
  uint64_t present = 0;
  bool has(int column) const { return ((present >> column) & 1) != 0; }
};

[[noreturn]] void bad(size_t index, std::string_view field, const std::string& what) {
  throw RequestError(
      400, "record " + std::to_string(index) + ", field '" + std::string(field) + "': " + what);
}

std::string type_of(const Given& v) {
  switch (v.kind) {
    case Given::kString:
      return "string";
    case Given::kNumber:
      return "number";
    case Given::kBool:
      return "boolean";
    default:
      return v.source ? v.source->type_name() : "value";
  }
}

std::string shown(const Given& v) { return v.source ? v.source->dump() : std::string(); }

double number_field(const Given& v, size_t index, std::string_view field) {
  if (v.kind != Given::kNumber) bad(index, field, "expected a number, got " + type_of(v));
  if (!std::isfinite(v.number)) bad(index, field, "not a finite number");
  return v.number;
}

// An integer field in [lo, hi]; pandas may send integral floats, and flags
// may be booleans.
int int_field(const Given& v, size_t index, const FeatureColumn& column) {
  double x;
  if (v.kind == Given::kBool && column.type == ColumnType::kFlag) {
    x = v.flag ? 1 : 0;
  } else if (v.kind == Given::kNumber) {
    x = v.number;
  } else {
    bad(index, column.name, "expected an integer, got " + type_of(v));
  }
  if (!(x >= column.lo && x <= column.hi))
    bad(index, column.name,
        "value " + shown(v) + " is outside " + std::to_string(column.lo) + ".." +
            std::to_string(column.hi));
  if (x != std::floor(x)) bad(index, column.name, "expected an integer, got " + shown(v));
  return static_cast<int>(x);
}

int64_t hour_field(const Given& v, size_t index, std::string_view field) {
  int64_t seconds;
  if (v.kind == Given::kString) {
    const auto t = parse_timestamp(v.string());
    if (!t) bad(index, field, "not a timestamp (YYYY-MM-DD HH:MM:SS): " + shown(v));
    if (*t % kNanosPerSecond != 0) bad(index, field, "not a whole hour: " + shown(v));
    seconds = seconds_of(*t);
  } else if (v.kind == Given::kNumber && v.integral) {
    // pandas' to_json writes datetimes as epoch milliseconds by default.
    const int64_t ms = v.integer;
    if (ms < -kMillisecondLimit || ms > kMillisecondLimit || ms % 1000 != 0)
      bad(index, field, "not a whole hour: " + shown(v));
    seconds = ms / 1000;
  } else {
    bad(index, field, "expected a timestamp string, got " + type_of(v));
  }
  if (seconds % kSecondsPerHour != 0) bad(index, field, "not a whole hour: " + shown(v));
  return seconds;
}

// The record from its given fields, the same for both parsers. Left-out
// calendar fields and linearTrend come from the feature engine. Throws
// RequestError naming the record and field.
ParsedRecord assemble(const GivenFields& g, size_t index, const FeatureSchema& schema,
                      TimeNs train_begin, bool keys) {
  ParsedRecord out;
  FeatureRow& row = out.row;
  const FeatureColumn& server = schema.of(ColumnRole::kServer);
  const int server_at = schema.find(server.name);
  if (!g.has(server_at)) bad(index, server.name, "missing");
  const Given& ip = g.field[static_cast<size_t>(server_at)];
  if (ip.kind != Given::kString || ip.text_size == 0)
    bad(index, server.name, "expected a non-empty string, got " + shown(ip));
  row.server_ip = ip.string();

  const FeatureColumn& hour = schema.of(ColumnRole::kHour);
  const int hour_at = schema.find(hour.name);
  if (!g.has(hour_at)) bad(index, hour.name, "missing");
  row.hour = hour_field(g.field[static_cast<size_t>(hour_at)], index, hour.name);

  // Calendar fields the record leaves out follow from the hour, as in the
  // ETL; the integers and flags are checked first, then the day's name.
  bool complete = true;
  for (int c = 0; c < schema.num_columns(); ++c)
    if (schema.column(c).role == ColumnRole::kCalendar) complete = complete && g.has(c);
  if (!complete) row.calendar = calendar_of_hour(row.hour);  // the holidays are the costly part
  for (const bool weekday : {false, true}) {
    for (int c = 0; c < schema.num_columns(); ++c) {
      const FeatureColumn& column = schema.column(c);
      if (column.role != ColumnRole::kCalendar || !g.has(c) ||
          (column.type == ColumnType::kWeekday) != weekday)
        continue;
      const Given& v = g.field[static_cast<size_t>(c)];
      if (!weekday) {
        FeatureSchema::set_number(row, column, int_field(v, index, column));
        continue;
      }
      if (v.kind != Given::kString)
        bad(index, column.name, "expected a day name (\"Monday\"), got " + type_of(v));
      const int day = weekday_of_name(v.string());
      if (day < 0) bad(index, column.name, "not a day name: " + shown(v));
      FeatureSchema::set_number(row, column, day);
    }
  }

  for (int c = 0; c < schema.num_columns(); ++c) {
    const FeatureColumn& column = schema.column(c);
    const bool scaled = column.request == RequestUse::kZero;
    if (column.role != ColumnRole::kTrend && !scaled) continue;
    if (g.has(c)) {
      FeatureSchema::set_number(row, column,
                                number_field(g.field[static_cast<size_t>(c)], index, column.name));
    } else if (!scaled) {
      row.linear_trend = linear_trend(row.hour, train_begin);
    }
  }

  const FeatureColumn& key = schema.of(ColumnRole::kKey);
  const int key_at = schema.find(key.name);
  if (g.has(key_at)) {
    const Given& k = g.field[static_cast<size_t>(key_at)];
    if (k.kind != Given::kString) bad(index, key.name, "expected a string, got " + type_of(k));
    if (keys) out.key = k.string();
  } else if (keys) {
    out.key = row_key(row);
  }
  return out;
}

// A value of the checked parser as a Given.
Given given_of(const json& v) {
  Given g{};
  g.source = &v;
  if (v.is_string()) {
    g.kind = Given::kString;
    const std::string& text = v.get_ref<const std::string&>();
    g.text = text.data();
    g.text_size = text.size();
  } else if (v.is_boolean()) {
    g.kind = Given::kBool;
    g.flag = v.get<bool>();
  } else if (v.is_number()) {
    g.kind = Given::kNumber;
    g.number = v.get<double>();
    g.integral = v.is_number_integer();
    if (g.integral) g.integer = v.get<int64_t>();
  } else {
    g.kind = Given::kOther;
  }
  return g;
}

// The first min(n, 8) bytes at p as a little-endian word, the rest zero.
uint64_t load_word(const char* p, size_t n) {
  uint64_t w = 0;
  std::memcpy(&w, p, std::min<size_t>(n, 8));
  return w;
}

// Field name -> column, as a small open-addressing table: a record's keys
// are looked up once each, so the hash reads a few words rather than every
// byte.
class FieldIds {
 public:
  // The fields of the schema's records: a field's id is its column.
  explicit FieldIds(const FeatureSchema& schema) : names_(schema.names()) {
    for (int c = 0; c < schema.num_columns(); ++c)
      if (schema.column(c).request != RequestUse::kNone) insert(names_[static_cast<size_t>(c)], c);
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

  std::vector<std::string> names_;  // owns the names the slots point at
  std::array<Slot, kSlots> slots_{};
  struct Padded {
    size_t size = 0;  // 0: no fast comparison
    uint64_t words[4] = {};
    uint64_t masks[4] = {};
  };
  std::array<Padded, kMaxColumns> padded_{};
};

// The field table of a schema, kept per thread for the schema last used (a
// model's schema is a copy of the default one, with the same lags).
const FieldIds& field_ids(const FeatureSchema& schema) {
  thread_local std::vector<int> lags;
  thread_local std::unique_ptr<FieldIds> ids;
  if (!ids || lags != schema.lags()) {
    ids = std::make_unique<FieldIds>(schema);
    lags = schema.lags();
  }
  return *ids;
}

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

// Reads a known field's value; false on a value that the checked path
// reads differently or that only it can describe in an error (an array or
// object): the caller then declines the body.
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
bool member_id(const FieldIds& ids, ondemand::field& field, size_t position, KeyOrder& order,
               int& id) {
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

// A record read by simdjson; nullopt wherever the checked path would give
// an error (it then gives it). Duplicate keys keep the last value, as
// nlohmann does.
std::optional<ParsedRecord> fast_record(ondemand::value element, size_t index,
                                        const FeatureSchema& schema, const FieldIds& ids,
                                        TimeNs train_begin, bool keys, KeyOrder& order) {
  ondemand::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  GivenFields g;  // set where `present` has the field's bit
  size_t position = 0;
  for (auto member : object) {
    ondemand::field field;
    int id = -1;
    if (std::move(member).get(field) != simdjson::SUCCESS ||
        !member_id(ids, field, position++, order, id))
      return std::nullopt;
    if (id < 0) {
      if (!consume(field.value(), 16)) return std::nullopt;  // ignored, but it must be JSON
      continue;
    }
    Given& v = g.field[static_cast<size_t>(id)];
    v.source = nullptr;
    if (!read_given(field.value(), v)) return std::nullopt;
    const uint64_t bit = uint64_t{1} << id;
    g.present = v.kind == Given::kAbsent ? g.present & ~bit : g.present | bit;  // null: not given
  }
  try {
    return assemble(g, index, schema, train_begin, keys);
  } catch (const RequestError&) {
    return std::nullopt;  // the checked path names the fault
  }
}

}  // namespace

ParsedRecord parse_record(const json& record, size_t index, const FeatureSchema& schema,
                          TimeNs train_begin) {
  if (!record.is_object()) {
    throw RequestError(
        400, "record " + std::to_string(index) + ": expected an object, got " + record.type_name());
  }
  GivenFields g;
  for (int c = 0; c < schema.num_columns(); ++c) {
    const FeatureColumn& column = schema.column(c);
    if (column.request == RequestUse::kNone) continue;
    const auto it = record.find(column.name);
    if (it == record.end() || it->is_null()) continue;  // both mean "not given"
    g.field[static_cast<size_t>(c)] = given_of(*it);
    g.present |= uint64_t{1} << c;
  }
  return assemble(g, index, schema, train_begin, true);
}

void check_record_count(size_t n, size_t limit) {
  if (n > limit)
    throw RequestError(
        413, std::to_string(n) + " records are over the limit of " + std::to_string(limit));
}

std::vector<ParsedRecord> parse_records(const json& array, const FeatureSchema& schema,
                                        TimeNs train_begin, size_t limit, std::string_view what) {
  if (!array.is_array())
    throw RequestError(
        400, std::string(what) + ": expected a JSON array of records, got " + array.type_name());
  check_record_count(array.size(), limit);
  std::vector<ParsedRecord> records;
  records.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i)
    records.push_back(parse_record(array[i], i, schema, train_begin));
  return records;
}

std::optional<std::vector<ParsedRecord>> parse_records_fast(std::string_view body,
                                                            const FeatureSchema& schema,
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
  const FieldIds& ids = field_ids(schema);
  std::vector<ParsedRecord> records;
  records.reserve(std::min<size_t>(limit, 1 + body.size() / 256));
  KeyOrder order;
  for (auto element : array) {
    ondemand::value value;
    if (std::move(element).get(value) != simdjson::SUCCESS || records.size() == limit)
      return std::nullopt;
    auto record = fast_record(value, records.size(), schema, ids, train_begin, keys, order);
    if (!record) return std::nullopt;
    records.push_back(std::move(*record));
  }
  // Nothing may follow the array: the location past it is out of bounds.
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS) return std::nullopt;
  return records;
}

json record_of(const FeatureRow& row, const FeatureSchema& schema, bool with_trend) {
  json r = json::object();
  for (const FeatureColumn& column : schema.columns()) {
    if (column.request == RequestUse::kNone) continue;
    switch (column.role) {
      case ColumnRole::kKey:
        r[column.name] = row_key(row);
        continue;
      case ColumnRole::kServer:
        r[column.name] = row.server_ip;
        continue;
      case ColumnRole::kHour:
        r[column.name] = format_timestamp(row.hour);
        continue;
      case ColumnRole::kTrend:
        if (with_trend) r[column.name] = row.linear_trend;
        continue;
      default:
        break;
    }
    switch (column.type) {
      case ColumnType::kWeekday:
        r[column.name] = std::string(weekday_name(row.calendar.dayofweek));
        break;
      case ColumnType::kInteger:
      case ColumnType::kFlag:
        r[column.name] = static_cast<int>(FeatureSchema::number(row, column));
        break;
      default:
        r[column.name] = FeatureSchema::number(row, column);
        break;
    }
  }
  return r;
}

}  // namespace loadcast::serve
