// SHA-256 digests (OpenSSL's libcrypto) as lowercase hex, for artifact and
// model-bundle content checks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace loadcast {

std::string sha256_hex(std::string_view data);

struct FileDigest {
  std::string sha256;
  uint64_t bytes = 0;
};

// Streams the file; throws Failure(kData) naming it when it cannot be read.
FileDigest sha256_file(const std::filesystem::path& path);

// A directory's content hash: SHA-256 over "<relative name>\0<file sha256>\n"
// for every regular file below it, sorted by relative name, so renaming,
// adding, removing or editing any file changes it. `bytes` is the total size.
FileDigest sha256_tree(const std::filesystem::path& dir);

}  // namespace loadcast
