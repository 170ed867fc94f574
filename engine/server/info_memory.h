// INFO's `# Memory` section: each field a name and its text, in report order.
// To report the bytes of another structure, append a field in MemoryFields
// (info_memory.cc); INFO, docs and tests read the list as it is.
//
// Errors: none; a figure that cannot be read is reported as 0.
// Thread safety: safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"

namespace bf {

using InfoFields = std::vector<std::pair<std::string, std::string>>;

// used_memory (bytes the allocator has handed out: glibc's mallinfo2, or the
// resident set when the allocator reports nothing, as under sanitizers),
// used_memory_human, used_memory_rss (resident set, /proc/self/statm),
// used_memory_rss_human, mem_allocator; then the engine's bytes per
// structure (Engine::Memory): mem_structures (their sum), mem_post_*,
// mem_index and its parts mem_index_*, mem_foldin_cache, mem_gramian,
// mem_text_model, mem_rocksdb and its parts mem_rocksdb_*,
// mem_seen_memtables (part of mem_rocksdb_memtables), mem_structures_human.
// Cheap enough to poll: no structure is walked per post.
InfoFields MemoryFields(const Engine& engine);

// Redis's human form: "812B", "1.50K", "3.00M", "2.25G".
std::string BytesToHuman(uint64_t bytes);

}  // namespace bf
