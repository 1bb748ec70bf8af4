// The model-bundle loader on corrupted bundles: one of the four files of a
// good bundle replaced by the input. The loader refuses with a data error
// naming the bundle, or loads a model that is whole: as many features as
// its encoder makes, and predictions that are classes 1..3 with
// probabilities that sum to 1.
#include <cmath>
#include <fstream>
#include <string>

#include "common/error.h"
#include "fuzz_support.h"
#include "model/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loadcast;
  namespace fs = std::filesystem;
  if (size == 0) return 0;
  const fuzz::Golden& g = fuzz::golden();
  static const char* kFiles[] = {"info.json", "encoder.json", "forest.json", "metrics.json"};
  const fs::path dir = fuzz::scratch_dir() / "bundle";
  fs::remove_all(dir);
  fs::copy(g.model_dir, dir);
  {
    std::ofstream out(dir / kFiles[data[0] % 4], std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  try {
    const Model model = Model::load(dir);
    fuzz::check(model.forest().num_features() == model.encoder().num_features(),
                "a model whose forest and encoder disagree");
    std::vector<FeatureRow> rows(3);
    rows[0].server_ip = "210.181.165.92";
    rows[0].hour = 1467331200;  // 2016-07-01 00:00:00
    rows[1].server_ip = "2001:db8::7";
    rows[1].hour = 1467500400;
    rows[1].lags[0] = 1e6;
    rows[2].server_ip = "unseen";
    for (const Prediction& p : model.predict(rows)) {
      fuzz::check(p.label >= 1 && p.label <= 3, "a prediction outside 1..3");
      double sum = 0;
      for (double q : p.probability) {
        fuzz::check(std::isfinite(q) && q >= 0, "a probability that is not a probability");
        sum += q;
      }
      fuzz::check(std::abs(sum - 1) < 1e-9, "probabilities that do not sum to 1");
    }
  } catch (const Failure& f) {
    fuzz::check(f.code() == ExitCode::kData, "a bad bundle that is not a data error");
    fuzz::check(std::string(f.what()).starts_with("model bundle "),
                "an error that does not name the bundle");
  }
  return 0;
}
