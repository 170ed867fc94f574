// Cluster mode: CLUSTER READONLY READWRITE and the -MOVED routing check, in Redis Cluster's
// reply shapes so that cluster clients (redis-py RedisCluster, redis-cli -c) work unchanged.
// The topology is the cluster file's: every node is a master, there are no replicas, the
// slots never move while nodes run. Reply shapes are documented in docs/protocol.md.
#include <algorithm>

#include "engine/cluster/slots.h"
#include "engine/server/internal/args.h"
#include "engine/server/internal/handlers.h"

namespace bf::internal {
namespace {

constexpr std::string_view kDisabled = "ERR This instance has cluster support disabled";

using cluster::ClusterConfig;
using cluster::ClusterNode;
using cluster::SlotRange;

// Every node's slot ranges, in slot order: (node index, range).
std::vector<std::pair<size_t, SlotRange>> RangesBySlot(const ClusterConfig& c) {
  std::vector<std::pair<size_t, SlotRange>> out;
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    for (const SlotRange& r : c.nodes[i].slots) out.emplace_back(i, r);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
  return out;
}

std::string RangeText(const SlotRange& r) {
  return r.first == r.last ? std::to_string(r.first)
                           : std::to_string(r.first) + "-" + std::to_string(r.last);
}

// CLUSTER SLOTS: [first, last, [host, port, id]] per range.
void Slots(const ClusterContext& cc, RespWriter& w) {
  const ClusterConfig& c = *cc.config;
  ListReply all(w.protocol());
  for (const auto& [node, range] : RangesBySlot(c)) {
    const ClusterNode& n = c.nodes[node];
    all.List(ListReply(w.protocol())
                 .Int(range.first)
                 .Int(range.last)
                 .List(ListReply(w.protocol()).Bulk(n.host).Int(n.port).Bulk(n.id)));
  }
  w.List(all);
}

// CLUSTER SHARDS (Redis 7): one shard per node, each with its one master.
void Shards(const ClusterContext& cc, RespWriter& w) {
  const ClusterConfig& c = *cc.config;
  ListReply all(w.protocol());
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    const ClusterNode& n = c.nodes[i];
    ListReply slots(w.protocol());
    for (const SlotRange& r : n.slots) slots.Int(r.first).Int(r.last);
    MapReply node(w.protocol());
    node.Bulk("id", n.id)
        .Int("port", n.port)
        .Bulk("ip", n.host)
        .Bulk("endpoint", n.host)
        .Bulk("role", "master")
        .Int("replication-offset", 0)
        .Bulk("health", "online");
    all.Map(MapReply(w.protocol())
                .List("slots", slots)
                .List("nodes", ListReply(w.protocol()).Map(node)));
  }
  w.List(all);
}

// CLUSTER NODES: Redis's text format, one line per node.
void Nodes(const ClusterContext& cc, RespWriter& w) {
  const ClusterConfig& c = *cc.config;
  std::string text;
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    const ClusterNode& n = c.nodes[i];
    const std::string host = n.host.find(':') != std::string::npos ? "[" + n.host + "]" : n.host;
    text += n.id + " " + host + ":" + std::to_string(n.port) + "@" +
            std::to_string(n.port + 10000 > 65535 ? 0 : n.port + 10000) + " " +
            (i == cc.self ? "myself,master" : "master") + " - 0 0 " + std::to_string(i + 1) +
            " connected";
    for (const SlotRange& r : n.slots) text += " " + RangeText(r);
    text += "\n";
  }
  w.Bulk(text);
}

// CLUSTER INFO: Redis's fields. The topology is static, so the state is "ok" while this
// node applies the log (INFO cluster has the log's numbers).
void Info(const ClusterContext& cc, RespWriter& w) {
  const ClusterConfig& c = *cc.config;
  const size_t n = c.nodes.size();
  std::string text = "cluster_state:ok\r\ncluster_slots_assigned:16384\r\n"
                     "cluster_slots_ok:16384\r\ncluster_slots_pfail:0\r\n"
                     "cluster_slots_fail:0\r\ncluster_known_nodes:" +
                     std::to_string(n) + "\r\ncluster_size:" + std::to_string(n) +
                     "\r\ncluster_current_epoch:" + std::to_string(n) +
                     "\r\ncluster_my_epoch:" + std::to_string(cc.self + 1) + "\r\n";
  w.Bulk(text);
}

}  // namespace

std::optional<std::string> MovedError(const CommandContext& ctx, const CommandSpec& spec,
                                      CommandArgs args) {
  if (ctx.cluster == nullptr || !(spec.flags & kCmdUserKey) || args.size() < 2) {
    return std::nullopt;
  }
  const int slot = cluster::KeySlot(args[1]);
  const ClusterConfig& c = *ctx.cluster->config;
  if (c.slot_owner[slot] == ctx.cluster->self) return std::nullopt;
  const ClusterNode& owner = c.OwnerOf(slot);
  return "MOVED " + std::to_string(slot) + " " + owner.addr;
}

void CmdCluster(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (ctx.cluster == nullptr) return w.Error(kDisabled);
  const ClusterContext& cc = *ctx.cluster;
  const std::string_view sub = args[1];
  auto arity = [&](size_t want) {
    if (args.size() == want) return true;
    w.Error(ArityError("cluster|" + ToLower(sub)));
    return false;
  };
  if (EqualsIgnoreCase(sub, "SLOTS")) {
    if (arity(2)) Slots(cc, w);
  } else if (EqualsIgnoreCase(sub, "SHARDS")) {
    if (arity(2)) Shards(cc, w);
  } else if (EqualsIgnoreCase(sub, "NODES")) {
    if (arity(2)) Nodes(cc, w);
  } else if (EqualsIgnoreCase(sub, "INFO")) {
    if (arity(2)) Info(cc, w);
  } else if (EqualsIgnoreCase(sub, "MYID")) {
    if (arity(2)) w.Bulk(cc.config->nodes[cc.self].id);
  } else if (EqualsIgnoreCase(sub, "KEYSLOT")) {
    if (arity(3)) w.Int(cluster::KeySlot(args[2]));
  } else {
    w.Error(UnknownSubcommand(sub, "CLUSTER"));
  }
}

// A node holds only its own users, so there is no replica to read from: READONLY is
// accepted (clients send it) and users stay routed to their node.
void CmdReadonly(CommandContext& ctx, CommandArgs, RespWriter& w) {
  if (ctx.cluster == nullptr) return w.Error(kDisabled);
  w.Ok();
}

void CmdReadwrite(CommandContext& ctx, CommandArgs, RespWriter& w) {
  if (ctx.cluster == nullptr) return w.Error(kDisabled);
  w.Ok();
}

}  // namespace bf::internal
