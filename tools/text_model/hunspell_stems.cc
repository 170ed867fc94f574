#include "tools/text_model/hunspell_stems.h"

#include <filesystem>
#include <unordered_set>
#include <vector>

#include <hunspell/hunspell.hxx>

#include "embeddings/text/script.h"
#include "tools/text_model/sources.h"

namespace bf::textmodel {

Result<size_t> ReadHunspellStems(const std::string& dir, const std::string& dict,
                                 const std::function<bool(const std::string&)>& is_lemma,
                                 const std::function<void(const std::string&, const std::string&)>& fn) {
  const std::string aff = dir + "/" + dict + ".aff", dic = dir + "/" + dict + ".dic";
  if (!std::filesystem::exists(aff) || !std::filesystem::exists(dic)) {
    return Status::IOError("no hunspell dictionary " + dic);
  }
  Hunspell speller(aff.c_str(), dic.c_str());
  std::unordered_set<std::string> seen;
  std::vector<std::string> roots;
  size_t n = 0;
  auto ran = Unmunch(dir, dict, is_lemma, roots, [&](std::string& line) {
    std::string form = line.substr(0, line.find('/'));
    if (form.empty() || form.find_first_of("-'0123456789") != std::string::npos) return;
    std::string lower = text::Lower(form);
    if (is_lemma(lower) || !seen.insert(lower).second) return;
    for (const std::string& stem : speller.stem(form)) {
      std::string lemma = text::Lower(stem);
      if (lemma != lower && is_lemma(lemma)) {
        fn(lower, lemma);
        ++n;
        return;
      }
    }
  });
  if (!ran.ok()) return ran.status();
  return n;
}

}  // namespace bf::textmodel
