#include "ingest/accounting.h"

namespace loadcast {

std::string CounterName::dotted() const {
  if (group.empty()) return std::string(name);
  std::string out(group);
  out += '.';
  out += name;
  return out;
}

int64_t LineAccounting::rejected_total() const {
  int64_t total = 0;
  for (const int64_t r : rejected) total += r;
  return total;
}

bool LineAccounting::balanced() const {
  int64_t fates = 0;
  for_each_counter(*this, [&](const CounterName& c, int64_t v) {
    if (c.kind == CounterKind::kFate || c.kind == CounterKind::kRejected) fates += v;
  });
  return lines == fates;
}

void LineAccounting::add(const LineAccounting& other) {
  const auto values = counter_values(other);
  size_t i = 0;
  for_each_counter(*this, [&](const CounterName&, int64_t& v) { v += values[i++]; });
}

std::array<int64_t, kNumCounters> counter_values(const LineAccounting& a) {
  std::array<int64_t, kNumCounters> out{};
  size_t i = 0;
  for_each_counter(a, [&](const CounterName&, int64_t v) { out[i++] = v; });
  return out;
}

LineAccounting accounting_of(const std::array<int64_t, kNumCounters>& values) {
  LineAccounting a;
  size_t i = 0;
  for_each_counter(a, [&](const CounterName&, int64_t& v) { v = values[i++]; });
  return a;
}

std::string describe(const LineAccounting& a) {
  std::string out;
  for_each_counter(a, [&](const CounterName& c, int64_t v) {
    if (c.kind == CounterKind::kLines) {
      out = std::string(c.name) + " " + std::to_string(v) + ":";
    } else if (c.kind == CounterKind::kFate || c.kind == CounterKind::kRejected) {
      out += (out.back() == ':' ? " " : ", ") + std::string(c.name) + " " + std::to_string(v);
    }
  });
  return out;
}

}  // namespace loadcast
