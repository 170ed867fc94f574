// The engine's learned vectors: priors (posts and users without or with a
// given vector), TRAIN and MODEL.LOAD (docs/learning.md).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "embeddings/learn/model_file.h"
#include "engine/engine.h"
#include "engine/internal/train_marker.h"
#include "engine/learn_from_store.h"
#include "engine/store/layout.h"
#include "engine/store/store.h"
#include "tests/test_util.h"

namespace bf {
namespace {

namespace fs = std::filesystem;
constexpr int kDim = 8;

class EngineLearnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bf_learn_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    if (engine_) EXPECT_OK(engine_->Close());
    engine_.reset();
    fs::remove_all(dir_);
  }
  EngineOptions Options() {
    EngineOptions o;
    o.data_dir = dir_.string();
    o.dim = kDim;
    o.index.spec = "Flat";
    o.snapshot_interval_s = 0;
    return o;
  }
  void Open() {
    auto e = Engine::Open(Options());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }
  void Reopen() {
    ASSERT_OK(engine_->Close());
    engine_.reset();
    Open();
  }
  // A unit-ish vector along axis t (mod kDim) with a little noise.
  Vector Axis(int t) {
    Vector v(kDim, 0.0f);
    v[t % kDim] = 1.0f;
    std::normal_distribution<float> g(0, 0.05f);
    for (float& x : v) x += g(rng_);
    return v;
  }
  void Post(const std::string& id, const std::string& culture, Vector v, int64_t ts) {
    PostInput p;
    p.id = id;
    p.author = "a-" + id;
    p.culture = culture;
    p.vector = std::move(v);
    p.ts = ts;
    ASSERT_OK(engine_->AddPost(std::move(p)));
  }
  std::vector<FeedItem> Feed(const std::string& user, int count) {
    FeedRequest r;
    r.user = user;
    r.count = count;
    r.peek = true;
    r.explain = true;
    auto f = engine_->Feed(r);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? *f : std::vector<FeedItem>{};
  }
  static const FeedItem* Find(const std::vector<FeedItem>& page, const std::string& post) {
    for (const FeedItem& f : page)
      if (f.post == post) return &f;
    return nullptr;
  }

