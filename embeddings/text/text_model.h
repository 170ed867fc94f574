// TextModel: a text's content vector without a neural model. Words of every
// language map into one 100-d space (English GloVe; other languages through
// bilingual dictionaries to English, see docs/embeddings.md), so a text about a
// cat lands near other cat texts whatever their language.
//
// A text vector is the SIF-weighted mean of its known words' vectors with the
// language's common component removed, unit length. Unknown words are skipped.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "embeddings/status.h"
#include "embeddings/text/lexicon.h"

namespace bf::text {

// Longest text Encode accepts: the server's bulk-string limit.
inline constexpr size_t kMaxTextBytes = 1 << 20;
// The message of the error for a text without one known word.
inline constexpr std::string_view kNoKnownWords = "no known words in text";

class TextModel {
 public:
  // Loads a lexicon file (./bridgefeed text-model builds one). Errors:
  // IOError when the file cannot be read, Corruption when it is not a valid
  // lexicon or has no English table; both messages name the path.
  static Result<std::unique_ptr<TextModel>> Load(const std::string& path);
  // Same from a lexicon in memory (tests, the builder's evaluation).
  static Result<std::unique_ptr<TextModel>> FromLexicon(Lexicon lexicon);

  virtual ~TextModel() = default;

  // The text's unit vector (dim() floats).
  // `lang`: a language tag ("zh", "zh-Hans", "pt-BR"); empty or a language the
  // model does not have means: detect it (kana -> ja, Han -> zh, else the
  // alphabetic language with the most known words, English on a tie).
  // Chinese and Japanese are segmented by longest match over the headwords;
  // Latin-script words inside a CJK text are looked up in English.
  // Errors: Invalid when text is longer than kMaxTextBytes; BadVector with the
  // message kNoKnownWords when no word of the text is in the lexicon.
  // Thread-safe: the model is immutable after Load.
  virtual Result<std::vector<float>> Encode(std::string_view text,
                                            std::string_view lang = {}) const = 0;

  // The language Encode would use for this text and tag.
  virtual std::string Language(std::string_view text, std::string_view lang = {}) const = 0;

  // Words and vectors the encoder sees, for tests and measurement: the words
  // of the text as segmented/tokenised for `lang` (after detection), each
  // with whether the lexicon knows it.
  struct Token {
    std::string word;
    std::string table;  // language table it was found in; empty when unknown
  };
  virtual std::vector<Token> Tokens(std::string_view text, std::string_view lang = {}) const = 0;

  virtual int dim() const = 0;
  // Language codes present, and the word count of one ("" -> 0 if absent).
  virtual std::vector<std::string> languages() const = 0;
  virtual size_t words(std::string_view lang) const = 0;

  // What the model holds, for INFO and logs.
  struct LanguageInfo {
    std::string code;
    size_t words = 0;    // words with a vector: headwords and inflected forms
    size_t vectors = 0;  // distinct vectors among them (one per headword; forms share)
    size_t empty = 0;    // headwords known without a vector (kept for segmentation)
  };
  struct Info {
    std::string path;           // the file Load read; empty for FromLexicon
    int dim = 0;
    double load_seconds = 0;    // wall time of Load (reading, checking, indexing)
    std::vector<LanguageInfo> languages;
  };
  virtual const Info& info() const = 0;
  // Heap bytes the loaded model holds (INFO memory): vectors, words, lookup maps.
  virtual size_t HeapBytes() const { return 0; }
};

// A post's text vector: its title and body joined by a newline (either may be
// empty), encoded as one text. Errors as Encode; Invalid when both are empty.
Result<std::vector<float>> EncodePost(const TextModel& model, std::string_view title,
                                      std::string_view body, std::string_view lang);

}  // namespace bf::text
