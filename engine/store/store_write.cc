// Store::Write: a group of record writes in one RocksDB WriteBatch.
#include "engine/store/internal/store_impl.h"

namespace bf::internal {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// clang 14 has no class template argument deduction for aggregates.
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

Status StoreImpl::ApplyOp(Txn& t, const StoreOp& op, StoreOpResult* result) {
  return std::visit(
      Overloaded{
          [&](const UserRecord& u) -> Status {
            UserRecord valid = u;
            BF_RETURN_IF_ERROR(ValidateUser(&valid));
            return ApplyUser(t, valid);
          },
          [&](const DeleteUserWrite& d) -> Status {
            BF_RETURN_IF_ERROR(CheckStoredId(d.id, "user"));
            auto existed = ApplyDeleteUser(t, d.id);
            if (!existed.ok()) return existed.status();
            result->existed = *existed;
            return Status::OK();
          },
          [&](const PostRecord& p) -> Status {
            result->post = p;
            BF_RETURN_IF_ERROR(ValidatePost(&result->post));
            return ApplyPost(t, &result->post);
          },
          [&](const DeletePostWrite& d) -> Status {
            BF_RETURN_IF_ERROR(CheckStoredId(d.id, "post"));
            auto gone = ApplyDeletePost(t, d.id);
            if (!gone.ok()) return gone.status();
            result->existed = gone->has_value();
            result->iid = gone->value_or(0);
            return Status::OK();
          },
          [&](const EventWrite& e) -> Status {
            EventWrite valid = e;
            BF_RETURN_IF_ERROR(ValidateEvent(&valid));
            auto iid = ApplyEvent(t, valid, &result->counted);
            if (!iid.ok()) return iid.status();
            result->iid = *iid;
            return Status::OK();
          },
      },
      op);
}

Result<std::vector<StoreOpResult>> StoreImpl::Write(std::span<const StoreOp> ops,
                                                    const StoreWriteOptions& options) {
  if (read_only_) return ReadOnly();
  std::vector<StoreOpResult> results(ops.size());
  std::lock_guard lock(write_mu_);
  Txn t(this);
  for (size_t i = 0; i < ops.size(); ++i) {
    // A failing op stages nothing into the batch before it fails; its
    // counter changes (an iid taken, say) are undone here.
    const Counters before = t.counters;
    Status st = ApplyOp(t, ops[i], &results[i]);
    if (st.ok()) continue;
    if (!options.skip_failed) return st;
    t.counters = before;
    results[i] = StoreOpResult{};
    results[i].status = std::move(st);
  }
  if (options.applied_log_seq) {
    std::string v;
    Writer(&v).U64(*options.applied_log_seq);
    t.batch.Put(cf(kMeta), kMetaAppliedLogSeq, v);
  }
  BF_RETURN_IF_ERROR(t.Commit());
  if (options.applied_log_seq) applied_log_seq_ = *options.applied_log_seq;
  return results;
}

}  // namespace bf::internal
