#include "engine/server/glob.h"

#include <cstddef>
#include <utility>

namespace bf {
namespace {

unsigned char Fold(unsigned char c, bool nocase) {
  return nocase && c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c + 32) : c;
}

// The set starting at pattern[p] == '[': whether c is in it; *end is the
// index just past its ']'. false from the return and *end = npos when the
// set is not closed.
bool InSet(std::string_view pat, size_t p, unsigned char c, bool nocase, size_t* end) {
  size_t i = p + 1;
  const bool negate = i < pat.size() && pat[i] == '^';
  if (negate) ++i;
  bool hit = false;
  bool first = true;
  for (; i < pat.size() && (first || pat[i] != ']'); ++i, first = false) {
    unsigned char lo = static_cast<unsigned char>(pat[i]);
    if (lo == '\\' && i + 1 < pat.size()) lo = static_cast<unsigned char>(pat[++i]);
    unsigned char hi = lo;
    if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
      hi = static_cast<unsigned char>(pat[i + 2]);
      i += 2;
      if (hi == '\\' && i + 1 < pat.size()) hi = static_cast<unsigned char>(pat[++i]);
      if (lo > hi) std::swap(lo, hi);
    }
    const unsigned char x = Fold(c, nocase);
    if (Fold(lo, nocase) <= x && x <= Fold(hi, nocase)) hit = true;
  }
  if (i >= pat.size()) {
    *end = std::string_view::npos;
    return false;
  }
  *end = i + 1;
  return hit != negate;
}

}  // namespace

bool GlobMatch(std::string_view pat, std::string_view s, bool nocase) {
  // Iterative with one backtrack point for the last '*': linear in practice
  // and no recursion depth an attacker's pattern could grow.
  size_t p = 0, i = 0;
  size_t star_p = std::string_view::npos, star_i = 0;
  while (i < s.size()) {
    bool advanced = false;
    if (p < pat.size()) {
      const char pc = pat[p];
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (pc == '*') {
        star_p = p++;
        star_i = i;
        continue;
      }
      if (pc == '?') {
        ++p;
        advanced = true;
      } else if (pc == '[') {
        size_t end;
        if (InSet(pat, p, c, nocase, &end)) {
          p = end;
          advanced = true;
        } else if (end == std::string_view::npos && c == '[') {
          ++p;  // unclosed: a literal '['
          advanced = true;
        }
      } else if (pc == '\\' && p + 1 < pat.size()) {
        if (Fold(static_cast<unsigned char>(pat[p + 1]), nocase) == Fold(c, nocase)) {
          p += 2;
          advanced = true;
        }
      } else if (Fold(static_cast<unsigned char>(pc), nocase) == Fold(c, nocase)) {
        ++p;
        advanced = true;
      }
    }
    if (advanced) {
      ++i;
    } else if (star_p != std::string_view::npos) {
      p = star_p + 1;
      i = ++star_i;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace bf
