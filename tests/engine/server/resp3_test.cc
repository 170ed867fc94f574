// RESP3: the writer's bytes per reply type, HELLO switching a connection
// both ways, and the reply shapes of the field/value commands after HELLO 3.
// RESP2's bytes are pinned by commands_test.cc and wire_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>

#include "engine/server/commands.h"
#include "engine/server/config.h"
#include "engine/server/resp_writer.h"
#include "tests/engine/server/dispatch_util.h"
#include "tests/engine/server/fake_engine.h"

namespace bf {
namespace {

std::string Write3(void (*f)(RespWriter&)) {
  std::string out;
  RespWriter w(&out, Protocol::kResp3);
  f(w);
  return out;
}

TEST(Resp3WriterTest, ScalarsAndNulls) {
  EXPECT_EQ(Write3([](RespWriter& w) { w.Nil(); }), "_\r\n");
  EXPECT_EQ(Write3([](RespWriter& w) { w.NilArray(); }), "_\r\n");
  EXPECT_EQ(Write3([](RespWriter& w) { w.Double(0.375); }), ",0.375\r\n");
  EXPECT_EQ(Write3([](RespWriter& w) { w.Double(-2); }), ",-2\r\n");
  EXPECT_EQ(Write3([](RespWriter& w) { w.Double(1e-7); }), ",1e-07\r\n");
  EXPECT_EQ(Write3([](RespWriter& w) { w.Float(0.3f); }), ",0.3\r\n");
  EXPECT_EQ(Write3([](RespWriter& w) { w.Double(std::numeric_limits<double>::infinity()); }),
            ",inf\r\n");
  EXPECT_EQ(Write3([](RespWriter& w) { w.Double(-std::numeric_limits<double>::infinity()); }),
            ",-inf\r\n");
  EXPECT_EQ(Write3([](RespWriter& w) { w.Double(-std::nan("")); }), ",nan\r\n");
  // Unchanged from RESP2.
  EXPECT_EQ(Write3([](RespWriter& w) { w.Int(-5); }), ":-5\r\n");
  EXPECT_EQ(Write3([](RespWriter& w) { w.Bulk("ab"); }), "$2\r\nab\r\n");
  EXPECT_EQ(Write3([](RespWriter& w) { w.Simple("OK"); }), "+OK\r\n");
  EXPECT_EQ(Write3([](RespWriter& w) { w.Error("ERR x"); }), "-ERR x\r\n");
  EXPECT_EQ(Write3([](RespWriter& w) { w.Array(2); }), "*2\r\n");
}

TEST(Resp3WriterTest, MapsNestInListsAndMaps) {
  const Protocol p = Protocol::kResp3;
  MapReply inner(p);
  inner.Bulk("name", "x").Double("s", 0.5);
  ListReply list(p);
  list.Int(1).Map(inner).List(ListReply(p));
  MapReply m(p);
  m.Float("f", 0.25f).List("l", list).Map("m", MapReply(p));
  std::string out;
  RespWriter(&out, p).Map(m);
  EXPECT_EQ(out,
            "%3\r\n$1\r\nf\r\n,0.25\r\n$1\r\nl\r\n"
            "*3\r\n:1\r\n%2\r\n$4\r\nname\r\n$1\r\nx\r\n$1\r\ns\r\n,0.5\r\n*0\r\n"
            "$1\r\nm\r\n%0\r\n");
}

TEST(Resp3WriterTest, Resp2IsTheDefaultAndUnchanged) {
  std::string out;
  RespWriter w(&out);
  EXPECT_EQ(w.protocol(), Protocol::kResp2);
  w.Nil();
  w.NilArray();
  w.Double(0.5);
  w.Map(MapReply().Int("a", 1));
  EXPECT_EQ(out, "$-1\r\n*-1\r\n$3\r\n0.5\r\n*2\r\n$1\r\na\r\n:1\r\n");
}

class Resp3CommandsTest : public ::testing::Test {
 protected:
  Resp3CommandsTest() {
    client_.id = 7;
    ctx_.engine = &engine_;
    ctx_.config = &config_;
    ctx_.stats = &stats_;
    ctx_.client = &client_;
  }
  std::string Run(std::initializer_list<std::string> words) {
    return testing::RunCommand(ctx_, words);
  }
  std::string HelloReply(int proto) {
    const std::string v(Version());
    return std::string(proto == 3 ? "%7\r\n" : "*14\r\n") +
           "$6\r\nserver\r\n$10\r\nbridgefeed\r\n$7\r\nversion\r\n$" + std::to_string(v.size()) +
           "\r\n" + v + "\r\n$5\r\nproto\r\n:" + std::to_string(proto) +
           "\r\n$2\r\nid\r\n:7\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster"
           "\r\n$7\r\nmodules\r\n*0\r\n";
  }

