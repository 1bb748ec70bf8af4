#include "blob/storage.h"

#include <cstdlib>
#include <map>

#include "blob/signing.h"
#include "common/error.h"
#include "common/params.h"

namespace loadcast::blob {
namespace {

constexpr std::string_view kPublicSuffix = ".blob.core.windows.net";

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string without_trailing_slash(std::string text) {
  while (!text.empty() && text.back() == '/') text.pop_back();
  return text;
}

// The fields of AZURE_STORAGE_CONNECTION_STRING (`Name=value;...`), with
// UseDevelopmentStorage=true spelled out as the emulator's account.
std::map<std::string, std::string> connection_string() {
  std::map<std::string, std::string> fields;
  const char* text = std::getenv("AZURE_STORAGE_CONNECTION_STRING");
  if (!text) return fields;
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t end = rest.find(';');
    const std::string_view part = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    fields[std::string(part.substr(0, eq))] = std::string(part.substr(eq + 1));
  }
  if (fields["UseDevelopmentStorage"] == "true") {
    fields.emplace("AccountName", kDevelopmentAccount);
    fields.emplace("AccountKey", kDevelopmentKey);
    fields.emplace("BlobEndpoint", kDevelopmentEndpoint);
  }
  return fields;
}

std::string decoded_key(const std::string& key, const std::string& where) {
  const auto bytes = base64_decode(key);
  if (!bytes || bytes->empty())
    fail_usage(where + " is not an account key (expected the base64 text the portal shows)");
  return *bytes;
}

// The account of a host-style address (account.blob.<suffix>), and the
// endpoint when the suffix is another cloud's than the public one.
void read_host(std::string_view host, std::string_view scheme, BlobUrl& url) {
  url.account = std::string(host.substr(0, host.find('.')));
  if (!host.ends_with(kPublicSuffix))
    url.endpoint = std::string(scheme) + "://" + std::string(host);
}

}  // namespace

bool is_blob_url(std::string_view text) {
  return starts_with(text, "wasb://") || starts_with(text, "wasbs://") ||
         starts_with(text, "http://") || starts_with(text, "https://");
}

BlobUrl parse_blob_url(const std::string& text, const std::string& what) {
  const auto bad = [&](const std::string& why) -> BlobUrl {
    fail_usage(what + " " + single_quoted(text.substr(0, text.find('?'))) +
               " is not a blob URL: " + why +
               " (expected wasb://container@account.blob.core.windows.net/path or "
               "https://account.blob.core.windows.net/container/path)");
  };
  BlobUrl url;
  std::string_view rest = text;
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    url.sas = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  const size_t scheme_end = rest.find("://");
  if (scheme_end == std::string_view::npos) return bad("no scheme");
  const std::string_view scheme = rest.substr(0, scheme_end);
  rest = rest.substr(scheme_end + 3);
  const size_t slash = rest.find('/');
  std::string_view host = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);

  if (scheme == "wasb" || scheme == "wasbs") {
    const size_t at = host.find('@');
    if (at == std::string_view::npos || at == 0) return bad("no container@ before the host");
    url.container = std::string(host.substr(0, at));
    host = host.substr(at + 1);
    if (host.find(".blob.") == std::string_view::npos)
      return bad("the host is not account.blob.<cloud's suffix>");
    read_host(host, "https", url);
  } else if (scheme == "http" || scheme == "https") {
    const bool host_style = host.find(".blob.") != std::string_view::npos;
    if (host_style) {
      read_host(host, scheme, url);
    } else {  // path-style: the account is the first segment
      const size_t end = path.find('/');
      url.account = std::string(path.substr(0, end));
      url.endpoint = std::string(scheme) + "://" + std::string(host) + "/" + url.account;
      path = end == std::string_view::npos ? "" : path.substr(end + 1);
    }
    const size_t end = path.find('/');
    url.container = std::string(path.substr(0, end));
    path = end == std::string_view::npos ? "" : path.substr(end + 1);
  } else {
    return bad("unknown scheme '" + std::string(scheme) + "'");
  }
  if (url.account.empty()) return bad("no account");
  if (url.container.empty()) return bad("no container");
  url.path = std::string(path);
  return url;
}

std::string BlobUrl::text() const {
  const std::string base =
      endpoint.empty() ? "https://" + account + std::string(kPublicSuffix) : endpoint;
  return base + "/" + container + (path.empty() ? "" : "/" + path);
}

BlobUrl BlobUrl::with_path(std::string name) const {
  BlobUrl url = *this;
  url.path = std::move(name);
  return url;
}

StorageSettings environment_storage() {
  StorageSettings s;
  if (const char* key = std::getenv("LOADCAST_STORAGE_KEY"); key && *key) s.key = key;
  if (const char* sas = std::getenv("LOADCAST_STORAGE_SAS"); sas && *sas) s.sas = sas;
  return s;
}

Service resolve_service(const BlobUrl& url, const StorageSettings& settings) {
  const auto cs = connection_string();
  const auto field = [&](const char* name) {
    const auto it = cs.find(name);
    return it == cs.end() ? std::string() : it->second;
  };
  const bool configured = settings.account.empty() || settings.account == url.account;
  const bool connected = field("AccountName").empty() || field("AccountName") == url.account;

  Service s;
  s.account = url.account;
  s.retries = settings.retries;
  s.reads_in_flight = settings.reads_in_flight;
  if (configured && !settings.key.empty())
    s.key = decoded_key(settings.key, "the storageKey (or LOADCAST_STORAGE_KEY)");
  else if (connected && !field("AccountKey").empty())
    s.key = decoded_key(field("AccountKey"), "AccountKey of AZURE_STORAGE_CONNECTION_STRING");
  if (!url.sas.empty())
    s.sas = url.sas;
  else if (configured && !settings.sas.empty())
    s.sas = settings.sas;
  else if (connected)
    s.sas = field("SharedAccessSignature");
  if (!s.sas.empty() && s.sas.front() == '?') s.sas.erase(0, 1);
  if (!settings.endpoint.empty())
    s.endpoint = settings.endpoint;
  else if (connected && !field("BlobEndpoint").empty())
    s.endpoint = field("BlobEndpoint");
  else if (!url.endpoint.empty())
    s.endpoint = url.endpoint;
  else
    s.endpoint = "https://" + url.account + std::string(kPublicSuffix);
  s.endpoint = without_trailing_slash(s.endpoint);
  return s;
}

}  // namespace loadcast::blob
