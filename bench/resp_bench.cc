// RESP request parsing (engine/server/resp_parser.h) without sockets: a read's worth of
// pipelined commands appended at once, then parsed command by command, as a
// connection does. items_per_second = commands parsed per second.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "engine/server/resp_parser.h"

namespace bf {
namespace {

std::string Multibulk(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

void ParseAll(benchmark::State& state, const std::string& one, int per_read) {
  std::string input;
  for (int i = 0; i < per_read; ++i) input += one;
  RespParser parser;
  std::vector<std::string_view> args;
  for (auto _ : state) {
    parser.Append(input);
    int n = 0;
    while (parser.Next(&args) == RespParser::State::kCommand) ++n;
    if (n != per_read) state.SkipWithError("parse failed");
    parser.Compact();
    benchmark::DoNotOptimize(args.data());
  }
  state.SetItemsProcessed(state.iterations() * per_read);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(input.size()));
}

// Arg: commands per read (1 = no pipelining, 16 = redis-benchmark -P 16).
void BM_RespPingMultibulk(benchmark::State& state) {
  ParseAll(state, Multibulk({"PING"}), static_cast<int>(state.range(0)));
}
BENCHMARK(BM_RespPingMultibulk)->Arg(1)->Arg(16);

void BM_RespPingInline(benchmark::State& state) {
  ParseAll(state, "PING\r\n", static_cast<int>(state.range(0)));
}
BENCHMARK(BM_RespPingInline)->Arg(1)->Arg(16);

void BM_RespFeed(benchmark::State& state) {
  ParseAll(state, Multibulk({"FEED", "u:000000001234", "COUNT", "20", "PEEK"}),
           static_cast<int>(state.range(0)));
}
BENCHMARK(BM_RespFeed)->Arg(1)->Arg(16);

// POST.ADD with a 64-d FP32 blob (256 bytes), the ingest path's command.
void BM_RespPostAddFp32(benchmark::State& state) {
  std::string blob(64 * 4, '\x3f');
  ParseAll(state,
           Multibulk({"POST.ADD", "p:123456", "AUTHOR", "a:us:42", "CULTURE", "US", "VECTOR",
                      "FP32", blob, "LANG", "en", "TS", "1737590400", "TAGS", "cats,birds",
                      "TITLE", "a cat watching birds"}),
           static_cast<int>(state.range(0)));
}
BENCHMARK(BM_RespPostAddFp32)->Arg(1)->Arg(16);

}  // namespace
}  // namespace bf

BENCHMARK_MAIN();
