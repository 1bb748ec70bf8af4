// The dashboard's charts, drawn as SVG on the server: a page is one answer
// that shows its charts without scripts or libraries, and every mark carries
// its value in data- attributes (the browser tests read them back).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace loadcast::ui {

struct Series {
  std::string name;
  std::string color;           // a CSS colour or var(--...)
  std::vector<double> values;  // one per x label; NaN leaves a gap
};

struct LineChart {
  std::vector<std::string> x_labels;  // every label is drawn when few, else some
  std::vector<Series> series;
  std::vector<std::pair<std::string, double>> thresholds;  // dashed horizontal lines
  bool points = false;  // a dot per value (class "point"), for few values
  bool from_zero = true;
  int width = 860;
  int height = 260;
};

// `<svg class="chart" id=ID ...>` with a legend.
std::string line_chart(const LineChart& chart, const std::string& id);

// A matrix of counts as coloured cells (class "cell", data-row, data-col,
// data-count), rows labelled on the left, columns on top.
std::string heat_map(const std::vector<std::vector<int64_t>>& counts,
                     const std::vector<std::string>& row_labels,
                     const std::vector<std::string>& column_labels, const std::string& row_title,
                     const std::string& column_title, const std::string& id);

// Horizontal bars (class "bar", data-name, data-value), largest first as given.
std::string bar_chart(const std::vector<std::pair<std::string, double>>& bars,
                      const std::string& id);

}  // namespace loadcast::ui
