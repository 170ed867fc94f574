// IndexBuilder: the one way a complete ANN index is built over stored posts.
// The engine fills it from its post table (engine/engine_index.cc); the
// offline tools from the store (engine/index_from_store.h): bridgefeed-import
// at its end and bridgefeed-rebuild.
//
// Posts are streamed in with Add as (id, culture, vector) rows and kept in
// columns. Build then trains on all of them when the spec needs training
// (Faiss's k-means samples the points per centroid it wants), and adds them
// in batches straight into the index, calling `progress` after each batch.
// The rows stay, so a caller can draw queries from them (recall checks).
//
// The builder also carries what the index will cover (`covers`): the
// database id and the store sequence its reader read before the rows, which
// the caller stamps on the file it saves (AnnIndex::Save) and from which a
// server catches up.
//
// Thread-safety: none. One thread fills a builder; Build is const and may
// then run on any one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "embeddings/status.h"
#include "index/ann_index.h"

namespace bf {

// A finished build.
struct BuiltIndex {
  std::unique_ptr<AnnIndex> index;
  double seconds = 0;  // training and adds, not the reading of the rows
};

class IndexBuilder {
 public:
  // options.dim: the length of every row; options.spec: a Faiss factory
  // string, or "auto", resolved by the row count at Build (AutoSpec).
  explicit IndexBuilder(IndexOptions options, SnapshotStamp covers = {});

  const IndexOptions& options() const { return options_; }
  const SnapshotStamp& covers() const { return covers_; }

  // Room for n rows (saves reallocations when the count is known).
  void Reserve(int64_t n);
  // Appends one post. REQUIRES: v.size() == options().dim.
  void Add(uint64_t id, uint16_t culture, std::span<const float> v);

  int64_t size() const { return static_cast<int64_t>(ids_.size()); }
  // The vector of the row-th post added. REQUIRES: 0 <= row < size().
  std::span<const float> vector(int64_t row) const;

  // Builds an index over every row added so far; progress gets (rows added,
  // size()) after each batch. Errors, as AnnIndex::Build: Invalid for a spec
  // Faiss cannot build or too few rows to train it; Internal when Faiss
  // fails. An empty builder builds an empty index (Flat under auto).
  Result<BuiltIndex> Build(const Progress& progress = nullptr) const;

 private:
  IndexOptions options_;
  SnapshotStamp covers_;
  std::vector<uint64_t> ids_;
  std::vector<uint16_t> cultures_;
  std::vector<float> vectors_;  // size() * dim, row-major
};

}  // namespace bf
