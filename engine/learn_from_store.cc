#include "engine/learn_from_store.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <unordered_map>

#include "engine/store/limits.h"


namespace bf {

namespace {
int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

uint64_t DatabaseFingerprint(const std::string& db_id) {
  uint64_t v = 0;
  int digits = 0;
  for (char c : db_id) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (d < 0) {
      digits = 0;
      break;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
    if (++digits == 16) break;
  }
  if (digits < 16) v = std::hash<std::string>()(db_id);
  return v == 0 ? 1 : v;
}

std::string ItemKey(uint64_t seq, std::string_view post_id) {
  std::string key;
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>((seq >> (8 * i)) & 0xff));
  key.append(post_id);
  return key;
}

bool ParseItemKey(std::string_view key, uint64_t* seq, std::string_view* post_id) {
  if (key.size() < 9) return false;
  *seq = 0;
  for (int i = 0; i < 8; ++i) *seq = (*seq << 8) | static_cast<uint8_t>(key[i]);
  *post_id = key.substr(8);
  return true;
}

Result<StoreTraining> TrainFromStore(const Store& store, learn::AlsOptions options,
                                     const learn::IterationCallback& on_iteration,
                                     const StoreTrainingOptions& how) {
  const auto t0 = std::chrono::steady_clock::now();
  const int dim = store.dim();
  options.dim = dim;
  StoreTraining out;
  out.post_seq = store.LastSequence();

  // Items: every stored post, with its prior.
  learn::ModelFile& mf = out.model;
  std::unordered_map<uint64_t, int32_t> item_row;
  learn::Priors item_priors;
  BF_RETURN_IF_ERROR(store.ScanPosts([&](const PostRecord& p) {
    if (how.last_post_seq != 0 && p.seq > how.last_post_seq) return true;  // newer than the run
    item_row.emplace(p.iid, static_cast<int32_t>(mf.item_keys.size()));
    mf.item_keys.push_back(ItemKey(p.seq, p.id));
    item_priors.present.push_back(p.prior.empty() ? 0 : 1);
    if (p.prior.empty()) {
      item_priors.values.resize(item_priors.values.size() + static_cast<size_t>(dim), 0.0f);
    } else {
      item_priors.values.insert(item_priors.values.end(), p.prior.begin(), p.prior.end());
    }
    return true;
  }));

  // Users: everyone with an event on a stored post.
  std::unordered_map<std::string, int32_t> user_row;
  std::vector<learn::Interaction> interactions;
  // People, not clicks: a user's post counts once per engagement kind, by
  // its first event with the newest time, as EVENT's fold-in counts it.
  std::string current_user;
  std::unordered_map<uint64_t, size_t> first;  // (iid, engagement) -> index
  auto covered = store.ForEachEvent([&](std::string_view user, const LoggedEvent& e) {
    if (how.last_event != 0 && e.number > how.last_event) return true;
    auto item = item_row.find(e.post_iid);
    if (item == item_row.end()) return true;  // deleted since
    if (user != current_user) {  // the log comes grouped by user
      current_user = user;
      first.clear();
    }
    const uint64_t key = (e.post_iid << 2) | static_cast<uint64_t>(EngagementOf(e.type));
    auto [seen, is_first] = first.try_emplace(key, interactions.size());
    if (!is_first) {
      interactions[seen->second].ts = std::max(interactions[seen->second].ts, e.ts);
      return true;
    }
    auto [it, added] =
        user_row.try_emplace(std::string(user), static_cast<int32_t>(mf.user_keys.size()));
    if (added) mf.user_keys.emplace_back(user);
    interactions.push_back(
        {it->second, item->second, static_cast<learn::EventKind>(e.type), e.ts});
    return true;
  });
  if (!covered.ok()) return covered.status();
  if (interactions.empty()) return Status::Invalid("no events to train on");

  learn::Priors user_priors;
  user_priors.present.assign(mf.user_keys.size(), 0);
  user_priors.values.assign(mf.user_keys.size() * static_cast<size_t>(dim), 0.0f);
  BF_RETURN_IF_ERROR(store.ForEachUser([&](const UserRecord& u) {
    if (!how.user_priors || u.prior.empty()) return true;
    auto it = user_row.find(u.id);
    if (it == user_row.end()) return true;
    user_priors.present[static_cast<size_t>(it->second)] = 1;
    std::copy(u.prior.begin(), u.prior.end(),
              user_priors.values.begin() + static_cast<std::ptrdiff_t>(it->second) * dim);
    return true;
  }));

  if (how.on_read) how.on_read();

  auto matrix = learn::BuildFeedbackMatrix(static_cast<int32_t>(mf.user_keys.size()),
                                           static_cast<int32_t>(mf.item_keys.size()),
                                           interactions, options.confidence);
  if (!matrix.ok()) return matrix.status();
  out.events = static_cast<int64_t>(interactions.size());
  interactions = {};
  auto model = learn::TrainAls(*matrix, user_priors, item_priors, options, on_iteration);
  if (!model.ok()) return model.status();

  mf.header.dim = static_cast<uint32_t>(dim);
  mf.header.database_id = DatabaseFingerprint(store.db_id());
  mf.header.events_seq =
      how.last_event != 0 ? std::min<uint64_t>(how.last_event, *covered) : *covered;
  mf.header.trained_at = how.trained_at != 0 ? how.trained_at : Now();
  mf.header.iterations = static_cast<uint32_t>(model->iterations);
  mf.header.loss = model->loss;
  mf.users = std::move(model->users);
  mf.items = std::move(model->items);
  out.item_gramian = std::move(model->item_gramian);
  out.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace bf
