#include "blob/client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>
#include <pugixml.hpp>
#include <thread>

#include "blob/signing.h"
#include "common/error.h"
#include "common/url.h"

namespace loadcast::blob {
namespace {

constexpr const char* kApiVersion = "2021-08-06";
constexpr size_t kMinReadPart = size_t{1} << 20;  // a ranged read is not cut finer
constexpr size_t kErrorBodyCap = size_t{64} << 10;
constexpr long kConnectTimeoutMs = 10'000;
constexpr long kStallSeconds = 30;  // no byte for this long: the connection is lost

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string http_date() {
  const std::time_t now = std::time(nullptr);
  std::tm gm{};
  gmtime_r(&now, &gm);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &gm);
  return text;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool retryable_status(long status) { return status == 408 || status == 429 || status >= 500; }

// Closes a file descriptor when the scope ends, however it ends.
struct FileCloser {
  int fd;
  ~FileCloser() { ::close(fd); }
};

}  // namespace

struct Client::Transfer {
  std::string method = "GET";
  std::string container;
  std::string blob;
  std::vector<std::pair<std::string, std::string>> query;    // names lower case, values raw
  std::vector<std::pair<std::string, std::string>> headers;  // x-ms-* names, lower case
  std::string_view body;                                     // PUT
  // A ranged read writes into out[got, length) from offset + got.
  bool ranged = false;
  int64_t offset = 0;
  size_t length = 0;
  char* out = nullptr;
  size_t got = 0;

  // The last attempt's answer.
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string reply;       // the body of a non-ranged answer
  std::string error_code;  // x-ms-error-code
  int64_t content_length = -1;
  size_t sent = 0;  // body bytes handed to curl
  char curl_error[CURL_ERROR_SIZE] = {};
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;

  bool failed_transport() const { return code != CURLE_OK; }
  bool may_retry() const {
    if (ranged && got == length) return false;  // every byte arrived
    return failed_transport() || retryable_status(status);
  }
  void reset_answer() {
    code = CURLE_OK;
    status = 0;
    reply.clear();
    error_code.clear();
    content_length = -1;
    sent = 0;
    curl_error[0] = '\0';
  }
  // What the request is about, for errors.
  std::string subject(const std::string& account) const {
    std::string s = blob.empty() ? "" : "blob '" + blob + "' in ";
    return s + "container '" + container + "' of account '" + account + "'";
  }
};

namespace {

Client::Transfer request(const char* method, const std::string& container,
                         const std::string& blob = "") {
  Client::Transfer t;
  t.method = method;
  t.container = container;
  t.blob = blob;
  return t;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Client::Transfer*>(user);
  const size_t bytes = size * count;
  long status = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
  const bool ranged_answer =
      t.ranged && (status == 206 || (status == 200 && t.offset + static_cast<int64_t>(t.got) == 0));
  if (ranged_answer) {
    const size_t take = std::min(bytes, t.length - t.got);
    std::memcpy(t.out + t.got, data, take);
    t.got += take;
  } else if (status < 300 || t.reply.size() < kErrorBodyCap) {
    t.reply.append(data, bytes);
  }
  return bytes;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Client::Transfer*>(user);
  const std::string_view line(data, size * count);
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    const std::string name = lower(std::string(line.substr(0, colon)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    if (name == "x-ms-error-code") t.error_code = std::string(value);
    if (name == "content-length")
      t.content_length = std::strtoll(std::string(value).c_str(), nullptr, 10);
  }
  return size * count;
}

size_t on_upload(char* out, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Client::Transfer*>(user);
  const size_t take = std::min(size * count, t.body.size() - t.sent);
  std::memcpy(out, t.body.data() + t.sent, take);
  t.sent += take;
  return take;
}

// The service's own words from an error body (<Error><Message>), first line.
std::string service_message(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return {};
  std::string message = doc.child("Error").child_value("Message");
  return message.substr(0, message.find_first_of("\r\n"));
}

}  // namespace

// A multi handle with its easy handles: its connection cache keeps the
// connections to the service open between requests of one thread.
struct Session {
  CURLM* multi = nullptr;
  std::vector<CURL*> idle;
  Session() : multi(curl_multi_init()) {}
  ~Session() {
    for (CURL* e : idle) curl_easy_cleanup(e);
    curl_multi_cleanup(multi);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  CURL* take() {
    if (idle.empty()) return curl_easy_init();
    CURL* e = idle.back();
    idle.pop_back();
    return e;
  }
};

struct Client::Shared {
  std::mutex mutex;
  std::vector<std::unique_ptr<Session>> sessions;  // guarded by mutex

