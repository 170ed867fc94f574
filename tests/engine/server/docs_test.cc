// The user docs that list commands and settings are checked against the
// command table and the settings table, so they cannot drift. To refresh them
// after a change: BF_UPDATE_DOCS=1 build/release/bin/server_test --gtest_filter='Docs*'
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/server/commands.h"
#include "engine/server/config.h"

namespace bf {
namespace {

const std::string kDocs = std::string(BF_SOURCE_DIR) + "/docs/";
const std::string kBegin = "<!-- generated: begin -->\n";
const std::string kEnd = "<!-- generated: end -->\n";

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Checks that the generated block of `path` equals `block`; rewrites it
// when BF_UPDATE_DOCS is set.
void CheckBlock(const std::string& path, const std::string& block) {
  std::string text = ReadFile(path);
  const size_t b = text.find(kBegin);
  const size_t e = text.find(kEnd);
  ASSERT_NE(b, std::string::npos) << path << " has no generated block";
  ASSERT_NE(e, std::string::npos) << path << " has no generated block end";
  const std::string current = text.substr(b + kBegin.size(), e - b - kBegin.size());
  if (std::getenv("BF_UPDATE_DOCS") != nullptr) {
    text.replace(b + kBegin.size(), e - b - kBegin.size(), block);
    std::ofstream(path, std::ios::binary) << text;
    return;
  }
  EXPECT_EQ(current, block) << path << " is out of date with the code; see " << __FILE__;
}

TEST(DocsTest, CommandReferenceMatchesCommandTable) {
  // Groups in order of first appearance, each with all of its commands.
  std::vector<std::string_view> groups;
  for (const CommandSpec& c : CommandTable()) {
    if (std::find(groups.begin(), groups.end(), c.group) == groups.end()) groups.push_back(c.group);
  }
  auto cell = [](std::string_view s) {
    std::string out;
    for (char ch : s) {
      if (ch == '|') out += '\\';
      out += ch;
    }
    return out;
  };
  std::string md;
  for (std::string_view group : groups) {
    md += "\n### " + std::string(group) + "\n\n| command | summary |\n|---|---|\n";
    for (const CommandSpec& c : CommandTable()) {
      if (c.group != group) continue;
      std::string syntax(c.name);
      if (!c.syntax.empty()) syntax += " " + std::string(c.syntax);
      md += "| `" + cell(syntax) + "` | " + cell(c.summary) + " |\n";
    }
  }
  CheckBlock(kDocs + "commands.md", md.substr(1));
}

TEST(DocsTest, ConfigurationMatchesSettingsTable) {
  CheckBlock(kDocs + "configuration.md", SettingsReference());
}

}  // namespace
}  // namespace bf
