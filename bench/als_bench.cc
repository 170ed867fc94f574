// The learning model (embeddings/learn): fold-in of one event for a user with
// 1,000 events at d = 64, and weighted-ALS training over 100k events on all
// cores (1M and 10M with BF_BENCH_LARGE=1). Synthetic clustered interactions: each
// user favours one of 50 item groups, items drawn with a Zipf-like skew.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "embeddings/learn/als.h"
#include "embeddings/learn/fold_in.h"

namespace bf::learn {
namespace {

std::vector<Interaction> Synthetic(int32_t users, int32_t items, int64_t events, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int groups = 50;
  const int32_t per_group = items / groups;
  std::uniform_real_distribution<double> u01(0, 1);
  std::vector<Interaction> out;
  out.reserve(static_cast<size_t>(events));
  for (int64_t n = 0; n < events; ++n) {
    const auto user = static_cast<int32_t>(rng() % users);
    // 80% in the user's group, Zipf-like within it (head items far more often).
    const int group = u01(rng) < 0.8 ? user % groups : static_cast<int>(rng() % groups);
    const auto rank = static_cast<int32_t>(std::pow(u01(rng), 2.0) * per_group);
    const int32_t item = group * per_group + rank;
    const EventKind kind = u01(rng) < 0.3 ? EventKind::kLike : EventKind::kView;
    out.push_back({user, item, kind, 1'700'000'000 + n});
  }
  return out;
}

void BM_FoldInOneEvent(benchmark::State& state) {
  const int d = 64;
  const int32_t items = 100'000;
  AlsOptions o;
  o.dim = d;
  Factors f;
  f.dim = d;
  f.rows = items;
  f.values.resize(static_cast<size_t>(items) * d);
  std::mt19937_64 rng(3);
  std::normal_distribution<float> g(0, 0.1f);
  for (float& v : f.values) v = g(rng);
  f.state.assign(items, RowState::kTrained);
  auto fold = FoldIn::Create(TrainedGramian(f), o);
  if (!fold.ok()) {
    state.SkipWithError(fold.status().ToString().c_str());
    return;
  }
  const ModelItems source(f);
  std::vector<UserEvent> history;
  const int n = static_cast<int>(state.range(0));
  for (int k = 0; k < n; ++k) {
    history.push_back({static_cast<int64_t>(rng() % items),
                       k % 3 == 0 ? EventKind::kLike : EventKind::kView, k});
  }
  for (auto _ : state) {
    // One new event arrives: the user's vector is solved again from the whole history.
    history.back().item = static_cast<int64_t>(rng() % items);
    auto x = fold->Solve(history, source);
    if (!x.ok()) state.SkipWithError(x.status().ToString().c_str());
    benchmark::DoNotOptimize(x);
  }
  state.counters["events"] = n;
}
BENCHMARK(BM_FoldInOneEvent)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

// The same event through IncrementalFoldIn: the user's factorised system is kept, and an
// event is a rank-one update and a solve, O(d^2).
void BM_FoldInIncremental(benchmark::State& state) {
  const int d = 64;
  const int32_t items = 100'000;
  AlsOptions o;
  o.dim = d;
  Factors f;
  f.dim = d;
  f.rows = items;
  f.values.resize(static_cast<size_t>(items) * d);
  std::mt19937_64 rng(3);
  std::normal_distribution<float> g(0, 0.1f);
  for (float& v : f.values) v = g(rng);
  f.state.assign(items, RowState::kTrained);
  auto fold = FoldIn::Create(TrainedGramian(f), o);
  const ModelItems source(f);
  std::vector<UserEvent> history;
  const int n = static_cast<int>(state.range(0));
  for (int k = 0; k < n; ++k) {
    history.push_back({static_cast<int64_t>(rng() % items),
                       k % 3 == 0 ? EventKind::kLike : EventKind::kView, k});
  }
  auto inc = IncrementalFoldIn::Start(*fold, history, source);
  if (!inc.ok()) {
    state.SkipWithError(inc.status().ToString().c_str());
    return;
  }
  int64_t ts = n;
  for (auto _ : state) {
    auto x = inc->Add({static_cast<int64_t>(rng() % items), EventKind::kLike, ts++}, source);
    if (!x.ok()) state.SkipWithError(x.status().ToString().c_str());
    benchmark::DoNotOptimize(x);
  }
  state.counters["events"] = n;
}
BENCHMARK(BM_FoldInIncremental)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_Train(benchmark::State& state) {
  const int64_t events = state.range(0);
  const auto users = static_cast<int32_t>(std::max<int64_t>(1000, events / 20));
  const auto items = static_cast<int32_t>(std::max<int64_t>(5000, events / 10));
  const std::vector<Interaction> data = Synthetic(users, items, events, 1);
  AlsOptions o;
  o.dim = 64;
  o.iterations = static_cast<int>(state.range(1));
  for (auto _ : state) {
    auto m = BuildFeedbackMatrix(users, items, data, o.confidence);
    if (!m.ok()) {
      state.SkipWithError(m.status().ToString().c_str());
      break;
    }
    auto model = TrainAls(*m, {}, {}, o);
    if (!model.ok()) state.SkipWithError(model.status().ToString().c_str());
    benchmark::DoNotOptimize(model);
  }
  state.counters["events"] = static_cast<double>(events);
  state.counters["users"] = users;
  state.counters["items"] = items;
  state.counters["iterations"] = o.iterations;
}
BENCHMARK(BM_Train)->Args({100'000, 15})->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// 1M and 10M events: a minute and more, so only on request.
void RegisterLarge() {
  const char* large = std::getenv("BF_BENCH_LARGE");
  if (large != nullptr && std::string(large) == "1") {
    benchmark::RegisterBenchmark("BM_Train", BM_Train)
        ->Args({1'000'000, 15})
        ->Args({10'000'000, 15})
        ->Unit(benchmark::kSecond)
        ->Iterations(1)
        ->UseRealTime();
  }
}

}  // namespace
}  // namespace bf::learn

int main(int argc, char** argv) {
  bf::learn::RegisterLarge();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