  // Two groups of posts g0..g15 (axis 0 and 1 priors: "a" and "b") and fans
  // who like one group each: a-fan*, b-fan*.
  void Groups() {
    for (int g = 0; g < 2; ++g) {
      for (int i = 0; i < 16; ++i) {
        Post(std::string(1, "ab"[g]) + std::to_string(i), "US", Axis(g), 1'700'000'000 + i);
      }
    }
    for (int g = 0; g < 2; ++g) {
      for (int u = 0; u < 10; ++u) {
        const std::string user = std::string(1, "ab"[g]) + "-fan" + std::to_string(u);
        for (int k = 0; k < 6; ++k) {
          const std::string post = std::string(1, "ab"[g]) + std::to_string((u + 3 * k) % 16);
          ASSERT_OK(engine_->RecordEvent(user, post, EventType::kLike, std::nullopt));
        }
      }
    }
  }
  std::string ModelFile() const { return (dir_ / "model.bfm").string(); }
  Vector VectorOfPost(const std::string& id) {
    auto info = engine_->GetPost(id);
    EXPECT_TRUE(info.ok() && info->has_value());
    return info.ok() && info->has_value() ? (*info)->record.vector : Vector{};
  }
  Vector VectorOfUser(const std::string& id) {
    auto u = engine_->GetUser(id);
    EXPECT_TRUE(u.ok() && u->has_value());
    return u.ok() && u->has_value() ? (*u)->vector : Vector{};
  }
  static bool Finite(const Vector& v) {
    for (float x : v)
      if (!std::isfinite(x)) return false;
    return true;
  }

  fs::path dir_;
  std::mt19937 rng_{5};
  std::unique_ptr<Engine> engine_;
};

// A post without a vector is stored, kept out of the index, and served by
// the fresh source with relevance 0, also after a restart.
TEST_F(EngineLearnTest, PostWithoutVectorIsServedFreshAndNotIndexed) {
  for (int i = 0; i < kDim; ++i) Post("p" + std::to_string(i), "US", Axis(i), 1'700'000'000 + i);
  Post("novec", "US", {}, 1'790'000'000);  // the newest post
  UserUpdate u;
  u.id = "alice";
  u.culture = "US";
  u.vector = Axis(3);
  ASSERT_OK(engine_->SetUser(u));

  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(engine_->GetIndexInfo().stats.live, kDim) << "round " << round;
    const auto page = Feed("alice", 5);
    const FeedItem* item = Find(page, "novec");
    ASSERT_NE(item, nullptr) << "round " << round;
    EXPECT_EQ(item->source, "fresh");
    EXPECT_EQ(item->relevance, 0.0);
    ASSERT_FALSE(page.empty());
    EXPECT_EQ(page[0].post, "p3");  // relevance still ranks the posts with vectors
    auto info = engine_->GetPost("novec");
    ASSERT_TRUE(info.ok() && info->has_value());
    EXPECT_TRUE((*info)->record.vector.empty());
    EXPECT_TRUE((*info)->record.prior.empty());
    auto similar = engine_->Similar("novec", 5, false);
    ASSERT_TRUE(similar.ok());
    EXPECT_TRUE(similar->empty());
    // Others' SIMILAR never returns it: it is not in the index.
    auto near = engine_->Similar("p3", 20, false);
    ASSERT_TRUE(near.ok());
    EXPECT_EQ(std::count(near->begin(), near->end(), "novec"), 0);
    if (round == 0) Reopen();
  }
  // An EVENT on it is recorded and moves nobody.
  ASSERT_OK(engine_->RecordEvent("bob", "novec", EventType::kLike, std::nullopt));
  auto bob = engine_->GetUser("bob");
  ASSERT_TRUE(bob.ok() && bob->has_value());
  EXPECT_TRUE((*bob)->vector.empty());
  EXPECT_EQ((*bob)->positives, 1);
}

// Replacing a post without its vector takes it out of the index; giving
// one back puts it in. The given vector is the prior.
TEST_F(EngineLearnTest, ReplaceDropsAndRestoresTheVector) {
  Post("p", "US", Axis(1), 1'700'000'000);
  EXPECT_EQ(engine_->GetIndexInfo().stats.live, 1);
  Post("p", "US", {}, 1'700'000'000);
  EXPECT_EQ(engine_->GetIndexInfo().stats.live, 0);
  const Vector v = Axis(2);
  Post("p", "US", v, 1'700'000'000);
  EXPECT_EQ(engine_->GetIndexInfo().stats.live, 1);
  auto info = engine_->GetPost("p");
  ASSERT_TRUE(info.ok() && info->has_value());
  ASSERT_EQ((*info)->record.prior.size(), static_cast<size_t>(kDim));
  EXPECT_EQ((*info)->record.prior, (*info)->record.vector);
  Reopen();
  EXPECT_EQ(engine_->GetIndexInfo().stats.live, 1);
}

// USER.SET VECTOR is the user's prior and, until events or a TRAIN, the
// vector FEED uses.
TEST_F(EngineLearnTest, UserVectorIsThePrior) {
  UserUpdate u;
  u.id = "alice";
  u.vector = Axis(4);
  ASSERT_OK(engine_->SetUser(u));
  auto got = engine_->GetUser("alice");
  ASSERT_TRUE(got.ok() && got->has_value());
  ASSERT_EQ((*got)->prior.size(), static_cast<size_t>(kDim));
  EXPECT_EQ((*got)->prior, (*got)->vector);
  UserUpdate culture_only;
  culture_only.id = "alice";
  culture_only.culture = "US";
  ASSERT_OK(engine_->SetUser(culture_only));
  got = engine_->GetUser("alice");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->prior.size(), static_cast<size_t>(kDim));  // kept
}

// TRAIN on a database without events (or only events on deleted posts): a
// clear error, nothing changes.
TEST_F(EngineLearnTest, TrainWithoutEventsIsRefused) {
  Post("p", "US", Axis(1), 1'700'000'000);
  EXPECT_EQ(engine_->Train(true).status().ToString(), "Invalid: no events to train on");
  EXPECT_EQ(engine_->Train(false).status().ToString(), "Invalid: no events to train on");
  ASSERT_OK(engine_->RecordEvent("u", "p", EventType::kLike, std::nullopt));
  ASSERT_TRUE(engine_->DeletePost("p").ok());
  // The delete starts the automatic tombstone rebuild; TRAIN waits its turn.
  for (int i = 0; i < 500 && engine_->GetIndexInfo().rebuilding; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(engine_->Train(true).status().ToString(), "Invalid: no events to train on");
  EXPECT_FALSE(engine_->GetModelInfo().loaded);
  EXPECT_FALSE(fs::exists(ModelFile()));
}

// TRAIN gives trained posts and users factors; a post without events keeps
// its prior exactly; a post with neither stays without a vector; no NaN.
TEST_F(EngineLearnTest, TrainKeepsPriorsOfPostsWithoutEvents) {
  Groups();
  const Vector quiet = Axis(5);
  Post("quiet", "US", quiet, 1'700'000'100);
  Post("novec", "US", {}, 1'700'000'200);
  auto summary = engine_->Train(true);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->users, 20);
  EXPECT_EQ(summary->posts, 32);
  EXPECT_EQ(summary->events, 120);
  EXPECT_EQ(summary->iterations, EngineOptions().learn.iterations);
  EXPECT_TRUE(std::isfinite(summary->loss));
  Vector unit = quiet;
  Normalize(unit);
  EXPECT_EQ(VectorOfPost("quiet"), unit);
  EXPECT_TRUE(VectorOfPost("novec").empty());
  EXPECT_EQ(engine_->GetIndexInfo().stats.live, 33);  // 32 trained + quiet
  for (const std::string id : {"a0", "b5", "a-fan0", "b-fan9"}) {
    const Vector v = id.find("fan") == std::string::npos ? VectorOfPost(id) : VectorOfUser(id);
    ASSERT_EQ(v.size(), static_cast<size_t>(kDim)) << id;
    EXPECT_TRUE(Finite(v)) << id;
  }
  const ModelInfo info = engine_->GetModelInfo();
  EXPECT_TRUE(info.loaded);
  EXPECT_EQ(info.posts_with_factors, 32);
  EXPECT_EQ(info.users_with_factors, 20);
  EXPECT_EQ(info.events_seq, 120u);
  // Fans are served their own group.
  const auto page = Feed("b-fan2", 8);
  ASSERT_EQ(page.size(), 8u);
  int own = 0;
  for (const FeedItem& f : page) own += f.post[0] == 'b' ? 1 : 0;
  EXPECT_GE(own, 6);  // MMR and freshness may take a slot or two

  // A restart serves the same model without training again.
  const Vector a0 = VectorOfPost("a0");
  Reopen();
  EXPECT_EQ(VectorOfPost("a0"), a0);
  EXPECT_EQ(engine_->GetModelInfo().trained_at, info.trained_at);
  EXPECT_EQ(engine_->GetIndexInfo().stats.live, 33);
}

// MODEL.LOAD: a user with events after the model is solved again (catch-up);
// one without keeps the model's factor; bad files change nothing.
TEST_F(EngineLearnTest, ModelLoadCatchesUpAndRefusesBadFiles) {
  Groups();
  ASSERT_TRUE(engine_->Train(true).ok());
  const std::string saved = (dir_ / "saved.bfm").string();
  fs::copy_file(ModelFile(), saved);
  auto model = learn::ReadModelFile(saved);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const Vector fan0 = VectorOfUser("a-fan0");
  for (int k = 0; k < 6; ++k) {
    ASSERT_OK(engine_->RecordEvent("a-fan1", "b" + std::to_string(k), EventType::kLike, std::nullopt));
  }
  UserUpdate tweak;  // a user vector changed after the model, without events
  tweak.id = "a-fan0";
  tweak.vector = Axis(6);
  ASSERT_OK(engine_->SetUser(tweak));
  const Vector moved = VectorOfUser("a-fan1");

  ASSERT_OK(engine_->LoadModel(saved));
  EXPECT_EQ(VectorOfUser("a-fan0"), fan0);  // the model's factor again
  const Vector caught_up = VectorOfUser("a-fan1");
  ASSERT_EQ(caught_up.size(), static_cast<size_t>(kDim));
  EXPECT_TRUE(Finite(caught_up));
  EXPECT_NE(caught_up, moved);
  EXPECT_EQ(engine_->GetModelInfo().events_seq, model->header.events_seq);

  // Truncated, another dimension, another database: refused, model kept.
  const ModelInfo before = engine_->GetModelInfo();
  const Vector a0 = VectorOfPost("a0");
  const std::string bad = (dir_ / "bad.bfm").string();
  fs::copy_file(saved, bad);
  fs::resize_file(bad, fs::file_size(bad) / 2);
  EXPECT_EQ(engine_->LoadModel(bad).code(), Code::kCorruption);
  learn::ModelFile other = *model;
  other.header.dim = 4;
  other.users = {.dim = 4, .rows = 0, .values = {}, .state = {}};
  other.items = {.dim = 4, .rows = 0, .values = {}, .state = {}};
  other.user_keys.clear();
  other.item_keys.clear();
  ASSERT_OK(learn::WriteModelFile(bad, other));
  EXPECT_EQ(engine_->LoadModel(bad).ToString(), "WrongDim: model has dimension 4, expected 8");
  other = *model;
  other.header.database_id ^= 1;
  ASSERT_OK(learn::WriteModelFile(bad, other));
  EXPECT_EQ(engine_->LoadModel(bad).ToString(), "Invalid: model is of another database");
  EXPECT_EQ(engine_->LoadModel((dir_ / "none.bfm").string()).code(), Code::kNotFound);
  const ModelInfo after = engine_->GetModelInfo();
  EXPECT_EQ(after.trained_at, before.trained_at);
  EXPECT_EQ(after.events_seq, before.events_seq);
  EXPECT_EQ(VectorOfPost("a0"), a0);
}

// A kill after the model file was written but before its swap finished: the
// start applies it again (users and index), whatever the snapshot held.
TEST_F(EngineLearnTest, StartAppliesAModelThatWasNotFullyApplied) {
  Groups();
  ASSERT_TRUE(engine_->Train(true).ok());
  const std::string first = (dir_ / "first.bfm").string();
  fs::copy_file(ModelFile(), first);
  const Vector a0_first = VectorOfPost("a0");
  const uint64_t seq_first = engine_->GetModelInfo().events_seq;
  for (int k = 0; k < 8; ++k) {
    ASSERT_OK(engine_->RecordEvent("a-fan0", "b" + std::to_string(k), EventType::kLike, std::nullopt));
  }
  ASSERT_TRUE(engine_->Train(true).ok());
  ASSERT_NE(VectorOfPost("a0"), a0_first);
  ASSERT_OK(engine_->Close());
  engine_.reset();
  // As if the first model had just been written by a TRAIN that was killed.
  fs::copy_file(first, ModelFile(), fs::copy_options::overwrite_existing);
  Open();
  EXPECT_EQ(engine_->GetModelInfo().events_seq, seq_first);
  EXPECT_EQ(VectorOfPost("a0"), a0_first);
  // And serves from the rebuilt index.
  FeedRequest r;
  r.user = "a-fan3";
  r.count = 5;
  r.peek = true;
  auto page = engine_->Feed(r);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->size(), 5u);
}


// The store of a closed engine in dir, to read or plant what a stopped node left.
std::unique_ptr<Store> OpenStoreOf(const fs::path& dir) {
  StoreOptions so;
  so.path = (dir / "db").string();
  so.dim = 0;
  auto store = Store::Open(so);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

void WaitForTrain(Engine& engine) {
  for (int i = 0; i < 3000 && engine.GetModelInfo().training; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(engine.GetModelInfo().training) << "TRAIN still running after 30 s";
}

// A cluster TRAIN entry's run (resumable) on a node stopped before its model
// was applied is trained again at start on the events and posts it had read:
// the posts get the factors a node that finished the run has, and later
// events and posts are caught up, not trained on.
TEST_F(EngineLearnTest, ResumableTrainStoppedMidwayIsTrainedAgainAtStart) {
  Groups();
  ASSERT_OK(engine_->Close());
  engine_.reset();
  TrainRun run;
  run.als = Options().learn;
  run.trained_at = 1'750'000'000;
  run.user_priors = false;
  run.resumable = true;
  uint64_t last_event = 0, last_post_seq = 0;
  {
    auto store = OpenStoreOf(dir_);
    ASSERT_NE(store, nullptr);
    last_event = store->LastEventNumber();
    last_post_seq = store->LastSequence();
  }
  // The reference node: a copy that will finish the run.
  const fs::path ref_dir = dir_.string() + "_ref";
  fs::remove_all(ref_dir);
  fs::copy(dir_, ref_dir, fs::copy_options::recursive);

  // This node read the store at the entry, then applied later entries, then stopped.
  Open();
  Post("late", "US", Axis(0), 1'700'000'100);
  ASSERT_OK(engine_->RecordEvent("late-fan", "a1", EventType::kLike, std::nullopt));
  ASSERT_OK(engine_->RecordEvent("a-fan0", "late", EventType::kLike, std::nullopt));
  ASSERT_OK(engine_->Close());
  engine_.reset();
  {
    auto store = OpenStoreOf(dir_);
    ASSERT_NE(store, nullptr);
    TrainRun read_at = run;
    read_at.last_event = last_event;
    read_at.last_post_seq = last_post_seq;
    ASSERT_OK(store->PutMeta(kTrainPendingMetaKey, internal::EncodeTrainRun(read_at)));
  }
  Open();
  WaitForTrain(*engine_);
  const ModelInfo info = engine_->GetModelInfo();
  EXPECT_TRUE(info.loaded);
  EXPECT_EQ(info.trained_at, run.trained_at);
  EXPECT_EQ(info.events_seq, last_event);
  EXPECT_EQ(info.posts_with_factors, 32);  // not "late": written after the read
  EXPECT_FALSE(VectorOfUser("late-fan").empty());  // caught up by fold-in
  auto late = engine_->GetPost("late");
  ASSERT_TRUE(late.ok() && late->has_value());
  EXPECT_EQ((*late)->record.vector, (*late)->record.prior);

  EngineOptions ro = Options();
  ro.data_dir = ref_dir.string();
  auto ref = Engine::Open(ro);
  ASSERT_RESULT_OK(ref);
  ASSERT_OK((*ref)->StartTrainRun(run));
  WaitForTrain(**ref);
  EXPECT_EQ((*ref)->GetModelInfo().events_seq, last_event);
  for (const char* g : {"a", "b"}) {
    for (int i = 0; i < 16; ++i) {
      const std::string id = g + std::to_string(i);
      auto want = (*ref)->GetPost(id);
      ASSERT_TRUE(want.ok() && want->has_value());
      EXPECT_EQ(VectorOfPost(id), (*want)->record.vector) << id;
    }
  }
  ASSERT_OK((*ref)->Close());
  fs::remove_all(ref_dir);

  // Done: the run is no longer kept, and a restart does not train again.
  ASSERT_OK(engine_->Close());
  engine_.reset();
  {
    auto store = OpenStoreOf(dir_);
    ASSERT_NE(store, nullptr);
    auto pending = store->GetMeta(kTrainPendingMetaKey);
    ASSERT_RESULT_OK(pending);
    EXPECT_TRUE(!pending->has_value() || (*pending)->empty());
  }
  Open();
  EXPECT_FALSE(engine_->GetModelInfo().training);
  EXPECT_EQ(engine_->GetModelInfo().events_seq, last_event);
}

// The stored run keeps every setting bit for bit; a damaged one is refused.
TEST(TrainMarkerTest, RoundTripsAndRefusesDamage) {
  TrainRun run;
  run.als.seed = 77;
  run.als.iterations = 9;
  run.als.regularization = 0.1f;
  run.als.prior_regularization = 3.3f;
  run.als.init_stddev = 0.013f;
  run.als.confidence.weight = {0.5f, 2.1f, 0.0f, 3.0f, 1.7f, 5.0f, 1e-7f};
  run.als.confidence.half_life_s = 86400.5;
  run.als.confidence.now = 1'700'000'123;
  run.als.solver = learn::Solver::kCholesky;
  run.als.cg_steps = 4;
  run.trained_at = 1'750'000'001;
  run.user_priors = false;
  run.last_event = 12345;
  run.last_post_seq = 678;
  const std::string text = internal::EncodeTrainRun(run);
  auto back = internal::DecodeTrainRun(text);
  ASSERT_RESULT_OK(back);
  EXPECT_TRUE(back->resumable);
  EXPECT_EQ(back->als.seed, 77u);
  EXPECT_EQ(back->als.iterations, 9);
  EXPECT_EQ(back->als.regularization, 0.1f);
  EXPECT_EQ(back->als.prior_regularization, 3.3f);
  EXPECT_EQ(back->als.init_stddev, 0.013f);
  EXPECT_EQ(back->als.confidence.weight, run.als.confidence.weight);
  EXPECT_EQ(back->als.confidence.half_life_s, 86400.5);
  EXPECT_EQ(back->als.confidence.now, 1'700'000'123);
  EXPECT_EQ(back->als.solver, learn::Solver::kCholesky);
  EXPECT_EQ(back->als.cg_steps, 4);
  EXPECT_EQ(back->trained_at, 1'750'000'001);
  EXPECT_FALSE(back->user_priors);
  EXPECT_EQ(back->last_event, 12345u);
  EXPECT_EQ(back->last_post_seq, 678u);

  EXPECT_EQ(internal::DecodeTrainRun("v9 seed=1").status().message(),
            "train marker: unknown version");
  std::string no_seed = text;
  no_seed.replace(no_seed.find(" seed="), 6, " sead=");
  EXPECT_EQ(internal::DecodeTrainRun(no_seed).status().message(), "train marker: no seed");
  std::string bad = text;
  bad.replace(bad.find("iterations=9"), 12, "iterations=x");
  auto damaged = internal::DecodeTrainRun(bad);
  EXPECT_EQ(damaged.status().code(), Code::kCorruption);
  EXPECT_EQ(damaged.status().message(), "train marker: bad iterations");
}

}  // namespace
}  // namespace bf
