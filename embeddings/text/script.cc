#include "embeddings/text/script.h"

#include <algorithm>

namespace bf::text {
namespace {

// Decodes one UTF-8 character at s[i]; advances i. Returns U+FFFD (and moves one
// byte) on an invalid or truncated sequence.
char32_t Next(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) { ++i; return b0; }
  int len = 0;
  char32_t c = 0;
  if ((b0 & 0xE0) == 0xC0) { len = 2; c = b0 & 0x1F; }
  else if ((b0 & 0xF0) == 0xE0) { len = 3; c = b0 & 0x0F; }
  else if ((b0 & 0xF8) == 0xF0) { len = 4; c = b0 & 0x07; }
  else { ++i; return 0xFFFD; }
  if (i + len > s.size()) { ++i; return 0xFFFD; }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) { ++i; return 0xFFFD; }
    c = (c << 6) | (b & 0x3F);
  }
  // Overlong forms and surrogates are invalid.
  static constexpr char32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kMin[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) { ++i; return 0xFFFD; }
  i += len;
  return c;
}

void Append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

char32_t ToLower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xC0) return c;
  if (c <= 0xDE && c != 0xD7) return c + 32;                      // Latin-1
  if (c >= 0x100 && c <= 0x137 && c % 2 == 0) return c + 1;       // Latin Extended-A
  if (c >= 0x139 && c <= 0x148 && c % 2 == 1) return c + 1;
  if (c >= 0x14A && c <= 0x177 && c % 2 == 0) return c + 1;
  if (c == 0x178) return 0xFF;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;      // Greek
  if (c >= 0x410 && c <= 0x42F) return c + 32;                    // Cyrillic
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

bool IsSplitter(char32_t c) {
  return c == '\'' || c == '-' || c == 0x2019 || c == 0x2010 || c == 0x2011;
}

}  // namespace

Script ScriptOf(char32_t c) {
  if (c < 0x80) {
    return ((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= '0' && c <= '9') ? Script::kLetter
                                                                             : Script::kOther;
  }
  if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
      (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FFFF) || c == 0x3005 ||
      c == 0x3007) {
    return Script::kHan;
  }
  if ((c >= 0x3041 && c <= 0x309F) || (c >= 0x30A0 && c <= 0x30FF) ||
      (c >= 0x31F0 && c <= 0x31FF) || (c >= 0xFF66 && c <= 0xFF9F)) {
    return c == 0x30FB ? Script::kOther : Script::kKana;  // the katakana middle dot separates
  }
  if (c == 0xD7 || c == 0xF7) return Script::kOther;
  if ((c >= 0xC0 && c <= 0x24F) || (c >= 0x370 && c <= 0x3FF && c != 0x37E && c != 0x387) ||
      (c >= 0x400 && c <= 0x52F) || (c >= 0x1E00 && c <= 0x1EFF)) {
    return Script::kLetter;
  }
  return Script::kOther;
}

std::vector<Run> SplitRuns(std::string_view text) {
  std::vector<Run> runs;
  size_t i = 0, start = 0;
  bool open = false, cjk = false, kana = false;
  auto close = [&](size_t end) {
    if (open) runs.push_back({cjk, kana, text.substr(start, end - start)});
    open = false;
  };
  while (i < text.size()) {
    const size_t at = i;
    const char32_t c = Next(text, i);
    const Script s = ScriptOf(c);
    // Apostrophes and hyphens stay inside a letter run; LetterWords splits on them.
    if (s == Script::kOther) {
      if (!(open && !cjk && IsSplitter(c))) close(at);
      continue;
    }
    const bool is_cjk = s == Script::kHan || s == Script::kKana;
    if (open && is_cjk != cjk) close(at);
    if (!open) {
      open = true;
      start = at;
      cjk = is_cjk;
      kana = false;
    }
    if (s == Script::kKana) kana = true;
  }
  close(text.size());
  return runs;
}

std::string Lower(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  size_t i = 0;
  while (i < word.size()) Append(out, ToLower(Next(word, i)));
  return out;
}

void LetterWords(std::string_view run, std::vector<std::string>& out) {
  size_t i = 0;
  std::string word;
  while (i < run.size()) {
    const char32_t c = Next(run, i);
    if (ScriptOf(c) == Script::kLetter) {
      Append(word, ToLower(c));
    } else if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
}

void LongestMatch(std::string_view run, int max_chars,
                  const std::function<bool(std::string_view)>& known,
                  const std::function<void(std::string_view)>& emit,
                  const std::function<void(std::string_view)>& skipped) {
  // Byte offset of each character start, and the end.
  std::vector<size_t> at;
  at.reserve(run.size() / 3 + 2);
  for (size_t i = 0; i < run.size();) {
    at.push_back(i);
    Next(run, i);
  }
  at.push_back(run.size());
  const size_t n = at.size() - 1;
  size_t pos = 0;
  while (pos < n) {
    size_t len = std::min<size_t>(static_cast<size_t>(max_chars), n - pos);
    for (; len > 0; --len) {
      if (known(run.substr(at[pos], at[pos + len] - at[pos]))) break;
    }
    if (len == 0) {
      if (skipped) skipped(run.substr(at[pos], at[pos + 1] - at[pos]));
      ++pos;
      continue;
    }
    emit(run.substr(at[pos], at[pos + len] - at[pos]));
    pos += len;
  }
}

std::string PrimaryLanguage(std::string_view tag) {
  std::string out;
  for (char c : tag) {
    if (c == '-' || c == '_') break;
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  return out;
}

std::string_view LanguageFromScript(std::string_view text) {
  bool han = false;
  for (size_t i = 0; i < text.size();) {
    const Script s = ScriptOf(Next(text, i));
    if (s == Script::kKana) return "ja";
    if (s == Script::kHan) han = true;
  }
  return han ? "zh" : "";
}

}  // namespace bf::text
