#include "engine/cluster/cluster_config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

namespace bf::cluster {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-';
}

// Node ids and stream names become JetStream names (no '.', '*', '>' or spaces there).
bool ValidName(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), IsNameChar);
}

bool ValidHost(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  return std::all_of(h.begin(), h.end(), [](char c) { return IsNameChar(c) || c == '.'; });
}

// "host:port" or "[v6]:port" into host and port; false when malformed.
bool SplitAddr(std::string_view addr, std::string* host, int* port) {
  const size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = addr.substr(0, colon);
  const std::string_view p = addr.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
    const bool v6 = !h.empty() && std::all_of(h.begin(), h.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
             c == ':' || c == '.';
    });
    if (!v6) return false;
  } else if (!ValidHost(h)) {
    return false;
  }
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), [](char c) {
        return c >= '0' && c <= '9';
      })) {
    return false;
  }
  int v = 0;
  std::from_chars(p.data(), p.data() + p.size(), v);
  if (v < 1 || v > 65535) return false;
  *host = std::string(h);
  *port = v;
  return true;
}

std::string RangeText(const SlotRange& r) {
  return r.first == r.last ? std::to_string(r.first)
                           : std::to_string(r.first) + "-" + std::to_string(r.last);
}

class Parser {
 public:
  explicit Parser(std::string_view source) { config_.source = std::string(source); }

  Result<ClusterConfig> Parse(std::string_view text) {
    toml::table table;
    try {
      table = toml::parse(text, config_.source);
    } catch (const toml::parse_error& e) {
      std::ostringstream msg;
      msg << "line " << e.source().begin.line << ": " << e.description();
      return Error(msg.str());
    }
    for (const auto& [key, node] : table) {
      const std::string_view k = key.str();
      Status s;
      if (k == "nats") s = ParseNats(node);
      else if (k == "stream") s = ParseStream(node);
      else if (k == "replicas") s = ParseInt(node, "replicas", 1, 5, &config_.replicas);
      else if (k == "ack_timeout_ms") s = ParseInt(node, "ack_timeout_ms", 100, 60000, &config_.ack_timeout_ms);
      else if (k == "dedupe_window_s") s = ParseInt(node, "dedupe_window_s", 1, 86400, &config_.dedupe_window_s);
      else if (k == "node") s = ParseNodes(node);
      else s = Error("unknown key '" + std::string(k) + "'");
      if (!s.ok()) return s;
    }
    if (config_.nats.empty()) return Error("'nats' must list at least one NATS server URL");
    if (config_.nodes.empty()) return Error("no [[node]] tables: a cluster needs at least one node");
    BF_RETURN_IF_ERROR(AssignSlots());
    return std::move(config_);
  }

 private:
  Status Error(const std::string& msg) const {
    return Status::Invalid(config_.source + ": " + msg);
  }

  Status ParseNats(const toml::node& node) {
    const toml::array* arr = node.as_array();
    if (arr == nullptr) return Error("'nats' must be a list of URLs");
    for (const toml::node& item : *arr) {
      auto url = item.value_exact<std::string>();
      if (!url) return Error("'nats' must be a list of URLs");
      const std::string_view u = *url;
      const bool scheme = u.starts_with("nats://") || u.starts_with("tls://");
      const std::string_view rest = u.substr(u.find("://") == std::string_view::npos ? 0 : u.find("://") + 3);
      if (!scheme || rest.empty()) {
        return Error("bad NATS URL '" + *url + "': want nats://host:port");
      }
      config_.nats.push_back(*url);
    }
    return Status::OK();
  }

  Status ParseStream(const toml::node& node) {
    auto v = node.value_exact<std::string>();
    if (!v) return Error("'stream' must be a string");
    if (!ValidName(*v)) {
      return Error("bad stream name '" + *v + "': want 1 to 64 of A-Z a-z 0-9 _ -");
    }
    config_.stream = *v;
    return Status::OK();
  }

  Status ParseInt(const toml::node& node, const char* key, int lo, int hi, int* out) {
    auto v = node.value_exact<int64_t>();
    if (!v || *v < lo || *v > hi) {
      return Error("'" + std::string(key) + "' must be an integer from " + std::to_string(lo) +
                   " to " + std::to_string(hi));
    }
    *out = static_cast<int>(*v);
    return Status::OK();
  }

