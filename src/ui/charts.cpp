#include "ui/charts.h"

#include <algorithm>
#include <cmath>

#include "ui/html.h"

namespace loadcast::ui {
namespace {

std::string coordinate(double v) { return format_number(v, 6); }

// A round step for about `ticks` grid lines over [0, span].
double nice_step(double span, int ticks) {
  if (!(span > 0)) return 1;
  const double raw = span / ticks;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  for (const double f : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (raw <= f * magnitude) return f * magnitude;
  return 10 * magnitude;
}

}  // namespace

std::string line_chart(const LineChart& chart, const std::string& id) {
  const double left = 56, right = 16, top = 28, bottom = 42;
  const double w = chart.width - left - right, h = chart.height - top - bottom;
  double lo = chart.from_zero ? 0 : INFINITY, hi = -INFINITY;
  for (const Series& s : chart.series)
    for (const double v : s.values)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  for (const auto& t : chart.thresholds) lo = std::min(lo, t.second), hi = std::max(hi, t.second);
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi <= lo) hi = lo + 1;
  const double step = nice_step(hi - lo, 5);
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step;
  const size_t n = chart.x_labels.size();
  const auto x_of = [&](size_t i) {
    return left + (n <= 1 ? w / 2 : w * double(i) / double(n - 1));
  };
  const auto y_of = [&](double v) { return top + h - h * (v - lo) / (hi - lo); };

