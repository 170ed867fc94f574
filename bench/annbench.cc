// annbench: the ANN side of the end-to-end benchmark (bench/run_bench.py), with no
// server and no network: the floor FEED is measured against.
//
// Built once per Faiss build (annbench_package, annbench_avx2) from the same sources, so
// the two builds run the same bf::AnnIndex code on the same file.
//
//   annbench search --snapshot F --queries Q.f32 --k 200 --threads 2 --seconds 10
//       loads the server's index snapshot (bf::AnnIndex::Load, the server's runtime
//       settings) and runs single-query searches of the query vectors round robin on
//       `threads` threads for `seconds`: queries/s and latency percentiles.
//   annbench recall --snapshot F --queries Q.f32 --k 200 [--sample 500] [--filter none]
//       recall@k of Search against SearchExact on the same loaded index; --filter cross
//       (every culture but the query's home), home, or rarest (one small culture) measures the
//       culture-filtered searches a FEED makes.
//   annbench options --world DIR --specs "IVF1024,Flat;IVF1024,SQ8,RFlat" [--nprobe 64]
//                    [--k 200] [--sample 200] [--rounds 3] --tmp DIR
//       the index options side by side on a bridgefeed-gen world (DIR/posts.jsonl, and
//       DIR/users.jsonl for the queries and their home cultures): per spec its build time,
//       snapshot bytes and resident memory, recall@k of Search and of SearchPools' home and
//       cross lists against exact search, and single-thread median latency of Search, of
//       SearchPools (the three lists in one call), of SearchPools as FEED asks (pools with a
//       min: 3x the slots of COUNT 20 at openness 0.3; --shares "0,0.5,1" times it at each
//       PoolRequest::min_probe_share, with its pools' recall@k and @20) and of the three
//       separate searches it replaces, the specs alternated within each round.
//   annbench specs --base B.f32 --queries Q.f32 --dim 100 --tmp DIR
//                  --specs "Flat;HNSW32;IVF1024,Flat" [--ef_list 16,..] [--nprobe_list 4,..]
//       for each spec: build time, then per efSearch (HNSW) or nprobe (IVF) setting:
//       single-thread queries/s (k 100), recall@10 and @100 against exact search.
//
// Vector files are raw little-endian float32, --dim values per row. Output: one JSON object
// per line on stdout, for the driver to parse.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "embeddings/vector.h"
#include "index/ann_index.h"
#include "index/snapshot.h"

#ifndef BRIDGEFEED_FAISS_BUILD
#error "link bridgefeed::faiss_package or bridgefeed::faiss_avx2"
#endif

namespace bf {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "annbench: %s\n", msg.c_str());
  std::exit(1);
}

// --key value pairs after the mode word.
std::map<std::string, std::string> ParseArgs(int argc, char** argv) {
  std::map<std::string, std::string> out;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) Die("expected --key value, got " + key);
    out[key.substr(2)] = argv[i + 1];
  }
  return out;
}

std::string Arg(const std::map<std::string, std::string>& a, const std::string& key,
                const std::string& def = "") {
  auto it = a.find(key);
  if (it != a.end()) return it->second;
  if (def.empty()) Die("missing --" + key);
  return def;
}

// Rows of a raw float32 file, normalised (the store keeps unit vectors).
std::vector<float> ReadVectors(const std::string& path, int dim, size_t max_rows = 0) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) Die("cannot read " + path);
  const size_t bytes = static_cast<size_t>(in.tellg());
  if (bytes % (sizeof(float) * dim) != 0) Die(path + " is not a whole number of rows");
  size_t rows = bytes / (sizeof(float) * dim);
  if (max_rows > 0) rows = std::min(rows, max_rows);
  std::vector<float> v(rows * dim);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  for (size_t r = 0; r < rows; ++r) Normalize(std::span<float>(&v[r * dim], dim));
  return v;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

