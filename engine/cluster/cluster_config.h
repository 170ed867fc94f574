// The cluster file (--cluster FILE, TOML): where the write log lives and which node owns which
// Redis Cluster hash slots. docs/cluster.md shows a file and every key.
//
//   nats = ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"]   # required
//   stream = "bridgefeed"      # JetStream stream; default "bridgefeed"
//   replicas = 3               # stream replicas, 1 to 5; default 3
//   ack_timeout_ms = 5000      # how long a write waits for the log's ack; default 5000
//   dedupe_window_s = 120      # JetStream duplicate window; default 120
//   [[node]]
//   id = "n0"                  # [A-Za-z0-9_-], 1 to 64 bytes, unique
//   addr = "127.0.0.1:7000"    # host:port clients reach this node at; unique
//   slots = "0-5460"           # slots and ranges, comma list
//
// Every slot is owned by exactly one node. Parsing checks everything it can without a
// network; SelectNode then checks this process's --node-id and --port against the file.
// Thread safety: a ClusterConfig is a value; const access from many threads is safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "embeddings/status.h"
#include "engine/cluster/slots.h"

namespace bf::cluster {

struct ClusterNode {
  std::string id;
  std::string addr;                // as written, "127.0.0.1:7000"
  std::string host;                // "127.0.0.1"; an IPv6 host without its brackets
  int port = 0;                    // 1 to 65535
  std::vector<SlotRange> slots;    // sorted, merged where adjacent
};

struct ClusterConfig {
  std::string source;              // the file's name, which error messages start with
  std::vector<std::string> nats;   // NATS server URLs, at least one
  std::string stream = "bridgefeed";
  int replicas = 3;
  int ack_timeout_ms = 5000;
  int dedupe_window_s = 120;
  std::vector<ClusterNode> nodes;  // in file order
  std::vector<uint16_t> slot_owner;  // kSlotCount entries: the index in `nodes` owning each slot

  // The node owning `slot`. REQUIRES: 0 <= slot < kSlotCount.
  const ClusterNode& OwnerOf(int slot) const { return nodes[slot_owner[slot]]; }
  // nullptr when no node has this id.
  const ClusterNode* FindNode(std::string_view id) const;
};

// Parses and validates a cluster file's text; source_name starts every error message
// ("cluster.toml: slot 5461 is owned by both 'n0' and 'n1'"). Errors are Invalid: a TOML
// syntax error (with its line), a missing or mistyped key, an unknown key, a bad URL, stream
// name, address or slot range, two nodes with one id or addr, a slot owned twice, or slots
// owned by no node.
Result<ClusterConfig> ParseClusterConfig(std::string_view toml_text, std::string_view source_name);

// Reads `path` and parses it (source name: the path). IOError when it cannot be read.
Result<ClusterConfig> LoadClusterFile(const std::string& path);

// The index of this process's node: Invalid when node_id is not a node of the file, or when
// that node's addr has a port other than `port` (this process's --port).
Result<size_t> SelectNode(const ClusterConfig& config, std::string_view node_id, int port);

}  // namespace bf::cluster
