// Chinese characters for the text model's second dictionary: which headwords
// are all Han (JMdict's kanji words, read for Chinese words CC-CEDICT lacks)
// and traditional -> simplified characters learnt from CC-CEDICT's own lines.
// Not thread-safe while learning; const use is.
#pragma once

#include <string>
#include <unordered_map>

namespace bf::textmodel {

// Whether s is non-empty and every character is a CJK ideograph
// (U+3400..U+9FFF; JMdict's kanji, CC-CEDICT's hanzi). Kana, Latin, the
// iteration mark 々 and invalid UTF-8 are not.
bool AllHan(const std::string& s);

class HanSimplifier {
 public:
  // One CC-CEDICT entry's traditional and simplified forms. Only one-character
  // entries that differ teach ("貓 猫"): a word's line teaches nothing, so a
  // word held out of the dictionary has no say.
  void Learn(const std::string& traditional, const std::string& simplified);
  // s with each character replaced by the simplified form most of its lines
  // give; characters no line names stay. s must be AllHan (else returned as is).
  std::string Simplify(const std::string& s) const;

 private:
  std::unordered_map<std::string, std::unordered_map<std::string, int>> votes_;
};

}  // namespace bf::textmodel