IndexOptions RuntimeOptions(const std::map<std::string, std::string>& a, int dim) {
  IndexOptions o;  // the server's defaults unless overridden
  o.dim = dim;
  o.hnsw_ef_search = std::stoi(Arg(a, "ef_search", std::to_string(o.hnsw_ef_search)));
  o.ivf_nprobe = std::stoi(Arg(a, "nprobe", std::to_string(o.ivf_nprobe)));
  o.omp_threads = 1;  // as the server: one core per search, parallelism across requests
  return o;
}

std::unique_ptr<AnnIndex> LoadSnapshot(const std::map<std::string, std::string>& a, int* dim) {
  const std::string path = Arg(a, "snapshot");
  std::string db_id, spec;
  {  // the db id, spec and dimension; scoped so the file's copy is freed before Load
    auto contents = internal::ReadSnapshotFile(path);
    if (!contents.ok()) Die(path + ": " + contents.status().ToString());
    *dim = static_cast<int>(contents->meta.dim);
    db_id = contents->meta.db_id;
    spec = contents->meta.spec;
  }
  IndexOptions options = RuntimeOptions(a, *dim);
  // An explicit --nprobe is measured as given: "auto" would raise it to nlist / 16.
  if (a.count("nprobe") != 0) options.spec = spec;
  SnapshotStamp stamp;
  const auto t0 = Clock::now();
  auto idx = AnnIndex::Load(path, db_id, options, &stamp);
  if (!idx.ok()) Die(path + ": " + idx.status().ToString());
  std::fprintf(stderr, "annbench: loaded %s in %.2f s\n", path.c_str(),
               std::chrono::duration<double>(Clock::now() - t0).count());
  return std::move(idx).value();
}

