#include "engine/server/wire_error.h"

namespace bf {

const char* WireCode(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kWrongDim: return "WRONGDIM";
    case Code::kBadVector: return "BADVECTOR";
    case Code::kNotFound: return "NOTFOUND";
    case Code::kBusy: return "BUSY";
    case Code::kClusterDown: return "CLUSTERDOWN";
    case Code::kTryAgain: return "TRYAGAIN";
    case Code::kInvalid:
    case Code::kIOError:
    case Code::kCorruption:
    case Code::kInternal: return "ERR";
  }
  return "ERR";
}

std::string WireError(const Status& status) {
  std::string out = WireCode(status.code());
  if (!status.message().empty()) {
    out += ' ';
    out += status.message();
  }
  return out;
}

}  // namespace bf
