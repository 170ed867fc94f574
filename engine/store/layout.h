// The layout of a data dir (--data-dir), shared by the server and the tools:
//   <data dir>/db/          the RocksDB database (the source of truth)
//   <data dir>/index.snap   the latest index snapshot (rebuilt when missing)
//   <data dir>/model.bfm    the learned model in use (TRAIN, MODEL.LOAD)
#pragma once

#include <string>

namespace bf {

inline std::string DbPath(const std::string& data_dir) { return data_dir + "/db"; }
inline std::string SnapshotPath(const std::string& data_dir) { return data_dir + "/index.snap"; }
inline std::string ModelPath(const std::string& data_dir) { return data_dir + "/model.bfm"; }

// Store meta key holding the server's --index setting, so the offline
// rebuild tool builds what the server would.
inline constexpr const char* kIndexSpecMetaKey = "bf.engine.index_spec";
// Store meta key naming the model (ModelId) whose users are written and whose
// factors the index snapshot holds; a model.bfm with another id is applied
// again at start (docs/operations.md: a kill mid-TRAIN).
inline constexpr const char* kModelAppliedMetaKey = "bf.engine.model_applied";
// Store meta key holding a resumable TRAIN (TrainRun::resumable) from the moment
// it has read the store until its model is applied; empty or absent: none.
inline constexpr const char* kTrainPendingMetaKey = "bf.engine.train_pending";

}  // namespace bf
