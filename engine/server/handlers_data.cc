// Data commands: users, posts, events, feeds, index and maintenance.
// Reply shapes are documented in docs/protocol.md.
#include "embeddings/vector.h"
#include "engine/server/internal/handlers.h"

namespace bf::internal {
namespace {

constexpr int kMaxCount = 500;
constexpr const char* kSyntax = "ERR syntax error";

std::vector<std::string> SplitCommas(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t from = 0;
  for (;;) {
    const size_t at = s.find(',', from);
    out.emplace_back(s.substr(from, at == std::string_view::npos ? s.npos : at - from));
    if (at == std::string_view::npos) return out;
    from = at + 1;
  }
}

std::string JoinCommas(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i];
  }
  return out;
}

// args[*i] is the word after VECTOR: FP32 <blob> or VALUES <n> <v>...
// Advances *i past the vector.
Result<Vector> ParseVectorArg(CommandArgs args, size_t* i, int dim) {
  if (*i >= args.size()) return Status::Invalid("syntax error");
  const std::string_view form = args[*i];
  if (EqualsIgnoreCase(form, "FP32")) {
    if (*i + 1 >= args.size()) return Status::Invalid("syntax error");
    const std::string_view blob = args[*i + 1];
    *i += 2;
    return ParseFp32(blob, dim);
  }
  if (EqualsIgnoreCase(form, "VALUES")) {
    if (*i + 1 >= args.size()) return Status::Invalid("syntax error");
    const std::string_view count = args[*i + 1];
    const size_t avail = args.size() - (*i + 2);
    int64_t n = 0;
    size_t take = 0;
    if (ParseInt(count, &n) && n >= 0) take = std::min<size_t>(static_cast<size_t>(n), avail);
    std::vector<std::string_view> values(args.begin() + *i + 2, args.begin() + *i + 2 + take);
    *i += 2 + take;
    return ParseValues(count, values, dim);
  }
  return Status::Invalid("syntax error");
}

Status ParseCount(std::string_view s, int* out) {
  int64_t n;
  if (!ParseInt(s, &n) || n < 1 || n > kMaxCount) {
    return Status::Invalid("COUNT must be an integer from 1 to 500");
  }
  *out = static_cast<int>(n);
  return Status::OK();
}

Status ParseOpenness(std::string_view s, double* out) {
  if (!ParseDouble(s, out) || *out < 0 || *out > 1) {
    return Status::Invalid("OPENNESS must be a number from 0 to 1");
  }
  return Status::OK();
}

Status ParseTs(std::string_view s, int64_t* out) {
  if (!ParseInt(s, out)) return Status::Invalid("TS must be an integer (Unix seconds)");
  return Status::OK();
}

// Replies with the Status and returns true when it is an error.
bool Failed(const Status& s, RespWriter& w) {
  if (s.ok()) return false;
  w.Error(s);
  return true;
}

// The optional WITHVECTOR word of USER.GET and POST.GET (args[2..]).
bool ParseWithVector(CommandArgs args, bool* with_vector) {
  for (size_t i = 2; i < args.size(); ++i) {
    if (!EqualsIgnoreCase(args[i], "WITHVECTOR")) return false;
    *with_vector = true;
  }
  return true;
}

}  // namespace

// USER.SET user [CULTURE c] [LANGS l1,l2] [OPENNESS f] [VECTOR ...]
void CmdUserSet(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (Failed(CheckId("user", args[1]), w)) return;
  UserUpdate u;
  u.id = std::string(args[1]);
  for (size_t i = 2; i < args.size();) {
    const std::string_view word = args[i];
    const bool has_value = i + 1 < args.size();
    if (EqualsIgnoreCase(word, "CULTURE") && has_value) {
      auto c = ParseCulture(args[i + 1]);
      if (!c.ok()) return w.Error(c.status());
      u.culture = std::move(c).value();
      i += 2;
    } else if (EqualsIgnoreCase(word, "LANGS") && has_value) {
      std::vector<std::string> langs = SplitCommas(args[i + 1]);
      for (const auto& l : langs) {
        if (Failed(CheckLang(l), w)) return;
      }
      u.langs = std::move(langs);
      i += 2;
    } else if (EqualsIgnoreCase(word, "OPENNESS") && has_value) {
      double f;
      if (Failed(ParseOpenness(args[i + 1], &f), w)) return;
      u.openness = static_cast<float>(f);
      i += 2;
    } else if (EqualsIgnoreCase(word, "VECTOR")) {
      ++i;
      auto v = ParseVectorArg(args, &i, ctx.engine->dim());
      if (!v.ok()) return w.Error(v.status());
      u.vector = std::move(v).value();
    } else {
      return w.Error(kSyntax);
    }
  }
  if (Failed(ctx.engine->SetUser(u), w)) return;
  w.Ok();
}