  std::unique_ptr<Session> take() {
    std::lock_guard lock(mutex);
    if (sessions.empty()) return std::make_unique<Session>();
    auto s = std::move(sessions.back());
    sessions.pop_back();
    return s;
  }
  void give(std::unique_ptr<Session> s) {
    std::lock_guard lock(mutex);
    sessions.push_back(std::move(s));
  }
};

Client::Client(Service service)
    : service_(std::move(service)), shared_(std::make_unique<Shared>()) {
  init_curl_once();
  // The endpoint's path (path-style emulators put the account there) is part
  // of every request's path and so of the signed resource.
  const size_t scheme = service_.endpoint.find("://");
  const size_t path = service_.endpoint.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path != std::string::npos) endpoint_path_ = service_.endpoint.substr(path);
}

Client::~Client() = default;

std::string Client::location(const std::string& container, const std::string& blob) const {
  std::string path = "/" + url_encode(container);
  if (!blob.empty()) path += "/" + url_encode(blob, true);
  return path;
}

void Client::prepare(Transfer& t, void* easy_handle) {
  CURL* easy = static_cast<CURL*>(easy_handle);
  curl_easy_reset(easy);
  t.easy = easy;
  const std::string path = location(t.container, t.blob);
  std::string url = service_.endpoint + path;
  std::string query;
  for (const auto& [name, value] : t.query)
    query += (query.empty() ? "" : "&") + name + "=" + url_encode(value);
  const bool shared_key = !service_.key.empty();
  if (!shared_key && !service_.sas.empty()) query += (query.empty() ? "" : "&") + service_.sas;
  if (!query.empty()) url += "?" + query;

  std::vector<std::pair<std::string, std::string>> ms = t.headers;
  ms.emplace_back("x-ms-date", http_date());
  ms.emplace_back("x-ms-version", kApiVersion);
  if (t.ranged) {
    const int64_t from = t.offset + static_cast<int64_t>(t.got);
    const int64_t to = t.offset + static_cast<int64_t>(t.length) - 1;
    ms.emplace_back("x-ms-range", "bytes=" + std::to_string(from) + "-" + std::to_string(to));
  }
  std::sort(ms.begin(), ms.end());

  if (t.header_list) curl_slist_free_all(t.header_list);
  t.header_list = nullptr;
  for (const auto& [name, value] : ms) {
    std::string line = name;
    line += ": ";
    line += value;
    t.header_list = curl_slist_append(t.header_list, line.c_str());
  }
  t.header_list = curl_slist_append(t.header_list, "Expect:");  // no 100-continue round trip
  if (shared_key) {
    // Shared Key: the verb, the standard headers (all empty but the length of
    // a body), the x-ms headers and the resource with its query, signed.
    const bool has_body = t.method == "PUT" && !t.body.empty();
    std::string sign = t.method + "\n\n\n" + (has_body ? std::to_string(t.body.size()) : "") +
                       "\n\n\n\n\n\n\n\n\n";
    for (const auto& [name, value] : ms) {
      sign += name;
      sign += ':';
      sign += value;
      sign += '\n';
    }
    sign += '/';
    sign += service_.account;
    sign += endpoint_path_;
    sign += path;
    auto sorted = t.query;
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [name, value] : sorted) {
      sign += '\n';
      sign += name;
      sign += ':';
      sign += value;
    }
    const std::string auth = "Authorization: SharedKey " + service_.account + ":" +
                             base64_encode(hmac_sha256(service_.key, sign));
    t.header_list = curl_slist_append(t.header_list, auth.c_str());
  }

  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t.header_list);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, kStallSeconds);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t.curl_error);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, &t);
  if (t.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (t.method == "PUT") {
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t.body.size()));
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_upload);
    curl_easy_setopt(easy, CURLOPT_READDATA, &t);
  } else if (t.method != "GET") {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, t.method.c_str());
  }
}

