// The encoder against the golden case: categories, counts, only-indexed vs
// one-hot, scaler std and the feature layout of expected/encoding.json; the
// same encoder for any row order and over ranks (simulated by threads).
#include "encode/encoder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "store/tables.h"
#include "support/thread_communicator.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;

const fs::path kGolden = LOADCAST_GOLDEN_DIR;

nlohmann::json golden_encoding() {
  std::ifstream in(kGolden / "expected" / "encoding.json");
  return nlohmann::json::parse(in);
}

// The golden feature table, read through the store's reader from a
// partition folder like the ETL writes.
const std::vector<FeatureRow>& golden_rows() {
  static const std::vector<FeatureRow> rows = [] {
    const fs::path dir = fs::temp_directory_path() /
                         ("loadcast_encode_test_" + std::to_string(::getpid())) / "features";
    fs::create_directories(dir / "2016" / "07");
    fs::copy_file(kGolden / "expected" / "features.csv", dir / "2016" / "07" / "part-00000.csv",
                  fs::copy_options::overwrite_existing);
    auto result = read_feature_table(dir, default_feature_schema());
    fs::remove_all(dir.parent_path());
    return result;
  }();
  return rows;
}

TEST(EncodeGolden, CategoriesCountsAndKinds) {
  const auto expected = golden_encoding();
  Encoder encoder;
  encoder.fit(golden_rows(), default_feature_schema());
  ASSERT_EQ(encoder.fitted_rows(), expected["rows"].get<int64_t>());
  ASSERT_EQ(encoder.columns().size(),
            static_cast<size_t>(static_cast<int>(default_feature_schema().categorical().size())));
  for (const auto& index : encoder.columns()) {
    SCOPED_TRACE(index.column);
    EXPECT_EQ(index.categories,
              expected["categories"][index.column].get<std::vector<std::string>>());
    EXPECT_EQ(index.counts, expected["categoryCounts"][index.column].get<std::vector<int64_t>>());
  }
  EXPECT_EQ(encoder.column_only_indexed(),
            expected["columnOnlyIndexed"].get<std::vector<std::string>>());
  EXPECT_EQ(encoder.column_for_encode(),
            expected["columnForEncode"].get<std::vector<std::string>>());
}

TEST(EncodeGolden, ScalerStd) {
  const auto expected = golden_encoding();
  Encoder encoder;
  encoder.fit(golden_rows(), default_feature_schema());
  for (int s = 0; s < default_feature_schema().num_scaled(); ++s) {
    const std::string name = default_feature_schema().scaled_name(s);
    const double want = expected["scalerStd"][name].get<double>();
    const double got = encoder.scaler_std()[s];
    EXPECT_NEAR(got, want, 1e-9 * std::abs(want) + 1e-12) << name;
  }
}

TEST(EncodeGolden, FeatureLayout) {
  const auto expected = golden_encoding();
  Encoder encoder;
  encoder.fit(golden_rows(), default_feature_schema());
  EXPECT_EQ(encoder.num_features(), 60);
  EXPECT_EQ(encoder.num_features(), expected["numFeatures"].get<int>());
  EXPECT_EQ(encoder.feature_names(), expected["featureNames"].get<std::vector<std::string>>());
}