  testing::FakeEngine engine_;
  ServerConfig config_;
  ServerStats stats_;
  ClientState client_;
  CommandContext ctx_;
};

TEST_F(Resp3CommandsTest, HelloSwitchesBothWays) {
  EXPECT_EQ(Run({"HELLO", "3"}), HelloReply(3));
  EXPECT_EQ(client_.protocol.load(), Protocol::kResp3);
  EXPECT_EQ(Run({"HELLO"}), HelloReply(3));  // no version: keeps the protocol
  EXPECT_EQ(Run({"USER.GET", "nobody"}), "_\r\n");
  EXPECT_EQ(Run({"HELLO", "2"}), HelloReply(2));
  EXPECT_EQ(client_.protocol.load(), Protocol::kResp2);
  EXPECT_EQ(Run({"USER.GET", "nobody"}), "$-1\r\n");
}

TEST_F(Resp3CommandsTest, FailedHelloDoesNotSwitch) {
  EXPECT_EQ(Run({"HELLO", "4"}), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(Run({"HELLO", "3", "BOGUS"}), "-ERR Syntax error in HELLO option 'BOGUS'\r\n");
  config_.requirepass = "pw";
  EXPECT_EQ(Run({"HELLO", "3", "AUTH", "default", "no"}), "-WRONGPASS invalid password\r\n");
  EXPECT_EQ(Run({"HELLO", "3"}).substr(0, 7), "-NOAUTH");
  EXPECT_EQ(client_.protocol.load(), Protocol::kResp2);
  EXPECT_EQ(Run({"HELLO", "3", "AUTH", "default", "pw", "SETNAME", "n"}), HelloReply(3));
  EXPECT_EQ(client_.protocol.load(), Protocol::kResp3);
  EXPECT_EQ(client_.name, "n");
}

TEST_F(Resp3CommandsTest, UserAndPostAreMapsWithDoubles) {
  client_.protocol = Protocol::kResp3;
  engine_.user = {.id = "alice", .culture = "US", .langs = {"en"}, .openness = 0.25f,
                  .vector = {1, 0, 0}, .positives = 4, .negatives = 1, .prior = {}};
  EXPECT_EQ(Run({"USER.GET", "alice"}),
            "%6\r\n$7\r\nculture\r\n$2\r\nUS\r\n$5\r\nlangs\r\n$2\r\nen\r\n$8\r\nopenness\r\n"
            ",0.25\r\n$10\r\nhas_vector\r\n:1\r\n$9\r\npositives\r\n:4\r\n$9\r\nnegatives\r\n"
            ":1\r\n");
  engine_.post.record = {.id = "p1", .author = "bob", .culture = "CN", .lang = "zh", .ts = 5,
                         .tags = {}, .title = "", .vector = {0, 1, 0}};
  engine_.post.by_culture = {{"CN", 10, 3, 0}};
  engine_.post.bridging = 0.375;
  EXPECT_EQ(Run({"POST.GET", "p1"}),
            "%12\r\n$6\r\nauthor\r\n$3\r\nbob\r\n$7\r\nculture\r\n$2\r\nCN\r\n$4\r\nlang\r\n"
            "$2\r\nzh\r\n$2\r\nts\r\n:5\r\n$4\r\ntags\r\n$0\r\n\r\n$5\r\ntitle\r\n$0\r\n\r\n"
            "$11\r\nimpressions\r\n:0\r\n$9\r\npositives\r\n:0\r\n$9\r\nnegatives\r\n:0\r\n"
            "$8\r\nbridging\r\n,0.375\r\n$10\r\nby_culture\r\n*1\r\n"
            "*4\r\n$2\r\nCN\r\n:10\r\n:3\r\n:0\r\n$10\r\nhas_vector\r\n:1\r\n");
  EXPECT_EQ(Run({"POST.GET", "p9"}), "_\r\n");
}

TEST_F(Resp3CommandsTest, ExplainItemsAndIndexInfoAreMaps) {
  client_.protocol = Protocol::kResp3;
  engine_.feed = {{.post = "p7", .score = 0.5, .culture = "CN", .author = "li",
                   .source = "cross", .relevance = 0.25, .bridging = 0.125, .freshness = 1,
                   .title = ""}};
  EXPECT_EQ(Run({"FEED", "alice"}), "*1\r\n$2\r\np7\r\n");
  EXPECT_EQ(Run({"FEED", "alice", "EXPLAIN"}),
            "*1\r\n%8\r\n$4\r\npost\r\n$2\r\np7\r\n$5\r\nscore\r\n,0.5\r\n"
            "$7\r\nculture\r\n$2\r\nCN\r\n$6\r\nauthor\r\n$2\r\nli\r\n$6\r\nsource\r\n"
            "$5\r\ncross\r\n$9\r\nrelevance\r\n,0.25\r\n$8\r\nbridging\r\n,0.125\r\n"
            "$9\r\nfreshness\r\n,1\r\n");
  const std::string info = Run({"INDEX.INFO"});
  EXPECT_EQ(info.substr(0, 4), "%9\r\n");
  EXPECT_NE(info.find("$10\r\nrebuilding\r\n:0\r\n"), std::string::npos);
  EXPECT_EQ(Run({"CONFIG", "GET", "dim"}), "%1\r\n$3\r\ndim\r\n$1\r\n3\r\n");
}

}  // namespace
}  // namespace bf
