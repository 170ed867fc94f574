// The INFO report, built apart from the command: `# Section` headers and
// `key:value` lines, CRLF-separated, as Redis's INFO.
//
// Errors: none; an unknown section adds nothing. Thread safety: safe from any
// thread (it reads atomics and the thread-safe engine). Ownership: borrows
// its arguments for the call only.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "engine/server/commands.h"
#include "engine/server/config.h"

namespace bf {

// sections: names given to INFO (case-insensitive); empty, "all", "default"
// or "everything" mean every section. Unknown names add nothing. Engine
// counters are fetched only for the sections that need them. cluster: nullptr on a
// single node (cluster_enabled:0); its status is asked only for the cluster section.
std::string BuildInfoReport(Engine& engine, const ServerConfig& config, const ServerStats& stats,
                            std::span<const std::string_view> sections,
                            const ClusterContext* cluster = nullptr);

}  // namespace bf
