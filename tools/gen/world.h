// The demo-world generator behind bridgefeed-gen: a deterministic synthetic
// cross-cultural feed (posts, users, a history of views and likes) written as
// the JSON Lines files bridgefeed-import reads.
//
// The world: cultures (CN majority, US next, a few small ones, see
// catalog.cc) post on everyday topics. A post's vector is its topic centre
// plus a smaller shift for the author's culture, the author's own style and
// noise, normalised: the same topic across cultures is close, not identical.
// Users read their interests, mostly at home and sometimes across cultures;
// whether a view becomes a like depends on the topic and on whether the post
// is cross-cultural, so cats and birds gather likes from several cultures and
// in-jokes do not. That gives the bridging score something to find.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "embeddings/status.h"

namespace bf::text {
class TextModel;
}

namespace bf::gen {

// 2025-01-23 00:00:00 UTC, ten days into the RedNote wave. A constant, not
// the clock, so the same arguments give the same bytes; pass --now
// $(date +%s) to make the posts fresh for a live demo.
inline constexpr int64_t kDefaultNow = 1737590400;

struct WorldOptions {
  int64_t posts = 50000;  // 1 .. 100,000,000
  int64_t users = 5000;   // 0 .. 100,000,000; ids are "u:0" .. "u:<users-1>"
  int dim = 64;           // 1 .. kMaxDim
  uint64_t seed = 42;
  int64_t now = kDefaultNow;  // newest possible timestamp (Unix seconds)
  int days = 30;              // posts and events fall in [now - days, now]
  double user_vector_rate = 0.9;  // share of users that get a vector
  // When set (not owned; dim must be its dimension), a post's vector is the
  // text vector of its title in the author's language, and topic centres are
  // the mean of their titles' vectors; otherwise the synthetic geometry above.
  const text::TextModel* text_model = nullptr;
  // With text_model: noise of this length added to each post's text vector
  // (then unit length again), so posts with the same title differ a little
  // and a page of neighbours mixes titles and languages. 0: none. 0 to 2.
  double text_noise = 0.0;
};

struct WorldCounts {
  int64_t posts = 0;
  int64_t users = 0;
  int64_t events = 0;
  uint64_t posts_bytes = 0;
  uint64_t users_bytes = 0;
  uint64_t events_bytes = 0;
};

// Called now and then while generating: phase ("posts", "users", "events"),
// items done, items in the phase.
using ProgressFn = std::function<void(std::string_view phase, int64_t done, int64_t total)>;

// Invalid naming the option when one is out of range.
Status ValidateOptions(const WorldOptions& options);

// Writes out_dir/posts.jsonl, users.jsonl and events.jsonl (out_dir must
// exist). Same options -> byte-identical files. Errors: Invalid for bad
// options, IOError when a file cannot be written.
Result<WorldCounts> GenerateWorld(const WorldOptions& options, const std::string& out_dir,
                                  const ProgressFn& progress = nullptr);

// Exposed for tests ----------------------------------------------------------

// Appends s as a JSON string literal (quotes, escapes for " \ and control
// bytes; UTF-8 passes through).
void AppendJsonString(std::string& out, std::string_view s);
// Appends a float with 4 significant digits: cosine similarities keep about
// 1e-4, far below the world's own noise, and a 1M-post file stays ~600 MB.
void AppendFloat(std::string& out, float v);

}  // namespace bf::gen
