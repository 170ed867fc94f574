// Bilingual pairs from Apertium's language-pair data (Debian apertium-eng-spa),
// which ships compiled transducers only: words go through its morphological
// analyser and then its bilingual dictionary, both run by lt-proc (Debian
// lttoolbox). Used by bridgefeed-text-model where FreeDict is small (Spanish).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "embeddings/status.h"
#include "embeddings/text/lexicon_builder.h"

namespace bf::textmodel {

// The ^...$ units of lt-proc's output, each split at its unescaped '/' (the
// first part is the input), with backslash escapes removed.
std::vector<std::vector<std::string>> LtprocUnits(std::string_view out);

// An analysis' lemma: tags (<n>, <vblex>) and the multiword mark '#' removed,
// lowercased ("Take# off<vblex>" -> "take off"). Empty for an unknown word
// (a part starting with '*', '@' or '#').
std::string LtprocLemma(std::string_view analysis);

// For each word, its analyses' lemmas (dir/<pair>.automorf.bin) and their
// English translations (dir/<pair>.autobil.bin): fn(lemma, senses) once per
// lemma with a translation, one sense per distinct English lemma in the
// order found. pair: "spa-eng". Returns the number of lemmas reported.
// Errors: IOError when lt-proc or the data files are missing.
Result<size_t> ReadApertiumPairs(
    const std::string& dir, const std::string& pair, const std::vector<std::string>& words,
    const std::function<void(const std::string&, const text::Senses&)>& fn);

}  // namespace bf::textmodel
