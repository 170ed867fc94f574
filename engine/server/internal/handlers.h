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

// Index and admin (handlers_admin.cc): INDEX.* SAVE BACKUP INFO CONFIG.
void CmdIndexInfo(CommandContext&, CommandArgs, RespWriter&);
void CmdIndexRebuild(CommandContext&, CommandArgs, RespWriter&);
void CmdIndexLoad(CommandContext&, CommandArgs, RespWriter&);
void CmdSave(CommandContext&, CommandArgs, RespWriter&);
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

}  // namespace bf::internal
