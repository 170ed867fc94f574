#include "engine/store/internal/records.h"

#include "engine/store/internal/codec.h"

namespace bf::internal {
namespace {

Status Damaged(const char* what) {
  return Status::Corruption(std::string("damaged ") + what + " record");
}

// Checks the leading version byte.
bool Version(Reader& r) {
  uint8_t v = 0;
  return r.U8(&v) && v == kRecordVersion;
}

// Post and user records: version 1 (a required vector, no prior) or 2.
bool VectorRecordVersion(Reader& r, uint8_t* v) {
  return r.U8(v) && (*v == kRecordVersion || *v == kVectorRecordVersion);
}

// The prior after the served vector: a tag, then the floats only when they
// differ from the vector (the common case before any TRAIN stores one copy).
enum PriorTag : uint8_t { kNoPrior = 0, kPriorIsVector = 1, kPriorStored = 2 };

void PutPrior(Writer& w, const Vector& prior, const Vector& vector) {
  if (prior.empty()) {
    w.U8(kNoPrior);
  } else if (prior == vector) {
    w.U8(kPriorIsVector);
  } else {
    w.U8(kPriorStored);
    w.Floats(prior);
  }
}

// Version 1 records have no prior field. A version 1 post's vector was given,
// so it is the prior; a user's may have been moved by events, so a user has none.
bool GetPrior(Reader& r, uint8_t version, const Vector& vector, Vector* prior) {
  if (version == kRecordVersion) {
    *prior = vector;
    return true;
  }
  uint8_t tag = 0;
  if (!r.U8(&tag)) return false;
  switch (tag) {
    case kNoPrior: prior->clear(); return true;
    case kPriorIsVector: *prior = vector; return true;
    case kPriorStored: return r.Floats(prior) && !prior->empty();
    default: return false;
  }
}

bool StrList(Reader& r, std::vector<std::string>* out) {
  uint64_t n = 0;
  // Each string takes at least one byte, which bounds n before allocating.
  if (!r.Varint(&n) || n > r.remaining()) return false;
  out->resize(n);
  for (auto& s : *out)
    if (!r.Str(&s)) return false;
  return true;
}

void PutStrList(Writer& w, const std::vector<std::string>& v) {
  w.Varint(v.size());
  for (const auto& s : v) w.Str(s);
}

}  // namespace

std::string EncodePost(const PostRecord& p) {
  std::string out;
  out.reserve(64 + p.id.size() + p.title.size() + p.vector.size() * 4);
  Writer w(&out);
  w.U8(kVectorRecordVersion);
  w.U64(p.iid);
  w.U64(p.seq);
  w.Str(p.id);
  w.Str(p.author);
  w.Str(p.culture);
  w.U16(p.culture_code);
  w.Str(p.lang);
  w.I64(p.ts);
  PutStrList(w, p.tags);
  w.Str(p.title);
  w.Floats(p.vector);
  PutPrior(w, p.prior, p.vector);
  return out;
}

Status DecodePost(std::string_view bytes, PostRecord* p) {
  Reader r(bytes);
  uint8_t version = 0;
  if (!VectorRecordVersion(r, &version) || !r.U64(&p->iid) || !r.U64(&p->seq) ||
      !r.Str(&p->id) || !r.Str(&p->author) || !r.Str(&p->culture) ||
      !r.U16(&p->culture_code) || !r.Str(&p->lang) || !r.I64(&p->ts) || !StrList(r, &p->tags) ||
      !r.Str(&p->title) || !r.Floats(&p->vector) || !GetPrior(r, version, p->vector, &p->prior) ||
      !r.done())
    return Damaged("post");
  return Status::OK();
}

std::string EncodeUser(const UserRecord& u) {
  std::string out;
  Writer w(&out);
  w.U8(kVectorRecordVersion);
  w.Str(u.id);
  w.Str(u.culture);
  PutStrList(w, u.langs);
  w.F32(u.openness);
  w.Floats(u.vector);
  w.I64(u.positives);
  w.I64(u.negatives);
  PutPrior(w, u.prior, u.vector);
  return out;
}

Status DecodeUser(std::string_view bytes, UserRecord* u) {
  Reader r(bytes);
  uint8_t version = 0;
  if (!VectorRecordVersion(r, &version) || !r.Str(&u->id) || !r.Str(&u->culture) ||
      !StrList(r, &u->langs) || !r.F32(&u->openness) || !r.Floats(&u->vector) ||
      !r.I64(&u->positives) || !r.I64(&u->negatives) ||
      !GetPrior(r, version, u->vector, &u->prior) || !r.done())
    return Damaged("user");
  if (version == kRecordVersion) u->prior.clear();
  return Status::OK();
}

std::string EncodeCounters(const Counters& c) {
  std::string out;
  Writer w(&out);
  w.U8(kRecordVersion);
  w.U64(c.next_iid);
  w.U64(c.seq);
  w.U64(c.next_event);
  w.U64(c.posts);
  w.U64(c.users);
  w.U64(c.events);
  w.U32(c.next_culture);
  return out;
}

Status DecodeCounters(std::string_view bytes, Counters* c) {
  Reader r(bytes);
  if (!Version(r) || !r.U64(&c->next_iid) || !r.U64(&c->seq) || !r.U64(&c->next_event) ||
      !r.U64(&c->posts) || !r.U64(&c->users) || !r.U64(&c->events) ||
      !r.U32(&c->next_culture) || !r.done())
    return Damaged("counters");
  return Status::OK();
}

std::string EncodeCounts(int64_t impressions, int64_t positives, int64_t negatives) {
  std::string out;
  Writer w(&out);
  w.I64(impressions);
  w.I64(positives);
  w.I64(negatives);
  return out;
}

Status DecodeCounts(std::string_view bytes, CultureCounts* c) {
  Reader r(bytes);
  if (!r.I64(&c->impressions) || !r.I64(&c->positives) || !r.I64(&c->negatives) || !r.done())
    return Damaged("stats");
  return Status::OK();
}

std::string EncodeSeen(SeenKind kind, int64_t ts) {
  std::string out;
  Writer w(&out);
  w.U8(static_cast<uint8_t>(kind));
  w.I64(ts);
  return out;
}

Status DecodeSeen(std::string_view bytes, SeenKind* kind, int64_t* ts) {
  Reader r(bytes);
  uint8_t k = 0;
  if (!r.U8(&k) || k < 1 || k > 3 || !r.I64(ts) || !r.done()) return Damaged("seen");
  *kind = static_cast<SeenKind>(k);
  return Status::OK();
}

std::string EncodeEvent(const EventEntry& e) {
  std::string out;
  Writer w(&out);
  w.U8(kRecordVersion);
  w.Str(e.post_id);
  w.U64(e.post_iid);
  w.U8(static_cast<uint8_t>(e.type));
  w.I64(e.ts);
  w.Str(e.culture);
  return out;
}

Status DecodeEvent(std::string_view bytes, EventEntry* e) {
  Reader r(bytes);
  uint8_t type = 0;
  if (!Version(r) || !r.Str(&e->post_id) || !r.U64(&e->post_iid) || !r.U8(&type) ||
      type > static_cast<uint8_t>(EventType::kReport) || !r.I64(&e->ts) ||
      !r.Str(&e->culture) || !r.done())
    return Damaged("event");
  e->type = static_cast<EventType>(type);
  return Status::OK();
}

std::string UserPrefix(std::string_view user) {
  std::string out;
  Writer w(&out);
  w.Str(user);
  return out;
}

std::string EngagedKey(std::string_view user, uint64_t iid, Engagement kind) {
  std::string k = UserPrefix(user);
  PutBigEndian64(&k, iid);
  k.push_back(static_cast<char>(kind));
  return k;
}

std::string EncodeTs(int64_t ts) { return BigEndian64(static_cast<uint64_t>(ts)); }

std::string SeenKey(std::string_view user, uint64_t iid) {
  std::string k = UserPrefix(user);
  PutBigEndian64(&k, iid);
  return k;
}

std::string EventKey(std::string_view user, uint64_t event_no) {
  std::string k = UserPrefix(user);
  PutBigEndian64(&k, event_no);
  return k;
}

std::string StatsKey(uint64_t iid, std::string_view culture) {
  std::string k = BigEndian64(iid);
  k.append(culture.data(), culture.size());
  return k;
}

}  // namespace bf::internal
