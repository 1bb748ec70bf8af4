// The MPI implementation (OpenMPI). Compiled to a local-only factory when the
// build has no MPI, so the program always links.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <thread>

#include "common/error.h"
#include "dist/communicator.h"

#ifdef LOADCAST_WITH_MPI
// The C API only; the deprecated C++ bindings are not used.
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace loadcast::dist {

#ifdef LOADCAST_WITH_MPI
namespace {

int checked_count(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    fail_internal(std::string("MPI message too large for one round: ") + what);
  return static_cast<int>(n);
}

// Waits for a non-blocking collective without spinning on a core, which a
// blocking one does in OpenMPI: while the main thread waits for the slowest
// rank, the worker threads parse the next round. Polls tightly first (ranks
// often arrive together), then sleeps between polls, at most 1 ms.
void wait_idle(MPI_Request& request) {
  int done = 0;
  for (int i = 0; i < 200 && !done; ++i) MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  auto pause = std::chrono::microseconds(20);
  while (!done) {
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  }
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    // Worker threads parse and build features while the main thread alone
    // talks to MPI: FUNNELED is the level that permits this.
    int provided = 0;
    if (!initialized) MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    // Errors end the job rather than return codes nobody on the other ranks sees.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void barrier() override { MPI_Barrier(MPI_COMM_WORLD); }

  void allreduce_sum(std::span<std::int64_t> values) override {
    MPI_Allreduce(MPI_IN_PLACE, values.data(), checked_count(values.size(), "allreduce"),
                  MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  }
  void allreduce_sum(std::span<double> values) override {
    MPI_Allreduce(MPI_IN_PLACE, values.data(), checked_count(values.size(), "allreduce"),
                  MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  }

  std::vector<Bytes> alltoallv(const std::vector<Bytes>& send) override {
    if (static_cast<int>(send.size()) != size_)
      fail_internal("alltoallv: one buffer per rank expected");
    std::vector<int> send_counts(size_), send_displs(size_), recv_counts(size_), recv_displs(size_);
    std::size_t total = 0;
    for (int r = 0; r < size_; ++r) {
      send_counts[r] = checked_count(send[r].size(), "alltoallv");
      send_displs[r] = checked_count(total, "alltoallv");
      total += send[r].size();
    }
    Bytes packed;
    packed.reserve(total);
    for (const auto& b : send) packed.insert(packed.end(), b.begin(), b.end());
    MPI_Request request;
    MPI_Ialltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, MPI_COMM_WORLD,
                  &request);
    wait_idle(request);
    std::size_t recv_total = 0;
    for (int r = 0; r < size_; ++r) {
      recv_displs[r] = checked_count(recv_total, "alltoallv");
      recv_total += static_cast<std::size_t>(recv_counts[r]);
    }
    Bytes received(recv_total);
    MPI_Ialltoallv(packed.data(), send_counts.data(), send_displs.data(), MPI_BYTE, received.data(),
                   recv_counts.data(), recv_displs.data(), MPI_BYTE, MPI_COMM_WORLD, &request);
    wait_idle(request);
    return split(received, recv_counts, recv_displs);
  }

  std::vector<Bytes> gather(const Bytes& payload, int root) override {
    int count = checked_count(payload.size(), "gather");
    std::vector<int> counts(rank_ == root ? size_ : 0), displs(counts.size());
    MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, root, MPI_COMM_WORLD);
    std::size_t total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      displs[r] = checked_count(total, "gather");
      total += static_cast<std::size_t>(counts[r]);
    }
    Bytes received(total);
    MPI_Gatherv(payload.data(), count, MPI_BYTE, received.data(), counts.data(), displs.data(),
                MPI_BYTE, root, MPI_COMM_WORLD);
    if (rank_ != root) return {};
    return split(received, counts, displs);
  }

  Bytes broadcast(const Bytes& payload, int root) override {
    std::uint64_t n = payload.size();
    MPI_Bcast(&n, 1, MPI_UINT64_T, root, MPI_COMM_WORLD);
    Bytes out = rank_ == root ? payload : Bytes(n);
    MPI_Bcast(out.data(), checked_count(n, "broadcast"), MPI_BYTE, root, MPI_COMM_WORLD);
    return out;
  }

  std::vector<Bytes> allgather(const Bytes& payload) override {
    int count = checked_count(payload.size(), "allgather");
    std::vector<int> counts(size_), displs(size_);
    MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
    std::size_t total = 0;
    for (int r = 0; r < size_; ++r) {
      displs[r] = checked_count(total, "allgather");
      total += static_cast<std::size_t>(counts[r]);
    }
    Bytes received(total);
    MPI_Allgatherv(payload.data(), count, MPI_BYTE, received.data(), counts.data(), displs.data(),
                   MPI_BYTE, MPI_COMM_WORLD);
    return split(received, counts, displs);
  }

  [[noreturn]] void abort(const std::string& message, int exit_code) override {
    std::fprintf(stderr, "loadcast: rank %d: %s\n", rank_, message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code == 0 ? 1 : exit_code);
    std::_Exit(exit_code == 0 ? 1 : exit_code);
  }

 private:
  static std::vector<Bytes> split(const Bytes& all, const std::vector<int>& counts,
                                  const std::vector<int>& displs) {
    std::vector<Bytes> out(counts.size());
    for (std::size_t r = 0; r < counts.size(); ++r)
      out[r].assign(all.begin() + displs[r], all.begin() + displs[r] + counts[r]);
    return out;
  }

  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

bool built_with_mpi() { return true; }

std::unique_ptr<Communicator> make_communicator() {
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr) return std::make_unique<MpiCommunicator>();
  return make_local_communicator();
}

#else

bool built_with_mpi() { return false; }

std::unique_ptr<Communicator> make_communicator() { return make_local_communicator(); }

#endif

}  // namespace loadcast::dist
