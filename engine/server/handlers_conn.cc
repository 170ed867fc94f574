// Connection and server commands: PING ECHO QUIT AUTH HELLO COMMAND CLIENT
// SELECT CONFIG INFO.
#include <unistd.h>

#include "engine/server/info.h"
#include "engine/server/internal/handlers.h"

namespace bf::internal {
namespace {

// AUTH and HELLO ... AUTH: OK, or the error to reply.
std::optional<std::string> TryAuth(CommandContext& ctx, std::optional<std::string_view> user,
                                   std::string_view password) {
  const std::string& required = ctx.config->requirepass;
  if (required.empty()) {
    // As Redis: the default user has no password; "AUTH default x" passes.
    if (!user) {
      return std::string(
          "ERR AUTH <password> called without any password configured for the default user. "
          "Are you sure your configuration is correct?");
    }
    if (*user != "default") return std::string("WRONGPASS invalid password");
    ctx.client->authenticated = true;
    return std::nullopt;
  }
  // Evaluate both checks so timing does not tell which failed.
  const bool user_ok = !user || *user == "default";
  const bool pass_ok = ConstantTimeEquals(password, required);
  if (!(user_ok && pass_ok)) return std::string("WRONGPASS invalid password");
  ctx.client->authenticated = true;
  return std::nullopt;
}

bool ValidClientName(std::string_view name) {
  for (unsigned char c : name) {
    if (c < '!' || c > '~') return false;  // no spaces, newlines or specials
  }
  return true;
}

std::string ClientInfoLine(const CommandContext& ctx) {
  const ClientState& c = *ctx.client;
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now() - c.created)
                       .count();
  return "id=" + std::to_string(c.id) + " addr=" + c.addr + " name=" + c.name +
         " age=" + std::to_string(age) + " db=0 resp=2 lib-name=" + c.lib_name +
         " lib-ver=" + c.lib_ver + "\n";
}

void WriteFlags(RespWriter& w, uint32_t flags) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {kCmdWrite, "write"}, {kCmdReadonly, "readonly"}, {kCmdAdmin, "admin"},
      {kCmdFast, "fast"},   {kCmdNoAuth, "no_auth"},    {kCmdLoading, "loading"},
      {kCmdStale, "stale"},
  };
  size_t n = 0;
  for (const auto& [bit, name] : kNames) n += (flags & bit) ? 1 : 0;
  w.Array(n);
  for (const auto& [bit, name] : kNames) {
    if (flags & bit) w.Simple(name);
  }
}

// COMMAND INFO entry, Redis 7 layout: name, arity, flags, first key, last
// key, step, ACL categories, tips, key specs, subcommands. Our ids are not
// Redis keys, so the key positions are 0.
void WriteCommandInfo(RespWriter& w, const CommandSpec& c) {
  w.Array(10);
  w.Bulk(ToLower(c.name));
  w.Int(c.arity);
  WriteFlags(w, c.flags);
  w.Int(0);
  w.Int(0);
  w.Int(0);
  w.Array(1);
  std::string category(1, '@');  // not "@" + ...: GCC 12 warns falsely (-Wrestrict)
  category.append(c.group);
  w.Simple(category);
  w.Array(0);
  w.Array(0);
  w.Array(0);
}

// COMMAND DOCS entry: a map (flat pairs). The syntax goes in as one argument
// so redis-cli shows it as the hint.
void WriteCommandDocs(RespWriter& w, const CommandSpec& c) {
  w.Bulk(ToLower(c.name));
  const bool has_args = !c.syntax.empty();
  w.Array(has_args ? 8 : 6);
  w.Bulk("summary");
  w.Bulk(c.summary);
  w.Bulk("since");
  w.Bulk("0.1.0");
  w.Bulk("group");
  w.Bulk(c.group);
  if (has_args) {
    w.Bulk("arguments");
    w.Array(1);
    w.Array(4);
    w.Bulk("name");
    w.Bulk(c.syntax);
    w.Bulk("type");
    w.Bulk("string");
  }
}

