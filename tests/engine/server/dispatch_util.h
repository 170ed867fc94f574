// Runs one command through Dispatch and returns the raw reply bytes.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "engine/server/commands.h"

namespace bf::testing {

inline std::string RunCommand(CommandContext& ctx, std::initializer_list<std::string> words) {
  std::vector<std::string> owned(words);
  std::vector<std::string_view> args(owned.begin(), owned.end());
  std::string out;
  Dispatch(ctx, args, &out);
  return out;
}

}  // namespace bf::testing
