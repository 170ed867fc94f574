// ClientRegistry: the connected clients, for CLIENT LIST; and the one-line
// description CLIENT INFO and CLIENT LIST give of a client, with Redis's
// fields in Redis's order (redis-py's client_info() and client_list() parse
// every integer field, so none may be missing).
//
// Thread safety: the registry is safe from any thread. A line reads another
// connection's ClientState only through the fields that say they may be read
// from other threads (commands.h). Ownership: the registry points at states
// the connections own; a connection removes its state before freeing it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace bf {

struct ClientState;  // engine/server/commands.h

class ClientRegistry {
 public:
  void Add(ClientState* client);
  // Idempotent. After it returns, no ForEach call sees the client.
  void Remove(ClientState* client);
  // fn for each client, in id order, under the registry's lock: fn must not
  // call back into the registry.
  void ForEach(const std::function<void(const ClientState&)>& fn) const;

 private:
  mutable std::mutex mu_;
  std::map<uint64_t, ClientState*> clients_;  // GUARDED_BY(mu_), by id
};

// "id=7 addr=... resp=2 lib-name= lib-ver=\n", as Redis 7.2 writes it.
// REQUIRES: the caller is the client's own connection, or holds the
// registry's lock (ForEach).
std::string ClientInfoLine(const ClientState& client);

}  // namespace bf
