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
// full delta, arg 1) or built in (empty delta, arg 0). BM_MergeStall: one
// thread searches (K = 200) non-stop while another fills the delta and
// triggers its merge; max_search_ms is the slowest search that overlapped
// the merge, for a merge chunk of arg 2 vectors (4096: the whole delta at
// once, no chunking).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

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

// A FEED's usual "cross" search: every culture but the query's home (~90%).
void BM_SearchOtherCultures(benchmark::State& state, const std::string& spec) {
  SearchFilter f;
  f.cultures.assign(kCultures, 1);
  f.cultures[0] = 0;
  RunSearch(state, spec, f, "not-culture0");
}

// The real-time path's options: one OpenMP thread per call, as the server
// runs (two threads on two busy cores mostly measured OpenMP's barriers).
IndexOptions ServingOptions(const std::string& spec) {
  IndexOptions o = Options(spec);
  o.omp_threads = 1;
  return o;
}

// One Add per iteration into a private n-vector index; 8192 iterations
// cross the default delta threshold twice. Arg 2: 0 turns the delta off
// (every add goes to Faiss, the behaviour before the delta).
void BM_SingleAdd(benchmark::State& state, const std::string& spec) {
  const int64_t n = state.range(0);
  const testing::Corpus& g = Grown(n);
  IndexOptions o = Options(spec);  // two threads for the build only
  if (state.range(1) == 0) o.delta_merge_threshold = 0;
  const testing::Corpus& d = Data(n);
  auto built = AnnIndex::Build(o, n, d.ids.data(), d.cultures.data(), d.vectors.data());
  if (!built.ok()) std::abort();
  // Reopened with serving options (a snapshot round trip keeps the graph).
  const std::string path = "/tmp/bf_index_bench_add.bfidx";
  if (!built.value()->Save(path, {"bench", 0}).ok()) std::abort();
  built.value().reset();
  o.omp_threads = 1;
  auto loaded = AnnIndex::Load(path, "bench", o, nullptr);
  if (!loaded.ok()) std::abort();
  std::remove(path.c_str());
  std::unique_ptr<AnnIndex> index = std::move(loaded).value();
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

// The n-vector HNSW32 index plus the first `added` extra vectors: built in
// (delta empty) or added one at a time (all in the delta).
std::unique_ptr<AnnIndex> GrownIndex(int64_t n, int64_t added, bool single, IndexOptions o) {
  const testing::Corpus& g = Grown(n);
  // Rows n .. n+kQueries are the queries: skip them.
  std::vector<uint64_t> ids(g.ids.begin(), g.ids.begin() + n);
  std::vector<uint16_t> cultures(g.cultures.begin(), g.cultures.begin() + n);
  std::vector<float> vectors(g.vectors.begin(), g.vectors.begin() + n * kDim);
  const size_t from = size_t(n + kQueries);
  if (!single) {
    ids.insert(ids.end(), g.ids.begin() + from, g.ids.begin() + from + added);
    cultures.insert(cultures.end(), g.cultures.begin() + from, g.cultures.begin() + from + added);
    vectors.insert(vectors.end(), g.vectors.begin() + from * kDim,
                   g.vectors.begin() + (from + added) * kDim);
  }
  auto r = AnnIndex::Build(o, int64_t(ids.size()), ids.data(), cultures.data(), vectors.data());
  if (!r.ok()) std::abort();
  std::unique_ptr<AnnIndex> index = std::move(r).value();
  for (int64_t i = 0; single && i < added; ++i) {
    const size_t row = from + size_t(i);
    if (!index->Add(g.ids[row], g.cultures[row], g.Vec(row)).ok()) std::abort();
  }
  return index;
}

void BM_SearchDelta(benchmark::State& state) {
  const int64_t n = state.range(0);
  const bool full = state.range(1) != 0;
  std::unique_ptr<AnnIndex> index = GrownIndex(n, kExtra, full, ServingOptions("HNSW32"));
  const testing::Corpus& q = Queries(n);
  std::vector<std::vector<Hit>> truth, got(kQueries);
  for (int i = 0; i < kQueries; ++i) truth.push_back(index->SearchExact(q.Vec(size_t(i)), kK).value());
  int i = 0;
  for (auto _ : state) {
    got[size_t(i)] = index->Search(q.Vec(size_t(i)), kK).value();
    i = (i + 1) % kQueries;
  }
  for (; i != 0 && i < kQueries; ++i) got[size_t(i)] = index->Search(q.Vec(size_t(i)), kK).value();
  state.SetItemsProcessed(state.iterations());
  state.counters["recall"] = RecallAtK(got, truth, kK);
}

void BM_MergeStall(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const int64_t n = state.range(0);
  IndexOptions o = ServingOptions("HNSW32");
  o.delta_merge_chunk = state.range(1);
  const testing::Corpus& g = Grown(n);
  const testing::Corpus& q = Queries(n);
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<AnnIndex> index = GrownIndex(n, o.delta_merge_threshold - 1, true, o);
    std::atomic<bool> stop{false};
    std::vector<std::pair<Clock::time_point, Clock::time_point>> searches;
    std::thread reader([&] {
      for (int i = 0; !stop.load(); i = (i + 1) % kQueries) {
        const auto t0 = Clock::now();
        benchmark::DoNotOptimize(index->Search(q.Vec(size_t(i)), kK));
        searches.emplace_back(t0, Clock::now());
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    state.ResumeTiming();
    const size_t row = size_t(n + kQueries + o.delta_merge_threshold - 1);
    const auto m0 = Clock::now();
    if (!index->Add(g.ids[row], g.cultures[row], g.Vec(row)).ok()) std::abort();
    const auto m1 = Clock::now();
    state.PauseTiming();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop.store(true);
    reader.join();
    double max_during = 0, max_outside = 0;
    int64_t during = 0;
    for (const auto& [t0, t1] : searches) {
      const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
      if (t1 >= m0 && t0 <= m1) {
        max_during = std::max(max_during, ms);
        ++during;
      } else {
        max_outside = std::max(max_outside, ms);
      }
    }
    state.counters["merge_ms"] = std::chrono::duration<double, std::milli>(m1 - m0).count();
    state.counters["max_search_ms"] = max_during;
    state.counters["searches_during"] = double(during);
    state.counters["max_search_ms_idle"] = max_outside;
    state.ResumeTiming();
  }
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
      benchmark::RegisterBenchmark(("BM_SearchOtherCultures/" + spec).c_str(),
                                   BM_SearchOtherCultures, spec)
          ->Arg(n)->Unit(benchmark::kMicrosecond);
    }
    for (const std::string spec : {"Flat", "HNSW32", "IVF1024,Flat"}) {
      auto* b = benchmark::RegisterBenchmark(("BM_SingleAdd/" + spec).c_str(), BM_SingleAdd, spec);
      if (spec == "HNSW32") b->Args({n, 0});
      b->Args({n, 1})->Iterations(8192)->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
    benchmark::RegisterBenchmark("BM_SearchDelta/HNSW32", BM_SearchDelta)
        ->Args({n, 0})->Args({n, 1})->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_MergeStall/HNSW32", BM_MergeStall)
        ->Args({n, 64})->Args({n, 256})->Args({n, 4096})
        ->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
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
