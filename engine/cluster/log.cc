#include "engine/cluster/log.h"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <random>
#include <thread>

namespace bf::cluster {
namespace {

using Clock = std::chrono::steady_clock;

int64_t MsLeft(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
}

void SleepMs(int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// "timeout", or "JetStream error 10059" with the library's last error text when it has one.
std::string Describe(natsStatus s, jsErrCode jerr) {
  std::string out = natsStatus_GetText(s);
  if (jerr != 0) out += " (JetStream error " + std::to_string(jerr) + ")";
  return out;
}

// The connection and JetStream context, shared by the Log and its consumers so either may
// be destroyed first.
struct Conn {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::string stream;
  std::string subject;  // "<stream>.entries"
  ~Conn() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (nc != nullptr) natsConnection_Destroy(nc);
  }
  bool Connected() const { return natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED; }
};

void OnDisconnected(natsConnection* nc, void*) {
  if (!natsConnection_IsClosed(nc)) spdlog::warn("cluster: NATS connection lost, reconnecting");
}
void OnReconnected(natsConnection* nc, void*) {
  char url[256] = {0};
  natsConnection_GetConnectedUrl(nc, url, sizeof(url));
  spdlog::info("cluster: NATS reconnected to {}", url);
}

struct StreamState {
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
};

// The stream's first and last sequence. ClusterDown when JetStream cannot answer (no
// quorum, no connection); NotFound when there is no such stream.
Result<StreamState> GetStreamState(Conn& c, int64_t wait_ms) {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = wait_ms;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&si, c.js, c.stream.c_str(), &o, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    return Status::NotFound("stream " + c.stream);
  }
  if (s != NATS_OK) {
    return Status::ClusterDown("the write log (stream " + c.stream + ") is unavailable: " +
                               Describe(s, jerr));
  }
  StreamState st{si->State.FirstSeq, si->State.LastSeq};
  jsStreamInfo_Destroy(si);
  return st;
}

class NatsConsumer final : public LogConsumer {
 public:
  NatsConsumer(std::shared_ptr<Conn> conn, std::string name, uint64_t applied)
      : conn_(std::move(conn)), name_(std::move(name)), next_(applied + 1) {}

  ~NatsConsumer() override {
    DropHeld();
    if (sub_ != nullptr) natsSubscription_Destroy(sub_);  // keeps the durable consumer
  }

  // (Re-)creates the durable consumer at next_ and binds a pull subscription to it.
  Status Position() {
    DropHeld();
    if (sub_ != nullptr) {
      natsSubscription_Destroy(sub_);
      sub_ = nullptr;
    }
    auto st = GetStreamState(*conn_, 2000);
    if (!st.ok() && st.status().code() == Code::kNotFound) {
      return Status::Corruption("the write log's stream " + conn_->stream + " is gone");
    }
    if (!st.ok()) return st.status();
    const uint64_t applied = next_ - 1;
    if (applied > st->last_seq) {
      return Status::Corruption("this node applied entry " + std::to_string(applied) +
                                " but stream " + conn_->stream + " ends at " +
                                std::to_string(st->last_seq) +
                                ": the stream was replaced; rebuild the node from a peer's BACKUP");
    }
    if (st->first_seq > next_) {
      return Status::Corruption("stream " + conn_->stream + " no longer holds entry " +
                                std::to_string(next_) + " (it starts at " +
                                std::to_string(st->first_seq) +
                                "); rebuild the node from a peer's BACKUP");
    }
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_DeleteConsumer(conn_->js, conn_->stream.c_str(), name_.c_str(), nullptr, &jerr);
    if (s != NATS_OK && s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
      return Unavailable("delete consumer", s, jerr);
    }
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = name_.c_str();
    cc.AckPolicy = js_AckAll;
    if (next_ > 1) {
      cc.DeliverPolicy = js_DeliverByStartSequence;
      cc.OptStartSeq = next_;
    } else {
      cc.DeliverPolicy = js_DeliverAll;
    }
    jerr = static_cast<jsErrCode>(0);
    s = js_AddConsumer(nullptr, conn_->js, conn_->stream.c_str(), &cc, nullptr, &jerr);
    if (s != NATS_OK) return Unavailable("create consumer", s, jerr);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = conn_->stream.c_str();
    so.Consumer = name_.c_str();
    jerr = static_cast<jsErrCode>(0);
    s = js_PullSubscribe(&sub_, conn_->js, conn_->subject.c_str(), name_.c_str(), nullptr, &so, &jerr);
    if (s != NATS_OK) {
      sub_ = nullptr;
      return Unavailable("subscribe", s, jerr);
    }
    positioned_ = true;
    return Status::OK();
  }

