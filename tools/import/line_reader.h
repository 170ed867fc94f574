// LineReader: reads a file line by line (POSIX getline, 1 MiB buffer) and
// counts lines and bytes, for the importer's progress bar.
// Thread-safety: none.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "embeddings/status.h"

namespace bf {

class LineReader {
 public:
  LineReader() = default;
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  ~LineReader() {
    if (file_ != nullptr) std::fclose(file_);
    std::free(buf_);
  }

  // Errors: IOError "cannot open PATH".
  Status Open(const std::string& path) {
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) return Status::IOError("cannot open " + path);
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
    std::error_code ec;
    size_ = std::filesystem::file_size(path, ec);
    return Status::OK();
  }
  // The next line without its '\n', valid until the next call; false at the
  // end of the file or on a read error (failed()). REQUIRES: Open succeeded.
  bool Next(std::string_view* line) {
    const ssize_t n = ::getline(&buf_, &cap_, file_);
    if (n < 0) return false;
    ++number_;
    read_ += static_cast<uint64_t>(n);
    *line = std::string_view(buf_, static_cast<size_t>(n));
    if (!line->empty() && line->back() == '\n') line->remove_suffix(1);
    return true;
  }
  bool failed() const { return std::ferror(file_) != 0; }
  int64_t number() const { return number_; }  // of the last line returned, from 1
  uint64_t read() const { return read_; }      // bytes so far
  uint64_t size() const { return size_; }      // bytes in the file when opened

 private:
  std::FILE* file_ = nullptr;
  char* buf_ = nullptr;
  size_t cap_ = 0;
  int64_t number_ = 0;
  uint64_t read_ = 0, size_ = 0;
};

}  // namespace bf