// Redis-style glob: * ? and [...] are enough for CONFIG GET patterns.
bool GlobMatch(std::string_view pat, std::string_view s) {
  size_t p = 0, i = 0, star_p = std::string_view::npos, star_i = 0;
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || (pat[p] | 0x20) == (s[i] | 0x20))) {
      ++p;
      ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star_p = p++;
      star_i = i;
    } else if (star_p != std::string_view::npos) {
      p = star_p + 1;
      i = ++star_i;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace

void CmdPing(CommandContext&, CommandArgs args, RespWriter& w) {
  if (args.size() > 2) return w.Error(ArityError("ping"));
  if (args.size() == 2) return w.Bulk(args[1]);
  w.Simple("PONG");
}

void CmdEcho(CommandContext&, CommandArgs args, RespWriter& w) { w.Bulk(args[1]); }

void CmdQuit(CommandContext& ctx, CommandArgs, RespWriter& w) {
  ctx.client->quit = true;
  w.Ok();
}

void CmdAuth(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (args.size() > 3) return w.Error("ERR syntax error");
  auto err = args.size() == 2 ? TryAuth(ctx, std::nullopt, args[1])
                              : TryAuth(ctx, args[1], args[2]);
  if (err) return w.Error(*err);
  w.Ok();
}

void CmdHello(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  size_t i = 1;
  if (args.size() > 1) {
    int64_t proto;
    if (!ParseInt(args[1], &proto)) {
      return w.Error("ERR Protocol version is not an integer or out of range");
    }
    if (proto != 2) return w.Error("NOPROTO unsupported protocol version");
    i = 2;
  }
  std::optional<std::string_view> setname;
  for (; i < args.size(); ++i) {
    if (EqualsIgnoreCase(args[i], "AUTH") && i + 2 < args.size()) {
      if (auto err = TryAuth(ctx, args[i + 1], args[i + 2])) return w.Error(*err);
      i += 2;
    } else if (EqualsIgnoreCase(args[i], "SETNAME") && i + 1 < args.size()) {
      setname = args[++i];
    } else {
      return w.Error("ERR Syntax error in HELLO option '" + std::string(args[i].substr(0, 128)) +
                     "'");
    }
  }
  if (!ctx.config->requirepass.empty() && !ctx.client->authenticated) {
    return w.Error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
        "select the RESP protocol version at the same time");
  }
  if (setname) {
    if (!ValidClientName(*setname)) {
      return w.Error("ERR Client names cannot contain spaces, newlines or special characters.");
    }
    ctx.client->name = std::string(*setname);
  }
  w.Array(14);
  w.Bulk("server");
  w.Bulk("bridgefeed");
  w.Bulk("version");
  w.Bulk(Version());
  w.Bulk("proto");
  w.Int(2);
  w.Bulk("id");
  w.Int(static_cast<int64_t>(ctx.client->id));
  w.Bulk("mode");
  w.Bulk("standalone");
  w.Bulk("role");
  w.Bulk("master");
  w.Bulk("modules");
  w.Array(0);
}

void CmdCommand(CommandContext&, CommandArgs args, RespWriter& w) {
  const auto table = CommandTable();
  if (args.size() == 1) {
    w.Array(table.size());
    for (const auto& c : table) WriteCommandInfo(w, c);
    return;
  }
  const std::string_view sub = args[1];
  if (EqualsIgnoreCase(sub, "COUNT")) {
    if (args.size() != 2) return w.Error(ArityError("command|count"));
    return w.Int(static_cast<int64_t>(table.size()));
  }
  if (EqualsIgnoreCase(sub, "LIST")) {
    w.Array(table.size());
    for (const auto& c : table) w.Bulk(ToLower(c.name));
    return;
  }
  if (EqualsIgnoreCase(sub, "INFO")) {
    if (args.size() == 2) {
      w.Array(table.size());
      for (const auto& c : table) WriteCommandInfo(w, c);
      return;
    }
    w.Array(args.size() - 2);
    for (size_t i = 2; i < args.size(); ++i) {
      if (const CommandSpec* c = FindCommand(args[i])) {
        WriteCommandInfo(w, *c);
      } else {
        w.NilArray();
      }
    }
    return;
  }
  if (EqualsIgnoreCase(sub, "DOCS")) {
    if (args.size() == 2) {
      w.Array(table.size() * 2);
      for (const auto& c : table) WriteCommandDocs(w, c);
      return;
    }
    std::vector<const CommandSpec*> found;
    for (size_t i = 2; i < args.size(); ++i) {
      if (const CommandSpec* c = FindCommand(args[i])) found.push_back(c);
    }
    w.Array(found.size() * 2);
    for (const CommandSpec* c : found) WriteCommandDocs(w, *c);
    return;
  }
  w.Error(UnknownSubcommand(sub, "COMMAND"));
}

