// bridgefeed-rebuild: builds the ANN index offline from a database, even one
// a server is running on (it opens a RocksDB secondary instance and never
// writes to the database), and writes an index file stamped with the store
// sequence it covers, for the server's INDEX.LOAD. The build is the shared
// one (engine/index_from_store.h, index/index_builder.h).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "embeddings/vector.h"
#include "engine/index_from_store.h"
#include "engine/store/layout.h"
#include "engine/store/store.h"
#include "index/index_builder.h"
#include "tools/import/progress_bar.h"

namespace {

namespace fs = std::filesystem;

constexpr int kLabelWidth = 10;  // of the progress bars

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

// Recall@k of `index` against exact search on `sample` queries: stored posts
// moved slightly, so no query is its own answer. Prints one line.
bf::Status CheckRecall(const bf::AnnIndex& index, const bf::IndexBuilder& rows, int sample,
                       int k) {
  const int dim = rows.options().dim;
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  std::uniform_int_distribution<int64_t> pick(0, rows.size() - 1);
  std::vector<std::vector<bf::Hit>> approx, exact;
  double search_s = 0;
  for (int q = 0; q < sample; ++q) {
    const auto v = rows.vector(pick(rng));
    bf::Vector query(v.begin(), v.end());
    for (float& x : query) x += noise(rng) / std::sqrt(static_cast<float>(dim));
    bf::Normalize(query);
    const auto t = std::chrono::steady_clock::now();
    auto a = index.Search(query, k);
    search_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    auto e = index.SearchExact(query, k);
    if (!a.ok()) return a.status();
    if (!e.ok()) return e.status();
    approx.push_back(std::move(*a));
    exact.push_back(std::move(*e));
  }
  std::printf("recall:  %.4f at K=%d on %d queries (%.0f us per search)\n",
              bf::RecallAtK(approx, exact, k), k, sample, 1e6 * search_s / sample);
  return bf::Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir, out;
  int sample = 1000, k = 200, threads = 0, expect_dim = 0;
  bf::IndexOptions io;
  io.spec.clear();  // empty: the server's --index for this database
  CLI::App app{"bridgefeed-rebuild: builds the ANN index offline from a data dir (safe while a\n"
               "server runs on it) and writes an index file for INDEX.LOAD."};
  app.add_option("--data-dir", data_dir, "The server's data dir")->required();
  app.add_option("--out", out, "Index file to write (replaced atomically)")->required();
  app.add_option("--index", io.spec,
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
  auto store = bf::Store::OpenReadOnly(data_dir);
  if (!store.ok()) return Fail(store.status().ToString());
  const int dim = (*store)->dim();
  if (expect_dim != 0 && expect_dim != dim) {
    return Fail("the database in " + data_dir + " has dimension " + std::to_string(dim) +
                ", not " + std::to_string(expect_dim) + " (--dim)");
  }
  io.build_threads = threads;
  io.omp_threads = threads;  // the recall check's searches
  bf::ProgressBar read_bar("read", kLabelWidth);
  auto rows = bf::ReadStoredPosts(**store, io, std::ref(read_bar));
  if (!rows.ok()) return Fail(rows.status().ToString());
  const int64_t n = rows->size();
  if (n == 0) return Fail("the database in " + data_dir + " has no posts");

  bf::ProgressBar build_bar("build", kLabelWidth);
  auto built = rows->Build(std::ref(build_bar));
  if (!built.ok()) return Fail(built.status().ToString());
  const bf::AnnIndex& index = *built->index;
  std::printf("index:   %s, %lld posts, dim %d, built in %.1f s\n", index.Stats().type.c_str(),
              static_cast<long long>(n), dim, built->seconds);
  if (sample > 0) {
    if (bf::Status s = CheckRecall(index, *rows, sample, k); !s.ok()) return Fail(s.ToString());
  }
  const bf::SnapshotStamp& covers = rows->covers();
  if (bf::Status s = index.Save(out, covers); !s.ok()) return Fail(s.ToString());
  std::printf("wrote:   %s (covers store sequence %llu); load it with INDEX.LOAD %s\n",
              out.c_str(), static_cast<unsigned long long>(covers.seq), out.c_str());
  return 0;
}
