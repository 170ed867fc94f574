#include "engine/server/resp_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bf {
namespace {

using Commands = std::vector<std::vector<std::string>>;

// Feeds chunks one after another; collects every command until the parser
// needs more bytes. Returns the error message, or "" when none.
std::string Drain(RespParser& p, Commands* out) {
  std::vector<std::string_view> args;
  for (;;) {
    auto st = p.Next(&args);
    if (st == RespParser::State::kNeedMore) {
      p.Compact();
      return "";
    }
    if (st == RespParser::State::kError) return p.error();
    out->emplace_back(args.begin(), args.end());
  }
}

Commands ParseAll(std::string_view input, std::string* error = nullptr,
                  const RespLimits& limits = {}) {
  RespParser p(limits);
  p.Append(input);
  Commands cmds;
  std::string err = Drain(p, &cmds);
  if (error) *error = err;
  return cmds;
}

std::string ErrorOf(std::string_view input, const RespLimits& limits = {}) {
  std::string err;
  ParseAll(input, &err, limits);
  return err;
}

TEST(RespParser, Multibulk) {
  EXPECT_EQ(ParseAll("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n"), (Commands{{"ECHO", "hello"}}));
  EXPECT_EQ(ParseAll("*1\r\n$0\r\n\r\n"), (Commands{{""}}));
}

TEST(RespParser, BinarySafeBulk) {
  std::string payload("a\0b\r\nc", 6);
  std::string req = "*2\r\n$3\r\nSET\r\n$6\r\n" + payload + "\r\n";
  Commands cmds = ParseAll(req);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0][1], payload);
}

TEST(RespParser, Inline) {
  EXPECT_EQ(ParseAll("PING\r\n"), (Commands{{"PING"}}));
  EXPECT_EQ(ParseAll("PING\n"), (Commands{{"PING"}}));
  EXPECT_EQ(ParseAll("  set\t a   b  \r\n"), (Commands{{"set", "a", "b"}}));
  EXPECT_EQ(ParseAll("ECHO \"hello world\"\r\n"), (Commands{{"ECHO", "hello world"}}));
  EXPECT_EQ(ParseAll("ECHO \"a\\nb\\x41\\\"\"\r\n"), (Commands{{"ECHO", "a\nbA\""}}));
  EXPECT_EQ(ParseAll("ECHO 'it\\'s' 'a\\nb'\r\n"), (Commands{{"ECHO", "it's", "a\\nb"}}));
  EXPECT_EQ(ParseAll("ECHO \"\"\r\n"), (Commands{{"ECHO", ""}}));
}

TEST(RespParser, EmptyLinesAndZeroMultibulkAreSkipped) {
  EXPECT_EQ(ParseAll("\r\n\r\n   \r\n*0\r\n*-1\r\nPING\r\n"), (Commands{{"PING"}}));
}

TEST(RespParser, NeedMore) {
  RespParser p;
  std::vector<std::string_view> args;
  EXPECT_EQ(p.Next(&args), RespParser::State::kNeedMore);
  p.Append("*1\r\n$4\r\nPI");
  EXPECT_EQ(p.Next(&args), RespParser::State::kNeedMore);
  p.Append("NG\r");
  EXPECT_EQ(p.Next(&args), RespParser::State::kNeedMore);
  p.Append("\n");
  ASSERT_EQ(p.Next(&args), RespParser::State::kCommand);
  EXPECT_EQ(args[0], "PING");
  EXPECT_EQ(p.buffered(), 0u);
}

// Every split of a pipelined request at every byte boundary, and a feed of
// one byte at a time, yield the same commands.
TEST(RespParser, EverySplitYieldsSameCommands) {
  std::string bin("x\0\r\n*$y", 7);
  const std::string req = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$7\r\n" + bin +
                          "\r\n"
                          "PING\r\n"
                          "\r\n"
                          "*0\r\n"
                          "ECHO \"a b\" 'c'\n"
                          "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"
                          "*1\r\n$4\r\nPING\r\n";
  const Commands want = {{"SET", "k", bin}, {"PING"}, {"ECHO", "a b", "c"}, {"ECHO", ""},
                         {"PING"}};
  ASSERT_EQ(ParseAll(req), want);
  for (size_t cut = 0; cut <= req.size(); ++cut) {
    RespParser p;
    Commands got;
    p.Append(std::string_view(req).substr(0, cut));
    ASSERT_EQ(Drain(p, &got), "");
    p.Append(std::string_view(req).substr(cut));
    ASSERT_EQ(Drain(p, &got), "");
    ASSERT_EQ(got, want) << "cut at " << cut;
    EXPECT_EQ(p.buffered(), 0u);
  }
  RespParser p;
  Commands got;
  for (char c : req) {
    p.Append(std::string_view(&c, 1));
    ASSERT_EQ(Drain(p, &got), "");
  }
  EXPECT_EQ(got, want);
}

