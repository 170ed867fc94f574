// Vector parsing (embeddings/vector.h): the FP32 blob and the VALUES words, at
// the default d = 64 and GloVe's d = 100. Validation included; normalising is
// a separate step (Normalize). And Dot, the re-ranking kernel, against Eigen's.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "embeddings/vector.h"

namespace bf {
namespace {

Vector Random(int dim) {
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0, 1);
  Vector v(dim);
  for (float& x : v) x = g(rng);
  Normalize(v);
  return v;
}

void BM_ParseFp32(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0));
  const std::string blob = ToFp32(Random(dim));
  for (auto _ : state) {
    auto v = ParseFp32(blob, dim);
    if (!v.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseFp32)->Arg(64)->Arg(100);

// VALUES with numbers as clients print them (%.6g).
void BM_ParseValues(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0));
  std::vector<std::string> words;
  for (float x : Random(dim)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", x);
    words.emplace_back(buf);
  }
  std::vector<std::string_view> views(words.begin(), words.end());
  const std::string count = std::to_string(dim);
  for (auto _ : state) {
    auto v = ParseValues(count, views, dim);
    if (!v.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseValues)->Arg(64)->Arg(100);

void BM_Normalize(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0));
  Vector v = Random(dim);
  for (auto _ : state) {
    Normalize(v);
    benchmark::DoNotOptimize(v.data());
  }
}
BENCHMARK(BM_Normalize)->Arg(64)->Arg(100);

// Dot as ranking calls it (the kernel DotKernel() names) against Eigen's
// portable dot, which is what Dot was before the AVX2 kernel.
void BM_Dot(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0));
  const Vector a = Random(dim), b = Random(dim + 1);
  const std::span<const float> bs(b.data(), a.size());
  for (auto _ : state) benchmark::DoNotOptimize(Dot(a, bs));
  state.SetLabel(DotKernel());
}
BENCHMARK(BM_Dot)->Arg(64)->Arg(100);

void BM_DotEigen(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0));
  const Vector a = Random(dim), b = Random(dim + 1);
  using MapC = Eigen::Map<const Eigen::VectorXf>;
  for (auto _ : state) {
    benchmark::DoNotOptimize(MapC(a.data(), dim).dot(MapC(b.data(), dim)));
  }
}
BENCHMARK(BM_DotEigen)->Arg(64)->Arg(100);

}  // namespace
}  // namespace bf

BENCHMARK_MAIN();
