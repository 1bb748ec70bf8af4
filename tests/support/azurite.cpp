#include "support/azurite.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>

namespace loadcast::testing {
namespace {

sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_in addr = loopback(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

const std::filesystem::path kAzurite =
    std::filesystem::path(LOADCAST_TESTS_DIR) / "peers/node_modules/azurite/dist/src/blob/main.js";

}  // namespace

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = loopback(0);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t size = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
  ::close(fd);
  return ntohs(addr.sin_port);
}

Azurite::Azurite(std::filesystem::path location) : location_(std::move(location)) {
  if (!std::filesystem::exists(kAzurite)) {
    ADD_FAILURE() << "the blob emulator is not installed (" << kAzurite
                  << "): run scripts/setup.sh";
    return;
  }
  port_ = free_loopback_port();
  start();
}

void Azurite::start() {
  const std::string port = std::to_string(port_);
  const std::string script = kAzurite.string();
  const std::string location = location_.string();
  pid_ = fork();
  if (pid_ == 0) {
    // The emulator ends with the test process, however that ends, and holds
    // none of its output pipes (ctest waits for them).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (location.empty())
      execlp("node", "node", script.c_str(), "--blobHost", "127.0.0.1", "--blobPort", port.c_str(),
             "--inMemoryPersistence", "--disableTelemetry", "--silent", "--loose",
             static_cast<char*>(nullptr));
    else
      execlp("node", "node", script.c_str(), "--blobHost", "127.0.0.1", "--blobPort", port.c_str(),
             "--location", location.c_str(), "--disableTelemetry", "--silent", "--loose",
             static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (const int fd = connect_to(port_); fd >= 0) {
      ::close(fd);
      return;
    }
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "the blob emulator exited at start";
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "the blob emulator did not listen on port " << port_ << " within 60 s";
}

void Azurite::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

Azurite::~Azurite() { stop(); }

std::string Azurite::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/" + blob::kDevelopmentAccount;
}

blob::Service Azurite::service() const {
  blob::StorageSettings settings;
  settings.account = blob::kDevelopmentAccount;
  settings.key = blob::kDevelopmentKey;
  settings.endpoint = endpoint();
  blob::BlobUrl url;
  url.account = blob::kDevelopmentAccount;
  return blob::resolve_service(url, settings);
}

std::string Azurite::connection_string() const {
  return std::string("DefaultEndpointsProtocol=http;AccountName=") + blob::kDevelopmentAccount +
         ";AccountKey=" + blob::kDevelopmentKey + ";BlobEndpoint=" + endpoint() + ";";
}

UnreliableProxy::UnreliableProxy(int target, int64_t cut_after, int cuts, int busy)
    : target_(target), cut_after_(cut_after), cuts_left_(cuts), busy_left_(busy) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr = loopback(0);
  ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t size = sizeof addr;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &size);
  port_ = ntohs(addr.sin_port);
  ::listen(listener_, 64);
  acceptor_ = std::thread([this] {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      workers_.emplace_back([this, client] { serve(client); });
    }
  });
}

UnreliableProxy::~UnreliableProxy() {
  stop_ = true;
  acceptor_.join();
  for (auto& w : workers_) w.join();
  ::close(listener_);
}

void UnreliableProxy::serve(int client) {
  if (busy_left_.fetch_sub(1) > 0) {
    // Read the request's head, answer that the service is busy, hang up.
    std::string head;
    char byte = 0;
    while (head.find("\r\n\r\n") == std::string::npos && ::read(client, &byte, 1) == 1)
      head += byte;
    const std::string answer =
        "HTTP/1.1 503 Server Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    ::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
    busy_answers_.fetch_add(1);
    ::close(client);
    return;
  }
  const int upstream = connect_to(target_);
  if (upstream < 0) {
    ::close(client);
    return;
  }
  int64_t towards_client = 0;
  bool cut = false;
  char buffer[64 << 10];
  pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
  while (!stop_ && !cut) {
    if (::poll(fds, 2, 100) <= 0) continue;
    bool closed = false;
    for (int side = 0; side < 2 && !closed; ++side) {
      if (!(fds[side].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const int from = fds[side].fd;
      const int to = fds[1 - side].fd;
      ssize_t n = ::read(from, buffer, sizeof buffer);
      if (n <= 0) {
        closed = true;
        break;
      }
      if (side == 1 && towards_client + n > cut_after_ && cuts_left_.fetch_sub(1) > 0) {
        // Forward up to the cut, then reset the connection.
        n = static_cast<ssize_t>(cut_after_ - towards_client);
        if (n > 0) ::send(client, buffer, static_cast<size_t>(n), MSG_NOSIGNAL);
        cuts_made_.fetch_add(1);
        cut = true;
        break;
      }
      if (side == 1) towards_client += n;
      for (ssize_t sent = 0; sent < n;) {
        const ssize_t m = ::send(to, buffer + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
        if (m <= 0) {
          closed = true;
          break;
        }
        sent += m;
      }
    }
    if (closed) break;
  }
  if (cut) {
    const linger reset{1, 0};
    ::setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  }
  ::close(client);
  ::close(upstream);
}

}  // namespace loadcast::testing
