// One EVENT through the engine facade (no network) for a user with 1,000
// events at d = 64, over 20,000 posts: the fold-in the server runs on every
// event, with the store write it makes. Side by side in one run:
//   Cached   the user's incremental fold-in is in the LRU (the usual case)
//   Cold     no cache (foldin_cache_users 0): every event re-reads the user's
//            event log and re-solves it in full (an evicted user's first event)
//   Nudge    --feedback nudge, the old move-toward rule: the floor of the path
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include "engine/engine.h"

namespace bf {
namespace {

namespace fs = std::filesystem;
constexpr int kDim = 64;
constexpr int kPosts = 20'000;
constexpr int kHistory = 1'000;

struct World {
  fs::path dir;
  std::unique_ptr<Engine> engine;
  ~World() {
    if (engine) (void)engine->Close();
    engine.reset();
    fs::remove_all(dir);
  }
};

std::unique_ptr<World> MakeWorld(const std::string& feedback, size_t cache_users) {
  auto w = std::make_unique<World>();
  w->dir = fs::temp_directory_path() /
           ("bf_feedback_bench_" + std::to_string(::getpid()) + "_" + feedback +
            std::to_string(cache_users));
  fs::remove_all(w->dir);
  EngineOptions o;
  o.data_dir = w->dir.string();
  o.dim = kDim;
  o.index.spec = "Flat";
  o.snapshot_interval_s = 0;
  o.feedback = feedback;
  o.foldin_cache_users = cache_users;
  auto e = Engine::Open(o);
  if (!e.ok()) return nullptr;
  w->engine = std::move(e).value();
  std::mt19937 rng(11);
  std::normal_distribution<float> g(0, 1);
  for (int i = 0; i < kPosts; ++i) {
    PostInput p;
    p.id = "p" + std::to_string(i);
    p.author = "a" + std::to_string(i % 500);
    p.culture = i % 3 ? "US" : "CN";
    p.vector.resize(kDim);
    for (float& x : p.vector) x = g(rng);
    if (!w->engine->AddPost(std::move(p)).ok()) return nullptr;
  }
  // 1,000 events of one user over 600 distinct posts: views, likes, a few hides.
  for (int n = 0; n < kHistory; ++n) {
    const EventType t = n % 10 == 9 ? EventType::kHide
                        : n % 3 == 0 ? EventType::kLike
                                     : EventType::kView;
    if (!w->engine->RecordEvent("heavy", "p" + std::to_string((n * 37) % 600), t, {}).ok()) {
      return nullptr;
    }
  }
  return w;
}

void RunEvents(benchmark::State& state, const std::string& feedback, size_t cache_users) {
  auto w = MakeWorld(feedback, cache_users);
  if (w == nullptr) {
    state.SkipWithError("world setup failed");
    return;
  }
  std::mt19937 rng(5);
  int64_t n = 0;
  for (auto _ : state) {
    const EventType t = n++ % 4 == 0 ? EventType::kLike : EventType::kView;
    const Status s = w->engine->RecordEvent(
        "heavy", "p" + std::to_string(rng() % kPosts), t, {});
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.counters["history"] = static_cast<double>(kHistory + n);
}

void BM_EventFoldInCached(benchmark::State& state) { RunEvents(state, "foldin", 1024); }
void BM_EventFoldInCold(benchmark::State& state) { RunEvents(state, "foldin", 0); }
void BM_EventNudge(benchmark::State& state) { RunEvents(state, "nudge", 1024); }

// Fixed iteration counts keep the history near 1,000 events (it grows by one per event).
BENCHMARK(BM_EventFoldInCached)->Iterations(200)->Repetitions(5)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_EventFoldInCold)->Iterations(200)->Repetitions(5)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_EventNudge)->Iterations(200)->Repetitions(5)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bf

BENCHMARK_MAIN();
