// The eight measures a session carries and the aggregates sum (TotalLoad,
// MbytesTransferred, SubService_1..5_Load, SecureBytes_Load), in the order
// of every table and vector downstream.
#pragma once

#include <array>
#include <string_view>

namespace loadcast {

inline constexpr int kNumMeasures = 8;
// Short names, as the feature and store columns spell them (peakLoad,
// peakBytes, ..., peakLoadSecure).
inline constexpr std::array<std::string_view, kNumMeasures> kMeasureNames = {
    "Load", "Bytes", "Load1", "Load2", "Load3", "Load4", "Load5", "LoadSecure"};

// The raw session fields they are read from, in the same order.
inline constexpr std::array<std::string_view, kNumMeasures> kMeasureFieldNames = {
    "TotalLoad",         "MbytesTransferred", "SubService_1_Load", "SubService_2_Load",
    "SubService_3_Load", "SubService_4_Load", "SubService_5_Load", "SecureBytes_Load"};

}  // namespace loadcast
