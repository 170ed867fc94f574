// ProgressBar: what lands in a log (final lines only) and on a terminal
// (bounded redraws).
#include "tools/import/progress_bar.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <string>

#include "tests/tools/tools_test_util.h"

namespace bf {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ProgressBarTest, LogGetsOnlyTheFinalCountLine) {
  test::Capture log;
  ProgressBar bar("read", 10, log.file());
  for (int64_t i = 1; i < 1000; ++i) bar.Count(i, 1000);
  EXPECT_EQ(log.Text(), "");
  bar.Count(1000, 1000);
  const std::string want = "\rread       [" + std::string(30, '#') + "] 100% 1000/1000 ";
  const std::string text = log.Text();
  ASSERT_EQ(text.substr(0, want.size()), want) << text;
  EXPECT_TRUE(std::regex_match(text.substr(want.size()), std::regex(R"([0-9]+\.[0-9]s\n)")))
      << text;
  // The same final call again (a reader reporting its end twice) adds nothing.
  bar(1000, 1000);
  EXPECT_EQ(log.Text(), text);
}

TEST(ProgressBarTest, LogGetsOnlyTheFinalLinesLine) {
  test::Capture log;
  ProgressBar bar("load posts", 16, log.file());
  for (int64_t i = 1; i <= 300; ++i) bar.Lines(static_cast<uint64_t>(i) * 10, 6000, i);
  EXPECT_EQ(log.Text(), "");
  bar.LinesDone(3000, 6000, 300);
  const std::string text = log.Text();
  const std::string want = "\rload posts       [" + std::string(15, '#') + std::string(15, ' ') +
                           "]  50%        300 lines ";
  ASSERT_EQ(text.substr(0, want.size()), want) << text;
  EXPECT_TRUE(std::regex_match(text.substr(want.size()),
                               std::regex(R"( *[0-9]+\.[0-9]k lines/s [0-9]+\.[0-9]s\n)")))
      << text;
}

TEST(ProgressBarTest, QuietWritesNothing) {
  test::Capture log;
  ProgressBar bar("read", 10, log.file(), /*quiet=*/true);
  bar.Count(5, 5);
  bar.LinesDone(10, 10, 2);
  EXPECT_EQ(log.Text(), "");
}

TEST(ProgressBarTest, EmptyTotalIsComplete) {
  test::Capture log;
  ProgressBar bar("build", 10, log.file());
  bar.Count(0, 0);
  EXPECT_NE(log.Text().find("] 100% 0/0 "), std::string::npos) << log.Text();
}

// On a terminal the bar is redrawn in place, once per 0.5% at most.
TEST(ProgressBarTest, TerminalRedrawsAtMostOncePerHalfPercent) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) GTEST_SKIP() << "no pseudo-terminals here (/dev/ptmx)";
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  std::FILE* tty = std::fopen(ptsname(master), "w");
  ASSERT_NE(tty, nullptr);
  ASSERT_TRUE(isatty(fileno(tty)));
  {
    ProgressBar bar("rd", 2, tty);
    // 20 steps of 0.5% (draws of ~50 bytes: well within the pty's buffer).
    for (int64_t i = 1; i <= 10000; ++i) bar.Count(i, 100000);
    bar.Count(100000, 100000);
  }
  // Read until the final line has come through (the pty may pass it on
  // asynchronously), or give up after a quiet second.
  std::string text;
  char buf[4096];
  pollfd pfd{master, POLLIN, 0};
  while (text.find("100000/100000") == std::string::npos ||
         text.find('\n', text.find("100000/100000")) == std::string::npos) {
    if (poll(&pfd, 1, 1000) <= 0) break;
    const ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  std::fclose(tty);
  close(master);
  const size_t draws = Count(text, "\rrd [");
  EXPECT_GE(draws, 20u) << text;
  EXPECT_LE(draws, 22u) << text;
  EXPECT_NE(text.find("] 100% 100000/100000 "), std::string::npos) << text;
  EXPECT_NE(text.find("]  10% 10000/100000 "), std::string::npos) << text;
}

}  // namespace
}  // namespace bf
