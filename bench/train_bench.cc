// TRAIN through the engine (docs/learning.md): read the store, weighted ALS
// on all cores, model file, index rebuild and swap, users written, at d = 64
// over 100k events (5,000 users, 10,000 posts with given vectors; 1M events
// with BF_BENCH_LARGE=1). Events are clustered: each user favours one of 50
// post groups, posts drawn with a Zipf-like skew.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "engine/engine.h"

namespace bf {
namespace {

namespace fs = std::filesystem;

struct World {
  fs::path dir;
  std::unique_ptr<Engine> engine;
};

// Fills a fresh engine; nullptr engine on error (reported by the caller).
World MakeWorld(int64_t events, std::string* error) {
  const int dim = 64;
  const int posts = static_cast<int>(events / 10), users = static_cast<int>(events / 20);
  World w;
  w.dir = fs::temp_directory_path() / ("bf_train_bench_" + std::to_string(::getpid()));
  fs::remove_all(w.dir);
  EngineOptions o;
  o.data_dir = w.dir.string();
  o.dim = dim;
  o.fsync = FsyncPolicy::kNo;
  o.snapshot_interval_s = 0;
  auto e = Engine::Open(o);
  if (!e.ok()) {
    *error = e.status().ToString();
    return w;
  }
  std::mt19937_64 rng(5);
  std::normal_distribution<float> g(0, 1);
  std::uniform_real_distribution<double> u01(0, 1);
  for (int i = 0; i < posts; ++i) {
    PostInput p;
    p.id = "p" + std::to_string(i);
    p.author = "a" + std::to_string(i % 1000);
    p.culture = i % 3 == 0 ? "CN" : "US";
    p.vector.resize(dim);
    for (float& x : p.vector) x = g(rng);
    if (Status s = (*e)->AddPost(std::move(p)); !s.ok()) {
      *error = s.ToString();
      return w;
    }
  }
  const int groups = 50, per_group = posts / groups;
  for (int64_t n = 0; n < events; ++n) {
    const int user = static_cast<int>(rng() % static_cast<uint64_t>(users));
    const int group = u01(rng) < 0.8 ? user % groups : static_cast<int>(rng() % groups);
    const int post = group * per_group + static_cast<int>(std::pow(u01(rng), 2.0) * per_group);
    const EventType type = u01(rng) < 0.3 ? EventType::kLike : EventType::kView;
    Status s = (*e)->RecordEvent("u" + std::to_string(user), "p" + std::to_string(post), type,
                                 1'700'000'000 + n);
    if (!s.ok()) {
      *error = s.ToString();
      return w;
    }
  }
  w.engine = std::move(e).value();
  return w;
}

void BM_TrainThroughEngine(benchmark::State& state) {
  std::string error;
  World w = MakeWorld(state.range(0), &error);
  if (!w.engine) {
    state.SkipWithError(error.c_str());
    return;
  }
  TrainSummary last;
  for (auto _ : state) {
    auto r = w.engine->Train(true);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    last = *r;
  }
  state.counters["events"] = static_cast<double>(last.events);
  state.counters["users"] = static_cast<double>(last.users);
  state.counters["posts"] = static_cast<double>(last.posts);
  state.counters["iterations"] = last.iterations;
  (void)w.engine->Close();
  w.engine.reset();
  fs::remove_all(w.dir);
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->Arg(100'000);
  if (std::getenv("BF_BENCH_LARGE") != nullptr) b->Arg(1'000'000);
}

BENCHMARK(BM_TrainThroughEngine)->Apply(Sizes)->Unit(benchmark::kSecond)->Iterations(1)
    ->UseRealTime();

}  // namespace
}  // namespace bf

BENCHMARK_MAIN();
