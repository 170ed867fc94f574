#include "engine/server/info.h"

#include <unistd.h>

#include <optional>

#include "engine/server/info_memory.h"
#include "engine/server/info_text.h"

namespace bf {
namespace {

class Report {
 public:
  void Section(std::string_view name) {
    if (!text_.empty()) text_ += "\r\n";
    text_ += "# ";
    text_ += name;
    text_ += "\r\n";
  }
  template <typename T>
  void Field(std::string_view key, const T& value) {
    text_ += key;
    text_ += ':';
    if constexpr (std::is_convertible_v<T, std::string_view>) {
      text_ += std::string_view(value);
    } else {
      text_ += std::to_string(value);
    }
    text_ += "\r\n";
  }
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace

std::string BuildInfoReport(Engine& engine, const ServerConfig& config, const ServerStats& stats,
                            std::span<const std::string_view> sections,
                            const ClusterContext* cluster) {
  bool all = sections.empty();
  auto wants = [&](std::string_view name) {
    if (all) return true;
    for (auto s : sections) {
      if (EqualsIgnoreCase(s, name)) return true;
    }
    return false;
  };
  for (auto s : sections) {
    if (EqualsIgnoreCase(s, "all") || EqualsIgnoreCase(s, "default") ||
        EqualsIgnoreCase(s, "everything")) {
      all = true;
    }
  }
  std::optional<EngineCounters> counters;
  auto get_counters = [&]() -> const EngineCounters& {
    if (!counters) counters = engine.Counters();
    return *counters;
  };

  Report r;
  if (wants("server")) {
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now() - stats.started);
    r.Section("Server");
    r.Field("bridgefeed_version", Version());
    // Some client libraries read redis_version to pick features; we speak
    // the RESP2 subset of Redis 7.
    r.Field("redis_version", "7.0.0");
    r.Field("redis_mode", cluster ? "cluster" : "standalone");
    r.Field("process_id", static_cast<int64_t>(::getpid()));
    r.Field("tcp_port", stats.port);
    r.Field("uptime_in_seconds", static_cast<int64_t>(uptime.count()));
    r.Field("uptime_in_days", static_cast<int64_t>(uptime.count() / 86400));
    r.Field("dim", engine.dim());
    // Which Faiss library is linked: "avx2" or "package" (docs/faiss.md).
    r.Field("faiss_build", BRIDGEFEED_FAISS_BUILD);
  }
  if (wants("clients")) {
    r.Section("Clients");
    r.Field("connected_clients", stats.connected_clients.load());
    r.Field("maxclients", config.maxclients);
    r.Field("blocked_clients", 0);  // no blocking commands; redis-cli --stat reads it
  }
  if (wants("memory")) {
    r.Section("Memory");
    for (const auto& [key, value] : MemoryFields(engine)) r.Field(key, value);
  }
  if (wants("stats")) {
    const auto& c = get_counters();
    r.Section("Stats");
    r.Field("total_connections_received", stats.total_connections.load());
    r.Field("total_commands_processed", stats.total_commands.load());
    r.Field("rejected_connections", stats.rejected_connections.load());
    r.Field("feed_requests", c.feed_requests);
    r.Field("feed_searches", c.feed_searches);
    r.Field("feed_search_usec", c.feed_search_usec);
    r.Field("events", c.events);
    r.Field("errors", stats.errors.load());
    r.Field("protocol_errors", stats.protocol_errors.load());
  }
  if (wants("latency")) {
    r.Section("Latency");
    r.Field("feed_samples", stats.feed_latency.count());
    r.Field("feed_p50_usec", stats.feed_latency.Percentile(0.50));
    r.Field("feed_p99_usec", stats.feed_latency.Percentile(0.99));
    r.Field("feed_p999_usec", stats.feed_latency.Percentile(0.999));
  }
  if (wants("storage")) {
    const auto& c = get_counters();
    r.Section("Storage");
    r.Field("users", c.users);
    r.Field("posts", c.posts);
    r.Field("db_size_bytes", c.disk_bytes);
  }
  if (wants("index")) {
    const IndexInfo info = engine.GetIndexInfo();
    r.Section("Index");
    r.Field("type", info.stats.type);
    r.Field("search", info.stats.search);
    r.Field("ntotal", info.stats.ntotal);
    r.Field("live", info.stats.live);
    r.Field("tombstones", info.stats.tombstones);
    r.Field("snapshot_seq", info.snapshot_seq);
    r.Field("rebuilding", info.rebuilding ? 1 : 0);
    r.Field("last_rebuild", info.last_rebuild);
    r.Field("last_save", info.last_save);
  }
  if (wants("text")) {
    r.Section("Text");
    for (const auto& [key, value] : TextFields(engine)) r.Field(key, value);
  }
  if (wants("keyspace")) {
    // Redis's line for database 0, which redis-cli --stat sums: users plus posts.
    const auto& c = get_counters();
    r.Section("Keyspace");
    r.Field("db0", "keys=" + std::to_string(c.users + c.posts) + ",expires=0,avg_ttl=0");
  }
  if (wants("cluster")) {
    r.Section("Cluster");
    r.Field("cluster_enabled", cluster ? 1 : 0);
    if (cluster) {
      // The log's numbers (docs/cluster.md): how far this node has applied the stream.
      const cluster::ClusterStatus s = cluster->status();
      r.Field("cluster_node_id", cluster->config->nodes[cluster->self].id);
      r.Field("cluster_applying", s.applying ? 1 : 0);
      r.Field("cluster_applied_seq", s.applied_seq);
      if (s.stream_known) {
        r.Field("cluster_stream_last_seq", s.stream_last_seq);
        r.Field("cluster_lag_entries", s.lag_entries);
      } else {
        r.Field("cluster_stream_last_seq", "unknown");
        r.Field("cluster_lag_entries", "unknown");
      }
      r.Field("cluster_lag_ms", s.lag_ms);
      std::string error = s.error;
      for (char& ch : error) {
        if (ch == '\r' || ch == '\n') ch = ' ';
      }
      r.Field("cluster_error", error);
    }
  }
  if (wants("model")) {
    const ModelInfo m = engine.GetModelInfo();
    r.Section("Model");
    r.Field("metric", MetricName(config.engine.index.metric));
    r.Field("loaded", m.loaded ? 1 : 0);
    r.Field("training", m.training ? 1 : 0);
    r.Field("trained_at", m.trained_at);
    r.Field("iterations", m.iterations);
    r.Field("loss", m.loss);
    r.Field("users_with_factors", m.users_with_factors);
    r.Field("posts_with_factors", m.posts_with_factors);
    r.Field("last_train_seconds", m.last_train_seconds);
    r.Field("events_seq", m.events_seq);
  }
  return r.Take();
}

}  // namespace bf
