// RecallAtK: the share of exact top-k ids that an approximate search found.
#include <algorithm>
#include <unordered_set>

#include "index/ann_index.h"

namespace bf {

double RecallAtK(const std::vector<std::vector<Hit>>& approx,
                 const std::vector<std::vector<Hit>>& exact, int k) {
  if (k <= 0) return 1.0;
  const size_t nq = std::min(approx.size(), exact.size());
  double sum = 0;
  size_t counted = 0;
  std::unordered_set<uint64_t> truth;
  for (size_t q = 0; q < nq; ++q) {
    const size_t want = std::min<size_t>(static_cast<size_t>(k), exact[q].size());
    // A query with no exact results has nothing to miss: it is left out.
    if (want == 0) continue;
    truth.clear();
    for (size_t i = 0; i < want; ++i) truth.insert(exact[q][i].id);
    const size_t got = std::min<size_t>(static_cast<size_t>(k), approx[q].size());
    size_t found = 0;
    for (size_t i = 0; i < got; ++i) found += truth.count(approx[q][i].id);
    sum += static_cast<double>(found) / static_cast<double>(want);
    ++counted;
  }
  return counted == 0 ? 1.0 : sum / static_cast<double>(counted);
}

}  // namespace bf
