#include "engine/server/commands.h"

#include <shared_mutex>

#include <spdlog/spdlog.h>

#include "engine/server/config.h"
#include "engine/server/internal/args.h"
#include "engine/server/internal/handlers.h"

namespace bf {

using namespace internal;  // NOLINT: the handlers

namespace {

// EVENT's syntax, with the event words of engine/store/limits.h.
std::string_view EventSyntax() {
  static const std::string syntax = "user post " + EventTypeWords("|", "|") + " [TS t]";
  return syntax;
}

// The command table: the single source for dispatch, COMMAND and the docs.
constexpr uint32_t kConn = kCmdNoAuth | kCmdLoading | kCmdStale | kCmdFast;
const CommandSpec kCommands[] = {
    // Connection and server.
    {"PING", -1, kCmdFast | kCmdStale, "connection", "[message]",
     "Replies PONG, or the message", CmdPing},
    {"ECHO", 2, kCmdFast, "connection", "message", "Replies the message", CmdEcho},
    {"QUIT", -1, kConn, "connection", "", "Replies OK and closes the connection", CmdQuit},
    {"AUTH", -2, kConn, "connection", "[default] password",
     "Authenticates the connection", CmdAuth},
    {"HELLO", -1, kConn, "connection", "[2|3 [AUTH default password] [SETNAME name]]",
     "Handshake: server properties; 3 switches the connection to RESP3", CmdHello},
    {"COMMAND", -1, kCmdLoading | kCmdStale, "server", "[COUNT | INFO [name ...] | DOCS [name ...] | LIST]",
     "Describes the commands", CmdCommand},
    {"CLIENT", -2, kCmdLoading | kCmdStale, "connection",
     "ID | SETNAME name | GETNAME | SETINFO LIB-NAME|LIB-VER value | INFO | "
     "LIST [TYPE normal] [ID id ...]",
     "Connection properties", CmdClient},
    {"SELECT", 2, kCmdFast | kCmdLoading | kCmdStale, "connection", "0",
     "Only database 0 exists", CmdSelect},
    {"CONFIG", -2, kCmdAdmin | kCmdLoading | kCmdStale, "server", "GET pattern [pattern ...]",
     "Reads settings", CmdConfig},
    {"INFO", -1, kCmdLoading | kCmdStale, "server", "[section ...]",
     "Server report: server clients memory stats latency storage index text keyspace cluster model", CmdInfo},
    {"DBSIZE", 1, kCmdReadonly | kCmdFast, "server", "", "Users plus posts", CmdDbsize},
    {"TIME", 1, kCmdFast | kCmdLoading | kCmdStale, "server", "",
     "Server time: unix seconds and microseconds", CmdTime},
    {"LASTSAVE", 1, kCmdFast | kCmdLoading | kCmdStale, "server", "",
     "Unix time of the index snapshot written or loaded last (0: none)", CmdLastsave},
    {"SLOWLOG", -2, kCmdAdmin | kCmdLoading | kCmdStale, "server", "GET [count] | LEN | RESET",
     "Commands slower than slowlog-log-slower-than, newest first", CmdSlowlog},
    {"SCAN", -2, kCmdReadonly, "server", "cursor [MATCH pattern] [COUNT n] [TYPE post|user]",
     "Walks post ids, then user ids; a cursor resumes after the last id returned", CmdScan},
    {"TYPE", 2, kCmdReadonly | kCmdFast, "server", "id",
     "post, user or none: what an id names", CmdType},
    // Transactions (handlers_transactions.cc).
    {"MULTI", 1, kCmdFast, "transactions", "", "Starts queueing commands for EXEC", CmdMulti},
    {"EXEC", 1, 0, "transactions", "",
     "Runs the queued commands as one atomic block", CmdExec},
    {"DISCARD", 1, kCmdFast, "transactions", "", "Drops the queued commands", CmdDiscard},
    {"WATCH", -2, kCmdFast, "transactions", "id [id ...]",
     "EXEC fails if a user or post of these ids changes first", CmdWatch},
    {"UNWATCH", 1, kCmdFast, "transactions", "", "Forgets the WATCHed ids", CmdUnwatch},
    // Users.
    {"USER.SET", -2, kCmdWrite | kCmdUserKey, "user",
     "user [CULTURE c] [LANGS l1,l2,...] [OPENNESS f] [VECTOR FP32 blob | VECTOR VALUES n v ...]",
     "Creates or updates a user", CmdUserSet},
    {"USER.GET", -2, kCmdReadonly | kCmdFast | kCmdUserKey, "user", "user [WITHVECTOR]",
     "A user's fields, or nil", CmdUserGet},
    {"USER.DEL", 2, kCmdWrite | kCmdUserKey, "user", "user",
     "Deletes a user, its events and seen set", CmdUserDel},
    // Posts.
    {"POST.ADD", -2, kCmdWrite | kCmdPostKey, "post",
     "post AUTHOR author CULTURE c [VECTOR (FP32 blob | VALUES n v ...)] [LANG l] [TS t] "
     "[TAGS t1,t2,...] [TITLE text] [TEXT text]",
     "Creates or replaces a post; without VECTOR, the text vector of TITLE and TEXT",
     CmdPostAdd},
    {"POST.GET", -2, kCmdReadonly | kCmdFast | kCmdPostKey, "post", "post [WITHVECTOR]",
     "A post's fields and counters, or nil", CmdPostGet},
    {"POST.DEL", 2, kCmdWrite | kCmdPostKey, "post", "post", "Deletes a post", CmdPostDel},
    {"EMBED", -3, kCmdReadonly | kCmdFast, "post", "TEXT text [LANG l]",
     "The text model's FP32 vector of a text (--text-model)", CmdEmbed},
    // Feedback and feeds.
    {"EVENT", -4, kCmdWrite | kCmdUserKey, "feedback", EventSyntax(),
     "Records a user's feedback on a post", CmdEvent},
    {"FEED", -2, kCmdWrite | kCmdUserKey, "feed", "user [COUNT n] [OPENNESS f] [EXPLAIN] [PEEK]",
     "A ranked page of posts for a user", CmdFeed},
    {"SIMILAR", -2, kCmdReadonly | kCmdPostKey, "feed", "post [COUNT n] [CROSS]",
     "Posts nearest to a post", CmdSimilar},
    // Index and maintenance.
    {"INDEX.INFO", 1, kCmdReadonly | kCmdFast, "index", "", "ANN index properties",
     CmdIndexInfo},
    {"INDEX.REBUILD", 1, kCmdAdmin, "index", "",
     "Rebuilds the ANN index in the background", CmdIndexRebuild},
    {"INDEX.LOAD", 2, kCmdAdmin, "index", "path",
     "Swaps in an index file written by bridgefeed-rebuild", CmdIndexLoad},
    {"SAVE", 1, kCmdAdmin, "server", "", "Writes the index snapshot now", CmdSave},
    {"BACKUP", 2, kCmdAdmin, "server", "dir",
     "Consistent copy of database and index snapshot in dir", CmdBackup},
    // Cluster mode (docs/cluster.md).
    {"CLUSTER", -2, kCmdLoading | kCmdStale, "cluster",
     "SLOTS | SHARDS | NODES | INFO | MYID | KEYSLOT key", "Cluster topology and state",
     CmdCluster},
    {"READONLY", 1, kCmdFast | kCmdLoading | kCmdStale, "cluster", "",
     "Accepted for cluster clients; users stay on their own node", CmdReadonly},
    {"READWRITE", 1, kCmdFast | kCmdLoading | kCmdStale, "cluster", "",
     "Accepted for cluster clients", CmdReadwrite},
    {"TRAIN", -1, kCmdAdmin, "learn", "[WAIT]",
     "Trains the model on the event log and swaps it in", CmdTrain},
    {"MODEL.LOAD", 2, kCmdAdmin, "learn", "path",
     "Swaps in a model file written by bridgefeed-train", CmdModelLoad},
};

}  // namespace

std::span<const CommandSpec> CommandTable() { return kCommands; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x -= 32;
    if (y >= 'a' && y <= 'z') y -= 32;
    if (x != y) return false;
  }
  return true;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c += 32;
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Walk the longer length always; a length difference is folded in too.
  const size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? a[i] : 0;
    const unsigned char y = i < b.size() ? b[i] : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

const CommandSpec* FindCommand(std::string_view name) {
  for (const CommandSpec& c : kCommands) {
    if (EqualsIgnoreCase(c.name, name)) return &c;
  }
  return nullptr;
}


namespace {

std::string UnknownCommand(CommandArgs args) {
  // Redis 7 wording, trailing blank included.
  std::string list;
  for (size_t i = 1; i < args.size() && list.size() < 128; ++i) {
    list += '\'';
    list += args[i].substr(0, 128 - list.size());
    list += "' ";
  }
  return "ERR unknown command '" + std::string(args[0].substr(0, 128)) +
         "', with args beginning with: " + list;
}

bool ArityOk(int arity, size_t argc) {
  return arity >= 0 ? argc == static_cast<size_t>(arity) : argc >= static_cast<size_t>(-arity);
}

}  // namespace

void Dispatch(CommandContext& ctx, CommandArgs args, std::string* out) {
  const size_t before = out->size();
  RespWriter w(out, ctx.client->protocol.load(std::memory_order_relaxed));
  ctx.stats->total_commands.fetch_add(1, std::memory_order_relaxed);
  const CommandSpec* spec = args.empty() ? nullptr : FindCommand(args[0]);
  // Refused commands inside MULTI make its EXEC abort (Flag).
  if (args.empty()) {
    ctx.client->txn.Flag();
    w.Error("ERR empty command");
  } else if (spec == nullptr) {
    ctx.client->txn.Flag();
    w.Error(UnknownCommand(args));
  } else if (!ArityOk(spec->arity, args.size())) {
    ctx.client->txn.Flag();
    w.Error(ArityError(spec->name));
  } else if (!ctx.config->requirepass.empty() && !ctx.client->authenticated &&
             !(spec->flags & kCmdNoAuth)) {
    ctx.client->txn.Flag();
    w.Error("NOAUTH Authentication required.");
  } else if (const auto moved = MovedError(ctx, *spec, args)) {
    ctx.client->txn.Flag();
    w.Error(*moved);
  } else if (QueueInMulti(ctx, *spec, args, w)) {
    // queued or refused
  } else {
    // A write holds WATCH's lock shared across the write and the Touch of its ids.
    std::shared_lock<std::shared_mutex> writing;
    if ((spec->flags & kCmdWrite) && ctx.watches != nullptr) {
      writing = ctx.watches->SharedHold();
    }
    const auto t0 = std::chrono::steady_clock::now();
    ctx.client->last_command.store(spec, std::memory_order_relaxed);
    ctx.client->last_active_ms.store(
        std::chrono::duration_cast<std::chrono::milliseconds>(t0.time_since_epoch()).count(),
        std::memory_order_relaxed);
    spec->handler(ctx, args, w);
    if (writing && out->size() > before && (*out)[before] != '-') TouchWritten(ctx, *spec, args);
    const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - t0)
                          .count();
    if (ctx.config->slowlog_usec >= 0 && usec >= ctx.config->slowlog_usec) {  // as Redis: >=
      // SLOWLOG redacts AUTH and HELLO; the log line has the name and argument count only.
      ctx.stats->slowlog.Record(usec, args, ctx.client->addr, ctx.client->name,
                                static_cast<size_t>(ctx.config->slowlog_max_len));
      spdlog::warn("slow command {} ({} args) took {} usec, client {}", spec->name,
                   args.size() - 1, usec, ctx.client->id);
    }
  }
  if (out->size() > before && (*out)[before] == '-') {
    ctx.stats->errors.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace bf