  Status ParseNodes(const toml::node& node) {
    const toml::array* arr = node.as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
      return Error("'node' must be [[node]] tables");
    }
    for (const toml::node& item : *arr) {
      BF_RETURN_IF_ERROR(ParseNode(*item.as_table(), config_.nodes.size()));
    }
    return Status::OK();
  }

  Status ParseNode(const toml::table& t, size_t index) {
    const std::string where = "node " + std::to_string(index + 1);
    ClusterNode n;
    std::string slots;
    for (const auto& [key, value] : t) {
      const std::string_view k = key.str();
      auto s = value.value_exact<std::string>();
      if (k != "id" && k != "addr" && k != "slots") {
        return Error(where + ": unknown key '" + std::string(k) + "'");
      }
      if (!s) return Error(where + ": '" + std::string(k) + "' must be a string");
      if (k == "id") n.id = *s;
      else if (k == "addr") n.addr = *s;
      else slots = *s;
    }
    for (const char* key : {"id", "addr", "slots"}) {
      if (!t.contains(key)) return Error(where + ": missing '" + key + "'");
    }
    if (!ValidName(n.id)) {
      return Error(where + ": bad id '" + n.id + "': want 1 to 64 of A-Z a-z 0-9 _ -");
    }
    const std::string named = "node '" + n.id + "'";
    if (!SplitAddr(n.addr, &n.host, &n.port)) {
      return Error(named + ": bad addr '" + n.addr + "': want host:port, port 1 to 65535");
    }
    for (const ClusterNode& other : config_.nodes) {
      if (other.id == n.id) return Error("two nodes have the id '" + n.id + "'");
      if (other.addr == n.addr) {
        return Error("nodes '" + other.id + "' and '" + n.id + "' have the same addr " + n.addr);
      }
    }
    if (Status s = ParseSlotRanges(slots, &n.slots); !s.ok()) {
      return Error(named + ": " + s.message());
    }
    config_.nodes.push_back(std::move(n));
    return Status::OK();
  }

  // Fills slot_owner, refusing a slot owned twice or by no node; then sorts and merges each
  // node's ranges (CLUSTER SLOTS answers with them).
  Status AssignSlots() {
    constexpr uint16_t kNone = UINT16_MAX;
    config_.slot_owner.assign(kSlotCount, kNone);
    for (size_t i = 0; i < config_.nodes.size(); i++) {
      const ClusterNode& n = config_.nodes[i];
      for (const SlotRange& r : n.slots) {
        for (int slot = r.first; slot <= r.last; slot++) {
          const uint16_t owner = config_.slot_owner[slot];
          if (owner == i) {
            return Error("node '" + n.id + "' lists slot " + std::to_string(slot) + " twice");
          }
          if (owner != kNone) {
            return Error("slot " + std::to_string(slot) + " is owned by both '" +
                         config_.nodes[owner].id + "' and '" + n.id + "'");
          }
          config_.slot_owner[slot] = static_cast<uint16_t>(i);
        }
      }
    }
    std::vector<SlotRange> missing;
    for (int slot = 0; slot < kSlotCount; slot++) {
      if (config_.slot_owner[slot] != kNone) continue;
      if (!missing.empty() && missing.back().last == slot - 1) missing.back().last = slot;
      else missing.push_back({slot, slot});
    }
    if (!missing.empty()) {
      std::string list;
      for (size_t i = 0; i < missing.size() && i < 5; i++) {
        list += (i ? ", " : "") + RangeText(missing[i]);
      }
      if (missing.size() > 5) list += ", ...";
      return Error("slots " + list + " are not owned by any node (all 16384 must be)");
    }
    for (ClusterNode& n : config_.nodes) {
      std::sort(n.slots.begin(), n.slots.end(),
                [](const SlotRange& a, const SlotRange& b) { return a.first < b.first; });
      std::vector<SlotRange> merged;
      for (const SlotRange& r : n.slots) {
        if (!merged.empty() && merged.back().last + 1 == r.first) merged.back().last = r.last;
        else merged.push_back(r);
      }
      n.slots = std::move(merged);
    }
    return Status::OK();
  }

  ClusterConfig config_;
};

}  // namespace

const ClusterNode* ClusterConfig::FindNode(std::string_view id) const {
  for (const ClusterNode& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

Result<ClusterConfig> ParseClusterConfig(std::string_view toml_text, std::string_view source_name) {
  return Parser(source_name).Parse(toml_text);
}

Result<ClusterConfig> LoadClusterFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read the cluster file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read the cluster file " + path);
  return ParseClusterConfig(text.str(), path);
}

Result<size_t> SelectNode(const ClusterConfig& config, std::string_view node_id, int port) {
  for (size_t i = 0; i < config.nodes.size(); i++) {
    const ClusterNode& n = config.nodes[i];
    if (n.id != node_id) continue;
    if (n.port != port) {
      return Status::Invalid(config.source + ": node '" + n.id + "' has addr " + n.addr +
                             " but --port is " + std::to_string(port));
    }
    return i;
  }
  std::string ids;
  for (const ClusterNode& n : config.nodes) ids += (ids.empty() ? "" : ", ") + n.id;
  return Status::Invalid(config.source + ": --node-id '" + std::string(node_id) +
                         "' is not a node of this cluster (nodes: " + ids + ")");
}

}  // namespace bf::cluster
