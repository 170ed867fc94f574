#include "tools/eval/metrics.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

namespace bf::eval {
namespace {

bool Held(const std::vector<int32_t>& held_out, int32_t item) {
  return std::binary_search(held_out.begin(), held_out.end(), item);
}

double MeanPairwiseCosine(const std::vector<int32_t>& list, const learn::Factors& f) {
  double sum = 0;
  int64_t pairs = 0;
  for (size_t a = 0; a < list.size(); ++a) {
    for (size_t b = a + 1; b < list.size(); ++b) {
      double dot = 0, na = 0, nb = 0;
      std::span<const float> x = f.Row(list[a]), y = f.Row(list[b]);
      for (int k = 0; k < f.dim; ++k) {
        dot += double(x[k]) * y[k];
        na += double(x[k]) * x[k];
        nb += double(y[k]) * y[k];
      }
      if (na == 0 || nb == 0) continue;
      sum += dot / std::sqrt(na * nb);
      ++pairs;
    }
  }
  return pairs > 0 ? sum / static_cast<double>(pairs) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

double RecallAtK(const std::vector<int32_t>& list, const std::vector<int32_t>& held_out, int k) {
  if (held_out.empty()) return 0;
  int hits = 0;
  for (size_t j = 0; j < list.size() && j < static_cast<size_t>(k); ++j) hits += Held(held_out, list[j]);
  return hits / static_cast<double>(std::min<size_t>(static_cast<size_t>(k), held_out.size()));
}

double NdcgAtK(const std::vector<int32_t>& list, const std::vector<int32_t>& held_out, int k) {
  if (held_out.empty()) return 0;
  double dcg = 0, ideal = 0;
  for (size_t j = 0; j < list.size() && j < static_cast<size_t>(k); ++j) {
    if (Held(held_out, list[j])) dcg += 1.0 / std::log2(static_cast<double>(j) + 2);
  }
  for (size_t j = 0; j < std::min<size_t>(static_cast<size_t>(k), held_out.size()); ++j) {
    ideal += 1.0 / std::log2(static_cast<double>(j) + 2);
  }
  return dcg / ideal;
}

Metrics Evaluate(const Recommender& r, const EvalSetup& s) {
  const auto start = std::chrono::steady_clock::now();
  const Split& split = *s.split;
  std::vector<int32_t> users;
  for (int32_t u = 0; u < static_cast<int32_t>(split.held_out.size()); ++u) {
    if (!split.held_out[u].empty()) users.push_back(u);
  }
  std::vector<std::vector<int32_t>> lists(users.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t n; (n = next.fetch_add(1)) < users.size();) {
      lists[n] = r.Recommend(users[n], s.k, split.seen[users[n]]);
    }
  };
  const unsigned threads = s.threads > 0 ? static_cast<unsigned>(s.threads)
                                         : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();

  Metrics m;
  m.name = r.Name();
  m.k = s.k;
  m.users = static_cast<int64_t>(users.size());
  std::vector<uint8_t> shown(static_cast<size_t>(s.items), 0);
  double ils_sum = 0;
  int64_t ils_n = 0, cross = 0, known = 0;
  const bool cultures = s.user_culture && s.item_culture && !s.user_culture->empty() &&
                        !s.item_culture->empty();
  for (size_t n = 0; n < users.size(); ++n) {
    const auto& held = split.held_out[users[n]];
    m.recall += RecallAtK(lists[n], held, s.k);
    m.ndcg += NdcgAtK(lists[n], held, s.k);
    for (int32_t i : lists[n]) shown[i] = 1;
    if (s.similarity != nullptr) {
      const double ils = MeanPairwiseCosine(lists[n], *s.similarity);
      if (!std::isnan(ils)) {
        ils_sum += ils;
        ++ils_n;
      }
    }
    if (cultures && !(*s.user_culture)[users[n]].empty()) {
      for (int32_t i : lists[n]) {
        const std::string& c = (*s.item_culture)[i];
        if (c.empty()) continue;
        ++known;
        cross += c != (*s.user_culture)[users[n]];
      }
    }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (m.users > 0) {
    m.recall /= static_cast<double>(m.users);
    m.ndcg /= static_cast<double>(m.users);
  }
  int64_t distinct = 0;
  for (uint8_t b : shown) distinct += b;
  m.coverage = s.items > 0 ? static_cast<double>(distinct) / s.items : 0;
  m.ils = ils_n > 0 ? ils_sum / static_cast<double>(ils_n) : nan;
  m.cross = known > 0 ? static_cast<double>(cross) / static_cast<double>(known) : nan;
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return m;
}

}  // namespace bf::eval
