// Command handlers and the argument helpers they share. Internal to engine/:
// the table in commands.cc is their only user (and the tests, through
// Dispatch).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/server/commands.h"

namespace bf::internal {

// Strict decimal integer (no '+', no blanks), as Redis.
bool ParseInt(std::string_view s, int64_t* out);
// A finite decimal number.
bool ParseDouble(std::string_view s, double* out);
// Invalid "<what> id must be 1 to 128 bytes".
// Canonical upper-case culture; Invalid unless 1..16 bytes of [A-Za-z0-9_-].
Result<std::string> ParseCulture(std::string_view s);
std::string ArityError(std::string_view fullname);
std::string UnknownSubcommand(std::string_view sub, std::string_view cmd);

// Connection and server (handlers_conn.cc).
void CmdPing(CommandContext&, CommandArgs, RespWriter&);
void CmdEcho(CommandContext&, CommandArgs, RespWriter&);
void CmdQuit(CommandContext&, CommandArgs, RespWriter&);
void CmdAuth(CommandContext&, CommandArgs, RespWriter&);
void CmdHello(CommandContext&, CommandArgs, RespWriter&);
void CmdCommand(CommandContext&, CommandArgs, RespWriter&);
void CmdClient(CommandContext&, CommandArgs, RespWriter&);
void CmdSelect(CommandContext&, CommandArgs, RespWriter&);
void CmdConfig(CommandContext&, CommandArgs, RespWriter&);
void CmdInfo(CommandContext&, CommandArgs, RespWriter&);

// Data (handlers_data.cc).
void CmdUserSet(CommandContext&, CommandArgs, RespWriter&);
void CmdUserGet(CommandContext&, CommandArgs, RespWriter&);
void CmdUserDel(CommandContext&, CommandArgs, RespWriter&);
void CmdPostAdd(CommandContext&, CommandArgs, RespWriter&);
void CmdPostGet(CommandContext&, CommandArgs, RespWriter&);
void CmdPostDel(CommandContext&, CommandArgs, RespWriter&);
void CmdEvent(CommandContext&, CommandArgs, RespWriter&);
void CmdFeed(CommandContext&, CommandArgs, RespWriter&);
void CmdSimilar(CommandContext&, CommandArgs, RespWriter&);
void CmdIndexInfo(CommandContext&, CommandArgs, RespWriter&);
void CmdIndexRebuild(CommandContext&, CommandArgs, RespWriter&);
void CmdIndexLoad(CommandContext&, CommandArgs, RespWriter&);
void CmdSave(CommandContext&, CommandArgs, RespWriter&);
void CmdBackup(CommandContext&, CommandArgs, RespWriter&);

}  // namespace bf::internal
