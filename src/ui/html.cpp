#include "ui/html.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <utility>

#include "common/url.h"

namespace loadcast::ui {
namespace {

// Light and dark follow the reader's system setting; the class colours are
// the same everywhere: low green, medium amber, high red.
constexpr const char* kStyle = R"(
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6474; --bg: #ffffff; --panel: #f4f6f9;
  --line: #d9dee6; --accent: #2f6fd0; --low: #2e9e5b; --medium: #d99a1e; --high: #d0453a; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa3b2; --bg: #161a21;
  --panel: #1f242d; --line: #343b47; --accent: #6ea2ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
header { display: flex; gap: 20px; align-items: baseline; padding: 10px 24px; border-bottom: 1px solid var(--line);
  background: var(--panel); }
header b { font-size: 16px; }
header a { color: var(--muted); text-decoration: none; }
header a.on { color: var(--fg); font-weight: 600; border-bottom: 2px solid var(--accent); }
main { padding: 16px 24px 40px; max-width: 1280px; }
h1 { font-size: 20px; margin: 6px 0 14px; } h2 { font-size: 16px; margin: 24px 0 8px; }
a { color: var(--accent); }
table { border-collapse: collapse; margin: 4px 0 12px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.differs td { background: color-mix(in srgb, var(--accent) 10%, transparent); }
.status-finished { color: var(--low); } .status-failed { color: var(--high); } .status-running { color: var(--medium); }
.error { border-left: 4px solid var(--high); background: var(--panel); padding: 8px 12px; white-space: pre-wrap; }
.note { color: var(--muted); }
.grid { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
form.filters { display: flex; gap: 12px; align-items: end; margin-bottom: 12px; flex-wrap: wrap; }
label { display: flex; flex-direction: column; gap: 2px; color: var(--muted); }
select, input, button { font: inherit; padding: 3px 6px; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 12px; }
svg text { fill: var(--fg); font-size: 11px; } svg .axis { stroke: var(--line); } svg .grid-line { stroke: var(--line); stroke-dasharray: 2 3; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; background: var(--panel);
  border: 1px solid var(--line); }
.low { color: var(--low); } .medium { color: var(--medium); } .high { color: var(--high); }
)";

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
}

void append_all(std::string& out, std::initializer_list<std::string_view> parts) {
  for (const std::string_view p : parts) out += p;
}

std::string escaped(std::string_view text) {
  std::string out;
  append_escaped(out, text);
  return out;
}

std::vector<std::string> query_values(std::string_view query, std::string_view name,
                                      bool split_commas) {
  std::vector<std::string> values;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (url_decode(pair.substr(0, eq), true) != name) continue;
    const std::string value =
        eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1), true);
    if (!split_commas) {
      values.push_back(value);
      continue;
    }
    size_t from = 0;
    while (from <= value.size()) {
      const size_t comma = value.find(',', from);
      const std::string part =
          value.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
      if (!part.empty()) values.push_back(part);
      if (comma == std::string::npos) break;
      from = comma + 1;
    }
  }
  return values;
}

std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  auto values = query_values(query, name);
  if (values.empty()) return std::nullopt;
  return std::move(values.front());
}

std::string format_number(double value, int digits) {
  if (!std::isfinite(value)) return value != value ? "NaN" : (value > 0 ? "inf" : "-inf");
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
  return buffer;
}

std::string format_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1000 && unit < 4) {
    bytes /= 1000;
    ++unit;
  }
  return format_number(bytes, unit == 0 ? 6 : 3) + " " + kUnits[unit];
}

std::string page(std::string_view title, std::string_view section, std::string_view body) {
  std::string out;
  out.reserve(body.size() + 4096);
  out += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  out += "<title>";
  append_escaped(out, title);
  out += " · loadcast</title><link rel=\"icon\" href=\"data:,\"><style>";
  out += kStyle;
  out += "</style></head><body><header><b>loadcast</b>";
  static constexpr std::pair<const char*, const char*> kSections[] = {
      {"runs", "/"}, {"models", "/models"}, {"fleet", "/fleet"}};
  for (const auto& [name, href] : kSections) {
    out += "<a href=\"";
    out += href;
    out += '"';
    if (section == name) out += " class=\"on\"";
    out += '>';
    out += name;
    out += "</a>";
  }
  out += "</header><main>";
  out += body;
  out += "</main></body></html>\n";
  return out;
}

}  // namespace loadcast::ui
