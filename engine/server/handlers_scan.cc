// SCAN and TYPE over the store's ids, so redis-cli --scan and --bigkeys walk
// a bridgefeed database. A "key" is a post id (type post) or a user id (type
// user); SCAN walks the posts, then the users, each in RocksDB key order.
#include "engine/server/glob.h"
#include "engine/server/internal/args.h"
#include "engine/server/internal/handlers.h"

namespace bf::internal {
namespace {

constexpr int64_t kMaxCount = 100000;  // ids read by one call at most

std::optional<IdKind> KindOf(ScanPhase phase) {
  if (phase == ScanPhase::kPosts) return IdKind::kPost;
  if (phase == ScanPhase::kUsers) return IdKind::kUser;
  return std::nullopt;
}

ScanPhase Next(ScanPhase phase) {
  return phase == ScanPhase::kPosts ? ScanPhase::kUsers : ScanPhase::kDone;
}

}  // namespace

// SCAN cursor [MATCH pattern] [COUNT n] [TYPE post|user]
// Reply: [next cursor ("0" when the walk is over), [ids...]]. COUNT (default
// 10) is how many ids are read, MATCH filters them after, as Redis: a page may
// be empty before the walk ends.
void CmdScan(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  int64_t cursor_number;
  if (!ParseInt(args[1], &cursor_number) || cursor_number < 0) {
    return w.Error("ERR invalid cursor");
  }
  std::optional<std::string_view> match;
  int64_t count = 10;
  std::optional<IdKind> only;
  for (size_t i = 2; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return w.Error(kSyntaxError);
    const std::string_view value = args[i + 1];
    if (EqualsIgnoreCase(args[i], "MATCH")) {
      match = value;
    } else if (EqualsIgnoreCase(args[i], "COUNT")) {
      if (!ParseInt(value, &count)) return w.Error("ERR value is not an integer or out of range");
      if (count < 1) return w.Error(kSyntaxError);
    } else if (EqualsIgnoreCase(args[i], "TYPE")) {
      if (EqualsIgnoreCase(value, "post")) {
        only = IdKind::kPost;
      } else if (EqualsIgnoreCase(value, "user")) {
        only = IdKind::kUser;
      } else {
        return w.Error("ERR unknown type name '" + std::string(value.substr(0, 32)) +
                       "': keys here are post or user");
      }
    } else {
      return w.Error(kSyntaxError);
    }
  }
  std::optional<ScanPosition> pos = ctx.stats->scan_cursors.Find(static_cast<uint64_t>(cursor_number));
  if (!pos) return w.Error("ERR invalid cursor");
  size_t budget = static_cast<size_t>(std::min(count, kMaxCount));
  ListReply keys(w.protocol());
  while (budget > 0 && pos->phase != ScanPhase::kDone) {
    const IdKind kind = *KindOf(pos->phase);
    if (only && *only != kind) {
      *pos = ScanPosition{Next(pos->phase), ""};
      continue;
    }
    auto page = ctx.engine->ScanIds(kind, pos->after, budget);
    if (!page.ok()) return w.Error(page.status());
    for (const std::string& id : *page) {
      if (!match || GlobMatch(*match, id)) keys.Bulk(id);
    }
    if (page->size() < budget) {
      *pos = ScanPosition{Next(pos->phase), ""};  // this kind is walked
    } else {
      pos->after = page->back();
    }
    budget -= page->size();
  }
  const uint64_t next =
      pos->phase == ScanPhase::kDone ? 0 : ctx.stats->scan_cursors.Save(std::move(*pos));
  w.Array(2);
  w.Bulk(std::to_string(next));
  w.List(keys);
}

// TYPE key: "post", else "user", else "none" (an id may name both; the post wins).
void CmdType(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  auto post = ctx.engine->GetPost(args[1]);
  if (!post.ok()) return w.Error(post.status());
  if (post->has_value()) return w.Simple("post");
  auto user = ctx.engine->GetUser(args[1]);
  if (!user.ok()) return w.Error(user.status());
  w.Simple(user->has_value() ? "user" : "none");
}

}  // namespace bf::internal
