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
// The ANN sources are one call to CandidateSearch, which the engine adapts to
// its index (ranking never sees index/): the index fills the interest list
// and both pools in one walk, taking a pool from the lists the interest walk
// reads when they hold enough of it (3x its slots), and walking further
// lists only for a pool short of that (a user whose neighbourhood is all one
// culture). One search per FEED.
//
// Thread safety: the functions here share no state. SearchCandidates needs
// no lock; AddListCandidates needs the table's held.
#pragma once

#include <cstdint>
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

// One FEED's ANN search: the interest list and, for a viewer with a
// culture, the home and cross pools.
struct AnnQuery {
  std::span<const float> vector;  // unit length, the index's dimension
  const std::unordered_set<uint64_t>* exclude = nullptr;  // never return these; may be null
  int interest_k = 0;                  // top k over every culture, >= 1
  uint16_t culture = kNoCulture;       // home culture; kNoCulture: no pools
  int home_k = 0, cross_k = 0;         // top k of the culture / of every other; 0: none
  // A pool may come from what the interest search reads when that holds at
  // least this many of its posts; else it gets its own filtered walk. 0:
  // always the filtered walk.
  int home_min = 0, cross_min = 0;
};

struct AnnHits {
  std::vector<Match> interest, home, cross;  // best first
  int passes = 0;                            // walks over the index the search made
};

// The nearest-neighbour search the policy runs on.
class CandidateSearch {
 public:
  virtual ~CandidateSearch() = default;
  // Fills *hits (empty on entry) with the lists query asks for, best first,
  // none in query.exclude; a pool with a culture no post has is empty. Hits
  // may name posts deleted meanwhile: callers check the table. On error
  // *hits is unspecified. Called without the table lock; must be safe to
  // call from several threads at once.
  virtual Status Search(const AnnQuery& query, AnnHits* hits) = 0;
};

struct Candidates {
  std::vector<Match> interest, home, cross;  // ANN hits, best first
  std::vector<uint64_t> bridging, fresh;     // eligible, not among the ANN hits
  int searches = 0;                          // ANN searches made (0 or 1)
  int passes = 0;                            // walks over the index they made
};

// The ANN sources of the policy for `query` (nothing for a cold start): one
// search, made without the table lock, so writers are not held up by it.
// Errors: whatever search returns; no candidates then.
Result<Candidates> SearchCandidates(const FeedQuery& query, const RankingOptions& options,
                                    CandidateSearch& search);

// Adds the bridging and fresh lists to *candidates. REQUIRES: the table
// read-locked (the same hold the ranker then runs under).
void AddListCandidates(const FeedQuery& query, const PostTable& table, Candidates* candidates);

}  // namespace bf
