// Vectors for the parts of longer headwords (BuildOptions::parts_*): what an
// unseen Chinese compound most likely means, read from the dictionary's longer
// words that contain it rather than from its characters alone (电脑 is not
// "electric" + "brain").
#include <algorithm>
#include <cmath>

#include "embeddings/text/lexicon_builder.h"
#include "embeddings/text/script.h"

namespace bf::text {
namespace {

// Byte offsets of the characters of a UTF-8 string, and its size at the end.
std::vector<size_t> CharStarts(std::string_view s) {
  std::vector<size_t> out;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  }
  out.push_back(s.size());
  return out;
}

void Normalize(std::vector<double>& v) {
  double norm = 0;
  for (double x : v) norm += x * x;
  if (!(norm > 0)) return;
  norm = std::sqrt(norm);
  for (double& x : v) x /= norm;
}

}  // namespace

size_t LexiconBuilder::AddParts(LexiconLanguage& l,
                                std::unordered_map<std::string, uint32_t>& word_index,
                                std::vector<double>& prob, size_t containers) const {
  const size_t min_containing = options_.parts_min_containing;
  const size_t max_chars = options_.parts_max_chars;
  if (min_containing == 0 || max_chars < 2) return 0;
  const size_t d = static_cast<size_t>(dim_);
  const size_t headwords = l.words.size();
  containers = std::min(containers, headwords);
  // Visits each distinct part of each headword with a vector: fn(part, headword index, coverage).
  auto for_parts = [&](auto&& fn) {
    std::vector<std::string_view> seen;
    for (size_t w = 0; w < containers; ++w) {
      if (!(l.weight[w] > 0.0f)) continue;
      const std::string& head = l.words[w];
      const std::vector<size_t> at = CharStarts(head);
      const size_t n = at.size() - 1;
      if (n < 3) continue;
      seen.clear();
      for (size_t len = 2; len <= std::min(max_chars, n - 1); ++len) {
        for (size_t b = 0; b + len <= n; ++b) {
          const std::string_view part = std::string_view(head).substr(at[b], at[b + len] - at[b]);
          if (std::find(seen.begin(), seen.end(), part) != seen.end()) continue;
          seen.push_back(part);
          fn(part, w, static_cast<double>(len) / static_cast<double>(n));
        }
      }
    }
  };
  // First pass: how many headwords contain each part that is no word yet.
  std::unordered_map<std::string, uint32_t> count;
  for_parts([&](std::string_view part, size_t, double) {
    std::string key(part);
    if (word_index.count(key) == 0) ++count[key];
  });
  std::unordered_map<std::string, uint32_t> slot;
  std::vector<std::string> parts;
  for (const auto& [part, n] : count) {
    if (n >= min_containing) {
      slot.emplace(part, static_cast<uint32_t>(parts.size()));
      parts.push_back(part);
    }
  }
  count.clear();
  std::sort(parts.begin(), parts.end());  // a build does not depend on hash order
  for (size_t i = 0; i < parts.size(); ++i) slot[parts[i]] = static_cast<uint32_t>(i);
  // Second pass: the coverage-weighted sums of the containing headwords.
  std::vector<float> context(parts.size() * d, 0.0f);
  std::vector<double> weight(parts.size(), 0.0), coverage(parts.size(), 0.0);
  for_parts([&](std::string_view part, size_t w, double cov) {
    auto it = slot.find(std::string(part));
    if (it == slot.end()) return;
    const float* v = &l.vectors[size_t{l.vector_of[w]} * d];
    float* acc = &context[size_t{it->second} * d];
    for (size_t k = 0; k < d; ++k) acc[k] += static_cast<float>(cov * v[k]);
    weight[it->second] += cov * l.weight[w];
    coverage[it->second] += cov;
  });
  // Each part: its context mixed with its own parts' composition (as Encode
  // would read it: longest match over the headwords).
  const double share = std::clamp(options_.parts_context_share, 0.0, 1.0);
  std::vector<double> ctx(d), comp(d);
  auto known = [&](std::string_view w) {
    auto it = word_index.find(std::string(w));
    return it != word_index.end() && it->second < headwords;
  };
  size_t added = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    for (size_t k = 0; k < d; ++k) ctx[k] = context[i * d + k];
    Normalize(ctx);
    std::fill(comp.begin(), comp.end(), 0.0);
    LongestMatch(parts[i], 8, known, [&](std::string_view w) {
      const uint32_t idx = word_index.at(std::string(w));
      const float* v = &l.vectors[size_t{l.vector_of[idx]} * d];
      for (size_t k = 0; k < d; ++k) comp[k] += double{l.weight[idx]} * v[k];
    });
    Normalize(comp);
    std::vector<double> mix(d);
    for (size_t k = 0; k < d; ++k) mix[k] = share * ctx[k] + (1.0 - share) * comp[k];
    double norm = 0;
    for (double x : mix) norm += x * x;
    if (!(norm > 0) || !(coverage[i] > 0)) continue;
    norm = std::sqrt(norm);
    const auto row = static_cast<uint32_t>(l.vectors.size() / d);
    for (double x : mix) l.vectors.push_back(static_cast<float>(x / norm));
    word_index.emplace(parts[i], static_cast<uint32_t>(l.words.size()));
    l.words.push_back(parts[i]);
    l.weight.push_back(static_cast<float>(std::clamp(weight[i] / coverage[i], 1e-4, 1.0)));
    l.vector_of.push_back(row);
    prob.push_back(0.0);  // the headwords stand for their parts in the common component
    ++added;
  }
  return added;
}

}  // namespace bf::text
