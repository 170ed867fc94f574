#include "tools/text_model/sources.h"

#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <simdjson.h>

#include "embeddings/text/script.h"

namespace bf::textmodel {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::IOError("cannot open " + path);
  std::ostringstream s;
  s << f.rdbuf();
  if (!f && !f.eof()) return Status::IOError("cannot read " + path);
  return s.str();
}

Result<std::string> ReadGzip(const std::string& path) {
  gzFile g = gzopen(path.c_str(), "rb");
  if (g == nullptr) return Status::IOError("cannot open " + path);
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(g, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  const bool bad = n < 0;
  gzclose(g);
  if (bad) return Status::Corruption("cannot decompress " + path);
  return out;
}

// dictd's base64 numbers: most significant digit first.
bool Base64Number(std::string_view s, uint64_t& out) {
  out = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else return false;
    out = out * 64 + static_cast<uint64_t>(v);
  }
  return !s.empty();
}

std::string RootOf(const std::string& line) {
  // "gato/S" -> "gato"; a "\/" is an escaped slash, rare enough to ignore.
  const size_t slash = line.find('/');
  std::string root = line.substr(0, slash);
  const size_t tab = root.find_first_of("\t ");
  if (tab != std::string::npos) root.resize(tab);
  return root;
}

}  // namespace

Result<EnglishVectors> ReadWinkGlove(const std::string& path, size_t max_words) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.load(path).get(doc); err) {
    return Status::Corruption(path + ": " + simdjson::error_message(err));
  }
  EnglishVectors out;
  int64_t dim = 0;
  simdjson::dom::array words;
  simdjson::dom::object vectors;
  if (doc["dimensions"].get_int64().get(dim) || doc["words"].get_array().get(words) ||
      doc["vectors"].get_object().get(vectors) || dim <= 0 || dim > 4096) {
    return Status::Corruption(path + ": not a wink-embeddings file");
  }
  out.dim = static_cast<int>(dim);
  // A DOM object finds a key by a linear scan: index the vectors once.
  std::unordered_map<std::string_view, simdjson::dom::array> by_word;
  by_word.reserve(vectors.size());
  for (auto field : vectors) {
    simdjson::dom::array a;
    if (!field.value.get_array().get(a)) by_word.emplace(field.key, a);
  }
  for (simdjson::dom::element w : words) {
    if (out.words.size() >= max_words) break;
    std::string_view word;
    if (w.get_string().get(word)) continue;
    auto found = by_word.find(word);
    if (found == by_word.end()) continue;
    simdjson::dom::array vec = found->second;
    size_t k = 0;
    for (simdjson::dom::element x : vec) {
      if (k == static_cast<size_t>(dim)) break;  // then its norm and index
      double v;
      if (x.get_double().get(v)) return Status::Corruption(path + ": bad vector of " + std::string(word));
      out.vectors.push_back(static_cast<float>(v));
      ++k;
    }
    if (k != static_cast<size_t>(dim)) return Status::Corruption(path + ": short vector");
    out.words.emplace_back(word);
  }
  return out;
}

Result<size_t> ReadCedict(
    const std::string& path,
    const std::function<void(const std::string&, const std::string&, const text::Senses&)>& fn) {
  auto data = ReadFile(path);
  if (!data.ok()) return data.status();
  std::istringstream in(*data);
  std::string line, trad, simp;
  text::Senses senses;
  size_t n = 0;
  while (std::getline(in, line)) {
    if (line.size() >= 2 && line.compare(line.size() - 2, 2, "`;") == 0) line.resize(line.size() - 2);
    if (!text::ParseCedictLine(line, trad, simp, senses)) continue;
    if (senses.empty()) continue;
    fn(trad, simp, senses);
    ++n;
  }
  if (n == 0) return Status::Corruption(path + ": no CC-CEDICT entries");
  return n;
}

Result<size_t> ReadFreeDict(
    const std::string& dir, const std::string& name,
    const std::function<void(const std::string&, const text::Senses&, bool)>& fn) {
  const std::string base = dir + "/freedict-" + name;
  auto index = ReadFile(base + ".index");
  if (!index.ok()) return index.status();
  auto dict = ReadGzip(base + ".dict.dz");
  if (!dict.ok()) return dict.status();
  std::istringstream in(*index);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    const size_t t1 = line.find('\t');
    const size_t t2 = line.find('\t', t1 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos) continue;
    const std::string head = line.substr(0, t1);
    if (head.rfind("00database", 0) == 0 || head.rfind("00-database", 0) == 0) continue;
    uint64_t off, len;
    if (!Base64Number(std::string_view(line).substr(t1 + 1, t2 - t1 - 1), off) ||
        !Base64Number(std::string_view(line).substr(t2 + 1), len) || off > dict->size() ||
        len > dict->size() - off) {
      continue;
    }
    bool function_word = false;
    const text::Senses senses =
        text::ParseFreeDictEntry(std::string_view(*dict).substr(off, len), &function_word);
    if (senses.empty()) continue;
    fn(head, senses, function_word);
    ++n;
  }
  if (n == 0) return Status::Corruption(base + ": no entries");
  return n;
}

