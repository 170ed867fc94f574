// Commands Redis tools expect: DBSIZE TIME LASTSAVE SLOWLOG. Reply shapes are
// Redis's (docs/protocol.md).
#include <chrono>

#include "engine/server/config.h"
#include "engine/server/internal/args.h"
#include "engine/server/internal/handlers.h"

namespace bf::internal {

// Users plus posts: what SCAN walks.
void CmdDbsize(CommandContext& ctx, CommandArgs, RespWriter& w) {
  const EngineCounters c = ctx.engine->Counters();
  w.Int(static_cast<int64_t>(c.users + c.posts));
}

// [unix seconds, microseconds within the second], both bulk strings.
void CmdTime(CommandContext&, CommandArgs, RespWriter& w) {
  const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  w.List(ListReply(w.protocol())
             .Bulk(std::to_string(us / 1000000))
             .Bulk(std::to_string(us % 1000000)));
}

// The last index snapshot written (SAVE, periodic, shutdown) or loaded at start.
void CmdLastsave(CommandContext& ctx, CommandArgs, RespWriter& w) {
  w.Int(ctx.engine->GetIndexInfo().last_save);
}

// SLOWLOG GET [n] | LEN | RESET | HELP
void CmdSlowlog(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  const std::string_view sub = args[1];
  SlowLog& log = ctx.stats->slowlog;
  if (EqualsIgnoreCase(sub, "GET")) {
    if (args.size() > 3) return w.Error(ArityError("slowlog|get"));
    int64_t n = 10;  // Redis's default
    if (args.size() == 3 && (!ParseInt(args[2], &n) || n < -1)) {
      return w.Error("ERR count should be greater than or equal to -1");
    }
    ListReply entries(w.protocol());
    for (const SlowLogEntry& e : log.Get(n)) {
      ListReply argv(w.protocol());
      for (const std::string& a : e.args) argv.Bulk(a);
      entries.List(ListReply(w.protocol())
                       .Int(static_cast<int64_t>(e.id))
                       .Int(e.unix_time)
                       .Int(e.usec)
                       .List(argv)
                       .Bulk(e.addr)
                       .Bulk(e.name));
    }
    return w.List(entries);
  }
  if (EqualsIgnoreCase(sub, "LEN")) {
    if (args.size() != 2) return w.Error(ArityError("slowlog|len"));
    return w.Int(static_cast<int64_t>(log.Len()));
  }
  if (EqualsIgnoreCase(sub, "RESET")) {
    if (args.size() != 2) return w.Error(ArityError("slowlog|reset"));
    log.Reset();
    return w.Ok();
  }
  if (EqualsIgnoreCase(sub, "HELP")) {
    return w.List(ListReply(w.protocol())
                      .Simple("SLOWLOG <subcommand> [<arg> ...]. Subcommands are:")
                      .Simple("GET [<count>]: the newest <count> entries (default 10, -1 all)")
                      .Simple("LEN: the number of entries")
                      .Simple("RESET: drops every entry"));
  }
  w.Error(UnknownSubcommand(sub, "SLOWLOG"));
}

}  // namespace bf::internal