TEST(RespParser, ProtocolErrors) {
  EXPECT_EQ(ErrorOf("*2\r\n$-1\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("*1\r\n$abc\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("*1\r\n$1048577\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("*x\r\n"), "Protocol error: invalid multibulk length");
  EXPECT_EQ(ErrorOf("*4097\r\n"), "Protocol error: invalid multibulk length");
  EXPECT_EQ(ErrorOf("*1\r\nfoo\r\n"), "Protocol error: expected '$', got 'f'");
  EXPECT_EQ(ErrorOf("ECHO \"abc\r\n"), "Protocol error: unbalanced quotes in request");
  EXPECT_EQ(ErrorOf("ECHO \"abc\"x\r\n"), "Protocol error: unbalanced quotes in request");
  EXPECT_EQ(ErrorOf("ECHO 'abc\r\n"), "Protocol error: unbalanced quotes in request");
  EXPECT_EQ(ErrorOf(std::string(70000, 'a')), "Protocol error: too big inline request");
  EXPECT_EQ(ErrorOf(std::string(70000, 'a') + "\r\n"), "Protocol error: too big inline request");
  EXPECT_EQ(ErrorOf("*1\r\n$3\r\nabcXY"), "Protocol error: expected CRLF after bulk string");
  EXPECT_EQ(ErrorOf("*1" + std::string(70000, '1')), "Protocol error: too big mbulk count string");
}

TEST(RespParser, ErrorIsSticky) {
  RespParser p;
  p.Append("*x\r\nPING\r\n");
  std::vector<std::string_view> args;
  EXPECT_EQ(p.Next(&args), RespParser::State::kError);
  EXPECT_EQ(p.Next(&args), RespParser::State::kError);
}

// A declared 2 GiB bulk fails on its header, before any payload arrives.
TEST(RespParser, LimitsCheckedBeforeBuffering) {
  RespParser p;
  p.Append("*1\r\n$2147483648\r\n");
  std::vector<std::string_view> args;
  EXPECT_EQ(p.Next(&args), RespParser::State::kError);
  EXPECT_EQ(p.error(), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("*100000000\r\n"), "Protocol error: invalid multibulk length");
}

TEST(RespParser, CustomLimits) {
  RespLimits l;
  l.max_bulk_len = 4;
  l.max_args = 2;
  l.max_inline_len = 16;
  EXPECT_EQ(ErrorOf("*1\r\n$5\r\n", l), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("*1\r\n$4\r\nabcd\r\n", l), "");
  EXPECT_EQ(ErrorOf("*3\r\n", l), "Protocol error: invalid multibulk length");
  EXPECT_EQ(ErrorOf("a b c\r\n", l), "Protocol error: invalid multibulk length");
  EXPECT_EQ(ErrorOf(std::string(17, 'a'), l), "Protocol error: too big inline request");
}

TEST(RespParser, QueryBufferLimit) {
  RespLimits l;
  l.max_bulk_len = 1000;
  l.max_query_buffer = 100;
  RespParser p(l);
  p.Append("*2\r\n$1000\r\n" + std::string(200, 'x'));
  std::vector<std::string_view> args;
  EXPECT_EQ(p.Next(&args), RespParser::State::kError);
  EXPECT_EQ(p.error(), "Protocol error: client query buffer limit reached");
}

// A client filling its query buffer costs about the limit, not the next
// power of two above it.
TEST(RespParser, BufferGrowthStopsAtTheQueryBufferLimit) {
  RespLimits l;
  l.max_bulk_len = 1 << 20;
  l.max_query_buffer = 3 << 20;
  RespParser p(l);
  const std::string bulk = "$1048576\r\n" + std::string(1 << 20, 'x') + "\r\n";
  const std::string stream = "*10\r\n" + bulk + bulk + bulk + bulk;
  std::vector<std::string_view> args;
  constexpr size_t kChunk = 16 << 10;
  RespParser::State st = RespParser::State::kNeedMore;
  for (size_t at = 0; st == RespParser::State::kNeedMore && at < stream.size(); at += kChunk) {
    const std::string_view piece = std::string_view(stream).substr(at, kChunk);
    auto space = p.Prepare(kChunk);
    std::copy(piece.begin(), piece.end(), space.begin());
    p.Commit(piece.size());
    EXPECT_LE(p.capacity(), l.max_query_buffer + 2 * kChunk);
    st = p.Next(&args);
  }
  EXPECT_EQ(st, RespParser::State::kError);
  EXPECT_EQ(p.error(), "Protocol error: client query buffer limit reached");
}

TEST(RespParser, ViewsSurviveUntilCompact) {
  RespParser p;
  p.Append("*1\r\n$1\r\na\r\n*1\r\n$1\r\nb\r\n*1\r\n$2\r\nc");
  std::vector<std::string_view> a, b;
  ASSERT_EQ(p.Next(&a), RespParser::State::kCommand);
  std::string first(a[0]);
  ASSERT_EQ(p.Next(&b), RespParser::State::kCommand);
  EXPECT_EQ(first, "a");
  EXPECT_EQ(b[0], "b");
  EXPECT_EQ(p.Next(&b), RespParser::State::kNeedMore);
  p.Compact();
  p.Append("d\r\n");
  ASSERT_EQ(p.Next(&b), RespParser::State::kCommand);
  EXPECT_EQ(b[0], "cd");
}

}  // namespace
}  // namespace bf
