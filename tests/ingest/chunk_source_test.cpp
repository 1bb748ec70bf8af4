// Byte-range chunks: every line lands in exactly one chunk, whatever the chunk
// size and rank count, the same lines ChunkReader sees in order.
#include "ingest/chunk_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "common/error.h"
#include "support/csv.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;

// The lines of the chunks, in chunk order (each chunk's text split at '\n').
std::vector<std::string> lines_of(std::vector<std::pair<uint64_t, std::string>> chunks) {
  std::sort(chunks.begin(), chunks.end());
  std::vector<std::string> lines;
  for (const auto& [_, text] : chunks)
    for (std::string_view line : testing::split_lines(text)) lines.emplace_back(line);
  return lines;
}

// This rank's next chunk, whole; false when none is left.
bool next_chunk(ChunkSource& source, Chunk& chunk, std::string& text) {
  ChunkRange range;
  if (!source.claim(chunk, range)) return false;
  text.clear();
  source.read_lines(range, chunk, [&](std::string_view lines) { text += lines; });
  return true;
}

std::vector<std::pair<uint64_t, std::string>> read_all(ChunkSource& source) {
  std::vector<std::pair<uint64_t, std::string>> chunks;
  Chunk chunk;
  std::string text;
  while (next_chunk(source, chunk, text)) chunks.emplace_back(chunk.sequence, text);
  return chunks;
}

// Reads the chunks piece by piece, as the ingest does; every piece but a
// chunk's last must end with a newline (whole lines only).
std::vector<std::pair<uint64_t, std::string>> read_all_in_pieces(ChunkSource& source) {
  std::vector<std::pair<uint64_t, std::string>> chunks;
  Chunk chunk;
  ChunkRange range;
  while (source.claim(chunk, range)) {
    std::vector<std::string> pieces;
    source.read_lines(range, chunk, [&](std::string_view lines) { pieces.emplace_back(lines); });
    std::string text;
    for (size_t i = 0; i < pieces.size(); ++i) {
      EXPECT_FALSE(pieces[i].empty());
      if (i + 1 < pieces.size()) {
        EXPECT_EQ(pieces[i].back(), '\n');
      }
      text += pieces[i];
    }
    chunks.emplace_back(chunk.sequence, std::move(text));
  }
  return chunks;
}

class ChunkSourceTest : public ::testing::Test {
 protected:
  std::vector<InputFile> write_inputs(const std::vector<std::string>& contents) {
    std::vector<InputFile> files;
    for (size_t i = 0; i < contents.size(); ++i) {
      const fs::path file = temp_.path() / ("in" + std::to_string(i) + ".csv");
      testing::write_text(file, contents[i]);
      files.push_back({file.string(), static_cast<int64_t>(contents[i].size())});
    }
    return files;
  }
  // What ChunkReader, the sequential reader, makes of the same files.
  static std::vector<std::string> sequential_lines(const std::vector<InputFile>& files) {
    ChunkReader reader(files, 1 << 20);
    std::vector<std::pair<uint64_t, std::string>> chunks;
    Chunk chunk;
    while (reader.next(chunk)) chunks.emplace_back(chunk.sequence, std::string(chunk.text()));
    return lines_of(chunks);
  }
  testing::TempDir temp_;
};

TEST_F(ChunkSourceTest, EveryLineOnceForAnyChunkSizeAndRankCount) {
  std::mt19937 rng(3);
  std::string text =
      "\xEF\xBB\xBF"
      "first,line\r\n\n";
  for (int i = 0; i < 300; ++i) {
    text += std::string(rng() % 40, static_cast<char>('a' + i % 26));
    if (i % 50 == 7) text += std::string(3000, 'L');  // longer than many chunks
    text += i % 3 ? "\n" : "\r\n";
    if (i % 97 == 0) text += "\n\n";
  }
  const auto files = write_inputs({text, "", "no newline at the end", "\n", "x\ny"});
  const auto expected = sequential_lines(files);
  for (size_t chunk_bytes : {1, 2, 3, 7, 64, 1000, 4096, 1 << 20}) {
    for (int ranks : {1, 2, 3, 4}) {
      for (size_t piece_bytes :
           {size_t{1}, size_t{2}, size_t{5}, size_t{300}, ChunkSource::kPieceBytes}) {
        std::vector<std::pair<uint64_t, std::string>> chunks, whole;
        for (int rank = 0; rank < ranks; ++rank) {
          ChunkSource source(files, chunk_bytes, rank, ranks, piece_bytes);
          for (auto& c : read_all_in_pieces(source)) {
            EXPECT_EQ(c.first % static_cast<uint64_t>(ranks), static_cast<uint64_t>(rank));
            chunks.push_back(std::move(c));
          }
          ChunkSource again(files, chunk_bytes, rank, ranks);  // the default piece size
          for (auto& c : read_all(again)) whole.push_back(std::move(c));
        }
        EXPECT_EQ(chunks.size(), plan_chunks(files, chunk_bytes).size());
        EXPECT_EQ(chunks, whole);  // the chunks do not depend on the piece size
        EXPECT_EQ(lines_of(chunks), expected)
            << "chunk " << chunk_bytes << " ranks " << ranks << " piece " << piece_bytes;
      }
    }
  }
}

