#include "tools/import/progress_bar.h"

#include <unistd.h>

#include <utility>

namespace bf {
namespace {

constexpr int kWidth = 30;   // characters of the bar itself
constexpr int kSteps = 200;  // redraws on a terminal: one per 0.5%

double Fraction(double done, double total) { return total > 0 ? done / total : 1.0; }

}  // namespace

ProgressBar::ProgressBar(std::string label, int label_width, std::FILE* out, bool quiet)
    : label_(std::move(label)),
      label_width_(label_width),
      out_(out),
      quiet_(quiet),
      tty_(::isatty(::fileno(out)) != 0) {}

double ProgressBar::Seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

bool ProgressBar::Due(double fraction) {
  if (quiet_ || !tty_) return false;
  const int step = static_cast<int>(fraction * kSteps);
  if (step == last_step_) return false;
  last_step_ = step;
  return true;
}

void ProgressBar::Draw(double fraction, const char* counter, bool final) {
  if (quiet_) return;
  const auto filled = static_cast<size_t>(fraction * kWidth);
  std::fprintf(out_, "\r%-*s [%-*s] %3.0f%% %s", label_width_, label_.c_str(), kWidth,
               std::string(filled, '#').c_str(), 100 * fraction, counter);
  if (final) std::fputc('\n', out_);
  std::fflush(out_);
}

void ProgressBar::Count(int64_t done, int64_t total) {
  const double fraction = Fraction(static_cast<double>(done), static_cast<double>(total));
  const bool final = done == total;
  if (final ? done == final_done_ : !Due(fraction)) return;
  if (final) final_done_ = done;
  char counter[96];
  std::snprintf(counter, sizeof counter, "%lld/%lld %.1fs", static_cast<long long>(done),
                static_cast<long long>(total), Seconds());
  Draw(fraction, counter, final);
}

void ProgressBar::Lines(uint64_t read, uint64_t size, int64_t lines) {
  if (Due(Fraction(static_cast<double>(read), static_cast<double>(size)))) {
    DrawLines(read, size, lines, false);
  }
}

void ProgressBar::LinesDone(uint64_t read, uint64_t size, int64_t lines) {
  DrawLines(read, size, lines, true);
}

void ProgressBar::DrawLines(uint64_t read, uint64_t size, int64_t lines, bool final) {
  const double secs = Seconds();
  char counter[128];
  int n = std::snprintf(counter, sizeof counter, "%10lld lines %8.1fk lines/s",
                        static_cast<long long>(lines),
                        secs > 0 ? static_cast<double>(lines) / secs / 1000 : 0.0);
  if (final) std::snprintf(counter + n, sizeof counter - n, " %.1fs", secs);
  Draw(Fraction(static_cast<double>(read), static_cast<double>(size)), counter, final);
}

}  // namespace bf
