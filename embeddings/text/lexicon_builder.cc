#include "embeddings/text/lexicon_builder.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <Eigen/Dense>

#include "embeddings/text/script.h"

namespace bf::text {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Drops bracketed parts ((), [], {}, <>), nested or not.
std::string StripBrackets(std::string_view s) {
  std::string out;
  int depth = 0;
  for (char c : s) {
    if (c == '(' || c == '[' || c == '{' || c == '<') {
      ++depth;
    } else if ((c == ')' || c == ']' || c == '}' || c == '>') && depth > 0) {
      --depth;
    } else if (depth == 0) {
      out += c;
    }
  }
  return out;
}

// Splits outside brackets at any of `seps`; trims; drops empty parts.
std::vector<std::string> SplitAlternatives(std::string_view s, std::string_view seps) {
  std::vector<std::string> out;
  int depth = 0;
  size_t start = 0;
  auto flush = [&](size_t end) {
    const std::string_view part = Trim(s.substr(start, end - start));
    if (!part.empty()) out.emplace_back(part);
  };
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '(' || c == '[' || c == '{' || c == '<') ++depth;
    if ((c == ')' || c == ']' || c == '}' || c == '>') && depth > 0) --depth;
    if (depth == 0 && seps.find(c) != std::string_view::npos) {
      flush(i);
      start = i + 1;
    }
  }
  flush(s.size());
  return out;
}

// CC-CEDICT senses that only point at another entry or name a classifier.
bool IsPointer(std::string_view sense) {
  for (std::string_view p : {"variant of", "old variant of", "used in", "see ", "see also",
                             "surname ", "CL:", "also written", "also pr.", "abbr. for",
                             "erhua variant", "Japanese variant", "archaic variant"}) {
    if (StartsWith(sense, p)) return true;
  }
  return false;
}

// The usage labels jpn-eng (JMdict) writes after "Note:", glued to the gloss
// that follows; longest first, so "rare term" is cut before "rare".
constexpr std::string_view kJmdictLabels[] = {
    "honorific or respectful (sonkeigo) language", "word usually written using kana alone",
    "word usually written using kanji alone", "word containing irregular kana usage",
    "word containing irregular kanji usage", "word containing out-dated kanji",
    "rude or X-rated term (not used in the mainstream)", "usually written using kana alone",
    "humble (kenjougo) language", "onomatopoeic or mimetic word", "polite (teineigo) language",
    "linguistics terminology", "vulgar expression or word", "female term or language",
    "male term or language", "formal or literary term", "jocular, humorous term",
    "idiomatic expression", "children's language", "rude or X-rated term", "familiar language",
    "historical term", "poetical term", "obsolete term", "obscure term", "internet slang",
    "colloquialism", "Buddhist term", "manga slang", "abbreviation", "female slang",
    "male slang", "dated term", "euphemistic", "derogatory", "yojijukugo", "Kansai-ben",
    "quotation", "rare term", "sensitive", "archaism", "proverb", "slang", "rare"};

// The gloss glued after a JMdict usage label in a "Note:" line ("" when the
// note is not one of those).
std::string_view GlossAfterLabel(std::string_view note) {
  bool cut = false;
  for (bool again = true; again;) {
    again = false;
    for (std::string_view label : kJmdictLabels) {
      if (StartsWith(note, label)) {
        note = Trim(note.substr(label.size()));
        cut = again = true;
        break;
      }
    }
  }
  return cut ? note : std::string_view();
}