// The sequential reader (stdin) cuts the stream the same way whether its
// buffer is new or reused after a long line made it grow.
TEST_F(ChunkSourceTest, SequentialCutsDoNotDependOnTheBuffer) {
  std::string text = std::string(5000, 'L') + "\n";
  for (int i = 0; i < 400; ++i)
    text += std::string(1 + i % 37, static_cast<char>('a' + i % 26)) + "\n";
  const auto files = write_inputs({text});
  auto read = [&](bool reuse) {
    ChunkReader reader(files, 256);
    std::vector<std::pair<uint64_t, std::string>> chunks;
    Chunk reused;
    while (true) {
      Chunk fresh;
      Chunk& chunk = reuse ? reused : fresh;
      if (!reader.next(chunk)) break;
      chunks.emplace_back(chunk.sequence, std::string(chunk.text()));
    }
    return chunks;
  };
  const auto fresh = read(false);
  EXPECT_GE(fresh.size(), 10u);
  EXPECT_EQ(read(true), fresh);
}

TEST_F(ChunkSourceTest, ChunksDependOnlyOnInputsAndChunkSize) {
  const auto files = write_inputs({"aa\nbbbb\ncc\ndddddddddddd\ne\n", "ff\ngg"});
  const auto plan = plan_chunks(files, 5);
  ASSERT_EQ(plan.size(), 7u);  // 26 bytes in 6 ranges, 5 bytes in 1
  EXPECT_EQ(plan[5].begin, 25);
  EXPECT_EQ(plan[5].end, 26);
  ChunkSource source(files, 5, 0, 1);
  const auto chunks = read_all(source);
  ASSERT_EQ(chunks.size(), 7u);
  EXPECT_EQ(chunks[0].second, "aa\nbbbb\n");  // bbbb starts at 3, inside [0, 5)
  EXPECT_EQ(chunks[1].second, "cc\n");        // starts at 8
  EXPECT_EQ(chunks[2].second, "dddddddddddd\n");
  EXPECT_EQ(chunks[3].second, "");     // inside the d line
  EXPECT_EQ(chunks[4].second, "e\n");  // starts at 24
  EXPECT_EQ(chunks[5].second, "");     // only e's newline
  EXPECT_EQ(chunks[6].second, "ff\ngg");
}

TEST_F(ChunkSourceTest, PeekShowsTheFirstInputWithoutConsumingIt) {
  const auto files = write_inputs({"a,b\nc,d\n"});
  ChunkSource source(files, 1 << 20, 0, 1);
  EXPECT_EQ(source.peek(3), "a,b");
  EXPECT_EQ(read_all(source).at(0).second, "a,b\nc,d\n");
}

TEST_F(ChunkSourceTest, UnreadableFileIsADataErrorNamingIt) {
  auto files = write_inputs({"a\n"});
  fs::remove(files[0].path);
  ChunkSource source(files, 16, 0, 1);
  Chunk chunk;
  std::string text;
  try {
    next_chunk(source, chunk, text);
    FAIL() << "no error";
  } catch (const Failure& f) {
    EXPECT_EQ(f.code(), ExitCode::kData);
    EXPECT_NE(std::string(f.what()).find(files[0].path), std::string::npos);
  }
}

}  // namespace
}  // namespace loadcast
