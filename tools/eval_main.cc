// bridgefeed-eval: offline evaluation of the learned model on a per-user
// temporal split, against most-popular and exact search on given vectors.
// Settings are chosen on a validation split carved from the training part;
// the held-out figures are measured once, with the chosen settings.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <spdlog/spdlog.h>

#include "engine/store/limits.h"
#include "tools/eval/dataset.h"
#include "tools/eval/engine_recommender.h"
#include "tools/eval/metrics.h"
#include "tools/eval/recommender.h"
#include "tools/eval/split.h"
#include "tools/eval/tune.h"

namespace {

using namespace bf::eval;

std::string Num(double v) {
  if (std::isnan(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

std::string Cell(double v) { return std::isnan(v) ? "-" : Num(v); }

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

std::string MetricsJson(const std::string& part, const Metrics& m) {
  return "{\"part\":" + Quote(part) + ",\"method\":" + Quote(m.name) +
         ",\"users\":" + std::to_string(m.users) + ",\"recall\":" + Num(m.recall) +
         ",\"ndcg\":" + Num(m.ndcg) + ",\"coverage\":" + Num(m.coverage) +
         ",\"ils\":" + Num(m.ils) + ",\"cross\":" + Num(m.cross) + "}";
}

std::string SettingJson(const Setting& s) {
  const auto& w = s.als.confidence.weight;
  std::string weights;
  for (int k = 0; k < bf::learn::kEventKinds; ++k) {
    weights += (k ? "," : "") + Quote(std::string(bf::EventTypeWord(static_cast<bf::EventType>(k)))) +
               ":" + Num(w[k]);
  }
  return "{\"weights\":{" + weights + "},\"regularization\":" + Num(s.als.regularization) +
         ",\"prior_regularization\":" + (s.priors ? Num(s.als.prior_regularization) : "null") +
         ",\"iterations\":" + std::to_string(s.als.iterations) + ",\"dim\":" +
         std::to_string(s.als.dim) + ",\"metric\":" + Quote(MetricName(s.metric)) +
         ",\"priors\":" + (s.priors ? "true" : "false") + "}";
}

constexpr const char* kFeedDefault = "feed (model factors)";

// FEED through a temporary engine: the model's factors at the default
// ranking settings, the users' live fold-in vectors instead of their
// factors, and (on validation, to choose it) other MMR lambdas. On the
// held-out part *ranking's lambda, chosen on validation, is measured too
// when it is not the default.
bf::Result<std::vector<Metrics>> MeasureThroughEngine(const Dataset& d, const Split& part,
                                                      const bf::learn::AlsModel& model,
                                                      const EvalSetup& setup, bool validation,
                                                      bf::RankingOptions* ranking, bool quiet) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("bf_eval_engine_" + std::to_string(::getpid())))
                              .string();
  const bf::RankingOptions defaults;
  std::vector<Metrics> out;
  auto measure = [&](UserVectors users, const bf::RankingOptions& r,
                     const std::string& name) -> bf::Status {
    const auto t0 = std::chrono::steady_clock::now();
    auto rec = EngineRecommender::Create(d, part, model, users, r, dir);
    if (!rec.ok()) return rec.status();
    Metrics m = Evaluate(**rec, setup);
    m.name = name;
    if ((*rec)->errors() > 0) {
      return bf::Status::Internal(std::to_string((*rec)->errors()) + " FEEDs failed");
    }
    if (!quiet) {
      std::fprintf(stderr, "  %s recall@%d %.4f (%.1f s)\n", name.c_str(), setup.k, m.recall,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    out.push_back(std::move(m));
    return bf::Status::OK();
  };
  BF_RETURN_IF_ERROR(measure(UserVectors::kModelFactors, defaults, kFeedDefault));
  if (validation) {
    double best = out.back().recall;
    ranking->mmr_lambda = defaults.mmr_lambda;
    for (double lambda : {0.5, 0.65, 0.9, 1.0}) {
      bf::RankingOptions r = defaults;
      r.mmr_lambda = lambda;
      BF_RETURN_IF_ERROR(measure(UserVectors::kModelFactors, r,
                                 "feed (model factors), mmr " + Num(lambda).substr(0, 4)));
      if (out.back().recall > best) {
        best = out.back().recall;
        ranking->mmr_lambda = lambda;
      }
    }
  } else if (ranking->mmr_lambda != defaults.mmr_lambda) {
    BF_RETURN_IF_ERROR(measure(UserVectors::kModelFactors, *ranking,
                               "feed (model factors), mmr " + Num(ranking->mmr_lambda).substr(0, 4)));
  }
  BF_RETURN_IF_ERROR(measure(UserVectors::kFoldIn, defaults, "feed (live fold-in)"));
  BF_RETURN_IF_ERROR(
      measure(UserVectors::kTrainedInEngine, defaults, "feed (trained in engine, ip)"));
  // The bridging weight, on validation only and only where posts have cultures: what it
  // costs or gains in recall (docs/ranking.md). Freshness cannot be measured here: every
  // post enters the engine at one time.
  if (validation && !d.item_culture.empty()) {
    for (double w : {0.0, 1.0}) {
      bf::RankingOptions r = defaults;
      r.w_bridge = w;
      BF_RETURN_IF_ERROR(measure(UserVectors::kTrainedInEngine, r,
                                 "feed (trained in engine, ip), w_bridge " + Num(w).substr(0, 3)));
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string movielens, events, posts, users, json_out;
  int k = 20, dim = 64, threads = 0;
  double train_share = 0.8;
  bool no_tune = false, quiet = false, no_priors = false, through_engine = false;
  Setting start;
  start.als.iterations = 15;
  start.als.regularization = 1;
  start.als = WithWeights(start.als, 10, 1);

  CLI::App app{"bridgefeed-eval: trains the implicit-feedback model on each user's earlier\n"
               "events and measures how well it ranks their later positives (docs/learning.md)."};
  app.add_option("--movielens", movielens, "MovieLens ratings CSV (userId,movieId,rating,timestamp)");
  app.add_option("--events", events, "Events as JSON Lines (bridgefeed-gen's events.jsonl)");
  app.add_option("--posts", posts, "Posts as JSON Lines: vectors (priors) and cultures");
  app.add_option("--users", users, "Users as JSON Lines: vectors (priors) and cultures");
  app.add_option("--k", k, "List length K")->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--dim", dim, "Factors per row (the database dimension; the given vectors' if any)")
      ->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("--train-share", train_share, "Share of each user's events, by time, that trains")
      ->capture_default_str()->check(CLI::Range(0.05, 0.95));
  app.add_option("--threads", threads, "Threads (0: all cores)")->capture_default_str();
  app.add_option("--json", json_out, "Write the results as JSON to this file");
  app.add_flag("--no-tune", no_tune, "Skip the validation search; use the defaults");
  app.add_flag("--no-priors", no_priors, "Ignore given vectors as priors");
  app.add_flag("--quiet", quiet, "No progress on stderr");
  app.add_flag("--engine", through_engine,
               "Also measure through the engine's FEED (a temporary engine holding the training "
               "part; MMR lambda chosen on validation)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);  // the engine's start-up lines are not results
  if (movielens.empty() == events.empty()) {
    std::fprintf(stderr, "bridgefeed-eval: give exactly one of --movielens and --events\n");
    return 2;
  }

  auto loaded = movielens.empty() ? LoadJsonLines(events, posts, users) : LoadMovieLensCsv(movielens);
  if (!loaded.ok()) {
    std::fprintf(stderr, "bridgefeed-eval: %s\n", loaded.status().message().c_str());
    return 1;
  }
  const Dataset& d = *loaded;
  if (d.dim != 0 && d.dim != dim) {
    if (!quiet) std::fprintf(stderr, "bridgefeed-eval: factors = the given vectors' dimension, %d\n", d.dim);
    dim = d.dim;
  }
  start.als.dim = dim;
  start.als.threads = threads;
  start.priors = !no_priors && (!d.item_vectors.present.empty() || !d.user_vectors.present.empty());

  const Split test = TemporalSplit(d.events, d.users(), train_share);
  const Split validation = TemporalSplit(test.train, d.users(), train_share);
  std::printf("data: %s: %d users, %d items, %zu events; dim %d\n", d.name.c_str(), d.users(),
              d.items(), d.events.size(), dim);
  std::printf("split: each user's first %.0f%% by time trains; later positives are held out "
              "(%lld users); validation: the same split of the training part (%lld users)\n",
              100 * train_share, static_cast<long long>(test.held_out_users()),
              static_cast<long long>(validation.held_out_users()));
  if (test.held_out_users() == 0 || validation.held_out_users() == 0) {
    std::fprintf(stderr, "bridgefeed-eval: no user has held-out positives: nothing to measure\n");
    return 1;
  }

  EvalSetup setup;
  setup.items = d.items();
  setup.k = k;
  setup.threads = threads;
  setup.user_culture = &d.user_culture;
  setup.item_culture = &d.item_culture;

  std::vector<Trial> trials;
  Setting chosen = start;
  const auto t0 = std::chrono::steady_clock::now();
  if (!no_tune) {
    auto tuned = Tune(d, validation, start, TuneSpace{}, setup, [&](const Trial& t) {
      if (!quiet) {
        std::fprintf(stderr, "  validation recall@%d %.4f ndcg %.4f  %s\n", k, t.metrics.recall,
                     t.metrics.ndcg, Describe(t.setting).c_str());
      }
    });
    if (!tuned.ok()) {
      std::fprintf(stderr, "bridgefeed-eval: %s\n", tuned.status().message().c_str());
      return 1;
    }
    trials = std::move(tuned).value();
    chosen = Best(trials).setting;
  }
  const double tune_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Validation figures of the chosen setting and its baselines, then held-out, once.
  struct Row {
    std::string part;
    Metrics m;
  };
  std::vector<Row> rows;
  double train_s = 0;
  bf::RankingOptions feed_ranking;  // the defaults; MMR lambda chosen on validation
  for (const auto* part : {&validation, &test}) {
    const std::string name = part == &test ? "held-out" : "validation";
    const auto t1 = std::chrono::steady_clock::now();
    auto model = TrainModel(d, part->train, chosen);
    if (!model.ok()) {
      std::fprintf(stderr, "bridgefeed-eval: %s\n", model.status().message().c_str());
      return 1;
    }
    if (part == &test) {
      train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    }
    EvalSetup e = setup;
    e.split = part;
    // Similarity for ils: the given vectors where they exist, else the model's factors.
    bf::learn::Factors given_items;
    std::optional<Metrics> given;
    if (!d.item_vectors.present.empty()) {
      GivenVectorRecommender g(d.user_vectors, d.item_vectors, d.dim, part->train, d.users(),
                               d.items());
      given_items.dim = d.dim;
      given_items.rows = d.items();
      given_items.values = d.item_vectors.values;
      given_items.state.assign(d.items(), bf::learn::RowState::kPrior);
      e.similarity = &given_items;
      given = Evaluate(g, e);
    } else {
      e.similarity = &model->items;
    }
    const Metric other = chosen.metric == Metric::kCosine ? Metric::kInnerProduct : Metric::kCosine;
    const std::string label = chosen.priors ? "als+prior" : "als";
    FactorRecommender als(label + " (" + MetricName(chosen.metric) + ")", model->users,
                          model->items, chosen.metric);
    FactorRecommender als_other(label + " (" + MetricName(other) + ")", model->users,
                                model->items, other);
    PopularRecommender pop(part->train, d.items());
    std::vector<Row> part_rows = {{name, Evaluate(als, e)}, {name, Evaluate(als_other, e)},
                                  {name, Evaluate(pop, e)}};
    if (chosen.priors) {
      Setting plain = chosen;
      plain.priors = false;
      auto bare = TrainModel(d, part->train, plain);
      if (bare.ok()) {
        FactorRecommender r(std::string("als, no prior (") + MetricName(chosen.metric) + ")",
                            bare->users, bare->items, chosen.metric);
        part_rows.push_back({name, Evaluate(r, e)});
      }
    }
    if (given) part_rows.push_back({name, *given});
    if (through_engine) {
      auto feed_rows = MeasureThroughEngine(d, *part, *model, e, part == &validation,
                                            &feed_ranking, quiet);
      if (!feed_rows.ok()) {
        std::fprintf(stderr, "bridgefeed-eval: engine: %s\n", feed_rows.status().message().c_str());
        return 1;
      }
      for (Metrics& m : *feed_rows) part_rows.push_back({name, std::move(m)});
    }
    rows.insert(rows.end(), part_rows.begin(), part_rows.end());
  }

  std::printf("chosen on validation (%zu trials, %.1f s): %s\n", trials.size(), tune_s,
              Describe(chosen).c_str());
  std::printf("training on the full training part: %.2f s\n\n", train_s);
  std::printf("%-11s %-26s %9s %9s %9s %7s %7s\n", "part", "method",
              ("recall@" + std::to_string(k)).c_str(), ("ndcg@" + std::to_string(k)).c_str(),
              "coverage", "ils", "cross");
  double pop_recall = 0, als_recall = 0, feed_recall = 0, trained_recall = 0;
  for (const Row& r : rows) {
    std::printf("%-11s %-26s %9s %9s %9s %7s %7s\n", r.part.c_str(), r.m.name.c_str(),
                Cell(r.m.recall).c_str(), Cell(r.m.ndcg).c_str(), Cell(r.m.coverage).c_str(),
                Cell(r.m.ils).c_str(), Cell(r.m.cross).c_str());
    if (r.part == "held-out" && r.m.name == "most-popular") pop_recall = r.m.recall;
    if (r.part == "held-out" && als_recall == 0 && r.m.name.rfind("als", 0) == 0) {
      als_recall = r.m.recall;
    }
    if (r.part == "held-out" && r.m.name == kFeedDefault) feed_recall = r.m.recall;
    if (r.part == "held-out" && r.m.name == "feed (trained in engine, ip)") {
      trained_recall = r.m.recall;
    }
  }
  if (pop_recall > 0) {
    std::printf("\nheld-out recall@%d: learned model %.4f = %.2fx most-popular (%.4f)\n", k,
                als_recall, als_recall / pop_recall, pop_recall);
    if (through_engine) {
      std::printf("held-out recall@%d through FEED at the default ranking settings: %.4f = "
                  "%.2fx most-popular\n", k, feed_recall, feed_recall / pop_recall);
      std::printf("held-out recall@%d through FEED, trained in the engine from raw events "
                  "(TRAIN, --metric ip, default settings): %.4f = %.2fx most-popular\n", k,
                  trained_recall, trained_recall / pop_recall);
    }
  }

  if (!json_out.empty()) {
    std::string j = "{\"data\":" + Quote(d.name) + ",\"users\":" + std::to_string(d.users()) +
                    ",\"items\":" + std::to_string(d.items()) +
                    ",\"events\":" + std::to_string(d.events.size()) +
                    ",\"k\":" + std::to_string(k) + ",\"train_share\":" + Num(train_share) +
                    ",\"chosen\":" + SettingJson(chosen) + ",\"train_seconds\":" + Num(train_s) +
                    ",\"results\":[";
    for (size_t n = 0; n < rows.size(); ++n) j += (n ? "," : "") + MetricsJson(rows[n].part, rows[n].m);
    j += "],\"trials\":[";
    for (size_t n = 0; n < trials.size(); ++n) {
      j += (n ? "," : "") + std::string("{\"setting\":") + SettingJson(trials[n].setting) +
           ",\"recall\":" + Num(trials[n].metrics.recall) +
           ",\"ndcg\":" + Num(trials[n].metrics.ndcg) + "}";
    }
    j += "]}\n";
    std::ofstream out(json_out);
    out << j;
    if (!out) {
      std::fprintf(stderr, "bridgefeed-eval: cannot write %s\n", json_out.c_str());
      return 1;
    }
  }
  return 0;
}
