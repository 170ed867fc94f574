// bridgefeed-train: trains the model offline from a database, even one a
// server is running on (a RocksDB secondary instance: it never writes to the
// database), and writes a model file for the server's MODEL.LOAD. The
// training is the engine's own (engine/learn_from_store.h).
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <string>

#include <CLI/CLI.hpp>

#include "embeddings/learn/model_file.h"
#include "engine/engine.h"
#include "engine/learn_from_store.h"
#include "engine/store/layout.h"
#include "engine/store/store.h"
#include "tools/import/progress_bar.h"

namespace {

namespace fs = std::filesystem;

int Fail(const std::string& message) {
  std::fprintf(stderr, "bridgefeed-train: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir, out;
  bf::learn::AlsOptions als = bf::LearnDefaults();  // the server's, so MODEL.LOAD matches TRAIN
  CLI::App app{"bridgefeed-train: trains the model offline from a data dir (safe while a\n"
               "server runs on it) and writes a model file for MODEL.LOAD."};
  app.add_option("--data-dir", data_dir, "The server's data dir")->required();
  app.add_option("--out", out, "Model file to write (replaced atomically)")->required();
  app.add_option("--iterations", als.iterations, "ALS sweeps")->capture_default_str();
  app.add_option("--regularization", als.regularization,
                 "Weight toward 0 of rows without a prior")->capture_default_str();
  app.add_option("--prior-regularization", als.prior_regularization,
                 "Weight toward the prior of rows with one")->capture_default_str();
  app.add_option("--seed", als.seed, "Seed of the initial factors")->capture_default_str();
  app.add_option("--half-life-s", als.confidence.half_life_s,
                 "Seconds in which an event's weight halves (0: no decay)")->capture_default_str();
  app.add_option("--threads", als.threads, "Threads (0: one per core)")->capture_default_str();
  const char* kinds[] = {"view", "like", "save", "share", "comment", "hide", "report"};
  for (size_t k = 0; k < std::size(kinds); ++k) {
    app.add_option(std::string("--weight-") + kinds[k], als.confidence.weight[k],
                   std::string("Confidence a ") + kinds[k] + " adds (the server's --train-weight-" +
                       kinds[k] + ")")
        ->capture_default_str();
  }
  CLI11_PARSE(app, argc, argv);

  auto store = bf::Store::OpenReadOnly(data_dir);
  if (!store.ok()) return Fail(store.status().ToString());

  bf::ProgressBar bar("train", 10);
  const int iterations = als.iterations;
  auto trained = bf::TrainFromStore(**store, als, [&](const bf::learn::IterationReport& r) {
    bar(r.iteration, iterations);
    std::fprintf(stderr, "\niteration %d: loss %.6g (%.2f s)\n", r.iteration, r.loss, r.seconds);
  });
  if (!trained.ok()) return Fail(trained.status().ToString());
  if (bf::Status s = bf::learn::WriteModelFile(out, trained->model); !s.ok()) {
    return Fail(s.ToString());
  }
  const auto& h = trained->model.header;
  std::printf("model:   %d users, %d posts, dim %u, %lld events, %u iterations, loss %.6g, "
              "%.1f s\n",
              trained->model.users.rows, trained->model.items.rows, h.dim,
              static_cast<long long>(trained->events), h.iterations, h.loss, trained->seconds);
  std::printf("wrote:   %s (covers events up to %llu); load it with MODEL.LOAD %s\n", out.c_str(),
              static_cast<unsigned long long>(h.events_seq), out.c_str());
  return 0;
}
