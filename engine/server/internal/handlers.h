// Command handlers, one file per group as Redis's t_*.c. The table in
// commands.cc is their only user (and the tests, through Dispatch). Each
// appends exactly one reply to the writer; errors are replies, never
// exceptions. Thread safety: as the engine; ClientState is the caller's.
#pragma once

#include <optional>
#include <string>

#include "engine/server/commands.h"

namespace bf::internal {

// Connection (handlers_connection.cc): PING ECHO QUIT AUTH HELLO COMMAND CLIENT SELECT.
void CmdPing(CommandContext&, CommandArgs, RespWriter&);
void CmdEcho(CommandContext&, CommandArgs, RespWriter&);
void CmdQuit(CommandContext&, CommandArgs, RespWriter&);
void CmdAuth(CommandContext&, CommandArgs, RespWriter&);
void CmdHello(CommandContext&, CommandArgs, RespWriter&);
void CmdCommand(CommandContext&, CommandArgs, RespWriter&);
void CmdClient(CommandContext&, CommandArgs, RespWriter&);
void CmdSelect(CommandContext&, CommandArgs, RespWriter&);

// Users and posts (handlers_users_posts.cc).
void CmdUserSet(CommandContext&, CommandArgs, RespWriter&);
void CmdUserGet(CommandContext&, CommandArgs, RespWriter&);
void CmdUserDel(CommandContext&, CommandArgs, RespWriter&);
void CmdPostAdd(CommandContext&, CommandArgs, RespWriter&);
void CmdPostGet(CommandContext&, CommandArgs, RespWriter&);
void CmdPostDel(CommandContext&, CommandArgs, RespWriter&);
void CmdEmbed(CommandContext&, CommandArgs, RespWriter&);

// Feedback and feeds (handlers_feed.cc).
void CmdEvent(CommandContext&, CommandArgs, RespWriter&);
void CmdFeed(CommandContext&, CommandArgs, RespWriter&);
void CmdSimilar(CommandContext&, CommandArgs, RespWriter&);

// The write commands' parsers, shared by their handlers and MULTI's queue:
// true with *op set, or false after replying the syntax error.
bool ParseUserSet(CommandContext&, CommandArgs, RespWriter&, WriteOp* op);
bool ParseUserDel(CommandContext&, CommandArgs, RespWriter&, WriteOp* op);
bool ParsePostAdd(CommandContext&, CommandArgs, RespWriter&, WriteOp* op);
bool ParsePostDel(CommandContext&, CommandArgs, RespWriter&, WriteOp* op);
bool ParseEvent(CommandContext&, CommandArgs, RespWriter&, WriteOp* op);

// Transactions (handlers_transactions.cc): MULTI EXEC DISCARD WATCH UNWATCH.
void CmdMulti(CommandContext&, CommandArgs, RespWriter&);
void CmdExec(CommandContext&, CommandArgs, RespWriter&);
void CmdDiscard(CommandContext&, CommandArgs, RespWriter&);
void CmdWatch(CommandContext&, CommandArgs, RespWriter&);
void CmdUnwatch(CommandContext&, CommandArgs, RespWriter&);
// Inside MULTI: queues the command (+QUEUED) or refuses it (an error that
// makes EXEC abort) and returns true. Returns false, replying nothing, when
// the connection is not in MULTI or the command runs at once (EXEC DISCARD
// MULTI WATCH QUIT).
bool QueueInMulti(CommandContext&, const CommandSpec& spec, CommandArgs, RespWriter&);
// After a write command succeeded: bumps the WATCH versions of its ids.
// REQUIRES: ctx.watches's SharedHold held.
void TouchWritten(CommandContext&, const CommandSpec& spec, CommandArgs);

// Index and admin (handlers_admin.cc): INDEX.* SAVE BACKUP INFO CONFIG.
void CmdIndexInfo(CommandContext&, CommandArgs, RespWriter&);
void CmdIndexRebuild(CommandContext&, CommandArgs, RespWriter&);
void CmdIndexLoad(CommandContext&, CommandArgs, RespWriter&);
void CmdSave(CommandContext&, CommandArgs, RespWriter&);
void CmdTrain(CommandContext&, CommandArgs, RespWriter&);      // handlers_learn.cc
void CmdModelLoad(CommandContext&, CommandArgs, RespWriter&);  // handlers_learn.cc
void CmdBackup(CommandContext&, CommandArgs, RespWriter&);
void CmdInfo(CommandContext&, CommandArgs, RespWriter&);
void CmdConfig(CommandContext&, CommandArgs, RespWriter&);

// Redis tooling (handlers_tooling.cc): DBSIZE TIME LASTSAVE SLOWLOG.
void CmdDbsize(CommandContext&, CommandArgs, RespWriter&);
void CmdTime(CommandContext&, CommandArgs, RespWriter&);
void CmdLastsave(CommandContext&, CommandArgs, RespWriter&);
void CmdSlowlog(CommandContext&, CommandArgs, RespWriter&);

// Cluster mode (handlers_cluster.cc): CLUSTER READONLY READWRITE, and the routing check
// Dispatch runs first: "MOVED <slot> <host>:<port>" for a user key of another node, else
// nullopt (always nullopt on a single node).
void CmdCluster(CommandContext&, CommandArgs, RespWriter&);
void CmdReadonly(CommandContext&, CommandArgs, RespWriter&);
void CmdReadwrite(CommandContext&, CommandArgs, RespWriter&);
std::optional<std::string> MovedError(const CommandContext& ctx, const CommandSpec& spec,
                                      CommandArgs args);

// Keys for Redis tools (handlers_scan.cc): SCAN TYPE.
void CmdScan(CommandContext&, CommandArgs, RespWriter&);
void CmdType(CommandContext&, CommandArgs, RespWriter&);

}  // namespace bf::internal
