#include "track/run_store.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace loadcast::track {

namespace fs = std::filesystem;

namespace {

// Migration i takes the schema from version i to i + 1. Append only: a
// released migration is never edited, since databases in the field ran it.
void migrate_0_to_1(Database& db) {
  db.exec(R"(
    CREATE TABLE runs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      command TEXT NOT NULL,
      arguments TEXT NOT NULL,
      config TEXT,
      target TEXT,
      ranks INTEGER NOT NULL DEFAULT 1,
      threads INTEGER NOT NULL DEFAULT 1,
      git_revision TEXT,
      host TEXT,
      started_at REAL NOT NULL,
      ended_at REAL,
      duration_s REAL,
      status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
      error TEXT
    );
    CREATE TABLE params (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (run_id, name)
    );
    CREATE TABLE metrics (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      value REAL NOT NULL,
      step INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (run_id, name, step)
    );
    CREATE TABLE artifacts (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      path TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      sha256 TEXT NOT NULL
    );
    CREATE INDEX runs_by_command ON runs(command, status);
  )");
}

void migrate_1_to_2(Database& db) {
  db.exec(R"(
    ALTER TABLE runs ADD COLUMN pid INTEGER;
    ALTER TABLE runs ADD COLUMN boot_id TEXT;
    ALTER TABLE runs ADD COLUMN start_ticks TEXT;
    ALTER TABLE artifacts ADD COLUMN name TEXT NOT NULL DEFAULT '';
    ALTER TABLE artifacts ADD COLUMN kind TEXT NOT NULL DEFAULT 'file';
    CREATE INDEX runs_running ON runs(status, host);
  )");
}

void migrate_2_to_3(Database& db) {
  db.exec(R"(
    CREATE TABLE model_versions (
      name TEXT NOT NULL,
      version INTEGER NOT NULL,
      run_id INTEGER REFERENCES runs(id),
      path TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      sha256 TEXT NOT NULL,
      stage TEXT NOT NULL DEFAULT 'none'
        CHECK (stage IN ('none', 'staging', 'production', 'archived')),
      created_at REAL NOT NULL,
      stage_changed_at REAL,
      PRIMARY KEY (name, version)
    );
  )");
}

using Migration = void (*)(Database&);
// A run's artifacts are read by run id (`runs show`, every row the dashboard
// shows); without an index each read scanned the whole table.
void migrate_3_to_4(Database& db) { db.exec("CREATE INDEX artifacts_by_run ON artifacts(run_id)"); }

void migrate_4_to_5(Database& db) {
  db.exec(R"sql(
    ALTER TABLE runs ADD COLUMN parent_id INTEGER REFERENCES runs(id);
    CREATE INDEX runs_by_parent ON runs(parent_id);
  )sql");
}

constexpr Migration kMigrations[] = {migrate_0_to_1, migrate_1_to_2, migrate_2_to_3, migrate_3_to_4,
                                     migrate_4_to_5};
static_assert(std::size(kMigrations) == kSchemaVersion);

std::string read_first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

// Field 22 (starttime) of /proc/PID/stat; the command name (field 2) may hold
// spaces and parentheses, so count from the last ')'.
std::string process_start_ticks(int64_t pid) {
  const std::string stat = read_first_line("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return field;
  }
  return {};
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

RunRecord read_run_row(Statement& s) {
  RunRecord r;
  r.id = s.integer(0);
  r.command = s.text(1);
  try {
    r.arguments = nlohmann::json::parse(s.text(2)).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
  }
  r.config = s.is_null(3) ? nlohmann::json() : nlohmann::json::parse(s.text(3), nullptr, false);
  r.target = s.text(4);
  r.ranks = static_cast<int>(s.integer(5));
  r.threads = static_cast<int>(s.integer(6));
  r.git_revision = s.text(7);
  r.host = s.text(8);
  r.started_at = s.real(9);
  if (!s.is_null(10)) r.ended_at = s.real(10);
  if (!s.is_null(11)) r.duration_seconds = s.real(11);
  r.status = s.text(12);
  r.error = s.text(13);
  r.pid = s.integer(14);
  r.parent = s.is_null(15) ? 0 : s.integer(15);
  return r;
}

constexpr const char* kRunColumns =
    "id, command, arguments, config, target, ranks, threads, git_revision, host, started_at, "
    "ended_at, "
    "duration_s, status, error, pid, parent_id";
// RunFilter::parent as SQL, bound as ?5.
constexpr const char* kParentIs =
    "(CASE WHEN ?5 = 0 THEN parent_id IS NULL ELSE parent_id = ?5 END)";

}  // namespace

