// Inflected forms mapped to their lemmas by hunspell's own stemmer
// (libhunspell, Hunspell::stem), for dictionaries whose unmunch output cannot
// be grouped by root (fr.dic uses two-character flags, and unmunch prints its
// forms with leftover flags and repeats).
#pragma once

#include <functional>
#include <string>

#include "embeddings/status.h"

namespace bf::textmodel {

// The forms unmunch makes from the roots of dir/<dict>.dic that is_lemma
// accepts, each stemmed by hunspell with dir/<dict>.aff/.dic; fn(form, lemma)
// once per form (lowercased) that is not itself a lemma, with the first of its
// stems that is_lemma accepts. Forms with a hyphen or an apostrophe (clitics:
// the tokeniser splits there) are skipped. Returns the number of forms
// reported. Errors: IOError when the dictionary cannot be read or unmunch
// cannot run.
Result<size_t> ReadHunspellStems(const std::string& dir, const std::string& dict,
                                 const std::function<bool(const std::string&)>& is_lemma,
                                 const std::function<void(const std::string&, const std::string&)>& fn);

}  // namespace bf::textmodel
