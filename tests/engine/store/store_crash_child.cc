// Writes posts to a store until killed, printing each post number on its own
// line once PutPost has returned (acknowledged). Used by store_crash_test.
// Usage: store_crash_child <path> <always|everysec|no>
#include <cstdio>
#include <cstring>

#include "tests/engine/store/store_test_util.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <path> <always|everysec|no>\n", argv[0]);
    return 2;
  }
  bf::StoreOptions o;
  o.path = argv[1];
  o.dim = bf::test::kCrashDim;
  o.fsync = std::strcmp(argv[2], "always") == 0     ? bf::FsyncPolicy::kAlways
            : std::strcmp(argv[2], "everysec") == 0 ? bf::FsyncPolicy::kEverysec
                                                    : bf::FsyncPolicy::kNo;
  auto store = bf::Store::Open(o);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  for (int i = 0;; ++i) {
    auto r = (*store)->PutPost(bf::test::TestPost(bf::test::CrashPostId(i), o.dim, i));
    if (!r.ok()) {
      std::fprintf(stderr, "put: %s\n", r.status().ToString().c_str());
      return 1;
    }
    std::printf("%d\n", i);
    std::fflush(stdout);
  }
}
