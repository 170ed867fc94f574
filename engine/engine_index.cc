// The index lifecycle of the engine: open (snapshot + catch-up, or build),
// background rebuild with an atomic swap, external index files, snapshots
// and backups.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "engine/internal/engine_impl.h"
#include "engine/store/layout.h"
#include "index/index_builder.h"

namespace bf {

namespace fs = std::filesystem;

// After a failed rebuild, post writes before MaybeRebuild tries again.
constexpr uint64_t kRebuildRetryWrites = 1024;

std::string EngineImpl::SnapshotPath() const { return bf::SnapshotPath(options_.data_dir); }

std::shared_ptr<AnnIndex> EngineImpl::index() const {
  std::lock_guard lock(index_ptr_mu_);
  return index_;
}

void EngineImpl::SwapIndex(std::shared_ptr<AnnIndex> next) {
  std::lock_guard lock(index_ptr_mu_);
  index_ = std::move(next);
}

Result<std::unique_ptr<AnnIndex>> EngineImpl::BuildFromTable(const std::string& why) {
  IndexOptions io = options_.index;
  io.dim = options_.dim;
  IndexBuilder builder(std::move(io));
  {
    std::shared_lock lock(table_mu_);
    builder.Reserve(table_.live());
    table_.ForEachLive([&](uint64_t iid, const PostEntry& e, std::span<const float> v) {
      if (e.has_vector) builder.Add(iid, e.culture, v);
    });
  }
  spdlog::info("index: building from {} stored posts ({})", builder.size(), why);
  // The tools draw the same progress as a bar; a server logs it, every 10%.
  int64_t last_pct = -1;
  auto progress = [&](int64_t done, int64_t total) {
    const int64_t pct = total > 0 ? done * 100 / total : 100;
    if (pct / 10 != last_pct / 10) {
      spdlog::info("index: build {}% ({}/{})", pct, done, total);
      last_pct = pct;
    }
  };
  auto built = builder.Build(progress);
  if (!built.ok()) return built.status();
  spdlog::info("index: built {} in {:.1f} s", built->index->Stats().type, built->seconds);
  return std::move(built->index);
}

Status EngineImpl::CatchUp(AnnIndex& index, uint64_t seq) {
  std::vector<uint64_t> stale;
  index.ForEachLive([&](uint64_t id, uint16_t, std::span<const float>) {
    if (!table_.IsLive(id) || !table_.Get(id).has_vector) stale.push_back(id);
  });
  for (uint64_t id : stale) index.Remove(id);
  int64_t added = 0;
  Status st;
  table_.ForEachLive([&](uint64_t iid, const PostEntry& e, std::span<const float> v) {
    if (!st.ok() || !e.has_vector || (e.seq <= seq && index.Contains(iid))) return;
    st = index.Add(iid, e.culture, v);
    ++added;
  });
  BF_RETURN_IF_ERROR(st);
  spdlog::info("index: caught up past seq {}: {} added or replaced, {} removed", seq, added,
               stale.size());
  return Status::OK();
}

namespace {

// A snapshot write killed midway leaves its temporary file (index.snap.tmp.*,
// see index/snapshot.cc) behind, as big as a snapshot; repeated crashes would
// pile them up. We hold the database lock, so no live writer owns one.
void RemoveSnapshotLeftovers(const std::string& snapshot_path) {
  const fs::path snap(snapshot_path);
  const std::string prefix = snap.filename().string() + ".tmp.";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(snap.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || !entry.is_regular_file(ec)) continue;
    if (fs::remove(entry.path(), ec)) {
      spdlog::info("index: removed {} left by an interrupted snapshot", entry.path().string());
    }
  }
}

// When the snapshot file was written (unix seconds), 0 if unknown.
int64_t SnapshotFileTime(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_mtime) : 0;
}

}  // namespace

