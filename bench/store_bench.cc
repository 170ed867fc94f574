// Store writes and reads (engine/store/store.h) on RocksDB in a temporary folder:
// post writes under each fsync policy, and the reads FEED does per request
// (user record, seen marks) plus post lookups.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "engine/store/store.h"

namespace bf {
namespace {

namespace fs = std::filesystem;
constexpr int kDim = 64;

Vector RandomUnit(std::mt19937& rng) {
  std::normal_distribution<float> g(0, 1);
  Vector v(kDim);
  for (float& x : v) x = g(rng);
  Normalize(v);
  return v;
}

PostRecord MakePost(std::mt19937& rng, int64_t i) {
  PostRecord p;
  p.id = "p:" + std::to_string(i);
  p.author = "a:" + std::to_string(i % 5000);
  p.culture = i % 3 == 0 ? "US" : "CN";
  p.lang = "en";
  p.ts = 1737590400 + i;
  p.tags = {"cats", "birds"};
  p.title = "post number " + std::to_string(i);
  p.vector = RandomUnit(rng);
  return p;
}

// A fresh store per benchmark, removed afterwards.
class TempStore {
 public:
  explicit TempStore(FsyncPolicy fsync) {
    dir_ = fs::temp_directory_path() / ("bf_store_bench_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    StoreOptions o;
    o.path = dir_.string();
    o.dim = kDim;
    o.fsync = fsync;
    auto s = Store::Open(o);
    if (s.ok()) store_ = std::move(s).value();
  }
  ~TempStore() {
    store_.reset();
    fs::remove_all(dir_);
  }
  Store* get() { return store_.get(); }

 private:
  fs::path dir_;
  std::unique_ptr<Store> store_;
};

// Arg: 0 = fsync no, 1 = everysec (the default), 2 = always.
void BM_StorePutPost(benchmark::State& state) {
  const FsyncPolicy policy[] = {FsyncPolicy::kNo, FsyncPolicy::kEverysec, FsyncPolicy::kAlways};
  TempStore ts(policy[state.range(0)]);
  if (!ts.get()) return state.SkipWithError("open failed");
  std::mt19937 rng(1);
  int64_t i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    PostRecord p = MakePost(rng, i++);
    state.ResumeTiming();
    auto r = ts.get()->PutPost(std::move(p));
    if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StorePutPost)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

// Bulk: PutPosts in batches of 1000 (the import path without its parsing).
void BM_StorePutPostsBatch(benchmark::State& state) {
  TempStore ts(FsyncPolicy::kEverysec);
  if (!ts.get()) return state.SkipWithError("open failed");
  std::mt19937 rng(1);
  int64_t i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<PostRecord> batch;
    for (int j = 0; j < 1000; ++j) batch.push_back(MakePost(rng, i++));
    state.ResumeTiming();
    Status st = ts.get()->PutPosts(batch);
    if (!st.ok()) return state.SkipWithError(st.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_StorePutPostsBatch)->Unit(benchmark::kMillisecond);

// Reads against 20k posts and 1000 users with 100 seen marks each.
class StoreReads : public benchmark::Fixture {
 public:
  void SetUp(const benchmark::State&) override {
    ts_ = std::make_unique<TempStore>(FsyncPolicy::kNo);
    std::mt19937 rng(2);
    std::vector<PostRecord> posts;
    for (int64_t i = 0; i < 20000; ++i) posts.push_back(MakePost(rng, i));
    if (!ts_->get()->PutPosts(posts).ok()) std::abort();
    for (int u = 0; u < 1000; ++u) {
      UserRecord r;
      r.id = "u:" + std::to_string(u);
      r.culture = "US";
      r.vector = RandomUnit(rng);
      if (!ts_->get()->PutUser(r).ok()) std::abort();
      std::vector<uint64_t> iids;
      for (int j = 0; j < 100; ++j) iids.push_back(posts[(u * 131 + j * 7) % posts.size()].iid);
      if (!ts_->get()->MarkServed(r.id, iids, 1737590400).ok()) std::abort();
    }
  }
  void TearDown(const benchmark::State&) override { ts_.reset(); }

 protected:
  std::unique_ptr<TempStore> ts_;
};

BENCHMARK_F(StoreReads, GetPost)(benchmark::State& state) {
  int64_t i = 0;
  for (auto _ : state) {
    auto r = ts_->get()->GetPost("p:" + std::to_string(i++ * 7919 % 20000));
    if (!r.ok() || !r->has_value()) return state.SkipWithError("missing post");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_F(StoreReads, GetUser)(benchmark::State& state) {
  int64_t i = 0;
  for (auto _ : state) {
    auto r = ts_->get()->GetUser("u:" + std::to_string(i++ % 1000));
    if (!r.ok() || !r->has_value()) return state.SkipWithError("missing user");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

// The seen marks of one user (100 here): FEED reads them on every request.
BENCHMARK_F(StoreReads, GetSeen100)(benchmark::State& state) {
  int64_t i = 0;
  for (auto _ : state) {
    auto r = ts_->get()->GetSeen("u:" + std::to_string(i++ % 1000));
    if (!r.ok() || r->size() != 100) return state.SkipWithError("wrong seen set");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace
}  // namespace bf

BENCHMARK_MAIN();
