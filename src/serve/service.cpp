#include "serve/service.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <optional>

#include "common/error.h"
#include "common/hash.h"
#include "common/number.h"
#include "model/forecast.h"
#include "serve/mlflow.h"
#include "serve/records.h"

namespace loadcast::serve {
namespace {

using nlohmann::json;

// Deeper JSON is refused before parsing: a body of 16 MiB of '[' would
// otherwise become millions of nested values.
constexpr int kMaxJsonDepth = 64;

// `"YYYY-MM-DD HH:MM:SS"` (with the quotes) of an epoch second, as format_timestamp.
void append_timestamp_string(std::string& out, int64_t epoch_seconds) {
  const int64_t days = floor_div(epoch_seconds, kSecondsPerDay);
  const int64_t in_day = epoch_seconds - days * kSecondsPerDay;
  const CivilDate date = civil_from_days(days);
  if (date.year < 0 || date.year > 9999) {
    out += '"';
    out += format_timestamp(epoch_seconds);
    out += '"';
    return;
  }
  char text[] = "\"0000-00-00 00:00:00\"";
  const auto put = [&](int at, int value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10)
      text[at + i] = static_cast<char>('0' + value % 10);
  };
  put(1, date.year, 4);
  put(6, date.month, 2);
  put(9, date.day, 2);
  put(12, static_cast<int>(in_day / 3600), 2);
  put(15, static_cast<int>(in_day / 60 % 60), 2);
  put(18, static_cast<int>(in_day % 60), 2);
  out.append(text, sizeof text - 1);
}

HttpResponse error_response(int status, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.body = error_body(message);
  return r;
}

HttpResponse json_response(const json& body, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

// application/json or any +json type, in any case, parameters ignored.
// The media type of a Content-Type header, without its parameters.
std::string_view media_type(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type;
}

bool is_json_media_type(std::string_view content_type) {
  const std::string_view type = media_type(content_type);
  return equals_ignoring_case(type, "application/json") ||
         (type.size() > 5 && equals_ignoring_case(type.substr(type.size() - 5), "+json"));
}

bool is_csv_media_type(std::string_view content_type) {
  return equals_ignoring_case(media_type(content_type), "text/csv");
}

void check_depth(std::string_view body) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        throw RequestError(400,
                           "malformed JSON: nesting deeper than " + std::to_string(kMaxJsonDepth));
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

// Follows a parse of a body, key by key and index by index, to say where it
// stopped: nlohmann refuses a number beyond the range of a double as
// out_of_range, and the client wants to know which field held it.
class BodyLocator : public nlohmann::json_sax<json> {
 public:
  bool null() override { return element(); }
  bool boolean(bool) override { return element(); }
  bool number_integer(number_integer_t) override { return element(); }
  bool number_unsigned(number_unsigned_t) override { return element(); }
  bool number_float(number_float_t, const string_t&) override { return element(); }
  bool string(string_t&) override { return element(); }
  bool binary(binary_t&) override { return element(); }
  bool start_object(std::size_t) override { return open(false); }
  bool key(string_t& name) override {
    path_.back().key = name;
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string& token,
                   const nlohmann::detail::exception&) override {
    token_ = token;
    // The value that failed was not delivered: in an array it is the next.
    if (!path_.empty() && path_.back().array) ++path_.back().index;
    return false;
  }

  // "record 3, field 'peakLoadLag48'" for a field of a record (in an array),
  // "field 'hours'" for a field of the body, "body" for the body itself.
  std::string where() const {
    const size_t n = path_.size();
    if (n >= 2 && !path_[n - 1].array && path_[n - 2].array)
      return "record " + std::to_string(path_[n - 2].index) + ", field '" + path_[n - 1].key + "'";
    if (n == 0) return "body";
    std::string out;
    for (const Step& step : path_)
      out +=
          step.array ? "[" + std::to_string(step.index) + "]" : (out.empty() ? "" : ".") + step.key;
    return "field '" + out + "'";
  }
  const std::string& token() const { return token_; }

 private:
  struct Step {
    bool array;
    int64_t index;
    std::string key;
  };
  bool element() {
    if (!path_.empty() && path_.back().array) ++path_.back().index;
    return true;
  }
  bool open(bool array) {
    element();
    path_.push_back({array, -1, ""});
    return true;
  }
  bool close() {
    path_.pop_back();
    return true;
  }

  std::vector<Step> path_;
  std::string token_;
};

json parse_body(std::string_view body) {
  check_depth(body);
  try {
    return json::parse(body);
  } catch (const json::parse_error& e) {
    throw RequestError(400, std::string("malformed JSON: ") + e.what());
  } catch (const json::out_of_range&) {
    BodyLocator locator;
    json::sax_parse(body, &locator);
    throw RequestError(400, locator.where() + ": the number " + locator.token() +
                                " is beyond the range of a double");
  }
}

uint64_t hash_file(const std::filesystem::path& file, uint64_t seed) {
  std::ifstream in(file, std::ios::binary);
  uint64_t h = seed;
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof buffer);
    const std::streamsize n = in.gcount();
    for (std::streamsize i = 0; i < n; ++i)
      h = (h ^ static_cast<unsigned char>(buffer[i])) * 0x100000001B3ULL;
  }
  return mix64(h);
}

}  // namespace

