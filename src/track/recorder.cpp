#include "track/recorder.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/sha256.h"

namespace loadcast::track {

namespace fs = std::filesystem;

namespace {

// Whether `text` ends with `suffix`, without regard to case.
bool ends_with_any_case(std::string_view text, std::string_view suffix) {
  if (text.size() < suffix.size()) return false;
  const std::string_view tail = text.substr(text.size() - suffix.size());
  return std::equal(tail.begin(), tail.end(), suffix.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
}

// Field names that hold secrets, in any case: authorization, names ending
// in Key or Keys (storageKey, LOADCAST_SERVICE_KEYS), and names with secret,
// password or token in them.
bool is_secret_key(std::string name) {
  if (ends_with_any_case(name, "Key") || ends_with_any_case(name, "Keys")) return true;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return name == "authorization" || name.find("secret") != std::string::npos ||
         name.find("password") != std::string::npos || name.find("token") != std::string::npos;
}

void collect_secret_values(const nlohmann::json& value, bool secret,
                           std::vector<std::string>& out) {
  if (value.is_object()) {
    for (const auto& [key, item] : value.items())
      collect_secret_values(item, secret || is_secret_key(key), out);
  } else if (value.is_array()) {
    for (const auto& item : value) collect_secret_values(item, secret, out);
  } else if (secret && value.is_string() && !value.get<std::string>().empty()) {
    out.push_back(value.get<std::string>());
  }
}

int env_int(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  return (*end == '\0' && v >= 0 && v < (1 << 30)) ? static_cast<int>(v) : fallback;
}

}  // namespace

nlohmann::json mask_secrets(const nlohmann::json& value) {
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, item] : value.items())
      out[key] = is_secret_key(key) ? nlohmann::json("***") : mask_secrets(item);
    return out;
  }
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(mask_secrets(item));
    return out;
  }
  return value;
}

std::string git_revision(const fs::path& dir) {
  if (dir.empty() || !fs::is_directory(dir)) return {};
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return {};
  const pid_t pid = fork();
  if (pid < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return {};
  }
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    const int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      dup2(null_fd, STDERR_FILENO);
      dup2(null_fd, STDIN_FILENO);
    }
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    const std::string path = dir.string();
    execlp("git", "git", "-C", path.c_str(), "rev-parse", "--verify", "-q", "HEAD",
           static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipe_fds[1]);
  std::string out;
  char buffer[256];
  ssize_t n;
  while ((n = read(pipe_fds[0], buffer, sizeof(buffer))) > 0)
    out.append(buffer, static_cast<size_t>(n));
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {};
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out.size() == 40 || out.size() == 64 ? out : std::string();
}

template <class Action>
void RunRecorder::guarded(const char* what, Action&& action) {
  if (!store_) return;
  try {
    action();
  } catch (const std::exception& e) {
    // One warning, then the command goes on without history.
    std::fprintf(stderr, "loadcast %s: warning: run history disabled (%s): %s\n", command_.c_str(),
                 what, scrub(e.what()).c_str());
    store_.reset();
  }
}

std::string RunRecorder::scrub(std::string text) const {
  for (const auto& secret : secrets_) {
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
      text.replace(at, secret.size(), "***");
  }
  return text;
}

RunRecorder::RunRecorder(const RecorderOptions& options) : command_(options.command) {
  // Under MPI every rank runs the command; rank 0 speaks for the run.
  const int rank = env_int("OMPI_COMM_WORLD_RANK", env_int("PMI_RANK", 0));
  if (rank != 0) return;

  if (const char* key = std::getenv("LOADCAST_STORAGE_KEY"); key && *key) secrets_.push_back(key);
  if (const char* keys = std::getenv("LOADCAST_SERVICE_KEYS"); keys && *keys) {
    std::stringstream parts(keys);
    for (std::string part; std::getline(parts, part, ',');)
      if (!part.empty()) secrets_.push_back(part);
  }
  NewRun run;
  run.command = options.command;
  run.threads = options.threads;
  run.ranks = std::max(1, env_int("OMPI_COMM_WORLD_SIZE", env_int("PMI_SIZE", 1)));
  if (const char* target = std::getenv("LOADCAST_TARGET"); target && *target) run.target = target;
  if (!options.config_path.empty()) {
    std::ifstream in(options.config_path, std::ios::binary);
    const auto config = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
    if (!config.is_discarded() && !config.is_null()) {
      collect_secret_values(config, false, secrets_);
      run.config = mask_secrets(config);
    }
  }
  // Longest first, so that a secret containing another is replaced whole.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& argument : options.arguments) run.arguments.push_back(scrub(argument));

  std::error_code ec;
  const fs::path config_dir = options.config_path.empty()
                                  ? fs::path()
                                  : fs::absolute(options.config_path, ec).parent_path();
  run.git_revision = git_revision(config_dir);
  if (run.git_revision.empty()) run.git_revision = git_revision(fs::current_path(ec));

  try {
    store_ = RunStore::open(options.workspace);
    id_ = store_->begin_run(run);
    run_ = std::move(run);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loadcast %s: warning: run history disabled: %s\n", command_.c_str(),
                 scrub(e.what()).c_str());
    store_.reset();
  }
}

RunRecorder::~RunRecorder() {
  if (!ended_) fail("the command ended without reporting a result");
}

void RunRecorder::param(const std::string& name, const std::string& value) {
  guarded("parameter", [&] { store_->set_param(id_, name, scrub(value)); });
}

void RunRecorder::metric(const std::string& name, double value, int64_t step) {
  guarded("metric", [&] { store_->log_metric(id_, name, value, step); });
}

void RunRecorder::artifact(const std::string& name, const fs::path& path,
                           const std::string& location) {
  guarded("artifact", [&] {
    std::error_code ec;
    if (!fs::exists(path, ec)) return;
    Artifact a;
    a.name = name;
    a.path = location.empty() ? fs::absolute(path).lexically_normal().string() : location;
    a.kind = fs::is_directory(path) ? "dir" : "file";
    const FileDigest digest = a.kind == "dir" ? sha256_tree(path) : sha256_file(path);
    a.bytes = digest.bytes;
    a.sha256 = digest.sha256;
    store_->add_artifact(id_, a);
  });
}

int64_t RunRecorder::child(const std::string& command,
                           const std::vector<std::pair<std::string, std::string>>& params,
                           const std::vector<MetricValue>& metrics, double seconds) {
  int64_t id = 0;
  guarded("child run", [&] {
    NewRun run = run_;
    run.command = command;
    run.config = nullptr;
    run.parent = id_;
    run.started_at = unix_now() - std::max(0.0, seconds);
    Transaction tx(store_->database());
    id = store_->begin_run(run);
    for (const auto& [name, value] : params) store_->set_param(id, name, scrub(value));
    for (const auto& m : metrics) store_->log_metric(id, m.name, m.value, m.step);
    store_->end_run(id, RunStatus::kFinished);
    tx.commit();
  });
  return id;
}

void RunRecorder::finish() {
  if (ended_) return;
  ended_ = true;
  guarded("end", [&] { store_->end_run(id_, RunStatus::kFinished); });
}

void RunRecorder::fail(const std::string& message) {
  if (ended_) return;
  ended_ = true;
  guarded("end", [&] { store_->end_run(id_, RunStatus::kFailed, scrub(message)); });
}

}  // namespace loadcast::track