int Search(const std::map<std::string, std::string>& a) {
  int dim = 0;
  std::unique_ptr<AnnIndex> idx = LoadSnapshot(a, &dim);
  const std::vector<float> q = ReadVectors(Arg(a, "queries"), dim);
  const size_t nq = q.size() / dim;
  const int k = std::stoi(Arg(a, "k", "200"));
  const int threads = std::stoi(Arg(a, "threads", "1"));
  const double seconds = std::stod(Arg(a, "seconds", "10"));
  if (nq == 0) Die("no queries");

  // Warm-up: one pass over (up to) 200 queries, so page faults are not timed.
  for (size_t i = 0; i < std::min<size_t>(nq, 200); ++i) {
    (void)idx->Search(std::span<const float>(&q[i * dim], dim), k);
  }
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> lat(threads);
  std::vector<std::thread> pool;
  const auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      size_t i = static_cast<size_t>(t) * 7919 % nq;
      lat[t].reserve(1 << 20);
      while (!stop.load(std::memory_order_relaxed)) {
        const auto s = Clock::now();
        auto r = idx->Search(std::span<const float>(&q[i * dim], dim), k);
        if (!r.ok()) Die(r.status().ToString());
        lat[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
        i = (i + 1) % nq;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  const size_t n = all.size();
  const double p50 = Percentile(all, 0.50), p99 = Percentile(all, 0.99);
  std::printf("{\"mode\":\"search\",\"faiss_build\":\"%s\",\"type\":\"%s\",\"search\":\"%s\","
              "\"ntotal\":%lld,"
              "\"k\":%d,\"threads\":%d,\"seconds\":%.2f,\"queries\":%zu,\"qps\":%.1f,"
              "\"p50_us\":%.1f,\"p99_us\":%.1f}\n",
              BRIDGEFEED_FAISS_BUILD, idx->Stats().type.c_str(), idx->Stats().search.c_str(),
              static_cast<long long>(idx->Stats().live), k, threads, elapsed, n, n / elapsed, p50,
              p99);
  return 0;
}

// Share of the exact top-k that the approximate top-k found, per query averaged.
// Besides id recall, how close the approximate scores are: mean over queries of
// sum(approx scores) / sum(exact scores), and of the k-th approximate score minus the k-th
// exact one. On tightly clustered data many posts tie within noise, so id recall can be low
// while the candidates found are nearly as similar as the exact ones.
struct ScoreCloseness {
  double sum_ratio = 0;
  double kth_gap = 0;
};

double Recall(const AnnIndex& idx, const std::vector<float>& q, int dim, size_t nq, int k,
              double* exact_s, ScoreCloseness* closeness = nullptr,
              const std::vector<SearchFilter>* filters = nullptr, double* approx_s = nullptr) {
  static const SearchFilter kNone;
  auto filter = [&](size_t i) -> const SearchFilter& { return filters ? (*filters)[i] : kNone; };
  std::vector<std::vector<Hit>> approx, exact;
  const auto ta = Clock::now();
  for (size_t i = 0; i < nq; ++i) {
    auto r = idx.Search(std::span<const float>(&q[i * dim], dim), k, filter(i));
    if (!r.ok()) Die(r.status().ToString());
    approx.push_back(std::move(r).value());
  }
  if (approx_s) *approx_s = std::chrono::duration<double>(Clock::now() - ta).count();
  const auto t0 = Clock::now();
  for (size_t i = 0; i < nq; ++i) {
    auto r = idx.SearchExact(std::span<const float>(&q[i * dim], dim), k, filter(i));
    if (!r.ok()) Die(r.status().ToString());
    exact.push_back(std::move(r).value());
  }
  if (exact_s) *exact_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (closeness != nullptr && nq > 0) {
    for (size_t i = 0; i < nq; ++i) {
      double a = 0, e = 0;
      for (const Hit& h : approx[i]) a += h.score;
      for (const Hit& h : exact[i]) e += h.score;
      closeness->sum_ratio += e != 0 ? a / e : 1.0;
      if (!approx[i].empty() && !exact[i].empty()) {
        closeness->kth_gap += approx[i].back().score - exact[i].back().score;
      }
    }
    closeness->sum_ratio /= nq;
    closeness->kth_gap /= nq;
  }
  return RecallAtK(approx, exact, k);
}

// Culture filters like a FEED's (the post cultures come from the index):
//   cross   every culture but the query's home, taken as the most common
//           culture among its exact top k (the FEED "cross" search)
//   home    only the query's home culture (the FEED "home" search)
//   rarest  only the culture with the fewest posts (a one-culture search)
std::vector<SearchFilter> Filters(const AnnIndex& idx, const std::string& kind,
                                  const std::vector<float>& q, int dim, size_t nq, int k) {
  std::unordered_map<uint64_t, uint16_t> culture_of;
  std::vector<int64_t> count;
  idx.ForEachLive([&](uint64_t id, uint16_t c, std::span<const float>) {
    culture_of[id] = c;
    if (c >= count.size()) count.resize(c + 1u, 0);
    ++count[c];
  });
  std::vector<SearchFilter> out(nq);
  if (kind == "rarest") {
    size_t rare = 0;
    for (size_t c = 0; c < count.size(); ++c) {
      if (count[c] > 0 && (count[rare] == 0 || count[c] < count[rare])) rare = c;
    }
    for (SearchFilter& f : out) {
      f.cultures.assign(count.size(), 0);
      f.cultures[rare] = 1;
    }
    return out;
  }
  if (kind != "cross" && kind != "home") Die("--filter must be none, cross, home or rarest");
  for (size_t i = 0; i < nq; ++i) {
    auto r = idx.SearchExact(std::span<const float>(&q[i * dim], dim), k);
    if (!r.ok()) Die(r.status().ToString());
    std::vector<int> votes(count.size(), 0);
    for (const Hit& h : *r) ++votes[culture_of.at(h.id)];
    const auto home = std::max_element(votes.begin(), votes.end()) - votes.begin();
    const bool cross = kind == "cross";
    out[i].cultures.assign(count.size(), cross ? 1 : 0);
    out[i].cultures[static_cast<size_t>(home)] = cross ? 0 : 1;
  }
  return out;
}

int RecallMode(const std::map<std::string, std::string>& a) {
  int dim = 0;
  std::unique_ptr<AnnIndex> idx = LoadSnapshot(a, &dim);
  const size_t sample = std::stoul(Arg(a, "sample", "500"));
  const std::vector<float> q = ReadVectors(Arg(a, "queries"), dim, sample);
  const size_t nq = q.size() / dim;
  const int k = std::stoi(Arg(a, "k", "200"));
  const std::string filter = Arg(a, "filter", "none");
  std::vector<SearchFilter> filters;
  if (filter != "none") filters = Filters(*idx, filter, q, dim, nq, k);
  double exact_s = 0, approx_s = 0;
  ScoreCloseness c;
  const double r =
      Recall(*idx, q, dim, nq, k, &exact_s, &c, filter != "none" ? &filters : nullptr, &approx_s);
  std::printf("{\"mode\":\"recall\",\"faiss_build\":\"%s\",\"type\":\"%s\",\"search\":\"%s\","
              "\"filter\":\"%s\",\"k\":%d,"
              "\"queries\":%zu,\"recall\":%.4f,\"score_sum_ratio\":%.5f,"
              "\"kth_score_gap\":%.5f,\"exact_ms_per_query\":%.3f,\"ms_per_query\":%.3f}\n",
              BRIDGEFEED_FAISS_BUILD, idx->Stats().type.c_str(), idx->Stats().search.c_str(),
              filter.c_str(), k, nq, r, c.sum_ratio, c.kth_gap, nq ? exact_s * 1e3 / nq : 0.0,
              nq ? approx_s * 1e3 / nq : 0.0);
  return 0;
}

// Truncates each result list to its first k hits.
std::vector<std::vector<Hit>> Top(const std::vector<std::vector<Hit>>& lists, size_t k) {
  std::vector<std::vector<Hit>> out;
  for (const auto& l : lists) out.emplace_back(l.begin(), l.begin() + std::min(k, l.size()));
  return out;
}

// Comma-separated integers ("16,32,64").
std::vector<int> IntList(const std::string& s) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    out.push_back(std::stoi(s.substr(pos, end - pos)));
    pos = end + 1;
  }
  return out;
}