void Client::run_once(const std::vector<Transfer*>& transfers) {
  std::unique_ptr<Session> session = shared_->take();
  for (Transfer* t : transfers) {
    prepare(*t, session->take());
    curl_multi_add_handle(session->multi, t->easy);
  }
  int running = 0;
  do {
    if (curl_multi_perform(session->multi, &running) != CURLM_OK) break;
    if (running) curl_multi_poll(session->multi, nullptr, 0, 1000, nullptr);
  } while (running);
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(session->multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    t->code = msg->data.result;
  }
  for (Transfer* t : transfers) {
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
    curl_multi_remove_handle(session->multi, t->easy);
    session->idle.push_back(t->easy);
    t->easy = nullptr;
    curl_slist_free_all(t->header_list);
    t->header_list = nullptr;
  }
  shared_->give(std::move(session));
}

void Client::perform(const std::vector<Transfer*>& transfers) {
  std::vector<Transfer*> pending = transfers;
  for (int attempt = 0;; ++attempt) {
    for (Transfer* t : pending) t->reset_answer();
    requests_ += static_cast<int64_t>(pending.size());
    if (attempt > 0) retries_ += static_cast<int64_t>(pending.size());
    run_once(pending);
    std::vector<Transfer*> again;
    for (Transfer* t : pending)
      if (t->may_retry()) again.push_back(t);
    if (again.empty()) return;
    if (attempt >= service_.retries) {
      const Transfer& t = *again.front();
      const std::string why =
          t.failed_transport()
              ? std::string(t.curl_error[0] ? t.curl_error : curl_easy_strerror(t.code))
              : "it answered " + std::to_string(t.status) +
                    (t.error_code.empty() ? "" : " " + t.error_code);
      fail_data("blob storage at " + service_.endpoint + " failed for " +
                t.subject(service_.account) + ": " + why + " (" + std::to_string(attempt + 1) +
                " attempts; raise blobRetries to wait longer)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(4000, 100 << attempt)));
    pending = std::move(again);
  }
}

namespace {

[[noreturn]] void fail_answer(const Client::Transfer& t, const Service& service) {
  const std::string code = t.error_code.empty() ? "" : " " + t.error_code;
  const std::string status = std::to_string(t.status) + code;
  const std::string subject = t.subject(service.account);
  if (t.status == 403)
    fail_data("blob storage refused access to " + subject + " (" + status +
              "): the account key or SAS token was rejected or does not allow this");
  if (t.status == 404) {
    if (t.error_code == "ContainerNotFound")
      fail_data("account '" + service.account + "' has no container '" + t.container + "' (" +
                service.endpoint + ")");
    if (t.error_code == "BlobNotFound")
      fail_data("container '" + t.container + "' of account '" + service.account +
                "' has no blob '" + t.blob + "'");
    fail_data(subject + " was not found (" + status + " at " + service.endpoint + ")");
  }
  const std::string message = service_message(t.reply);
  fail_data("blob storage answered " + status + " for " + subject +
            (message.empty() ? "" : ": " + message));
}

}  // namespace

std::vector<BlobItem> Client::list(const std::string& container, const std::string& prefix,
                                   int page) {
  std::vector<BlobItem> items;
  std::string marker;
  do {
    Transfer t = request("GET", container);
    t.query = {{"comp", "list"}, {"maxresults", std::to_string(page)}, {"restype", "container"}};
    if (!prefix.empty()) t.query.emplace_back("prefix", prefix);
    if (!marker.empty()) t.query.emplace_back("marker", marker);
    perform({&t});
    if (t.status != 200) fail_answer(t, service_);
    pugi::xml_document doc;
    if (!doc.load_buffer(t.reply.data(), t.reply.size()))
      fail_data("blob storage at " + service_.endpoint + " sent a blob list that is not XML for " +
                t.subject(service_.account));
    const pugi::xml_node root = doc.child("EnumerationResults");
    for (const pugi::xml_node blob : root.child("Blobs").children("Blob")) {
      BlobItem item;
      item.name = blob.child_value("Name");
      item.bytes =
          std::strtoll(blob.child("Properties").child_value("Content-Length"), nullptr, 10);
      items.push_back(std::move(item));
    }
    marker = root.child_value("NextMarker");
  } while (!marker.empty());
  std::sort(items.begin(), items.end(),
            [](const BlobItem& a, const BlobItem& b) { return a.name < b.name; });
  return items;
}

size_t Client::read(const std::string& container, const std::string& blob, int64_t offset,
                    size_t length, char* out) {
  if (length == 0) return 0;
  const size_t parts =
      std::clamp<size_t>((length + kMinReadPart - 1) / kMinReadPart, 1,
                         static_cast<size_t>(std::max(1, service_.reads_in_flight)));
  const size_t step = (length + parts - 1) / parts;
  std::vector<Transfer> transfers(parts);
  std::vector<Transfer*> all;
  for (size_t i = 0; i < parts; ++i) {
    Transfer& t = transfers[i];
    t = request("GET", container, blob);
    t.ranged = true;
    t.offset = offset + static_cast<int64_t>(i * step);
    t.length = std::min(step, length - i * step);
    t.out = out + i * step;
    all.push_back(&t);
  }
  perform(all);
  size_t total = 0;
  for (const Transfer& t : transfers) {
    if (t.status == 416) break;  // the range starts past the blob's end
    if (t.status != 206 && t.status != 200) fail_answer(t, service_);
    total += t.got;
    if (t.got < t.length) break;  // the blob ends in this part
  }
  bytes_read_ += static_cast<int64_t>(total);
  return total;
}

std::optional<int64_t> Client::size_of(const std::string& container, const std::string& blob) {
  Transfer t = request("HEAD", container, blob);
  perform({&t});
  if (t.status == 404) return std::nullopt;
  if (t.status != 200) fail_answer(t, service_);
  return t.content_length;
}

void Client::create_container(const std::string& container) {
  Transfer t = request("PUT", container);
  t.query = {{"restype", "container"}};
  perform({&t});
  if (t.status != 201 && t.status != 409) fail_answer(t, service_);
}

void Client::put(const std::string& container, const std::string& blob, std::string_view data) {
  if (data.size() <= kBlockBytes) {
    Transfer t = request("PUT", container, blob);
    t.headers = {{"x-ms-blob-type", "BlockBlob"}};
    t.body = data;
    perform({&t});
    if (t.status != 201) fail_answer(t, service_);
    return;
  }
  put_blocks(container, blob, data.size(), [&](size_t first, size_t count, char* out) {
    std::memcpy(out, data.data() + first, count);
  });
}

void Client::put_file(const std::string& container, const std::string& blob,
                      const std::filesystem::path& file, int64_t bytes) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_data("cannot read " + file.string() + ": " + std::strerror(errno));
  const FileCloser closer{fd};
  const auto fill = [&](size_t first, size_t count, char* out) {
    size_t done = 0;
    while (done < count) {
      const ssize_t n = ::pread(fd, out + done, count - done, static_cast<off_t>(first + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        fail_data("cannot read " + file.string() + ": " +
                  (n < 0 ? std::strerror(errno) : "it became shorter while being uploaded"));
      done += static_cast<size_t>(n);
    }
  };
  const auto size = static_cast<size_t>(bytes);
  if (size <= kBlockBytes) {
    std::string data(size, '\0');
    fill(0, size, data.data());
    put(container, blob, data);
    return;
  }
  put_blocks(container, blob, size, fill);
}

void Client::put_blocks(const std::string& container, const std::string& blob, size_t bytes,
                        const std::function<void(size_t, size_t, char*)>& fill) {
  // Blocks with ids of one length (the service requires it), a few at once.
  const size_t blocks = (bytes + kBlockBytes - 1) / kBlockBytes;
  std::vector<std::string> ids;
  ids.reserve(blocks);
  for (size_t i = 0; i < blocks; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "block-%08zu", i);
    ids.push_back(base64_encode(name));
  }
  const size_t at_once = static_cast<size_t>(std::max(1, service_.reads_in_flight));
  std::vector<char> buffer(std::min(at_once, blocks) * kBlockBytes);
  for (size_t first = 0; first < blocks; first += at_once) {
    std::vector<Transfer> group(std::min(at_once, blocks - first));
    std::vector<Transfer*> pointers;
    for (size_t j = 0; j < group.size(); ++j) {
      Transfer& t = group[j];
      const size_t i = first + j;
      const size_t begin = i * kBlockBytes;
      const size_t count = std::min(kBlockBytes, bytes - begin);
      char* slot = buffer.data() + j * kBlockBytes;
      fill(begin, count, slot);
      t = request("PUT", container, blob);
      t.query = {{"blockid", ids[i]}, {"comp", "block"}};
      t.body = std::string_view(slot, count);
      pointers.push_back(&t);
    }
    perform(pointers);
    for (const Transfer& t : group)
      if (t.status != 201) fail_answer(t, service_);
  }
  std::string list = R"(<?xml version="1.0" encoding="utf-8"?><BlockList>)";
  for (const std::string& id : ids) {
    list += "<Latest>";
    list += id;
    list += "</Latest>";
  }
  list += "</BlockList>";
  Transfer t = request("PUT", container, blob);
  t.query = {{"comp", "blocklist"}};
  t.body = list;
  perform({&t});
  if (t.status != 201) fail_answer(t, service_);
}

void Client::get_file(const std::string& container, const std::string& blob, int64_t bytes,
                      const std::filesystem::path& out) {
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_data("cannot write " + out.string() + ": " + std::strerror(errno));
  const FileCloser closer{fd};
  const auto missing = [&](int64_t held) {
    fail_data("blob '" + blob + "' in container '" + container + "' of account '" +
              service_.account + "' holds " + std::to_string(held) + " bytes, not the " +
              std::to_string(bytes) + " expected");
  };
  if (bytes == 0 && !size_of(container, blob))
    fail_data("container '" + container + "' of account '" + service_.account + "' has no blob '" +
              blob + "'");
  const size_t step = kBlockBytes * static_cast<size_t>(std::max(1, service_.reads_in_flight));
  std::vector<char> buffer(std::min(step, static_cast<size_t>(std::max<int64_t>(bytes, 1))));
  for (int64_t at = 0; at < bytes;) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(bytes - at, buffer.size()));
    const size_t got = read(container, blob, at, want, buffer.data());
    if (got < want) missing(at + static_cast<int64_t>(got));
    size_t written = 0;
    while (written < got) {
      const ssize_t n = ::write(fd, buffer.data() + written, got - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail_data("cannot write " + out.string() + ": " + std::strerror(errno));
      written += static_cast<size_t>(n);
    }
    at += static_cast<int64_t>(got);
  }
  if (::fsync(fd) != 0) fail_data("cannot write " + out.string() + ": " + std::strerror(errno));
}

void Client::remove(const std::string& container, const std::string& blob) {
  Transfer t = request("DELETE", container, blob);
  perform({&t});
  if (t.status != 202 && t.status != 404) fail_answer(t, service_);
}

}  // namespace loadcast::blob