// A part-of-speech line of a function word ("(particle)", "(auxiliary verb)").
bool IsFunctionPos(std::string_view line) {
  for (std::string_view p : {"(particle", "(compound particle", "(conjunction)", "(auxiliary",
                             "(copula"}) {
    if (StartsWith(line, p)) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> GlossWords(std::string_view gloss) {
  std::vector<std::string> out;
  LetterWords(StripBrackets(gloss), out);
  return out;
}

bool ParseCedictLine(std::string_view line, std::string& traditional, std::string& simplified,
                     Senses& senses) {
  senses.clear();
  line = Trim(line);
  if (line.empty() || line.front() == '#') return false;
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  const size_t sp2 = line.find(' ', sp1 + 1);
  const size_t slash = line.find('/');
  if (sp2 == std::string_view::npos || slash == std::string_view::npos || slash < sp2) {
    return false;
  }
  traditional = std::string(line.substr(0, sp1));
  simplified = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  std::string_view rest = line.substr(slash + 1);
  while (!rest.empty()) {
    const size_t end = rest.find('/');
    const std::string_view sense = Trim(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (sense.empty() || IsPointer(sense)) continue;
    std::vector<std::string> alts = SplitAlternatives(sense, ";");
    if (!alts.empty()) senses.push_back(std::move(alts));
  }
  return !traditional.empty();
}

Senses ParseFreeDictEntry(std::string_view entry, bool* function_word) {
  Senses senses;
  if (function_word != nullptr) *function_word = false;
  size_t sense = 0;
  bool first = true;
  while (!entry.empty()) {
    const size_t nl = entry.find('\n');
    std::string_view line = entry.substr(0, nl);
    entry = nl == std::string_view::npos ? std::string_view() : entry.substr(nl + 1);
    if (first) {  // the headword line
      first = false;
      continue;
    }
    line = Trim(line);
    if (line.empty()) continue;
    if (StartsWith(line, "Note:")) line = GlossAfterLabel(Trim(line.substr(5)));
    if (line.empty()) continue;
    bool skip = false;
    for (std::string_view p : {"Synonym:", "Synonyms:", "see:", "See:", "Note:", "Antonym:",
                               "Example", "Ref:", "Usage:", "\"", "Gloss:"}) {
      skip |= StartsWith(line, p);
    }
    if (skip) continue;
    // "2. fever, temperature": a numbered sense; it also numbers the lines after it.
    size_t digits = 0;
    while (digits < line.size() && line[digits] >= '0' && line[digits] <= '9') ++digits;
    if (digits > 0 && digits < line.size() && line[digits] == '.') {
      sense = static_cast<size_t>(std::stoul(std::string(line.substr(0, digits)))) - 1;
      line = Trim(line.substr(digits + 1));
    }
    if (function_word != nullptr && IsFunctionPos(line)) *function_word = true;
    std::vector<std::string> alts;
    for (std::string& a : SplitAlternatives(line, ",;")) {
      const std::string stripped = StripBrackets(a);
      const std::string_view kept = Trim(stripped);
      if (!kept.empty()) alts.emplace_back(kept);
    }
    if (alts.empty()) continue;  // a part-of-speech line
    if (sense > 1000) continue;
    if (senses.size() <= sense) senses.resize(sense + 1);
    for (std::string& a : alts) senses[sense].push_back(std::move(a));
  }
  std::erase_if(senses, [](const auto& s) { return s.empty(); });
  return senses;
}

LexiconBuilder::LexiconBuilder(int dim, std::vector<std::string> words,
                               const std::vector<float>& vectors, BuildOptions options)
    : dim_(dim), options_(options) {
  const size_t d = static_cast<size_t>(dim);
  for (size_t i = 0; i < words.size() && (i + 1) * d <= vectors.size(); ++i) {
    const float* v = &vectors[i * d];
    double norm = 0;
    for (size_t k = 0; k < d; ++k) norm += double{v[k]} * v[k];
    if (!(norm > 0) || !std::isfinite(norm)) continue;
    std::string w = Lower(words[i]);
    if (w.empty() || en_index_.count(w) > 0) continue;
    en_index_.emplace(w, en_words_.size());
    en_words_.push_back(std::move(w));
    const double inv = 1.0 / std::sqrt(norm);
    for (size_t k = 0; k < d; ++k) en_vectors_.push_back(static_cast<float>(v[k] * inv));
  }
}

float LexiconBuilder::Sif(size_t rank) const {
  // Zipf: p(r) = 1 / (r * H_N), H_N ~ ln N + 0.577.
  const double h = std::log(static_cast<double>(std::max<size_t>(en_words_.size(), 2))) + 0.5772;
  const double p = 1.0 / (static_cast<double>(rank + 1) * h);
  return static_cast<float>(options_.sif_a / (options_.sif_a + p));
}

const float* LexiconBuilder::English(std::string_view word) const {
  auto it = en_index_.find(std::string(word));
  return it == en_index_.end() ? nullptr : &en_vectors_[it->second * dim_];
}

void LexiconBuilder::AddEntry(const std::string& lang, std::string_view headword,
                              const Senses& senses, bool function_word) {
  std::string key = Lower(Trim(headword));
  if (key.empty() || key.find(' ') != std::string::npos || senses.empty()) return;
  if (foreign_.count(lang) == 0) lang_order_.push_back(lang);
  Foreign& f = foreign_[lang];
  auto [it, inserted] = f.senses.try_emplace(key);
  if (inserted) f.order.push_back(key);
  if (function_word) f.function_words.insert(key);
  it->second.insert(it->second.end(), senses.begin(), senses.end());
}

void LexiconBuilder::AddSecondary(const std::string& lang, std::string_view headword,
                                  const Senses& senses) {
  std::string key = Lower(Trim(headword));
  if (key.empty() || key.find(' ') != std::string::npos || senses.empty()) return;
  if (foreign_.count(lang) == 0) lang_order_.push_back(lang);
  Foreign& f = foreign_[lang];
  auto [it, inserted] = f.secondary.try_emplace(key);
  if (inserted) f.secondary_order.push_back(key);
  it->second.insert(it->second.end(), senses.begin(), senses.end());
}

void LexiconBuilder::AddForm(const std::string& lang, std::string_view form,
                             std::string_view lemma) {
  if (foreign_.count(lang) == 0) lang_order_.push_back(lang);
  foreign_[lang].forms.emplace_back(Lower(form), Lower(lemma));
}

bool LexiconBuilder::HasHeadword(const std::string& lang, std::string_view headword) const {
  auto it = foreign_.find(lang);
  return it != foreign_.end() && it->second.senses.count(Lower(headword)) > 0;
}

bool LexiconBuilder::GlossVector(std::string_view gloss, std::vector<double>& vec,
                                 double& weight) const {
  std::fill(vec.begin(), vec.end(), 0.0);
  double wsum = 0;
  int n = 0;
  for (const std::string& w : GlossWords(gloss)) {
    auto it = en_index_.find(w);
    if (it == en_index_.end()) continue;
    const double s = Sif(it->second);
    const float* v = &en_vectors_[it->second * dim_];
    for (int k = 0; k < dim_; ++k) vec[k] += s * v[k];
    wsum += s;
    ++n;
  }
  if (n == 0) return false;
  double norm = 0;
  for (double x : vec) norm += x * x;
  if (!(norm > 0)) return false;
  norm = std::sqrt(norm);
  for (double& x : vec) x /= norm;
  weight = wsum / n;
  return true;
}

bool LexiconBuilder::SensesVector(const Senses& senses, std::vector<double>& acc,
                                  double& weight) const {
  std::vector<double> vec(static_cast<size_t>(dim_));
  std::fill(acc.begin(), acc.end(), 0.0);
  double wsum = 0, wacc = 0;
  for (size_t s = 0; s < senses.size(); ++s) {
    std::vector<std::pair<std::vector<double>, double>> found;
    for (const std::string& g : senses[s]) {
      double gw = 0;
      if (GlossVector(g, vec, gw)) found.emplace_back(vec, gw);
    }
    for (const auto& [gv, gw] : found) {
      const double sw = 1.0 / static_cast<double>(s + 1) / static_cast<double>(found.size());
      for (int k = 0; k < dim_; ++k) acc[k] += sw * gv[k];
      wsum += sw;
      wacc += sw * gw;
    }
  }
  double norm = 0;
  for (double x : acc) norm += x * x;
  if (wsum == 0 || !(norm > 0)) return false;
  norm = std::sqrt(norm);
  for (double& x : acc) x /= norm;
  weight = wacc / wsum;
  return true;
}

void LexiconBuilder::Common(LexiconLanguage& l, const std::vector<double>& prob) const {
  l.common.assign(static_cast<size_t>(dim_), 0.0f);
  if (!options_.common_component || l.words.empty()) return;
  std::vector<size_t> order(l.words.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const size_t top = std::min(order.size(), options_.common_top_words);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                    [&](size_t a, size_t b) { return prob[a] > prob[b]; });
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(dim_, dim_);
  for (size_t i = 0; i < top; ++i) {
    const size_t w = order[i];
    const float* v = &l.vectors[size_t{l.vector_of[w]} * dim_];
    Eigen::VectorXd x = Eigen::Map<const Eigen::VectorXf>(v, dim_).cast<double>() * l.weight[w];
    c.noalias() += prob[w] * x * x.transpose();
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(c);
  const Eigen::VectorXd u = eig.eigenvectors().col(dim_ - 1);  // largest eigenvalue last
  for (int k = 0; k < dim_; ++k) l.common[k] = static_cast<float>(u[k]);
}

Result<Lexicon> LexiconBuilder::Build(std::vector<BuildStats>* stats) {
  if (en_words_.empty()) return Status::Invalid("no English word vectors");
  Lexicon lex;
  lex.dim = dim_;
  const double a = options_.sif_a;
  {
    LexiconLanguage en;
    en.code = "en";
    en.words = en_words_;
    en.vectors = en_vectors_;
    std::vector<double> prob(en_words_.size());
    for (size_t i = 0; i < en_words_.size(); ++i) {
      en.weight.push_back(Sif(i));
      en.vector_of.push_back(static_cast<uint32_t>(i));
      prob[i] = a * (1.0 - en.weight[i]) / en.weight[i];
    }
    Common(en, prob);
    if (stats != nullptr) stats->push_back({en_words_.size(), en_words_.size(), 0});
    lex.languages.push_back(std::move(en));
  }
  std::vector<double> acc(static_cast<size_t>(dim_));
  const double function_weight = Sif(std::max<size_t>(options_.function_rank, 1) - 1);
  for (const std::string& code : lang_order_) {
    const Foreign& f = foreign_.at(code);
    LexiconLanguage l;
    l.code = code;
    BuildStats st;
    std::vector<double> prob;
    std::unordered_map<std::string, uint32_t> word_index;
    const bool keep_empty = std::find(options_.segmented.begin(), options_.segmented.end(),
                                      code) != options_.segmented.end();
    uint32_t empty_row = UINT32_MAX;  // one all-zero row for the headwords without a vector
    auto add = [&](const std::string& head, double mean_weight) {  // acc: a unit vector
      const auto row = static_cast<uint32_t>(l.vectors.size() / dim_);
      for (double x : acc) l.vectors.push_back(static_cast<float>(x));
      const float w = static_cast<float>(std::clamp(mean_weight, 1e-4, 1.0));
      word_index.emplace(head, static_cast<uint32_t>(l.words.size()));
      l.words.push_back(head);
      l.weight.push_back(w);
      l.vector_of.push_back(row);
      prob.push_back(a * (1.0 - w) / w);
    };
    for (const std::string& head : f.order) {
      ++st.entries;
      double mean_weight = 0;
      if (!SensesVector(f.senses.at(head), acc, mean_weight)) {
        if (!keep_empty) continue;
        if (empty_row == UINT32_MAX) {
          empty_row = static_cast<uint32_t>(l.vectors.size() / dim_);
          l.vectors.insert(l.vectors.end(), static_cast<size_t>(dim_), 0.0f);
        }
        word_index.emplace(head, static_cast<uint32_t>(l.words.size()));
        l.words.push_back(head);
        l.weight.push_back(0.0f);
        l.vector_of.push_back(empty_row);
        prob.push_back(0.0);
        ++st.empty;
        continue;
      }
      if (f.function_words.count(head) > 0) mean_weight = std::min(mean_weight, function_weight);
      add(head, mean_weight);
      ++st.with_vector;
    }
    // A second dictionary's headwords come before the parts: a word a
    // dictionary knows is read as that word, not guessed from longer ones.
    const size_t primary = l.words.size();
    for (const std::string& head : f.secondary_order) {
      double mean_weight = 0;
      if (word_index.count(head) > 0 || !SensesVector(f.secondary.at(head), acc, mean_weight)) {
        continue;
      }
      add(head, mean_weight);
      prob.back() = 0.0;  // the first dictionary alone makes the common component
      ++st.secondary;
    }
    if (std::find(options_.parts_languages.begin(), options_.parts_languages.end(), code) !=
        options_.parts_languages.end()) {
      st.parts = AddParts(l, word_index, prob, primary);
    }
    for (const auto& [form, lemma] : f.forms) {
      auto lem = word_index.find(lemma);
      if (lem == word_index.end() || word_index.count(form) > 0 || l.weight[lem->second] == 0) {
        continue;
      }
      word_index.emplace(form, static_cast<uint32_t>(l.words.size()));
      l.words.push_back(form);
      l.weight.push_back(l.weight[lem->second]);
      l.vector_of.push_back(l.vector_of[lem->second]);
      prob.push_back(0.0);  // the lemma stands for its forms in the common component
      ++st.forms;
    }
    if (options_.per_language_common) {
      Common(l, prob);
    } else {
      l.common = lex.languages.front().common;
    }
    if (stats != nullptr) stats->push_back(st);
    lex.languages.push_back(std::move(l));
  }
  return lex;
}

}  // namespace bf::text