// Printable ASCII without quotes or backslashes is copied as it is.
void append_json_string(std::string& out, std::string_view s) {
  bool plain = true;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    plain &= c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
  }
  if (!plain) {
    out += json(s).dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

std::string error_body(std::string_view message) {
  std::string out = "{\"error\":";
  append_json_string(out, message);
  out += "}";
  return out;
}

std::shared_ptr<const LoadedModel> load_model_bundle(const std::filesystem::path& dir) {
  Model model = Model::load(dir);
  uint64_t h = 0xCBF29CE484222325ULL;
  for (const char* name : {"info.json", "encoder.json", "forest.json"})
    h = hash_file(dir / name, h);
  char version[17];
  std::snprintf(version, sizeof version, "%016llx", static_cast<unsigned long long>(h));
  return std::make_shared<const LoadedModel>(LoadedModel{std::move(model), dir, version});
}

ScoringService::ScoringService(ServiceOptions options, std::shared_ptr<const LoadedModel> model,
                               std::vector<ServerHistory> stores)
    : options_(std::move(options)), model_(std::move(model)), stores_(std::move(stores)) {
  for (size_t i = 0; i < stores_.size(); ++i) store_index_.emplace(stores_[i].server_ip, i);
}

std::shared_ptr<const LoadedModel> ScoringService::model() const {
  std::lock_guard lock(model_mutex_);
  return model_;
}

std::string ScoringService::reload() {
  const auto current = model();
  if (!current) return "no model bundle to reload";
  try {
    auto fresh = load_model_bundle(current->path);
    {
      std::lock_guard lock(model_mutex_);
      model_ = std::move(fresh);
    }
    metrics_.record_reload(true);
    return "";
  } catch (const std::exception& e) {
    metrics_.record_reload(false);
    return e.what();
  }
}

HttpResponse ScoringService::handle(const HttpRequest& request) {
  const Route* route = find_route(request.path);
  if (!route)
    return error_response(404, "no such path: " + std::string(request.path.substr(0, 200)));
  const bool method_ok =
      request.method == route->method || (route->method == "GET" && request.method == "HEAD");
  if (!method_ok) {
    HttpResponse r =
        error_response(405, std::string(request.path) + " takes " + std::string(route->method));
    r.headers.emplace_back("Allow", route->method);
    return r;
  }
  if (route->needs_key && options_.require_auth && !options_.keys.accepts(request.authorization)) {
    HttpResponse r =
        error_response(401, "missing or invalid key (send 'Authorization: Bearer <key>')");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  try {
    if (route->method == "POST") {
      if (request.body.size() > options_.max_body_bytes)
        return error_response(413, "body of " + std::to_string(request.body.size()) +
                                       " bytes is over the limit of " +
                                       std::to_string(options_.max_body_bytes));
      // MLflow's /invocations also takes pandas' CSV.
      const bool csv_ok = route->endpoint == Endpoint::kInvocations;
      if (!is_json_media_type(request.content_type) &&
          !(csv_ok && is_csv_media_type(request.content_type)))
        return error_response(415, std::string("Content-Type must be application/json") +
                                       (csv_ok ? " or text/csv" : "") + ", got '" +
                                       std::string(request.content_type.substr(0, 100)) + "'");
    }
    switch (route->endpoint) {
      case Endpoint::kHealth:
        return json_response({{"status", "ok"}});
      case Endpoint::kReady:
      case Endpoint::kPing:
      case Endpoint::kMlflowHealth:
        return readiness();
      case Endpoint::kVersion: {
        HttpResponse r;
        r.body = LOADCAST_VERSION "\n";
        r.content_type = "text/plain";
        return r;
      }
      case Endpoint::kMetrics: {
        const auto m = model();
        HttpResponse r;
        r.body = metrics_.prometheus_text(m ? m->version : "");
        r.content_type = "text/plain; version=0.0.4";
        return r;
      }
      default:
        break;
    }
    if (!model()) return error_response(503, "no model loaded");
    switch (route->endpoint) {
      case Endpoint::kModel:
        return model_info();
      case Endpoint::kScore:
        return score(request);
      case Endpoint::kInvocations:
        return invocations(request);
      case Endpoint::kPredict:
        return predict(request);
      default:
        return forecast(request);
    }
  } catch (const RequestError& e) {
    return error_response(e.status(), e.what());
  } catch (const std::exception& e) {
    return error_response(500, std::string("internal error: ") + e.what());
  }
}

HttpResponse ScoringService::readiness() {
  const auto m = model();
  if (!m) return error_response(503, "no model loaded");
  return json_response({{"status", "ready"}, {"model", m->version}});
}

HttpResponse ScoringService::model_info() {
  const auto m = model();
  return json_response({{"version", m->version},
                        {"path", m->path.string()},
                        {"info", m->model.info_json()},
                        {"metrics", m->model.metrics_json()}});
}

namespace {

// The records of a JSON array, checked against the record limit.
struct Scored {
  std::vector<ParsedRecord> records;
  std::vector<FeatureRow> rows;
  std::vector<Prediction> predictions;
};

Scored score_records(const LoadedModel& m, std::vector<ParsedRecord> records) {
  Scored s;
  s.rows.reserve(records.size());
  for (auto& r : records) s.rows.push_back(std::move(r.row));  // records keep their keys only
  s.predictions = m.model.predict(s.rows, 1);
  s.records = std::move(records);
  return s;
}

// The records of a body that is a JSON array of records. simdjson reads the
// well-formed bodies; any other body is read again with nlohmann, whose path
// names the record and field at fault.
std::vector<ParsedRecord> parse_record_body(std::string_view body, const LoadedModel& m,
                                            size_t limit, bool keys = true) {
  if (auto records =
          parse_records_fast(body, m.model.schema(), m.model.info().train_begin, limit, keys))
    return std::move(*records);
  return parse_records(parse_body(body), m.model.schema(), m.model.info().train_begin, limit,
                       "body");
}

// `<sep>"<name>":`, a member name of an answer.
void append_member(std::string& out, char sep, std::string_view name) {
  out += sep;
  out += '"';
  out += name;
  out += "\":";
}

void append_prediction_float(std::string& out, int label) {
  out += static_cast<char>('0' + label);
  out += ".0";
}

// The /v1/predict and /v1/forecast answer.
HttpResponse detailed_response(const LoadedModel& m, const Scored& s) {
  const FeatureSchema& schema = m.model.schema();
  HttpResponse r;
  std::string& out = r.body;
  out.reserve(256 * s.rows.size() + 64);
  out += "{\"model\":";
  append_json_string(out, m.version);
  out += ",\"predictions\":[";
  for (size_t i = 0; i < s.rows.size(); ++i) {
    const Prediction& p = s.predictions[i];
    if (i) out += ',';
    append_member(out, '{', schema.of(ColumnRole::kKey).name);
    append_json_string(out, s.records[i].key);
    append_member(out, ',', schema.of(ColumnRole::kServer).name);
    append_json_string(out, s.rows[i].server_ip);
    append_member(out, ',', schema.of(ColumnRole::kHour).name);
    append_timestamp_string(out, s.rows[i].hour);
    out += ",\"prediction\":";
    out += static_cast<char>('0' + p.label);
    append_member(out, ',', schema.of(ColumnRole::kLabel).name);
    out += '"';
    out += kLabelNames[p.label - 1];
    out += "\",\"probabilities\":{";
    for (int c = 0; c < 3; ++c) {
      if (c) out += ',';
      out += '"';
      out += kLabelNames[c];
      out += "\":";
      append_double(out, p.probability[c]);
    }
    out += "}}";
  }
  out += "]}";
  r.records = static_cast<int64_t>(s.rows.size());
  return r;
}

}  // namespace

HttpResponse ScoringService::score(const HttpRequest& request) {
  const auto m = model();
  const Scored s =
      score_records(*m, parse_record_body(request.body, *m, options_.max_records, false));
  metrics_.add_rows_scored(static_cast<int64_t>(s.rows.size()));
  // pandas' DataFrame.to_json(orient='index'): row number -> columns.
  const FeatureSchema& schema = m->model.schema();
  HttpResponse r;
  std::string& out = r.body;
  out.reserve(112 * s.rows.size() + 2);
  out += '{';
  for (size_t i = 0; i < s.rows.size(); ++i) {
    if (i) out += ',';
    out += '"';
    char digits[24];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, i).ptr);
    out += "\":";
    append_member(out, '{', schema.of(ColumnRole::kServer).name);
    append_json_string(out, s.rows[i].server_ip);
    append_member(out, ',', schema.of(ColumnRole::kHour).name);
    append_timestamp_string(out, s.rows[i].hour);
    out += ",\"prediction\":";
    append_prediction_float(out, s.predictions[i].label);
    out += '}';
  }
  out += '}';
  r.records = static_cast<int64_t>(s.rows.size());
  return r;
}