Status EngineImpl::OpenIndex() {
  IndexOptions io = options_.index;
  io.dim = options_.dim;
  const std::string path = SnapshotPath();
  RemoveSnapshotLeftovers(path);
  std::error_code ec;
  // A snapshot without the model's factors (engine_learn.cc) is rebuilt.
  if (fs::exists(path, ec) && !learn_->index_stale) {
    SnapshotStamp stamp;
    auto loaded = AnnIndex::Load(path, store_->db_id(), io, &stamp);
    if (loaded.ok()) {
      std::unique_ptr<AnnIndex> idx = std::move(loaded).value();
      std::lock_guard write(write_mu_);
      std::shared_lock lock(table_mu_);
      BF_RETURN_IF_ERROR(CatchUp(*idx, stamp.seq));
      snapshot_seq_ = stamp.seq;
      last_save_ = SnapshotFileTime(path);
      spdlog::info("index: loaded snapshot {} (seq {})", path, stamp.seq);
      SwapIndex(std::move(idx));
      return Status::OK();
    }
    spdlog::warn("index: snapshot {} unusable ({}); rebuilding from the store", path,
                 loaded.status().ToString());
  }
  auto built = BuildFromTable(fs::exists(path, ec) ? "snapshot unusable" : "no snapshot");
  if (!built.ok()) return built.status();
  std::shared_ptr<AnnIndex> idx = std::move(built).value();
  SwapIndex(idx);
  return Status::OK();
}

Status EngineImpl::SaveLocked(const std::string& path, uint64_t* seq) {
  *seq = store_->LastSequence();
  return index()->Save(path, SnapshotStamp{store_->db_id(), *seq});
}

Status EngineImpl::Save() {
  BF_RETURN_IF_ERROR(CheckOpen());
  return SaveNow();
}

Status EngineImpl::SaveNow() {
  std::lock_guard write(write_mu_);
  uint64_t seq = 0;
  BF_RETURN_IF_ERROR(SaveLocked(SnapshotPath(), &seq));
  snapshot_seq_ = seq;
  last_save_ = NowSeconds();
  spdlog::info("index: snapshot written (seq {})", seq);
  return Status::OK();
}

Status EngineImpl::Backup(const std::string& dir) {
  BF_RETURN_IF_ERROR(CheckOpen());
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) return Status::Invalid("backup target is not a directory");
    if (!fs::is_empty(dir, ec)) return Status::Invalid("backup directory must be new or empty");
  } else {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  }
  ::chmod(dir.c_str(), 0700);
  std::lock_guard write(write_mu_);
  BF_RETURN_IF_ERROR(store_->Checkpoint(DbPath(dir)));
  uint64_t seq = 0;
  BF_RETURN_IF_ERROR(SaveLocked(bf::SnapshotPath(dir), &seq));
  spdlog::info("backup: {} written (seq {})", dir, seq);
  return Status::OK();
}

Status EngineImpl::LoadIndex(const std::string& path) {
  BF_RETURN_IF_ERROR(CheckOpen());
  // bridgefeed-rebuild builds from the posts' given vectors, not learned factors.
  if (GetModelInfo().loaded) {
    return Status::Invalid("a learned model is in use: use INDEX.REBUILD (docs/learning.md)");
  }
  IndexOptions io = options_.index;
  io.dim = options_.dim;
  SnapshotStamp stamp;
  auto loaded = AnnIndex::Load(path, store_->db_id(), io, &stamp);
  if (!loaded.ok()) return loaded.status();
  std::shared_ptr<AnnIndex> idx = std::move(loaded).value();
  std::lock_guard write(write_mu_);
  {
    std::shared_lock lock(table_mu_);
    BF_RETURN_IF_ERROR(CatchUp(*idx, stamp.seq));
  }
  SwapIndex(std::move(idx));
  last_rebuild_ = NowSeconds();
  spdlog::info("index: loaded {} (seq {})", path, stamp.seq);
  return Status::OK();
}

