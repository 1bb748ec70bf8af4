// dist/ owns how ranks of one job talk to each other: the Communicator
// interface (rank, size, barrier, sum-allreduce, alltoallv, gather, broadcast,
// allgather, abort) and its implementations. The ETL and the trainer see only this
// interface, so one process and N MPI ranks run the same code path.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace loadcast::dist {

using Bytes = std::vector<std::uint8_t>;

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual void barrier() = 0;

  // Element-wise sums across ranks, in place; every rank gets the result.
  // REQUIRES: the same length on every rank.
  virtual void allreduce_sum(std::span<std::int64_t> values) = 0;
  virtual void allreduce_sum(std::span<double> values) = 0;

  // send[r] goes to rank r; the result's element r came from rank r.
  // REQUIRES: send.size() == size().
  virtual std::vector<Bytes> alltoallv(const std::vector<Bytes>& send) = 0;

  // Every rank's payload, in rank order, on `root`; empty elsewhere.
  virtual std::vector<Bytes> gather(const Bytes& payload, int root) = 0;

  // `root`'s payload on every rank.
  virtual Bytes broadcast(const Bytes& payload, int root) = 0;

  // Every rank's payload, in rank order, on every rank.
  virtual std::vector<Bytes> allgather(const Bytes& payload) = 0;

  // Ends the whole job with a non-zero exit; the message is printed first so
  // a failing rank never leaves the others waiting in a collective.
  [[noreturn]] virtual void abort(const std::string& message, int exit_code) = 0;
};

// One process: every collective is the identity.
std::unique_ptr<Communicator> make_local_communicator();

}  // namespace loadcast::dist

namespace loadcast::dist {

// The job's communicator: MPI when this binary was built with MPI and was
// launched by mpirun (OMPI_COMM_WORLD_SIZE is set), otherwise local. Plain
// runs never touch MPI, so they need no MPI runtime and no singleton init.
std::unique_ptr<Communicator> make_communicator();

// Whether this build has the MPI communicator (else mpirun starts N
// independent one-process runs).
bool built_with_mpi();

}  // namespace loadcast::dist
