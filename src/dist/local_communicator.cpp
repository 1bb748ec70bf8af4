#include <cstdio>
#include <cstdlib>

#include "common/error.h"
#include "dist/communicator.h"

namespace loadcast::dist {
namespace {

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void barrier() override {}
  void allreduce_sum(std::span<std::int64_t>) override {}
  void allreduce_sum(std::span<double>) override {}

  std::vector<Bytes> alltoallv(const std::vector<Bytes>& send) override {
    check_root(static_cast<int>(send.size()) - 1, "alltoallv send count");
    return send;
  }
  std::vector<Bytes> gather(const Bytes& payload, int root) override {
    check_root(root, "gather root");
    return {payload};
  }
  Bytes broadcast(const Bytes& payload, int root) override {
    check_root(root, "broadcast root");
    return payload;
  }
  std::vector<Bytes> allgather(const Bytes& payload) override { return {payload}; }
  [[noreturn]] void abort(const std::string& message, int exit_code) override {
    std::fprintf(stderr, "loadcast: %s\n", message.c_str());
    std::fflush(stderr);
    std::_Exit(exit_code == 0 ? 1 : exit_code);
  }

 private:
  // A bad rank index is a bug in the caller, not a data problem.
  static void check_root(int root, const char* what) {
    if (root != 0) fail_internal(std::string("local communicator: ") + what + " must name rank 0");
  }
};

}  // namespace

std::unique_ptr<Communicator> make_local_communicator() {
  return std::make_unique<LocalCommunicator>();
}

}  // namespace loadcast::dist
