// The real Azure Blob Storage emulator for tests: Azurite (installed by
// scripts/setup.sh into tests/peers), started on a free loopback port with
// in-memory storage and stopped with its one process; and a TCP proxy in
// front of a port that cuts connections mid-answer, for the retry tests.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "blob/storage.h"

namespace loadcast::testing {

class Azurite {
 public:
  // In memory, or keeping its blobs under `location` (they then outlive a
  // restart). Fails the test when the emulator does not start.
  explicit Azurite(std::filesystem::path location = {});
  ~Azurite();
  Azurite(const Azurite&) = delete;
  Azurite& operator=(const Azurite&) = delete;

  int port() const { return port_; }
  // http://127.0.0.1:<port>/devstoreaccount1
  std::string endpoint() const;
  // The emulator's account with its well-known key at this endpoint.
  blob::Service service() const;
  // AZURE_STORAGE_CONNECTION_STRING for this emulator.
  std::string connection_string() const;

  // Stops the emulator; start() brings it back on the same port.
  void stop();
  void start();

 private:
  std::filesystem::path location_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A free TCP port on 127.0.0.1 (bound and released).
int free_loopback_port();

// Forwards 127.0.0.1:port() to 127.0.0.1:`target`, badly: the first `busy`
// connections get one "503 Server Busy" answer and are closed; each of the
// first `cuts` connections that carry more than `cut_after` bytes towards
// the client is reset at that point.
class UnreliableProxy {
 public:
  UnreliableProxy(int target, int64_t cut_after, int cuts, int busy = 0);
  ~UnreliableProxy();
  UnreliableProxy(const UnreliableProxy&) = delete;
  UnreliableProxy& operator=(const UnreliableProxy&) = delete;

  int port() const { return port_; }
  int cuts_made() const { return cuts_made_.load(); }
  int busy_answers() const { return busy_answers_.load(); }

 private:
  void serve(int client);

  int target_;
  int64_t cut_after_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> cuts_left_;
  std::atomic<int> cuts_made_{0};
  std::atomic<int> busy_left_;
  std::atomic<int> busy_answers_{0};
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // touched by the acceptor only
};

}  // namespace loadcast::testing
