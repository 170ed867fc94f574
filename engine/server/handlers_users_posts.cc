// Users and posts: USER.SET USER.GET USER.DEL POST.ADD POST.GET POST.DEL.
// Reply shapes are documented in docs/protocol.md. Ids, langs and openness
// are checked by the engine; this file parses the words.
#include "engine/server/config.h"
#include "engine/server/internal/args.h"
#include "engine/server/internal/handlers.h"

namespace bf::internal {

// USER.SET user [CULTURE c] [LANGS l1,l2] [OPENNESS f] [VECTOR ...]
bool ParseUserSet(CommandContext& ctx, CommandArgs args, RespWriter& w, WriteOp* op) {
  UserUpdate u;
  u.id = std::string(args[1]);
  for (size_t i = 2; i < args.size();) {
    const std::string_view word = args[i];
    const bool has_value = i + 1 < args.size();
    if (EqualsIgnoreCase(word, "CULTURE") && has_value) {
      auto c = ParseCulture(args[i + 1]);
      if (!c.ok()) return Refuse(w, c.status());
      u.culture = std::move(c).value();
      i += 2;
    } else if (EqualsIgnoreCase(word, "LANGS") && has_value) {
      u.langs = SplitCommas(args[i + 1]);
      i += 2;
    } else if (EqualsIgnoreCase(word, "OPENNESS") && has_value) {
      double f;
      if (Failed(ParseOpenness(args[i + 1], &f), w)) return false;
      u.openness = f;
      i += 2;
    } else if (EqualsIgnoreCase(word, "VECTOR")) {
      ++i;
      auto v = ParseVectorArg(args, &i, ctx.engine->dim());
      if (!v.ok()) return Refuse(w, v.status());
      u.vector = std::move(v).value();
    } else {
      return Refuse(w, kSyntaxError);
    }
  }
  *op = std::move(u);
  return true;
}

void CmdUserSet(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  WriteOp op;
  if (!ParseUserSet(ctx, args, w, &op)) return;
  OkOrError(ctx.engine->SetUser(std::get<UserUpdate>(op)), w);
}

// Pairs: culture, langs (comma-joined), openness (the user's, or the server
// default when unset), has_vector, positives, negatives[, vector, prior].
void CmdUserGet(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  bool with_vector = false;
  if (!ParseWithVector(args, &with_vector)) return w.Error(kSyntaxError);
  const auto r = ctx.engine->GetUser(args[1]);
  const UserRecord* found = FoundOrReply(r, w);
  if (found == nullptr) return;
  const UserRecord& u = *found;
  MapReply m(w.protocol());
  m.Bulk("culture", u.culture).Bulk("langs", JoinCommas(u.langs));
  if (u.openness >= 0) {
    m.Float("openness", u.openness);
  } else {
    m.Double("openness", ctx.config->engine.ranking.default_openness);
  }
  m.Int("has_vector", u.vector.empty() ? 0 : 1)
      .Int("positives", u.positives)
      .Int("negatives", u.negatives);
  if (with_vector) {
    // What FEED uses, then the vector given with USER.SET; empty blobs for none.
    m.Bulk("vector", ToFp32(u.vector)).Bulk("prior", ToFp32(u.prior));
  }
  w.Map(m);
}

bool ParseUserDel(CommandContext&, CommandArgs args, RespWriter&, WriteOp* op) {
  *op = DeleteUserOp{std::string(args[1])};
  return true;
}

void CmdUserDel(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  auto r = ctx.engine->DeleteUser(args[1]);
  if (!r.ok()) return w.Error(r.status());
  w.Int(*r ? 1 : 0);
}

// POST.ADD post AUTHOR a CULTURE c [VECTOR (FP32 b | VALUES n v...)] [LANG l]
//          [TS t] [TAGS t1,t2] [TITLE text] [TEXT text]
// Without VECTOR the engine encodes TITLE and TEXT (or refuses).
bool ParsePostAdd(CommandContext& ctx, CommandArgs args, RespWriter& w, WriteOp* op) {
  PostInput p;
  p.id = std::string(args[1]);
  bool has_author = false, has_culture = false;
  for (size_t i = 2; i < args.size();) {
    const std::string_view word = args[i];
    const bool has_value = i + 1 < args.size();
    if (EqualsIgnoreCase(word, "AUTHOR") && has_value) {
      p.author = std::string(args[i + 1]);
      has_author = true;
      i += 2;
    } else if (EqualsIgnoreCase(word, "CULTURE") && has_value) {
      auto c = ParseCulture(args[i + 1]);
      if (!c.ok()) return Refuse(w, c.status());
      p.culture = std::move(c).value();
      has_culture = true;
      i += 2;
    } else if (EqualsIgnoreCase(word, "VECTOR")) {
      ++i;
      auto v = ParseVectorArg(args, &i, ctx.engine->dim());
      if (!v.ok()) return Refuse(w, v.status());
      p.vector = std::move(v).value();
    } else if (EqualsIgnoreCase(word, "LANG") && has_value) {
      p.lang = std::string(args[i + 1]);
      i += 2;
    } else if (EqualsIgnoreCase(word, "TS") && has_value) {
      int64_t ts;
      if (Failed(ParseTs(args[i + 1], &ts), w)) return false;
      p.ts = ts;
      i += 2;
    } else if (EqualsIgnoreCase(word, "TAGS") && has_value) {
      p.tags = SplitCommas(args[i + 1]);
      i += 2;
    } else if (EqualsIgnoreCase(word, "TITLE") && has_value) {
      p.title = std::string(args[i + 1]);
      i += 2;
    } else if (EqualsIgnoreCase(word, "TEXT") && has_value) {
      p.text = std::string(args[i + 1]);
      i += 2;
    } else {
      return Refuse(w, kSyntaxError);
    }
  }
  if (!has_author || !has_culture) return Refuse(w, "ERR POST.ADD needs AUTHOR and CULTURE");
  *op = std::move(p);
  return true;
}

void CmdPostAdd(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  WriteOp op;
  if (!ParsePostAdd(ctx, args, w, &op)) return;
  OkOrError(ctx.engine->AddPost(std::move(std::get<PostInput>(op))), w);
}

// Pairs: author, culture, lang, ts, tags (comma-joined), title, impressions,
// positives, negatives, bridging, by_culture, has_vector[, vector, prior]. by_culture is a list
// of [culture, impressions, positives, negatives], cultures ascending.
void CmdPostGet(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  bool with_vector = false;
  if (!ParseWithVector(args, &with_vector)) return w.Error(kSyntaxError);
  const auto r = ctx.engine->GetPost(args[1]);
  const PostInfo* found = FoundOrReply(r, w);
  if (found == nullptr) return;
  const PostInfo& p = *found;
  ListReply by_culture(w.protocol());
  for (const CultureCounts& c : p.by_culture) {
    by_culture.List(ListReply(w.protocol())
                        .Bulk(c.culture)
                        .Int(c.impressions)
                        .Int(c.positives)
                        .Int(c.negatives));
  }
  MapReply m(w.protocol());
  m.Bulk("author", p.record.author)
      .Bulk("culture", p.record.culture)
      .Bulk("lang", p.record.lang)
      .Int("ts", p.record.ts)
      .Bulk("tags", JoinCommas(p.record.tags))
      .Bulk("title", p.record.title)
      .Int("impressions", p.impressions)
      .Int("positives", p.positives)
      .Int("negatives", p.negatives)
      .Double("bridging", p.bridging)
      .List("by_culture", by_culture)
      .Int("has_vector", p.record.vector.empty() ? 0 : 1);
  if (with_vector) {
    // The vector ranking uses (its learned factor after a TRAIN) and the
    // given one; an empty blob for none.
    m.Bulk("vector", ToFp32(p.record.vector)).Bulk("prior", ToFp32(p.record.prior));
  }
  w.Map(m);
}

bool ParsePostDel(CommandContext&, CommandArgs args, RespWriter&, WriteOp* op) {
  *op = DeletePostOp{std::string(args[1])};
  return true;
}

void CmdPostDel(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  auto r = ctx.engine->DeletePost(args[1]);
  if (!r.ok()) return w.Error(r.status());
  w.Int(*r ? 1 : 0);
}

}  // namespace bf::internal
