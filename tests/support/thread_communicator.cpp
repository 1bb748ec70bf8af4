#include "support/thread_communicator.h"

#include <barrier>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/error.h"

namespace loadcast::testing {
namespace {

using dist::Bytes;

// What every rank sees: one mailbox per rank, reused by each collective
// between two barriers (write, barrier, read, barrier).
struct World {
  explicit World(int n) : size(n), barrier(n), boxes(n) {}
  int size;
  std::barrier<> barrier;
  std::vector<std::vector<Bytes>> boxes;  // boxes[rank][destination]
};

class ThreadCommunicator final : public dist::Communicator {
 public:
  ThreadCommunicator(World& world, int rank) : world_(world), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return world_.size; }
  void barrier() override { world_.barrier.arrive_and_wait(); }

  void allreduce_sum(std::span<std::int64_t> values) override { reduce(values); }
  void allreduce_sum(std::span<double> values) override { reduce(values); }

  std::vector<Bytes> alltoallv(const std::vector<Bytes>& send) override {
    if (static_cast<int>(send.size()) != size())
      fail_internal("alltoallv: one buffer per rank expected");
    auto all = exchange(send);
    std::vector<Bytes> got;
    for (auto& from : all) got.push_back(std::move(from[rank_]));
    return got;
  }
  std::vector<Bytes> gather(const Bytes& payload, int root) override {
    auto all = allgather(payload);
    return rank_ == root ? all : std::vector<Bytes>{};
  }
  std::vector<Bytes> allgather(const Bytes& payload) override {
    auto all = exchange({payload});
    std::vector<Bytes> got;
    for (auto& from : all) got.push_back(std::move(from[0]));
    return got;
  }
  Bytes broadcast(const Bytes& payload, int root) override { return allgather(payload)[root]; }

  [[noreturn]] void abort(const std::string& message, int) override {
    fail_internal("rank " + std::to_string(rank_) + " aborted: " + message);
  }

 private:
  // Every rank's `mine`, in rank order, on every rank.
  std::vector<std::vector<Bytes>> exchange(std::vector<Bytes> mine) {
    world_.boxes[rank_] = std::move(mine);
    world_.barrier.arrive_and_wait();
    auto all = world_.boxes;
    world_.barrier.arrive_and_wait();
    return all;
  }

  // Sums in rank order, like a deterministic MPI reduction.
  template <typename T>
  void reduce(std::span<T> values) {
    Bytes mine(values.size_bytes());
    if (!mine.empty()) std::memcpy(mine.data(), values.data(), mine.size());
    const auto all = exchange({mine});
    std::vector<T> sum(values.size(), T{0});
    for (const auto& from : all) {
      if (from[0].size() != mine.size()) fail_internal("allreduce: lengths differ across ranks");
      std::vector<T> theirs(values.size());
      if (!theirs.empty()) std::memcpy(theirs.data(), from[0].data(), from[0].size());
      for (size_t i = 0; i < sum.size(); ++i) sum[i] += theirs[i];
    }
    std::copy(sum.begin(), sum.end(), values.begin());
  }

  World& world_;
  int rank_;
};

}  // namespace

void run_ranks(int ranks, const std::function<void(dist::Communicator&)>& body) {
  World world(ranks);
  std::vector<std::exception_ptr> errors(ranks);
  {
    std::vector<std::jthread> threads;
    for (int r = 0; r < ranks; ++r) {
      threads.emplace_back([&, r] {
        ThreadCommunicator comm(world, r);
        try {
          body(comm);
        } catch (...) {
          errors[r] = std::current_exception();
        }
      });
    }
  }
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace loadcast::testing
