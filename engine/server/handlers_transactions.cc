// Transactions: MULTI EXEC DISCARD WATCH UNWATCH (transaction.h).
//
// A block holds writes (USER.SET USER.DEL POST.ADD POST.DEL EVENT), reads
// (USER.GET POST.GET FEED SIMILAR INFO ...) and connection commands (PING
// TIME ...). Writes are parsed when queued, so their syntax errors abort the
// block at EXEC (EXECABORT); EXEC hands all of them to one Engine::Write:
// one WriteBatch, nothing of another client's in between, and an error found
// then (an unknown post, say) is that command's reply in EXEC's array while
// the others are written. Because the writes land together, a read runs
// either before all of them (queued before the first) or after all of them
// (queued after one); a write queued after such a read is refused, since the
// read would then see a write queued after it.
#include <mutex>
#include <shared_mutex>

#include "engine/server/internal/args.h"
#include "engine/server/internal/handlers.h"

namespace bf::internal {
namespace {

using Parser = bool (*)(CommandContext&, CommandArgs, RespWriter&, WriteOp*);

struct QueuedWrite {
  std::string_view name;
  Parser parse;
  int keys;  // ids the write changes: args[1] .. args[keys]
};

constexpr QueuedWrite kWrites[] = {
    {"USER.SET", ParseUserSet, 1}, {"USER.DEL", ParseUserDel, 1},
    {"POST.ADD", ParsePostAdd, 1}, {"POST.DEL", ParsePostDel, 1},
    {"EVENT", ParseEvent, 2},
};

const QueuedWrite* FindWrite(std::string_view name) {
  for (const QueuedWrite& q : kWrites) {
    if (q.name == name) return &q;
  }
  return nullptr;
}

// Queued commands that read nothing a block writes: they run at EXEC
// wherever they sit in the block.
constexpr std::string_view kAnyTime[] = {
    "PING",     "ECHO",    "UNWATCH", "TIME",   "LASTSAVE", "COMMAND",  "CLIENT",
    "CONFIG",   "SLOWLOG", "SELECT",  "CLUSTER", "READONLY", "READWRITE",
};

bool IsAnyTime(std::string_view name) {
  for (std::string_view n : kAnyTime) {
    if (n == name) return true;
  }
  return false;
}

// Queued commands that read data: the read-only ones, FEED (its served
// marks are its own write, as outside MULTI) and INFO (counts of users and
// posts). Not AUTH, HELLO (they change the connection) nor the operator
// commands INDEX.REBUILD INDEX.LOAD SAVE BACKUP.
bool IsRead(const CommandSpec& spec) {
  return (spec.flags & kCmdReadonly) || spec.name == "FEED" || spec.name == "INFO";
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
  using Runs = QueuedCommand::Runs;
  Transaction& txn = ctx.client->txn;
  if (!txn.active() || RunsInMulti(spec.name)) return false;
  const QueuedWrite* write = FindWrite(spec.name);
  QueuedCommand c;
  c.spec = &spec;
  if (write != nullptr) {
    c.runs = Runs::kWrite;
  } else if (IsAnyTime(spec.name)) {
    c.runs = Runs::kAnyTime;
  } else if (IsRead(spec)) {
    c.runs = txn.wrote() ? Runs::kAfterWrites : Runs::kBeforeWrites;
  } else {
    txn.Flag();
    w.Error("ERR " + std::string(spec.name) +
            " is not allowed inside MULTI (a block takes reads, FEED, connection commands and "
            "the writes USER.SET USER.DEL POST.ADD POST.DEL EVENT; not AUTH, HELLO or operator "
            "commands)");
    return true;
  }
  if (c.runs == Runs::kWrite && txn.read_after_write()) {
    txn.Flag();
    w.Error("ERR " + std::string(spec.name) +
            " cannot follow a read that follows a write inside MULTI: the block's writes are "
            "stored as one batch, so a read sees all of them or none (queue reads before the "
            "first write or after the last)");
    return true;
  }
  if (txn.queued().size() >= Transaction::kMaxQueued) {
    txn.Flag();
    w.Error("ERR a MULTI block holds at most " + std::to_string(Transaction::kMaxQueued) +
            " commands");
    return true;
  }
  if (write != nullptr) {
    WriteOp op;
    if (!write->parse(ctx, args, w, &op)) {
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
  const QueuedWrite* q = FindWrite(spec.name);
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
  using Runs = QueuedCommand::Runs;
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
  // Each command's reply, written in queue order at the end.
  std::vector<std::string> replies(queued.size());
  auto run = [&](Runs when) {
    for (size_t i = 0; i < queued.size(); ++i) {
      if (queued[i].runs != when) continue;
      std::vector<std::string_view> args(queued[i].args.begin(), queued[i].args.end());
      RespWriter out(&replies[i], w.protocol());
      queued[i].spec->handler(ctx, args, out);
    }
  };

  Result<std::vector<WriteOutcome>> done = std::vector<WriteOutcome>();
  {
    // No other write runs from the WATCH check to the block's last read.
    std::unique_lock<std::shared_mutex> hold;
    if (ctx.watches != nullptr) hold = ctx.watches->ExclusiveHold();
    if (txn.WatchedChanged()) {
      txn.End();
      PublishMulti(ctx);
      return w.NilArray();
    }
    run(Runs::kBeforeWrites);
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
    run(Runs::kAfterWrites);
  }
  txn.End();
  PublishMulti(ctx);
  run(Runs::kAnyTime);

  size_t next = 0;  // index into ops and *done
  for (size_t k = 0; k < queued.size(); ++k) {
    if (!queued[k].op) continue;
    const size_t i = next++;
    RespWriter out(&replies[k], w.protocol());
    if (!done.ok()) {
      out.Error(done.status());  // nothing of the block was written
    } else if (!(*done)[i].status.ok()) {
      out.Error((*done)[i].status);
    } else if (IsDelete(ops[i])) {
      out.Int((*done)[i].existed ? 1 : 0);
    } else {
      out.Ok();
    }
  }
  w.Array(queued.size());
  for (const std::string& r : replies) w.Raw(r);
}

}  // namespace bf::internal
