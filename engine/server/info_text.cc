#include "engine/server/info_text.h"

#include <cmath>
#include <string>

namespace bf {

InfoFields TextFields(const Engine& engine) {
  InfoFields out;
  const std::optional<text::TextModel::Info> info = engine.TextModelInfo();
  out.emplace_back("text_model_loaded", info ? "1" : "0");
  if (!info) return out;
  // INFO is line-based: a path with a line break would end the field early.
  std::string path = info->path;
  for (char& c : path) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  out.emplace_back("text_model_path", path);
  out.emplace_back("text_model_dim", std::to_string(info->dim));
  out.emplace_back("text_model_load_ms", std::to_string(std::llround(info->load_seconds * 1000)));
  std::string codes;
  for (const auto& l : info->languages) codes += (codes.empty() ? "" : ",") + l.code;
  out.emplace_back("text_languages", codes);
  for (const auto& l : info->languages) {
    out.emplace_back("text_lang_" + l.code, "words=" + std::to_string(l.words) +
                                                ",vectors=" + std::to_string(l.vectors) +
                                                ",empty=" + std::to_string(l.empty));
  }
  return out;
}

}  // namespace bf
