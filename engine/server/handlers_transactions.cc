// Transactions: MULTI EXEC DISCARD WATCH UNWATCH (transaction.h).
//
// A block holds writes (USER.SET USER.DEL POST.ADD POST.DEL EVENT) and the
// connection commands PING ECHO UNWATCH. Writes are parsed when queued, so a
// syntax or arity error aborts the block at EXEC (EXECABORT); EXEC hands all
// of them to one Engine::Write: one WriteBatch, nothing of another client's
// in between, and an error found then (an unknown post, say) is that
// command's reply in EXEC's array while the others are written. Reads and
// FEED are refused inside MULTI: the block's writes are one batch written at
// EXEC, so a read queued after a write could not see it, and FEED's served
// marks would be a second write outside the batch.
#include <mutex>
#include <shared_mutex>

#include "engine/server/internal/args.h"
#include "engine/server/internal/handlers.h"

namespace bf::internal {
namespace {

using Parser = bool (*)(CommandContext&, CommandArgs, RespWriter&, WriteOp*);

struct Queueable {
  std::string_view name;
  Parser parse;  // nullptr: a connection command, run at EXEC
  int keys;      // ids the write changes: args[1] .. args[keys]
};

constexpr Queueable kQueueable[] = {
    {"USER.SET", ParseUserSet, 1}, {"USER.DEL", ParseUserDel, 1},
    {"POST.ADD", ParsePostAdd, 1}, {"POST.DEL", ParsePostDel, 1},
    {"EVENT", ParseEvent, 2},      {"PING", nullptr, 0},
    {"ECHO", nullptr, 0},          {"UNWATCH", nullptr, 0},
};

const Queueable* FindQueueable(std::string_view name) {
  for (const Queueable& q : kQueueable) {
    if (q.name == name) return &q;
  }
  return nullptr;
}

// Commands that run at once inside MULTI.
bool RunsInMulti(std::string_view name) {
  return name == "EXEC" || name == "DISCARD" || name == "MULTI" || name == "WATCH" ||
         name == "QUIT";
}

// The ids an op changes, for WATCH.
void TouchOp(WatchRegistry& watches, const WriteOp& op) {
  std::visit(
      [&](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, EventOp>) {
          watches.Touch(o.user);
          watches.Touch(o.post);
        } else {
          watches.Touch(o.id);
        }
      },
      op);
}

// CLIENT INFO's multi: -1 outside MULTI, else the commands queued.
void PublishMulti(CommandContext& ctx) {
  const Transaction& txn = ctx.client->txn;
  ctx.client->multi.store(txn.active() ? static_cast<int64_t>(txn.queued().size()) : -1,
                          std::memory_order_relaxed);
}

bool IsDelete(const WriteOp& op) {
  return std::holds_alternative<DeleteUserOp>(op) || std::holds_alternative<DeletePostOp>(op);
}

}  // namespace

bool QueueInMulti(CommandContext& ctx, const CommandSpec& spec, CommandArgs args,
                  RespWriter& w) {
  Transaction& txn = ctx.client->txn;
  if (!txn.active() || RunsInMulti(spec.name)) return false;
  const Queueable* q = FindQueueable(spec.name);
  if (q == nullptr) {
    txn.Flag();
    w.Error("ERR " + std::string(spec.name) +
            " is not allowed inside MULTI (a block takes USER.SET USER.DEL POST.ADD POST.DEL "
            "EVENT PING ECHO UNWATCH)");
    return true;
  }
  if (txn.queued().size() >= Transaction::kMaxQueued) {
    txn.Flag();
    w.Error("ERR a MULTI block holds at most " + std::to_string(Transaction::kMaxQueued) +
            " commands");
    return true;
  }
  QueuedCommand c;
  c.spec = &spec;
  if (q->parse != nullptr) {
    WriteOp op;
    if (!q->parse(ctx, args, w, &op)) {
      txn.Flag();
      return true;
    }
    c.op = std::move(op);
  } else {
    c.args.assign(args.begin(), args.end());
  }
  txn.Queue(std::move(c));
  PublishMulti(ctx);
  w.Simple("QUEUED");
  return true;
}

