// The documentation's tables come from the declarations: every section of
// docs/*.md and README.md between `<!-- begin: NAME -->` and
// `<!-- end: NAME -->` must equal the table rendered here. With
// LOADCAST_UPDATE_DOCS=1 the test writes the tables instead (scripts/update-docs.sh).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "config/config.h"
#include "features/schema.h"
#include "generate/options.h"
#include "ingest/accounting.h"
#include "serve/routes.h"
#include "support/csv.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = fs::path(LOADCAST_TESTS_DIR).parent_path();

std::string cell(std::string text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string code(const std::string& text) { return text.empty() ? "" : "`" + text + "`"; }

template <class S>
std::string param_table(const ParamSet<S>& set, const std::string& prefix,
                        const std::string& first_header) {
  std::string out =
      "| " + first_header + " | type | default | allowed | meaning |\n|---|---|---|---|---|\n";
  for (const Param<S>& p : set.params()) {
    const std::string def = p.default_is_rule ? p.default_text : code(p.default_text);
    out += "| " + code(prefix + p.name) + " | " + p.type_name + " | " + cell(def) + " | " +
           cell(p.allowed_text) + " | " + cell(p.help) + (p.secret ? " (secret)" : "") + " |\n";
  }
  return out;
}

std::string type_text(ColumnType t) {
  switch (t) {
    case ColumnType::kText:
      return "text";
    case ColumnType::kTimestamp:
      return "timestamp";
    case ColumnType::kReal:
      return "real";
    case ColumnType::kInteger:
      return "integer";
    case ColumnType::kWeekday:
      return "day name";
    case ColumnType::kFlag:
      return "0 or 1";
  }
  return "";
}

std::string request_text(const FeatureColumn& c) {
  switch (c.request) {
    case RequestUse::kNone:
      return "not read";
    case RequestUse::kRequired:
      return "required";
    case RequestUse::kDerived:
      return c.type == ColumnType::kInteger ? "optional, " + std::to_string(c.lo) + " to " +
                                                  std::to_string(c.hi) + "; else derived"
                                            : "optional; else derived";
    case RequestUse::kZero:
      return "optional; else 0";
  }
  return "";
}

std::string feature_columns() {
  const FeatureSchema& s = default_feature_schema();
  std::string out = "| # | column | type | in a request | meaning |\n|---|---|---|---|---|\n";
  for (int i = 0; i < s.num_columns(); ++i) {
    const FeatureColumn& c = s.column(i);
    out += "| " + std::to_string(i + 1) + " | " + code(c.name) + " | " + type_text(c.type) + " | " +
           request_text(c) + " | " + cell(c.description) + " |\n";
  }
  return out;
}

std::string names_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + code(n);
  return out + "\n";
}

std::string encoding_columns() {
  const FeatureSchema& s = default_feature_schema();
  std::vector<std::string> categorical, scaled;
  for (int c : s.categorical()) categorical.push_back(s.column(c).name);
  for (int i = 0; i < s.num_scaled(); ++i) scaled.push_back(s.scaled_name(i));
  return "Categorical columns, in encoding order: " + names_list(categorical) +
         "\nScaled columns, in vector order: " + names_list(scaled);
}

std::string routes() {
  std::string out = "| method | path | key | what |\n|---|---|---|---|\n";
  for (const serve::Route& r : serve::kRoutes)
    out += "| " + std::string(r.method) + " | " + code(std::string(r.path)) + " | " +
           (r.needs_key ? "yes" : "no") + " | " + cell(std::string(r.summary)) + " |\n";
  return out;
}

std::string counters() {
  std::string out = "| counter | counts |\n|---|---|\n";
  const LineAccounting a;
  for_each_counter(a, [&](const CounterName& c, int64_t) {
    const char* what = "";
    switch (c.kind) {
      case CounterKind::kLines:
        what = "physical lines read";
        break;
      case CounterKind::kFate:
        what = "lines of this fate";
        break;
      case CounterKind::kRejected:
        what = "lines rejected for this reason";
        break;
      case CounterKind::kMissing:
        what = "aggregated lines whose field was missing";
        break;
      case CounterKind::kBytes:
        what = "bytes read";
        break;
    }
    out += "| " + code(c.dotted()) + " | " + what + " |\n";
  });
  return out;
}