TEST(EncodeGolden, TransformFollowsTheLayout) {
  Encoder encoder;
  const auto& rows = golden_rows();
  encoder.fit(rows, default_feature_schema());
  const auto& names = encoder.feature_names();
  std::vector<double> v(encoder.num_features());
  for (const auto& row : rows) {
    encoder.transform(row, v);
    EXPECT_EQ(v[0], row.linear_trend);
    EXPECT_EQ(v[1], 0.0);  // year_index: a single category
    EXPECT_EQ(v[2], 0.0);  // month_index
    // Each one-hot block holds at most a single 1, and exactly one unless
    // the row's category is the dropped last one.
    for (const auto& index : encoder.columns()) {
      if (index.only_indexed) continue;
      const auto first =
          std::find(names.begin(), names.end(), index.column + "=" + index.categories[0]);
      ASSERT_NE(first, names.end());
      const size_t begin = first - names.begin();
      double sum = 0;
      for (size_t i = 0; i + 1 < index.categories.size(); ++i) sum += v[begin + i];
      const int i = index.index_of(default_feature_schema().categorical_value(
          row, static_cast<int>(&index - &encoder.columns()[0])));
      EXPECT_EQ(sum, i + 1 == static_cast<int>(index.categories.size()) ? 0.0 : 1.0)
          << index.column;
    }
    for (int s = 0; s < default_feature_schema().num_scaled(); ++s) {
      const double sd = encoder.scaler_std()[s];
      EXPECT_EQ(v[40 + s], sd == 0 ? 0.0 : default_feature_schema().scaled_value(row, s) / sd);
    }
  }
}

TEST(Encode, UnseenCategoriesAndJsonRoundTrip) {
  Encoder encoder;
  const auto& rows = golden_rows();
  encoder.fit(rows, default_feature_schema());
  FeatureRow odd = rows.front();
  odd.server_ip = "10.0.0.1";  // never seen: all zeros in its block
  odd.calendar.year = 2020;    // only-indexed, never seen: the value n = 1
  std::vector<double> v(encoder.num_features());
  encoder.transform(odd, v);
  EXPECT_EQ(v[1], 1.0);
  const auto& names = encoder.feature_names();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].starts_with("ServerIP=")) {
      EXPECT_EQ(v[i], 0.0) << names[i];
    }
  }

  const Encoder loaded = Encoder::from_json(nlohmann::json::parse(encoder.to_json().dump()));
  EXPECT_EQ(loaded.to_json().dump(), encoder.to_json().dump());
  std::vector<float> a(encoder.num_features()), b(encoder.num_features());
  for (const auto& row : rows) {
    encoder.transform(row, a);
    loaded.transform(row, b);
    ASSERT_EQ(a, b);
  }
  const auto all = encoder.transform_all(rows, 2);
  encoder.transform(rows.back(), a);
  EXPECT_TRUE(std::equal(a.begin(), a.end(), all.end() - encoder.num_features()));
}

TEST(Encode, SameEncoderForAnyRowOrderAndRankCount) {
  const auto& rows = golden_rows();
  Encoder one;
  one.fit(rows, default_feature_schema());
  const std::string expected = one.to_json().dump();

  std::vector<FeatureRow> reversed(rows.rbegin(), rows.rend());
  Encoder backwards;
  backwards.fit(reversed, default_feature_schema());
  EXPECT_EQ(backwards.to_json().dump(), expected);

  for (int ranks : {2, 3, 4}) {
    std::vector<std::string> got(ranks);
    testing::run_ranks(ranks, [&](dist::Communicator& comm) {
      // Uneven shares: rank r takes every row whose index mod (ranks + 1) is r,
      // and the last rank the rest as well.
      std::vector<FeatureRow> mine;
      for (size_t i = 0; i < rows.size(); ++i) {
        const int owner = std::min(static_cast<int>(i % (ranks + 1)), ranks - 1);
        if (owner == comm.rank()) mine.push_back(rows[i]);
      }
      Encoder encoder;
      encoder.fit(mine, comm, default_feature_schema());
      got[comm.rank()] = encoder.to_json().dump();
    });
    for (int r = 0; r < ranks; ++r) EXPECT_EQ(got[r], expected) << ranks << " ranks, rank " << r;
  }
}

TEST(Encode, RejectsAnotherFormatVersion) {
  Encoder encoder;
  encoder.fit(golden_rows(), default_feature_schema());
  auto json = encoder.to_json();
  json["formatVersion"] = 99;
  try {
    Encoder::from_json(json);
    FAIL() << "expected a Failure";
  } catch (const Failure& f) {
    EXPECT_NE(std::string(f.what()).find("version 99"), std::string::npos) << f.what();
  }
}

}  // namespace
}  // namespace loadcast
