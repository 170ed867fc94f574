// Index and admin commands: INDEX.INFO INDEX.REBUILD INDEX.LOAD SAVE BACKUP
// INFO CONFIG.
#include "engine/server/config.h"
#include "engine/server/glob.h"
#include "engine/server/info.h"
#include "engine/server/internal/args.h"
#include "engine/server/internal/handlers.h"

namespace bf::internal {

void CmdIndexInfo(CommandContext& ctx, CommandArgs, RespWriter& w) {
  const IndexInfo info = ctx.engine->GetIndexInfo();
  w.Map(MapReply(w.protocol())
            .Bulk("type", info.stats.type)
            .Int("dim", info.stats.dim)
            .Int("ntotal", info.stats.ntotal)
            .Int("live", info.stats.live)
            .Int("tombstones", info.stats.tombstones)
            .Int("trained", info.stats.trained ? 1 : 0)
            .Int("snapshot_seq", static_cast<int64_t>(info.snapshot_seq))
            .Int("rebuilding", info.rebuilding ? 1 : 0)
            .Int("last_rebuild", info.last_rebuild));
}

void CmdIndexRebuild(CommandContext& ctx, CommandArgs, RespWriter& w) {
  OkOrError(ctx.engine->StartRebuild(), w);
}

void CmdIndexLoad(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (args[1].empty()) return w.Error("ERR path must not be empty");
  OkOrError(ctx.engine->LoadIndex(std::string(args[1])), w);
}

void CmdSave(CommandContext& ctx, CommandArgs, RespWriter& w) {
  OkOrError(ctx.engine->Save(), w);
}

void CmdBackup(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (args[1].empty()) return w.Error("ERR dir must not be empty");
  OkOrError(ctx.engine->Backup(std::string(args[1])), w);
}

void CmdInfo(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  w.Bulk(BuildInfoReport(*ctx.engine, *ctx.config, *ctx.stats, args.subspan(1), ctx.cluster));
}

void CmdConfig(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  const std::string_view sub = args[1];
  if (EqualsIgnoreCase(sub, "GET")) {
    if (args.size() < 3) return w.Error(ArityError("config|get"));
    const RunningValues running{ctx.stats->port, ctx.engine->dim()};
    MapReply hits(w.protocol());
    for (const auto& [name, value] : ConfigGetPairs(*ctx.config, running)) {
      for (size_t i = 2; i < args.size(); ++i) {
        if (GlobMatch(args[i], name, /*nocase=*/true)) {
          hits.Bulk(name, value);
          break;
        }
      }
    }
    return w.Map(hits);
  }
  if (EqualsIgnoreCase(sub, "RESETSTAT")) {
    ctx.stats->total_commands = 0;
    ctx.stats->errors = 0;
    return w.Ok();
  }
  if (EqualsIgnoreCase(sub, "SET")) {
    return w.Error("ERR CONFIG SET is not supported: restart with the new setting");
  }
  w.Error(UnknownSubcommand(sub, "CONFIG"));
}

}  // namespace bf::internal