int Specs(const std::map<std::string, std::string>& a) {
  const int dim = std::stoi(Arg(a, "dim"));
  const std::vector<float> base = ReadVectors(Arg(a, "base"), dim);
  const std::vector<float> q = ReadVectors(Arg(a, "queries"), dim);
  const int64_t n = static_cast<int64_t>(base.size() / dim);
  const size_t nq = q.size() / dim;
  const double seconds = std::stod(Arg(a, "seconds", "5"));
  const std::string tmp = Arg(a, "tmp");  // folder for the index file reloaded per setting
  const std::vector<int> efs = IntList(Arg(a, "ef_list", "16,32,64,128,256"));
  const std::vector<int> nprobes = IntList(Arg(a, "nprobe_list", "4,8,16,32,64"));
  std::vector<uint64_t> ids(n);
  std::vector<uint16_t> cultures(n, 1);
  for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<uint64_t>(i) + 1;

  // Exact top-100 once (from the first index built); top-10 is its prefix.
  std::vector<std::vector<Hit>> truth;
  const std::string specs = Arg(a, "specs");
  size_t pos = 0;
  while (pos <= specs.size()) {
    size_t end = specs.find(';', pos);
    if (end == std::string::npos) end = specs.size();
    const std::string spec = specs.substr(pos, end - pos);
    pos = end + 1;
    if (spec.empty()) continue;
    IndexOptions o = RuntimeOptions(a, dim);
    o.spec = spec;
    const auto t0 = Clock::now();
    auto built = AnnIndex::Build(o, n, ids.data(), cultures.data(), base.data());
    if (!built.ok()) Die(spec + ": " + built.status().ToString());
    const double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (truth.empty()) {
      for (size_t i = 0; i < nq; ++i) {
        auto r = (*built)->SearchExact(std::span<const float>(&q[i * dim], dim), 100);
        if (!r.ok()) Die(r.status().ToString());
        truth.push_back(std::move(r).value());
      }
    }
    // The search-time setting to sweep: efSearch for HNSW, nprobe for IVF, none for Flat.
    std::vector<int> settings = {0};
    const bool hnsw = spec.find("HNSW") != std::string::npos;
    const bool ivf = spec.find("IVF") != std::string::npos;
    if (hnsw) settings = efs;
    if (ivf) settings = nprobes;
    const std::string file = tmp + "/annbench.snap";
    if (hnsw || ivf) {
      Status st = (*built)->Save(file, SnapshotStamp{"annbench", 0});
      if (!st.ok()) Die(st.ToString());
    }
    for (int setting : settings) {
      std::unique_ptr<AnnIndex> reloaded;
      if (hnsw || ivf) {
        IndexOptions ro = o;
        if (hnsw) ro.hnsw_ef_search = setting;
        if (ivf) ro.ivf_nprobe = setting;
        SnapshotStamp stamp;
        auto l = AnnIndex::Load(file, "annbench", ro, &stamp);
        if (!l.ok()) Die(l.status().ToString());
        reloaded = std::move(l).value();
      }
      const AnnIndex& idx = reloaded ? *reloaded : **built;
      std::vector<std::vector<Hit>> approx;
      for (size_t i = 0; i < nq; ++i) {
        auto r = idx.Search(std::span<const float>(&q[i * dim], dim), 100);
        if (!r.ok()) Die(r.status().ToString());
        approx.push_back(std::move(r).value());
      }
      const double r10 = RecallAtK(Top(approx, 10), Top(truth, 10), 10);
      const double r100 = RecallAtK(approx, truth, 100);
      // Single-thread queries/s at k = 100, round robin over the queries.
      size_t done = 0;
      std::vector<double> lat;
      const auto s0 = Clock::now();
      double elapsed = 0;
      while (elapsed < seconds) {
        const auto s = Clock::now();
        auto r = idx.Search(std::span<const float>(&q[(done % nq) * dim], dim), 100);
        if (!r.ok()) Die(r.status().ToString());
        const auto e = Clock::now();
        lat.push_back(std::chrono::duration<double, std::micro>(e - s).count());
        ++done;
        elapsed = std::chrono::duration<double>(e - s0).count();
      }
      std::printf("{\"mode\":\"specs\",\"faiss_build\":\"%s\",\"spec\":\"%s\",\"n\":%lld,"
                  "\"dim\":%d,\"queries\":%zu,\"build_s\":%.2f,\"param\":\"%s\",\"value\":%d,"
                  "\"qps\":%.1f,\"p50_us\":%.1f,\"recall_at_10\":%.4f,\"recall_at_100\":%.4f}\n",
                  BRIDGEFEED_FAISS_BUILD, spec.c_str(), static_cast<long long>(n), dim, nq,
                  build_s, hnsw ? "efSearch" : ivf ? "nprobe" : "", setting, done / elapsed,
                  Percentile(lat, 0.5), r10, r100);
      std::fflush(stdout);
    }
    std::remove(file.c_str());
  }
  return 0;
}


