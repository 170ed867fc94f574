// The index snapshot file format (no Faiss here: the Faiss index travels as
// an opaque byte blob that faiss::write_index produced).
//
// Layout, all integers little-endian:
//   header   "BFIDX" | u32 version | u64 body_len | u64 fnv1a64(body)
//   body     u32 dim | u32 len, db_id | u64 seq | u32 len, spec
//            | u64 train_size | u8 metric | u64 slots | u64 ids[slots] | u16 cultures[slots]
//            | u8 tombstones[slots] | u64 delta_rows | f32 delta[delta_rows * dim]
//            | u64 len, faiss index bytes
// Slots [slots - delta_rows, slots) are the HNSW delta's rows (index/delta.h),
// not in the Faiss index. Older files still load: version 1 has no delta
// fields, versions 1 and 2 no metric (they were all cosine).
// The checksum covers the whole body, so a truncated or damaged file is
// reported as Corruption before anything in it is trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "embeddings/status.h"

namespace bf::internal {

inline constexpr uint32_t kSnapshotVersion = 3;

// What a snapshot holds besides the Faiss bytes.
struct SnapshotMeta {
  uint32_t dim = 0;
  std::string db_id;
  uint64_t seq = 0;
  std::string spec;  // resolved Faiss factory string
  uint64_t train_size = 0;  // vectors the IVF centroids were trained on (0: none)
  uint8_t metric = 0;       // bf::Metric: 0 cosine, 1 inner product
};

// Slot arrays, one entry per Faiss slot (tombstones included).
struct SlotArrays {
  std::vector<uint64_t> ids;
  std::vector<uint16_t> cultures;
  std::vector<uint8_t> tombstones;
};

// Writes the file atomically: a temporary file in the same folder, fsync,
// rename over path, fsync of the folder. Errors: IOError (and no temporary
// file is left behind).
// delta: the delta rows' floats (a multiple of meta.dim; may be empty).
Status WriteSnapshotFile(const std::string& path, const SnapshotMeta& meta,
                         const SlotArrays& slots, std::span<const float> delta,
                         std::span<const uint8_t> faiss_bytes);

// A parsed snapshot. `file` holds the whole file; the Faiss bytes are
// file[faiss_offset, faiss_offset + faiss_size), so the caller can hand the
// buffer to a reader without copying it.
struct SnapshotContents {
  SnapshotMeta meta;
  SlotArrays slots;
  std::vector<float> delta;  // delta rows * dim floats
  std::vector<uint8_t> file;
  size_t faiss_offset = 0;
  size_t faiss_size = 0;
};

// Reads and verifies magic, version, length and checksum. Errors: IOError
// when the file cannot be read; Corruption when it is not a complete,
// undamaged snapshot. Checks of dim and db_id are the caller's.
Result<SnapshotContents> ReadSnapshotFile(const std::string& path);

// FNV-1a, 64-bit; `seed` chains calls over several buffers.
uint64_t Fnv1a64(std::span<const uint8_t> data, uint64_t seed = 0xcbf29ce484222325ULL);

}  // namespace bf::internal
