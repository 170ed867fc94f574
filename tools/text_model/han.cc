#include "tools/text_model/han.h"

#include <algorithm>

namespace bf::textmodel {

bool AllHan(const std::string& s) {
  if (s.empty() || s.size() % 3 != 0) return false;
  for (size_t i = 0; i < s.size(); i += 3) {
    // U+3400..U+9FFF is E3 90 80 .. E9 BF BF in UTF-8.
    const auto b0 = static_cast<unsigned char>(s[i]);
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    const auto b2 = static_cast<unsigned char>(s[i + 2]);
    if (b0 < 0xE3 || b0 > 0xE9 || (b0 == 0xE3 && b1 < 0x90)) return false;
    if ((b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80) return false;
  }
  return true;
}

void HanSimplifier::Learn(const std::string& traditional, const std::string& simplified) {
  if (traditional != simplified && traditional.size() == 3 && simplified.size() == 3 &&
      AllHan(traditional) && AllHan(simplified)) {
    ++votes_[traditional][simplified];
  }
}

std::string HanSimplifier::Simplify(const std::string& s) const {
  if (!AllHan(s)) return s;
  std::string out;
  for (size_t i = 0; i < s.size(); i += 3) {
    const std::string c = s.substr(i, 3);
    auto it = votes_.find(c);
    if (it == votes_.end()) {
      out += c;
      continue;
    }
    // The most lines; on a tie the smaller string, so a build does not depend on hash order.
    auto best = std::max_element(it->second.begin(), it->second.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second < b.second : a.first > b.first;
    });
    out += best->first;
  }
  return out;
}

}  // namespace bf::textmodel
