#include "fuzz_support.h"

#include <unistd.h>

#include "config/config.h"
#include "etl/etl.h"
#include "model/trainer.h"
#include "store/tables.h"

namespace loadcast::fuzz {

namespace fs = std::filesystem;

const fs::path& scratch_dir() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("loadcast-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(scratch_dir(), ec);
    });
    return d;
  }();
  return dir;
}

const Golden& golden() {
  static const Golden g = [] {
    Golden out;
    out.output = scratch_dir() / "golden";
    out.model_dir = out.output / "model";
    Config config = load_config(fs::path(LOADCAST_GOLDEN_DIR) / "config.json");
    config.output = out.output;
    config.forest.num_trees = 5;
    run_etl(config, EtlOptions{});
    const auto rows = read_feature_table(out.output / "features", default_feature_schema());
    train_model(config, rows, TrainRequest{}).model->save(out.model_dir);
    out.model = serve::load_model_bundle(out.model_dir);
    serve::ServiceOptions options;
    options.require_auth = false;
    out.service = std::make_unique<serve::ScoringService>(
        options, out.model, read_stores(out.output, default_feature_schema()));
    return out;
  }();
  return g;
}

}  // namespace loadcast::fuzz
