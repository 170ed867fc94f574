// bridgefeed-gen: writes the deterministic demo world (see tools/gen/world.h)
// as JSON Lines for bridgefeed-import.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "embeddings/text/text_model.h"
#include "tools/gen/world.h"

int main(int argc, char** argv) {
  bf::gen::WorldOptions options;
  std::string out_dir;
  bool quiet = false;
  CLI::App app{"bridgefeed-gen: writes a deterministic synthetic cross-cultural world\n"
               "(DIR/posts.jsonl, users.jsonl, events.jsonl) for bridgefeed-import."};
  app.add_option("--out-dir", out_dir, "Folder for the three files (created if missing)")
      ->required();
  app.add_option("--posts", options.posts, "Number of posts")->capture_default_str();
  app.add_option("--users", options.users, "Number of users (ids u:0 .. u:N-1)")
      ->capture_default_str();
  auto* dim = app.add_option("--dim", options.dim, "Vector dimension (with --text-model: the model's)")
                  ->capture_default_str();
  std::string text_model;
  app.add_option("--text-model", text_model,
                 "Lexicon file (./bridgefeed text-model): posts get the text vectors of their "
                 "titles in the authors' languages instead of the synthetic ones");
  app.add_option("--text-noise", options.text_noise,
                 "With --text-model: noise of this length added to each post's text vector, so "
                 "posts with one title differ (0 to 2; ./bridgefeed run uses 0.4)")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Random seed: same arguments, same bytes")
      ->capture_default_str();
  app.add_option("--now", options.now,
                 "Newest timestamp (Unix seconds); a constant by default for determinism, "
                 "use $(date +%s) for a live demo")
      ->capture_default_str();
  app.add_option("--days", options.days, "Posts and events span this many days before --now")
      ->capture_default_str();
  app.add_flag("--quiet", quiet, "No progress on stderr");
  CLI11_PARSE(app, argc, argv);

  std::unique_ptr<bf::text::TextModel> model;
  if (!text_model.empty()) {
    auto loaded = bf::text::TextModel::Load(text_model);
    if (!loaded.ok()) {
      std::fprintf(stderr, "bridgefeed-gen: %s\n", loaded.status().message().c_str());
      return 1;
    }
    model = std::move(loaded).value();
    options.text_model = model.get();
    if (dim->count() == 0) options.dim = model->dim();
  }
  if (const bf::Status s = bf::gen::ValidateOptions(options); !s.ok()) {
    std::fprintf(stderr, "bridgefeed-gen: %s\n", s.message().c_str());
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "bridgefeed-gen: cannot create %s: %s\n", out_dir.c_str(),
                 ec.message().c_str());
    return 1;
  }

  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  bf::gen::ProgressFn progress = [&](std::string_view phase, int64_t done, int64_t total) {
    if (!tty && done != total) return;  // a log file gets only each phase's last line
    std::fprintf(stderr, "\r%-6.*s %lld/%lld (%3.0f%%) %6.1fs", static_cast<int>(phase.size()),
                 phase.data(), static_cast<long long>(done), static_cast<long long>(total),
                 total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0,
                 seconds());
    if (done == total) std::fputc('\n', stderr);
  };
  auto counts = bf::gen::GenerateWorld(options, out_dir, quiet ? nullptr : progress);
  if (!counts.ok()) {
    std::fprintf(stderr, "bridgefeed-gen: %s\n", counts.status().ToString().c_str());
    return 1;
  }
  auto mb = [](uint64_t b) { return static_cast<double>(b) / (1 << 20); };
  std::fprintf(stderr,
               "wrote %s: %lld posts (%.1f MiB), %lld users (%.1f MiB), %lld events (%.1f MiB) "
               "in %.1fs\n",
               out_dir.c_str(), static_cast<long long>(counts->posts), mb(counts->posts_bytes),
               static_cast<long long>(counts->users), mb(counts->users_bytes),
               static_cast<long long>(counts->events), mb(counts->events_bytes), seconds());
  return 0;
}
