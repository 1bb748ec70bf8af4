// The request bodies of MLflow's scoring protocol (docs/http-api.md,
// POST /invocations): the four JSON shapes and pandas' CSV, read into the
// same records as the service's other contracts, so that MLflow's clients and
// deployment tools work unchanged.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "features/schema.h"
#include "serve/records.h"

namespace loadcast::serve {

// The records of a JSON body that holds exactly one of
//   dataframe_split    {"columns": [...], "data": [[...], ...], "index": [...]?}
//   dataframe_records  [{...}, ...]
//   instances, inputs  [{...}, ...] (records) or {"column": [...], ...} (columns)
// as pandas and MLflow's clients write them; `params` is accepted and unused.
// Throws RequestError: 400 naming the key or record at fault, 413 past
// `limit` records.
std::vector<ParsedRecord> mlflow_json_records(const nlohmann::json& body,
                                              const FeatureSchema& schema, TimeNs train_begin,
                                              size_t limit);

// The records of a CSV body with a header line, as pandas' DataFrame.to_csv
// writes it (RFC 4180 quoting, an unnamed index column ignored). The text
// columns of the schema stay text; any other cell is a number, a boolean
// (True/False) or, empty, left out. Throws RequestError as above, naming the
// line.
std::vector<ParsedRecord> mlflow_csv_records(std::string_view body, const FeatureSchema& schema,
                                             TimeNs train_begin, size_t limit);

}  // namespace loadcast::serve
