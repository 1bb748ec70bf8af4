// The configuration loader on any text: it reads a configuration or
// refuses it with a usage error naming the file (and the field, when one is
// at fault); nothing else may come out of it.
#include <string>

#include "common/error.h"
#include "config/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loadcast;
  const std::string text(fuzz::text_of(data, size));
  try {
    const Config c = parse_config(text, "fuzz.json");
    fuzz::check(!c.data_file.empty(), "a configuration without dataFile");
    fuzz::check(c.train_begin <= c.train_end, "a window that ends before it begins");
    fuzz::check(c.test_split_start > c.train_begin && c.test_split_start <= c.train_end,
                "a split outside the window");
    fuzz::check(c.low_threshold <= c.high_threshold, "thresholds out of order");
    fuzz::check(!c.output.empty(), "no output folder");
  } catch (const Failure& f) {
    fuzz::check(f.code() == ExitCode::kUsage, "a configuration error that is not a usage error");
    const std::string what = f.what();
    fuzz::check(what.starts_with("fuzz.json: "), "an error that does not name the file");
    fuzz::check(what.find('\n') == std::string::npos, "an error of more than one line");
  }
  return 0;
}
