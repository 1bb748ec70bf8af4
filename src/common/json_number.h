// Whole numbers read from JSON files (bundles, forests, encoders) with
// their range checked: nlohmann's get<int>() casts a float such as 9e86
// without a check, which is undefined behaviour. A float or a value outside
// T's range throws nlohmann's out_of_range, as other malformed values throw
// its type_error, so readers report both alike.
#pragma once

#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

namespace loadcast {

template <class T>
T whole_number(const nlohmann::json& v) {
  if (v.is_number_float())
    throw nlohmann::json::out_of_range::create(406, v.dump() + " is not a whole number", &v);
  if (v.is_number_unsigned() &&
      v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max()))
    throw nlohmann::json::out_of_range::create(406, v.dump() + " is too large", &v);
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    const auto n = v.get<int64_t>();
    if (n < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
        (n > 0 && static_cast<uint64_t>(n) > static_cast<uint64_t>(std::numeric_limits<T>::max())))
      throw nlohmann::json::out_of_range::create(406, v.dump() + " is out of range", &v);
  }
  return v.get<T>();  // a whole number in range, or type_error for a non-number
}

template <class T>
std::vector<T> whole_numbers(const nlohmann::json& v) {
  if (!v.is_array()) return v.get<std::vector<T>>();  // type_error
  std::vector<T> out;
  out.reserve(v.size());
  for (const auto& e : v) out.push_back(whole_number<T>(e));
  return out;
}

}  // namespace loadcast
