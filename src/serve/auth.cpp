#include "serve/auth.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace loadcast::serve {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Walk the longer length so a short guess costs as much as a long one.
  const size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

ServiceKeys::ServiceKeys(std::vector<std::string> keys) : keys_(std::move(keys)) {}

ServiceKeys ServiceKeys::parse(std::string_view text, const std::string& origin) {
  std::vector<std::string> keys;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find_first_of(",\n", start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view entry = trim(text.substr(start, end - start));
    if (!entry.empty() && entry.front() != '#') keys.emplace_back(entry);
    start = end + 1;
  }
  if (keys.empty()) fail_usage(origin + ": no service key (expected \"primary[,secondary]\")");
  if (keys.size() > 2)
    fail_usage(origin + ": more than two service keys (expected \"primary[,secondary]\")");
  return ServiceKeys(std::move(keys));
}

ServiceKeys ServiceKeys::from_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail_usage("cannot read keys file " + file.string());
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), "keys file " + file.string());
}

bool ServiceKeys::accepts(std::string_view authorization) const {
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size()) return false;
  bool scheme_ok = true;
  for (size_t i = 0; i < kScheme.size(); ++i)
    scheme_ok &= std::tolower(static_cast<unsigned char>(authorization[i])) ==
                 std::tolower(static_cast<unsigned char>(kScheme[i]));
  const std::string_view token = trim(authorization.substr(kScheme.size()));
  bool match = false;
  for (const std::string& key : keys_) match |= constant_time_equal(token, key);
  return scheme_ok && match;
}

}  // namespace loadcast::serve
