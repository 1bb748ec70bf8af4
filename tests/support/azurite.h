// The real Azure Blob Storage emulator for tests: Azurite (installed by
// scripts/setup.sh into tests/peers), started on a free loopback port with
// in-memory storage and stopped with its one process; and a TCP proxy in
// front of a port that cuts connections mid-answer, for the retry tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "blob/client.h"
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

// A test suite sharing one in-memory emulator, started before its first
// test and stopped after its last; each test gets a client of the
// emulator's account, and is skipped when the emulator did not start.
class AzuriteSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { azurite_ = new Azurite; }
  static void TearDownTestSuite() {
    delete azurite_;
    azurite_ = nullptr;
  }
  void SetUp() override {
    if (HasFailure() || azurite_->port() == 0) GTEST_SKIP() << "no emulator";
    client_ = std::make_unique<blob::Client>(azurite_->service());
  }

  static inline Azurite* azurite_ = nullptr;
  std::unique_ptr<blob::Client> client_;
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
