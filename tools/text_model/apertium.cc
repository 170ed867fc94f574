#include "tools/text_model/apertium.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <unordered_map>

#include "embeddings/text/script.h"

namespace bf::textmodel {
namespace {

// Runs lt-proc [flag] fst over input; its stdout, or IOError.
Result<std::string> LtProc(const std::string& flag, const std::string& fst,
                           const std::string& input) {
  if (!std::filesystem::exists(fst)) {
    return Status::IOError("cannot open " + fst + " (Debian package apertium-eng-spa)");
  }
  char tmpl[] = "/tmp/bf-apertium-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  if (fd < 0) return Status::IOError("cannot create a temporary file");
  ::close(fd);
  const std::string in = tmpl;
  std::ofstream(in, std::ios::binary) << input;
  const std::string cmd = "lt-proc " + flag + " '" + fst + "' < '" + in + "' 2>/dev/null";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    std::filesystem::remove(in);
    return Status::IOError("cannot run lt-proc (Debian package lttoolbox)");
  }
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int rc = ::pclose(pipe);
  std::filesystem::remove(in);
  if (rc != 0) return Status::IOError("lt-proc failed on " + fst);
  return out;
}

}  // namespace

std::vector<std::vector<std::string>> LtprocUnits(std::string_view out) {
  std::vector<std::vector<std::string>> units;
  bool in_unit = false;
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (c == '\\' && i + 1 < out.size()) {
      if (in_unit) units.back().back() += out[++i];
      else ++i;
    } else if (!in_unit && c == '^') {
      in_unit = true;
      units.emplace_back(1);
    } else if (in_unit && c == '$') {
      in_unit = false;
    } else if (in_unit && c == '/') {
      units.back().emplace_back();
    } else if (in_unit) {
      units.back().back() += c;
    }
  }
  if (in_unit) units.pop_back();  // truncated
  return units;
}

std::string LtprocLemma(std::string_view analysis) {
  if (analysis.empty() || analysis[0] == '*' || analysis[0] == '@' || analysis[0] == '#') return "";
  std::string lemma;
  bool in_tag = false;
  for (char c : analysis) {
    if (c == '<') in_tag = true;
    else if (c == '>') in_tag = false;
    else if (!in_tag && c != '#') lemma += c;
  }
  return text::Lower(lemma);
}

Result<size_t> ReadApertiumPairs(
    const std::string& dir, const std::string& pair, const std::vector<std::string>& words,
    const std::function<void(const std::string&, const text::Senses&)>& fn) {
  std::string input;
  for (const std::string& w : words) input += w + "\n";
  auto analysed = LtProc("", dir + "/" + pair + ".automorf.bin", input);
  if (!analysed.ok()) return analysed.status();
  // Every analysis once, in order: the bilingual dictionary's input.
  std::vector<std::string> analyses;
  std::unordered_map<std::string, size_t> seen;
  for (const auto& unit : LtprocUnits(*analysed)) {
    for (size_t i = 1; i < unit.size(); ++i) {
      if (LtprocLemma(unit[i]).empty() || !seen.emplace(unit[i], analyses.size()).second) continue;
      analyses.push_back(unit[i]);  // lemma and tags: the bilingual key
    }
  }
  std::string bil_in;
  for (const std::string& a : analyses) bil_in += "^" + a + "$\n";
  auto translated = LtProc("-b", dir + "/" + pair + ".autobil.bin", bil_in);
  if (!translated.ok()) return translated.status();
  // lemma -> its English lemmas, first found first.
  std::map<std::string, std::vector<std::string>> english;
  std::vector<std::string> order;
  for (const auto& unit : LtprocUnits(*translated)) {
    const std::string lemma = LtprocLemma(unit.empty() ? "" : unit[0]);
    if (lemma.empty()) continue;
    for (size_t i = 1; i < unit.size(); ++i) {
      const std::string en = LtprocLemma(unit[i]);
      if (en.empty()) continue;
      auto [it, fresh] = english.try_emplace(lemma);
      if (fresh) order.push_back(lemma);
      if (std::find(it->second.begin(), it->second.end(), en) == it->second.end()) {
        it->second.push_back(en);
      }
    }
  }
  for (const std::string& lemma : order) {
    text::Senses senses;
    for (const std::string& en : english[lemma]) senses.push_back({en});
    fn(lemma, senses);
  }
  return order.size();
}

}  // namespace bf::textmodel
