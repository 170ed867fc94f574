// MULTI, EXEC, DISCARD, WATCH, UNWATCH through Dispatch: queueing and its
// errors with a fake engine; atomic blocks and WATCH against a real engine,
// also with threads racing blocks against single commands (concurrency).
#include <atomic>
#include <initializer_list>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "engine/server/commands.h"
#include "engine/server/config.h"
#include "tests/engine/engine_fixture.h"
#include "tests/engine/server/dispatch_util.h"
#include "tests/engine/server/fake_engine.h"
#include "tests/test_util.h"

namespace bf {
namespace {

using testing::FakeEngine;

// One connection's state and context over a shared engine and registry.
struct Client {
  Client(Engine* engine, const ServerConfig* config, ServerStats* stats, WatchRegistry* watches) {
    ctx.engine = engine;
    ctx.config = config;
    ctx.stats = stats;
    ctx.client = &state;
    ctx.watches = watches;
  }
  std::string Run(std::initializer_list<std::string> words) {
    return testing::RunCommand(ctx, words);
  }
  ClientState state;
  CommandContext ctx;
};

class TransactionsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Client> NewClient() {
    return std::make_unique<Client>(&engine_, &config_, &stats_, &watches_);
  }
  FakeEngine engine_;
  ServerConfig config_;
  ServerStats stats_;
  WatchRegistry watches_;
};

TEST_F(TransactionsTest, QueuesThenExecRunsOneGroupInOrder) {
  auto c = NewClient();
  EXPECT_EQ(c->state.multi.load(), -1);  // CLIENT INFO's multi
  EXPECT_EQ(c->Run({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(c->state.multi.load(), 0);
  EXPECT_EQ(c->Run({"USER.SET", "alice", "CULTURE", "br"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"EVENT", "alice", "p1", "LIKE", "TS", "5"}), "+QUEUED\r\n");
  EXPECT_EQ(c->state.multi.load(), 2);
  EXPECT_EQ(c->Run({"PING"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"POST.DEL", "p1"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"USER.DEL", "nobody"}), "+QUEUED\r\n");
  EXPECT_TRUE(engine_.calls.empty());  // nothing runs before EXEC
  EXPECT_EQ(c->Run({"EXEC"}), "*5\r\n+OK\r\n+OK\r\n+PONG\r\n:1\r\n:0\r\n");
  EXPECT_EQ(engine_.calls,
            (std::vector<std::string>{"SetUser alice", "RecordEvent alice p1 1 5"}));
  EXPECT_EQ(engine_.writes, (std::vector<size_t>{4}));  // one Write of the four writes
  EXPECT_EQ(c->state.multi.load(), -1);
  EXPECT_EQ(c->Run({"EXEC"}), "-ERR EXEC without MULTI\r\n");
}

TEST_F(TransactionsTest, ExecTimeErrorsAreThatCommandsReply) {
  auto c = NewClient();
  c->Run({"MULTI"});
  EXPECT_EQ(c->Run({"EVENT", "alice", "p9", "LIKE"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"USER.SET", "bob"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"EXEC"}), "*2\r\n-NOTFOUND post\r\n+OK\r\n");
  EXPECT_EQ(engine_.calls, (std::vector<std::string>{"SetUser bob"}));
}

TEST_F(TransactionsTest, EmptyBlockRepliesEmptyArray) {
  auto c = NewClient();
  c->Run({"MULTI"});
  EXPECT_EQ(c->Run({"EXEC"}), "*0\r\n");
  EXPECT_TRUE(engine_.writes.empty());
}

TEST_F(TransactionsTest, QueuedSyntaxErrorAbortsTheBlock) {
  auto c = NewClient();
  c->Run({"MULTI"});
  EXPECT_EQ(c->Run({"USER.SET", "alice"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"USER.SET", "alice", "BOGUS"}), "-ERR syntax error\r\n");
  EXPECT_EQ(c->Run({"EVENT", "alice", "p1", "POKE"}).substr(0, 28), "-ERR unknown event type 'POK");
  EXPECT_EQ(c->Run({"EVENT", "alice", "p1", "LIKE"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.\r\n");
  EXPECT_TRUE(engine_.calls.empty());
  EXPECT_TRUE(engine_.writes.empty());
  // The block is over: the next command runs at once.
  EXPECT_EQ(c->Run({"USER.SET", "alice"}), "+OK\r\n");
}

TEST_F(TransactionsTest, ArityUnknownAndRefusedCommandsAbortTheBlock) {
  for (const std::initializer_list<std::string>& bad :
       {std::initializer_list<std::string>{"USER.DEL"},
        std::initializer_list<std::string>{"NOSUCH", "x"},
        std::initializer_list<std::string>{"FEED"},
        std::initializer_list<std::string>{"HELLO", "3"},
        std::initializer_list<std::string>{"AUTH", "pw"},
        std::initializer_list<std::string>{"INDEX.REBUILD"},
        std::initializer_list<std::string>{"BACKUP", "/tmp/x"}}) {
    auto c = NewClient();
    c->Run({"MULTI"});
    EXPECT_EQ(c->Run({"POST.DEL", "p1"}), "+QUEUED\r\n");
    EXPECT_EQ(c->Run(bad).substr(0, 5), "-ERR ") << *bad.begin();
    EXPECT_EQ(c->Run({"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.\r\n");
  }
  auto c = NewClient();
  c->Run({"MULTI"});
  EXPECT_EQ(c->Run({"SAVE"}),
            "-ERR SAVE is not allowed inside MULTI (a block takes reads, FEED, connection "
            "commands and the writes USER.SET USER.DEL POST.ADD POST.DEL EVENT; not AUTH, HELLO "
            "or operator commands)\r\n");
  EXPECT_TRUE(engine_.writes.empty());
}

TEST_F(TransactionsTest, ReadsRunAtExecInQueueOrder) {
  auto c = NewClient();
  c->state.protocol = Protocol::kResp3;
  engine_.user.culture = "BR";
  c->Run({"MULTI"});
  EXPECT_EQ(c->Run({"USER.GET", "alice"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"USER.GET", "bob"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"FEED", "alice", "COUNT", "x"}), "+QUEUED\r\n");  // checked at EXEC
  EXPECT_EQ(c->Run({"USER.SET", "alice"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"ECHO", "hi"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"USER.DEL", "alice"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"POST.GET", "nope"}), "+QUEUED\r\n");
  EXPECT_TRUE(engine_.calls.empty());
  const std::string out = c->Run({"EXEC"});
  // RESP3 shapes inside EXEC's array: a map, a null, FEED's own error, then
  // the writes' and the rest's replies in queue order.
  EXPECT_EQ(out.substr(0, 12), "*7\r\n%6\r\n$7\r\n") << out;
  EXPECT_NE(out.find("$7\r\nculture\r\n$2\r\nBR\r\n"), std::string::npos) << out;
  const std::string tail = "_\r\n-ERR COUNT must be an integer from 1 to 500\r\n+OK\r\n$2\r\nhi\r\n:1\r\n_\r\n";
  ASSERT_GE(out.size(), tail.size());
  EXPECT_EQ(out.substr(out.size() - tail.size()), tail) << out;
  EXPECT_EQ(engine_.writes, (std::vector<size_t>{2}));
}

TEST_F(TransactionsTest, WriteAfterAReadThatFollowsAWriteAbortsTheBlock) {
  auto c = NewClient();
  c->Run({"MULTI"});
  EXPECT_EQ(c->Run({"USER.SET", "alice"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"PING"}), "+QUEUED\r\n");  // reads nothing: writes may follow
  EXPECT_EQ(c->Run({"USER.SET", "bob"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"USER.GET", "alice"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"INFO", "storage"}), "+QUEUED\r\n");  // reads may follow reads
  EXPECT_EQ(c->Run({"EVENT", "alice", "p1", "LIKE"}),
            "-ERR EVENT cannot follow a read that follows a write inside MULTI: the block's "
            "writes are stored as one batch, so a read sees all of them or none (queue reads "
            "before the first write or after the last)\r\n");
  EXPECT_EQ(c->Run({"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.\r\n");
  EXPECT_TRUE(engine_.calls.empty());
  EXPECT_TRUE(engine_.writes.empty());
}

TEST_F(TransactionsTest, QueueIsBounded) {
  auto c = NewClient();
  c->Run({"MULTI"});
  for (size_t i = 0; i < Transaction::kMaxQueued; ++i) {
    if (c->Run({"PING"}) != "+QUEUED\r\n") FAIL() << "command " << i;
  }
  EXPECT_EQ(c->Run({"PING"}), "-ERR a MULTI block holds at most 100000 commands\r\n");
  EXPECT_EQ(c->Run({"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.\r\n");
}

TEST_F(TransactionsTest, RedisErrorsForMisplacedCommands) {
  auto c = NewClient();
  EXPECT_EQ(c->Run({"EXEC"}), "-ERR EXEC without MULTI\r\n");
  EXPECT_EQ(c->Run({"DISCARD"}), "-ERR DISCARD without MULTI\r\n");
  EXPECT_EQ(c->Run({"MULTI"}), "+OK\r\n");
  // These do not abort the block (as Redis).
  EXPECT_EQ(c->Run({"MULTI"}), "-ERR MULTI calls can not be nested\r\n");
  EXPECT_EQ(c->Run({"WATCH", "alice"}), "-ERR WATCH inside MULTI is not allowed\r\n");
  EXPECT_EQ(c->Run({"USER.DEL", "alice"}), "+QUEUED\r\n");
  EXPECT_EQ(c->Run({"EXEC"}), "*1\r\n:1\r\n");
}

TEST_F(TransactionsTest, DiscardDropsTheQueue) {
  auto c = NewClient();
  c->Run({"MULTI"});
  c->Run({"USER.SET", "alice"});
  EXPECT_EQ(c->Run({"DISCARD"}), "+OK\r\n");
  EXPECT_TRUE(engine_.calls.empty());
  EXPECT_EQ(c->Run({"EXEC"}), "-ERR EXEC without MULTI\r\n");
  EXPECT_EQ(c->Run({"USER.SET", "alice"}), "+OK\r\n");  // runs at once again
}

TEST_F(TransactionsTest, WatchedIdChangedByAnotherClientFailsExec) {
  auto a = NewClient(), b = NewClient();
  EXPECT_EQ(a->Run({"WATCH", "alice", "p1"}), "+OK\r\n");
  EXPECT_EQ(watches_.watched_keys(), 2u);
  EXPECT_EQ(b->Run({"USER.SET", "alice", "CULTURE", "US"}), "+OK\r\n");
  a->Run({"MULTI"});
  a->Run({"USER.SET", "alice", "CULTURE", "BR"});
  EXPECT_EQ(a->Run({"EXEC"}), "*-1\r\n");
  EXPECT_EQ(engine_.calls, (std::vector<std::string>{"SetUser alice"}));  // b's only
  EXPECT_EQ(watches_.watched_keys(), 0u);  // EXEC forgets the watches

  // An EVENT changes its post as well as its user.
  a->Run({"WATCH", "p1"});
  EXPECT_EQ(b->Run({"EVENT", "carol", "p1", "LIKE"}), "+OK\r\n");
  a->Run({"MULTI"});
  a->Run({"USER.DEL", "alice"});
  EXPECT_EQ(a->Run({"EXEC"}), "*-1\r\n");

  // A failed write changes nothing, and ids no one watches do not matter.
  a->Run({"WATCH", "alice"});
  EXPECT_EQ(b->Run({"EVENT", "alice", "p9", "LIKE"}), "-NOTFOUND post\r\n");
  EXPECT_EQ(b->Run({"USER.SET", "dave"}), "+OK\r\n");
  a->Run({"MULTI"});
  a->Run({"USER.DEL", "alice"});
  EXPECT_EQ(a->Run({"EXEC"}), "*1\r\n:1\r\n");
}

TEST_F(TransactionsTest, UnwatchAndDiscardForgetTheWatches) {
  auto a = NewClient(), b = NewClient();
  a->Run({"WATCH", "alice"});
  EXPECT_EQ(a->Run({"UNWATCH"}), "+OK\r\n");
  EXPECT_EQ(watches_.watched_keys(), 0u);
  b->Run({"USER.SET", "alice"});
  a->Run({"MULTI"});
  a->Run({"USER.SET", "alice"});
  EXPECT_EQ(a->Run({"EXEC"}), "*1\r\n+OK\r\n");

  a->Run({"WATCH", "alice"});
  a->Run({"MULTI"});
  EXPECT_EQ(a->Run({"DISCARD"}), "+OK\r\n");
  EXPECT_EQ(watches_.watched_keys(), 0u);

  // Two connections watch one id; a connection that goes away drops its watch.
  auto c = NewClient();
  a->Run({"WATCH", "alice"});
  c->Run({"WATCH", "alice", "alice"});
  EXPECT_EQ(watches_.watched_keys(), 1u);
  a.reset();
  EXPECT_EQ(watches_.watched_keys(), 1u);
  c.reset();
  EXPECT_EQ(watches_.watched_keys(), 0u);
}

TEST_F(TransactionsTest, ExecNullIsResp3NullAfterHello3) {
  auto a = NewClient(), b = NewClient();
  a->state.protocol = Protocol::kResp3;
  a->Run({"WATCH", "alice"});
  b->Run({"USER.DEL", "alice"});
  a->Run({"MULTI"});
  a->Run({"PING"});
  EXPECT_EQ(a->Run({"EXEC"}), "_\r\n");
}

// A real engine behind the command layer.
class TransactionsEngineTest : public testing::EngineFixture {
 protected:
  TransactionsEngineTest() : EngineFixture(3) { config_.engine.dim = 3; }
  void TearDown() override {
    clients_.clear();
    EngineFixture::TearDown();
  }
  Client* NewClient() {
    clients_.push_back(std::make_unique<Client>(engine_.get(), &config_, &stats_, &watches_));
    return clients_.back().get();
  }

  ServerConfig config_;
  ServerStats stats_;
  WatchRegistry watches_;
  std::vector<std::unique_ptr<Client>> clients_;
};

TEST_F(TransactionsEngineTest, BlockSeesItsOwnEarlierWrites) {
  Client* c = NewClient();
  c->Run({"MULTI"});
  c->Run({"POST.ADD", "p1", "AUTHOR", "a", "CULTURE", "US", "VECTOR", "VALUES", "3", "1", "0", "0"});
  c->Run({"EVENT", "u1", "p1", "LIKE"});
  c->Run({"EVENT", "u1", "p2", "LIKE"});  // no such post: its own error
  c->Run({"EVENT", "u2", "p1", "SHARE"});
  EXPECT_EQ(c->Run({"EXEC"}), "*4\r\n+OK\r\n+OK\r\n-NOTFOUND post\r\n+OK\r\n");
  EXPECT_EQ(Positives("p1"), 2);
  EXPECT_EQ(UserPositives("u1"), 1);
  EXPECT_EQ(UserPositives("u2"), 1);
}

TEST_F(TransactionsEngineTest, ReadsBeforeTheWritesSeeNoneAndReadsAfterSeeAll) {
  Client* c = NewClient();
  ASSERT_EQ(c->Run({"POST.ADD", "old", "AUTHOR", "a", "CULTURE", "US", "VECTOR", "VALUES", "3",
                    "1", "0", "0"}),
            "+OK\r\n");
  c->Run({"MULTI"});
  c->Run({"USER.GET", "u1"});
  c->Run({"DBSIZE"});
  c->Run({"POST.ADD", "p1", "AUTHOR", "b", "CULTURE", "CN", "VECTOR", "VALUES", "3", "0", "1",
          "0"});
  c->Run({"USER.SET", "u1", "CULTURE", "BR"});
  c->Run({"EVENT", "u1", "p1", "LIKE"});
  c->Run({"DBSIZE"});
  c->Run({"SIMILAR", "old", "COUNT", "5"});
  c->Run({"FEED", "u2", "COUNT", "5"});  // sees p1; records its page, as outside MULTI
  c->Run({"FEED", "u2", "COUNT", "5"});  // so this one has nothing left
  const std::string out = c->Run({"EXEC"});
  const std::string head = "*9\r\n$-1\r\n:1\r\n+OK\r\n+OK\r\n+OK\r\n:3\r\n*1\r\n$2\r\np1\r\n*2\r\n";
  EXPECT_EQ(out.substr(0, head.size()), head) << out;
  const std::string page = out.substr(std::min(out.size(), head.size()));
  EXPECT_TRUE(page == "$2\r\np1\r\n$3\r\nold\r\n*0\r\n" ||
              page == "$3\r\nold\r\n$2\r\np1\r\n*0\r\n")
      << out;
  EXPECT_EQ(Positives("p1"), 1);
  c->Run({"MULTI"});
  c->Run({"USER.GET", "u1"});
  const std::string user = c->Run({"EXEC"});
  EXPECT_NE(user.find("$7\r\nculture\r\n$2\r\nBR\r\n"), std::string::npos) << user;
  EXPECT_NE(user.find("$9\r\npositives\r\n:1\r\n"), std::string::npos) << user;
}

TEST_F(TransactionsEngineTest, WatchThenExecAppliesOnlyWithoutAConflict) {
  Client* a = NewClient();
  Client* b = NewClient();
  ASSERT_EQ(a->Run({"POST.ADD", "p1", "AUTHOR", "a", "CULTURE", "US", "VECTOR", "VALUES", "3",
                    "1", "0", "0"}),
            "+OK\r\n");
  a->Run({"WATCH", "p1"});
  EXPECT_EQ(b->Run({"EVENT", "u9", "p1", "LIKE"}), "+OK\r\n");
  a->Run({"MULTI"});
  a->Run({"EVENT", "u1", "p1", "LIKE"});
  EXPECT_EQ(a->Run({"EXEC"}), "*-1\r\n");
  EXPECT_EQ(Positives("p1"), 1);  // b's like only
  a->Run({"WATCH", "p1"});
  a->Run({"MULTI"});
  a->Run({"EVENT", "u1", "p1", "LIKE"});
  EXPECT_EQ(a->Run({"EXEC"}), "*1\r\n+OK\r\n");
  EXPECT_EQ(Positives("p1"), 2);
}

// Blocks of two likes on "pair" race single EVENTs and USER.SETs of the
// same users and WATCHed blocks: a reader never sees half a block, no
// user's count is lost, and a block that lost its WATCH wrote nothing.
using TransactionsConcurrencyTest = TransactionsEngineTest;

TEST_F(TransactionsConcurrencyTest, ExecBlocksRaceSingleCommands) {
  // A user counts once per post and kind, so every LIKE here is a new user's;
  // the singles' users are also the USER.SET target, racing its writes.
  constexpr int kBlocks = 150, kSingles = 300, kWatched = 100;
  Client* setup = NewClient();
  for (const char* post : {"pair", "solo"}) {
    ASSERT_EQ(setup->Run({"POST.ADD", post, "AUTHOR", "a", "CULTURE", "US", "VECTOR", "VALUES",
                          "3", "1", "0", "0"}),
              "+OK\r\n");
  }
  Client* blockers[2] = {NewClient(), NewClient()};
  Client* liker = NewClient();
  Client* setter = NewClient();
  Client* watcher = NewClient();
  auto user = [](int i) { return "u" + std::to_string(i); };
  std::atomic<int> bad{0};
  std::atomic<int> watched_ok{0};
  std::atomic<bool> half_seen{false}, done{false};

  std::vector<std::thread> threads;
  auto blocker_user = [](int k, int i) { return "b" + std::to_string(k) + "-" + std::to_string(i); };
  for (int k = 0; k < 2; ++k) {
    threads.emplace_back([&, k] {
      Client* c = blockers[k];
      for (int i = 0; i < kBlocks; ++i) {
        c->Run({"MULTI"});
        c->Run({"EVENT", blocker_user(k, 2 * i), "pair", "LIKE"});
        c->Run({"EVENT", blocker_user(k, 2 * i + 1), "pair", "LIKE"});
        if (c->Run({"EXEC"}) != "*2\r\n+OK\r\n+OK\r\n") ++bad;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < kSingles; ++i) {
      if (liker->Run({"EVENT", user(i), "solo", "LIKE"}) != "+OK\r\n") ++bad;
    }
  });
  threads.emplace_back([&] {
    for (int i = 0; i < kSingles; ++i) {
      if (setter->Run({"USER.SET", user(i), "OPENNESS", "0.5"}) != "+OK\r\n") ++bad;
    }
  });
  threads.emplace_back([&] {
    for (int i = 0; i < kWatched; ++i) {
      watcher->Run({"WATCH", "pair"});
      watcher->Run({"MULTI"});
      watcher->Run({"EVENT", "viewer" + std::to_string(i), "pair", "VIEW"});
      const std::string r = watcher->Run({"EXEC"});
      if (r == "*1\r\n+OK\r\n") {
        ++watched_ok;
      } else if (r != "*-1\r\n") {
        ++bad;
      }
    }
  });
  std::thread reader([&] {
    while (!done) {
      const int64_t n = Positives("pair");
      if (n % 2 != 0) half_seen = true;
    }
  });
  // Blocks of two reads: no other client's write lands between them.
  Client* block_reader = NewClient();
  std::atomic<int> torn_reads{0};
  std::thread read_blocks([&] {
    while (!done) {
      block_reader->Run({"MULTI"});
      block_reader->Run({"POST.GET", "pair"});
      block_reader->Run({"POST.GET", "pair"});
      const std::string r = block_reader->Run({"EXEC"});
      // *2, then the two replies: equal, so the rest is one text twice.
      const std::string both = r.substr(std::min<size_t>(4, r.size()));
      if (r.substr(0, 4) != "*2\r\n" || both.size() % 2 != 0 ||
          both.substr(0, both.size() / 2) != both.substr(both.size() / 2)) {
        ++torn_reads;
      }
    }
  });
  for (std::thread& t : threads) t.join();
  done = true;
  reader.join();
  read_blocks.join();
  EXPECT_EQ(torn_reads.load(), 0);

  EXPECT_EQ(bad.load(), 0);
  EXPECT_FALSE(half_seen.load());
  EXPECT_EQ(Positives("pair"), 2 * 2 * kBlocks);
  EXPECT_EQ(Positives("solo"), kSingles);
  int64_t users = 0;
  for (int i = 0; i < kSingles; ++i) users += UserPositives(user(i));
  for (int k = 0; k < 2; ++k) {
    for (int i = 0; i < 2 * kBlocks; ++i) users += UserPositives(blocker_user(k, i));
  }
  EXPECT_EQ(users, 2 * 2 * kBlocks + kSingles);  // no read-modify-write lost one
  auto pair = engine_->GetPost("pair");
  ASSERT_RESULT_OK(pair);
  EXPECT_EQ((*pair)->impressions, watched_ok.load());
}

}  // namespace
}  // namespace bf