// Flat pairs: culture, langs (comma-joined), openness (the user's, or the
// server default when unset), has_vector, positives, negatives[, vector].
void CmdUserGet(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (Failed(CheckId("user", args[1]), w)) return;
  bool with_vector = false;
  if (!ParseWithVector(args, &with_vector)) return w.Error(kSyntax);
  auto r = ctx.engine->GetUser(args[1]);
  if (!r.ok()) return w.Error(r.status());
  if (!r->has_value()) return w.Nil();
  const UserRecord& u = **r;
  w.Array(with_vector ? 14 : 12);
  w.Bulk("culture");
  w.Bulk(u.culture);
  w.Bulk("langs");
  w.Bulk(JoinCommas(u.langs));
  w.Bulk("openness");
  if (u.openness >= 0) {
    w.Float(u.openness);
  } else {
    w.Double(ctx.config->ranking.default_openness);
  }
  w.Bulk("has_vector");
  w.Int(u.vector.empty() ? 0 : 1);
  w.Bulk("positives");
  w.Int(u.positives);
  w.Bulk("negatives");
  w.Int(u.negatives);
  if (with_vector) {
    w.Bulk("vector");
    w.Bulk(ToFp32(u.vector));  // empty blob when the user has no vector
  }
}

void CmdUserDel(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (Failed(CheckId("user", args[1]), w)) return;
  auto r = ctx.engine->DeleteUser(args[1]);
  if (!r.ok()) return w.Error(r.status());
  w.Int(*r ? 1 : 0);
}

// POST.ADD post AUTHOR a CULTURE c VECTOR (FP32 b | VALUES n v...) [LANG l]
//          [TS t] [TAGS t1,t2] [TITLE text]
void CmdPostAdd(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (Failed(CheckId("post", args[1]), w)) return;
  PostInput p;
  p.id = std::string(args[1]);
  bool has_author = false, has_culture = false, has_vector = false;
  for (size_t i = 2; i < args.size();) {
    const std::string_view word = args[i];
    const bool has_value = i + 1 < args.size();
    if (EqualsIgnoreCase(word, "AUTHOR") && has_value) {
      if (Failed(CheckId("author", args[i + 1]), w)) return;
      p.author = std::string(args[i + 1]);
      has_author = true;
      i += 2;
    } else if (EqualsIgnoreCase(word, "CULTURE") && has_value) {
      auto c = ParseCulture(args[i + 1]);
      if (!c.ok()) return w.Error(c.status());
      p.culture = std::move(c).value();
      has_culture = true;
      i += 2;
    } else if (EqualsIgnoreCase(word, "VECTOR")) {
      ++i;
      auto v = ParseVectorArg(args, &i, ctx.engine->dim());
      if (!v.ok()) return w.Error(v.status());
      p.vector = std::move(v).value();
      has_vector = true;
    } else if (EqualsIgnoreCase(word, "LANG") && has_value) {
      if (Failed(CheckLang(args[i + 1]), w)) return;
      p.lang = std::string(args[i + 1]);
      i += 2;
    } else if (EqualsIgnoreCase(word, "TS") && has_value) {
      int64_t ts;
      if (Failed(ParseTs(args[i + 1], &ts), w)) return;
      p.ts = ts;
      i += 2;
    } else if (EqualsIgnoreCase(word, "TAGS") && has_value) {
      p.tags = SplitCommas(args[i + 1]);
      i += 2;
    } else if (EqualsIgnoreCase(word, "TITLE") && has_value) {
      p.title = std::string(args[i + 1]);
      i += 2;
    } else {
      return w.Error(kSyntax);
    }
  }
  if (!has_author || !has_culture || !has_vector) {
    return w.Error("ERR POST.ADD needs AUTHOR, CULTURE and VECTOR");
  }
  if (Failed(ctx.engine->AddPost(std::move(p)), w)) return;
  w.Ok();
}

// Flat pairs: author, culture, lang, ts, tags (comma-joined), title,
// impressions, positives, negatives, bridging, by_culture[, vector].
// by_culture is an array of 4-element arrays
// [culture, impressions, positives, negatives], cultures ascending.
void CmdPostGet(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (Failed(CheckId("post", args[1]), w)) return;
  bool with_vector = false;
  if (!ParseWithVector(args, &with_vector)) return w.Error(kSyntax);
  auto r = ctx.engine->GetPost(args[1]);
  if (!r.ok()) return w.Error(r.status());
  if (!r->has_value()) return w.Nil();
  const PostInfo& p = **r;
  w.Array(with_vector ? 24 : 22);
  w.Bulk("author");
  w.Bulk(p.record.author);
  w.Bulk("culture");
  w.Bulk(p.record.culture);
  w.Bulk("lang");
  w.Bulk(p.record.lang);
  w.Bulk("ts");
  w.Int(p.record.ts);
  w.Bulk("tags");
  w.Bulk(JoinCommas(p.record.tags));
  w.Bulk("title");
  w.Bulk(p.record.title);
  w.Bulk("impressions");
  w.Int(p.impressions);
  w.Bulk("positives");
  w.Int(p.positives);
  w.Bulk("negatives");
  w.Int(p.negatives);
  w.Bulk("bridging");
  w.Double(p.bridging);
  w.Bulk("by_culture");
  w.Array(p.by_culture.size());
  for (const CultureCounts& c : p.by_culture) {
    w.Array(4);
    w.Bulk(c.culture);
    w.Int(c.impressions);
    w.Int(c.positives);
    w.Int(c.negatives);
  }
  if (with_vector) {
    w.Bulk("vector");
    w.Bulk(ToFp32(p.record.vector));
  }
}

