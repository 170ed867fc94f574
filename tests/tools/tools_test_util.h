// Helpers shared by the tools' tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "engine/store/layout.h"
#include "engine/store/store.h"

namespace bf::test {

// A FILE* whose contents a test can read back (open_memstream), for code
// that prints to a stream.
class Capture {
 public:
  Capture() : file_(open_memstream(&buf_, &len_)) {}
  ~Capture() {
    std::fclose(file_);
    std::free(buf_);
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  std::FILE* file() const { return file_; }
  // Everything written so far.
  std::string Text() {
    std::fflush(file_);
    return std::string(buf_, len_);
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  std::FILE* file_;
};

// Writes text to path; returns path.
inline std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The existing database of a data dir, at its own dimension; nullptr (and a
// test failure) when it cannot be opened.
inline std::unique_ptr<Store> OpenDatabase(const std::string& data_dir) {
  StoreOptions o;
  o.path = DbPath(data_dir);
  o.dim = 0;
  o.create_if_missing = false;
  auto s = Store::Open(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

}  // namespace bf::test
