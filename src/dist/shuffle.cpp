#include "dist/shuffle.h"

#include <algorithm>
#include <string>

#include "common/hash.h"
#include "common/ip_address.h"
#include "dist/wire.h"

namespace loadcast::dist {

namespace {

using Entry = BucketTable::Entry;

// FNV-1a, a fixed function of the bytes (std::hash may differ between builds).
uint64_t text_hash(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// Wire format, per destination: one block per chunk that has entries for it,
//   u64 chunk, u64 entry count, then per entry its key, sums and sessions
// and, for a dictionary server, the server text.
void put_entry(ByteWriter& out, const Entry& e, const ServerDictionary& servers) {
  out.put(e.key);
  for (double v : e.sums.sum) out.put(v);
  out.put(e.sums.sessions);
  if (key_server(e.key) & kDictionaryServerBit)
    out.put(std::string_view(servers.text_of(key_server(e.key))));
}

Entry get_entry(ByteReader& in, ServerDictionary& servers) {
  Entry e{in.get<uint64_t>(), {}};
  for (double& v : e.sums.sum) v = in.get<double>();
  e.sums.sessions = in.get<int64_t>();
  // Dictionary ids are per rank: re-key by the text.
  if (key_server(e.key) & kDictionaryServerBit)
    e.key = pack_bucket_key(servers.key_for(in.get_string()), key_bucket(e.key));
  return e;
}

// The entries of one chunk that this rank owns.
struct Block {
  uint64_t chunk = 0;
  std::vector<Entry> entries;
};

int ipv4_owner(uint32_t address, int ranks) {
  return static_cast<int>(mix64(address) % static_cast<uint64_t>(ranks));
}

}  // namespace

int owner_rank(std::string_view server_text, int ranks) {
  if (const auto address = parse_ipv4(server_text)) return ipv4_owner(*address, ranks);
  return static_cast<int>(mix64(text_hash(server_text)) % static_cast<uint64_t>(ranks));
}

PartialShuffle::PartialShuffle(Communicator& comm, ServerDictionary& servers,
                               BoundedAggregate& owned)
    : comm_(comm), servers_(servers), owned_(owned) {}

int PartialShuffle::owner(ServerKey server) {
  // IPv4 keys are the address itself: no text needed.
  if (!(server & kDictionaryServerBit))
    return ipv4_owner(static_cast<uint32_t>(server), comm_.size());
  auto [it, inserted] = dictionary_owners_.try_emplace(server, 0);
  if (inserted) it->second = owner_rank(servers_.text_of(server), comm_.size());
  return it->second;
}

void PartialShuffle::exchange(const std::vector<ChunkPartial>& round) {
  ++rounds_;
  const int ranks = comm_.size();
  const int me = comm_.rank();
  if (ranks == 1) {
    for (const auto& p : round) owned_.add(p.table);
    return;
  }

  std::vector<ByteWriter> out(static_cast<size_t>(ranks));
  std::vector<std::vector<const Entry*>> outgoing(static_cast<size_t>(ranks));
  std::vector<Block> blocks;
  for (const ChunkPartial& p : round) {
    Block mine{p.chunk, {}};
    for (const Entry& e : p.table.entries()) {
      const int to = owner(key_server(e.key));
      if (to == me) {
        mine.entries.push_back(e);
      } else {
        outgoing[static_cast<size_t>(to)].push_back(&e);
      }
    }
    for (size_t to = 0; to < outgoing.size(); ++to) {
      if (outgoing[to].empty()) continue;
      out[to].put(p.chunk).put(static_cast<uint64_t>(outgoing[to].size()));
      for (const Entry* e : outgoing[to]) put_entry(out[to], *e, servers_);
      outgoing[to].clear();
    }
    if (!mine.entries.empty()) blocks.push_back(std::move(mine));
  }
  std::vector<Bytes> send;
  send.reserve(out.size());
  for (auto& writer : out) send.push_back(writer.take());
  for (int r = 0; r < ranks; ++r)
    if (r != me) bytes_sent_ += static_cast<int64_t>(send[static_cast<size_t>(r)].size());

  const std::vector<Bytes> received = comm_.alltoallv(send);
  send.clear();
  for (int from = 0; from < ranks; ++from) {
    if (from == me) continue;
    ByteReader in(received[static_cast<size_t>(from)]);
    while (!in.done()) {
      Block block{in.get<uint64_t>(), {}};
      const auto count = in.get<uint64_t>();
      block.entries.reserve(count);
      for (uint64_t i = 0; i < count; ++i) block.entries.push_back(get_entry(in, servers_));
      blocks.push_back(std::move(block));
    }
  }
  // Each chunk was parsed by one rank, so chunk order is a total order here.
  std::sort(blocks.begin(), blocks.end(),
            [](const Block& a, const Block& b) { return a.chunk < b.chunk; });
  for (const Block& block : blocks)
    for (const Entry& e : block.entries) owned_.add(e);
}

}  // namespace loadcast::dist
