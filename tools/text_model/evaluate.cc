#include "tools/text_model/evaluate.h"

#include <algorithm>
#include <cstdio>
#include <unordered_set>

#include "tools/gen/catalog.h"

namespace bf::textmodel {
namespace {

float Dot(const float* a, const float* b, int d) {
  float s = 0;
  for (int k = 0; k < d; ++k) s += a[k] * b[k];
  return s;
}

std::string Fill(std::string_view t) {
  std::string s(t);
  if (const size_t at = s.find("{n}"); at != std::string::npos) s.replace(at, 3, "3");
  return s;
}

struct TitleRow {
  std::string lang, text, gloss;
  int topic;
  std::vector<float> vec, gloss_vec;
};

}  // namespace

std::string Percent(size_t num, size_t den) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", den == 0 ? 0.0 : static_cast<double>(num) / den);
  return buf;
}

WordRetrieval::WordRetrieval(const text::TextModel& model, const std::vector<std::string>& english)
    : model_(model) {
  for (const std::string& w : english) {
    auto v = model.Encode(w, "en");
    if (!v.ok()) continue;
    words_.push_back(w);
    vectors_.insert(vectors_.end(), v->begin(), v->end());
  }
}

bool WordRetrieval::IsCandidate(const std::string& w) const {
  return std::find(words_.begin(), words_.end(), w) != words_.end();
}

Retrieval WordRetrieval::Run(const std::vector<WordPair>& pairs, const std::string& lang,
                             std::vector<int>* hits) const {
  Retrieval r;
  if (hits != nullptr) hits->assign(pairs.size(), 0);
  const int d = model_.dim();
  std::vector<std::pair<float, size_t>> scored(words_.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    const WordPair& p = pairs[i];
    ++r.queries;
    auto q = model_.Encode(p.word, lang);
    if (!q.ok()) continue;
    ++r.encoded;
    for (size_t j = 0; j < words_.size(); ++j) scored[j] = {Dot(q->data(), &vectors_[j * d], d), j};
    std::partial_sort(scored.begin(), scored.begin() + 5, scored.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
    for (int k = 0; k < 5; ++k) {
      const std::string& w = words_[scored[k].second];
      if (std::find(p.gold.begin(), p.gold.end(), w) != p.gold.end()) {
        if (k == 0) ++r.top1;
        ++r.top5;
        if (hits != nullptr) (*hits)[i] = k == 0 ? 1 : 5;
        break;
      }
    }
  }
  return r;
}

double Coverage(const text::TextModel& model, const std::vector<std::string>& texts,
                const std::string& lang) {
  size_t known = 0, all = 0;
  for (const std::string& t : texts) {
    for (const auto& tok : model.Tokens(t, lang)) {
      ++all;
      known += tok.table.empty() ? 0 : 1;
    }
  }
  return all == 0 ? 0.0 : static_cast<double>(known) / static_cast<double>(all);
}

std::string TitleReport(const text::TextModel& model) {
  std::vector<TitleRow> rows;
  for (const gen::Culture& c : gen::Cultures()) {
    const std::string lang(c.lang);
    if (std::any_of(rows.begin(), rows.end(), [&](const TitleRow& r) { return r.lang == lang; })) {
      continue;
    }
    for (int topic = 0; topic < gen::kTopicCount; ++topic) {
      for (const gen::Title& t : gen::Titles(topic, lang)) {
        TitleRow r{lang, Fill(t.text), Fill(t.gloss), topic, {}, {}};
        auto v = model.Encode(r.text, lang);
        if (v.ok()) r.vec = *v;
        if (!r.gloss.empty()) {
          auto g = model.Encode(r.gloss, "en");
          if (g.ok()) r.gloss_vec = *g;
        }
        rows.push_back(std::move(r));
      }
    }
  }
  const int d = model.dim();
  std::string out =
      "| title language | titles | encoded | title -> gloss top-1 | top-5 | "
      "3 nearest other-language titles on the same topic |\n|---|---|---|---|---|---|\n";
  std::vector<std::string> examples;
  for (const std::string lang : {"zh", "ja", "pt", "fr", "es", "en"}) {
    size_t n = 0, enc = 0, top1 = 0, top5 = 0, glossed = 0, same = 0, near = 0;
    for (const TitleRow& q : rows) {
      if (q.lang != lang) continue;
      ++n;
      if (q.vec.empty()) continue;
      ++enc;
      if (!q.gloss.empty()) {
        ++glossed;
        // Rank of its own gloss among all glosses.
        const float own = q.gloss_vec.empty() ? -2.0f : Dot(q.vec.data(), q.gloss_vec.data(), d);
        size_t better = 0;
        for (const TitleRow& o : rows) {
          if (&o == &q || o.gloss_vec.empty()) continue;
          if (Dot(q.vec.data(), o.gloss_vec.data(), d) > own) ++better;
        }
        if (!q.gloss_vec.empty() && better == 0) ++top1;
        if (!q.gloss_vec.empty() && better < 5) ++top5;
      }
      std::vector<std::pair<float, const TitleRow*>> other;
      for (const TitleRow& o : rows) {
        if (o.lang != lang && !o.vec.empty()) {
          other.emplace_back(Dot(q.vec.data(), o.vec.data(), d), &o);
        }
      }
      std::partial_sort(other.begin(), other.begin() + 3, other.end(),
                        [](const auto& a, const auto& b) { return a.first > b.first; });
      for (int k = 0; k < 3; ++k) {
        ++near;
        same += other[k].second->topic == q.topic ? 1 : 0;
      }
      if (q.topic == gen::kCats && examples.size() < 12 &&
          std::none_of(examples.begin(), examples.end(), [&](const std::string& e) {
            return e.rfind("- " + lang + " ", 0) == 0;
          })) {
        std::string e = "- " + lang + " \"" + q.text + "\"";
        if (lang == "zh" || lang == "ja") {  // how it was segmented; "?" marks an unknown piece
          std::string seg;
          for (const auto& t : model.Tokens(q.text, lang)) {
            seg += (seg.empty() ? "" : "/") + t.word + (t.table.empty() ? "?" : "");
          }
          e += " [" + seg + "]";
        }
        e += " ->";
        for (int k = 0; k < 3; ++k) {
          char buf[32];
          std::snprintf(buf, sizeof(buf), " (%.2f)", other[k].first);
          e += " " + other[k].second->lang + " \"" + other[k].second->text + "\"" + buf;
        }
        examples.push_back(e);
      }
    }
    out += "| " + lang + " | " + std::to_string(n) + " | " + std::to_string(enc) + " | " +
           (glossed ? Percent(top1, glossed) : "-") + " | " + (glossed ? Percent(top5, glossed) : "-") +
           " | " + Percent(same, near) + " |\n";
  }
  out += "\nNearest titles in other languages to a cat title (cosine):\n\n";
  for (const std::string& e : examples) out += e + "\n";
  return out;
}

}  // namespace bf::textmodel
