// The primitives of Shared Key and SAS signatures: base64, HMAC-SHA256 and
// URL encoding (OpenSSL's libcrypto).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loadcast::blob {

std::string base64_encode(std::string_view bytes);
// Nothing when `text` is not base64.
std::optional<std::string> base64_decode(std::string_view text);

// HMAC-SHA256 of `message` under `key`, raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view message);

}  // namespace loadcast::blob
