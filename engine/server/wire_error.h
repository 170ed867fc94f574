// The Status-to-wire mapping: which RESP error code (the first word of an
// error reply, api.md) each Status code becomes. The one place that knows it.
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "embeddings/status.h"

namespace bf {

// "ERR", "WRONGDIM", "BADVECTOR", "NOTFOUND" or "BUSY"; "OK" for Code::kOk.
// Every code api.md has no word for (IOError, Corruption, Internal) is ERR.
const char* WireCode(Code code);

// The error reply's text without the leading '-': "WRONGDIM expected 64, got 3".
// REQUIRES: !status.ok()
std::string WireError(const Status& status);

}  // namespace bf
