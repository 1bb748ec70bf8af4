// The Parquet reader on any bytes as a store part: either a data error
// naming the file or its store, or stores whose every server's history is whole (its
// hours and days as long as the grid from its first to its last).
#include <fstream>
#include <string>

#include "common/error.h"
#include "fuzz_support.h"
#include "parquet/file.h"
#include "store/tables.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loadcast;
  namespace fs = std::filesystem;
  const fs::path root = fuzz::scratch_dir() / "parquet";
  const fs::path part = root / "hourly" / "2016" / "07" / "part-00000.parquet";
  fs::create_directories(part.parent_path());
  {
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const parquet::FileReader file(part);
    for (size_t g = 0; g < file.row_groups(); ++g)
      for (int c = 0; c < static_cast<int>(file.columns().size()); ++c) {
        const parquet::ColumnData column = file.read(g, c);
        fuzz::check(column.size() == file.rows(g), "a column of another length than its group");
        if (column.type() == parquet::PhysicalType::kByteArray)
          for (size_t i = 0; i < static_cast<size_t>(column.size()); ++i) column.text(i);
      }
    for (const ServerHistory& h : read_stores(root, default_feature_schema()))
      fuzz::check(!h.hours.empty() && !h.daily.empty(), "a server without hours or days");
  } catch (const Failure& f) {
    fuzz::check(f.code() == ExitCode::kData, "a bad part that is not a data error");
    fuzz::check(std::string(f.what()).find(root.string()) != std::string::npos,
                "an error that does not name the part or its store");
  }
  return 0;
}
