// Where each culture lives in an IVF index: per inverted list and culture,
// the positions of its vectors in the list, how many are live, and the sum of
// their vectors. A culture-filtered search ranks lists by how close the query
// is to the allowed cultures' part of each list (not by the list's centroid,
// which the rest of the list pulls toward the rejected cultures), then reads
// only those positions: a small culture costs its own vectors, not a walk
// over every list it appears in.
#pragma once

#include <cstdint>
#include <vector>

namespace bf::internal {

class CultureLists {
 public:
  // Codes at or past this are not tracked; Order() then declines.
  static constexpr uint16_t kMaxCultures = 64;
  // PositionCultures() for a code at or past kMaxCultures.
  static constexpr uint8_t kUntracked = 255;

  // Empty, for an index of nlist lists and dimension dim.
  void Reset(int64_t nlist, int dim);
  // Vector v of the given culture went into list `list` at position
  // `offset`, as slot `slot`.
  void Add(int64_t slot, int64_t list, int64_t offset, uint16_t culture, const float* v);
  // The slot's vector is no longer live. Only the count changes: the sum
  // keeps its direction until the next rebuild.
  void Remove(int64_t slot, uint16_t culture);
  // Lists holding a live vector of an allowed culture, best first by the
  // highest q . mean over those cultures. False (out untouched) when some
  // culture code is not tracked.
  bool Order(const float* q, const std::vector<uint8_t>& allowed, std::vector<int64_t>* out) const;
  // The same from Scores(q), so several filters share one scoring pass.
  bool Order(const std::vector<float>& scores, const std::vector<uint8_t>& allowed,
             std::vector<int64_t>* out) const;
  // q . mean direction of each (culture, list) part, [culture][list]; -inf
  // where the part has no live vector or its culture is not in `only`
  // (null: every culture).
  std::vector<float> Scores(const float* q, const std::vector<uint8_t>* only = nullptr) const;
  // Positions in list `list` of the culture's vectors, removed ones included.
  const std::vector<uint32_t>& Offsets(uint16_t culture, int64_t list) const {
    return offsets_[culture * nlist_ + list];
  }
  // The culture code of each position of list `list` (kUntracked past
  // kMaxCultures), so a scan routes vectors by culture reading memory in
  // list order instead of a random read per slot.
  const std::vector<uint8_t>& PositionCultures(int64_t list) const { return codes_[list]; }
  // Live vectors of the culture in the list (0 for an untracked code).
  int32_t Live(uint16_t culture, int64_t list) const {
    return culture < cultures_ ? counts_[culture * nlist_ + list] : 0;
  }
  int64_t cultures() const { return cultures_; }
  bool untracked() const { return untracked_; }
  uint64_t HeapBytes() const;  // INFO memory; O(cultures x lists)

 private:
  float* Sum(uint16_t c, int64_t list) { return &sums_[(c * nlist_ + list) * dim_]; }

  int64_t nlist_ = 0;
  int64_t dim_ = 0;
  int64_t cultures_ = 0;         // columns allocated
  std::vector<float> sums_;      // [culture][list][dim]
  std::vector<float> norms_;     // [culture][list]: |sum|
  std::vector<int32_t> counts_;  // [culture][list]: live vectors
  std::vector<std::vector<uint32_t>> offsets_;  // [culture][list]: positions
  std::vector<std::vector<uint8_t>> codes_;     // [list][position]: culture
  std::vector<int32_t> slot_list_;  // list of each slot, -1: none
  bool untracked_ = false;       // a code >= kMaxCultures was added
};

}  // namespace bf::internal
