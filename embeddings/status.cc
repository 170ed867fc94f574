#include "embeddings/status.h"

namespace bf {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kInvalid: return "Invalid";
    case Code::kWrongDim: return "WrongDim";
    case Code::kBadVector: return "BadVector";
    case Code::kNotFound: return "NotFound";
    case Code::kBusy: return "Busy";
    case Code::kIOError: return "IOError";
    case Code::kCorruption: return "Corruption";
    case Code::kInternal: return "Internal";
    case Code::kClusterDown: return "ClusterDown";
    case Code::kTryAgain: return "TryAgain";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = CodeName(code_);
  if (!msg_.empty()) {
    out += ": ";
    out += msg_;
  }
  return out;
}

void CheckFailed(const char* file, int line, const char* expr) {
  std::fprintf(stderr, "bridgefeed: check failed at %s:%d: %s\n", file, line, expr);
  std::abort();
}

}  // namespace bf
