// Index micro benchmarks: build (add) and search at K = 200 for Flat,
// HNSW32 and IVF1024,Flat over clustered 64-d vectors, with recall@K
// against exact search as a counter.
//
//   index_bench --benchmark_min_time=0.2     100k vectors (a few minutes)
//   BF_BENCH_LARGE=1 index_bench ...         adds the 1M cases
//
// Builds use 2 OpenMP threads (the machine's cores); searches use one
// thread per query, as the server does.
//
// BM_SingleAdd: real-time adds (one vector per call, as POST.ADD does) into
// an index that already holds n vectors; max_add_ms is the slowest add (the
// one that merges the HNSW delta, docs/index.md). BM_SearchDelta: K = 200
// search over n + 4095 vectors, with the last 4095 added one at a time (a
// full delta, arg 1) or built in (empty delta, arg 0).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

#include "index/ann_index.h"
#include "tests/index/clustered_data.h"

namespace bf {
namespace {

constexpr int kDim = 64;
// K defaults to 200 (about 10x a feed page); BF_BENCH_K overrides it.
const int kK = std::getenv("BF_BENCH_K") ? std::atoi(std::getenv("BF_BENCH_K")) : 200;
constexpr int kQueries = 200;
constexpr int kCultures = 10;

const testing::Corpus& Data(int64_t n) {
  static std::map<int64_t, testing::Corpus> cache;
  auto it = cache.find(n);
  if (it == cache.end()) {
    // About 1000 vectors per cluster (a topic), so the top 200 mostly share
    // the query's topic; culture c owns every 10th cluster.
    it = cache.emplace(n, testing::MakeCorpus(size_t(n), kDim, int(n / 1000), kCultures, 17)).first;
  }
  return it->second;
}

const testing::Corpus& Queries(int64_t n) {
  static std::map<int64_t, testing::Corpus> cache;
  auto it = cache.find(n);
  if (it == cache.end()) {
    // Same cluster centres (same seed and count), fresh points.
    testing::Corpus q = testing::MakeCorpus(size_t(n) + kQueries, kDim, int(n / 1000), kCultures, 17);
    testing::Corpus tail;
    tail.dim = kDim;
    tail.vectors.assign(q.vectors.end() - kQueries * kDim, q.vectors.end());
    tail.ids.assign(q.ids.end() - kQueries, q.ids.end());
    tail.cultures.assign(q.cultures.end() - kQueries, q.cultures.end());
    it = cache.emplace(n, std::move(tail)).first;
  }
  return it->second;
}

// Vectors past the queries in the same corpus: fresh posts for the add
// benchmarks (same clusters, ids unused by Data(n)).
constexpr int64_t kExtra = 4095;  // one short of the default delta threshold
const testing::Corpus& Grown(int64_t n) {
  static std::map<int64_t, testing::Corpus> cache;
  auto it = cache.find(n);
  if (it == cache.end()) {
    it = cache.emplace(n, testing::MakeCorpus(size_t(n + kQueries + kExtra * 4), kDim,
                                              int(n / 1000), kCultures, 17)).first;
  }
  return it->second;
}

IndexOptions Options(const std::string& spec) {
  IndexOptions o;
  o.dim = kDim;
  o.spec = spec;
  o.omp_threads = 2;
  return o;
}

std::map<std::pair<std::string, int64_t>, std::unique_ptr<AnnIndex>>& Indexes() {
  static std::map<std::pair<std::string, int64_t>, std::unique_ptr<AnnIndex>> m;
  return m;
}

std::unique_ptr<AnnIndex> BuildIndex(const std::string& spec, int64_t n) {
  const testing::Corpus& d = Data(n);
  auto r = AnnIndex::Build(Options(spec), n, d.ids.data(), d.cultures.data(), d.vectors.data());
  if (!r.ok()) {
    std::fprintf(stderr, "build %s: %s\n", spec.c_str(), r.status().ToString().c_str());
    std::abort();
  }
  return std::move(r).value();
}

AnnIndex& GetIndex(const std::string& spec, int64_t n) {
  auto& slot = Indexes()[{spec, n}];
  if (!slot) slot = BuildIndex(spec, n);
  return *slot;
}

// Exact top-K per query (from the Flat index's brute force), cached.
const std::vector<std::vector<Hit>>& Truth(int64_t n, const SearchFilter& f, const char* key) {
  static std::map<std::pair<int64_t, std::string>, std::vector<std::vector<Hit>>> cache;
  auto& t = cache[{n, key}];
  if (t.empty()) {
    AnnIndex& flat = GetIndex("Flat", n);
    const testing::Corpus& q = Queries(n);
    for (int i = 0; i < kQueries; ++i) t.push_back(flat.SearchExact(q.Vec(i), kK, f).value());
  }
  return t;
}

void BM_Build(benchmark::State& state, const std::string& spec) {
  const int64_t n = state.range(0);
  Data(n);
  for (auto _ : state) Indexes()[{spec, n}] = BuildIndex(spec, n);
  state.counters["vectors_per_s"] =
      benchmark::Counter(double(n) * double(state.iterations()), benchmark::Counter::kIsRate);
}

void RunSearch(benchmark::State& state, const std::string& spec, const SearchFilter& f,
               const char* key) {
  const int64_t n = state.range(0);
  AnnIndex& index = GetIndex(spec, n);
  const testing::Corpus& q = Queries(n);
  const auto& truth = Truth(n, f, key);
  std::vector<std::vector<Hit>> got(kQueries);
  int i = 0;
  for (auto _ : state) {
    auto r = index.Search(q.Vec(size_t(i)), kK, f);
    got[size_t(i)] = std::move(r).value();
    i = (i + 1) % kQueries;
  }
  for (; i != 0 && i < kQueries; ++i) got[size_t(i)] = index.Search(q.Vec(size_t(i)), kK, f).value();
  state.SetItemsProcessed(state.iterations());  // items/s = queries per second
  state.counters["recall"] = RecallAtK(got, truth, kK);
}

void BM_Search(benchmark::State& state, const std::string& spec) {
  RunSearch(state, spec, {}, "all");
}

// The "cross" source: only culture 3 (~10% of the corpus).
void BM_SearchOneCulture(benchmark::State& state, const std::string& spec) {
  SearchFilter f;
  f.cultures.assign(kCultures, 0);
  f.cultures[3] = 1;
  RunSearch(state, spec, f, "culture3");
}

// One Add per iteration into a private copy of the n-vector index; 8192
// iterations cross the default delta threshold twice.
void BM_SingleAdd(benchmark::State& state, const std::string& spec) {
  const int64_t n = state.range(0);
  const testing::Corpus& g = Grown(n);
  std::unique_ptr<AnnIndex> index = BuildIndex(spec, n);
  size_t i = size_t(n + kQueries);
  double max_ms = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    Status s = index->Add(g.ids[i], g.cultures[i], g.Vec(i));
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    max_ms = std::max(max_ms, ms);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    if (++i == g.size()) i = size_t(n + kQueries);  // wraps into replaces
  }
  state.SetItemsProcessed(state.iterations());  // items/s = adds per second
  state.counters["max_add_ms"] = max_ms;
}

void Register() {
  std::vector<int64_t> sizes = {100000};
  if (const char* e = std::getenv("BF_BENCH_LARGE"); e != nullptr && std::string(e) == "1") {
    sizes.push_back(1000000);
  }
  for (int64_t n : sizes) {
    for (const std::string spec : {"Flat", "HNSW32", "IVF1024,Flat"}) {
      benchmark::RegisterBenchmark(("BM_Build/" + spec).c_str(), BM_Build, spec)
          ->Arg(n)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
      benchmark::RegisterBenchmark(("BM_Search/" + spec).c_str(), BM_Search, spec)
          ->Arg(n)->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("BM_SearchOneCulture/" + spec).c_str(), BM_SearchOneCulture,
                                   spec)
          ->Arg(n)->Unit(benchmark::kMicrosecond);
    }
    for (const std::string spec : {"Flat", "HNSW32", "IVF1024,Flat"}) {
      benchmark::RegisterBenchmark(("BM_SingleAdd/" + spec).c_str(), BM_SingleAdd, spec)
          ->Arg(n)->Iterations(8192)->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
    // Free this size's indexes before the next size.
    benchmark::RegisterBenchmark(("BM_Release/" + std::to_string(n)).c_str(),
                                 [n](benchmark::State& s) {
                                   for (auto _ : s) {
                                     std::erase_if(Indexes(),
                                                   [n](auto& kv) { return kv.first.second == n; });
                                   }
                                 })
        ->Iterations(1);
  }
}

}  // namespace
}  // namespace bf

int main(int argc, char** argv) {
  bf::Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
