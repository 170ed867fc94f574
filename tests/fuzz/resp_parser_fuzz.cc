// libFuzzer target: the RESP request parser (engine/server/resp_parser.h).
//
// The input is fed in chunks whose sizes come from the input itself, so the
// resumable paths (a header or bulk split across reads, Compact between
// reads) are exercised, not only whole-buffer parsing. Small limits make the
// limit checks reachable. Checks the parser's own promises: a command has at
// least one argument, views point into the parser, buffered() never exceeds
// the query buffer limit, and an error is final.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "engine/server/resp_parser.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  bf::RespLimits limits;
  limits.max_bulk_len = 64;
  limits.max_args = 16;
  limits.max_inline_len = 128;
  limits.max_query_buffer = 512;
  bf::RespParser parser(limits);

  // First byte: chunk size for the reads (1..16, like a slow client).
  const size_t chunk = (data[0] & 15) + 1;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string_view> args;
  bool failed = false;
  while (!rest.empty() && !failed) {
    const size_t n = rest.size() < chunk ? rest.size() : chunk;
    // The server stops reading at the query buffer limit; so do we.
    if (parser.buffered() + n > limits.max_query_buffer) break;
    parser.Append(rest.substr(0, n));
    rest.remove_prefix(n);
    for (;;) {
      bf::RespParser::State st = parser.Next(&args);
      if (st == bf::RespParser::State::kNeedMore) break;
      if (st == bf::RespParser::State::kError) {
        Check(!parser.error().empty());
        // An error is final.
        Check(parser.Next(&args) == bf::RespParser::State::kError);
        failed = true;
        break;
      }
      Check(!args.empty());
      size_t total = 0;
      for (std::string_view a : args) {
        Check(a.size() <= limits.max_inline_len || a.size() <= limits.max_bulk_len);
        total += a.size();
        // Touch every byte so ASan sees any view past the buffer.
        volatile char sink = 0;
        for (char c : a) sink = sink ^ c;
        (void)sink;
      }
      Check(args.size() <= limits.max_args);
      (void)total;
    }
    parser.Compact();
  }
  return 0;
}
