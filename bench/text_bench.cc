// text_bench: the text model on one core. Encodes the demo catalogue's titles
// (every language, round-robin) with their LANG and with the language detected,
// and loads the lexicon file. Needs the lexicon: ./bridgefeed text-model (or
// BF_TEXT_MODEL=FILE); skipped without it. Target: 50k titles/s (issue 15).
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "embeddings/text/text_model.h"
#include "tools/gen/catalog.h"

namespace {

std::string LexiconPath() {
  if (const char* p = std::getenv("BF_TEXT_MODEL"); p != nullptr && *p != '\0') return p;
  const char* cache = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const std::string root = cache != nullptr && *cache != '\0'
                               ? std::string(cache)
                               : std::string(home != nullptr ? home : ".") + "/.cache";
  return root + "/bridgefeed/text/lexicon-v5.bin";
}

struct Titles {
  std::vector<std::string> text, lang;
};

const Titles& CatalogueTitles() {
  static const Titles titles = [] {
    Titles t;
    for (const std::string lang : {"zh", "en", "ja", "pt", "fr", "es"}) {
      for (int topic = 0; topic < bf::gen::kTopicCount; ++topic) {
        for (const auto& title : bf::gen::Titles(topic, lang)) {
          std::string s(title.text);
          if (const size_t at = s.find("{n}"); at != std::string::npos) s.replace(at, 3, "12");
          t.text.push_back(s);
          t.lang.push_back(lang);
        }
      }
    }
    return t;
  }();
  return titles;
}

const bf::text::TextModel* Model(benchmark::State& state) {
  static std::unique_ptr<bf::text::TextModel> model;
  static std::string error;
  if (model == nullptr && error.empty()) {
    auto m = bf::text::TextModel::Load(LexiconPath());
    if (m.ok()) {
      model = std::move(m).value();
    } else {
      error = m.status().ToString() + " (run ./bridgefeed text-model)";
    }
  }
  if (model == nullptr) state.SkipWithError(error.c_str());
  return model.get();
}

void BM_EncodeTitle(benchmark::State& state, bool with_lang) {
  const bf::text::TextModel* m = Model(state);
  if (m == nullptr) return;
  const Titles& t = CatalogueTitles();
  size_t i = 0, failed = 0;
  for (auto _ : state) {
    auto v = m->Encode(t.text[i], with_lang ? t.lang[i] : std::string());
    failed += v.ok() ? 0 : 1;
    benchmark::DoNotOptimize(v);
    if (++i == t.text.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["titles"] = static_cast<double>(t.text.size());
  state.counters["no_known_word"] = static_cast<double>(failed);
}
BENCHMARK_CAPTURE(BM_EncodeTitle, with_lang, true);
BENCHMARK_CAPTURE(BM_EncodeTitle, detected, false);

void BM_Load(benchmark::State& state) {
  const std::string path = LexiconPath();
  if (!std::filesystem::exists(path)) {
    state.SkipWithError("no lexicon (run ./bridgefeed text-model)");
    return;
  }
  for (auto _ : state) {
    auto m = bf::text::TextModel::Load(path);
    if (!m.ok()) state.SkipWithError(m.status().ToString().c_str());
    benchmark::DoNotOptimize(m);
  }
  state.counters["MiB"] = static_cast<double>(std::filesystem::file_size(path)) / (1 << 20);
}
BENCHMARK(BM_Load)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
