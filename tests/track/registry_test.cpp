// The model registry: register -> promote -> resolve by stage, one production
// version at a time, and tampered bundles refused.
#include "track/registry.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/sha256.h"
#include "support/csv.h"

namespace loadcast::track {
namespace {

namespace fs = std::filesystem;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = RunStore::open(dir_.path() / "ws"); }

  // A finished train run whose model bundle holds `forest`.
  int64_t train_run(const std::string& forest, const std::string& status = "finished") {
    const fs::path bundle = dir_.path() / ("out" + std::to_string(++runs_)) / "model";
    testing::write_text(bundle / "info.json", R"({"version": 1})");
    testing::write_text(bundle / "forest.json", forest);
    const int64_t id = store_->begin_run(NewRun{.command = "train"});
    const FileDigest digest = sha256_tree(bundle);
    store_->add_artifact(id, {"model", bundle.string(), "dir", digest.bytes, digest.sha256});
    store_->end_run(id, status == "finished" ? RunStatus::kFinished : RunStatus::kFailed);
    return id;
  }

  std::string failure_of(const std::function<void()>& action) {
    try {
      action();
    } catch (const Failure& e) {
      return e.what();
    }
    return "";
  }

  testing::TempDir dir_;
  std::unique_ptr<RunStore> store_;
  int runs_ = 0;
};

TEST_F(RegistryTest, RegisterPromoteResolveByStage) {
  const auto v1 = register_model(*store_, train_run("[1]"), "fleet");
  const auto v2 = register_model(*store_, train_run("[2]"), "fleet");
  EXPECT_EQ(v1.version, 1);
  EXPECT_EQ(v2.version, 2);
  EXPECT_EQ(v1.stage, "none");
  EXPECT_EQ(v1.path, dir_.path() / "ws" / "registry" / "fleet" / "1");
  EXPECT_EQ(testing::read_text(v2.path / "forest.json"), "[2]");

  promote_model(*store_, "fleet", 1, "production");
  promote_model(*store_, "fleet", 2, "staging");
  const fs::path ws = dir_.path() / "ws";
  EXPECT_EQ(resolve_model_reference(ws, "fleet@production"), v1.path);
  EXPECT_EQ(resolve_model_reference(ws, "fleet@staging"), v2.path);
  EXPECT_EQ(resolve_model_reference(ws, "fleet@2"), v2.path);
  EXPECT_EQ(resolve_model_reference(ws, "fleet@latest"), v2.path);

  // One production version at a time: the old one is archived.
  promote_model(*store_, "fleet", 2, "production");
  EXPECT_EQ(resolve_model_reference(ws, "fleet@production"), v2.path);
  EXPECT_EQ(find_model(*store_, "fleet@1").stage, "archived");
  int production = 0;
  for (const auto& v : list_models(*store_, "fleet")) production += v.stage == "production";
  EXPECT_EQ(production, 1);
}

TEST_F(RegistryTest, TamperedBundleIsRefused) {
  const auto v1 = register_model(*store_, train_run("[1]"), "fleet");
  promote_model(*store_, "fleet", 1, "production");
  const fs::path ws = dir_.path() / "ws";
  testing::write_text(v1.path / "forest.json", "[666]");
  std::string error = failure_of([&] { resolve_model_reference(ws, "fleet@production"); });
  EXPECT_NE(error.find("fleet@1"), std::string::npos) << error;
  EXPECT_NE(error.find("modified after registration"), std::string::npos) << error;

  testing::write_text(v1.path / "forest.json", "[1]");
  EXPECT_EQ(resolve_model_reference(ws, "fleet@production"), v1.path);
  testing::write_text(v1.path / "extra.json", "{}");  // an added file counts too
  EXPECT_NE(failure_of([&] { resolve_model_reference(ws, "fleet@1"); }), "");
}

TEST_F(RegistryTest, ClearErrorsForBadReferencesAndRuns) {
  register_model(*store_, train_run("[1]"), "fleet");
  const fs::path ws = dir_.path() / "ws";
  EXPECT_NE(failure_of([&] { resolve_model_reference(ws, "fleet"); }).find("NAME@VERSION"),
            std::string::npos);
  EXPECT_NE(
      failure_of([&] { resolve_model_reference(ws, "other@1"); }).find("no model named 'other'"),
      std::string::npos);
  EXPECT_NE(failure_of([&] {
              resolve_model_reference(ws, "fleet@production");
            }).find("no version in stage production"),
            std::string::npos);
  EXPECT_NE(failure_of([&] { resolve_model_reference(ws, "fleet@gold"); }).find("'gold'"),
            std::string::npos);
  EXPECT_NE(failure_of([&] {
              resolve_model_reference(dir_.path() / "none", "fleet@1");
            }).find("no model registry"),
            std::string::npos);
  EXPECT_NE(failure_of([&] {
              register_model(*store_, train_run("[3]", "failed"), "fleet");
            }).find("is failed"),
            std::string::npos);
  const int64_t etl = store_->begin_run(NewRun{.command = "etl"});
  store_->end_run(etl, RunStatus::kFinished);
  EXPECT_NE(failure_of([&] { register_model(*store_, etl, "fleet"); }).find("etl run"),
            std::string::npos);
  EXPECT_NE(
      failure_of([&] { register_model(*store_, 999, "fleet"); }).find("run 999 does not exist"),
      std::string::npos);
  EXPECT_NE(
      failure_of([&] { register_model(*store_, train_run("[4]"), "../evil"); }).find("model name"),
      std::string::npos);
  EXPECT_NE(failure_of([&] { promote_model(*store_, "fleet", 1, "gold"); }).find("stage 'gold'"),
            std::string::npos);
}

TEST_F(RegistryTest, BundleChangedSinceTheRunIsNotRegistered) {
  const int64_t id = train_run("[1]");
  testing::write_text(dir_.path() / "out1" / "model" / "forest.json", "[9]");
  EXPECT_NE(failure_of([&] { register_model(*store_, id, "fleet"); }).find("changed since run"),
            std::string::npos);
  EXPECT_TRUE(list_models(*store_).empty());
}

}  // namespace
}  // namespace loadcast::track
