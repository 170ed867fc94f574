// The layout of a data dir (--data-dir), shared by the server and the tools:
//   <data dir>/db/          the RocksDB database (the source of truth)
//   <data dir>/index.snap   the latest index snapshot (rebuilt when missing)
#pragma once

#include <string>

namespace bf {

inline std::string DbPath(const std::string& data_dir) { return data_dir + "/db"; }
inline std::string SnapshotPath(const std::string& data_dir) { return data_dir + "/index.snap"; }

// Store meta key holding the server's --index setting, so the offline
// rebuild tool builds what the server would.
inline constexpr const char* kIndexSpecMetaKey = "bf.engine.index_spec";

}  // namespace bf
