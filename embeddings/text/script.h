// Splitting text into words: UTF-8 decoding, the script of each character,
// lowercasing, longest-match segmentation of Chinese and Japanese, and the
// language guessed from the script. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bf::text {

enum class Script : uint8_t {
  kOther,   // spaces, punctuation, symbols, invalid bytes: separators
  kLetter,  // letters and digits of alphabetic scripts (Latin, Greek, Cyrillic, ...)
  kHan,     // CJK ideographs (Chinese characters, Japanese kanji)
  kKana,    // hiragana, katakana (Japanese only)
};

Script ScriptOf(char32_t c);

// A maximal stretch of text in one kind of script: letters, or CJK (Han and
// kana together, as Japanese mixes them inside a word). `text` views the input.
struct Run {
  bool cjk = false;
  bool has_kana = false;  // CJK runs only
  std::string_view text;
};

// The letter and CJK runs of `text`, in order; separators are dropped.
// Invalid UTF-8 bytes are separators.
std::vector<Run> SplitRuns(std::string_view text);

// Words of a letter run: maximal stretches of letters/digits, lowercased
// (ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic capitals). Apostrophes
// and hyphens separate words ("J'apprends" -> "j", "apprends").
void LetterWords(std::string_view run, std::vector<std::string>& out);

// Lowercases the letters of one word (same ranges as LetterWords).
std::string Lower(std::string_view word);

// Longest match over a dictionary: from each position, the longest prefix of at
// most max_chars characters for which `known` is true is a word; a character
// that starts no known word is skipped (and reported through `skipped`, when
// given). Calls `emit` with each word, in order.
void LongestMatch(std::string_view run, int max_chars,
                  const std::function<bool(std::string_view)>& known,
                  const std::function<void(std::string_view)>& emit,
                  const std::function<void(std::string_view)>& skipped = nullptr);

// "zh-Hans" -> "zh", "PT_br" -> "pt", "" -> "": the primary subtag, lowercased.
std::string PrimaryLanguage(std::string_view tag);

// Guess from the script alone: "ja" when any kana, else "zh" when any Han
// character, else "" (an alphabetic script: the caller decides).
std::string_view LanguageFromScript(std::string_view text);

}  // namespace bf::text
