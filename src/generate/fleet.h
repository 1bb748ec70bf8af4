// The simulated fleet behind `loadcast generate`: which servers exist, when
// they are online, and how busy each one is in every hour (daily and weekly
// cycles, US holiday dips, slow growth, bursts). Pure functions of the seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace loadcast::generate {

// The servers every generated fleet holds, at indices 0 and 1.
inline constexpr const char* kWellKnownServers[] = {"210.181.165.92", "115.220.193.16"};

struct Server {
  std::string ip;  // ServerIP as written
  bool ipv6 = false;
  double peak_scale = 0;    // target peak five-minute TotalLoad sum at activity 1
  double rate = 1;          // relative session rate, about 1
  int tz_hours = 0;         // UTC offset of its users: where its day peaks
  double weekend = 1;       // activity factor on Saturdays and Sundays
  double growth = 0;        // activity growth per year
  double burst_chance = 0;  // chance per hour that a burst starts
  int64_t online_hour = 0;  // epoch hours; online in [online_hour, offline_hour)
  int64_t offline_hour = 0;
  uint8_t server_type = 1;  // ServerType, 1..4
  uint8_t traffic = 0;      // its main TrafficType (index into kTrafficTypes)
  uint64_t key = 0;         // hash key of its per-hour draws
};

class Fleet {
 public:
  // A fleet of `count` (>= 2) servers for the window [start, end] (epoch
  // seconds). Server i's traits depend on (seed, i) only, except that peak
  // scales are stratified over the fleet so every fleet size spans low,
  // medium and high hours.
  Fleet(uint64_t seed, int count, int64_t start, int64_t end);

  const std::vector<Server>& servers() const { return servers_; }

  // How busy a server is in an hour, relative to its usual (mean about 1);
  // 0 while it is offline. Scales both its session rate and its peak load.
  double activity(const Server& server, int64_t epoch_hour) const;

  // US federal holidays (observed dates), within a day of the window.
  bool holiday(int64_t epoch_day) const;

 private:
  std::vector<Server> servers_;
  int64_t first_hour_ = 0;
  int64_t holiday_first_day_ = 0;
  std::vector<bool> holidays_;
};

// E[max over the twelve five-minute buckets of an hour of the session count]
// when the hour holds Poisson(sessions_per_hour) sessions spread evenly: the
// divisor that turns a target peak bucket load into a mean load per session,
// so peaks, and so labels, do not depend on how many sessions there are.
double expected_peak_bucket_sessions(double sessions_per_hour);

}  // namespace loadcast::generate