// One JSON line of a bridgefeed-gen file: its "culture" and "vector" fields
// (the generator writes them on one line each; no general JSON parser here).
bool ParseWorldLine(const std::string& line, int dim, std::string* culture,
                    std::vector<float>* vec) {
  const size_t c = line.find("\"culture\":\"");
  const size_t v = line.find("\"vector\":[");
  if (v == std::string::npos) return false;
  culture->clear();
  if (c != std::string::npos) {
    const size_t from = c + 11;
    *culture = line.substr(from, line.find('"', from) - from);
  }
  vec->clear();
  const char* p = line.c_str() + v + 10;
  while (*p != ']' && *p != '\0') {
    char* end = nullptr;
    vec->push_back(std::strtof(p, &end));
    if (end == p) return false;
    p = end;
    if (*p == ',') ++p;
  }
  if (static_cast<int>(vec->size()) != dim) return false;
  Normalize(std::span<float>(vec->data(), vec->size()));
  return true;
}

struct World {
  std::vector<float> vectors;  // posts, or users with a vector
  std::vector<uint16_t> cultures;
};

// Posts (or users) of a world file; culture codes by first appearance in `codes`.
World ReadWorld(const std::string& path, int dim, std::map<std::string, uint16_t>* codes,
                size_t max_rows = 0) {
  std::ifstream in(path);
  if (!in) Die("cannot read " + path);
  World w;
  std::string line, culture;
  std::vector<float> v;
  while (std::getline(in, line) && (max_rows == 0 || w.cultures.size() < max_rows)) {
    if (!ParseWorldLine(line, dim, &culture, &v)) continue;
    auto [it, fresh] = codes->try_emplace(culture, static_cast<uint16_t>(codes->size()));
    w.vectors.insert(w.vectors.end(), v.begin(), v.end());
    w.cultures.push_back(it->second);
  }
  return w;
}

