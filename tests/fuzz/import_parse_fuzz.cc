// libFuzzer target: the bulk-import line parser (tools/import/import_parse.h).
//
// Each input is one line, tried as a post, a user and an event, and for its
// vector's length, with a small dimension so valid vectors are reachable.
// Accepted records must hold what the header promises.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tools/import/import_parse.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

constexpr int kDim = 4;

void CheckUnit(const bf::Vector& v) {
  Check(static_cast<int>(v.size()) == kDim);
  double norm = 0;
  for (float x : v) {
    Check(std::isfinite(x));
    norm += double{x} * x;
  }
  Check(std::fabs(norm - 1.0) < 1e-3);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One parser for the whole run, as the importer reuses one per thread.
  static bf::ImportParser parser(kDim, 1700000000);
  std::string_view line(reinterpret_cast<const char*>(data), size);

  auto post = parser.ParsePost(line);
  if (post.ok()) {
    CheckUnit(post.value().vector);
    Check(!post.value().id.empty() && post.value().id.size() <= 128);
  }
  auto user = parser.ParseUser(line);
  if (user.ok()) {
    if (!user.value().vector.empty()) CheckUnit(user.value().vector);
    const float o = user.value().openness;
    Check(o == -1 || (o >= 0 && o <= 1));
  }
  auto event = parser.ParseEvent(line);
  if (event.ok()) Check(!event.value().user.empty() && !event.value().post.empty());
  auto dim = parser.PeekVectorDim(line);
  if (dim) Check(*dim >= 0);
  return 0;
}
