#include "store/tables.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "common/error.h"
#include "common/faults.h"
#include "common/number.h"
#include "common/thread_pool.h"
#include "common/time.h"

namespace loadcast {

namespace fs = std::filesystem;

namespace {

// Puts ",v1,...,v8" at `out`; returns its end.
char* put_peaks(char* out, const std::array<double, kNumMeasures>& values) {
  for (double v : values) {
    *out++ = ',';
    out = put_double(out, v);
  }
  return out;
}
// The most text of a store row after its server's: its time, measures,
// sessions and newline. The rows are put together there and appended at once.
constexpr size_t kStoreRowRestChars =
    kTimestampChars + kNumMeasures * (kMaxDoubleChars + 1) + kMaxIntChars + 2;

constexpr size_t kFlushBytes = 1 << 20;
// Rows of a month appended at once from this size on skip the buffer.
constexpr size_t kDirectBytes = size_t{64} << 10;
// What a writer holds in all its buffers at most, whatever the partitions:
// a FULL window has some ninety months open at once.
constexpr size_t kBufferedBytes = size_t{4} << 20;
// A Parquet file's row group ends once it holds this much; and when a
// writer's files together hold more than kParquetBufferedBytes, the largest
// groups end early. Both follow from the rows appended so far.
constexpr size_t kRowGroupBytes = size_t{8} << 20;
constexpr size_t kParquetBufferedBytes = size_t{32} << 20;

// The columns of a table: their names, and their Parquet types.
std::vector<parquet::Column> table_columns(Table table, const FeatureSchema& schema) {
  using parquet::LogicalType;
  using parquet::PhysicalType;
  const parquet::Column text{"", PhysicalType::kByteArray, LogicalType::kString};
  const parquet::Column hour{"", PhysicalType::kInt64, LogicalType::kTimestampMicros};
  const parquet::Column real{"", PhysicalType::kDouble, LogicalType::kNone};
  const parquet::Column integer{"", PhysicalType::kInt64, LogicalType::kNone};
  std::vector<parquet::Column> columns;
  if (table == Table::kFeatures) {
    for (const FeatureColumn& c : schema.columns()) {
      switch (c.type) {
        case ColumnType::kText:
        case ColumnType::kWeekday:
          columns.push_back(text);
          break;
        case ColumnType::kTimestamp:
          columns.push_back(hour);
          break;
        case ColumnType::kReal:
          columns.push_back(real);
          break;
        default:
          columns.push_back(integer);
          break;
      }
      columns.back().name = c.name;
    }
    return columns;
  }
  const bool hourly = table == Table::kHourly;
  const auto& names = hourly ? schema.hourly_store_names() : schema.daily_store_names();
  columns.push_back(text);
  columns.push_back(hourly ? hour : parquet::Column{"", PhysicalType::kInt32, LogicalType::kDate});
  for (int m = 0; m < kNumMeasures; ++m) columns.push_back(real);
  if (hourly) columns.push_back(integer);
  for (size_t i = 0; i < columns.size(); ++i) columns[i].name = names[i];
  return columns;
}

constexpr int64_t kMicrosPerSecond = 1000000;

}  // namespace

uint64_t table_writer_bytes(TableFormat format) {
  return format == TableFormat::kParquet ? kParquetBufferedBytes : kBufferedBytes;
}

std::string_view table_format_name(TableFormat format) {
  return format == TableFormat::kParquet ? "parquet" : "csv";
}

PartitionedTableWriter::PartitionedTableWriter(fs::path root, Table table,
                                               const FeatureSchema& schema, TableFormat format,
                                               int part)
    : root_(std::move(root)), format_(format), columns_(table_columns(table, schema)) {
  char name[32];
  std::snprintf(name, sizeof name, "part-%05d.%s", part,
                std::string(table_format_name(format)).c_str());
  file_name_ = name;
  for (size_t i = 0; i < columns_.size(); ++i) header_ += (i ? "," : "") + columns_[i].name;
  header_ += '\n';
}

PartitionedTableWriter::~PartitionedTableWriter() {
  for (auto& [_, p] : partitions_)
    if (p.file) std::fclose(p.file);
}

PartitionedTableWriter::Partition& PartitionedTableWriter::partition(int year, int month) {
  auto [it, inserted] = partitions_.try_emplace({year, month});
  Partition& p = it->second;
  if (inserted) {
    char folder[16];
    std::snprintf(folder, sizeof folder, "%04d/%02d", year, month);
    const fs::path dir = root_ / folder;
    std::error_code ec;
    fs::create_directories(dir, ec);
    p.path = dir / file_name_;
    if (format_ == TableFormat::kParquet) {
      p.parquet = std::make_unique<parquet::FileWriter>(p.path, columns_);
      return p;
    }
    p.file = std::fopen(p.path.c_str(), "wb");
    if (!p.file) fail_data("cannot write '" + p.path.string() + "': " + std::strerror(errno));
    p.buffer = header_;
  }
  return p;
}

void PartitionedTableWriter::write_out(Partition& p, const char* data, size_t size) {
  if (write_checked(p.file, data, size, p.path.string()) != size)
    fail_data("cannot write '" + p.path.string() + "': " + std::strerror(errno));
  // Start writing back what is written so far, so that the sync at close()
  // has little left to wait for (it still waits for all of it).
  p.unsynced += size;
  if (p.unsynced >= kFlushBytes && std::fflush(p.file) == 0) {
    ::sync_file_range(::fileno(p.file), 0, 0, SYNC_FILE_RANGE_WRITE);
    p.unsynced = 0;
  }
}

void PartitionedTableWriter::flush(Partition& p) {
  if (p.buffer.empty()) return;
  write_out(p, p.buffer.data(), p.buffer.size());
  p.buffer.clear();
  if (p.buffer.capacity() > 2 * kFlushBytes) p.buffer.shrink_to_fit();
}

void PartitionedTableWriter::flush_full_buffers() {
  size_t buffered = 0;
  for (auto& [_, p] : partitions_) {
    if (p.buffer.size() >= kFlushBytes) flush(p);
    buffered += p.buffer.capacity();
  }
  if (buffered <= kBufferedBytes) return;
  for (auto& [_, p] : partitions_) {
    flush(p);
    p.buffer.shrink_to_fit();
  }
}

void PartitionedTableWriter::end_full_row_groups() {
  size_t buffered = 0;
  for (auto& [_, p] : partitions_) {
    if (p.parquet->buffered_bytes() >= kRowGroupBytes) p.parquet->end_row_group();
    buffered += p.parquet->buffered_bytes();
  }
  while (buffered > kParquetBufferedBytes) {
    parquet::FileWriter* largest = nullptr;
    for (auto& [_, p] : partitions_)
      if (!largest || p.parquet->buffered_bytes() > largest->buffered_bytes())
        largest = p.parquet.get();
    buffered -= largest->buffered_bytes();
    largest->end_row_group();
  }
}

void PartitionedTableWriter::close() {
  for (auto& [_, p] : partitions_) {
    if (p.parquet) {
      p.parquet->close();
      p.parquet.reset();
      continue;
    }
    flush(p);
    if (std::fflush(p.file) != 0 || ::fsync(::fileno(p.file)) != 0)
      fail_data("cannot write '" + p.path.string() + "': " + std::strerror(errno));
    std::fclose(p.file);
    p.file = nullptr;
  }
}

MonthlyRows::Month& MonthlyRows::month_of(int year, int month) {
  if (months_.empty() || months_.back().year != year || months_.back().month != month) {
    months_.push_back({year, month, text_.size(), 0, {}});
    if (format_ == TableFormat::kParquet) months_.back().cells.resize(columns_);
  }
  ++months_.back().rows;
  return months_.back();
}

std::string& MonthlyRows::row(int year, int month) {
  month_of(year, month);
  return text_;
}

std::vector<parquet::ColumnValues>& MonthlyRows::cells(int year, int month) {
  return month_of(year, month).cells;
}

void MonthlyRows::clear() {
  text_.clear();
  months_.clear();
}

void PartitionedTableWriter::append(const MonthlyRows& rows) {
  for (size_t i = 0; i < rows.months_.size(); ++i) {
    const MonthlyRows::Month& m = rows.months_[i];
    Partition& p = partition(m.year, m.month);
    if (p.parquet) {
      p.parquet->append(m.cells);
    } else {
      const size_t end =
          i + 1 < rows.months_.size() ? rows.months_[i + 1].begin : rows.text_.size();
      const size_t size = end - m.begin;
      if (size >= kDirectBytes) {
        // A server's month: written from where it was formatted, not copied.
        flush(p);
        write_out(p, rows.text_.data() + m.begin, size);
      } else {
        p.buffer.append(rows.text_, m.begin, size);
      }
    }
    rows_written += m.rows;
  }
  if (format_ == TableFormat::kParquet)
    end_full_row_groups();
  else
    flush_full_buffers();
}

void append_feature_row(MonthlyRows& out, const FeatureRow& row, const FeatureSchema& schema) {
  if (out.format() == TableFormat::kCsv) {
    schema.append_csv(out.row(row.calendar.year, row.calendar.month), row);
    return;
  }
  std::vector<parquet::ColumnValues>& cells = out.cells(row.calendar.year, row.calendar.month);
  for (int c = 0; c < schema.num_columns(); ++c) {
    const FeatureColumn& column = schema.column(c);
    parquet::ColumnValues& cell = cells[static_cast<size_t>(c)];
    switch (column.role) {
      case ColumnRole::kKey:
        cell.put_text(row_key(row));
        continue;
      case ColumnRole::kServer:
        cell.put_text(row.server_ip);
        continue;
      case ColumnRole::kHour:
        cell.put_int64(row.hour * kMicrosPerSecond);
        continue;
      case ColumnRole::kSessions:
        cell.put_int64(row.current.sessions);
        continue;
      default:
        break;
    }
    switch (column.type) {
      case ColumnType::kReal:
        cell.put_double(FeatureSchema::number(row, column));
        break;
      case ColumnType::kWeekday:
        cell.put_text(weekday_name(row.calendar.dayofweek));
        break;
      default:
        cell.put_int64(static_cast<int64_t>(FeatureSchema::number(row, column)));
        break;
    }
  }
}

void write_hourly_store(MonthlyRows& out, const ServerHistory& h, size_t begin, size_t end) {
  int64_t day = std::numeric_limits<int64_t>::min();
  CivilDate date{};
  for (size_t i = begin; i < end; ++i) {
    const int64_t seconds = (h.first_hour + static_cast<int64_t>(i)) * kSecondsPerHour;
    if (const int64_t today = floor_div(seconds, kSecondsPerDay); today != day) {
      day = today;
      date = civil_from_days(day);
    }
    const HourPeak& peak = h.hours[i];
    if (out.format() == TableFormat::kParquet) {
      auto& cells = out.cells(date.year, date.month);
      cells[0].put_text(h.server_ip);
      cells[1].put_int64(seconds * kMicrosPerSecond);
      for (int m = 0; m < kNumMeasures; ++m) cells[2 + m].put_double(peak.peak[m]);
      cells[2 + kNumMeasures].put_int64(peak.sessions);
      continue;
    }
    std::string& b = out.row(date.year, date.month);
    b += h.server_ip;
    b += ',';
    char rest[kStoreRowRestChars];
    put_timestamp(rest, seconds);
    char* rest_end = put_peaks(rest + kTimestampChars, peak.peak);
    *rest_end++ = ',';
    rest_end = put_int(rest_end, peak.sessions);
    *rest_end++ = '\n';
    b.append(rest, rest_end);
  }
}

void write_daily_store(MonthlyRows& out, const ServerHistory& h, size_t begin, size_t end) {
  for (size_t d = begin; d < end; ++d) {
    const int64_t day = h.first_day + static_cast<int64_t>(d);
    const CivilDate date = civil_from_days(day);
    if (out.format() == TableFormat::kParquet) {
      auto& cells = out.cells(date.year, date.month);
      cells[0].put_text(h.server_ip);
      cells[1].put_int32(static_cast<int32_t>(day));
      for (int m = 0; m < kNumMeasures; ++m) cells[2 + m].put_double(h.daily[d][m]);
      continue;
    }
    std::string& b = out.row(date.year, date.month);
    b += h.server_ip;
    b += ',';
    char rest[kStoreRowRestChars];
    const std::string day_text = format_day(day);
    day_text.copy(rest, day_text.size());
    char* rest_end = put_peaks(rest + day_text.size(), h.daily[d]);
    *rest_end++ = '\n';
    b.append(rest, rest_end);
  }
}

std::vector<fs::path> partition_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.starts_with("part-") &&
        (name.ends_with(".csv") || name.ends_with(".parquet")))
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