Result<std::vector<std::string>> ReadHunspellRoots(const std::string& dir, const std::string& dict) {
  auto data = ReadFile(dir + "/" + dict + ".dic");
  if (!data.ok()) return data.status();
  std::istringstream in(*data);
  std::string line;
  std::vector<std::string> roots;
  std::getline(in, line);  // the count
  while (std::getline(in, line)) {
    std::string r = RootOf(line);
    if (!r.empty()) roots.push_back(std::move(r));
  }
  return roots;
}

Result<size_t> Unmunch(const std::string& dir, const std::string& dict,
                       const std::function<bool(const std::string&)>& is_lemma,
                       std::vector<std::string>& roots,
                       const std::function<void(std::string&)>& line_fn) {
  const std::string dic = dir + "/" + dict + ".dic", aff = dir + "/" + dict + ".aff";
  auto data = ReadFile(dic);
  if (!data.ok()) return data.status();
  // Only the roots that are lemmas: unmunch of a whole dictionary can give 80M forms (pt_BR).
  std::istringstream in(*data);
  std::string line, kept;
  roots.clear();
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string root = RootOf(line);
    if (!root.empty() && is_lemma(text::Lower(root))) {
      kept += line + "\n";
      roots.push_back(std::move(root));
    }
  }
  char tmpl[] = "/tmp/bf-text-model-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  if (fd < 0) return Status::IOError("cannot create a temporary file");
  ::close(fd);
  const std::string filtered = tmpl;
  {
    std::ofstream f(filtered, std::ios::binary);
    f << roots.size() << "\n" << kept;
    if (!f) return Status::IOError("cannot write " + filtered);
  }
  const std::string cmd = "unmunch '" + filtered + "' '" + aff + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
  if (!pipe) {
    std::filesystem::remove(filtered);
    return Status::IOError("cannot run unmunch (Debian package hunspell-tools)");
  }
  size_t lines = 0;
  char buf[4096];
  while (std::fgets(buf, sizeof(buf), pipe.get()) != nullptr) {
    std::string form(buf);
    while (!form.empty() && (form.back() == '\n' || form.back() == '\r')) form.pop_back();
    if (form.empty()) continue;
    ++lines;
    line_fn(form);
  }
  const int rc = ::pclose(pipe.release());
  std::filesystem::remove(filtered);
  if (rc != 0 && lines == 0) return Status::IOError("unmunch failed on " + dic);
  return lines;
}

Result<size_t> ReadHunspellForms(const std::string& dir, const std::string& dict,
                                 const std::function<bool(const std::string&)>& is_lemma,
                                 const std::function<void(const std::string&, const std::string&)>& fn) {
  // unmunch prints each root and then the forms its affixes make, root by root in the
  // order of the file: a line equal to one of the next few roots starts that root's group.
  // Kept: forms that start with the root's first letter (drops prefixed derivations such as
  // pt_BR's "zooabafáveis" of "abafar" and keeps "duerme" of "dormir"), without a hyphen
  // (a clitic: the tokeniser splits there), at most kMaxFormsPerRoot per root.
  constexpr size_t kMaxFormsPerRoot = 300;
  constexpr size_t kLookAhead = 4;
  size_t cur = 0, in_group = 0, n = 0;
  bool started = false;
  std::string lemma, first;
  std::vector<std::string> roots;  // filled before the first line
  auto ran = Unmunch(dir, dict, is_lemma, roots, [&](std::string& form) {
    bool is_root = false;
    for (size_t j = started ? cur + 1 : 0; j < roots.size() && j <= cur + kLookAhead; ++j) {
      if (form == roots[j]) {
        cur = j;
        started = true;
        is_root = true;
        in_group = 0;
        lemma = text::Lower(roots[j]);
        first = lemma.substr(0, lemma.empty() ? 0 : (static_cast<unsigned char>(lemma[0]) < 0x80 ? 1 : 2));
        break;
      }
    }
    if (is_root || !started || in_group >= kMaxFormsPerRoot) return;
    const std::string lower = text::Lower(form);
    if (lower == lemma || lower.find('-') != std::string::npos || lower.rfind(first, 0) != 0) return;
    fn(lower, lemma);
    ++in_group;
    ++n;
  });
  if (!ran.ok()) return ran.status();
  return n;
}

}  // namespace bf::textmodel
