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
#include <unordered_set>
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
// lines "(noun ...)", <tags>, parentheses and Synonym:/see: lines are dropped;
// "," and ";" separate alternatives. A "Note:" line is dropped too, except
// that jpn-eng (JMdict) runs a usage label into the gloss ("Note: word usually
// written using kana alonehouse, home"): the label is cut and the gloss kept.
// When function_word is given, it is set to whether a part-of-speech line
// marks the entry as a particle, conjunction, auxiliary or copula.
Senses ParseFreeDictEntry(std::string_view entry, bool* function_word = nullptr);

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
  // A function word (AddEntry's function_word: a particle, conjunction or
  // auxiliary) weighs at most what the English word of this frequency rank
  // weighs (1 = "the"), however its dictionary explains it.
  size_t function_rank = 10;
  // Languages segmented by longest match over their headwords: a headword none
  // of whose glosses has a known English word stays in the lexicon without a
  // vector (weight 0), so segmentation keeps it whole (こたつ, not こ + たつ).
  std::vector<std::string> segmented = {"zh", "ja"};
  // Parts of longer headwords, for unseen compounds in these languages: a
  // string of 2 to parts_max_chars characters (2: most unseen compounds that
  // lie inside longer headwords are two-character words, and each longer part
  // costs 400 bytes of lexicon and load time) that is no headword but lies
  // inside at least parts_min_containing headwords of more characters gets a
  // vector of its own. It is the mean of the containing headwords' vectors,
  // each weighted by the share of it the string covers (电脑 inside 电脑游戏
  // "computer game", 电脑病毒 "computer virus": the gloss they share), mixed
  // with the composition of its own parts (their share: 1 - parts_context_share).
  std::vector<std::string> parts_languages = {"zh"};
  size_t parts_min_containing = 1;
  size_t parts_max_chars = 2;
  double parts_context_share = 0.7;
};

struct BuildStats {
  size_t entries = 0;       // headwords given
  size_t with_vector = 0;   // headwords at least one gloss of which had a known word
  size_t empty = 0;         // headwords kept without a vector (BuildOptions::segmented)
  size_t forms = 0;         // inflected forms added
  size_t parts = 0;         // parts of longer headwords added (BuildOptions::parts_*)
  size_t secondary = 0;     // headwords from a second dictionary (AddSecondary)
};

class LexiconBuilder {
 public:
  // words: English vocabulary, most frequent first; vectors: words.size() * dim
  // floats (any norm; stored unit length; zero rows are dropped).
  LexiconBuilder(int dim, std::vector<std::string> words, const std::vector<float>& vectors,
                 BuildOptions options = {});

  // Adds a headword's senses (merged after any senses it already has).
  // function_word: the dictionary marks this entry as a particle, conjunction
  // or auxiliary (ParseFreeDictEntry); the headword then weighs as a function
  // word (BuildOptions::function_rank).
  void AddEntry(const std::string& lang, std::string_view headword, const Senses& senses,
                bool function_word = false);
  // An inflected form that takes its lemma's vector and weight (when the form
  // is not a headword itself and the lemma ends up with a vector).
  void AddForm(const std::string& lang, std::string_view form, std::string_view lemma);

  // A headword of a second dictionary for `lang` (JMdict's kanji words for
  // Chinese): it gets a vector only when the language's own dictionary
  // (AddEntry) has no such headword, and it is no container of parts.
  void AddSecondary(const std::string& lang, std::string_view headword, const Senses& senses);

  bool HasHeadword(const std::string& lang, std::string_view headword) const;

  // English vector and weight of a word (nullptr when unknown), for evaluation.
  const float* English(std::string_view word) const;

  Result<Lexicon> Build(std::vector<BuildStats>* stats = nullptr);

 private:
  struct Foreign {
    std::vector<std::string> order;  // headwords in insertion order
    std::unordered_map<std::string, Senses> senses;
    std::unordered_set<std::string> function_words;
    std::vector<std::pair<std::string, std::string>> forms;
    std::vector<std::string> secondary_order;
    std::unordered_map<std::string, Senses> secondary;
  };
  // Gloss phrase -> (unit vector, weight); false when no word is known.
  bool GlossVector(std::string_view gloss, std::vector<double>& vec, double& weight) const;
  // Senses -> unit vector and weight (before the function-word cap); false
  // when no gloss has a known word.
  bool SensesVector(const Senses& senses, std::vector<double>& acc, double& weight) const;
  float Sif(size_t rank) const;
  // lexicon_parts.cc: adds the parts of longer headwords (BuildOptions::parts_*)
  // to l, after its headwords; returns how many.
  // Only the first `containers` words of l contain parts.
  size_t AddParts(LexiconLanguage& l, std::unordered_map<std::string, uint32_t>& word_index,
                  std::vector<double>& prob, size_t containers) const;
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