  Result<std::vector<LogMessage>> Fetch(int max, int wait_ms) override {
    std::vector<LogMessage> out;
    if (!positioned_) {
      Status s = Position();
      if (s.code() == Code::kCorruption) return s;
      if (!s.ok()) {
        SleepMs(std::min(wait_ms, 200));
        return s;
      }
    }
    DropHeld();
    natsMsgList list{};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = natsSubscription_Fetch(&list, sub_, max, wait_ms, &jerr);
    if (s == NATS_TIMEOUT) return out;
    if (s != NATS_OK) {
      // Consumer gone, leader moving, connection down: position again on the next call.
      positioned_ = false;
      SleepMs(std::min(wait_ms, 200));
      return Unavailable("fetch", s, jerr);
    }
    for (int i = 0; i < list.Count; i++) {
      natsMsg* msg = list.Msgs[i];
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) continue;  // not a stream message
      const uint64_t seq = meta->Sequence.Stream;
      if (seq < next_) {  // a redelivery of an entry already returned
        jsMsgMetaData_Destroy(meta);
        continue;
      }
      if (seq > next_) {  // a delivery was lost: start over from next_
        spdlog::warn("cluster: consumer {} expected entry {} but got {}; repositioning", name_,
                     next_, seq);
        jsMsgMetaData_Destroy(meta);
        positioned_ = false;
        break;
      }
      LogMessage m;
      m.seq = seq;
      m.payload.assign(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
      const char* id = nullptr;
      if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) m.msg_id = id;
      m.stored_unix_ns = meta->Timestamp;
      m.pending = meta->NumPending;
      jsMsgMetaData_Destroy(meta);
      out.push_back(std::move(m));
      held_.emplace_back(seq, msg);
      list.Msgs[i] = nullptr;  // kept for Ack; natsMsgList_Destroy skips it
      next_++;
    }
    natsMsgList_Destroy(&list);
    if (!positioned_) {
      DropHeld();  // acks would go to the consumer being replaced
      Status p = Position();
      if (p.code() == Code::kCorruption) return p;
    }
    return out;
  }

  Status Ack(uint64_t seq) override {
    for (const auto& [s, msg] : held_) {
      if (s != seq) continue;
      const natsStatus st = natsMsg_Ack(msg, nullptr);
      if (st != NATS_OK) return Unavailable("ack", st, static_cast<jsErrCode>(0));
      return Status::OK();
    }
    return Status::Invalid("entry " + std::to_string(seq) + " is not in the last fetched batch");
  }

 private:
  Status Unavailable(const char* what, natsStatus s, jsErrCode jerr) const {
    return Status::ClusterDown("the write log is unavailable (" + std::string(what) +
                               " on consumer " + name_ + "): " + Describe(s, jerr));
  }

  void DropHeld() {
    for (auto& [seq, msg] : held_) natsMsg_Destroy(msg);
    held_.clear();
  }

  std::shared_ptr<Conn> conn_;
  const std::string name_;
  uint64_t next_;  // the sequence Fetch hands over next
  bool positioned_ = false;
  natsSubscription* sub_ = nullptr;
  std::vector<std::pair<uint64_t, natsMsg*>> held_;  // the last batch, for Ack
};

class NatsLog final : public Log {
 public:
  NatsLog(std::shared_ptr<Conn> conn, LogOptions options)
      : conn_(std::move(conn)), options_(std::move(options)) {}

