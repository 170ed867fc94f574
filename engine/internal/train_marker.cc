#include "engine/internal/train_marker.h"

#include <bit>
#include <charconv>
#include <cstdint>
#include <map>
#include <type_traits>

namespace bf::internal {
namespace {

constexpr std::string_view kVersion = "v1";

void Field(std::string* out, std::string_view key, uint64_t value) {
  out->push_back(' ');
  out->append(key);
  out->push_back('=');
  out->append(std::to_string(value));
}

Result<uint64_t> Get(const std::map<std::string_view, std::string_view>& fields,
                     std::string_view key) {
  auto it = fields.find(key);
  if (it == fields.end()) return Status::Corruption("train marker: no " + std::string(key));
  uint64_t v = 0;
  const char* end = it->second.data() + it->second.size();
  auto [p, ec] = std::from_chars(it->second.data(), end, v);
  if (ec != std::errc() || p != end) {
    return Status::Corruption("train marker: bad " + std::string(key));
  }
  return v;
}

}  // namespace

std::string EncodeTrainRun(const TrainRun& run) {
  const learn::AlsOptions& a = run.als;
  std::string out(kVersion);
  Field(&out, "trained_at", static_cast<uint64_t>(run.trained_at));
  Field(&out, "seed", a.seed);
  Field(&out, "iterations", static_cast<uint64_t>(a.iterations));
  Field(&out, "regularization", std::bit_cast<uint32_t>(a.regularization));
  Field(&out, "prior_regularization", std::bit_cast<uint32_t>(a.prior_regularization));
  Field(&out, "init_stddev", std::bit_cast<uint32_t>(a.init_stddev));
  for (size_t k = 0; k < a.confidence.weight.size(); ++k) {
    Field(&out, "w" + std::to_string(k), std::bit_cast<uint32_t>(a.confidence.weight[k]));
  }
  Field(&out, "half_life_s", std::bit_cast<uint64_t>(a.confidence.half_life_s));
  Field(&out, "decay_now", static_cast<uint64_t>(a.confidence.now));
  Field(&out, "solver", static_cast<uint64_t>(a.solver));
  Field(&out, "cg_steps", static_cast<uint64_t>(a.cg_steps));
  Field(&out, "user_priors", run.user_priors ? 1 : 0);
  Field(&out, "last_event", run.last_event);
  Field(&out, "last_post_seq", run.last_post_seq);
  return out;
}

Result<TrainRun> DecodeTrainRun(std::string_view text) {
  std::map<std::string_view, std::string_view> fields;
  size_t pos = 0;
  bool first = true;
  while (pos <= text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view part = text.substr(pos, end - pos);
    if (first) {
      if (part != kVersion) return Status::Corruption("train marker: unknown version");
      first = false;
    } else {
      const size_t eq = part.find('=');
      if (eq == std::string_view::npos) return Status::Corruption("train marker: bad field");
      fields[part.substr(0, eq)] = part.substr(eq + 1);
    }
    pos = end + 1;
  }
  TrainRun run;
  learn::AlsOptions& a = run.als;
  auto u32 = [&](std::string_view key, auto* out) -> Status {
    auto v = Get(fields, key);
    if (!v.ok()) return v.status();
    if (*v > UINT32_MAX) return Status::Corruption("train marker: bad " + std::string(key));
    using T = std::remove_pointer_t<decltype(out)>;
    if constexpr (std::is_same_v<T, float>) {
      *out = std::bit_cast<float>(static_cast<uint32_t>(*v));
    } else {
      *out = static_cast<T>(*v);
    }
    return Status::OK();
  };
  auto u64 = [&](std::string_view key, uint64_t* out) -> Status {
    auto v = Get(fields, key);
    if (!v.ok()) return v.status();
    *out = *v;
    return Status::OK();
  };
  uint64_t trained_at = 0, half_life = 0, decay_now = 0, user_priors = 0;
  uint32_t solver = 0;
  BF_RETURN_IF_ERROR(u64("trained_at", &trained_at));
  BF_RETURN_IF_ERROR(u64("seed", &a.seed));
  BF_RETURN_IF_ERROR(u32("iterations", &a.iterations));
  BF_RETURN_IF_ERROR(u32("regularization", &a.regularization));
  BF_RETURN_IF_ERROR(u32("prior_regularization", &a.prior_regularization));
  BF_RETURN_IF_ERROR(u32("init_stddev", &a.init_stddev));
  for (size_t k = 0; k < a.confidence.weight.size(); ++k) {
    BF_RETURN_IF_ERROR(u32("w" + std::to_string(k), &a.confidence.weight[k]));
  }
  BF_RETURN_IF_ERROR(u64("half_life_s", &half_life));
  BF_RETURN_IF_ERROR(u64("decay_now", &decay_now));
  BF_RETURN_IF_ERROR(u32("solver", &solver));
  BF_RETURN_IF_ERROR(u32("cg_steps", &a.cg_steps));
  BF_RETURN_IF_ERROR(u64("user_priors", &user_priors));
  BF_RETURN_IF_ERROR(u64("last_event", &run.last_event));
  BF_RETURN_IF_ERROR(u64("last_post_seq", &run.last_post_seq));
  if (solver > static_cast<uint32_t>(learn::Solver::kCholesky)) {
    return Status::Corruption("train marker: bad solver");
  }
  run.trained_at = static_cast<int64_t>(trained_at);
  a.confidence.half_life_s = std::bit_cast<double>(half_life);
  a.confidence.now = static_cast<int64_t>(decay_now);
  a.solver = static_cast<learn::Solver>(solver);
  run.user_priors = user_priors != 0;
  run.resumable = true;
  return run;
}

}  // namespace bf::internal
