// Redis-style glob patterns, as SCAN MATCH and CONFIG GET take them:
// `*` any run of bytes, `?` one byte, `[abc]`, `[a-z]`, `[^a]` a set, and
// `\x` the byte x itself. Binary-safe; an unclosed `[` matches literally.
//
// Thread safety: pure function.
#pragma once

#include <string_view>

namespace bf {

// True when s matches pattern. nocase: ASCII letters compare case-insensitively.
bool GlobMatch(std::string_view pattern, std::string_view s, bool nocase = false);

}  // namespace bf
