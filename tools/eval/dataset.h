// Interaction data sets for bridgefeed-eval: the JSON Lines files
// bridgefeed-gen writes and bridgefeed-import reads (tools/README.md), or
// MovieLens ratings as CSV. Users and items get dense indexes in order of
// first appearance.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embeddings/learn/als.h"
#include "embeddings/learn/interactions.h"
#include "embeddings/status.h"

namespace bf::eval {

struct Dataset {
  std::string name;
  std::vector<std::string> user_ids;
  std::vector<std::string> item_ids;
  std::vector<learn::Interaction> events;
  // Given vectors (L2-normalised) and cultures, when the files have them.
  int dim = 0;                         // of the given vectors; 0: none given
  learn::Priors user_vectors;          // empty when none
  learn::Priors item_vectors;          // empty when none
  std::vector<std::string> user_culture;  // users(); "" unknown; empty when none known
  std::vector<std::string> item_culture;  // items(); likewise

  int32_t users() const { return static_cast<int32_t>(user_ids.size()); }
  int32_t items() const { return static_cast<int32_t>(item_ids.size()); }
};

// events: lines {"user","post","type","ts"}; posts (optional, "" for none):
// {"id","culture","vector"}; users (optional): {"id","culture","vector"}.
// Other fields are ignored. Errors: NotFound for a missing file; Invalid
// "FILE:LINE: reason" for a line that is not valid JSON, lacks a required
// field, has an unknown event type or a vector of another length than the
// first one seen.
Result<Dataset> LoadJsonLines(const std::string& events, const std::string& posts,
                              const std::string& users);

// MovieLens ratings CSV with a header naming at least userId, movieId,
// rating and timestamp (the columns of ratings.csv and of dslabs' export).
// A rating >= 4 is a LIKE, a lower one a VIEW. Errors as LoadJsonLines.
Result<Dataset> LoadMovieLensCsv(const std::string& path);

}  // namespace bf::eval
