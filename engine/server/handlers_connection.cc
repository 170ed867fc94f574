// Connection commands: PING ECHO QUIT AUTH HELLO COMMAND CLIENT SELECT.
#include <algorithm>

#include "engine/server/clients.h"
#include "engine/server/config.h"
#include "engine/server/internal/args.h"
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

ListReply Flags(uint32_t flags, Protocol protocol) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {kCmdWrite, "write"}, {kCmdReadonly, "readonly"}, {kCmdAdmin, "admin"},
      {kCmdFast, "fast"},   {kCmdNoAuth, "no_auth"},    {kCmdLoading, "loading"},
      {kCmdStale, "stale"},
  };
  ListReply out(protocol);
  for (const auto& [bit, name] : kNames) {
    if (flags & bit) out.Simple(name);
  }
  return out;
}

// COMMAND INFO entry, Redis 7 layout: name, arity, flags, first key, last
// key, step, ACL categories, tips, key specs, subcommands. A user or post id
// in args[1] is the key (1, 1, 1), so cluster clients route by it; other
// commands have none (0, 0, 0).
ListReply CommandInfo(const CommandSpec& c, Protocol protocol) {
  std::string category(1, '@');  // not "@" + ...: GCC 12 warns falsely (-Wrestrict)
  category.append(c.group);
  const int key = (c.flags & (kCmdUserKey | kCmdPostKey)) ? 1 : 0;
  const ListReply none(protocol);
  ListReply out(protocol);
  out.Bulk(ToLower(c.name))
      .Int(c.arity)
      .List(Flags(c.flags, protocol))
      .Int(key)
      .Int(key)
      .Int(key)
      .List(ListReply(protocol).Simple(category))
      .List(none)
      .List(none)
      .List(none);
  return out;
}

// COMMAND DOCS entry. The syntax goes in as one argument so redis-cli shows
// it as the hint.
MapReply CommandDocs(const CommandSpec& c, Protocol protocol) {
  MapReply out(protocol);
  out.Bulk("summary", c.summary).Bulk("since", "0.1.0").Bulk("group", c.group);
  if (!c.syntax.empty()) {
    MapReply arg(protocol);
    arg.Bulk("name", c.syntax).Bulk("type", "string");
    out.List("arguments", ListReply(protocol).Map(arg));
  }
  return out;
}

// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id ...]: every
// registered connection (only normal clients exist here).
void ClientList(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  bool none = false;
  std::vector<uint64_t> ids;
  for (size_t i = 2; i < args.size(); ++i) {
    if (EqualsIgnoreCase(args[i], "TYPE") && i + 1 < args.size()) {
      const std::string_view t = args[++i];
      if (EqualsIgnoreCase(t, "master") || EqualsIgnoreCase(t, "replica") ||
          EqualsIgnoreCase(t, "pubsub")) {
        none = true;
      } else if (!EqualsIgnoreCase(t, "normal")) {
        return w.Error("ERR Unknown client type '" + std::string(t.substr(0, 32)) + "'");
      }
    } else if (EqualsIgnoreCase(args[i], "ID") && i + 1 < args.size()) {
      for (++i; i < args.size(); ++i) {
        int64_t id;
        if (!ParseInt(args[i], &id) || id <= 0) return w.Error("ERR Invalid client ID");
        ids.push_back(static_cast<uint64_t>(id));
      }
    } else {
      return w.Error(kSyntaxError);
    }
  }
  auto wanted = [&](uint64_t id) {
    return !none && (ids.empty() || std::find(ids.begin(), ids.end(), id) != ids.end());
  };
  std::string text;
  bool self_listed = false;
  ctx.stats->clients.ForEach([&](const ClientState& c) {
    self_listed |= &c == ctx.client;
    if (wanted(c.id)) text += ClientInfoLine(c);
  });
  // A client that is not registered (commands run without a server) still sees itself.
  if (!self_listed && wanted(ctx.client->id)) text += ClientInfoLine(*ctx.client);
  w.Bulk(text);
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
  Protocol protocol = ctx.client->protocol.load();  // HELLO without a version keeps it
  if (args.size() > 1) {
    int64_t proto;
    if (!ParseInt(args[1], &proto)) {
      return w.Error("ERR Protocol version is not an integer or out of range");
    }
    if (proto != 2 && proto != 3) return w.Error("NOPROTO unsupported protocol version");
    protocol = proto == 3 ? Protocol::kResp3 : Protocol::kResp2;
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
    std::lock_guard lock(ctx.client->mu);
    ctx.client->name = std::string(*setname);
  }
  // Only a HELLO that succeeds switches; its own reply is in the new protocol.
  ctx.client->protocol = protocol;
  w.set_protocol(protocol);
  w.Map(MapReply(w.protocol())
            .Bulk("server", "bridgefeed")
            .Bulk("version", Version())
            .Int("proto", protocol == Protocol::kResp3 ? 3 : 2)
            .Int("id", static_cast<int64_t>(ctx.client->id))
            .Bulk("mode", "standalone")
            .Bulk("role", "master")
            .List("modules", ListReply(w.protocol())));
}

void CmdCommand(CommandContext&, CommandArgs args, RespWriter& w) {
  const auto table = CommandTable();
  const Protocol protocol = w.protocol();
  const std::string_view sub = args.size() > 1 ? args[1] : std::string_view();
  if (args.size() == 1 || (EqualsIgnoreCase(sub, "INFO") && args.size() == 2)) {
    ListReply all(protocol);
    for (const auto& c : table) all.List(CommandInfo(c, protocol));
    return w.List(all);
  }
  if (EqualsIgnoreCase(sub, "COUNT")) {
    if (args.size() != 2) return w.Error(ArityError("command|count"));
    return w.Int(static_cast<int64_t>(table.size()));
  }
  if (EqualsIgnoreCase(sub, "LIST")) {
    ListReply names(protocol);
    for (const auto& c : table) names.Bulk(ToLower(c.name));
    return w.List(names);
  }
  if (EqualsIgnoreCase(sub, "INFO")) {
    // One entry per name asked, nil for an unknown one.
    w.Array(args.size() - 2);
    for (size_t i = 2; i < args.size(); ++i) {
      if (const CommandSpec* c = FindCommand(args[i])) {
        w.List(CommandInfo(*c, protocol));
      } else {
        w.NilArray();
      }
    }
    return;
  }
  if (EqualsIgnoreCase(sub, "DOCS")) {
    // Name -> docs for every command, or for the known ones among those asked.
    MapReply docs(protocol);
    if (args.size() == 2) {
      for (const auto& c : table) docs.Map(ToLower(c.name), CommandDocs(c, protocol));
    }
    for (size_t i = 2; i < args.size(); ++i) {
      if (const CommandSpec* c = FindCommand(args[i])) {
        docs.Map(ToLower(c->name), CommandDocs(*c, protocol));
      }
    }
    return w.Map(docs);
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
    std::lock_guard lock(ctx.client->mu);
    ctx.client->name = std::string(args[2]);
    return w.Ok();
  }
  if (EqualsIgnoreCase(sub, "SETINFO")) {
    if (args.size() != 4) return w.Error(ArityError("client|setinfo"));
    if (!ValidClientName(args[3])) {
      return w.Error("ERR " + std::string(args[2].substr(0, 32)) +
                     " cannot contain spaces, newlines or special characters.");
    }
    std::lock_guard lock(ctx.client->mu);
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
    return w.Bulk(ClientInfoLine(*ctx.client));
  }
  if (EqualsIgnoreCase(sub, "LIST")) return ClientList(ctx, args, w);
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

}  // namespace bf::internal