  Result<PublishAck> Publish(std::string_view msg_id, std::string_view payload) override {
    BF_CHECK(!msg_id.empty());
    const std::string id(msg_id);
    const auto deadline = Clock::now() + std::chrono::milliseconds(options_.ack_timeout_ms);
    std::string last = "not connected to any NATS server";
    bool timed_out = false;  // an attempt may have reached the stream
    while (true) {
      const int64_t left = MsLeft(deadline);
      if (left <= 0) break;
      if (!conn_->Connected()) {
        last = "not connected to any NATS server";
        SleepMs(std::min<int64_t>(left, 50));
        continue;
      }
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MsgId = id.c_str();
      po.MaxWait = std::min<int64_t>(left, 1000);
      jsPubAck* ack = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      const natsStatus s = js_Publish(&ack, conn_->js, conn_->subject.c_str(), payload.data(),
                                      static_cast<int>(payload.size()), &po, &jerr);
      if (s == NATS_OK) {
        PublishAck out{ack->Sequence, ack->Duplicate};
        jsPubAck_Destroy(ack);
        return out;
      }
      if (jerr == JSStreamMessageExceedsMaximumErr) {
        return Status::Invalid("the write is larger than the log's maximum message size");
      }
      if (s == NATS_TIMEOUT) timed_out = true;
      last = Describe(s, jerr);
      // No responders: the stream has no leader right now. Give the election a moment.
      if (s != NATS_TIMEOUT) SleepMs(std::min<int64_t>(MsLeft(deadline), 50));
    }
    const std::string why = "the write log did not acknowledge within " +
                            std::to_string(options_.ack_timeout_ms) + " ms (" + last + ")";
    if (timed_out) return Status::TryAgain(why + "; the write may still be applied");
    return Status::ClusterDown(why + "; no quorum, nothing stored");
  }

  Result<uint64_t> LastSequence() override {
    auto st = GetStreamState(*conn_, options_.ack_timeout_ms);
    if (!st.ok()) return st.status();
    return st->last_seq;
  }

  Result<std::unique_ptr<LogConsumer>> OpenConsumer(std::string_view name,
                                                    uint64_t applied) override {
    auto c = std::make_unique<NatsConsumer>(conn_, std::string(name), applied);
    // Retries while JetStream moves its leaders (a server just died or started).
    const auto deadline = Clock::now() + std::chrono::milliseconds(options_.startup_timeout_ms);
    while (true) {
      Status s = c->Position();
      if (s.ok()) return std::unique_ptr<LogConsumer>(std::move(c));
      if (s.code() == Code::kCorruption || MsLeft(deadline) <= 0) return s;
      SleepMs(std::min<int64_t>(MsLeft(deadline), 200));
    }
  }

 private:
  std::shared_ptr<Conn> conn_;
  const LogOptions options_;
};

