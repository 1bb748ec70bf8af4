#include "config/tuning.h"

namespace loadcast {

namespace {

using nlohmann::json;

// The space's shape: {name: [values...] | {"min": a, "max": b, "log": bool}}.
// What each value means is checked against the field's own declaration by
// the configuration's reader (config.cpp), which knows every field.
std::optional<ParamProblem> read_space(const json& v, TuningSpec& s) {
  if (!v.is_object()) return ParamProblem::wrong_type("an object of field names and their values");
  s.space.clear();
  for (auto it = v.begin(); it != v.end(); ++it) {
    SearchAxis axis;
    axis.name = it.key();
    const json& given = *it;
    if (given.is_array()) {
      if (given.empty())
        return ParamProblem::impossible(axis.name + " []", "a list of at least one value");
      axis.values = given;
    } else if (given.is_object()) {
      for (auto f = given.begin(); f != given.end(); ++f)
        if (f.key() != "min" && f.key() != "max" && f.key() != "log")
          return ParamProblem::impossible(axis.name + " " + given.dump(),
                                          "a range has only min, max and log");
      const json& lo = given.value("min", json());
      const json& hi = given.value("max", json());
      if (!lo.is_number() || !hi.is_number() || lo.get<double>() > hi.get<double>())
        return ParamProblem::impossible(axis.name + " " + given.dump(),
                                        "a range is {\"min\": a, \"max\": b} with a <= b");
      axis.min = lo.get<double>();
      axis.max = hi.get<double>();
      const json& log = given.value("log", json(false));
      if (!log.is_boolean())
        return ParamProblem::impossible(axis.name + " " + given.dump(), "log is true or false");
      axis.log = log.get<bool>();
      if (axis.log && axis.min <= 0)
        return ParamProblem::impossible(axis.name + " " + given.dump(),
                                        "a log range needs min > 0");
    } else {
      return ParamProblem::impossible(axis.name + " " + given.dump(),
                                      "a list of values or a {\"min\", \"max\"} range");
    }
    s.space.push_back(std::move(axis));
  }
  return std::nullopt;
}

json write_space(const TuningSpec& s) {
  json out = json::object();
  for (const SearchAxis& a : s.space) {
    if (a.is_range())
      out[a.name] = {{"min", a.min}, {"max", a.max}, {"log", a.log}};
    else
      out[a.name] = a.values;
  }
  return out;
}

}  // namespace

const char* metric_name(TuningMetric metric) {
  return metric == TuningMetric::kAccuracy ? "accuracy" : "f1";
}

const ParamSet<TuningSpec>& tuning_params() {
  static const ParamSet<TuningSpec> set = [] {
    ParamSet<TuningSpec> s("tuning.");
    using T = TuningSpec;
    s.choice<SearchKind>("search", &T::search, SearchKind::kGrid,
                         {{"grid", SearchKind::kGrid}, {"random", SearchKind::kRandom}},
                         "grid: every combination of the space's lists, in name order; random: "
                         "'trials' draws from the lists and ranges");
    s.integer<int>("trials", &T::trials, 10, 1, 100000,
                   "random search: how many parameter sets are drawn (repeats are drawn again)");
    s.integer<int>("folds", &T::folds, 3, 1, 100,
                   "validation windows before testSplitStart; each fold trains only on the rows "
                   "before its window");
    s.integer<int>("foldDays", &T::fold_days, 2, 1, 3650, "whole days in each validation window");
    s.choice<TuningMetric>("metric", &T::metric, TuningMetric::kAccuracy,
                           {{metric_name(TuningMetric::kAccuracy), TuningMetric::kAccuracy},
                            {metric_name(TuningMetric::kF1), TuningMetric::kF1}},
                           "what picks the best parameters: the mean over the folds of the "
                           "validation accuracy, or of the weighted F1");
    s.integer<uint64_t>(kSeedParam, &T::seed, 42, 0, INT64_MAX, "seed of the random search");
    Param<TuningSpec> space;
    space.name = "space";
    space.type_name = "object";
    space.help =
        "the searched fields by dotted name (forest.maxDepth, boosting.learningRate, "
        "algorithm, ...): a list of values, or {\"min\": a, \"max\": b, \"log\": true} for random "
        "search; empty: the configuration as given is cross-validated";
    space.default_text = "{}";
    space.set_default = [](TuningSpec& t) { t.space.clear(); };
    space.from_json = read_space;
    space.to_json = write_space;
    s.add(std::move(space));
    return s;
  }();
  return set;
}

TuningSpec::TuningSpec() { tuning_params().set_defaults(*this); }

}  // namespace loadcast
