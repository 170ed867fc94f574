#include "embeddings/status.h"

namespace bf {

const char* Status::WireCode() const {
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kWrongDim: return "WRONGDIM";
    case Code::kBadVector: return "BADVECTOR";
    case Code::kNotFound: return "NOTFOUND";
    case Code::kBusy: return "BUSY";
    case Code::kClusterDown: return "CLUSTERDOWN";
    case Code::kTryAgain: return "TRYAGAIN";
    default: return "ERR";
  }
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = WireCode();
  if (!msg_.empty()) {
    out += ' ';
    out += msg_;
  }
  return out;
}

void CheckFailed(const char* file, int line, const char* expr) {
  std::fprintf(stderr, "bridgefeed: check failed at %s:%d: %s\n", file, line, expr);
  std::abort();
}

}  // namespace bf
