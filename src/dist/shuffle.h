// The ETL's shuffle: each round's per-chunk partial aggregates go to the rank
// that owns their server, which merges them in global chunk order, the order
// one process merges them in; so every sum is bit-identical whatever the rank
// count. Memory is bounded by a round's partials, not by the input.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "aggregate/bucket_table.h"
#include "aggregate/server_dictionary.h"
#include "aggregate/spill.h"
#include "dist/communicator.h"

namespace loadcast::dist {

// The rank owning a server: a hash of its text (of an IPv4 address: of its
// 32-bit value), the same on every rank whatever the dictionary ids.
int owner_rank(std::string_view server_text, int ranks);

class PartialShuffle {
 public:
  // Merges the buckets this rank owns into `owned`; `servers` names this
  // rank's dictionary keys, in the partials and in `owned`.
  PartialShuffle(Communicator& comm, ServerDictionary& servers, BoundedAggregate& owned);

  // Collective: sends every entry of `round` (sorted by chunk) to its owner
  // and merges what this rank receives in chunk order.
  void exchange(const std::vector<ChunkPartial>& round);

  int64_t bytes_sent() const { return bytes_sent_; }  // to other ranks, so far
  int64_t rounds() const { return rounds_; }

 private:
  int owner(ServerKey server);

  Communicator& comm_;
  ServerDictionary& servers_;
  BoundedAggregate& owned_;
  std::unordered_map<ServerKey, int> dictionary_owners_;  // owner of each dictionary key seen
  int64_t bytes_sent_ = 0;
  int64_t rounds_ = 0;
};

}  // namespace loadcast::dist
