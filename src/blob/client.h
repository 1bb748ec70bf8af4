// A small Azure Blob Storage REST client on libcurl: Shared Key or SAS
// authorization, listing with markers, ranged reads several at once, block
// uploads, and bounded retries with backoff that resume a broken read where
// it stopped. Errors are data errors naming the account, container and blob;
// keys and SAS tokens appear in none of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blob/storage.h"

namespace loadcast::blob {

struct BlobItem {
  std::string name;
  int64_t bytes = 0;
};

class Client {
 public:
  explicit Client(Service service);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Service& service() const { return service_; }
  Traffic traffic() const { return {requests_.load(), retries_.load(), bytes_read_.load()}; }

  // Every blob of `container` whose name starts with `prefix`, in name order,
  // asked for in pages of `page` names.
  std::vector<BlobItem> list(const std::string& container, const std::string& prefix,
                             int page = 5000);

  // Reads `length` bytes of a blob from `offset` into `out`, as up to
  // reads_in_flight ranged reads at once; returns the bytes read (fewer only
  // past the blob's end). Thread-safe.
  size_t read(const std::string& container, const std::string& blob, int64_t offset, size_t length,
              char* out);

  // The blob's size; nothing when it does not exist.
  std::optional<int64_t> size_of(const std::string& container, const std::string& blob);

  // Creates the container; one that exists is fine.
  void create_container(const std::string& container);
  // Writes a block blob: one request up to kBlockBytes, else blocks of that
  // size (several at once) and their list.
  void put(const std::string& container, const std::string& blob, std::string_view data);
  // The same from a local file of `bytes` bytes, read a few blocks at a time
  // (memory stays bounded whatever its size). Throws a data error naming the
  // file when it cannot be read.
  void put_file(const std::string& container, const std::string& blob,
                const std::filesystem::path& file, int64_t bytes);
  // Writes a whole blob of `bytes` bytes (its size known from a listing or
  // a manifest) to the new file `out`, a few ranged reads at a time. Throws
  // a data error naming the blob when it is missing or shorter, and naming
  // the file when the disk refuses.
  void get_file(const std::string& container, const std::string& blob, int64_t bytes,
                const std::filesystem::path& out);
  // Deletes a blob; one that does not exist is fine.
  void remove(const std::string& container, const std::string& blob);

  static constexpr size_t kBlockBytes = size_t{4} << 20;

  struct Transfer;

 private:
  // Runs the transfers at once, then retries the ones that failed and may be
  // retried (a connection lost, a timeout, 5xx, 408, 429), with backoff, up
  // to service_.retries times; a ranged read resumes after its bytes so far.
  void perform(const std::vector<Transfer*>& transfers);
  void run_once(const std::vector<Transfer*>& transfers);
  void prepare(Transfer& t, void* easy_handle);
  // Block uploads of `bytes` bytes, `fill(first, count, out)` giving bytes
  // [first, first + count) of the blob; then the block list.
  void put_blocks(const std::string& container, const std::string& blob, size_t bytes,
                  const std::function<void(size_t, size_t, char*)>& fill);
  std::string location(const std::string& container, const std::string& blob) const;

  Service service_;
  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> retries_{0};
  std::atomic<int64_t> bytes_read_{0};
  std::string endpoint_path_;  // the endpoint's path, e.g. "/devstoreaccount1"
  struct Shared;
  std::unique_ptr<Shared> shared_;
};

}  // namespace loadcast::blob
