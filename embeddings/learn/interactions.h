// The learning model's input: interactions (user, item, event kind, time), the
// confidence each kind carries, and their aggregation into the sparse
// confidence/preference matrix of weighted ALS (Hu, Koren & Volinsky 2008).
//
// A cell (u, i) that has events gets confidence c = 1 + w+ + w- and
// preference p = w+ / (w+ + w-), where w+ sums the weights of its positive
// events (VIEW LIKE SAVE SHARE COMMENT) and w- those of its negative ones
// (HIDE REPORT), each times its time decay. A cell with only positives is
// HKV's c = 1 + alpha*r, p = 1; a hidden post is a confident 0. Every other
// cell of a trained user and item has c = 1, p = 0 (through the Gramian).
//
// Thread safety: pure functions.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "embeddings/status.h"

namespace bf::learn {

// The store's event types in the store's order (engine/store/limits.h
// EventType), so the engine converts with a cast.
enum class EventKind : uint8_t { kView, kLike, kSave, kShare, kComment, kHide, kReport };
inline constexpr int kEventKinds = 7;

// The words (VIEW, LIKE, ...) are the store's: ParseEventType and EventTypeWord in
// engine/store/limits.h.
// HIDE and REPORT: evidence that the user does not want the item.
inline bool IsNegativeKind(EventKind k) { return k == EventKind::kHide || k == EventKind::kReport; }

struct Interaction {
  int32_t user = 0;  // 0 <= user < the matrix's users
  int32_t item = 0;  // 0 <= item < the matrix's items
  EventKind kind = EventKind::kView;
  int64_t ts = 0;    // Unix seconds
};

struct ConfidenceOptions {
  // Confidence one event adds, by kind (VIEW LIKE SAVE SHARE COMMENT HIDE
  // REPORT). Each must be finite and >= 0; 0 ignores the kind.
  std::array<float, kEventKinds> weight = {1.0f, 8.0f, 10.0f, 10.0f, 6.0f, 20.0f, 40.0f};
  // Half-life of an event's weight in seconds, measured back from `now`.
  // 0 (default): no decay.
  double half_life_s = 0;
  // Reference time for the decay. 0: the newest event's ts.
  int64_t now = 0;
};

// Invalid naming the field when a weight is negative or not finite, or the
// half-life is negative or not finite.
Status CheckConfidenceOptions(const ConfidenceOptions& options);

// One observed cell of a row: the column (item for a user row, user for an
// item row), its confidence (>= 1) and preference (in [0, 1]).
struct Cell {
  int32_t col = 0;
  float confidence = 1;
  float preference = 0;
};

// The observed cells, compressed by user and by item. Cells of a row are
// sorted by column.
struct FeedbackMatrix {
  int32_t users = 0;
  int32_t items = 0;
  std::vector<int64_t> user_start;  // users + 1 offsets into user_cells
  std::vector<Cell> user_cells;     // col = item
  std::vector<int64_t> item_start;  // items + 1 offsets into item_cells
  std::vector<Cell> item_cells;     // col = user

  std::span<const Cell> UserRow(int32_t u) const {
    return {user_cells.data() + user_start[u], user_cells.data() + user_start[u + 1]};
  }
  std::span<const Cell> ItemRow(int32_t i) const {
    return {item_cells.data() + item_start[i], item_cells.data() + item_start[i + 1]};
  }
  int64_t cells() const { return static_cast<int64_t>(user_cells.size()); }
};

// Aggregates interactions into cells. Errors: Invalid when users or items
// is negative, an interaction's user or item is out of range ("interaction
// 12: item 70 out of range [0, 50)"), or the options fail
// CheckConfidenceOptions. Events after `now` count as at `now`.
Result<FeedbackMatrix> BuildFeedbackMatrix(int32_t users, int32_t items,
                                           std::span<const Interaction> interactions,
                                           const ConfidenceOptions& options);

// The decay factor of an event at ts for the options (1 without decay).
// `now` is the resolved reference time.
double DecayWeight(const ConfidenceOptions& options, int64_t now, int64_t ts);

// Confidence is capped so that a row's normal equations stay in float range.
inline constexpr double kMaxConfidence = 1e6;

// Confidence and preference from summed positive and negative weights.
inline Cell MakeCell(int32_t col, double positive, double negative) {
  Cell c;
  c.col = col;
  const double total = positive + negative;
  c.confidence = static_cast<float>(1.0 + std::min(total, kMaxConfidence));
  c.preference = total > 0 ? static_cast<float>(positive / total) : 0.0f;
  return c;
}

}  // namespace bf::learn
