// The wire format of a feature record (docs/http-api.md): the one place
// where a JSON record of the scoring contracts becomes a FeatureRow, and
// where a FeatureRow becomes such a record (for the scoring client and the
// tests). Which fields a record carries, their bounds and what a left-out
// field becomes are the feature schema's (features/schema.h).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "features/feature_row.h"
#include "features/schema.h"

namespace loadcast::serve {

// A request the service refuses: the HTTP status (4xx) and a message naming
// the record and field at fault. Thrown inside the service only and turned
// into `{"error": ...}` at its one boundary (ScoringService::handle).
class RequestError : public std::runtime_error {
 public:
  RequestError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct ParsedRecord {
  FeatureRow row;
  std::string key;  // the record's `key`, else `<ServerIP>_<hour>`
};

// Reads record number `index` of a request for a model of `schema`, whose
// linearTrend starts at `train_begin`. ServerIP (string) and
// SessionStartHourTime (`YYYY-MM-DD HH:MM:SS`, or epoch milliseconds as
// pandas' to_json writes datetimes) are required and must name a whole hour.
// Calendar fields are integers (dayofweek an English day name; the flags also
// accept booleans); a missing one is derived from SessionStartHourTime, so
// clients may send only what the hour does not imply. A missing linearTrend is
// derived by the feature engine. A missing or null lag or rolling feature is
// 0. `key` is optional; other keys are ignored.
// Throws RequestError(400) on a wrong type or an impossible value.
ParsedRecord parse_record(const nlohmann::json& record, size_t index, const FeatureSchema& schema,
                          TimeNs train_begin);

// Throws RequestError(413) when `n` records are over `limit`.
void check_record_count(size_t n, size_t limit);

// The records of `array` (a JSON array of at most `limit` records); `what`
// names it in the messages.
std::vector<ParsedRecord> parse_records(const nlohmann::json& array, const FeatureSchema& schema,
                                        TimeNs train_begin, size_t limit, std::string_view what);

// The records of a request body that is a JSON array of at most `limit`
// well-formed records, read with simdjson On Demand (one pass, no document
// tree). Returns nullopt for any other body (malformed JSON, a bad record,
// too many records, a number of more than 18 significant digits): the caller
// then parses it with nlohmann and parse_record, whose RequestError names the
// fault, so both paths accept the same bodies and give the same rows.
// `keys` false leaves ParsedRecord::key empty (a `key` must still be a
// string), for answers that do not echo it.
std::optional<std::vector<ParsedRecord>> parse_records_fast(std::string_view body,
                                                            const FeatureSchema& schema,
                                                            TimeNs train_begin, size_t limit,
                                                            bool keys = true);

// The record of a feature row: every field a record may carry. `with_trend`
// false leaves linearTrend out, for clients that do not know the model's
// origin.
nlohmann::json record_of(const FeatureRow& row, const FeatureSchema& schema,
                         bool with_trend = true);

}  // namespace loadcast::serve