Status EngineImpl::StartRebuild() {
  BF_RETURN_IF_ERROR(CheckOpen());
  bool expected = false;
  if (!rebuilding_.compare_exchange_strong(expected, true)) {
    return Status::Busy("an index rebuild is already running");
  }
  if (learn_->training) {
    rebuilding_ = false;
    return Status::Busy("a TRAIN is running");
  }
  if (rebuild_thread_.joinable()) rebuild_thread_.join();
  {
    std::lock_guard write(write_mu_);
    deleted_during_rebuild_.clear();
  }
  rebuild_thread_ = std::thread([this] { RebuildMain(); });
  return Status::OK();
}

void EngineImpl::RebuildMain() {
  const uint64_t seq = store_->LastSequence();
  auto built = BuildFromTable("INDEX.REBUILD");
  if (!built.ok()) {
    spdlog::error("index: rebuild failed: {}", built.status().ToString());
    rebuild_retry_at_ = post_writes_ + kRebuildRetryWrites;
    rebuilding_ = false;
    return;
  }
  std::shared_ptr<AnnIndex> idx = std::move(built).value();
  {
    std::lock_guard write(write_mu_);
    for (uint64_t iid : deleted_during_rebuild_) idx->Remove(iid);
    deleted_during_rebuild_.clear();
    std::shared_lock lock(table_mu_);
    Status st = CatchUp(*idx, seq);
    if (!st.ok()) {
      spdlog::error("index: rebuild catch-up failed: {}", st.ToString());
      rebuild_retry_at_ = post_writes_ + kRebuildRetryWrites;
      rebuilding_ = false;
      return;
    }
    SwapIndex(idx);
  }
  last_rebuild_ = NowSeconds();
  spdlog::info("index: rebuilt and swapped in ({})", idx->Stats().type);
  // The next start loads the rebuilt index instead of replaying onto the
  // old snapshot (or rebuilding again). rebuilding_ stays set until it is
  // written, so INDEX.INFO's rebuilding 0 means the snapshot is on disk.
  Status saved = SaveNow();
  if (!saved.ok()) spdlog::error("index: snapshot after the rebuild failed: {}", saved.ToString());
  rebuilding_ = false;
}

void EngineImpl::MaybeRebuild(uint64_t writes) {
  // Called after every post write and delete, so cheap: an atomic load and
  // the index's O(1) NeedsRebuild (Flat outgrown under "auto", tombstones
  // past the ratio, IVF centroids aged).
  if ((post_writes_ += writes) < rebuild_retry_at_ || rebuilding_ || closed_) return;
  std::shared_ptr<AnnIndex> idx = index();
  if (!idx->NeedsRebuild()) return;
  const IndexStats s = idx->Stats();
  spdlog::info("index: starting a rebuild ({}: {} live, {} tombstones)", s.type, s.live,
               s.tombstones);
  (void)StartRebuild();
}

void EngineImpl::SnapshotLoop() {
  std::unique_lock lock(stop_mu_);
  const auto interval = std::chrono::seconds(options_.snapshot_interval_s);
  while (!stop_cv_.wait_for(lock, interval, [this] { return stopping_; })) {
    if (store_->LastSequence() == snapshot_seq_ || rebuilding_) continue;
    lock.unlock();
    Status st = SaveNow();
    if (!st.ok()) spdlog::error("index: periodic snapshot failed: {}", st.ToString());
    lock.lock();
  }
}

IndexInfo EngineImpl::GetIndexInfo() const {
  IndexInfo info;
  info.stats = index()->Stats();
  info.snapshot_seq = snapshot_seq_;
  info.rebuilding = rebuilding_;
  info.last_rebuild = last_rebuild_;
  info.last_save = last_save_;
  return info;
}

Status EngineImpl::Close() {
  if (closed_.exchange(true)) return Status::OK();
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
  if (rebuild_thread_.joinable()) rebuild_thread_.join();
  StopLearning();
  Status st;
  if (store_ && index()) {
    st = SaveNow();
    if (!st.ok()) spdlog::error("index: final snapshot failed: {}", st.ToString());
    Status sync = store_->Sync();
    if (st.ok()) st = sync;
  }
  store_.reset();
  return st;
}

}  // namespace bf