double ResidentMiB() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * 4096.0 / (1 << 20);
}

double Median(std::vector<double> v) { return Percentile(v, 0.5); }

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos <= s.size();) {
    size_t end = s.find(sep, pos);
    if (end == std::string::npos) end = s.size();
    if (end > pos) out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

int OptionsMode(const std::map<std::string, std::string>& a) {
  const int dim = std::stoi(Arg(a, "dim", "64"));
  const std::string world = Arg(a, "world");
  const int k = std::stoi(Arg(a, "k", "200"));
  const size_t sample = std::stoul(Arg(a, "sample", "200"));
  const int rounds = std::stoi(Arg(a, "rounds", "3"));
  const std::string tmp = Arg(a, "tmp");
  std::map<std::string, uint16_t> codes;
  World posts = ReadWorld(world + "/posts.jsonl", dim, &codes);
  World users = ReadWorld(world + "/users.jsonl", dim, &codes, sample);
  const auto n = static_cast<int64_t>(posts.cultures.size());
  const size_t nq = users.cultures.size();
  if (n == 0 || nq == 0) Die("no posts or no users with vectors in " + world);
  std::fprintf(stderr, "annbench: %lld posts, %zu queries, %zu cultures\n",
               static_cast<long long>(n), nq, codes.size());
  std::vector<uint64_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<uint64_t>(i) + 1;
  auto query = [&](size_t i) { return std::span<const float>(&users.vectors[i * dim], dim); };
  auto request = [&](size_t i) {
    PoolRequest r;
    r.interest_k = r.home_k = r.cross_k = k;
    r.home_culture = users.cultures[i];
    return r;
  };
  // As FEED asks for COUNT 20 at the default openness 0.3: 14 home and 6 cross slots, each
  // pool from the interest walk's lists when they hold 3x its slots (engine/ranking/candidates).
  // --shares "0,0.5,1": FEED's request at each PoolRequest::min_probe_share, side by side
  // (default: the engine's, PoolRequest's default).
  std::vector<double> shares;
  for (const std::string& tok : Split(Arg(a, "shares", "default"), ',')) {
    shares.push_back(tok == "default" ? PoolRequest{}.min_probe_share : std::stod(tok));
  }
  auto feed_request = [&](size_t i, double share) {
    PoolRequest r = request(i);
    r.home_min = 3 * 14;
    r.cross_min = 3 * 6;
    r.min_probe_share = share;
    return r;
  };
  auto filter = [&](size_t i, bool home) {
    SearchFilter f;
    f.cultures.assign(codes.size(), home ? 0 : 1);
    f.cultures[users.cultures[i]] = home ? 1 : 0;
    return f;
  };

  struct Option {
    std::string spec;
    std::unique_ptr<AnnIndex> index;
    double build_s = 0, rss_mib = 0, file_mib = 0;
    std::vector<double> search_us, pools_us, separate_us;
    std::vector<std::vector<double>> feed_us;  // per share
    double scored = 0, scored_home = 0, scored_cross = 0;  // vectors per walk, mean
  };
  std::vector<Option> options;
  // Exact truth once, from the first spec (give a full-vector one first).
  std::vector<std::vector<Hit>> truth, truth_home, truth_cross;
  const std::string specs = Arg(a, "specs");
  for (size_t pos = 0; pos <= specs.size();) {
    size_t end = specs.find(';', pos);
    if (end == std::string::npos) end = specs.size();
    Option opt;
    opt.spec = specs.substr(pos, end - pos);
    pos = end + 1;
    if (opt.spec.empty()) continue;
    IndexOptions o = RuntimeOptions(a, dim);
    o.spec = opt.spec;
    o.build_threads = 0;
    if (a.count("refine") != 0) o.refine_k_factor = std::stod(Arg(a, "refine"));
    const double rss0 = ResidentMiB();
    const auto t0 = Clock::now();
    auto built = AnnIndex::Build(o, n, ids.data(), posts.cultures.data(), posts.vectors.data());
    if (!built.ok()) Die(opt.spec + ": " + built.status().ToString());
    opt.build_s = std::chrono::duration<double>(Clock::now() - t0).count();
    opt.rss_mib = ResidentMiB() - rss0;
    opt.index = std::move(built).value();
    const std::string file = tmp + "/annbench-options.snap";
    if (Status st = opt.index->Save(file, {"annbench", 0}); !st.ok()) Die(st.ToString());
    std::ifstream f(file, std::ios::binary | std::ios::ate);
    opt.file_mib = static_cast<double>(f.tellg()) / (1 << 20);
    std::remove(file.c_str());
    if (truth.empty()) {
      for (size_t i = 0; i < nq; ++i) {
        truth.push_back(opt.index->SearchExact(query(i), k).value());
        truth_home.push_back(opt.index->SearchExact(query(i), k, filter(i, true)).value());
        truth_cross.push_back(opt.index->SearchExact(query(i), k, filter(i, false)).value());
      }
    }
    opt.feed_us.resize(shares.size());
    options.push_back(std::move(opt));
  }
  // Latency: the specs alternated within each round, so load on the machine
  // falls on every spec alike.
  for (int round = 0; round < rounds; ++round) {
    for (Option& opt : options) {
      for (size_t i = 0; i < nq; ++i) {
        auto t0 = Clock::now();
        if (!opt.index->Search(query(i), k).ok()) Die("search failed");
        auto t1 = Clock::now();
        if (!opt.index->SearchPools(query(i), request(i)).ok()) Die("pools failed");
        auto t2 = Clock::now();
        for (size_t si = 0; si < shares.size(); ++si) {
          const auto t = Clock::now();
          if (!opt.index->SearchPools(query(i), feed_request(i, shares[si])).ok()) {
            Die("pools failed");
          }
          opt.feed_us[si].push_back(
              std::chrono::duration<double, std::micro>(Clock::now() - t).count());
        }
        auto t2f = Clock::now();
        if (!opt.index->Search(query(i), k).ok() ||
            !opt.index->Search(query(i), k, filter(i, true)).ok() ||
            !opt.index->Search(query(i), k, filter(i, false)).ok()) {
          Die("search failed");
        }
        auto t3 = Clock::now();
        opt.search_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        opt.pools_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
        opt.separate_us.push_back(std::chrono::duration<double, std::micro>(t3 - t2f).count());
      }
    }
  }
  for (Option& opt : options) {
    std::vector<std::vector<Hit>> interest, home, cross;
    for (size_t i = 0; i < nq; ++i) {
      PoolHits p = opt.index->SearchPools(query(i), request(i)).value();
      opt.scored += static_cast<double>(p.scored) / nq;
      PoolRequest one = request(i);
      one.interest_k = one.cross_k = 0;
      opt.scored_home += static_cast<double>(opt.index->SearchPools(query(i), one)->scored) / nq;
      one.home_k = 0;
      one.cross_k = k;
      opt.scored_cross += static_cast<double>(opt.index->SearchPools(query(i), one)->scored) / nq;
      interest.push_back(std::move(p.interest));
      home.push_back(std::move(p.home));
      cross.push_back(std::move(p.cross));
    }
    // FEED's request per share: its cost and the recall of its pools.
    std::string feed_json;
    for (size_t si = 0; si < shares.size(); ++si) {
      std::vector<std::vector<Hit>> feed_home, feed_cross;
      double scored_feed = 0, widened_feed = 0;
      for (size_t i = 0; i < nq; ++i) {
        PoolHits fp = opt.index->SearchPools(query(i), feed_request(i, shares[si])).value();
        scored_feed += static_cast<double>(fp.scored) / nq;
        widened_feed += static_cast<double>(fp.widened) / nq;
        feed_home.push_back(std::move(fp.home));
        feed_cross.push_back(std::move(fp.cross));
      }
      char buf[512];
      std::snprintf(buf, sizeof(buf),
                    "%s{\"share\":%.3g,\"feed_pools_p50_us\":%.0f,\"scored_feed\":%.0f,"
                    "\"widened_feed\":%.3f,\"recall_home_feed\":%.4f,\"recall_cross_feed\":%.4f,"
                    "\"recall_home_feed_at20\":%.4f,\"recall_cross_feed_at20\":%.4f}",
                    si == 0 ? "" : ",", shares[si], Median(opt.feed_us[si]), scored_feed,
                    widened_feed, RecallAtK(feed_home, truth_home, k),
                    RecallAtK(feed_cross, truth_cross, k), RecallAtK(feed_home, truth_home, 20),
                    RecallAtK(feed_cross, truth_cross, 20));
      feed_json += buf;
    }
    std::printf("{\"mode\":\"options\",\"faiss_build\":\"%s\",\"spec\":\"%s\",\"search\":\"%s\","
                "\"n\":%lld,\"k\":%d,\"queries\":%zu,\"build_s\":%.1f,\"rss_mib\":%.0f,"
                "\"file_mib\":%.0f,\"recall\":%.4f,\"recall_home\":%.4f,\"recall_cross\":%.4f,"
                "\"search_p50_us\":%.0f,\"pools_p50_us\":%.0f,\"separate_p50_us\":%.0f,"
                "\"scored_pools\":%.0f,\"scored_home\":%.0f,\"scored_cross\":%.0f,"
                "\"feed\":[%s]}\n",
                BRIDGEFEED_FAISS_BUILD, opt.spec.c_str(), opt.index->Stats().search.c_str(),
                static_cast<long long>(n), k, nq, opt.build_s, opt.rss_mib, opt.file_mib,
                RecallAtK(interest, truth, k), RecallAtK(home, truth_home, k),
                RecallAtK(cross, truth_cross, k), Median(opt.search_us), Median(opt.pools_us),
                Median(opt.separate_us), opt.scored, opt.scored_home, opt.scored_cross,
                feed_json.c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace bf

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: annbench search|recall|specs|options --key value ...\n");
    return 2;
  }
  const std::string mode = argv[1];
  const auto args = bf::ParseArgs(argc, argv);
  if (mode == "search") return bf::Search(args);
  if (mode == "recall") return bf::RecallMode(args);
  if (mode == "specs") return bf::Specs(args);
  if (mode == "options") return bf::OptionsMode(args);
  std::fprintf(stderr, "annbench: unknown mode %s\n", mode.c_str());
  return 2;
}
