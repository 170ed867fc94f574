#include "engine/ranking/post_table.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "embeddings/heap_bytes.h"
#include "embeddings/vector.h"

namespace bf {

double BridgingScore(std::span<const CultureStat> stats, const BridgingParams& params) {
  int groups = 0;
  double lowest = std::numeric_limits<double>::infinity();
  for (const CultureStat& s : stats) {
    if (s.culture == kNoCulture || s.impressions < params.min_impressions) continue;
    // A like without a recorded view still counts as seen.
    const double seen = static_cast<double>(std::max(s.impressions, s.positives + s.negatives));
    const double rate = (static_cast<double>(s.positives) + params.a) / (seen + params.a + params.b);
    lowest = std::min(lowest, rate);
    ++groups;
  }
  return groups >= 2 ? lowest : 0.0;
}

PostTable::PostTable(int dim, BridgingParams params) : dim_(dim), params_(params) {}

void PostTable::Upsert(const PostRecord& record) {
  BF_CHECK(record.vector.empty() || record.vector.size() == static_cast<size_t>(dim_));
  const uint64_t iid = record.iid;
  if (iid >= posts_.size()) {
    // Grow geometrically so a bulk load does not reallocate per post; within
    // reserved room (BeginBulk), just to this iid.
    size_t n = iid + 1;
    if (n > posts_.capacity()) n = std::max<size_t>(n, posts_.size() + posts_.size() / 2);
    posts_.resize(n);
    // The vector column keeps the entries' capacity (1.5x steps), not a
    // doubling of its own: a table grown by POST.ADD could reserve up to
    // twice the floats its posts need.
    const size_t floats = posts_.capacity() * static_cast<size_t>(dim_);
    if (vectors_.capacity() < floats) vectors_.reserve(floats);
    vectors_.resize(n * static_cast<size_t>(dim_));
  }
  PostEntry& e = posts_[iid];
  if (e.live && bulk_) FlushPending();  // its entry may still be queued
  if (e.live) {
    fresh_.erase({e.ts, iid});
    CountLive(e.culture, -1);
    if (e.id != record.id) UnmapId(e.id);
  } else {
    ++live_;
  }
  heap_ -= heap::Of(e.id);
  e.id = record.id;
  heap_ += heap::Of(e.id);
  auto [it, inserted] = author_codes_.try_emplace(record.author, authors_.size());
  if (inserted) authors_.push_back(record.author);
  e.author = it->second;
  e.culture = record.culture_code;
  CountLive(e.culture, 1);
  e.ts = record.ts;
  e.seq = record.seq;
  e.live = true;
  SetVector(iid, record.vector);
  MapId(record.id, iid);
  if (bulk_) {
    pending_.emplace_back(e.ts, iid);
    return;
  }
  fresh_.insert({e.ts, iid});
}

void PostTable::CountLive(uint16_t culture, int64_t delta) {
  if (culture >= live_by_culture_.size()) live_by_culture_.resize(culture + size_t{1}, 0);
  live_by_culture_[culture] += delta;
}

bool PostTable::SetVector(uint64_t iid, std::span<const float> v) {
  if (!IsLive(iid)) return false;
  BF_CHECK(v.empty() || v.size() == static_cast<size_t>(dim_));
  PostEntry& e = posts_[iid];
  const auto at = vectors_.begin() + static_cast<std::ptrdiff_t>(iid * dim_);
  if (v.empty()) {
    std::fill(at, at + dim_, 0.0f);
  } else {
    std::copy(v.begin(), v.end(), at);
  }
  e.has_vector = !v.empty();
  e.norm = v.empty() ? 0.0f : static_cast<float>(std::sqrt(Dot(v, v)));
  return true;
}

double PostTable::Cosine(uint64_t a, uint64_t b) const {
  const double na = posts_[a].norm, nb = posts_[b].norm;
  if (na <= 0 || nb <= 0) return 0;
  return Dot(VectorOf(a), VectorOf(b)) / (na * nb);
}

void PostTable::BeginBulk(size_t expected) {
  bulk_ = true;
  by_id_.reserve(by_id_.size() + expected);
  // Internal ids run from 1 with few gaps on a database that was loaded in
  // bulk: room for them, so the columns are not copied as they grow.
  posts_.reserve(expected + 1);
  vectors_.reserve((expected + 1) * static_cast<size_t>(dim_));
  pending_.reserve(expected);
}

void PostTable::EndBulk() {
  FlushPending();
  bulk_ = false;
  pending_ = {};
}

void PostTable::FlushPending() {
  // In the sets' own order, so each insert lands at the end (amortised O(1)
  // when the sets start empty, as at a start).
  std::sort(pending_.begin(), pending_.end(), FreshSet::key_compare());
  for (const auto& entry : pending_) fresh_.insert(fresh_.end(), entry);
  pending_.clear();
}

bool PostTable::Remove(uint64_t iid) {
  if (!IsLive(iid)) return false;
  if (bulk_) FlushPending();
  PostEntry& e = posts_[iid];
  fresh_.erase({e.ts, iid});
  CountLive(e.culture, -1);
  if (e.bridging > 0) bridging_.erase({e.bridging, iid});
  UnmapId(e.id);
  e.live = false;
  e.has_vector = false;
  e.norm = 0;
  e.bridging = 0;
  e.stats.clear();
  --live_;
  return true;
}

CultureStat& PostTable::StatOf(PostEntry& e, uint16_t viewer_culture) {
  auto it = std::find_if(e.stats.begin(), e.stats.end(),
                         [&](const CultureStat& s) { return s.culture == viewer_culture; });
  if (it != e.stats.end()) return *it;
  heap_ -= heap::Of(e.stats);
  CultureStat& added = e.stats.emplace_back(CultureStat{viewer_culture, 0, 0, 0});
  heap_ += heap::Of(e.stats);
  return added;
}

void PostTable::MapId(const std::string& id, uint64_t iid) {
  auto [it, inserted] = by_id_.try_emplace(id, iid);
  if (inserted) {
    heap_ += heap::Of(it->first);
  } else {
    it->second = iid;
  }
}

void PostTable::UnmapId(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  heap_ -= heap::Of(it->first);
  by_id_.erase(it);
}

void PostTable::AddStats(uint64_t iid, uint16_t viewer_culture, int64_t impressions,
                         int64_t positives, int64_t negatives) {
  if (!IsLive(iid)) return;
  PostEntry& e = posts_[iid];
  CultureStat& s = StatOf(e, viewer_culture);
  s.impressions += impressions;
  s.positives += positives;
  s.negatives += negatives;
  SetBridging(iid, static_cast<float>(BridgingScore(e.stats, params_)));
}

void PostTable::SetStats(uint64_t iid, uint16_t viewer_culture, const CultureCounts& counts) {
  if (!IsLive(iid)) return;
  PostEntry& e = posts_[iid];
  CultureStat& s = StatOf(e, viewer_culture);
  s.impressions = counts.impressions;
  s.positives = counts.positives;
  s.negatives = counts.negatives;
  SetBridging(iid, static_cast<float>(BridgingScore(e.stats, params_)));
}

void PostTable::SetBridging(uint64_t iid, float score) {
  PostEntry& e = posts_[iid];
  if (e.bridging == score) return;
  if (e.bridging > 0) bridging_.erase({e.bridging, iid});
  e.bridging = score;
  if (score > 0) bridging_.insert({score, iid});
}

std::optional<uint64_t> PostTable::Find(std::string_view id) const {
  auto it = by_id_.find(std::string(id));
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

uint32_t PostTable::FindAuthor(std::string_view author) const {
  auto it = author_codes_.find(std::string(author));
  return it == author_codes_.end() ? kNoAuthor : it->second;
}

void PostTable::ForEachLive(
    const std::function<void(uint64_t, const PostEntry&, std::span<const float>)>& fn) const {
  for (uint64_t iid = 0; iid < posts_.size(); ++iid) {
    if (posts_[iid].live) fn(iid, posts_[iid], VectorOf(iid));
  }
}

PostTableMemory PostTable::Memory() const {
  PostTableMemory m;
  m.vectors = heap::Of(vectors_);
  uint64_t entries = heap::Of(posts_) + heap::Of(pending_);
  entries += heap_ + heap::HashNodes(by_id_, true) + heap::HashNodes(author_codes_, true);
  for (const auto& [name, code] : author_codes_) entries += heap::Of(name);
  entries += heap::Of(authors_);
  for (const std::string& a : authors_) entries += heap::Of(a);
  entries += heap::TreeNodes(fresh_) + heap::TreeNodes(bridging_) + heap::Of(live_by_culture_);
  m.entries = entries;
  return m;
}

}  // namespace bf
