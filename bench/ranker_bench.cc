// Ranking alone (no ANN): 500 candidates into a 20-post page, and FEED
// through the engine facade (ANN + ranking + store reads, no network).
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "engine/engine.h"
#include "engine/ranking/ranker.h"

namespace bf {
namespace {

constexpr int kDim = 64;

Vector RandomUnit(std::mt19937& rng, int topic) {
  std::normal_distribution<float> g(0, 0.3f);
  Vector v(kDim);
  for (float& x : v) x = g(rng);
  v[topic % kDim] += 1.0f;
  Normalize(v);
  return v;
}

// A table of n posts in 6 cultures; candidates: the 500 nearest (exact).
void BM_Rank500Candidates(benchmark::State& state) {
  std::mt19937 rng(1);
  PostTable table(kDim, BridgingParams{});
  const int n = 20000;
  for (int i = 1; i <= n; ++i) {
    PostRecord p;
    p.iid = i;
    p.id = "p" + std::to_string(i);
    p.author = "a" + std::to_string(i % 3000);
    p.culture_code = static_cast<uint16_t>(1 + i % 6);
    p.ts = 1000 + i;
    p.vector = RandomUnit(rng, i % 20);
    table.Upsert(p);
    if (i % 3 == 0) {
      table.AddStats(i, 1, 10, 4, 0);
      table.AddStats(i, 2, 10, i % 5, 0);
    }
  }
  Vector user = RandomUnit(rng, 3);
  std::vector<Match> all;
  table.ForEachLive([&](uint64_t iid, const PostEntry&, std::span<const float> v) {
    all.push_back({iid, Dot(user, v)});
  });
  std::partial_sort(all.begin(), all.begin() + 500, all.end(),
                    [](const Match& a, const Match& b) { return a.score > b.score; });
  FeedQuery in;
  in.user_vector = user;
  in.user_culture = 1;
  in.count = 20;
  in.openness = 0.3;
  in.now = 1000 + n;
  Candidates ann;
  ann.interest.assign(all.begin(), all.begin() + 300);
  for (const Match& h : all) {
    if (table.Get(h.iid).culture != 1 && ann.cross.size() < 200) ann.cross.push_back(h);
  }
  RankingOptions opt;
  for (auto _ : state) {
    Candidates c = ann;  // the bridging and fresh lists are part of the work
    AddListCandidates(in, table, &c);
    auto page = RankFeed(table, in, c, opt);
    benchmark::DoNotOptimize(page.data());
  }
  state.counters["candidates"] = static_cast<double>(ann.interest.size() + ann.cross.size());
}
BENCHMARK(BM_Rank500Candidates)->Unit(benchmark::kMicrosecond);

// FEED COUNT 20 PEEK through the engine, 50k posts, HNSW32.
void BM_FeedThroughEngine(benchmark::State& state) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("bf_bench_feed_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  EngineOptions o;
  o.data_dir = dir.string();
  o.dim = kDim;
  o.fsync = FsyncPolicy::kNo;
  o.index.spec = "HNSW32";
  o.snapshot_interval_s = 0;
  auto engine = Engine::Open(o);
  if (!engine.ok()) {
    state.SkipWithError(engine.status().ToString().c_str());
    return;
  }
  std::mt19937 rng(2);
  const char* cultures[] = {"CN", "US", "BR", "JP"};
  for (int i = 0; i < 50000; ++i) {
    PostInput p;
    p.id = "p" + std::to_string(i);
    p.author = "a" + std::to_string(i % 5000);
    p.culture = cultures[i % 4];
    p.vector = RandomUnit(rng, i % 20);
    p.ts = 1'700'000'000 + i;
    if (!(*engine)->AddPost(std::move(p)).ok()) std::abort();
  }
  for (int u = 0; u < 100; ++u) {
    UserUpdate up;
    up.id = "u" + std::to_string(u);
    up.culture = cultures[u % 4];
    up.vector = RandomUnit(rng, u % 20);
    if (!(*engine)->SetUser(up).ok()) std::abort();
  }
  int u = 0;
  for (auto _ : state) {
    FeedRequest r;
    r.user = "u" + std::to_string(u++ % 100);
    r.count = 20;
    r.peek = true;
    auto page = (*engine)->Feed(r);
    benchmark::DoNotOptimize(page);
  }
  (void)(*engine)->Close();
  engine.value().reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_FeedThroughEngine)->Unit(benchmark::kMicrosecond)->Iterations(2000);

}  // namespace
}  // namespace bf

BENCHMARK_MAIN();
