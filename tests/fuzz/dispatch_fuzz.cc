// libFuzzer target: command dispatch (engine/server/commands.h) against a real
// Engine on a temporary data dir, dimension 4.
//
// The input is a stream of requests in either RESP form (inline words or
// multibulk), parsed with the server's own parser, so the seeds read like a
// redis-cli session. BACKUP and INDEX.LOAD are skipped: they take paths, and a
// fuzzer must not write or read outside its folder.
//
// One engine serves many inputs (opening RocksDB per input would cost more
// than the commands); it is recreated empty every kInputsPerEngine inputs so
// state stays small. A crash found this way may need the inputs before it:
// libFuzzer's crash file alone usually reproduces, since most bugs are in one
// command's handling.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "engine/server/commands.h"
#include "engine/server/config.h"
#include "engine/engine.h"
#include "engine/server/resp_parser.h"

namespace {

namespace fs = std::filesystem;

constexpr int kDim = 4;
constexpr int kInputsPerEngine = 2000;
constexpr int kMaxCommandsPerInput = 64;

struct Harness {
  fs::path dir;
  std::unique_ptr<bf::Engine> engine;
  bf::ServerConfig config;
  bf::ServerStats stats;
  int inputs = 0;

  Harness() {
    std::string tmpl = (fs::temp_directory_path() / "bf_dispatch_fuzz.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir = tmpl;
    config.engine.dim = kDim;
    config.slowlog_usec = -1;  // no log line per slow command under ASan
    Open();
  }
  ~Harness() {
    Close();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  void Open() {
    bf::EngineOptions o;
    o.data_dir = (dir / "data").string();
    o.dim = kDim;
    o.fsync = bf::FsyncPolicy::kNo;
    o.snapshot_interval_s = 0;
    auto e = bf::Engine::Open(o);
    if (!e.ok()) {
      spdlog::critical("Engine::Open: {}", e.status().ToString());
      std::abort();
    }
    engine = std::move(e).value();
  }
  void Close() {
    if (engine) (void)engine->Close();
    engine.reset();
    std::error_code ec;
    fs::remove_all(dir / "data", ec);
  }
};

Harness* harness = nullptr;

void Teardown() {
  delete harness;
  harness = nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  harness = new Harness();
  std::atexit(Teardown);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness& h = *harness;
  if (++h.inputs % kInputsPerEngine == 0) {
    h.Close();
    h.Open();
  }
  bf::RespParser parser;  // the server's default limits
  parser.Append(std::string_view(reinterpret_cast<const char*>(data), size));
  bf::ClientState client;
  client.id = 1;
  client.addr = "127.0.0.1:1";
  bf::CommandContext ctx;
  ctx.engine = h.engine.get();
  ctx.config = &h.config;
  ctx.stats = &h.stats;
  ctx.client = &client;

  std::vector<std::string_view> args;
  std::string out;
  for (int n = 0; n < kMaxCommandsPerInput && !client.quit; ++n) {
    if (parser.Next(&args) != bf::RespParser::State::kCommand) break;
    if (bf::EqualsIgnoreCase(args[0], "BACKUP") || bf::EqualsIgnoreCase(args[0], "INDEX.LOAD")) {
      continue;
    }
    out.clear();
    bf::Dispatch(ctx, args, &out);
    // Exactly one reply, and it is RESP: starts with a type byte of the
    // connection's protocol (HELLO 3 switches it), ends in CRLF.
    if (out.size() < 3 || out.compare(out.size() - 2, 2, "\r\n") != 0) std::abort();
    const std::string_view types =
        client.protocol.load() == bf::Protocol::kResp3 ? "+-:$*%_,#=(!|~" : "+-:$*";
    if (types.find(out[0]) == std::string_view::npos) std::abort();
  }
  return 0;
}
