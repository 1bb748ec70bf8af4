// Azure Blob Storage addresses and credentials: the URLs `dataFile`, `output`,
// `--model` and `--stores` accept, and the account's endpoint and key or SAS
// token, taken from the configuration, the environment and the standard
// connection string as the Azure tools take them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace loadcast::blob {

// A container and a path in it (a blob name, a prefix or a glob).
struct BlobUrl {
  std::string account;
  std::string container;
  std::string path;      // no leading '/'
  std::string endpoint;  // set by a path-style URL (http://host:port/account/...)
  std::string sas;       // a SAS token given as the URL's query, without '?'

  // The URL as a person reads it, without the SAS token.
  std::string text() const;
  // The same container with `name` as the path.
  BlobUrl with_path(std::string name) const;
};

// True for wasb://, wasbs://, http:// and https:// addresses.
bool is_blob_url(std::string_view text);

// Reads `wasb[s]://container@account.blob.core.windows.net/path`,
// `https://account.blob.core.windows.net/container/path`, or the path-style
// `http://host:port/account/container/path` of emulators. Throws a usage
// error naming `what` (the field) when the text is none of them.
BlobUrl parse_blob_url(const std::string& text, const std::string& what);

// What a client sent and received, for the run's summary.
struct Traffic {
  int64_t requests = 0;  // every attempt, retries included
  int64_t retries = 0;
  int64_t bytes_read = 0;  // blob bytes received by ranged reads
};

// What the configuration says about storage (config.cpp fills it).
struct StorageSettings {
  std::string account;      // storageAccount: the key and SAS belong to it
  std::string key;          // storageKey or LOADCAST_STORAGE_KEY (base64)
  std::string sas;          // sasToken or LOADCAST_STORAGE_SAS
  std::string endpoint;     // blobEndpoint
  int retries = 5;          // blobRetries: further attempts of a failed request
  int reads_in_flight = 4;  // blobReadsInFlight: ranged reads at once per reading thread
};

// One account's service as requests reach it.
struct Service {
  std::string account;
  std::string endpoint;  // scheme://host[:port][/account], no trailing '/'
  std::string key;       // the decoded account key; empty: none
  std::string sas;       // without '?'; empty: none
  int retries = 5;
  int reads_in_flight = 4;
};

// Storage settings for the commands that take no configuration (serve,
// forecast, ui, models register): LOADCAST_STORAGE_KEY or
// LOADCAST_STORAGE_SAS (the configuration's storageKey and sasToken yield to
// them too), for the URL's own account.
StorageSettings environment_storage();

// The service for `url`: the configured key or SAS when they belong to its
// account (or no account is configured), else the connection string's
// (AZURE_STORAGE_CONNECTION_STRING: AccountName, AccountKey, BlobEndpoint,
// SharedAccessSignature, UseDevelopmentStorage=true), else anonymous. The
// endpoint is blobEndpoint, the connection string's BlobEndpoint, the URL's
// own (path-style) or https://<account>.blob.core.windows.net, in that order.
// Throws a usage error when a key is not base64.
Service resolve_service(const BlobUrl& url, const StorageSettings& settings);

// The emulator's well-known account and key (UseDevelopmentStorage=true).
inline constexpr const char* kDevelopmentAccount = "devstoreaccount1";
inline constexpr const char* kDevelopmentKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
inline constexpr const char* kDevelopmentEndpoint = "http://127.0.0.1:10000/devstoreaccount1";

}  // namespace loadcast::blob