const std::map<std::string, std::function<std::string()>>& tables() {
  static const std::map<std::string, std::function<std::string()>> t = {
      {"config-fields", [] { return param_table(config_params(), "", "field"); }},
      {"forest-fields", [] { return param_table(forest::forest_params(), "forest.", "field"); }},
      {"boosting-fields", [] { return param_table(forest::boost_params(), "boosting.", "field"); }},
      {"tuning-fields", [] { return param_table(tuning_params(), "tuning.", "field"); }},
      {"generate-options", [] { return param_table(generate::generate_params(), "--", "option"); }},
      {"feature-columns", feature_columns},
      {"hourly-columns", [] { return names_list(default_feature_schema().hourly_store_names()); }},
      {"daily-columns", [] { return names_list(default_feature_schema().daily_store_names()); }},
      {"encoding-columns", encoding_columns},
      {"endpoints", routes},
      {"line-accounting", counters},
  };
  return t;
}

std::vector<fs::path> documents() {
  std::vector<fs::path> out = {kRoot / "README.md"};
  for (const auto& entry : fs::directory_iterator(kRoot / "docs"))
    if (entry.path().extension() == ".md") out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Docs, GeneratedTablesMatchTheDeclarations) {
  const bool update = std::getenv("LOADCAST_UPDATE_DOCS") != nullptr;
  std::map<std::string, int> used;
  const std::regex begin(R"(<!-- begin: ([a-z-]+) -->\n)");
  for (const fs::path& doc : documents()) {
    std::string text = testing::read_text(doc);
    std::string rewritten;
    std::smatch m;
    std::string rest = text;
    while (std::regex_search(rest, m, begin)) {
      const std::string name = m[1];
      const size_t body = static_cast<size_t>(m.position(0) + m.length(0));
      const std::string end_marker = "<!-- end: " + name + " -->";
      const size_t end = rest.find(end_marker, body);
      ASSERT_NE(end, std::string::npos) << doc << ": no " << end_marker;
      ASSERT_TRUE(tables().count(name)) << doc << ": no table named " << name;
      const std::string want = tables().at(name)();
      if (!update) {
        EXPECT_EQ(rest.substr(body, end - body), want) << doc << ", table " << name;
      }
      rewritten += rest.substr(0, body) + want + end_marker;
      rest = rest.substr(end + end_marker.size());
      ++used[name];
    }
    rewritten += rest;
    if (update && rewritten != text) testing::write_text(doc, rewritten);
  }
  for (const auto& [name, render] : tables())
    EXPECT_GE(used[name], 1) << "no document shows the table " << name;
}

// The project's documents are its own: no user is sent to a file outside
// the repository.
TEST(Docs, NothingPointsOutsideTheRepository) {
  std::vector<fs::path> files = documents();
  for (const char* dir : {"src", "app"})
    for (const auto& e : fs::recursive_directory_iterator(kRoot / dir))
      if (e.is_regular_file()) files.push_back(e.path());
  for (const fs::path& f : files) {
    const std::string text = testing::read_text(f);
    EXPECT_EQ(text.find("../shared"), std::string::npos) << f;
    EXPECT_EQ(text.find("SPEC \xC2\xA7"), std::string::npos) << f;
    EXPECT_EQ(text.find("SPEC.md"), std::string::npos) << f;
  }
}

// Every docs/ file that src/, app/ or the README cite exists.
TEST(Docs, CitedDocumentsExist) {
  const std::regex cited(R"(docs/([a-z-]+\.md))");
  std::vector<fs::path> files = {kRoot / "README.md"};
  for (const char* dir : {"src", "app"})
    for (const auto& e : fs::recursive_directory_iterator(kRoot / dir))
      if (e.is_regular_file()) files.push_back(e.path());
  for (const fs::path& f : files) {
    const std::string text = testing::read_text(f);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), cited);
         it != std::sregex_iterator(); ++it)
      EXPECT_TRUE(fs::exists(kRoot / "docs" / (*it)[1].str())) << f << " cites " << (*it)[0];
  }
}

}  // namespace
}  // namespace loadcast
