// The model file: a trained model's factors with what they cover, written
// atomically (a temporary file, fsync, rename, fsync of the folder), so a
// reader sees the old file or the new one, never half of one.
//
// Layout, little-endian:
//   header   "BFMODEL\0", u32 version (1), u32 dim, u64 database_id,
//            u64 events_seq, i64 trained_at, u32 iterations, u32 flags (0),
//            f64 loss, u64 users, u64 items, u32 CRC-32 of the header so far
//   rows     users then items, each: u32 key length, key bytes,
//            u8 state (RowState), dim x f32
//   trailer  u32 CRC-32 of the rows, "BFEND\0\0\0"
// Keys are the caller's (string ids, or internal ids as bytes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "embeddings/learn/als.h"
#include "embeddings/status.h"

namespace bf::learn {

inline constexpr uint32_t kModelFileVersion = 1;

struct ModelHeader {
  uint32_t dim = 0;
  uint64_t database_id = 0;  // the database's fingerprint, filled by the engine; 0: unknown
  uint64_t events_seq = 0;   // the last event sequence the model covers
  int64_t trained_at = 0;    // Unix seconds
  uint32_t iterations = 0;
  double loss = 0;
};

struct ModelFile {
  ModelHeader header;
  std::vector<std::string> user_keys;  // one per row of users
  Factors users;
  std::vector<std::string> item_keys;  // one per row of items
  Factors items;
};

// Writes `model` to path atomically. Errors: Invalid when the keys do not
// match the rows, a key is longer than 2^32 - 1 bytes, a factor has another
// dimension than header.dim or is not finite; IOError naming the path and
// the OS error when writing, syncing or renaming fails (path is then
// unchanged and the temporary file removed).
Status WriteModelFile(const std::string& path, const ModelFile& model);

struct ReadModelOptions {
  // Refuse a model of another dimension (WrongDim "model has dimension 32,
  // expected 64"). 0: any.
  uint32_t expected_dim = 0;
  // Refuse a model of another database (Invalid "model is of another
  // database"); a model with database_id 0 is refused too when this is set.
  std::optional<uint64_t> expected_database_id;
};

// Reads and checks a model file. Errors: NotFound when the file does not
// exist; IOError on a read failure; Corruption "not a bridgefeed model file"
// (bad magic), "unsupported model file version N", "header checksum
// mismatch", "truncated ..." (ends early), "checksum mismatch" (rows
// altered), "trailing bytes after the model" ; WrongDim / Invalid per the
// options. Nothing is returned unless the whole file checked.
Result<ModelFile> ReadModelFile(const std::string& path, const ReadModelOptions& options = {});

}  // namespace bf::learn
