// Measurements of a text model: coverage per language and cross-lingual
// retrieval (dictionary word pairs, the demo catalogue's bilingual titles).
#pragma once

#include <string>
#include <vector>

#include "embeddings/text/text_model.h"

namespace bf::textmodel {

// A foreign word and the English words that translate it (its first sense).
struct WordPair {
  std::string word;
  std::vector<std::string> gold;
};

struct Retrieval {
  size_t queries = 0;
  size_t encoded = 0;  // queries with at least one known word
  size_t top1 = 0;
  size_t top5 = 0;
};

// Ranks the model's English words (the first `candidates` of `english`, each
// encoded as a text) by cosine to each encoded query word.
class WordRetrieval {
 public:
  WordRetrieval(const text::TextModel& model, const std::vector<std::string>& english);
  // hits, when given, gets per pair 1 for a top-1 hit, 5 for a top-5 hit, 0 else.
  Retrieval Run(const std::vector<WordPair>& pairs, const std::string& lang,
                std::vector<int>* hits = nullptr) const;
  bool IsCandidate(const std::string& w) const;

 private:
  const text::TextModel& model_;
  std::vector<std::string> words_;
  std::vector<float> vectors_;  // words_.size() * dim
};

// Share of word tokens (CJK: segments, an unknown character counting as one)
// the model knows, in `texts` read as `lang`.
double Coverage(const text::TextModel& model, const std::vector<std::string>& texts,
                const std::string& lang);

// The catalogue report: per title language, title -> its English gloss
// retrieval among all glosses (top-1, top-5), and topic precision of the 3
// nearest titles in other languages; plus example neighbours of cat titles.
std::string TitleReport(const text::TextModel& model);

std::string Percent(size_t num, size_t den);

}  // namespace bf::textmodel
