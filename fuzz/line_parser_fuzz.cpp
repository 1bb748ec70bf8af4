// The CSV line parser on any bytes, in either layout, with and without the
// FILTER_IP mode: every physical line is accounted for exactly once, the
// accepted lines are the sessions in the five-minute table, and parsing the
// text in two pieces cut at a line end gives the same counts.
#include <string>

#include "aggregate/server_dictionary.h"
#include "common/time.h"
#include "fuzz_support.h"
#include "ingest/line_parser.h"

namespace {

using namespace loadcast;

LineAccounting parse(const LineRules& rules, std::string_view text, BucketTable& table) {
  ServerDictionary servers;
  LineParser parser(rules, servers);
  LineAccounting acc;
  parser.parse(text, table, acc);
  return acc;
}

int64_t physical_lines(std::string_view text) {
  int64_t lines = 0;
  for (char c : text) lines += c == '\n';
  return lines + (!text.empty() && text.back() != '\n');
}

int64_t sessions(const BucketTable& table) {
  int64_t n = 0;
  for (const auto& e : table.entries()) n += e.sums.sessions;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view text = fuzz::text_of(data + 1, size - 1);
  LineRules rules;
  rules.layout = (mode & 1) ? Layout::kSessions16 : Layout::kSessions17;
  rules.window_begin = *parse_timestamp("2016-06-01 00:00:00");
  rules.window_end = *parse_timestamp("2016-07-31 23:59:59");
  rules.filter_ip = (mode & 2) != 0;
  rules.filter_ips = {"210.181.165.92", "2001:db8::7"};

  BucketTable whole;
  const LineAccounting acc = parse(rules, text, whole);
  fuzz::check(acc.balanced(), "the line accounting does not balance");
  fuzz::check(acc.lines == physical_lines(text), "lines are not the physical lines");
  fuzz::check(acc.bytes == static_cast<int64_t>(text.size()), "bytes are not the input's");
  fuzz::check(sessions(whole) == acc.accepted, "accepted lines are not the table's sessions");

  // Two pieces cut after a newline count the same.
  const size_t cut = text.find('\n', (mode >> 2) * text.size() / 64);
  if (cut != std::string_view::npos) {
    BucketTable first, second;
    LineAccounting pieces = parse(rules, text.substr(0, cut + 1), first);
    pieces.add(parse(rules, text.substr(cut + 1), second));
    fuzz::check(counter_values(pieces) == counter_values(acc), "two pieces count otherwise");
    fuzz::check(sessions(first) + sessions(second) == sessions(whole), "two pieces sum otherwise");
  }
  return 0;
}
