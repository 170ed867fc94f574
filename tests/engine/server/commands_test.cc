#include "engine/server/commands.h"
#include "engine/server/config.h"

#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <initializer_list>

#include "tests/engine/server/dispatch_util.h"
#include "tests/engine/server/fake_engine.h"

namespace bf {
namespace {

using testing::FakeEngine;

class CommandsTest : public ::testing::Test {
 protected:
  CommandsTest() {
    client_.id = 7;
    client_.addr = "127.0.0.1:5555";
    ctx_.engine = &engine_;
    ctx_.config = &config_;
    ctx_.stats = &stats_;
    ctx_.client = &client_;
    stats_.port = 6479;
  }

  std::string Run(std::initializer_list<std::string> words) {
    return testing::RunCommand(ctx_, words);
  }

  static std::string Blob(std::initializer_list<float> v) { return ToFp32(std::vector<float>(v)); }

  FakeEngine engine_;
  ServerConfig config_;
  ServerStats stats_;
  ClientState client_;
  CommandContext ctx_;
};

TEST_F(CommandsTest, PingEchoQuit) {
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
  EXPECT_EQ(Run({"ping", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(Run({"PING", "a", "b"}), "-ERR wrong number of arguments for 'ping' command\r\n");
  EXPECT_EQ(Run({"EcHo", std::string("a\0b", 3)}), std::string("$3\r\na\0b\r\n", 9));
  EXPECT_FALSE(client_.quit);
  EXPECT_EQ(Run({"QUIT"}), "+OK\r\n");
  EXPECT_TRUE(client_.quit);
}

TEST_F(CommandsTest, UnknownCommandAndArity) {
  EXPECT_EQ(Run({"foo", "a", "b"}),
            "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
  EXPECT_EQ(Run({"foo"}), "-ERR unknown command 'foo', with args beginning with: \r\n");
  EXPECT_EQ(Run({"foo", "a\r\nb"}),
            "-ERR unknown command 'foo', with args beginning with: 'a  b' \r\n");
  EXPECT_EQ(Run({"USER.DEL"}), "-ERR wrong number of arguments for 'user.del' command\r\n");
  EXPECT_EQ(Run({"echo"}), "-ERR wrong number of arguments for 'echo' command\r\n");
  EXPECT_EQ(Run({"INDEX.INFO", "x"}),
            "-ERR wrong number of arguments for 'index.info' command\r\n");
  EXPECT_EQ(stats_.total_commands.load(), 6u);
  EXPECT_EQ(stats_.errors.load(), 6u);
}

TEST_F(CommandsTest, AuthRequired) {
  config_.requirepass = "secret";
  EXPECT_EQ(Run({"PING"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(Run({"FEED", "alice"}), "-NOAUTH Authentication required.\r\n");
  // Unknown command and arity are checked first, as Redis does.
  EXPECT_EQ(Run({"nope"}), "-ERR unknown command 'nope', with args beginning with: \r\n");
  EXPECT_EQ(Run({"AUTH", "wrong"}), "-WRONGPASS invalid password\r\n");
  EXPECT_EQ(Run({"AUTH", "someone", "secret"}), "-WRONGPASS invalid password\r\n");
  EXPECT_EQ(Run({"AUTH", "secre"}), "-WRONGPASS invalid password\r\n");
  EXPECT_EQ(Run({"AUTH", "a", "b", "c"}), "-ERR syntax error\r\n");
  EXPECT_FALSE(client_.authenticated);
  EXPECT_EQ(Run({"AUTH", "secret"}), "+OK\r\n");
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
  client_.authenticated = false;
  EXPECT_EQ(Run({"auth", "default", "secret"}), "+OK\r\n");
  EXPECT_TRUE(client_.authenticated);
}

TEST_F(CommandsTest, AuthWithoutPassword) {
  EXPECT_EQ(Run({"AUTH", "x"}),
            "-ERR AUTH <password> called without any password configured for the default "
            "user. Are you sure your configuration is correct?\r\n");
  EXPECT_EQ(Run({"AUTH", "default", "x"}), "+OK\r\n");
  EXPECT_EQ(Run({"AUTH", "bob", "x"}), "-WRONGPASS invalid password\r\n");
}

TEST_F(CommandsTest, Hello) {
  const std::string want =
      "*14\r\n$6\r\nserver\r\n$10\r\nbridgefeed\r\n$7\r\nversion\r\n$" +
      std::to_string(std::string(Version()).size()) + "\r\n" + Version() +
      "\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:7\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
      "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";
  EXPECT_EQ(Run({"HELLO"}), want);
  EXPECT_EQ(Run({"HELLO", "2"}), want);
  EXPECT_EQ(Run({"HELLO", "4"}), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(Run({"HELLO", "1"}), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(Run({"HELLO", "x"}), "-ERR Protocol version is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"HELLO", "2", "SETNAME", "cli"}), want);
  EXPECT_EQ(client_.name, "cli");
  EXPECT_EQ(Run({"HELLO", "2", "BOGUS"}), "-ERR Syntax error in HELLO option 'BOGUS'\r\n");
  config_.requirepass = "pw";
  EXPECT_EQ(Run({"HELLO", "2"}).substr(0, 38), "-NOAUTH HELLO must be called with the ");
  EXPECT_EQ(Run({"HELLO", "2", "AUTH", "default", "no"}), "-WRONGPASS invalid password\r\n");
  EXPECT_EQ(Run({"HELLO", "2", "AUTH", "default", "pw"}), want);
  EXPECT_TRUE(client_.authenticated);
}

TEST_F(CommandsTest, SelectAndConfig) {
  EXPECT_EQ(Run({"SELECT", "0"}), "+OK\r\n");
  EXPECT_EQ(Run({"SELECT", "1"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(Run({"SELECT", "x"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"CONFIG", "GET", "save"}), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
  EXPECT_EQ(Run({"config", "get", "APPENDONLY"}), "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
  EXPECT_EQ(Run({"CONFIG", "GET", "nothing"}), "*0\r\n");
  EXPECT_EQ(Run({"CONFIG", "GET", "max*"}), "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
  EXPECT_EQ(Run({"CONFIG", "GET"}), "-ERR wrong number of arguments for 'config|get' command\r\n");
  EXPECT_EQ(Run({"CONFIG", "FOO"}), "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n");
}

TEST_F(CommandsTest, Command) {
  EXPECT_EQ(Run({"COMMAND", "COUNT"}), ":" + std::to_string(CommandTable().size()) + "\r\n");
  EXPECT_EQ(Run({"COMMAND", "INFO", "ping", "nosuch"}),
            "*2\r\n*10\r\n$4\r\nping\r\n:-1\r\n*2\r\n+fast\r\n+stale\r\n:0\r\n:0\r\n:0\r\n"
            "*1\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n*-1\r\n");
  EXPECT_EQ(Run({"COMMAND", "DOCS", "echo"}),
            "*2\r\n$4\r\necho\r\n*8\r\n$7\r\nsummary\r\n$19\r\nReplies the message\r\n"
            "$5\r\nsince\r\n$5\r\n0.1.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n"
            "$9\r\narguments\r\n*1\r\n*4\r\n$4\r\nname\r\n$7\r\nmessage\r\n$4\r\ntype\r\n"
            "$6\r\nstring\r\n");
  const std::string all = Run({"COMMAND"});
  EXPECT_EQ(all.substr(0, 5), "*" + std::to_string(CommandTable().size()) + "\r\n");
  EXPECT_NE(all.find("$8\r\npost.add\r\n"), std::string::npos);
  EXPECT_EQ(Run({"COMMAND", "DOCS"}).substr(0, 5),
            "*" + std::to_string(2 * CommandTable().size()) + "\r\n");
  EXPECT_EQ(Run({"COMMAND", "x"}), "-ERR unknown subcommand 'x'. Try COMMAND HELP.\r\n");
}

TEST_F(CommandsTest, Client) {
  EXPECT_EQ(Run({"CLIENT", "ID"}), ":7\r\n");
  EXPECT_EQ(Run({"CLIENT", "GETNAME"}), "$-1\r\n");
  EXPECT_EQ(Run({"CLIENT", "SETNAME", "app"}), "+OK\r\n");
  EXPECT_EQ(Run({"CLIENT", "getname"}), "$3\r\napp\r\n");
  EXPECT_EQ(Run({"CLIENT", "SETNAME", "a b"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(Run({"CLIENT", "SETNAME"}),
            "-ERR wrong number of arguments for 'client|setname' command\r\n");
  EXPECT_EQ(Run({"CLIENT", "SETINFO", "lib-name", "redis-py"}), "+OK\r\n");
  EXPECT_EQ(Run({"CLIENT", "SETINFO", "LIB-VER", "5.0"}), "+OK\r\n");
  EXPECT_EQ(Run({"CLIENT", "SETINFO", "other", "x"}), "-ERR Unrecognized option 'other'\r\n");
  const std::string info = Run({"CLIENT", "INFO"});
  EXPECT_NE(info.find("id=7 addr=127.0.0.1:5555 laddr= fd=-1 name=app age="), std::string::npos);
  EXPECT_NE(info.find("lib-name=redis-py lib-ver=5.0"), std::string::npos);
  EXPECT_EQ(Run({"CLIENT", "KILL"}), "-ERR unknown subcommand 'KILL'. Try CLIENT HELP.\r\n");
}

TEST_F(CommandsTest, Info) {
  engine_.counters = {.users = 3, .posts = 4, .disk_bytes = 5, .feed_requests = 6,
                      .feed_searches = 11, .feed_search_usec = 900, .events = 8};
  engine_.index.stats.type = "Flat";
  engine_.index.stats.search = "exact";
  engine_.index.stats.ntotal = 9;
  stats_.feed_latency.Record(100);  // bucket 96..103: reported as 103
  const std::string all = Run({"INFO"});
  ASSERT_EQ(all[0], '$');
  for (const char* want :
       {"# Server\r\n", "bridgefeed_version:", "tcp_port:6479\r\n", "dim:3\r\n", "process_id:",
        "faiss_build:", "uptime_in_seconds:", "# Clients\r\nconnected_clients:0\r\n",
        "total_commands_processed:1\r\n", "total_connections_received:0\r\n",
        "feed_requests:6\r\nfeed_searches:11\r\nfeed_search_usec:900\r\n", "events:8\r\n", "errors:0\r\n", "feed_p50_usec:103\r\n",
        "feed_p99_usec:103\r\n", "feed_p999_usec:103\r\n", "users:3\r\n", "posts:4\r\n",
        "db_size_bytes:5\r\n", "# Index\r\ntype:Flat\r\nsearch:exact\r\nntotal:9\r\n", "tombstones:0\r\n",
        "last_rebuild:0\r\n"}) {
    EXPECT_NE(all.find(want), std::string::npos) << want;
  }
  const std::string stats = Run({"info", "STATS"});
  EXPECT_NE(stats.find("# Stats\r\n"), std::string::npos);
  EXPECT_EQ(stats.find("# Server"), std::string::npos);
  EXPECT_EQ(Run({"INFO", "nosuch"}), "$0\r\n\r\n");
}

TEST_F(CommandsTest, InfoText) {
  EXPECT_NE(Run({"INFO", "text"}).find("# Text\r\ntext_model_loaded:0\r\n"), std::string::npos);
  text::TextModel::Info info;
  info.path = "/cache/lexicon.bin";
  info.dim = 100;
  info.load_seconds = 1.4716;
  info.languages = {{"en", 200000, 200000, 0}, {"ja", 291788, 291000, 12}};
  engine_.text_info = info;
  const std::string text = Run({"INFO", "TEXT"});
  EXPECT_NE(text.find("# Text\r\ntext_model_loaded:1\r\ntext_model_path:/cache/lexicon.bin\r\n"
                      "text_model_dim:100\r\ntext_model_load_ms:1472\r\n"
                      "text_languages:en,ja\r\n"
                      "text_lang_en:words=200000,vectors=200000,empty=0\r\n"
                      "text_lang_ja:words=291788,vectors=291000,empty=12\r\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("# Server"), std::string::npos);
  EXPECT_NE(Run({"INFO"}).find("text_languages:en,ja\r\n"), std::string::npos);
}

TEST_F(CommandsTest, UserSet) {
  EXPECT_EQ(Run({"USER.SET", "alice", "culture", "us", "LANGS", "en,zh", "OPENNESS", "0.5",
                 "VECTOR", "VALUES", "3", "1", "0", "0"}),
            "+OK\r\n");
  const UserUpdate& u = engine_.last_user;
  EXPECT_EQ(u.id, "alice");
  EXPECT_EQ(u.culture, "US");
  EXPECT_EQ(u.langs, (std::vector<std::string>{"en", "zh"}));
  EXPECT_EQ(u.openness, 0.5f);
  EXPECT_EQ(u.vector, (Vector{1, 0, 0}));
  EXPECT_EQ(Run({"USER.SET", "bob"}), "+OK\r\n");
  EXPECT_FALSE(engine_.last_user.culture || engine_.last_user.langs ||
               engine_.last_user.openness || engine_.last_user.vector);
  EXPECT_EQ(Run({"USER.SET", "bob", "VECTOR", "FP32", Blob({0, 2, 0})}), "+OK\r\n");
  EXPECT_EQ(engine_.last_user.vector, (Vector{0, 2, 0}));
}

TEST_F(CommandsTest, UserSetErrors) {
  EXPECT_EQ(Run({"USER.SET", "bob", "VECTOR", "VALUES", "2", "1", "2"}),
            "-WRONGDIM expected 3, got 2\r\n");
  EXPECT_EQ(Run({"USER.SET", "bob", "VECTOR", "FP32", Blob({1, 2})}),
            "-WRONGDIM expected 3, got 2\r\n");
  EXPECT_EQ(Run({"USER.SET", "bob", "VECTOR", "VALUES", "3", "0", "0", "0"}).substr(0, 11),
            "-BADVECTOR ");
  EXPECT_EQ(Run({"USER.SET", "bob", "VECTOR", "FP32", Blob({1, NAN, 0})}).substr(0, 11),
            "-BADVECTOR ");
  EXPECT_EQ(Run({"USER.SET", "bob", "VECTOR", "VALUES", "3", "1", "x", "0"}),
            "-ERR value 2 is not a number\r\n");
  EXPECT_EQ(Run({"USER.SET", "bob", "VECTOR", "VALUES", "5", "1"}).substr(0, 20),
            "-ERR VALUES count 5 ");
  EXPECT_EQ(Run({"USER.SET", "bob", "VECTOR", "INT8", "x"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"USER.SET", "bob", "VECTOR"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"USER.SET", "bob", "OPENNESS", "nan"}),
            "-ERR OPENNESS must be a number from 0 to 1\r\n");
  EXPECT_EQ(Run({"USER.SET", "bob", "CULTURE", "u s"}),
            "-ERR culture must be 1 to 16 characters of A-Z a-z 0-9 _ -\r\n");
  EXPECT_EQ(Run({"USER.SET", "bob", "CULTURE", std::string(17, 'A')}),
            "-ERR culture must be 1 to 16 characters of A-Z a-z 0-9 _ -\r\n");
  EXPECT_EQ(Run({"USER.SET", "bob", "BOGUS", "1"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"USER.SET", "bob", "CULTURE"}), "-ERR syntax error\r\n");
  EXPECT_TRUE(engine_.calls.empty());
  // Ranges (openness, langs, ids) are the engine's checks: see wire_test.cc.
  EXPECT_EQ(Run({"USER.SET", "bob", "OPENNESS", "1.5", "LANGS", "en,"}), "+OK\r\n");
  EXPECT_EQ(engine_.last_user.openness, 1.5);
  EXPECT_EQ(engine_.last_user.langs, (std::vector<std::string>{"en", ""}));
  engine_.next_status = Status::IOError("disk gone");
  EXPECT_EQ(Run({"USER.SET", "bob"}), "-ERR disk gone\r\n");
}

TEST_F(CommandsTest, UserGetDel) {
  engine_.user = {.id = "alice", .culture = "US", .langs = {"en", "es"}, .openness = 0.25f,
                  .vector = {1, 0, 0}, .positives = 4, .negatives = 1, .prior = {0, 1, 0}};
  const std::string base =
      "$7\r\nculture\r\n$2\r\nUS\r\n$5\r\nlangs\r\n$5\r\nen,es\r\n$8\r\nopenness\r\n"
      "$4\r\n0.25\r\n$10\r\nhas_vector\r\n:1\r\n$9\r\npositives\r\n:4\r\n$9\r\nnegatives\r\n:1\r\n";
  EXPECT_EQ(Run({"USER.GET", "alice"}), "*12\r\n" + base);
  EXPECT_EQ(Run({"USER.GET", "alice", "withvector"}),
            "*16\r\n" + base + "$6\r\nvector\r\n$12\r\n" + Blob({1, 0, 0}) +
                "\r\n$5\r\nprior\r\n$12\r\n" + Blob({0, 1, 0}) + "\r\n");
  EXPECT_EQ(Run({"USER.GET", "bob"}), "$-1\r\n");
  EXPECT_EQ(Run({"USER.GET", "alice", "x"}), "-ERR syntax error\r\n");
  engine_.user.openness = -1;  // unset: the server default
  EXPECT_NE(Run({"USER.GET", "alice"}).find("$8\r\nopenness\r\n$3\r\n0.3\r\n"), std::string::npos);
  EXPECT_EQ(Run({"USER.DEL", "alice"}), ":1\r\n");
  EXPECT_EQ(Run({"USER.DEL", "bob"}), ":0\r\n");
}

TEST_F(CommandsTest, PostAdd) {
  EXPECT_EQ(Run({"POST.ADD", "p1", "AUTHOR", "bob", "CULTURE", "cn", "VECTOR", "FP32",
                 Blob({1, 2, 3}), "LANG", "zh-Hans", "TS", "1700000000", "TAGS", "cat,bird",
                 "TITLE", "my cat"}),
            "+OK\r\n");
  const PostInput& p = engine_.last_post;
  EXPECT_EQ(p.id, "p1");
  EXPECT_EQ(p.author, "bob");
  EXPECT_EQ(p.culture, "CN");
  EXPECT_EQ(p.vector, (Vector{1, 2, 3}));
  EXPECT_EQ(p.lang, "zh-Hans");
  EXPECT_EQ(p.ts, 1700000000);
  EXPECT_EQ(p.tags, (std::vector<std::string>{"cat", "bird"}));
  EXPECT_EQ(p.title, "my cat");
  EXPECT_EQ(Run({"post.add", "p2", "vector", "values", "3", "1", "2", "3", "author", "a",
                 "culture", "US"}),
            "+OK\r\n");
  EXPECT_FALSE(engine_.last_post.ts.has_value());
  EXPECT_FALSE(engine_.last_post.lang.has_value());

  EXPECT_EQ(Run({"POST.ADD", "p3", "AUTHOR", "a", "TITLE", "cat"}),
            "-ERR POST.ADD needs AUTHOR and CULTURE\r\n");
  // VECTOR is optional: the engine encodes the text (with a text model), or
  // the post has no vector and is served by fresh and bridging until it has one.
  EXPECT_EQ(Run({"POST.ADD", "p3", "AUTHOR", "a", "CULTURE", "US"}), "+OK\r\n");
  EXPECT_TRUE(engine_.last_post.vector.empty());
  EXPECT_EQ(Run({"POST.ADD", "p3", "AUTHOR", "a", "CULTURE", "US", "TITLE", "my cat", "TEXT",
                 "on the sofa", "LANG", "en"}),
            "+OK\r\n");
  EXPECT_TRUE(engine_.last_post.vector.empty());
  EXPECT_EQ(engine_.last_post.title, "my cat");
  EXPECT_EQ(engine_.last_post.text, "on the sofa");
  EXPECT_EQ(Run({"POST.ADD", "p3", "AUTHOR", "a", "CULTURE", "US", "TEXT"}),
            "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"POST.ADD", "p3", "TS", "12x"}), "-ERR TS must be an integer (Unix seconds)\r\n");
  EXPECT_EQ(Run({"POST.ADD", "p3", "VECTOR", "VALUES", "1", "1"}),
            "-WRONGDIM expected 3, got 1\r\n");
  EXPECT_EQ(Run({"POST.ADD", "p3", "COLOR", "red"}), "-ERR syntax error\r\n");
}

TEST_F(CommandsTest, EmbedRepliesAnFp32BlobOrTheEngineError) {
  EXPECT_EQ(Run({"EMBED", "TEXT", "cat"}), "$12\r\n" + Blob({0.5f, 0.5f, 0.5f}) + "\r\n");
  EXPECT_EQ(engine_.last_embed_lang, "");
  EXPECT_EQ(Run({"embed", "lang", "zh", "text", "cat"}),
            "$12\r\n" + Blob({0.5f, 0.5f, 0.5f}) + "\r\n");
  EXPECT_EQ(engine_.last_embed_lang, "zh");
  EXPECT_EQ(Run({"EMBED", "TEXT", "xyzzy"}), "-BADVECTOR no known words in text\r\n");
  EXPECT_EQ(Run({"EMBED", "LANG", "zh", "cat"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"EMBED", "LANG", "zh", "FOO", "cat"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"EMBED", "LANG", "zh"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"EMBED", "TEXT"}), "-ERR wrong number of arguments for 'embed' command\r\n");
}

TEST_F(CommandsTest, PostGetDel) {
  engine_.post.record = {.id = "p1", .author = "bob", .culture = "CN", .lang = "zh",
                         .ts = 1700000000, .tags = {"cat"}, .title = "hi", .vector = {0, 1, 0}, .prior = {}};
  engine_.post.by_culture = {{"CN", 10, 3, 0}, {"US", 5, 2, 1}};
  engine_.post.impressions = 15;
  engine_.post.positives = 5;
  engine_.post.negatives = 1;
  engine_.post.bridging = 0.375;
  const std::string base =
      "$6\r\nauthor\r\n$3\r\nbob\r\n$7\r\nculture\r\n$2\r\nCN\r\n$4\r\nlang\r\n$2\r\nzh\r\n"
      "$2\r\nts\r\n:1700000000\r\n$4\r\ntags\r\n$3\r\ncat\r\n$5\r\ntitle\r\n$2\r\nhi\r\n"
      "$11\r\nimpressions\r\n:15\r\n$9\r\npositives\r\n:5\r\n$9\r\nnegatives\r\n:1\r\n"
      "$8\r\nbridging\r\n$5\r\n0.375\r\n$10\r\nby_culture\r\n*2\r\n"
      "*4\r\n$2\r\nCN\r\n:10\r\n:3\r\n:0\r\n*4\r\n$2\r\nUS\r\n:5\r\n:2\r\n:1\r\n"
      "$10\r\nhas_vector\r\n:1\r\n";
  EXPECT_EQ(Run({"POST.GET", "p1"}), "*24\r\n" + base);
  EXPECT_EQ(Run({"POST.GET", "p1", "WITHVECTOR"}),
            "*28\r\n" + base + "$6\r\nvector\r\n$12\r\n" + Blob({0, 1, 0}) +
                "\r\n$5\r\nprior\r\n$0\r\n\r\n");
  EXPECT_EQ(Run({"POST.GET", "p9"}), "$-1\r\n");
  EXPECT_EQ(Run({"POST.DEL", "p1"}), ":1\r\n");
  EXPECT_EQ(Run({"POST.DEL", "p9"}), ":0\r\n");
}

TEST_F(CommandsTest, TrainAndModelLoad) {
  EXPECT_EQ(Run({"TRAIN"}), "+OK\r\n");
  engine_.train = {.iterations = 15, .loss = 0.5, .users = 3, .posts = 4, .events = 9,
                   .seconds = 1.25};
  EXPECT_EQ(Run({"train", "wait"}),
            "*12\r\n$10\r\niterations\r\n:15\r\n$4\r\nloss\r\n$3\r\n0.5\r\n"
            "$5\r\nusers\r\n:3\r\n$5\r\nposts\r\n:4\r\n$6\r\nevents\r\n:9\r\n"
            "$7\r\nseconds\r\n$4\r\n1.25\r\n");
  EXPECT_EQ(Run({"TRAIN", "NOW"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"TRAIN", "WAIT", "WAIT"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"MODEL.LOAD", "/m.bfm"}), "+OK\r\n");
  EXPECT_EQ(Run({"MODEL.LOAD", ""}), "-ERR path must not be empty\r\n");
  engine_.train_status = Status::Busy("a TRAIN is already running");
  EXPECT_EQ(Run({"TRAIN", "WAIT"}), "-BUSY a TRAIN is already running\r\n");
  engine_.train_status = Status::Invalid("no events to train on");
  EXPECT_EQ(Run({"TRAIN"}), "-ERR no events to train on\r\n");
  engine_.train_status = Status::WrongDim("model has dimension 4, expected 3");
  EXPECT_EQ(Run({"MODEL.LOAD", "/m.bfm"}), "-WRONGDIM model has dimension 4, expected 3\r\n");
  EXPECT_EQ(engine_.calls, (std::vector<std::string>{"Train", "Train wait", "LoadModel /m.bfm",
                                                      "Train wait", "Train", "LoadModel /m.bfm"}));
}

TEST_F(CommandsTest, Event) {
  EXPECT_EQ(Run({"EVENT", "alice", "p1", "like", "TS", "5"}), "+OK\r\n");
  EXPECT_EQ(Run({"EVENT", "alice", "p1", "REPORT"}), "+OK\r\n");
  EXPECT_EQ(engine_.calls,
            (std::vector<std::string>{"RecordEvent alice p1 1 5", "RecordEvent alice p1 6 -"}));
  EXPECT_EQ(Run({"EVENT", "alice", "p9", "VIEW"}), "-NOTFOUND post\r\n");
  EXPECT_EQ(Run({"EVENT", "alice", "p1", "poke"}),
            "-ERR unknown event type 'poke': expected VIEW LIKE SAVE SHARE COMMENT HIDE or "
            "REPORT\r\n");
  EXPECT_EQ(Run({"EVENT", "alice", "p1", "VIEW", "TS"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"EVENT", "alice", "p1"}), "-ERR wrong number of arguments for 'event' command\r\n");
}

TEST_F(CommandsTest, Feed) {
  engine_.feed = {{.post = "p7", .score = 0.5, .culture = "CN", .author = "li", .source = "cross",
                   .relevance = 0.25, .bridging = 0.125, .freshness = 1, .title = "cats"},
                  {.post = "p8", .score = 0.75, .culture = "US", .author = "jo",
                   .source = "interest", .relevance = 1, .bridging = 0, .freshness = 0.5, .title = ""}};
  EXPECT_EQ(Run({"FEED", "alice", "count", "2", "OPENNESS", "0.5", "PEEK"}),
            "*2\r\n$2\r\np7\r\n$2\r\np8\r\n");
  EXPECT_EQ(engine_.last_feed.user, "alice");
  EXPECT_EQ(engine_.last_feed.count, 2);
  EXPECT_EQ(engine_.last_feed.openness, 0.5);
  EXPECT_TRUE(engine_.last_feed.peek);
  EXPECT_FALSE(engine_.last_feed.explain);
  EXPECT_EQ(Run({"FEED", "alice", "EXPLAIN"}),
            "*2\r\n*18\r\n$4\r\npost\r\n$2\r\np7\r\n$5\r\nscore\r\n$3\r\n0.5\r\n"
            "$7\r\nculture\r\n$2\r\nCN\r\n$6\r\nauthor\r\n$2\r\nli\r\n$6\r\nsource\r\n"
            "$5\r\ncross\r\n$9\r\nrelevance\r\n$4\r\n0.25\r\n$8\r\nbridging\r\n$5\r\n0.125\r\n"
            "$9\r\nfreshness\r\n$1\r\n1\r\n$5\r\ntitle\r\n$4\r\ncats\r\n"
            "*16\r\n$4\r\npost\r\n$2\r\np8\r\n$5\r\nscore\r\n$4\r\n0.75\r\n"
            "$7\r\nculture\r\n$2\r\nUS\r\n$6\r\nauthor\r\n$2\r\njo\r\n$6\r\nsource\r\n"
            "$8\r\ninterest\r\n$9\r\nrelevance\r\n$1\r\n1\r\n$8\r\nbridging\r\n$1\r\n0\r\n"
            "$9\r\nfreshness\r\n$3\r\n0.5\r\n");
  EXPECT_EQ(engine_.last_feed.count, 20);
  EXPECT_FALSE(engine_.last_feed.openness.has_value());
  EXPECT_EQ(stats_.feed_latency.count(), 2u);
  const char* kCount = "-ERR COUNT must be an integer from 1 to 500\r\n";
  EXPECT_EQ(Run({"FEED", "alice", "COUNT", "1.5"}), kCount);
  EXPECT_EQ(Run({"FEED", "alice", "OPENNESS", "x"}),
            "-ERR OPENNESS must be a number from 0 to 1\r\n");
  // The range is the engine's check (wire_test.cc); the handler passes the number on, clamped
  // to int's range.
  EXPECT_EQ(Run({"FEED", "alice", "COUNT", "99999999999", "OPENNESS", "-0.1"}),
            "*2\r\n$2\r\np7\r\n$2\r\np8\r\n");
  EXPECT_EQ(engine_.last_feed.count, INT_MAX);
  EXPECT_EQ(engine_.last_feed.openness, -0.1);
  EXPECT_EQ(Run({"FEED", "alice", "COUNT"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"FEED", "alice", "FAST"}), "-ERR syntax error\r\n");
}

TEST_F(CommandsTest, Similar) {
  EXPECT_EQ(Run({"SIMILAR", "p1", "COUNT", "5", "cross"}), "*2\r\n$2\r\np2\r\n$2\r\np3\r\n");
  EXPECT_EQ(engine_.calls.back(), "Similar 5 cross");
  EXPECT_EQ(Run({"SIMILAR", "p1"}), "*2\r\n$2\r\np2\r\n$2\r\np3\r\n");
  EXPECT_EQ(engine_.calls.back(), "Similar 20");
  EXPECT_EQ(Run({"SIMILAR", "p9"}), "-NOTFOUND post\r\n");
  EXPECT_EQ(Run({"SIMILAR", "p1", "COUNT", "six"}),
            "-ERR COUNT must be an integer from 1 to 500\r\n");
}

TEST_F(CommandsTest, IndexAndMaintenance) {
  engine_.index = {.stats = {.type = "HNSW32", .search = "efSearch 128", .dim = 3, .ntotal = 10, .live = 8,
                             .tombstones = 2, .trained = true},
                   .snapshot_seq = 42, .rebuilding = true, .last_rebuild = 1700000000};
  EXPECT_EQ(Run({"INDEX.INFO"}),
            "*18\r\n$4\r\ntype\r\n$6\r\nHNSW32\r\n$3\r\ndim\r\n:3\r\n$6\r\nntotal\r\n:10\r\n"
            "$4\r\nlive\r\n:8\r\n$10\r\ntombstones\r\n:2\r\n$7\r\ntrained\r\n:1\r\n"
            "$12\r\nsnapshot_seq\r\n:42\r\n$10\r\nrebuilding\r\n:1\r\n"
            "$12\r\nlast_rebuild\r\n:1700000000\r\n");
  EXPECT_EQ(Run({"INDEX.REBUILD"}), "-BUSY a rebuild is already running\r\n");
  EXPECT_EQ(Run({"INDEX.LOAD", "/tmp/x.idx"}), "+OK\r\n");
  EXPECT_EQ(Run({"SAVE"}), "+OK\r\n");
  EXPECT_EQ(Run({"BACKUP", "/tmp/b"}), "-ERR disk full\r\n");
  EXPECT_EQ(engine_.calls, (std::vector<std::string>{"LoadIndex /tmp/x.idx", "Backup /tmp/b"}));
}

TEST(CommandTable, NamesUniqueAndFindable) {
  for (const auto& c : CommandTable()) {
    EXPECT_EQ(FindCommand(ToLower(c.name)), &c);
    EXPECT_FALSE(c.summary.empty()) << c.name;
    EXPECT_NE(c.arity, 0) << c.name;
  }
  EXPECT_EQ(FindCommand("nosuch"), nullptr);
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

TEST(LatencyHistogram, Percentiles) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(0.5), 0u);
  for (uint64_t v = 1; v <= 1000; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 1000u);
  const uint64_t p50 = h.Percentile(0.5), p99 = h.Percentile(0.99);
  EXPECT_GE(p50, 500u);
  EXPECT_LE(p50, 563u);  // within one bucket (12.5%)
  EXPECT_GE(p99, 990u);
  EXPECT_LE(p99, 1114u);
  for (uint64_t v : {0ull, 7ull, 8ull, 15ull, 16ull, 1000000ull, ~0ull}) {
    const int b = LatencyHistogram::BucketOf(v);
    EXPECT_GE(LatencyHistogram::BucketUpper(b), v);
  }
}

}  // namespace
}  // namespace bf
