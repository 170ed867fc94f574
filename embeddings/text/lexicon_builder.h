// Building a Lexicon from English word vectors and bilingual dictionaries.
// Used by bridgefeed-text-model (the real dictionaries) and by the tests (a
// few dictionary lines). Not thread-safe; one builder per build.
//
// English words keep their GloVe vectors (unit length). A foreign word's
// vector is the weighted mean of its English glosses' vectors: sense s (0 =
// first) weighs 1/(s+1), shared by the sense's alternatives; a gloss phrase is
// the SIF-weighted mean of its English words. Word weights are SIF weights
// a/(a + p(w)), p from the English frequency rank (Zipf); a foreign word takes
// the weighted mean of its glosses' weights. Each language's common component
// is the top eigenvector of the p-weighted second moment of its weighted word
// vectors; Encode removes it.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "embeddings/status.h"
#include "embeddings/text/lexicon.h"

namespace bf::text {

// A dictionary entry's meanings, first sense first; each sense lists its
// alternative English glosses ("fever", "temperature").
using Senses = std::vector<std::vector<std::string>>;

// One CC-CEDICT line: "貓 猫 [mao1] /cat (CL:隻|只[zhi1])/(dialect) to hide oneself/".
// Sets traditional and simplified; returns false for comments and malformed
// lines. Senses that only point elsewhere ("variant of", "used in", "see",
// "surname", "CL:") are dropped; ";" separates alternatives of a sense.
bool ParseCedictLine(std::string_view line, std::string& traditional, std::string& simplified,
                     Senses& senses);

// The body of one FreeDict (dictd) entry as in freedict-*.dict: the headword
// line first, then numbered ("1. cat") or plain sense lines; part-of-speech
// lines "(noun ...)", <tags>, parentheses and Synonym:/see:/Note: lines are
// dropped; "," and ";" separate alternatives.
Senses ParseFreeDictEntry(std::string_view entry);

// A gloss phrase reduced to its English words: parentheses and brackets
// removed, lowercased, split as LetterWords does ("to hide (oneself)" ->
// "to", "hide").
std::vector<std::string> GlossWords(std::string_view gloss);

struct BuildOptions {
  float sif_a = 1e-3f;       // SIF smoothing: weight = a / (a + p(w))
  bool common_component = true;
  // Common component from each language's own words (true) or English's for all.
  bool per_language_common = true;
  size_t common_top_words = 50000;  // most frequent words used for it, per language
};

struct BuildStats {
  size_t entries = 0;       // headwords given
  size_t with_vector = 0;   // headwords at least one gloss of which had a known word
  size_t forms = 0;         // inflected forms added
};

class LexiconBuilder {
 public:
  // words: English vocabulary, most frequent first; vectors: words.size() * dim
  // floats (any norm; stored unit length; zero rows are dropped).
  LexiconBuilder(int dim, std::vector<std::string> words, const std::vector<float>& vectors,
                 BuildOptions options = {});

  // Adds a headword's senses (merged after any senses it already has).
  void AddEntry(const std::string& lang, std::string_view headword, const Senses& senses);
  // An inflected form that takes its lemma's vector and weight (when the form
  // is not a headword itself and the lemma ends up with a vector).
  void AddForm(const std::string& lang, std::string_view form, std::string_view lemma);

  bool HasHeadword(const std::string& lang, std::string_view headword) const;

  // English vector and weight of a word (nullptr when unknown), for evaluation.
  const float* English(std::string_view word) const;

  Result<Lexicon> Build(std::vector<BuildStats>* stats = nullptr);

 private:
  struct Foreign {
    std::vector<std::string> order;  // headwords in insertion order
    std::unordered_map<std::string, Senses> senses;
    std::vector<std::pair<std::string, std::string>> forms;
  };
  // Gloss phrase -> (unit vector, weight); false when no word is known.
  bool GlossVector(std::string_view gloss, std::vector<double>& vec, double& weight) const;
  float Sif(size_t rank) const;
  void Common(LexiconLanguage& l, const std::vector<double>& prob) const;

  int dim_;
  BuildOptions options_;
  std::vector<std::string> en_words_;
  std::vector<float> en_vectors_;  // unit rows
  std::unordered_map<std::string, size_t> en_index_;
  std::vector<std::string> lang_order_;
  std::unordered_map<std::string, Foreign> foreign_;
};

}  // namespace bf::text
