// Learning commands: TRAIN [WAIT], MODEL.LOAD (docs/learning.md). Reply
// shapes are documented in docs/protocol.md.
#include "engine/server/internal/args.h"
#include "engine/server/internal/handlers.h"

namespace bf::internal {

// TRAIN [WAIT]: +OK once started; with WAIT, a map of what it did when done.
// A WAIT holds this connection's server thread for the whole train.
void CmdTrain(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  bool wait = false;
  if (args.size() == 2) {
    if (!EqualsIgnoreCase(args[1], "WAIT")) return w.Error(kSyntaxError);
    wait = true;
  } else if (args.size() > 2) {
    return w.Error(kSyntaxError);
  }
  auto r = ctx.engine->Train(wait);
  if (!r.ok()) return w.Error(r.status());
  if (!wait) return w.Ok();
  w.Map(MapReply(w.protocol())
            .Int("iterations", r->iterations)
            .Double("loss", r->loss)
            .Int("users", r->users)
            .Int("posts", r->posts)
            .Int("events", r->events)
            .Double("seconds", r->seconds));
}

void CmdModelLoad(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (args[1].empty()) return w.Error("ERR path must not be empty");
  OkOrError(ctx.engine->LoadModel(std::string(args[1])), w);
}

}  // namespace bf::internal
