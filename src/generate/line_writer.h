// The text of one session line in either layout of docs/data-format.md: clean, on the fast
// path (hand-written digits straight into the caller's buffer), or made dirty
// in one of the ways the ETL must reject, count as missing, or still accept.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "generate/fleet.h"
#include "ingest/layout.h"

namespace loadcast::generate {

inline constexpr std::array<std::string_view, 4> kTrafficTypes = {"web", "api", "video", "mobile"};

// One session, as numbers.
struct Session {
  int64_t start = 0;  // epoch seconds
  int64_t end = 0;
  uint32_t server = 0;  // index into the fleet
  uint32_t connections = 0;
  uint32_t mbytes_centi = 0;  // MbytesTransferred x 100, written with two decimals
  uint32_t sub_load[5] = {};
  uint32_t secure_load = 0;
  uint32_t total_load = 0;
  uint32_t client_ip = 0;  // IPv4, most significant octet first
  uint8_t traffic = 0;
  uint8_t grade = 1;
  uint8_t http1 = 0;
  uint8_t server_type = 1;
};

// The dirty variants. The first group makes the ETL reject the line (or count
// it blank); the numeric group leaves it accepted with a missing value; the
// rest are valid lines in unusual spellings, and lines outside the window.
enum class DirtyKind : uint8_t {
  kTooFewFields,
  kTooManyFields,
  kMonth13,
  kFeb30,
  kGarbageTime,
  kIpOutOfRange,
  kIpText,
  kIpLeadingZero,
  kBlank,
  kEmptyNumber,
  kNaN,
  kInfinity,
  kTextNumber,
  kQuotedComma,
  kTimeT,
  kTimeZ,
  kTimeFraction,
  kTimeOffset,
  kOutsideWindow,
};
inline constexpr int kDirtyKindCount = static_cast<int>(DirtyKind::kOutsideWindow) + 1;
std::string_view dirty_kind_name(DirtyKind kind);

class LineWriter {
 public:
  // Room write_clean needs: the longest clean line plus the slack of its
  // fixed-width copies.
  static constexpr size_t kMaxCleanLine = 320;

  // REQUIRES: layout is kSessions17 or kSessions16.
  LineWriter(const Fleet& fleet, Layout layout, int64_t window_start, int64_t window_end);

  // Writes the clean line and its '\n' at `out`; returns the end.
  // REQUIRES: kMaxCleanLine bytes of room.
  char* write_clean(char* p, const Session& s) const;

  // Appends a dirty variant of the session and its '\n'; `bits` picks among
  // the spellings of that kind.
  void append_dirty(std::string& out, const Session& session, DirtyKind kind, uint64_t bits) const;

 private:
  // Fixed-width copies of the variable texts, so the hot path copies a
  // constant number of bytes and advances by the real length.
  struct ShortText {
    std::array<char, 32> text{};
    uint8_t size = 0;
  };
  // The text `YYYY-MM-DD HH:` of the hour last written through it.
  struct HourPrefix {
    int64_t hour = INT64_MIN;
    std::array<char, 24> text{};
  };

  // `YYYY-MM-DD HH:MM:SS` (19 bytes); returns the end.
  char* write_time(char* out, int64_t t) const;
  // The same through a cache of the hour's text.
  char* write_time(char* out, int64_t t, HourPrefix& cache) const;
  static char* put_short(char* out, const ShortText& text);
  char* put_client_ip(char* out, uint32_t ip) const;

  std::vector<ShortText> server_ip_;                     // per server
  std::array<ShortText, kTrafficTypes.size()> traffic_;  // with the comma
  std::array<ShortText, 256> octet_;                     // "0." .. "255."
  bool sessions17_;
  int64_t window_start_;
  int64_t window_end_;
  int64_t first_day_;                           // of day_text_
  std::vector<std::array<char, 11>> day_text_;  // "YYYY-MM-DD " per day
};

}  // namespace loadcast::generate
