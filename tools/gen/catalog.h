// The demo world's fixed vocabulary: cultures, topics and title templates.
// Pure data; world.cc decides how it is sampled.
#pragma once

#include <span>
#include <string_view>

namespace bf::gen {

struct Culture {
  std::string_view code;        // canonical culture, e.g. "CN"
  double share;                 // share of posts, authors and users
  std::string_view lang;        // the language its posts are written in
  std::string_view second_lang; // a language some of its users also read
  double second_lang_rate;      // how many of them do
};

// Indexes into Topics(); fixed so world.cc can name the special ones.
enum TopicId : int {
  kCats, kDogs, kBirds, kCrafts, kCostume, kMusic, kFood, kFamily, kTravel, kLanguage, kHumour,
  kTopicCount
};

struct Topic {
  std::string_view name;
  std::span<const std::string_view> tags;
  // Chance that a view of a matching post becomes a positive event, for a
  // viewer of the author's culture.
  double like_rate;
  // Multiplier on like_rate when the viewer is from another culture: near 1
  // for what travels (cats, birds, crafts), low for in-jokes.
  double cross_factor;
  // Chance that a cross-cultural view ends in HIDE/REPORT (home: a quarter).
  double cross_hide_rate;
};

struct Title {
  std::string_view text;   // in the post's language; "{n}" is replaced by a number
  std::string_view gloss;  // short English gloss; empty for English titles
};

std::span<const Culture> Cultures();
std::span<const Topic> Topics();

// How popular a topic is among a culture's authors and users (1 = average):
// historical costume is mostly a Chinese topic, country music an American one.
double TopicWeight(int topic, std::string_view culture);

// Title templates of a topic in a language; falls back to English when the
// language has none.
std::span<const Title> Titles(int topic, std::string_view lang);

}  // namespace bf::gen