void TouchWritten(CommandContext& ctx, const CommandSpec& spec, CommandArgs args) {
  const Queueable* q = FindQueueable(spec.name);
  if (q == nullptr || ctx.watches == nullptr) return;
  for (int i = 1; i <= q->keys && static_cast<size_t>(i) < args.size(); ++i) {
    ctx.watches->Touch(args[i]);
  }
}

void CmdMulti(CommandContext& ctx, CommandArgs, RespWriter& w) {
  Transaction& txn = ctx.client->txn;
  if (txn.active()) return w.Error("ERR MULTI calls can not be nested");
  txn.Begin();
  PublishMulti(ctx);
  w.Ok();
}

void CmdDiscard(CommandContext& ctx, CommandArgs, RespWriter& w) {
  Transaction& txn = ctx.client->txn;
  if (!txn.active()) return w.Error("ERR DISCARD without MULTI");
  txn.End();
  PublishMulti(ctx);
  w.Ok();
}

void CmdWatch(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  Transaction& txn = ctx.client->txn;
  if (txn.active()) return w.Error("ERR WATCH inside MULTI is not allowed");
  if (ctx.watches == nullptr) return w.Error("ERR WATCH is not available");
  auto hold = ctx.watches->ExclusiveHold();
  for (size_t i = 1; i < args.size(); ++i) txn.Watch(ctx.watches, std::string(args[i]));
  w.Ok();
}

void CmdUnwatch(CommandContext& ctx, CommandArgs, RespWriter& w) {
  ctx.client->txn.Unwatch();
  w.Ok();
}

void CmdExec(CommandContext& ctx, CommandArgs, RespWriter& w) {
  Transaction& txn = ctx.client->txn;
  if (!txn.active()) return w.Error("ERR EXEC without MULTI");
  if (txn.dirty()) {
    txn.End();
    PublishMulti(ctx);
    return w.Error("EXECABORT Transaction discarded because of previous errors.");
  }
  const std::vector<QueuedCommand> queued = txn.queued();
  std::vector<WriteOp> ops;
  for (const QueuedCommand& c : queued) {
    if (c.op) ops.push_back(*c.op);
  }

  Result<std::vector<WriteOutcome>> done = std::vector<WriteOutcome>();
  {
    // No other write runs from the WATCH check to the end of the block's.
    std::unique_lock<std::shared_mutex> hold;
    if (ctx.watches != nullptr) hold = ctx.watches->ExclusiveHold();
    if (txn.WatchedChanged()) {
      txn.End();
      PublishMulti(ctx);
      return w.NilArray();
    }
    if (!ops.empty()) {
      WriteOptions options;
      options.all_or_nothing = false;  // per-command errors, as Redis's EXEC
      done = ctx.engine->Write(ops, options);
    }
    if (done.ok() && ctx.watches != nullptr) {
      for (size_t i = 0; i < ops.size(); ++i) {
        if ((*done)[i].status.ok()) TouchOp(*ctx.watches, ops[i]);
      }
    }
  }
  txn.End();
  PublishMulti(ctx);

  w.Array(queued.size());
  size_t next = 0;  // index into ops and *done
  for (const QueuedCommand& c : queued) {
    if (!c.op) {
      std::vector<std::string_view> args(c.args.begin(), c.args.end());
      c.spec->handler(ctx, args, w);
      continue;
    }
    const size_t i = next++;
    if (!done.ok()) {
      w.Error(done.status());  // nothing of the block was written
    } else if (!(*done)[i].status.ok()) {
      w.Error((*done)[i].status);
    } else if (IsDelete(ops[i])) {
      w.Int((*done)[i].existed ? 1 : 0);
    } else {
      w.Ok();
    }
  }
}

}  // namespace bf::internal