void CmdClient(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  const std::string_view sub = args[1];
  if (EqualsIgnoreCase(sub, "ID")) {
    if (args.size() != 2) return w.Error(ArityError("client|id"));
    return w.Int(static_cast<int64_t>(ctx.client->id));
  }
  if (EqualsIgnoreCase(sub, "GETNAME")) {
    if (args.size() != 2) return w.Error(ArityError("client|getname"));
    if (ctx.client->name.empty()) return w.Nil();
    return w.Bulk(ctx.client->name);
  }
  if (EqualsIgnoreCase(sub, "SETNAME")) {
    if (args.size() != 3) return w.Error(ArityError("client|setname"));
    if (!ValidClientName(args[2])) {
      return w.Error("ERR Client names cannot contain spaces, newlines or special characters.");
    }
    ctx.client->name = std::string(args[2]);
    return w.Ok();
  }
  if (EqualsIgnoreCase(sub, "SETINFO")) {
    if (args.size() != 4) return w.Error(ArityError("client|setinfo"));
    if (!ValidClientName(args[3])) {
      return w.Error("ERR " + std::string(args[2].substr(0, 32)) +
                     " cannot contain spaces, newlines or special characters.");
    }
    if (EqualsIgnoreCase(args[2], "LIB-NAME")) {
      ctx.client->lib_name = std::string(args[3]);
    } else if (EqualsIgnoreCase(args[2], "LIB-VER")) {
      ctx.client->lib_ver = std::string(args[3]);
    } else {
      return w.Error("ERR Unrecognized option '" + std::string(args[2].substr(0, 128)) + "'");
    }
    return w.Ok();
  }
  if (EqualsIgnoreCase(sub, "INFO")) {
    if (args.size() != 2) return w.Error(ArityError("client|info"));
    return w.Bulk(ClientInfoLine(ctx));
  }
  if (EqualsIgnoreCase(sub, "LIST")) {
    // Only this connection: the command layer does not see the others.
    return w.Bulk(ClientInfoLine(ctx));
  }
  if (EqualsIgnoreCase(sub, "NO-EVICT") || EqualsIgnoreCase(sub, "NO-TOUCH")) {
    if (args.size() != 3) return w.Error(ArityError("client|" + ToLower(sub)));
    return w.Ok();
  }
  w.Error(UnknownSubcommand(sub, "CLIENT"));
}

void CmdSelect(CommandContext&, CommandArgs args, RespWriter& w) {
  int64_t db;
  if (!ParseInt(args[1], &db)) return w.Error("ERR value is not an integer or out of range");
  if (db != 0) return w.Error("ERR DB index is out of range");
  w.Ok();
}

void CmdConfig(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  const std::string_view sub = args[1];
  if (EqualsIgnoreCase(sub, "GET")) {
    if (args.size() < 3) return w.Error(ArityError("config|get"));
    const ServerConfig& c = *ctx.config;
    // save and appendonly answer as a Redis without persistence settings, so
    // redis-benchmark and friends run; the rest are ours.
    const std::pair<std::string, std::string> known[] = {
        {"save", ""},
        {"appendonly", "no"},
        {"bind", c.bind},
        {"port", std::to_string(ctx.stats->port)},
        {"maxclients", std::to_string(c.maxclients)},
        {"timeout", std::to_string(c.timeout)},
        {"proto-max-bulk-len", std::to_string(c.proto_max_bulk_len)},
        {"databases", "1"},
        {"dim", std::to_string(ctx.engine->dim())},
        {"index", c.index},
        {"fsync", c.fsync},
        {"dir", c.data_dir},
        {"slowlog-log-slower-than", std::to_string(c.slowlog_usec)},
    };
    std::vector<const std::pair<std::string, std::string>*> hits;
    for (const auto& kv : known) {
      for (size_t i = 2; i < args.size(); ++i) {
        if (GlobMatch(args[i], kv.first)) {
          hits.push_back(&kv);
          break;
        }
      }
    }
    w.Array(hits.size() * 2);
    for (const auto* kv : hits) {
      w.Bulk(kv->first);
      w.Bulk(kv->second);
    }
    return;
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

void CmdInfo(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  w.Bulk(BuildInfoReport(*ctx.engine, *ctx.config, *ctx.stats, args.subspan(1)));
}

}  // namespace bf::internal