// Creates the stream or checks the one there. Retries while JetStream elects its leaders.
Status EnsureStream(Conn& c, const LogOptions& o) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(o.startup_timeout_ms);
  const std::string wildcard = o.stream + ".>";
  std::string last, no_peers;
  while (MsLeft(deadline) > 0) {
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = std::clamp<int64_t>(MsLeft(deadline), 1, 2000);
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&si, c.js, o.stream.c_str(), &jo, &jerr);
    if (s == NATS_OK) {
      const jsStreamConfig* cfg = si->Config;
      bool has_subject = false;
      for (int i = 0; i < cfg->SubjectsLen; i++) has_subject |= wildcard == cfg->Subjects[i];
      const int64_t replicas = cfg->Replicas;
      jsStreamInfo_Destroy(si);
      if (!has_subject) {
        return Status::Invalid("stream " + o.stream + " exists but does not take subjects " +
                               wildcard + ": another application's stream?");
      }
      if (replicas != o.replicas) {
        return Status::Invalid("stream " + o.stream + " exists with " + std::to_string(replicas) +
                               " replicas, the cluster file says " + std::to_string(o.replicas));
      }
      return Status::OK();
    }
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
      const char* subjects[] = {wildcard.c_str()};
      jsStreamConfig cfg;
      jsStreamConfig_Init(&cfg);
      cfg.Name = o.stream.c_str();
      cfg.Subjects = subjects;
      cfg.SubjectsLen = 1;
      cfg.Storage = js_FileStorage;
      cfg.Replicas = o.replicas;
      cfg.Duplicates = int64_t{o.dedupe_window_s} * 1'000'000'000;
      jerr = static_cast<jsErrCode>(0);
      s = js_AddStream(nullptr, c.js, &cfg, &jo, &jerr);
      if (s == NATS_OK) {
        spdlog::info("cluster: created stream {} ({} replicas)", o.stream, o.replicas);
        return Status::OK();
      }
      if (jerr == JSClusterNoPeersErr || jerr == JSInsufficientResourcesErr) {
        // Also what a cluster whose servers have not all met yet says: retried until the
        // deadline, this message if it never passes.
        no_peers = "cannot create stream " + o.stream + " with " + std::to_string(o.replicas) +
                   " replicas: " + Describe(s, jerr) +
                   "; are that many JetStream servers in the NATS cluster?";
      }
      // A peer may have created it meanwhile (10058): the next round checks it.
    }
    last = Describe(s, jerr);
    SleepMs(std::min<int64_t>(std::max<int64_t>(MsLeft(deadline), 0), 200));
  }
  if (!no_peers.empty()) return Status::ClusterDown(no_peers);
  return Status::ClusterDown("JetStream did not answer for stream " + o.stream + " within " +
                             std::to_string(o.startup_timeout_ms) + " ms (" + last + ")");
}

}  // namespace

LogOptions LogOptions::FromConfig(const ClusterConfig& config, std::string_view node_id) {
  LogOptions o;
  o.servers = config.nats;
  o.stream = config.stream;
  o.replicas = config.replicas;
  o.ack_timeout_ms = config.ack_timeout_ms;
  o.dedupe_window_s = config.dedupe_window_s;
  o.client_name = "bridgefeed " + std::string(node_id);
  return o;
}

Result<std::unique_ptr<Log>> Log::Open(const LogOptions& o) {
  if (o.servers.empty()) return Status::Invalid("no NATS servers given");
  natsOptions* opts = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK) return Status::Internal("natsOptions_Create failed");
  std::vector<const char*> urls;
  for (const std::string& u : o.servers) urls.push_back(u.c_str());
  natsOptions_SetServers(opts, urls.data(), static_cast<int>(urls.size()));
  natsOptions_SetTimeout(opts, o.connect_timeout_ms);
  natsOptions_SetName(opts, o.client_name.c_str());
  natsOptions_SetMaxReconnect(opts, -1);       // keep trying: the log comes back
  natsOptions_SetReconnectWait(opts, 100);     // failover within a fraction of a second
  natsOptions_SetDisconnectedCB(opts, OnDisconnected, nullptr);
  natsOptions_SetReconnectedCB(opts, OnReconnected, nullptr);

  auto conn = std::make_shared<Conn>();
  conn->stream = o.stream;
  conn->subject = o.stream + ".entries";
  natsStatus s = natsConnection_Connect(&conn->nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    conn->nc = nullptr;
    std::string list;
    for (const std::string& u : o.servers) list += (list.empty() ? "" : ", ") + u;
    return Status::ClusterDown("no NATS server reachable at " + list + ": " + natsStatus_GetText(s));
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = o.ack_timeout_ms;
  s = natsConnection_JetStream(&conn->js, conn->nc, &jo);
  if (s != NATS_OK) return Status::Internal(std::string("JetStream context: ") + natsStatus_GetText(s));
  BF_RETURN_IF_ERROR(EnsureStream(*conn, o));
  return std::unique_ptr<Log>(std::make_unique<NatsLog>(std::move(conn), o));
}

MessageIds::MessageIds(std::string_view node_id) {
  std::random_device rd;
  const uint64_t nonce = (uint64_t{rd()} << 32) ^ rd();
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(nonce));
  prefix_ = std::string(node_id) + "-" + hex + "-";
}

std::string MessageIds::Next() { return prefix_ + std::to_string(counter_.fetch_add(1) + 1); }

}  // namespace bf::cluster
