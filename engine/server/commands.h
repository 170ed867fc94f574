// The command layer: the command table (declared as data, the one source for
// dispatch, COMMAND, COMMAND DOCS and docs/commands.md) and Dispatch(), which
// checks name, arity and auth, runs a handler and appends its RESP reply.
//
// Handlers see a CommandContext and never a socket, so they are tested with a
// fake Engine and no network.
//
// Errors: every failure, the caller's or the engine's, is an error reply
// (first word the wire code, wire_error.h); nothing here throws or closes a
// connection (a handler sets ClientState::quit for QUIT).
// Thread safety: Dispatch runs on any io thread at once; what it shares
// (ServerStats, the engine) is thread-safe, a ClientState is its connection's.
// Ownership: CommandContext points at objects the server owns and that
// outlive every command.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "engine/cluster/cluster_config.h"
#include "engine/cluster/runtime.h"
#include "engine/engine.h"
#include "engine/server/clients.h"
#include "engine/server/latency.h"
#include "engine/server/resp_writer.h"
#include "engine/server/scan_cursors.h"
#include "engine/server/slowlog.h"
#include "engine/server/transaction.h"

namespace bf {

struct ServerConfig;  // engine/server/config.h
struct CommandSpec;

// Server-wide counters, shared by every connection. Thread-safe (atomics).
struct ServerStats {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  int port = 0;  // the port actually bound
  std::atomic<uint64_t> next_client_id{1};
  std::atomic<int64_t> connected_clients{0};
  std::atomic<uint64_t> total_connections{0};
  std::atomic<uint64_t> total_commands{0};
  std::atomic<uint64_t> errors{0};  // error replies sent
  std::atomic<uint64_t> protocol_errors{0};  // malformed requests (each closed a client)
  std::atomic<uint64_t> rejected_connections{0};
  LatencyHistogram feed_latency;    // FEED handler time, microseconds
  SlowLog slowlog;                  // SLOWLOG
  ClientRegistry clients;           // CLIENT LIST
  ScanCursors scan_cursors;         // SCAN
};

// One connection's state. Written only by that connection's handlers; CLIENT
// LIST on other connections reads it too (clients.h): the fields marked
// "shared" are atomics or are written under mu, the others it does not read
// or are fixed before the client is registered.
struct ClientState {
  uint64_t id = 0;
  std::string addr;   // "ip:port" of the peer; fixed
  std::string laddr;  // "ip:port" of our end; fixed
  int fd = -1;        // the socket's descriptor; fixed
  mutable std::mutex mu;  // shared: writers of name, lib_name, lib_ver hold it
  std::string name;  // CLIENT SETNAME
  std::string lib_name, lib_ver;  // CLIENT SETINFO
  bool authenticated = false;
  std::atomic<Protocol> protocol{Protocol::kResp2};  // shared; HELLO 2|3 switches it
  bool quit = false;  // close once the replies so far are written
  Transaction txn;    // MULTI's queue and WATCH's ids; this connection's only
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();  // fixed
  // Shared, for CLIENT INFO/LIST. multi: -1 outside MULTI, else the number
  // of commands queued (set by the transaction code).
  std::atomic<const CommandSpec*> last_command{nullptr};
  std::atomic<int64_t> last_active_ms{0};  // steady clock, when the last command ran
  std::atomic<int64_t> multi{-1};
  // Shared, set by the connection after each read: input buffered and its
  // free space, replies pending (bytes), memory held by the buffers, and
  // whether a write is in flight.
  std::atomic<uint64_t> qbuf{0}, qbuf_free{0}, obl{0}, tot_mem{0};
  std::atomic<bool> writing{false};
};

// Cluster mode as the handlers see it (handlers_cluster.cc): the cluster file and this
// node's index in it. Absent (nullptr) on a single node.
struct ClusterContext {
  const cluster::ClusterConfig* config = nullptr;
  size_t self = 0;
  // INFO cluster's numbers; may wait up to the log's ack timeout when it has no quorum.
  std::function<cluster::ClusterStatus()> status;
};

struct CommandContext {
  Engine* engine = nullptr;
  const ClusterContext* cluster = nullptr;  // nullptr: a single node
  const ServerConfig* config = nullptr;
  ServerStats* stats = nullptr;
  ClientState* client = nullptr;
  WatchRegistry* watches = nullptr;  // server-wide; nullptr: no WATCH (tests)
};

using CommandArgs = std::span<const std::string_view>;
using CommandHandler = void (*)(CommandContext& ctx, CommandArgs args, RespWriter& out);

enum CommandFlag : uint32_t {
  kCmdWrite = 1 << 0,     // changes data
  kCmdReadonly = 1 << 1,  // reads data
  kCmdAdmin = 1 << 2,     // operator command
  kCmdFast = 1 << 3,      // O(1) or O(log n)
  kCmdNoAuth = 1 << 4,    // allowed before AUTH
  kCmdLoading = 1 << 5,   // allowed while loading
  kCmdStale = 1 << 6,
  // args[1] is a key (COMMAND reports it, so cluster clients route by it): a user id, which
  // cluster mode answers only on the user's node (-MOVED elsewhere), or a post id, which any
  // node answers.
  kCmdUserKey = 1 << 7,
  kCmdPostKey = 1 << 8,
};

struct CommandSpec {
  std::string_view name;     // upper case, as documented
  int arity;                 // Redis convention: argc incl. name; negative = at least -arity
  uint32_t flags;            // CommandFlag bits
  std::string_view group;    // connection, server, user, post, feedback, feed, index
  std::string_view syntax;   // arguments after the name, api.md notation
  std::string_view summary;  // one line
  CommandHandler handler;
};

// Every command, in documentation order.
std::span<const CommandSpec> CommandTable();
// Case-insensitive lookup; nullptr if unknown.
const CommandSpec* FindCommand(std::string_view name);

// Runs one command (args[0] is its name) and appends exactly one reply to
// *out. Counts the command and error replies in ctx.stats; logs commands
// slower than config->slowlog_usec. Thread-safe as far as the engine is.
void Dispatch(CommandContext& ctx, CommandArgs args, std::string* out);

// Lower-case copy, for Redis-style messages.
std::string ToLower(std::string_view s);
// Case-insensitive ASCII comparison.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// Compares without an early exit, so timing does not reveal the match length.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace bf
