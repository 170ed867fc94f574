// Side-by-side speed of Debian's generic Faiss and the AVX2 build of the same source.
// The same file is built twice (faiss_compare_package, faiss_compare_avx2), each linked
// against one Faiss; bench/faiss-compare.sh runs both and prints the ratios.
//
// Data: n clustered vectors (Gaussian blobs, not uniform noise, like the demo world), nq
// queries from the same blobs. Single-threaded, so the numbers measure the kernels and not
// the OpenMP scheduling of a shared machine. Each query is searched alone (the serving
// path's shape), timed one by one (wall and thread CPU time: the machine may be shared);
// recall@k against exact search checks the results.
//
// usage: faiss_compare_<build> [n=200000] [nq=1000] [passes=5]
// Output: "key value" lines and one "result ..." line per index, for the script to parse.
#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/index_factory.h>
#include <faiss/utils/utils.h>
#include <omp.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#ifndef BRIDGEFEED_FAISS_BUILD
#error "link bridgefeed::faiss_package or bridgefeed::faiss_avx2"
#endif

namespace {

using idx_t = faiss::Index::idx_t;
using Clock = std::chrono::steady_clock;

constexpr int kDim = 64;
constexpr int kBlobs = 500;
constexpr int kTopK = 10;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// CPU time of the process or of this thread: unlike wall time it does not count the time
// other work on a shared machine takes the core away.
double CpuSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

// Vectors around kBlobs random centres; row-major, size count*kDim.
std::vector<float> Clustered(const std::vector<float>& centres, size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.35f);
  std::uniform_int_distribution<int> pick(0, kBlobs - 1);
  std::vector<float> out(count * kDim);
  for (size_t i = 0; i < count; ++i) {
    const float* c = &centres[static_cast<size_t>(pick(rng)) * kDim];
    for (int j = 0; j < kDim; ++j) out[i * kDim + j] = c[j] + noise(rng);
  }
  return out;
}

struct Latency {
  double median_ms, p99_ms, mean_ms;
};

Latency Summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double v : ms) sum += v;
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], sum / ms.size()};
}

void Run(const std::string& spec, const std::string& param, const std::vector<float>& base,
         const std::vector<float>& queries, const std::vector<idx_t>& truth, size_t n, size_t nq,
         int passes) {
  std::unique_ptr<faiss::Index> index(faiss::index_factory(kDim, spec.c_str()));
  auto t0 = Clock::now();
  const double cpu0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
  index->train(n, base.data());
  index->add(n, base.data());
  const double build_s = Seconds(t0);
  const double build_cpu_s = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  faiss::ParameterSpace().set_index_parameters(index.get(), param.c_str());

  std::vector<float> dist(kTopK);
  std::vector<idx_t> labels(nq * kTopK);
  for (size_t q = 0; q < nq; ++q)  // warm-up pass, also the one checked for recall
    index->search(1, &queries[q * kDim], kTopK, dist.data(), &labels[q * kTopK]);
  size_t hits = 0;
  for (size_t q = 0; q < nq; ++q)
    for (int a = 0; a < kTopK; ++a)
      for (int b = 0; b < kTopK; ++b) hits += labels[q * kTopK + a] == truth[q * kTopK + b];

  // best_pass_median_ms: the lowest of the per-pass medians, the steadiest figure when other
  // work shares the machine.
  std::vector<double> ms, cpu_ms;
  ms.reserve(nq * passes);
  cpu_ms.reserve(nq * passes);
  double best_pass_median = 1e30;
  std::vector<idx_t> one(kTopK);
  for (int p = 0; p < passes; ++p) {
    std::vector<double> pass;
    pass.reserve(nq);
    for (size_t q = 0; q < nq; ++q) {
      auto s = Clock::now();
      const double c = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
      index->search(1, &queries[q * kDim], kTopK, dist.data(), one.data());
      cpu_ms.push_back((CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - c) * 1e3);
      pass.push_back(Seconds(s) * 1e3);
    }
    ms.insert(ms.end(), pass.begin(), pass.end());
    best_pass_median = std::min(best_pass_median, Summarise(std::move(pass)).median_ms);
  }
  const Latency l = Summarise(std::move(ms));
  const Latency cpu = Summarise(std::move(cpu_ms));
  std::printf("result index=%s param=%s build_s=%.2f build_cpu_s=%.2f median_ms=%.4f "
              "best_pass_median_ms=%.4f cpu_median_ms=%.4f p99_ms=%.4f mean_ms=%.4f "
              "recall_at_%d=%.4f\n",
              spec.c_str(), param.c_str(), build_s, build_cpu_s, l.median_ms, best_pass_median,
              cpu.median_ms, l.p99_ms, l.mean_ms, kTopK,
              static_cast<double>(hits) / (nq * kTopK));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
  const size_t nq = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1000;
  const int passes = argc > 3 ? std::atoi(argv[3]) : 5;
  omp_set_num_threads(1);  // bench/faiss-compare.sh also sets OPENBLAS_NUM_THREADS=1

  std::printf("faiss_build %s\n", BRIDGEFEED_FAISS_BUILD);
  std::printf("faiss_compile_options %s\n", faiss::get_compile_options().c_str());
  std::printf("n %zu\nnq %zu\nd %d\nthreads 1\n", n, nq, kDim);

  std::mt19937 rng(42);
  std::normal_distribution<float> unit(0.0f, 1.0f);
  std::vector<float> centres(static_cast<size_t>(kBlobs) * kDim);
  for (float& c : centres) c = unit(rng);
  const std::vector<float> base = Clustered(centres, n, 1);
  const std::vector<float> queries = Clustered(centres, nq, 2);

  faiss::IndexFlatL2 exact(kDim);
  exact.add(n, base.data());
  std::vector<float> dist(nq * kTopK);
  std::vector<idx_t> truth(nq * kTopK);
  exact.search(nq, queries.data(), kTopK, dist.data(), truth.data());

  Run("IVF1024,Flat", "nprobe=32", base, queries, truth, n, nq, passes);
  Run("HNSW32", "efSearch=128", base, queries, truth, n, nq, passes);
  return 0;
}
