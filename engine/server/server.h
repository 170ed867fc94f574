// Server: the RESP server on Boost.Asio. N I/O threads, each running its own
// io_context (event loop); an acceptor that gives each new client to the loop
// with the fewest clients, where it stays; one Connection per client (see
// server.cc) that reads into its
// RespParser, dispatches every complete command through the command table and
// writes the replies back in order (pipelining).
//
// Limits: maxclients (the extra client gets "-ERR max number of clients
// reached" and is closed); unread input per client (parser limits, protocol
// error then close); pending replies: past the soft limit a client's input
// is not read or parsed until its replies drain (backpressure), past the
// hard limit the client is closed. A protocol error closes only that client.
//
// Engine calls run on the io threads and may block (RocksDB, Faiss).
//
// Errors: only Listen fails (IOError); a client's bad request is an error
// reply, a client's broken connection closes that client alone.
// Thread safety: Stop and stats() from any thread; the rest from one.
// Ownership: borrows the config and the engine, owns the io_context, the
// acceptor and every connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>

#include "engine/server/commands.h"
#include "engine/server/config.h"

namespace bf {

class Server {
 public:
  // engine, config and cluster (nullptr: a single node) must outlive the server.
  Server(const ServerConfig& config, Engine* engine, const ClusterContext* cluster = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on config.bind:config.port. IOError naming the address
  // when that fails (in use, no permission, bad address).
  Status Listen();
  // The port bound (useful with port 0). REQUIRES: Listen() succeeded.
  uint16_t port() const;

  // Runs the io threads (config.threads, 0 = one per core) on the calling
  // thread plus others; returns once Stop() has finished.
  void Run();
  // Graceful: stop accepting, let running commands finish, flush replies,
  // close every client; clients that do not drain within a few seconds are
  // dropped. Thread-safe, idempotent; may be called before or during Run.
  void Stop();

  // The first I/O thread's loop (the acceptor's), e.g. for a signal_set.
  boost::asio::io_context& io_context();
  ServerStats& stats();

  class Impl;  // opaque; public so server.cc's Connection can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace bf
