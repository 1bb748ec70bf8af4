// The scoring service's POST handlers on any body (JSON, and CSV for
// /invocations): only 2xx and 4xx answers, every answer valid JSON, and the
// fast record parser (simdjson) never accepting a body the checked parser
// (nlohmann) reads otherwise.
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_support.h"
#include "serve/records.h"
#include "serve/routes.h"

namespace {

using namespace loadcast;
using nlohmann::json;

// The first input byte picks the path and body type; the rest is the body.
struct Target {
  std::string_view path;
  std::string_view content_type;
};
constexpr Target kTargets[] = {{"/score", "application/json"},
                               {"/invocations", "application/json"},
                               {"/v1/predict", "application/json"},
                               {"/v1/forecast", "application/json"},
                               {"/invocations", "text/csv"}};

// When the fast parser reads a body, the checked one reads the same rows.
void compare_parsers(std::string_view body, const serve::LoadedModel& m) {
  const FeatureSchema& schema = m.model.schema();
  const TimeNs origin = m.model.info().train_begin;
  const auto fast = serve::parse_records_fast(body, schema, origin, 1000);
  if (!fast) return;
  json array;
  try {
    array = json::parse(body);
  } catch (const json::exception&) {
    fuzz::check(false, "the fast parser read a body nlohmann refuses");
  }
  fuzz::check(array.is_array() && array.size() == fast->size(), "the parsers see other records");
  for (size_t i = 0; i < fast->size(); ++i) {
    serve::ParsedRecord checked;
    try {
      checked = serve::parse_record(array[i], i, schema, origin);
    } catch (const serve::RequestError&) {
      fuzz::check(false, "the fast parser read a record the checked parser refuses");
    }
    const FeatureRow& a = (*fast)[i].row;
    const FeatureRow& b = checked.row;
    fuzz::check(a.server_ip == b.server_ip && a.hour == b.hour, "the parsers read other keys");
    fuzz::check((*fast)[i].key == checked.key, "the parsers read another key text");
    for (const FeatureColumn& c : schema.columns()) {
      if (c.request == RequestUse::kNone || c.type == ColumnType::kText ||
          c.type == ColumnType::kTimestamp)
        continue;
      const double x = FeatureSchema::number(a, c), y = FeatureSchema::number(b, c);
      fuzz::check(x == y || (x != x && y != y), "the parsers read another value");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const fuzz::Golden& g = fuzz::golden();
  const Target& target = kTargets[data[0] % std::size(kTargets)];
  const std::string_view path = target.path;
  const std::string body(fuzz::text_of(data + 1, size - 1));
  serve::HttpRequest request;
  request.method = "POST";
  request.path = path;
  request.content_type = target.content_type;
  request.body = body;
  const serve::HttpResponse response = g.service->handle(request);
  fuzz::check((response.status >= 200 && response.status < 300) ||
                  (response.status >= 400 && response.status < 500),
              "an answer that is neither 2xx nor 4xx");
  fuzz::check(json::accept(response.body), "an answer that is not JSON");
  if (response.status >= 400) {
    const json answer = json::parse(response.body);
    fuzz::check(answer.is_object() && answer.contains("error") && answer["error"].is_string(),
                "a refusal without an error message");
  }
  if (path == "/score" || path == "/v1/predict") compare_parsers(body, *g.model);
  return 0;
}