  std::string out = "<svg class=\"chart\" id=\"" + escaped(id) + "\" width=\"" +
                    std::to_string(chart.width) + "\" height=\"" + std::to_string(chart.height) +
                    "\" viewBox=\"0 0 " + std::to_string(chart.width) + ' ' +
                    std::to_string(chart.height) + "\" role=\"img\">";
  for (double v = lo; v <= hi + step / 2; v += step) {
    const std::string y = coordinate(y_of(v));
    append_all(out, {"<line class=\"grid-line\" x1=\"", coordinate(left), "\" x2=\"",
                     coordinate(left + w), "\" y1=\"", y, "\" y2=\"", y, "\"/>"});
    out += "<text x=\"" + coordinate(left - 6) + "\" y=\"" + y +
           "\" text-anchor=\"end\" dominant-baseline=\"middle\">" + format_number(v) + "</text>";
  }
  out += "<line class=\"axis\" x1=\"" + coordinate(left) + "\" x2=\"" + coordinate(left + w) +
         "\" y1=\"" + coordinate(top + h) + "\" y2=\"" + coordinate(top + h) + "\"/>";
  const size_t every = std::max<size_t>(1, (n + 7) / 8);  // about eight labels fit
  for (size_t i = 0; i < n; i += every)
    out += "<text x=\"" + coordinate(x_of(i)) + "\" y=\"" + coordinate(top + h + 16) +
           "\" text-anchor=\"middle\">" + escaped(chart.x_labels[i]) + "</text>";
  for (const auto& [name, value] : chart.thresholds) {
    const std::string y = coordinate(y_of(value));
    append_all(out, {"<line class=\"threshold\" data-name=\"", escaped(name), "\" data-value=\"",
                     format_number(value, 17), "\" x1=\"", coordinate(left), "\" x2=\"",
                     coordinate(left + w), "\" y1=\"", y, "\" y2=\"", y,
                     "\" stroke=\"var(--muted)\" stroke-dasharray=\"6 4\"/>"});
    out += "<text x=\"" + coordinate(left + w - 4) + "\" y=\"" + coordinate(y_of(value) - 4) +
           "\" text-anchor=\"end\" class=\"note\">" + escaped(name) + ' ' + format_number(value) +
           "</text>";
  }
  double legend_x = left;
  for (const Series& s : chart.series) {
    std::string path;
    bool pen_down = false;
    for (size_t i = 0; i < s.values.size() && i < n; ++i) {
      if (!std::isfinite(s.values[i])) {
        pen_down = false;
        continue;
      }
      path += pen_down ? " L" : " M";
      path += coordinate(x_of(i)) + ' ' + coordinate(y_of(s.values[i]));
      pen_down = true;
    }
    out += "<path class=\"line\" data-series=\"" + escaped(s.name) + "\" d=\"" + path +
           "\" fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"2\"/>";
    if (chart.points)
      for (size_t i = 0; i < s.values.size() && i < n; ++i) {
        if (!std::isfinite(s.values[i])) continue;
        out += "<circle class=\"point\" data-series=\"" + escaped(s.name) + "\" data-x=\"" +
               escaped(chart.x_labels[i]) + "\" data-value=\"" + format_number(s.values[i], 17) +
               "\" cx=\"" + coordinate(x_of(i)) + "\" cy=\"" + coordinate(y_of(s.values[i])) +
               "\" r=\"4\" fill=\"" + s.color + "\"><title>" + escaped(s.name) + ' ' +
               escaped(chart.x_labels[i]) + ": " + format_number(s.values[i]) + "</title></circle>";
      }
    out += "<rect x=\"" + coordinate(legend_x) + "\" y=\"8\" width=\"12\" height=\"4\" fill=\"" +
           s.color + "\"/><text x=\"" + coordinate(legend_x + 16) + "\" y=\"13\">" +
           escaped(s.name) + "</text>";
    legend_x += 28 + 7.0 * static_cast<double>(s.name.size());
  }
  out += "</svg>";
  return out;
}

std::string heat_map(const std::vector<std::vector<int64_t>>& counts,
                     const std::vector<std::string>& row_labels,
                     const std::vector<std::string>& column_labels, const std::string& row_title,
                     const std::string& column_title, const std::string& id) {
  const int cell = 64, left = 96, top = 44;
  const int rows = static_cast<int>(counts.size());
  const int columns = rows == 0 ? 0 : static_cast<int>(counts[0].size());
  int64_t most = 1;
  for (const auto& row : counts)
    for (const int64_t c : row) most = std::max(most, c);
  const int width = left + cell * columns + 8, height = top + cell * rows + 8;
  std::string out = "<svg class=\"heat-map\" id=\"" + escaped(id) + "\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) + "\">";
  out += "<text x=\"" + std::to_string(left + cell * columns / 2) +
         "\" y=\"12\" text-anchor=\"middle\" class=\"note\">" + escaped(column_title) + "</text>";
  out += "<text x=\"8\" y=\"" + std::to_string(top - 8) + "\" class=\"note\">" +
         escaped(row_title) + "</text>";
  for (int c = 0; c < columns; ++c)
    out += "<text x=\"" + std::to_string(left + cell * c + cell / 2) + "\" y=\"" +
           std::to_string(top - 8) + "\" text-anchor=\"middle\">" +
           escaped(c < static_cast<int>(column_labels.size()) ? column_labels[c] : "") + "</text>";
  for (int r = 0; r < rows; ++r) {
    out += "<text x=\"" + std::to_string(left - 8) + "\" y=\"" +
           std::to_string(top + cell * r + cell / 2) +
           "\" text-anchor=\"end\" dominant-baseline=\"middle\">" +
           escaped(r < static_cast<int>(row_labels.size()) ? row_labels[r] : "") + "</text>";
    for (int c = 0; c < columns; ++c) {
      const int64_t count = counts[r][c];
      const double share = static_cast<double>(count) / static_cast<double>(most);
      const int x = left + cell * c, y = top + cell * r;
      out += "<rect class=\"cell\" data-row=\"" + std::to_string(r) + "\" data-col=\"" +
             std::to_string(c) + "\" data-count=\"" + std::to_string(count) + "\" x=\"" +
             std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
             std::to_string(cell - 2) + "\" height=\"" + std::to_string(cell - 2) +
             "\" fill=\"var(--accent)\" fill-opacity=\"" + format_number(0.08 + 0.85 * share, 3) +
             "\"/>";
      out += "<text x=\"" + std::to_string(x + cell / 2 - 1) + "\" y=\"" +
             std::to_string(y + cell / 2) +
             "\" text-anchor=\"middle\" dominant-baseline=\"middle\">" + std::to_string(count) +
             "</text>";
    }
  }
  out += "</svg>";
  return out;
}

std::string bar_chart(const std::vector<std::pair<std::string, double>>& bars,
                      const std::string& id) {
  const int row = 20, left = 220, width = 640;
  double most = 0;
  for (const auto& b : bars) most = std::max(most, b.second);
  if (!(most > 0)) most = 1;
  const int height = row * static_cast<int>(bars.size()) + 8;
  std::string out = "<svg class=\"bars\" id=\"" + escaped(id) + "\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) + "\">";
  for (size_t i = 0; i < bars.size(); ++i) {
    const auto& [name, value] = bars[i];
    const int y = static_cast<int>(i) * row + 4;
    const double length = (width - left - 70) * value / most;
    out += "<text x=\"" + std::to_string(left - 6) + "\" y=\"" + std::to_string(y + row / 2) +
           "\" text-anchor=\"end\" dominant-baseline=\"middle\">" + escaped(name) + "</text>";
    out += "<rect class=\"bar\" data-name=\"" + escaped(name) + "\" data-value=\"" +
           format_number(value, 17) + "\" x=\"" + std::to_string(left) + "\" y=\"" +
           std::to_string(y + 3) + "\" width=\"" + coordinate(std::max(1.0, length)) +
           "\" height=\"" + std::to_string(row - 6) + "\" fill=\"var(--accent)\"/>";
    out += "<text x=\"" + coordinate(left + std::max(1.0, length) + 6) + "\" y=\"" +
           std::to_string(y + row / 2) + "\" dominant-baseline=\"middle\">" +
           format_number(value, 3) + "</text>";
  }
  out += "</svg>";
  return out;
}

}  // namespace loadcast::ui
