// bridgefeed-rebuild: builds the ANN index offline from a database, even one
// a server is running on (it opens a RocksDB secondary instance and never
// writes to the database), and writes an index file stamped with the store
// sequence it covers, for the server's INDEX.LOAD.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/store/layout.h"
#include "engine/store/store.h"
#include "index/ann_index.h"

namespace {

namespace fs = std::filesystem;

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// "label [#####     ]  45%  450000/1000000" redrawn on a terminal; a log
// file gets only the last line.
class Bar {
 public:
  explicit Bar(const char* label) : label_(label), tty_(::isatty(STDERR_FILENO) != 0) {}
  void operator()(int64_t done, int64_t total) {
    if (done != total && (!tty_ || done - last_ < total / 200 + 1)) return;
    last_ = done;
    const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    std::fprintf(stderr, "\r%-10s [%-30s] %3.0f%% %lld/%lld %.1fs", label_,
                 std::string(static_cast<size_t>(frac * 30), '#').c_str(), 100 * frac,
                 static_cast<long long>(done), static_cast<long long>(total), Since(start_));
    if (done == total) std::fputc('\n', stderr);
  }

 private:
  const char* label_;
  bool tty_;
  int64_t last_ = -1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "bridgefeed-rebuild: %s\n", message.c_str());
  return 1;
}

// Fails early (before a long build) when the output folder is not writable.
bf::Status CheckWritable(const std::string& out) {
  const fs::path dir = fs::absolute(out).parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return bf::Status::IOError("no folder " + dir.string());
  if (::access(dir.c_str(), W_OK) != 0) {
    return bf::Status::IOError("cannot write to " + dir.string());
  }
  return bf::Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir, out, spec;
  int sample = 1000, k = 200, threads = 0, expect_dim = 0;
  bf::IndexOptions io;
  CLI::App app{"bridgefeed-rebuild: builds the ANN index offline from a data dir (safe while a\n"
               "server runs on it) and writes an index file for INDEX.LOAD."};
  app.add_option("--data-dir", data_dir, "The server's data dir")->required();
  app.add_option("--out", out, "Index file to write (replaced atomically)")->required();
  app.add_option("--index", spec,
                 "Faiss factory string or auto (default: the server's --index for this database)");
  app.add_option("--dim", expect_dim,
                 "Refuse a database whose dimension is not this (0: accept any)")
      ->capture_default_str();
  app.add_option("--sample", sample, "Queries for the recall check (0: skip)")
      ->capture_default_str();
  app.add_option("--k", k, "K of the recall check")->capture_default_str();
  app.add_option("--threads", threads, "Build threads (0: one per core)")->capture_default_str();
  app.add_option("--hnsw-ef-construction", io.hnsw_ef_construction, "HNSW efConstruction")
      ->capture_default_str();
  app.add_option("--hnsw-ef-search", io.hnsw_ef_search, "HNSW efSearch of the recall check")
      ->capture_default_str();
  app.add_option("--ivf-nprobe", io.ivf_nprobe, "IVF nprobe of the recall check")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (bf::Status s = CheckWritable(out); !s.ok()) return Fail(s.message());
  std::error_code ec;
  if (!fs::is_directory(bf::DbPath(data_dir), ec)) return Fail("no database in " + data_dir);

  bf::StoreOptions so;
  so.path = bf::DbPath(data_dir);
  so.dim = 0;  // whatever the database has
  so.read_only = true;
  so.create_if_missing = false;
  auto store = bf::Store::Open(so);
  if (!store.ok()) return Fail(store.status().ToString());
  const int dim = (*store)->dim();
  if (expect_dim != 0 && expect_dim != dim) {
    return Fail("the database in " + data_dir + " has dimension " + std::to_string(dim) +
                ", not " + std::to_string(expect_dim) + " (--dim)");
  }
  // Every post write up to this sequence is in the scan below; INDEX.LOAD
  // catches up on what comes after.
  const uint64_t seq = (*store)->LastSequence();
  if (spec.empty()) {
    auto meta = (*store)->GetMeta(bf::kIndexSpecMetaKey);
    spec = meta.ok() && meta->has_value() ? **meta : "auto";
  }

  const auto count = (*store)->CountPosts();
  if (!count.ok()) return Fail(count.status().ToString());
  if (*count == 0) return Fail("the database in " + data_dir + " has no posts");
  std::vector<uint64_t> ids;
  std::vector<uint16_t> cultures;
  std::vector<float> vectors;
  ids.reserve(*count);
  cultures.reserve(*count);
  vectors.reserve(*count * dim);
  Bar read_bar("read");
  const int64_t total = static_cast<int64_t>(*count);
  bf::Status scan = (*store)->ForEachPost([&](const bf::PostRecord& p) {
    ids.push_back(p.iid);
    cultures.push_back(p.culture_code);
    vectors.insert(vectors.end(), p.vector.begin(), p.vector.end());
    read_bar(std::min<int64_t>(static_cast<int64_t>(ids.size()), total), total);
    return true;
  });
  if (!scan.ok()) return Fail(scan.ToString());
  const int64_t n = static_cast<int64_t>(ids.size());
  read_bar(n, n);

  io.dim = dim;
  io.spec = spec;
  io.omp_threads = threads;
  const auto start = std::chrono::steady_clock::now();
  Bar build_bar("build");
  auto index = bf::AnnIndex::Build(io, n, ids.data(), cultures.data(), vectors.data(),
                                   [&](int64_t done, int64_t all) { build_bar(done, all); });
  if (!index.ok()) return Fail(index.status().ToString());
  const double build_s = Since(start);

  std::printf("index:   %s, %lld posts, dim %d, built in %.1f s\n",
              (*index)->Stats().type.c_str(), static_cast<long long>(n), dim, build_s);
  if (sample > 0) {
    // Queries: stored posts moved slightly, so no query is its own answer.
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.0f, 0.1f);
    std::uniform_int_distribution<int64_t> pick(0, n - 1);
    std::vector<std::vector<bf::Hit>> approx, exact;
    double search_s = 0;
    for (int q = 0; q < sample; ++q) {
      const float* v = vectors.data() + pick(rng) * dim;
      bf::Vector query(v, v + dim);
      for (float& x : query) x += noise(rng) / std::sqrt(static_cast<float>(dim));
      bf::Normalize(query);
      const auto t = std::chrono::steady_clock::now();
      auto a = (*index)->Search(query, k);
      search_s += Since(t);
      auto e = (*index)->SearchExact(query, k);
      if (!a.ok() || !e.ok()) return Fail((a.ok() ? e.status() : a.status()).ToString());
      approx.push_back(std::move(*a));
      exact.push_back(std::move(*e));
    }
    std::printf("recall:  %.4f at K=%d on %d queries (%.0f us per search)\n",
                bf::RecallAtK(approx, exact, k), k, sample, 1e6 * search_s / sample);
  }
  bf::Status saved = (*index)->Save(out, bf::SnapshotStamp{(*store)->db_id(), seq});
  if (!saved.ok()) return Fail(saved.ToString());
  std::printf("wrote:   %s (covers store sequence %llu); load it with INDEX.LOAD %s\n",
              out.c_str(), static_cast<unsigned long long>(seq), out.c_str());
  return 0;
}
