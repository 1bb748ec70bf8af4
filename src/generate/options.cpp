#include "generate/options.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"
#include "common/time.h"

namespace loadcast::generate {

namespace {

// Fleet sizing when --servers is not given: a realistic per-server session
// rate, with enough servers for a fleet, and few enough that evaluating every
// server for every slice stays a small part of the work.
constexpr double kSessionsPerServerHour = 50;
constexpr int kMinDefaultServers = 8;
constexpr int kMaxDefaultServers = 2000;
constexpr int kMaxServers = 100000;

// --start or --end: a window time, written back as a timestamp.
Param<GenerateOptions> window_time(std::string name, int64_t GenerateOptions::*member,
                                   const char* def, bool end_of_day, std::string help) {
  Param<GenerateOptions> p;
  p.name = std::move(name);
  p.type_name = "timestamp";
  p.help = std::move(help);
  p.default_text = def;
  const int64_t value = *parse_window_time(def, end_of_day);
  p.set_default = [member, value](GenerateOptions& o) { o.*member = value; };
  p.from_text = [member, end_of_day](std::string_view text,
                                     GenerateOptions& o) -> std::optional<ParamProblem> {
    const auto t = parse_window_time(text, end_of_day);
    if (!t) return ParamProblem::wrong_type("YYYY-MM-DD[ HH:MM:SS]");
    o.*member = *t;
    return std::nullopt;
  };
  p.to_json = [member](const GenerateOptions& o) {
    return nlohmann::json(format_timestamp(o.*member));
  };
  return p;
}

}  // namespace

const ParamSet<GenerateOptions>& generate_params() {
  static const ParamSet<GenerateOptions> set = [] {
    ParamSet<GenerateOptions> s;
    using O = GenerateOptions;
    s.add(window_time("start", &O::start, "2016-06-01 00:00:00", false,
                      "first session second (UTC), YYYY-MM-DD[ HH:MM:SS]; a bare date means its "
                      "00:00:00"));
    s.add(window_time("end", &O::end, "2016-06-30 23:59:59", true,
                      "last session second (UTC), inclusive; a bare date is its 23:59:59"));
    s.integer<int>("servers", &O::servers, 0, 0, kMaxServers,
                   "fleet size, 2 or more; 0 = from --size: about 50 sessions per server-hour, "
                   "8 to 2000 servers, per-session loads scaled so the label balance holds");
    s.size("size", &O::size, uint64_t{100} << 20, 1, uint64_t{1} << 50,
           "bytes to write, within a few percent; suffixes K, M, G, T are powers of 1024 "
           "(500K, 1G, 1.5G)");
    s.real("dirty-rate", &O::dirty_rate, 0.01, RealRange{0, 1},
           "share of all lines that are dirty: wrong field counts, bad timestamps and server "
           "IPs, blank lines, empty/NaN/inf/text numbers, and valid oddities (quoted commas, "
           "T/Z/fraction/offset timestamps, a few lines outside the window)");
    s.choice<Layout>(kLayoutParam, &O::layout, Layout::kSessions17,
                     {{"sessions17", Layout::kSessions17}, {"sessions16", Layout::kSessions16}},
                     "sessions17 (TrafficType first, ServerIP before ClientIP) or sessions16");
    s.integer<uint64_t>(kSeedParam, &O::seed, 1, 0, UINT64_MAX,
                        "random seed; another seed gives another data set");
    s.integer<int>("threads", &O::threads, 0, 0, 1024,
                   "worker threads; 0 = one per hardware thread; the bytes are the same for "
                   "every value");
    return s;
  }();
  return set;
}

GenerateOptions::GenerateOptions() { generate_params().set_defaults(*this); }

void validate(const GenerateOptions& o) {
  const ParamSet<GenerateOptions>& params = generate_params();
  params.check(o, ParamSource{"", ExitCode::kUsage, true});
  if (o.servers == 1)
    fail_usage(
        "--servers 1 is impossible: the fleet always holds 115.220.193.16 and "
        "210.181.165.92");
  if (o.end < o.start)
    fail_usage("--end " + format_timestamp(o.end) + " is before --start " +
               format_timestamp(o.start));
}

std::optional<int64_t> parse_window_time(std::string_view text, bool end_of_day) {
  std::string full(text);
  if (text.size() == 10) full += end_of_day ? " 23:59:59" : " 00:00:00";
  std::optional<TimeNs> t = parse_timestamp(full);
  if (!t) return std::nullopt;
  return seconds_of(*t);
}

int default_servers(const GenerateOptions& o) {
  double hours = std::max(1.0, static_cast<double>(o.end - o.start + 1) / kSecondsPerHour);
  double lines = static_cast<double>(o.size) / kBytesPerLineGuess;
  double servers = std::round(lines / (hours * kSessionsPerServerHour));
  return static_cast<int>(
      std::clamp(servers, double{kMinDefaultServers}, double{kMaxDefaultServers}));
}

}  // namespace loadcast::generate
