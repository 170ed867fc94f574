// Candidates: which posts a FEED considers, and which source found each. The
// policy (docs/ranking.md "Candidates"):
//   interest  the top K posts by similarity to the user's vector over every
//             culture, K = max(100, candidates_per_slot * count);
//   home      for a viewer with a culture, when the interest hits hold fewer
//             than 3x the page's home slots: the top K of the viewer's culture;
//   cross     likewise for the cross slots: the top K of every other culture;
//   bridging  the highest bridging scores, fresh the newest posts: up to
//             max(50, 5 * count) eligible posts each, from the post table.
// A user without a vector gets no ANN source (cold start: bridging and fresh).
//
// The ANN sources go through CandidateSearch, which the engine adapts to its
// index, so ranking never sees index/. Today the policy makes up to three
// searches; a search that fills the interest and both pool lists in one walk
// of the index (issue 18) replaces those calls inside SearchCandidates and
// fills the same Candidates: the ranker reads them either way.
//
// Thread safety: the functions here share no state. SearchCandidates takes
// the table's lock itself (see there); AddListCandidates needs it held.
#pragma once

#include <cstdint>
#include <shared_mutex>
#include <span>
#include <unordered_set>
#include <vector>

#include "engine/ranking/post_table.h"
#include "engine/ranking/ranking_options.h"

namespace bf {

// Who asks for a page, and for how much.
struct FeedQuery {
  std::span<const float> user_vector;  // unit length; empty: cold start (no relevance)
  uint16_t user_culture = kNoCulture;  // kNoCulture: no home/cross split
  uint32_t own_author = kNoAuthor;     // author code of the user's own posts
  const std::unordered_set<uint64_t>* exclude = nullptr;  // seen, hidden; may be null
  int count = 20;                      // page size, >= 1
  double openness = 0.3;               // share of cross-cultural slots, 0..1
  int64_t now = 0;                     // unix seconds, for freshness
};

// Cross-cultural slots of a page: round(openness * count), openness clamped to 0..1.
int CrossSlots(double openness, int count);

// Whether a post may appear in the user's page: live, not excluded, not the
// user's own. REQUIRES: the table read-locked.
bool Eligible(const PostTable& table, const FeedQuery& query, uint64_t iid);

struct Match {
  uint64_t iid = 0;
  float score = 0;  // similarity to the query vector (inner product)
};

// Which cultures a search may return.
enum class CultureScope : uint8_t {
  kAll,     // every culture
  kOnly,    // only `culture`
  kExcept,  // every culture but `culture`
};

struct AnnQuery {
  std::span<const float> vector;  // unit length, the index's dimension
  int k = 0;                      // how many hits at most, >= 1
  const std::unordered_set<uint64_t>* exclude = nullptr;  // never return these; may be null
  CultureScope scope = CultureScope::kAll;
  uint16_t culture = kNoCulture;  // for kOnly and kExcept
};

// The nearest-neighbour search the policy runs on.
class CandidateSearch {
 public:
  virtual ~CandidateSearch() = default;
  // Appends to *hits (empty on entry) the top query.k posts by score, best
  // first, within query.scope, none in query.exclude. Hits may name posts
  // deleted meanwhile: callers check the table. On error *hits is
  // unspecified. Called without the table lock; must be safe to call from
  // several threads at once.
  virtual Status Search(const AnnQuery& query, std::vector<Match>* hits) = 0;
};

struct Candidates {
  std::vector<Match> interest, home, cross;  // ANN hits, best first
  std::vector<uint64_t> bridging, fresh;     // eligible, not among the ANN hits
  int searches = 0;                          // ANN searches made
};

// The ANN sources of the policy for `query` (nothing for a cold start).
// Takes table_mu shared only to read the interest hits' cultures, never
// across a search, so writers are not held up by a FEED's searches.
// Errors: whatever search returns; no candidates then.
Result<Candidates> SearchCandidates(const FeedQuery& query, const RankingOptions& options,
                                    CandidateSearch& search, const PostTable& table,
                                    std::shared_mutex& table_mu);

// Adds the bridging and fresh lists to *candidates. REQUIRES: the table
// read-locked (the same hold the ranker then runs under).
void AddListCandidates(const FeedQuery& query, const PostTable& table, Candidates* candidates);

}  // namespace bf
