// The shape of the tree, checked: each feature column and configuration
// field is named in one file of src/ and app/ (its declaration), threads are
// started only by the thread pool and the service's transport, and modules
// include only modules below them.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "features/schema.h"
#include "support/csv.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = fs::path(LOADCAST_TESTS_DIR).parent_path();

// Every source file of src/ and app/, by path relative to the root.
std::map<std::string, std::string> sources() {
  std::map<std::string, std::string> files;
  for (const char* dir : {"src", "app"})
    for (const auto& e : fs::recursive_directory_iterator(kRoot / dir))
      if (e.is_regular_file() && (e.path().extension() == ".cpp" || e.path().extension() == ".h"))
        files[e.path().lexically_relative(kRoot).string()] = testing::read_text(e.path());
  return files;
}

template <class S>
void add_names(const ParamSet<S>& set, std::set<std::string>& out) {
  for (const auto& p : set.params()) out.insert(p.name);
}

TEST(House, EachColumnAndFieldNameIsWrittenInOneFile) {
  std::set<std::string> names;
  const FeatureSchema& schema = default_feature_schema();
  for (const auto& n : schema.names()) names.insert(n);
  for (const auto& n : schema.hourly_store_names()) names.insert(n);
  for (const auto& n : schema.daily_store_names()) names.insert(n);
  add_names(config_params(), names);
  add_names(forest::forest_params(), names);
  const auto files = sources();
  for (const std::string& name : names) {
    std::vector<std::string> where;
    for (const auto& [path, text] : files)
      if (text.find("\"" + name + "\"") != std::string::npos) where.push_back(path);
    std::string listed;
    for (const auto& w : where) listed += " " + w;
    // A name made of parts (peakLoadLag48) is written in none; every other
    // one is written where it is declared, and only there.
    EXPECT_LE(where.size(), 1u) << "'" << name << "' is written in" << listed;
  }
}

TEST(House, OnlyThePoolAndTheTransportStartThreads) {
  const std::regex start(
      R"(std::(j?thread)\s*[({a-z_]|std::vector<std::(j?thread)>|pthread_create)");
  for (const auto& [path, text] : sources()) {
    if (path.starts_with("src/common/thread_pool.") || path.starts_with("src/serve/")) continue;
    std::smatch m;
    EXPECT_FALSE(std::regex_search(text, m, start)) << path << " starts a thread: " << m.str();
  }
}

// The modules in layers, from the bottom; a module includes only modules of
// lower layers (and itself). app/ may include any.
const std::map<std::string, int>& layers() {
  static const std::map<std::string, int> l = {
      {"common", 0},   {"blob", 1},  {"parquet", 1},  {"io", 2},     {"aggregate", 2},
      {"ingest", 3},   {"dist", 3},  {"features", 3}, {"store", 4},  {"encode", 4},
      {"forest", 4},   {"eval", 4},  {"config", 5},   {"model", 6},  {"etl", 6},
      {"generate", 6}, {"serve", 7}, {"track", 7},    {"client", 8}, {"ui", 8},
  };
  return l;
}

TEST(House, ModulesIncludeOnlyModulesBelowThem) {
  const std::regex include(R"(#include "([a-z_]+)/)");
  for (const auto& e : fs::directory_iterator(kRoot / "src"))
    EXPECT_TRUE(layers().count(e.path().filename().string()))
        << "src/" << e.path().filename().string() << " has no layer";
  for (const auto& [path, text] : sources()) {
    if (!path.starts_with("src/")) continue;
    const std::string module = fs::path(path).begin()->string() == "src"
                                   ? std::next(fs::path(path).begin())->string()
                                   : "";
    const int level = layers().at(module);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), include);
         it != std::sregex_iterator(); ++it) {
      const std::string used = (*it)[1];
      if (used == module) continue;
      ASSERT_TRUE(layers().count(used)) << path << " includes " << used;
      EXPECT_LT(layers().at(used), level) << path << " (" << module << ") includes " << used;
    }
  }
}

}  // namespace
}  // namespace loadcast
