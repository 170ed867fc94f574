#include "index/index_builder.h"

#include <chrono>
#include <utility>

namespace bf {

IndexBuilder::IndexBuilder(IndexOptions options, SnapshotStamp covers)
    : options_(std::move(options)), covers_(std::move(covers)) {}

void IndexBuilder::Reserve(int64_t n) {
  if (n <= 0) return;
  const auto rows = static_cast<size_t>(n);
  ids_.reserve(rows);
  cultures_.reserve(rows);
  vectors_.reserve(rows * static_cast<size_t>(options_.dim));
}

void IndexBuilder::Add(uint64_t id, uint16_t culture, std::span<const float> v) {
  BF_CHECK(static_cast<int>(v.size()) == options_.dim);
  ids_.push_back(id);
  cultures_.push_back(culture);
  vectors_.insert(vectors_.end(), v.begin(), v.end());
}

std::span<const float> IndexBuilder::vector(int64_t row) const {
  BF_CHECK(row >= 0 && row < size());
  const auto dim = static_cast<size_t>(options_.dim);
  return {vectors_.data() + static_cast<size_t>(row) * dim, dim};
}

Result<BuiltIndex> IndexBuilder::Build(const Progress& progress) const {
  const auto start = std::chrono::steady_clock::now();
  auto built = AnnIndex::Build(options_, size(), ids_.data(), cultures_.data(), vectors_.data(),
                               progress);
  if (!built.ok()) return built.status();
  BuiltIndex out;
  out.index = std::move(built).value();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace bf
