// ingest_inprocess: the in-process cost of what POST.ADD does, for the end-to-end
// benchmark's ingest ratio (bench/run_bench.py). No network.
//
//   ingest_inprocess --posts posts.jsonl --n 50000 --dir TMP [--index HNSW32]
//                    [--fsync everysec]
//
// Parses the first n posts (not timed), then times, each into a fresh database:
//   store_index: Store::PutPost + AnnIndex::Add, one post at a time (the floor the wire
//                path is compared with: the same RocksDB writes plus Faiss adds);
//   engine:      Engine::AddPost (the same plus the in-memory columns and checks).
// Output: one JSON object on stdout.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "tools/import/import_parse.h"
#include "engine/store/store.h"
#include "index/ann_index.h"

namespace bf {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "ingest_inprocess: %s\n", msg.c_str());
  std::exit(1);
}

FsyncPolicy ParseFsync(const std::string& s) {
  if (s == "always") return FsyncPolicy::kAlways;
  if (s == "no") return FsyncPolicy::kNo;
  if (s == "everysec") return FsyncPolicy::kEverysec;
  Die("--fsync must be always, everysec or no");
}

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int Run(const std::map<std::string, std::string>& a) {
  auto arg = [&](const std::string& k, const std::string& def) {
    auto it = a.find(k);
    return it == a.end() ? def : it->second;
  };
  const std::string posts_path = arg("posts", "");
  const std::string dir = arg("dir", "");
  if (posts_path.empty() || dir.empty()) Die("usage: --posts F --n N --dir D");
  const size_t n = std::stoul(arg("n", "50000"));
  const std::string spec = arg("index", "HNSW32");
  const FsyncPolicy fsync = ParseFsync(arg("fsync", "everysec"));

  std::ifstream in(posts_path);
  if (!in) Die("cannot read " + posts_path);
  std::string line;
  std::getline(in, line);
  int dim = 0;
  {
    ImportParser peek(64, 0);
    dim = peek.PeekVectorDim(line).value_or(0);
  }
  if (dim <= 0) Die("no vector on the first line of " + posts_path);
  ImportParser parser(dim, 1737590400);
  std::vector<PostRecord> posts;
  posts.reserve(n);
  do {
    auto p = parser.ParsePost(line);
    if (!p.ok()) Die(p.status().ToString());
    posts.push_back(std::move(p).value());
  } while (posts.size() < n && std::getline(in, line));

  // Store writes plus index adds, one post at a time.
  const std::string store_dir = dir + "/store_index";
  fs::remove_all(store_dir);
  fs::create_directories(dir);
  StoreOptions so;
  so.path = store_dir;
  so.dim = dim;
  so.fsync = fsync;
  auto store = Store::Open(so);
  if (!store.ok()) Die(store.status().ToString());
  IndexOptions io;
  io.dim = dim;
  io.spec = spec;
  auto index = AnnIndex::Create(io, static_cast<int64_t>(posts.size()));
  if (!index.ok()) Die(index.status().ToString());
  auto t0 = Clock::now();
  for (const PostRecord& p : posts) {
    auto stored = (*store)->PutPost(p);
    if (!stored.ok()) Die(stored.status().ToString());
    Status st = (*index)->Add(stored->iid, stored->culture_code, stored->vector);
    if (!st.ok()) Die(st.ToString());
  }
  const double store_index_s = Since(t0);
  store.value().reset();
  index.value().reset();
  fs::remove_all(store_dir);

  // The engine facade.
  const std::string engine_dir = dir + "/engine";
  fs::remove_all(engine_dir);
  EngineOptions eo;
  eo.data_dir = engine_dir;
  eo.dim = dim;
  eo.fsync = fsync;
  eo.index.spec = spec;
  eo.snapshot_interval_s = 0;
  auto engine = Engine::Open(eo);
  if (!engine.ok()) Die(engine.status().ToString());
  t0 = Clock::now();
  for (const PostRecord& p : posts) {
    PostInput pi;
    pi.id = p.id;
    pi.author = p.author;
    pi.culture = p.culture;
    pi.vector = p.vector;
    pi.lang = p.lang;
    pi.ts = p.ts;
    pi.tags = p.tags;
    pi.title = p.title;
    Status st = (*engine)->AddPost(std::move(pi));
    if (!st.ok()) Die(st.ToString());
  }
  const double engine_s = Since(t0);
  (void)(*engine)->Close();
  engine.value().reset();
  fs::remove_all(engine_dir);

  std::printf("{\"posts\":%zu,\"dim\":%d,\"index\":\"%s\",\"fsync\":\"%s\","
              "\"store_index_s\":%.3f,\"store_index_posts_per_s\":%.1f,"
              "\"engine_s\":%.3f,\"engine_posts_per_s\":%.1f}\n",
              posts.size(), dim, spec.c_str(), arg("fsync", "everysec").c_str(), store_index_s,
              posts.size() / store_index_s, engine_s, posts.size() / engine_s);
  return 0;
}

}  // namespace
}  // namespace bf

int main(int argc, char** argv) {
  std::map<std::string, std::string> a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) bf::Die("expected --key value, got " + k);
    a[k.substr(2)] = argv[i + 1];
  }
  return bf::Run(a);
}
