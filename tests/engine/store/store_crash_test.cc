// Kills a process that is writing posts (SIGKILL, no chance to clean up) and
// checks that every post it acknowledged survives, bit for bit.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/store/store.h"
#include "tests/engine/store/store_test_util.h"
#include "tests/test_util.h"

namespace bf {
namespace {

// Starts the child writing to `path`; reads `want` acknowledgements (or fewer
// if it dies), asserts a second primary open fails while the child holds the
// folder, then SIGKILLs it. Returns the acknowledged post numbers.
std::vector<int> WriteAndKill(const std::string& path, const char* policy, int want) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(BF_STORE_CRASH_CHILD, BF_STORE_CRASH_CHILD, path.c_str(), policy, nullptr);
    _exit(127);
  }
  close(fds[1]);
  std::vector<int> acked;
  std::string pending;
  bool checked_lock = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (static_cast<int>(acked.size()) < want && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;  // the child exited
    pending.append(buf, n);
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      acked.push_back(std::stoi(pending.substr(0, nl)));
      pending.erase(0, nl + 1);
    }
    if (!checked_lock && !acked.empty()) {
      // The child has the database open: another process's primary open fails.
      checked_lock = true;
      StoreOptions o;
      o.path = path;
      o.dim = test::kCrashDim;
      auto second = Store::Open(o);
      EXPECT_FALSE(second.ok());
      if (!second.ok()) {
        EXPECT_EQ(second.status().code(), Code::kIOError);
        EXPECT_NE(second.status().message().find("data dir " + path +
                                                 " is in use by another process"),
                  std::string::npos)
            << second.status().ToString();
      }
    }
  }
  kill(pid, SIGKILL);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  close(fds[0]);
  EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
      << "the child ended on its own, status " << wstatus;
  return acked;
}

// Removes the folder however the test ends.
struct TempDir {
  std::string path = test::MakeTempDir();
  ~TempDir() { std::filesystem::remove_all(path); }
};

void CrashAndCheck(const char* policy) {
  const TempDir dir;
  const std::string path = dir.path + "/db";
  const std::vector<int> acked = WriteAndKill(path, policy, 2000);
  ASSERT_GE(acked.size(), 2000u);

  StoreOptions o;
  o.path = path;
  o.dim = 0;  // whatever the child created
  auto store = Store::Open(o);
  ASSERT_RESULT_OK(store);
  EXPECT_EQ((*store)->dim(), test::kCrashDim);
  for (int i : acked) {
    auto got = (*store)->GetPost(test::CrashPostId(i));
    ASSERT_RESULT_OK(got);
    ASSERT_TRUE(got->has_value()) << "acknowledged post " << i << " lost (" << policy << ")";
    const PostRecord want = test::TestPost(test::CrashPostId(i), test::kCrashDim, i);
    const PostRecord& p = **got;
    EXPECT_EQ(p.id, want.id);
    EXPECT_EQ(p.title, want.title);
    EXPECT_EQ(p.tags, want.tags);
    EXPECT_EQ(p.ts, want.ts);
    EXPECT_TRUE(test::SameBits(p.vector, want.vector)) << "post " << i;
  }
  // Counters came back with the data: every stored post has a distinct iid
  // below the next one handed out.
  auto count = (*store)->CountPosts();
  ASSERT_RESULT_OK(count);
  EXPECT_GE(*count, acked.size());
  EXPECT_GE((*store)->LastSequence(), acked.size());
  auto next = (*store)->PutPost(test::TestPost("after-crash", test::kCrashDim, 1));
  ASSERT_RESULT_OK(next);
  EXPECT_EQ(next->iid, *count + 1);
}

TEST(StoreCrashTest, AcknowledgedPostsSurviveKillWithFsyncNo) { CrashAndCheck("no"); }
TEST(StoreCrashTest, AcknowledgedPostsSurviveKillWithFsyncEverysec) {
  CrashAndCheck("everysec");
}

}  // namespace
}  // namespace bf
