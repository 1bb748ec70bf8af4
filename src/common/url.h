// Percent-encoding (RFC 3986) of URL parts, shared by the blob client's
// addresses, the HTTP transport's paths and the dashboard's links and forms.
#pragma once

#include <string>
#include <string_view>

namespace loadcast {

// Every byte but unreserved characters (letters, digits, - _ . ~) as %XX;
// `keep_slash` leaves '/' as it is (a blob name's folders).
std::string url_encode(std::string_view text, bool keep_slash = false);
// %XX as its byte (a malformed escape stays as written); `plus_is_space`
// reads '+' as a space, as HTML forms and query strings write it.
std::string url_decode(std::string_view text, bool plus_is_space = false);

}  // namespace loadcast
