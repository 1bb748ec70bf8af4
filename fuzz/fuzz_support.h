// What the fuzz targets share: a check that ends the run with a message
// (libFuzzer keeps the input that made it fail), and a model bundle, stores
// and scoring service trained once per process on the golden case.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "serve/service.h"

namespace loadcast::fuzz {

// Ends the process when `ok` is false: a finding.
inline void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz finding: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

inline std::string_view text_of(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A folder of the process, removed at exit.
const std::filesystem::path& scratch_dir();

// The golden case's ETL output and a small bundle trained on it, built on
// first use: `output()/model`, `output()/hourly`, `output()/daily`.
struct Golden {
  std::filesystem::path output;
  std::filesystem::path model_dir;
  std::shared_ptr<const serve::LoadedModel> model;
  std::unique_ptr<serve::ScoringService> service;  // no keys, the golden stores
};
const Golden& golden();

}  // namespace loadcast::fuzz
