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

InfoFields MemoryFields(const Engine&) {
  const uint64_t rss = ResidentBytes();
  uint64_t used = AllocatedBytes();
  if (used == 0) used = rss;
  return {
      {"used_memory", std::to_string(used)},
      {"used_memory_human", BytesToHuman(used)},
      {"used_memory_rss", std::to_string(rss)},
      {"used_memory_rss_human", BytesToHuman(rss)},
      {"mem_allocator", "libc"},
  };
}

}  // namespace bf
