// EngineFixture: a fresh engine per test in its own temporary folder (named
// after the process and the test), closed and removed after it, with Reopen
// for restart tests. Shared by the engine tests and the command layer's
// tests against a real engine.
//
// Options start as: dim from the constructor, a Flat index, no periodic
// snapshot. A test may change options_ (index settings, say) and then
// Reopen, or TearDown and SetUp for a new empty database; data_dir is
// always the fixture's folder.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "tests/test_util.h"

namespace bf::testing {

class EngineFixture : public ::testing::Test {
 protected:
  explicit EngineFixture(int dim) {
    options_.dim = dim;
    options_.index.spec = "Flat";
    options_.snapshot_interval_s = 0;
  }

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bf_engine_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name() + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    if (engine_) EXPECT_OK(engine_->Close());
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    options_.data_dir = dir_.string();
    auto e = Engine::Open(options_);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }
  void Reopen() {
    ASSERT_OK(engine_->Close());
    engine_.reset();
    Open();
  }

  // A post's or a user's positives; -1 when it is unknown or cannot be read.
  int64_t Positives(const std::string& post) const {
    auto p = engine_->GetPost(post);
    return p.ok() && p->has_value() ? (*p)->positives : -1;
  }
  int64_t UserPositives(const std::string& user) const {
    auto u = engine_->GetUser(user);
    return u.ok() && u->has_value() ? (*u)->positives : -1;
  }

  EngineOptions options_;
  std::filesystem::path dir_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace bf::testing
