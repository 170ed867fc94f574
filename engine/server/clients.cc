#include "engine/server/clients.h"

#include <chrono>

#include "engine/server/commands.h"

namespace bf {

void ClientRegistry::Add(ClientState* client) {
  std::lock_guard lock(mu_);
  clients_[client->id] = client;
}

void ClientRegistry::Remove(ClientState* client) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client->id);
  if (it != clients_.end() && it->second == client) clients_.erase(it);
}

void ClientRegistry::ForEach(const std::function<void(const ClientState&)>& fn) const {
  std::lock_guard lock(mu_);
  for (const auto& [id, client] : clients_) fn(*client);
}

std::string ClientInfoLine(const ClientState& c) {
  using std::chrono::duration_cast;
  const auto now = std::chrono::steady_clock::now();
  const int64_t age = duration_cast<std::chrono::seconds>(now - c.created).count();
  const int64_t now_ms = duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const int64_t active_ms = c.last_active_ms.load(std::memory_order_relaxed);
  const int64_t idle = active_ms == 0 ? age : std::max<int64_t>(0, (now_ms - active_ms) / 1000);
  const int64_t multi = c.multi.load(std::memory_order_relaxed);
  const CommandSpec* cmd = c.last_command.load(std::memory_order_relaxed);
  const uint64_t obl = c.obl.load(std::memory_order_relaxed);
  std::string name, lib_name, lib_ver;
  {
    std::lock_guard lock(c.mu);
    name = c.name;
    lib_name = c.lib_name;
    lib_ver = c.lib_ver;
  }
  auto n = [](auto v) { return std::to_string(v); };
  std::string line;
  line.reserve(320);
  line += "id=" + n(c.id) + " addr=" + c.addr + " laddr=" + c.laddr + " fd=" + n(c.fd) +
          " name=" + name + " age=" + n(age) + " idle=" + n(idle) +
          " flags=" + (multi >= 0 ? "x" : "N") + " db=0 sub=0 psub=0 ssub=0 multi=" + n(multi) +
          " qbuf=" + n(c.qbuf.load(std::memory_order_relaxed)) +
          " qbuf-free=" + n(c.qbuf_free.load(std::memory_order_relaxed)) +
          " argv-mem=0 multi-mem=0 rbs=" + n(c.qbuf.load(std::memory_order_relaxed) +
                                             c.qbuf_free.load(std::memory_order_relaxed)) +
          " rbp=0 obl=" + n(obl) + " oll=" + (obl > 0 ? "1" : "0") + " omem=" + n(obl) +
          " tot-mem=" + n(c.tot_mem.load(std::memory_order_relaxed)) +
          " events=" + (c.writing.load(std::memory_order_relaxed) ? "rw" : "r") +
          " cmd=" + (cmd != nullptr ? ToLower(cmd->name) : std::string("NULL")) +
          " user=default redir=-1 resp=" +
          (c.protocol.load(std::memory_order_relaxed) == Protocol::kResp3 ? "3" : "2") +
          " lib-name=" + lib_name + " lib-ver=" + lib_ver + "\n";
  return line;
}

}  // namespace bf
