// Feedback and feeds: EVENT FEED SIMILAR. Reply shapes are documented in
// docs/protocol.md. Ids, COUNT's range and OPENNESS's range are checked by
// the engine; this file parses the words.
#include "engine/server/internal/args.h"
#include "engine/server/internal/handlers.h"

namespace bf::internal {

// EVENT user post type [TS t]
bool ParseEvent(CommandContext&, CommandArgs args, RespWriter& w, WriteOp* op) {
  const auto type = ParseEventType(args[3]);
  if (!type) {
    return Refuse(w, "ERR unknown event type '" + std::string(args[3].substr(0, 32)) +
                   "': expected " + EventTypeWords(" ", " or "));
  }
  std::optional<int64_t> ts;
  for (size_t i = 4; i < args.size();) {
    if (EqualsIgnoreCase(args[i], "TS") && i + 1 < args.size()) {
      int64_t t;
      if (Failed(ParseTs(args[i + 1], &t), w)) return false;
      ts = t;
      i += 2;
    } else {
      return Refuse(w, kSyntaxError);
    }
  }
  EventOp e;
  e.user = std::string(args[1]);
  e.post = std::string(args[2]);
  e.type = *type;
  e.ts = ts;
  *op = std::move(e);
  return true;
}

void CmdEvent(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  WriteOp op;
  if (!ParseEvent(ctx, args, w, &op)) return;
  const EventOp& e = std::get<EventOp>(op);
  OkOrError(ctx.engine->RecordEvent(e.user, e.post, e.type, e.ts), w);
}

namespace {

// An EXPLAIN item: post, score, culture, author, source, relevance,
// bridging, freshness[, title].
MapReply ExplainItem(const FeedItem& item, Protocol protocol) {
  MapReply m(protocol);
  m.Bulk("post", item.post)
      .Double("score", item.score)
      .Bulk("culture", item.culture)
      .Bulk("author", item.author)
      .Bulk("source", item.source)
      .Double("relevance", item.relevance)
      .Double("bridging", item.bridging)
      .Double("freshness", item.freshness);
  if (!item.title.empty()) m.Bulk("title", item.title);
  return m;
}

}  // namespace

// FEED user [COUNT n] [OPENNESS f] [EXPLAIN] [PEEK]
// Plain: a list of post ids. EXPLAIN: a list of ExplainItem maps.
void CmdFeed(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  FeedRequest req;
  req.user = std::string(args[1]);
  for (size_t i = 2; i < args.size();) {
    const std::string_view word = args[i];
    const bool has_value = i + 1 < args.size();
    if (EqualsIgnoreCase(word, "COUNT") && has_value) {
      if (Failed(ParseCount(args[i + 1], &req.count), w)) return;
      i += 2;
    } else if (EqualsIgnoreCase(word, "OPENNESS") && has_value) {
      double f;
      if (Failed(ParseOpenness(args[i + 1], &f), w)) return;
      req.openness = f;
      i += 2;
    } else if (EqualsIgnoreCase(word, "EXPLAIN")) {
      req.explain = true;
      ++i;
    } else if (EqualsIgnoreCase(word, "PEEK")) {
      req.peek = true;
      ++i;
    } else {
      return w.Error(kSyntaxError);
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto r = ctx.engine->Feed(req);
  ctx.stats->feed_latency.Record(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count()));
  if (!r.ok()) return w.Error(r.status());
  w.Array(r->size());
  for (const FeedItem& item : *r) {
    if (req.explain) {
      w.Map(ExplainItem(item, w.protocol()));
    } else {
      w.Bulk(item.post);
    }
  }
}

// SIMILAR post [COUNT n] [CROSS]
void CmdSimilar(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  int count = 20;
  bool cross = false;
  for (size_t i = 2; i < args.size();) {
    if (EqualsIgnoreCase(args[i], "COUNT") && i + 1 < args.size()) {
      if (Failed(ParseCount(args[i + 1], &count), w)) return;
      i += 2;
    } else if (EqualsIgnoreCase(args[i], "CROSS")) {
      cross = true;
      ++i;
    } else {
      return w.Error(kSyntaxError);
    }
  }
  auto r = ctx.engine->Similar(args[1], count, cross);
  if (!r.ok()) return w.Error(r.status());
  w.Array(r->size());
  for (const auto& id : *r) w.Bulk(id);
}

}  // namespace bf::internal
