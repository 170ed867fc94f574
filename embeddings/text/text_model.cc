#include "embeddings/text/text_model.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string_view>

#include "embeddings/heap_bytes.h"
#include "embeddings/text/script.h"

namespace bf::text {
namespace {

// CJK headwords longer than this are not matched (CC-CEDICT and JMdict words
// are rarely longer; idioms of 4 characters fit).
constexpr int kMaxCjkChars = 8;

struct Entry {
  const float* vec;
  float weight;
};

// A language's words: an open-addressing hash table over views into the
// lexicon (one 8-byte slot per word, half full at most). Built at every load:
// std::unordered_map's node per word made the load 1.6x as long (2M words).
class WordTable {
 public:
  void Reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    slots_.assign(cap, 0);
    keys_.reserve(n);
    entries_.reserve(n);
  }
  // Keeps the first entry of a word given twice.
  void Insert(std::string_view word, Entry e) {
    const uint64_t h = Hash(word);
    for (size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i] == 0) {
        keys_.push_back(word);
        entries_.push_back(e);
        slots_[i] = (h & kHashBits) | keys_.size();
        return;
      }
      if (Matches(slots_[i], h, word)) return;
    }
  }
  const Entry* Find(std::string_view word) const {
    if (slots_.empty()) return nullptr;
    const uint64_t h = Hash(word);
    for (size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i] == 0) return nullptr;
      if (Matches(slots_[i], h, word)) return &entries_[(slots_[i] & ~kHashBits) - 1];
    }
  }
  size_t size() const { return keys_.size(); }
  uint64_t HeapBytes() const { return heap::Of(slots_) + heap::Of(keys_) + heap::Of(entries_); }

 private:
  // A slot: the hash's upper 32 bits, then 1 + the word's index (0: empty).
  static constexpr uint64_t kHashBits = 0xFFFFFFFF00000000ull;
  static uint64_t Hash(std::string_view w) { return std::hash<std::string_view>{}(w); }
  bool Matches(uint64_t slot, uint64_t h, std::string_view w) const {
    return (slot & kHashBits) == (h & kHashBits) && keys_[(slot & ~kHashBits) - 1] == w;
  }

  std::vector<uint64_t> slots_;
  std::vector<std::string_view> keys_;
  std::vector<Entry> entries_;
};

struct Table {
  std::string code;
  WordTable words;
  std::vector<float> common;
  bool has_common = false;
};

class TextModelImpl final : public TextModel {
 public:
  explicit TextModelImpl(Lexicon lex) : lex_(std::move(lex)) {
    for (const LexiconLanguage& l : lex_.languages) {
      Table t;
      t.code = l.code;
      t.words.Reserve(l.words.size());
      for (size_t i = 0; i < l.words.size(); ++i) {
        t.words.Insert(l.words[i], Entry{&l.vectors[size_t{l.vector_of[i]} * lex_.dim],
                                         l.weight[i]});
      }
      t.common = l.common;
      for (float c : t.common) t.has_common |= c != 0.0f;
      tables_.push_back(std::move(t));
      info_.languages.push_back(Describe(l));
    }
    info_.dim = lex_.dim;
    en_ = Find("en");
  }
  void SetSource(std::string path, double load_seconds) {
    info_.path = std::move(path);
    info_.load_seconds = load_seconds;
  }
  bool has_english() const { return en_ != nullptr; }

  Result<std::vector<float>> Encode(std::string_view text, std::string_view lang) const override {
    if (text.size() > kMaxTextBytes) {
      return Status::Invalid("text longer than " + std::to_string(kMaxTextBytes) + " bytes");
    }
    const Table* main = Pick(text, lang);
    std::vector<double> acc(static_cast<size_t>(lex_.dim), 0.0);
    int found = 0;
    Walk(text, main, [&](std::string_view, const Table* t, const Entry* e) {
      if (e == nullptr || !(e->weight > 0.0f)) return;  // unknown, or known without a vector
      (void)t;
      ++found;
      for (int k = 0; k < lex_.dim; ++k) acc[k] += static_cast<double>(e->weight) * e->vec[k];
    });
    if (found == 0) return Status::BadVector(std::string(kNoKnownWords));
    if (main->has_common) {
      double dot = 0;
      for (int k = 0; k < lex_.dim; ++k) dot += acc[k] * main->common[k];
      for (int k = 0; k < lex_.dim; ++k) acc[k] -= dot * main->common[k];
    }
    double norm = 0;
    for (double a : acc) norm += a * a;
    norm = std::sqrt(norm);
    if (!(norm > 1e-12)) return Status::BadVector(std::string(kNoKnownWords));
    std::vector<float> out(acc.size());
    for (size_t k = 0; k < acc.size(); ++k) out[k] = static_cast<float>(acc[k] / norm);
    return out;
  }

  std::string Language(std::string_view text, std::string_view lang) const override {
    return Pick(text, lang)->code;
  }

  std::vector<Token> Tokens(std::string_view text, std::string_view lang) const override {
    std::vector<Token> out;
    if (text.size() > kMaxTextBytes) return out;
    Walk(text, Pick(text, lang), [&](std::string_view w, const Table* t, const Entry* e) {
      out.push_back({std::string(w), e != nullptr ? t->code : std::string()});
    });
    return out;
  }

