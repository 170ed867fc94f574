// A FILE* whose contents a test can read back (open_memstream), for code
// that prints to a stream.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace bf::test {

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

}  // namespace bf::test