void CmdPostDel(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (Failed(CheckId("post", args[1]), w)) return;
  auto r = ctx.engine->DeletePost(args[1]);
  if (!r.ok()) return w.Error(r.status());
  w.Int(*r ? 1 : 0);
}

// EVENT user post type [TS t]
void CmdEvent(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (Failed(CheckId("user", args[1]), w) || Failed(CheckId("post", args[2]), w)) return;
  const auto type = ParseEventType(args[3]);
  if (!type) {
    return w.Error("ERR unknown event type '" + std::string(args[3].substr(0, 32)) +
                   "': expected VIEW LIKE SAVE SHARE COMMENT HIDE or REPORT");
  }
  std::optional<int64_t> ts;
  for (size_t i = 4; i < args.size();) {
    if (EqualsIgnoreCase(args[i], "TS") && i + 1 < args.size()) {
      int64_t t;
      if (Failed(ParseTs(args[i + 1], &t), w)) return;
      ts = t;
      i += 2;
    } else {
      return w.Error(kSyntax);
    }
  }
  if (Failed(ctx.engine->RecordEvent(args[1], args[2], *type, ts), w)) return;
  w.Ok();
}

// FEED user [COUNT n] [OPENNESS f] [EXPLAIN] [PEEK]
// Plain: array of post ids. EXPLAIN: array of flat pair arrays: post, score,
// culture, author, source, relevance, bridging, freshness[, title].
void CmdFeed(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (Failed(CheckId("user", args[1]), w)) return;
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
      return w.Error(kSyntax);
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
    if (!req.explain) {
      w.Bulk(item.post);
      continue;
    }
    const bool titled = !item.title.empty();
    w.Array(titled ? 18 : 16);
    w.Bulk("post");
    w.Bulk(item.post);
    w.Bulk("score");
    w.Double(item.score);
    w.Bulk("culture");
    w.Bulk(item.culture);
    w.Bulk("author");
    w.Bulk(item.author);
    w.Bulk("source");
    w.Bulk(item.source);
    w.Bulk("relevance");
    w.Double(item.relevance);
    w.Bulk("bridging");
    w.Double(item.bridging);
    w.Bulk("freshness");
    w.Double(item.freshness);
    if (titled) {
      w.Bulk("title");
      w.Bulk(item.title);
    }
  }
}

// SIMILAR post [COUNT n] [CROSS]
void CmdSimilar(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (Failed(CheckId("post", args[1]), w)) return;
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
      return w.Error(kSyntax);
    }
  }
  auto r = ctx.engine->Similar(args[1], count, cross);
  if (!r.ok()) return w.Error(r.status());
  w.Array(r->size());
  for (const auto& id : *r) w.Bulk(id);
}

void CmdIndexInfo(CommandContext& ctx, CommandArgs, RespWriter& w) {
  const IndexInfo info = ctx.engine->GetIndexInfo();
  w.Array(18);
  w.Bulk("type");
  w.Bulk(info.stats.type);
  w.Bulk("dim");
  w.Int(info.stats.dim);
  w.Bulk("ntotal");
  w.Int(info.stats.ntotal);
  w.Bulk("live");
  w.Int(info.stats.live);
  w.Bulk("tombstones");
  w.Int(info.stats.tombstones);
  w.Bulk("trained");
  w.Int(info.stats.trained ? 1 : 0);
  w.Bulk("snapshot_seq");
  w.Int(static_cast<int64_t>(info.snapshot_seq));
  w.Bulk("rebuilding");
  w.Int(info.rebuilding ? 1 : 0);
  w.Bulk("last_rebuild");
  w.Int(info.last_rebuild);
}

void CmdIndexRebuild(CommandContext& ctx, CommandArgs, RespWriter& w) {
  if (Failed(ctx.engine->StartRebuild(), w)) return;
  w.Ok();
}

void CmdIndexLoad(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (args[1].empty()) return w.Error("ERR path must not be empty");
  if (Failed(ctx.engine->LoadIndex(std::string(args[1])), w)) return;
  w.Ok();
}

void CmdSave(CommandContext& ctx, CommandArgs, RespWriter& w) {
  if (Failed(ctx.engine->Save(), w)) return;
  w.Ok();
}

void CmdBackup(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  if (args[1].empty()) return w.Error("ERR dir must not be empty");
  if (Failed(ctx.engine->Backup(std::string(args[1])), w)) return;
  w.Ok();
}

}  // namespace bf::internal
