// ProgressBar: the offline tools' progress line (bridgefeed-import,
// bridgefeed-rebuild):
//   "label      [#########                     ]  30% <counter>"
// redrawn in place on a terminal, at most once per 0.5%; anywhere else (a
// log file, a pipe) only the final line is written. Quiet writes nothing.
// The server logs the same progress through spdlog instead
// (engine/engine_index.cc); both are fed by an index build's Progress
// callback (index/ann_index.h).
//
// Two counters:
//   Count: items of a known total, e.g. posts read or added to an index;
//     "450000/1000000 3.2s". Usable as a Progress callback.
//   Lines: a file read line by line, the fraction by bytes;
//     "    123456 lines     85.1k lines/s", and the seconds on the final line.
//
// Thread-safety: none; one thread draws a bar. It writes to `out`, which
// must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace bf {

class ProgressBar {
 public:
  // label is left-aligned in label_width columns.
  ProgressBar(std::string label, int label_width, std::FILE* out = stderr, bool quiet = false);

  // done of total items; done == total draws the final line (once for each
  // value of done) and ends it.
  void Count(int64_t done, int64_t total);
  void operator()(int64_t done, int64_t total) { Count(done, total); }

  // A file being read: `read` of `size` bytes, `lines` lines so far.
  void Lines(uint64_t read, uint64_t size, int64_t lines);
  // The file's final line, with the seconds it took.
  void LinesDone(uint64_t read, uint64_t size, int64_t lines);

  // Seconds since the bar was made.
  double Seconds() const;

 private:
  // Whether an intermediate redraw is due at this fraction.
  bool Due(double fraction);
  void Draw(double fraction, const char* counter, bool final);
  void DrawLines(uint64_t read, uint64_t size, int64_t lines, bool final);

  std::string label_;
  int label_width_;
  std::FILE* out_;
  bool quiet_;
  bool tty_;
  int last_step_ = -1;          // the 0.5% step last drawn
  int64_t final_done_ = -1;     // done of the last final line drawn by Count
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace bf