const char* status_name(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kFinished:
      return "finished";
    case RunStatus::kFailed:
      return "failed";
  }
  return "failed";
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string format_unix_time(double seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

ProcessIdentity ProcessIdentity::current() {
  ProcessIdentity id;
  id.pid = getpid();
  id.host = host_name();
  id.boot_id = read_first_line("/proc/sys/kernel/random/boot_id");
  id.start_ticks = process_start_ticks(id.pid);
  return id;
}

bool ProcessIdentity::alive_here() const {
  if (pid <= 0) return false;
  if (!boot_id.empty() && boot_id != read_first_line("/proc/sys/kernel/random/boot_id"))
    return false;
  if (kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  // A zombie is dead for our purposes: it will never record its end.
  const std::string stat = read_first_line("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z') return false;
  return start_ticks.empty() || start_ticks == process_start_ticks(pid);
}

RunStore::RunStore(Key, fs::path workspace, bool create)
    : workspace_(std::move(workspace)), db_(workspace_ / kFileName, create) {}

std::unique_ptr<RunStore> RunStore::open(const fs::path& workspace, bool create,
                                         int target_version) {
  if (create) {
    std::error_code ec;
    fs::create_directories(workspace, ec);
    if (ec) fail_data("cannot create workspace " + workspace.string() + ": " + ec.message());
  } else if (!fs::exists(workspace / kFileName)) {
    fail_data("no run store in workspace " + workspace.string() +
              " (nothing has been recorded there yet)");
  }
  auto store = std::make_unique<RunStore>(Key(), workspace, create);
  store->migrate(target_version);
  store->mark_dead_runs_failed();
  return store;
}

int RunStore::schema_version() {
  auto s = db_.prepare("SELECT version FROM schema_version");
  return s.step() ? static_cast<int>(s.integer(0)) : 0;
}

void RunStore::migrate(int target_version) {
  db_.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  if (schema_version() >= target_version) {
    if (schema_version() > kSchemaVersion)
      fail_data("run store " + db_.file().string() + " has schema version " +
                std::to_string(schema_version()) + ", newer than this loadcast reads (" +
                std::to_string(kSchemaVersion) + ")");
    return;
  }
  // Re-read under the write lock: another process may have migrated meanwhile.
  Transaction tx(db_);
  int version = schema_version();
  if (version == 0) db_.exec("INSERT INTO schema_version (version) VALUES (0)");
  for (; version < target_version; ++version) {
    kMigrations[version](db_);
    db_.prepare("UPDATE schema_version SET version = ?").bind(1, version + 1).run();
  }
  tx.commit();
}

void RunStore::mark_dead_runs_failed() {
  if (schema_version() < 2) return;
  const ProcessIdentity me = ProcessIdentity::current();
  std::vector<std::pair<int64_t, ProcessIdentity>> dead;
  {
    auto s = db_.prepare(
        "SELECT id, pid, boot_id, start_ticks FROM runs WHERE status = 'running' AND host = ? AND "
        "pid IS NOT NULL");
    s.bind(1, me.host);
    while (s.step()) {
      ProcessIdentity p;
      p.pid = s.integer(1);
      p.host = me.host;
      p.boot_id = s.text(2);
      p.start_ticks = s.text(3);
      if (!p.alive_here()) dead.emplace_back(s.integer(0), p);
    }
  }
  if (dead.empty()) return;
  const double now = unix_now();
  Transaction tx(db_);
  auto update = db_.prepare(
      "UPDATE runs SET status = 'failed', ended_at = ?, duration_s = ? - started_at, error = ? "
      "WHERE id = ? AND status = 'running'");
  for (const auto& [id, p] : dead) {
    update.reset();
    update.bind(1, now).bind(2, now).bind(
        3, "process " + std::to_string(p.pid) + " on " + p.host +
               " ended without recording a result (killed or crashed)");
    update.bind(4, id).run();
  }
  tx.commit();
}

int64_t RunStore::begin_run(const NewRun& run) {
  auto s = db_.prepare(
      "INSERT INTO runs (command, arguments, config, target, ranks, threads, git_revision, host, "
      "started_at, "
      "status, pid, boot_id, start_ticks, parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', "
      "?, "
      "?, ?, ?)");
  s.bind(1, run.command).bind(2, nlohmann::json(run.arguments).dump());
  if (run.config.is_null()) {
    s.bind_null(3);
  } else {
    s.bind(3, run.config.dump());
  }
  if (run.target.empty()) {
    s.bind_null(4);
  } else {
    s.bind(4, run.target);
  }
  s.bind(5, run.ranks).bind(6, run.threads);
  if (run.git_revision.empty()) {
    s.bind_null(7);
  } else {
    s.bind(7, run.git_revision);
  }
  s.bind(8, run.process.host)
      .bind(9, run.started_at > 0 ? run.started_at : unix_now())
      .bind(10, run.process.pid)
      .bind(11, run.process.boot_id);
  s.bind(12, run.process.start_ticks);
  if (run.parent == 0) {
    s.bind_null(13);
  } else {
    s.bind(13, run.parent);
  }
  s.run();
  return db_.last_insert_id();
}

void RunStore::set_param(int64_t run, const std::string& name, const std::string& value) {
  db_.prepare("INSERT OR REPLACE INTO params (run_id, name, value) VALUES (?, ?, ?)")
      .bind(1, run)
      .bind(2, name)
      .bind(3, value)
      .run();
}

void RunStore::log_metric(int64_t run, const std::string& name, double value, int64_t step) {
  db_.prepare("INSERT OR REPLACE INTO metrics (run_id, name, value, step) VALUES (?, ?, ?, ?)")
      .bind(1, run)
      .bind(2, name)
      .bind(3, value)
      .bind(4, step)
      .run();
}

void RunStore::add_artifact(int64_t run, const Artifact& a) {
  db_.prepare(
         "INSERT INTO artifacts (run_id, name, path, kind, bytes, sha256) VALUES (?, ?, ?, ?, ?, "
         "?)")
      .bind(1, run)
      .bind(2, a.name)
      .bind(3, a.path)
      .bind(4, a.kind)
      .bind(5, static_cast<int64_t>(a.bytes))
      .bind(6, a.sha256)
      .run();
}

void RunStore::end_run(int64_t run, RunStatus status, const std::string& error) {
  const double now = unix_now();
  auto s = db_.prepare(
      "UPDATE runs SET status = ?, ended_at = ?, duration_s = ? - started_at, error = ? WHERE id = "
      "?");
  s.bind(1, status_name(status)).bind(2, now).bind(3, now);
  if (error.empty()) {
    s.bind_null(4);
  } else {
    s.bind(4, error);
  }
  s.bind(5, run).run();
}

std::vector<RunRecord> RunStore::list_runs(const RunFilter& filter) {
  std::string sql = std::string("SELECT ") + kRunColumns +
                    " FROM runs WHERE (?1 = '' OR command = ?1) AND (?2 = '' OR status = ?2) "
                    "AND " +
                    kParentIs + " ORDER BY id DESC LIMIT ?3 OFFSET ?4";
  auto s = db_.prepare(sql);
  s.bind(1, filter.command).bind(2, filter.status).bind(5, filter.parent);
  s.bind(3, filter.limit > 0 ? static_cast<int64_t>(filter.limit) : int64_t{-1});  // -1: no limit
  s.bind(4, static_cast<int64_t>(filter.offset));
  std::vector<RunRecord> out;
  while (s.step()) out.push_back(read_run_row(s));
  return out;
}

int64_t RunStore::count_runs(const RunFilter& filter) {
  auto s = db_.prepare(
      std::string(
          "SELECT COUNT(*) FROM runs WHERE (?1 = '' OR command = ?1) AND (?2 = '' OR status = ?2) "
          "AND ") +
      kParentIs);
  s.bind(1, filter.command).bind(2, filter.status).bind(5, filter.parent);
  return s.step() ? s.integer(0) : 0;
}

std::vector<std::string> RunStore::commands() {
  auto s =
      db_.prepare("SELECT DISTINCT command FROM runs WHERE parent_id IS NULL ORDER BY command");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

std::optional<RunRecord> RunStore::find_run(int64_t id) {
  auto s = db_.prepare(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  RunRecord r = read_run_row(s);
  auto p = db_.prepare("SELECT name, value FROM params WHERE run_id = ? ORDER BY name");
  p.bind(1, id);
  while (p.step()) r.params[p.text(0)] = p.text(1);
  auto m =
      db_.prepare("SELECT name, value, step FROM metrics WHERE run_id = ? ORDER BY name, step");
  m.bind(1, id);
  while (m.step()) r.metrics.push_back({m.text(0), m.real(1), m.integer(2)});
  auto a = db_.prepare(
      "SELECT name, path, kind, bytes, sha256 FROM artifacts WHERE run_id = ? ORDER BY rowid");
  a.bind(1, id);
  while (a.step())
    r.artifacts.push_back(
        {a.text(0), a.text(1), a.text(2), static_cast<uint64_t>(a.integer(3)), a.text(4)});
  return r;
}

}  // namespace loadcast::track