namespace {

// The data lines of a file whose first byte lies in [begin, end).
struct ByteRange {
  uint64_t begin = 0;
  uint64_t end = UINT64_MAX;
};

// Where a line of a table is: named only when an error needs it, so that
// reading builds no text per line.
struct LineRef {
  const fs::path* file = nullptr;
  bool numbered = true;  // by its number; else by the byte it starts at
  int64_t number = 0;
  uint64_t start = 0;
  std::string text() const {
    return file->string() + (numbered ? ":" + std::to_string(number)
                                      : " (line at byte " + std::to_string(start) + ")");
  }
};

// Reads a CSV table written by this module, calling `row(fields, where)` per
// data line (of `range`) with the fields in the order of `columns`.
template <typename RowFn>
void read_table(const fs::path& file, const std::vector<std::string>& columns, RowFn&& row,
                ByteRange range = {}) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail_data("cannot read '" + file.string() + "'");
  std::string line;
  std::getline(in, line);
  uint64_t offset = line.size() + 1;  // of the next line
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string_view> header;
  for (size_t pos = 0;;) {
    const size_t comma = line.find(',', pos);
    header.push_back(std::string_view(line).substr(pos, comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  std::vector<int> index(columns.size(), -1);
  for (size_t c = 0; c < columns.size(); ++c) {
    for (size_t h = 0; h < header.size(); ++h)
      if (header[h] == columns[c]) index[c] = static_cast<int>(h);
    if (index[c] < 0) fail_data("'" + file.string() + "' has no column '" + columns[c] + "'");
  }
  const std::string header_copy = line;
  std::vector<std::string_view> raw;
  std::vector<std::string_view> fields(columns.size());
  // Line numbers are known when reading from the top; a later range names
  // the byte where a line starts instead.
  const bool numbered = range.begin <= offset;
  if (!numbered) {
    in.seekg(static_cast<std::streamoff>(range.begin - 1));
    offset = range.begin;
    if (in.get() != '\n' && std::getline(in, line))
      offset += line.size() + 1;  // a line begun before the range
  }
  int64_t number = 1;
  while (offset < range.end && std::getline(in, line)) {
    ++number;
    const uint64_t line_start = offset;
    offset += line.size() + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    raw.clear();
    for (size_t pos = 0;;) {
      const size_t comma = line.find(',', pos);
      raw.push_back(std::string_view(line).substr(pos, comma - pos));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    const LineRef where{&file, numbered, number, line_start};
    if (raw.size() != header.size())
      fail_data(where.text() + ": " + std::to_string(raw.size()) + " fields, the header has " +
                std::to_string(header.size()));
    for (size_t c = 0; c < columns.size(); ++c) fields[c] = raw[static_cast<size_t>(index[c])];
    row(fields, where);
  }
}

// What a cell of this type holds, for errors ("a number").
std::string cell_kind(ColumnType type) {
  switch (type) {
    case ColumnType::kTimestamp:
      return "a timestamp";
    case ColumnType::kWeekday:
      return "a weekday name";
    case ColumnType::kText:
      return "a text";
    default:
      return "a number";
  }
}

double number_field(std::string_view text, const LineRef& where, const std::string& column) {
  const auto v = parse_decimal(text);
  if (!v)
    fail_data(where.text() + ": column '" + column + "' is not a number: '" + std::string(text) +
              "'");
  return *v;
}

int64_t hour_field(std::string_view text, const LineRef& where, const std::string& column) {
  const auto t = parse_timestamp(text);
  if (!t)
    fail_data(where.text() + ": column '" + column + "' is not a timestamp: '" + std::string(text) +
              "'");
  return seconds_of(*t);
}

bool is_parquet(const fs::path& file) { return file.extension() == ".parquet"; }

std::string type_text(const parquet::Column& c) {
  switch (c.logical) {
    case parquet::LogicalType::kString:
      return "text";
    case parquet::LogicalType::kTimestampMicros:
      return "a timestamp";
    case parquet::LogicalType::kDate:
      return "a date";
    default:
      return c.type == parquet::PhysicalType::kDouble ? "a double" : "an integer";
  }
}

// Where the columns of a table are in a Parquet part; a data error for a
// missing column or one of another type than loadcast writes.
std::vector<int> parquet_columns(const parquet::FileReader& file,
                                 const std::vector<parquet::Column>& expected) {
  std::vector<int> index;
  for (const parquet::Column& want : expected) {
    const int at = file.find(want.name);
    if (at < 0) fail_data("'" + file.path().string() + "' has no column '" + want.name + "'");
    const parquet::Column& got = file.columns()[static_cast<size_t>(at)];
    if (got.type != want.type || got.logical != want.logical)
      fail_data("'" + file.path().string() + "': column '" + want.name + "' holds " +
                type_text(got) + ", not " + type_text(want));
    index.push_back(at);
  }
  return index;
}

double parquet_number(const parquet::ColumnData& data, size_t i) {
  switch (data.type()) {
    case parquet::PhysicalType::kDouble:
      return data.real(i);
    case parquet::PhysicalType::kInt32:
      return data.int32(i);
    default:
      return static_cast<double>(data.int64(i));
  }
}

// Visits every row of a Parquet part of a store: `row(columns, r)` with the
// columns in the table's order.
template <typename RowFn>
void read_parquet_table(const fs::path& file, Table table, const FeatureSchema& schema,
                        RowFn&& row) {
  const parquet::FileReader part(file);
  const std::vector<int> index = parquet_columns(part, table_columns(table, schema));
  std::vector<parquet::ColumnData> columns(index.size());
  for (size_t g = 0; g < part.row_groups(); ++g) {
    for (size_t c = 0; c < index.size(); ++c) columns[c] = part.read(g, index[c]);
    for (size_t r = 0; r < static_cast<size_t>(part.rows(g)); ++r) row(columns, r);
  }
}

// Row group `group` of a feature table part, appended to `rows`.
void read_feature_group(const parquet::FileReader& file, size_t group,
                        const std::vector<int>& index, const FeatureSchema& schema,
                        std::vector<FeatureRow>& rows) {
  std::vector<parquet::ColumnData> data(index.size());
  for (size_t c = 0; c < index.size(); ++c)
    if (schema.column(static_cast<int>(c)).role != ColumnRole::kKey)
      data[c] = file.read(group, index[c]);
  const auto count = static_cast<size_t>(file.rows(group));
  for (size_t r = 0; r < count; ++r) {
    FeatureRow& row = rows.emplace_back();
    for (size_t c = 0; c < index.size(); ++c) {
      const FeatureColumn& column = schema.column(static_cast<int>(c));
      switch (column.role) {
        case ColumnRole::kKey:
          continue;
        case ColumnRole::kServer:
          row.server_ip = std::string(data[c].text(r));
          continue;
        case ColumnRole::kHour:
          row.hour = floor_div(data[c].int64(r), kMicrosPerSecond);
          continue;
        default:
          break;
      }
      if (column.type == ColumnType::kWeekday) {
        const int day = weekday_of_name(data[c].text(r));
        if (day < 0)
          fail_data("'" + file.path().string() + "' row group " + std::to_string(group) +
                    ": column '" + column.name + "' is not a weekday name: '" +
                    std::string(data[c].text(r)) + "'");
        row.calendar.dayofweek = day;
        continue;
      }
      FeatureSchema::set_number(row, column, parquet_number(data[c], r));
    }
  }
}

}  // namespace

std::vector<FeatureRow> read_feature_table(const fs::path& features_dir,
                                           const FeatureSchema& schema, int share, int shares) {
  std::vector<FeatureRow> rows;
  for_each_feature_row(features_dir, schema, share, shares,
                       [&](const FeatureRow& row) { rows.push_back(row); });
  std::sort(rows.begin(), rows.end(), [](const FeatureRow& a, const FeatureRow& b) {
    return a.server_ip != b.server_ip ? a.server_ip < b.server_ip : a.hour < b.hour;
  });
  return rows;
}

void for_each_feature_row(const fs::path& features_dir, const FeatureSchema& schema, int share,
                          int shares, const FeatureRowVisitor& visit, int threads) {
  const auto files = partition_files(features_dir);
  if (files.empty())
    fail_data("no feature table under '" + features_dir.string() + "' (run 'loadcast etl' first)");
  if (shares < 1 || share < 0 || share >= shares) fail_internal("read_feature_table: bad share");
  std::vector<uint64_t> sizes;
  uint64_t total = 0;
  for (const auto& file : files) {
    std::error_code ec;
    sizes.push_back(fs::file_size(file, ec));
    if (ec) fail_data("cannot read '" + file.string() + "': " + ec.message());
    total += sizes.back();
  }
  // The share is cut again into one part per thread: part share * threads + t
  // of shares * threads, whose parts together are exactly the share.
  threads = std::max(1, threads);
  const auto parts = static_cast<unsigned>(shares) * static_cast<unsigned>(threads);
  auto cut = [&](unsigned k) {
    return static_cast<uint64_t>(static_cast<unsigned __int128>(total) * k / parts);
  };
  const std::vector<std::string> columns = schema.names();
  std::mutex visiting;
  constexpr size_t kBatchRows = 1024;
  run_tasks(static_cast<size_t>(threads), threads, [&](size_t t, int) {
    const unsigned part =
        static_cast<unsigned>(share) * static_cast<unsigned>(threads) + static_cast<unsigned>(t);
    const uint64_t part_begin = cut(part);
    const uint64_t part_end = cut(part + 1);
    std::vector<FeatureRow> batch;
    batch.reserve(kBatchRows);
    auto flush = [&] {
      const std::lock_guard<std::mutex> lock(visiting);
      for (const FeatureRow& row : batch) visit(row);
      batch.clear();
    };
    uint64_t file_begin = 0;
    for (size_t k = 0; k < files.size(); ++k) {
      const auto& file = files[k];
      const uint64_t file_end = file_begin + sizes[k];
      const uint64_t lo = std::max(part_begin, file_begin);
      const uint64_t hi = std::min(part_end, file_end);
      const ByteRange range{lo - file_begin, hi - file_begin};
      file_begin = file_end;
      if (lo >= hi) continue;
      if (is_parquet(file)) {
        const parquet::FileReader part_file(file);
        const std::vector<int> index =
            parquet_columns(part_file, table_columns(Table::kFeatures, schema));
        for (size_t g = 0; g < part_file.row_groups(); ++g) {
          const uint64_t at = part_file.group_offset(g);
          if (at < range.begin || at >= range.end) continue;
          read_feature_group(part_file, g, index, schema, batch);
          flush();
        }
        continue;
      }
      read_table(
          file, columns,
          [&](const std::vector<std::string_view>& f, const LineRef& where) {
            FeatureRow& r = batch.emplace_back();
            for (int c = 0; c < schema.num_columns(); ++c) {
              const FeatureColumn& column = schema.column(c);
              if (!FeatureSchema::read_cell(f[static_cast<size_t>(c)], r, column))
                fail_data(where.text() + ": column '" + column.name + "' is not " +
                          cell_kind(column.type) + ": '" + std::string(f[static_cast<size_t>(c)]) +
                          "'");
            }
            if (batch.size() == kBatchRows) flush();
          },
          range);
    }
    flush();
  });
}

std::vector<ServerHistory> read_stores(const fs::path& root, const FeatureSchema& schema) {
  const auto hourly_files = partition_files(root / "hourly");
  if (hourly_files.empty())
    fail_data("no hourly store under '" + (root / "hourly").string() +
              "' (run 'loadcast etl' first)");
  struct Hours {
    std::vector<std::pair<int64_t, HourPeak>> hours;
    std::vector<std::pair<int64_t, std::array<double, kNumMeasures>>> days;
  };
  std::map<std::string, Hours> servers;
  const auto& hc = schema.hourly_store_names();
  for (const auto& file : hourly_files) {
    if (is_parquet(file)) {
      read_parquet_table(file, Table::kHourly, schema, [&](const auto& d, size_t r) {
        HourPeak p;
        for (int m = 0; m < kNumMeasures; ++m) p.peak[m] = d[2 + m].real(r);
        p.sessions = d[2 + kNumMeasures].int64(r);
        servers[std::string(d[0].text(r))].hours.emplace_back(
            floor_div(d[1].int64(r), kMicrosPerSecond * kSecondsPerHour), p);
      });
      continue;
    }
    read_table(file, hc, [&](const std::vector<std::string_view>& f, const LineRef& where) {
      HourPeak p;
      for (int m = 0; m < kNumMeasures; ++m) p.peak[m] = number_field(f[2 + m], where, hc[2 + m]);
      p.sessions =
          static_cast<int64_t>(number_field(f[2 + kNumMeasures], where, hc[2 + kNumMeasures]));
      servers[std::string(f[0])].hours.emplace_back(
          floor_div(hour_field(f[1], where, hc[1]), kSecondsPerHour), p);
    });
  }
  const auto& dc = schema.daily_store_names();
  for (const auto& file : partition_files(root / "daily")) {
    if (is_parquet(file)) {
      read_parquet_table(file, Table::kDaily, schema, [&](const auto& d, size_t r) {
        std::array<double, kNumMeasures> means{};
        for (int m = 0; m < kNumMeasures; ++m) means[m] = d[2 + m].real(r);
        servers[std::string(d[0].text(r))].days.emplace_back(d[1].int32(r), means);
      });
      continue;
    }
    read_table(file, dc, [&](const std::vector<std::string_view>& f, const LineRef& where) {
      std::array<double, kNumMeasures> means{};
      for (int m = 0; m < kNumMeasures; ++m) means[m] = number_field(f[2 + m], where, dc[2 + m]);
      const std::string day_text = std::string(f[1]) + " 00:00:00";
      const int64_t day = floor_div(hour_field(day_text, where, dc[1]), kSecondsPerDay);
      servers[std::string(f[0])].days.emplace_back(day, means);
    });
  }
  std::vector<ServerHistory> out;
  for (auto& [ip, data] : servers) {
    ServerHistory h;
    h.server_ip = ip;
    std::sort(data.hours.begin(), data.hours.end(),
              [](auto& a, auto& b) { return a.first < b.first; });
    // The stores hold dense grids: a span longer than its rows is a damaged
    // store (and would otherwise be allocated whole).
    const auto not_dense = [&](const char* store, size_t rows, int64_t first, int64_t last) {
      fail_data("'" + (root / store).string() + "': the rows of server " + h.server_ip +
                " are not a dense grid (" + std::to_string(rows) + " rows for the " +
                std::to_string(last - first + 1) + " " + (store[0] == 'h' ? "hours" : "days") +
                " from its first to its last)");
    };
    if (data.hours.empty())
      fail_data("'" + (root / "daily").string() + "' holds server " + ip +
                ", which the hourly store does not");
    {
      const int64_t first = data.hours.front().first;
      const int64_t last = data.hours.back().first;
      if (static_cast<uint64_t>(last - first) >= data.hours.size())
        not_dense("hourly", data.hours.size(), first, last);
      h.first_hour = data.hours.front().first;
      h.hours.assign(static_cast<size_t>(data.hours.back().first - h.first_hour + 1), HourPeak{});
      for (auto& [hour, peak] : data.hours)
        h.hours[static_cast<size_t>(hour - h.first_hour)] = peak;
    }
    std::sort(data.days.begin(), data.days.end(),
              [](auto& a, auto& b) { return a.first < b.first; });
    if (!data.days.empty()) {
      const int64_t first = data.days.front().first;
      const int64_t last = data.days.back().first;
      if (static_cast<uint64_t>(last - first) >= data.days.size())
        not_dense("daily", data.days.size(), first, last);
      h.first_day = data.days.front().first;
      h.daily.assign(static_cast<size_t>(data.days.back().first - h.first_day + 1), {});
      for (auto& [day, means] : data.days) h.daily[static_cast<size_t>(day - h.first_day)] = means;
    } else {
      compute_daily_means(h);
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace loadcast
