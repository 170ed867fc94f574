#include "engine/server/info_memory.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace bf {
namespace {

uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  const long page = ::sysconf(_SC_PAGESIZE);
  return resident * static_cast<uint64_t>(page > 0 ? page : 4096);
}

uint64_t AllocatedBytes() {
  const struct mallinfo2 mi = ::mallinfo2();
  return static_cast<uint64_t>(mi.uordblks) + static_cast<uint64_t>(mi.hblkhd);
}

}  // namespace

std::string BytesToHuman(uint64_t bytes) {
  static constexpr const char* kUnits = "KMGTP";
  if (bytes < 1024) return std::to_string(bytes) + "B";
  double v = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f%c", v, kUnits[unit]);
  return buf;
}

InfoFields MemoryFields(const Engine& engine) {
  const uint64_t rss = ResidentBytes();
  uint64_t used = AllocatedBytes();
  if (used == 0) used = rss;
  InfoFields f = {
      {"used_memory", std::to_string(used)},
      {"used_memory_human", BytesToHuman(used)},
      {"used_memory_rss", std::to_string(rss)},
      {"used_memory_rss_human", BytesToHuman(rss)},
      {"mem_allocator", "libc"},
  };
  const MemoryBreakdown m = engine.Memory();
  const IndexMemory& ix = m.index;
  const StoreMemory& st = m.store;
  const uint64_t total = m.post_vectors + m.post_entries + ix.total() + m.foldin_cache +
                         m.gramian + m.text_model + st.total();
  const std::pair<const char*, uint64_t> parts[] = {
      {"mem_structures", total},
      {"mem_post_vectors", m.post_vectors},
      {"mem_post_entries", m.post_entries},
      {"mem_index", ix.total()},
      {"mem_index_vectors", ix.vectors},
      {"mem_index_ids", ix.ids},
      {"mem_index_direct_map", ix.direct_map},
      {"mem_index_refine", ix.refine},
      {"mem_index_graph", ix.graph},
      {"mem_index_slots", ix.slots},
      {"mem_foldin_cache", m.foldin_cache},
      {"mem_gramian", m.gramian},
      {"mem_text_model", m.text_model},
      {"mem_rocksdb", st.total()},
      {"mem_rocksdb_memtables", st.memtables},
      {"mem_rocksdb_table_readers", st.table_readers},
      {"mem_rocksdb_block_cache", st.block_cache},
      {"mem_rocksdb_block_cache_pinned", st.block_cache_pinned},
      {"mem_seen_memtables", st.seen_memtables},
  };
  for (const auto& [name, bytes] : parts) f.emplace_back(name, std::to_string(bytes));
  f.emplace_back("mem_structures_human", BytesToHuman(total));
  return f;
}

}  // namespace bf