HttpResponse ScoringService::invocations(const HttpRequest& request) {
  const auto m = model();
  const FeatureSchema& schema = m->model.schema();
  const TimeNs train_begin = m->model.info().train_begin;
  std::vector<ParsedRecord> records =
      is_csv_media_type(request.content_type)
          ? mlflow_csv_records(request.body, schema, train_begin, options_.max_records)
          : mlflow_json_records(parse_body(request.body), schema, train_begin,
                                options_.max_records);
  const Scored s = score_records(*m, std::move(records));
  metrics_.add_rows_scored(static_cast<int64_t>(s.rows.size()));
  HttpResponse r;
  r.body = "{\"predictions\":[";
  for (size_t i = 0; i < s.rows.size(); ++i) {
    if (i) r.body += ',';
    append_prediction_float(r.body, s.predictions[i].label);
  }
  r.body += "]}";
  r.records = static_cast<int64_t>(s.rows.size());
  return r;
}

HttpResponse ScoringService::predict(const HttpRequest& request) {
  const auto m = model();
  const Scored s = score_records(*m, parse_record_body(request.body, *m, options_.max_records));
  metrics_.add_rows_scored(static_cast<int64_t>(s.rows.size()));
  return detailed_response(*m, s);
}

HttpResponse ScoringService::forecast(const HttpRequest& request) {
  const auto m = model();
  const json body = parse_body(request.body);
  if (!body.is_object())
    throw RequestError(400, std::string("expected an object, got ") + body.type_name());
  const auto ip = body.find("serverIP");
  if (ip == body.end() || !ip->is_string())
    throw RequestError(400, "field 'serverIP': expected a string");
  if (stores_.empty())
    return error_response(503, "this service has no stores (start it with --stores DIR)");
  const auto found = store_index_.find(ip->get<std::string>());
  if (found == store_index_.end())
    return error_response(404,
                          "unknown server '" + ip->get<std::string>() + "' (not in the stores)");
  const ServerHistory& history = stores_[found->second];

  int64_t hours = 48;
  if (const auto h = body.find("hours"); h != body.end()) {
    if (!h->is_number_integer()) throw RequestError(400, "field 'hours': expected an integer");
    // An integer past int64_t is nlohmann's unsigned one: out of range, shown as given.
    const bool fits = !h->is_number_unsigned() || h->get<uint64_t>() <= INT64_MAX;
    const int64_t v = fits ? h->get<int64_t>() : 0;
    if (!fits || v < 1 || v > options_.max_forecast_hours)
      throw RequestError(400, "field 'hours': " + h->dump() + " is outside 1.." +
                                  std::to_string(options_.max_forecast_hours));
    hours = v;
  }
  // Without a start, forecast from the hour after the server's last stored hour.
  int64_t start = (history.last_hour() + 1) * kSecondsPerHour;
  if (const auto st = body.find("start"); st != body.end()) {
    if (!st->is_string()) throw RequestError(400, "field 'start': expected a timestamp string");
    const auto t = parse_timestamp(st->get_ref<const std::string&>());
    if (!t || *t % (kSecondsPerHour * kNanosPerSecond) != 0)
      throw RequestError(400,
                         "field 'start': not a whole hour (YYYY-MM-DD HH:00:00): " + st->dump());
    start = seconds_of(*t);
  }

  std::vector<ParsedRecord> records;
  records.reserve(static_cast<size_t>(hours));
  for (FeatureRow& row : forecast_rows(m->model, history, start, hours)) {
    ParsedRecord r;
    r.key = row_key(row);
    r.row = std::move(row);
    records.push_back(std::move(r));
  }
  const Scored s = score_records(*m, std::move(records));
  metrics_.add_rows_scored(static_cast<int64_t>(s.rows.size()));
  return detailed_response(*m, s);
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace loadcast::serve