  int dim() const override { return lex_.dim; }
  std::vector<std::string> languages() const override {
    std::vector<std::string> out;
    for (const Table& t : tables_) out.push_back(t.code);
    return out;
  }
  size_t words(std::string_view lang) const override {
    const Table* t = Find(lang);
    return t == nullptr ? 0 : t->words.size();
  }
  const Info& info() const override { return info_; }
  size_t HeapBytes() const override {
    uint64_t b = heap::Of(lex_.languages) + heap::Of(tables_);
    for (const LexiconLanguage& l : lex_.languages) {
      b += heap::Of(l.common) + heap::Of(l.vectors) + heap::Of(l.words) + heap::Of(l.weight) +
           heap::Of(l.vector_of);
      for (const std::string& w : l.words) b += heap::Of(w);
    }
    for (const Table& t : tables_) b += t.words.HeapBytes() + heap::Of(t.common);
    return b;
  }

 private:
  const Table* Find(std::string_view code) const {
    for (const Table& t : tables_) {
      if (t.code == code) return &t;
    }
    return nullptr;
  }
  static const Entry* Lookup(const Table* t, std::string_view w) {
    if (t == nullptr) return nullptr;
    return t->words.Find(w);
  }

  // The table of the text's language: the tag's when the model has it, else
  // detected from the script, else the alphabetic language knowing most words.
  const Table* Pick(std::string_view text, std::string_view lang) const {
    if (const Table* t = Find(PrimaryLanguage(lang)); t != nullptr) return t;
    if (const std::string_view s = LanguageFromScript(text); !s.empty()) {
      if (const Table* t = Find(s); t != nullptr) return t;
      return en_;
    }
    std::vector<std::string> words;
    for (const Run& r : SplitRuns(text)) {
      if (!r.cjk) LetterWords(r.text, words);
    }
    const Table* best = en_;
    int best_hits = -1;
    for (const Table& t : tables_) {
      if (t.code == "zh" || t.code == "ja") continue;
      int hits = 0;
      for (const std::string& w : words) hits += Lookup(&t, w) != nullptr ? 1 : 0;
      // English wins ties: it is listed first by the builder, and checked first here.
      if (hits > best_hits || (hits == best_hits && &t == en_)) {
        best = &t;
        best_hits = hits;
      }
    }
    return best;
  }

  // Calls fn(word, table, entry or nullptr) for each word of the text: CJK runs
  // segmented over the CJK table, letter words looked up in the main table
  // and then in English.
  template <typename Fn>
  void Walk(std::string_view text, const Table* main, Fn&& fn) const {
    const bool main_cjk = main->code == "zh" || main->code == "ja";
    std::vector<std::string> words;
    for (const Run& r : SplitRuns(text)) {
      if (r.cjk) {
        const Table* t = main_cjk ? main : Find(r.has_kana ? "ja" : "zh");
        if (t == nullptr) t = Find(r.has_kana ? "zh" : "ja");
        if (t == nullptr) continue;
        LongestMatch(
            r.text, kMaxCjkChars, [&](std::string_view w) { return Lookup(t, w) != nullptr; },
            [&](std::string_view w) { fn(w, t, Lookup(t, w)); },
            [&](std::string_view w) { fn(w, t, nullptr); });
        continue;
      }
      words.clear();
      LetterWords(r.text, words);
      for (const std::string& w : words) {
        const Table* t = main_cjk ? en_ : main;
        const Entry* e = Lookup(t, w);
        if (e == nullptr && t != en_) {
          t = en_;
          e = Lookup(t, w);
        }
        fn(w, t, e);
      }
    }
  }

  static LanguageInfo Describe(const LexiconLanguage& l) {
    LanguageInfo out{l.code, 0, 0, 0};
    std::vector<bool> used(l.vectors.size() / std::max<size_t>(l.common.size(), 1), false);
    for (size_t i = 0; i < l.words.size(); ++i) {
      if (!(l.weight[i] > 0.0f)) {
        ++out.empty;
        continue;
      }
      ++out.words;
      if (!used[l.vector_of[i]]) {
        used[l.vector_of[i]] = true;
        ++out.vectors;
      }
    }
    return out;
  }

  const Lexicon lex_;
  std::vector<Table> tables_;  // views into lex_, fixed after construction
  Info info_;                  // fixed after Load
  const Table* en_ = nullptr;
};

}  // namespace

namespace {

Result<std::unique_ptr<TextModelImpl>> MakeModel(Lexicon lexicon) {
  auto model = std::make_unique<TextModelImpl>(std::move(lexicon));
  if (!model->has_english()) return Status::Corruption("text model has no English table");
  return model;
}

}  // namespace

Result<std::unique_ptr<TextModel>> TextModel::FromLexicon(Lexicon lexicon) {
  auto model = MakeModel(std::move(lexicon));
  if (!model.ok()) return model.status();
  return std::unique_ptr<TextModel>(std::move(model).value());
}

Result<std::unique_ptr<TextModel>> TextModel::Load(const std::string& path) {
  const auto start = std::chrono::steady_clock::now();
  auto lex = ReadLexicon(path);
  if (!lex.ok()) return lex.status();
  auto model = MakeModel(std::move(lex).value());
  if (!model.ok()) return Status::Corruption(model.status().message() + ": " + path);
  (*model)->SetSource(path, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return std::unique_ptr<TextModel>(std::move(model).value());
}

Result<std::vector<float>> EncodePost(const TextModel& model, std::string_view title,
                                      std::string_view body, std::string_view lang) {
  if (title.empty() && body.empty()) return Status::Invalid("no title or text to encode");
  std::string all(title);
  if (!title.empty() && !body.empty()) all += '\n';
  all += body;
  return model.Encode(all, lang);
}

}  // namespace bf::text
