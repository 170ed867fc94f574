#include "engine/server/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <climits>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "engine/server/resp_parser.h"

namespace bf {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr size_t kReadChunk = 16 << 10;
// A write buffer grown past this is released after use.
constexpr size_t kKeepBuffer = 1 << 20;
constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
// Protocol errors are logged at info at most once per this period (with the
// count since), every one at debug: junk traffic must not flood the log.
constexpr int64_t kProtocolLogEveryMs = 10000;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

class Connection;

class Server::Impl {
 public:
  Impl(const ServerConfig& config, Engine* engine, const ClusterContext* cluster)
      : config_(config), engine_(engine), cluster_(cluster), strand_(asio::make_strand(io_)), acceptor_(strand_),
        stop_timer_(strand_), accept_retry_(strand_) {
    int n = config_.threads > 0 ? config_.threads
                                : static_cast<int>(std::thread::hardware_concurrency());
    loops_.emplace_back(&io_);
    for (int i = 1; i < n; ++i) {
      extra_.push_back(std::make_unique<asio::io_context>(1));
      loops_.emplace_back(extra_.back().get());
    }
  }

  Status Listen();
  void Run();
  void Stop();
  void Unregister(Connection* c);
  // Counts a protocol error in INFO and logs it, rate-limited (above).
  void OnProtocolError(const ClientState& client, const std::string& error);

  const ServerConfig& config_;
  Engine* engine_;
  const ClusterContext* cluster_;
  ServerStats stats_;
  WatchRegistry watches_;  // before io_: outlives the connections
  // One event loop per I/O thread, each run by its thread alone; a client
  // lives on one loop for its life. (One io_context shared by every thread
  // moved each ready socket's handler between threads: context switches
  // that cost PING about 10% against redis-server.)
  struct Loop {
    explicit Loop(asio::io_context* io) : io(io) {}
    asio::io_context* io;
    std::atomic<int> clients{0};  // connections on it, to pick the least busy
  };
  // Before the io_contexts: a connection their pending handlers still hold
  // counts itself out of its loop when they are destroyed.
  std::deque<Loop> loops_;  // fixed after construction
  // The first I/O thread's loop: the acceptor, the stop timers, signals and
  // its share of the clients.
  asio::io_context io_;

  std::vector<std::unique_ptr<asio::io_context>> extra_;  // loops 1..n-1

 private:
  void Accept();
  void OnAccept(const error_code& ec, tcp::socket socket, Loop* loop);
  void DoStop();
  // The loop with the fewest clients (the next one in turn among equals).
  Loop* PickLoop();

  // Owned by strand_: acceptor, timers, stopping_.
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::acceptor acceptor_;
  asio::steady_timer stop_timer_;
  asio::steady_timer accept_retry_;
  bool stopping_ = false;
  size_t next_loop_ = 0;
  // Keep loops 1..n-1 running while they have no client; dropped on stop.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> idle_guards_;

  std::mutex mu_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> conns_;  // GUARDED_BY(mu_)

  std::atomic<int64_t> protocol_logged_ms_{INT64_MIN / 2};  // last info line
  std::atomic<uint64_t> protocol_logged_count_{0};  // protocol_errors at that line
};

// One client. Every handler runs on the socket's strand, so the members need
// no lock.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Server::Impl& server, std::atomic<int>* loop_clients)
      : socket_(std::move(socket)),
        server_(server),
        loop_clients_(loop_clients),
        parser_(server.config_.limits),
        idle_timer_(socket_.get_executor()) {
    client_.id = server.stats_.next_client_id.fetch_add(1);
    error_code ec;
    const auto ep = socket_.remote_endpoint(ec);
    client_.addr = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    const auto local = socket_.local_endpoint(ec);
    client_.laddr = ec ? "?" : local.address().to_string() + ":" + std::to_string(local.port());
    client_.fd = static_cast<int>(socket_.native_handle());
    ctx_.engine = server.engine_;
    ctx_.cluster = server.cluster_;
    ctx_.config = &server.config_;
    ctx_.stats = &server.stats_;
    ctx_.client = &client_;
    ctx_.watches = &server.watches_;
    soft_limit_ = static_cast<size_t>(server.config_.client_output_buffer_soft_limit);
    hard_limit_ = static_cast<size_t>(server.config_.client_output_buffer_limit);
  }

  ~Connection() {
    server_.stats_.clients.Remove(&client_);
    loop_clients_->fetch_sub(1, std::memory_order_relaxed);
  }

  // Begins reading on the connection's own strand.
  void Start() {
    server_.stats_.clients.Add(&client_);
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      error_code ec;
      self->socket_.set_option(tcp::no_delay(true), ec);
      // MaybeWrite writes straight to the socket and must never block.
      self->socket_.non_blocking(true, ec);
      if (ec) {
        spdlog::info("client {} ({}): cannot make the socket non-blocking: {}; closing",
                     self->client_.id, self->client_.addr, ec.message());
        self->Close();
        return;
      }
      self->ArmIdleTimer();
      self->DoRead();
    });
  }

  // Server stop: no more input; flush what is pending, then close.
  void Shutdown() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      if (self->closed_) return;
      self->closing_ = true;
      error_code ec;
      self->socket_.shutdown(tcp::socket::shutdown_receive, ec);
      self->MaybeWrite();
    });
  }

 private:
  size_t pending() const { return out_.size() + sending_.size(); }

  void DoRead() {
    if (reading_ || closing_ || closed_) return;
    auto space = parser_.Prepare(kReadChunk);
    reading_ = true;
    socket_.async_read_some(asio::buffer(space.data(), space.size()),
                            [self = shared_from_this()](const error_code& ec, size_t n) {
                              self->OnRead(ec, n);
                            });
  }

  void OnRead(const error_code& ec, size_t n) {
    reading_ = false;
    if (closed_) return;
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted &&
          ec != asio::error::connection_reset) {
        spdlog::info("client {} ({}): read error: {}", client_.id, client_.addr, ec.message());
      }
      // The peer is gone or half-closed: send what is pending, then close.
      closing_ = true;
      MaybeWrite();
      return;
    }
    parser_.Commit(n);
    last_active_ = std::chrono::steady_clock::now();
    Process();
  }

  // Runs every complete command that backpressure allows, then writes and,
  // when below the soft limit, reads more. A reply the socket took at once
  // frees the buffer: commands held back by the soft limit run then.
  void Process() {
    PublishBuffers();  // what CLIENT INFO in this batch shows
    for (;;) {
      const bool held = RunCommands();
      if (closed_) return;
      MaybeWrite();
      if (closed_) return;
      if (!held || closing_ || writing_ || pending() >= soft_limit_) break;
    }
    PublishBuffers();
    if (!closing_ && pending() < soft_limit_) DoRead();
  }

  // Process's command loop. True when it stopped at the soft limit with
  // input possibly left (resumed once replies are written).
  bool RunCommands() {
    bool held = false;
    while (!closing_) {
      if (pending() >= soft_limit_) {
        held = true;
        break;
      }
      const auto st = parser_.Next(&args_);
      if (st == RespParser::State::kNeedMore) break;
      if (st == RespParser::State::kError) {
        RespWriter(&out_).Error("ERR " + parser_.error());
        server_.stats_.errors.fetch_add(1, std::memory_order_relaxed);
        server_.OnProtocolError(client_, parser_.error());
        closing_ = true;
        break;
      }
      Dispatch(ctx_, args_, &out_);
      if (client_.quit) closing_ = true;
      if (pending() > hard_limit_) {
        spdlog::warn("client {} ({}): output buffer over {} bytes; closing", client_.id,
                     client_.addr, hard_limit_);
        Close();
        return false;
      }
    }
    args_.clear();
    parser_.Compact();
    return held;
  }

  // The buffer figures CLIENT LIST shows of this client.
  void PublishBuffers() {
    constexpr auto r = std::memory_order_relaxed;
    client_.qbuf.store(parser_.buffered(), r);
    client_.qbuf_free.store(parser_.capacity() - parser_.buffered(), r);
    client_.obl.store(pending(), r);
    client_.tot_mem.store(sizeof(*this) + parser_.capacity() + out_.capacity() +
                              sending_.capacity(), r);
    client_.writing.store(writing_, r);
  }

  // Hands out_ to the socket. As Redis does, it first writes straight to the
  // (non-blocking) socket: a reply the kernel takes whole costs no async
  // write and no completion handler (a PING's round trip through the
  // scheduler). Only the rest, if any, goes to an async write.
  void MaybeWrite() {
    if (writing_ || closed_) return;
    if (out_.empty()) {
      if (closing_) Close();
      return;
    }
    error_code ec;
    const size_t n = socket_.write_some(asio::buffer(out_), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      OnWrite(ec);  // logs and closes
      return;
    }
    if (!ec && n == out_.size()) {
      if (out_.capacity() > kKeepBuffer) {
        std::string().swap(out_);
      } else {
        out_.clear();
      }
      if (closing_) Close();
      return;
    }
    out_.erase(0, ec ? 0 : n);
    sending_.swap(out_);
    writing_ = true;
    asio::async_write(socket_, asio::buffer(sending_),
                      [self = shared_from_this()](const error_code& ec, size_t) {
                        self->OnWrite(ec);
                      });
  }

  void OnWrite(const error_code& ec) {
    writing_ = false;
    if (closed_) return;
    if (ec) {
      if (ec != asio::error::broken_pipe && ec != asio::error::connection_reset &&
          ec != asio::error::operation_aborted) {
        spdlog::info("client {} ({}): write error: {}", client_.id, client_.addr, ec.message());
      }
      Close();
      return;
    }
    if (sending_.capacity() > kKeepBuffer) {
      std::string().swap(sending_);
    } else {
      sending_.clear();
    }
    if (closing_) {
      MaybeWrite();
    } else {
      Process();
    }
  }

  void ArmIdleTimer() {
    const int64_t timeout = server_.config_.timeout;
    if (timeout <= 0) return;
    idle_timer_.expires_after(std::chrono::seconds(timeout));
    idle_timer_.async_wait([self = shared_from_this(), timeout](const error_code& ec) {
      if (ec || self->closed_) return;
      const auto idle = std::chrono::steady_clock::now() - self->last_active_;
      if (idle >= std::chrono::seconds(timeout) && !self->writing_) {
        spdlog::info("client {} ({}): idle timeout; closing", self->client_.id, self->client_.addr);
        self->Close();
      } else {
        self->ArmIdleTimer();
      }
    });
  }

  void Close() {
    if (closed_) return;
    server_.stats_.clients.Remove(&client_);
    closed_ = true;
    closing_ = true;
    error_code ec;
    idle_timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    server_.Unregister(this);
  }

  tcp::socket socket_;
  Server::Impl& server_;
  std::atomic<int>* const loop_clients_;  // its loop's client count
  RespParser parser_;
  asio::steady_timer idle_timer_;
  ClientState client_;
  CommandContext ctx_;
  std::vector<std::string_view> args_;
  std::string out_;      // replies not yet handed to the socket
  std::string sending_;  // replies being written
  size_t soft_limit_ = 0, hard_limit_ = 0;
  bool reading_ = false, writing_ = false;
  bool closing_ = false;  // no more commands; close once replies are written
  bool closed_ = false;
  std::chrono::steady_clock::time_point last_active_ = std::chrono::steady_clock::now();
};

Status Server::Impl::Listen() {
  error_code ec;
  tcp::resolver resolver(io_);
  auto results = resolver.resolve(config_.bind, std::to_string(config_.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  const std::string where = config_.bind + ":" + std::to_string(config_.port);
  if (ec || results.empty()) {
    return Status::IOError("cannot resolve bind address " + where + ": " + ec.message());
  }
  const tcp::endpoint ep = results.begin()->endpoint();
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    return Status::IOError("cannot listen on " + where + ": " + ec.message());
  }
  stats_.port = acceptor_.local_endpoint(ec).port();
  asio::post(strand_, [this] { Accept(); });
  return Status::OK();
}

Server::Impl::Loop* Server::Impl::PickLoop() {
  Loop* best = nullptr;
  for (size_t i = 0; i < loops_.size(); ++i) {
    Loop& l = loops_[(next_loop_ + i) % loops_.size()];
    if (best == nullptr || l.clients.load(std::memory_order_relaxed) <
                               best->clients.load(std::memory_order_relaxed)) {
      best = &l;
    }
  }
  next_loop_ = (next_loop_ + 1) % loops_.size();
  return best;
}

void Server::Impl::Accept() {
  if (stopping_) return;
  // The client's socket lives on one loop, run by one thread: its handlers
  // never run concurrently, and stay on that thread.
  Loop* loop = PickLoop();
  acceptor_.async_accept(loop->io->get_executor(),
                         asio::bind_executor(strand_, [this, loop](const error_code& ec,
                                                                   tcp::socket s) {
                           OnAccept(ec, std::move(s), loop);
                         }));
}

void Server::Impl::OnAccept(const error_code& ec, tcp::socket socket, Loop* loop) {
  if (stopping_) return;
  if (ec) {
    if (ec == asio::error::operation_aborted) return;
    // EMFILE and friends: the connection stays queued, so accepting again at
    // once would fail again in a hot loop. Wait a little, then retry.
    spdlog::warn("accept failed: {}; retrying in {} ms", ec.message(), kAcceptRetry.count());
    accept_retry_.expires_after(kAcceptRetry);
    accept_retry_.async_wait([this](const error_code& wait_ec) {
      if (!wait_ec) Accept();
    });
    return;
  }
  stats_.total_connections.fetch_add(1, std::memory_order_relaxed);
  if (stats_.connected_clients.load() >= config_.maxclients) {
    stats_.rejected_connections.fetch_add(1, std::memory_order_relaxed);
    // A 38-byte reply into a fresh socket's empty send buffer does not block.
    static constexpr std::string_view kFull = "-ERR max number of clients reached\r\n";
    error_code ignored;
    asio::write(socket, asio::buffer(kFull.data(), kFull.size()), ignored);
    socket.close(ignored);
  } else {
    loop->clients.fetch_add(1, std::memory_order_relaxed);
    auto conn = std::make_shared<Connection>(std::move(socket), *this, &loop->clients);
    stats_.connected_clients.fetch_add(1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      conns_.emplace(conn.get(), conn);
    }
    conn->Start();
  }
  Accept();
}

void Server::Impl::Unregister(Connection* c) {
  stats_.connected_clients.fetch_sub(1);
  bool last = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    conns_.erase(c);
    last = conns_.empty();
  }
  if (last) {
    asio::post(strand_, [this] {
      if (stopping_) stop_timer_.cancel();
    });
  }
}

void Server::Impl::OnProtocolError(const ClientState& client, const std::string& error) {
  const uint64_t total = stats_.protocol_errors.fetch_add(1, std::memory_order_relaxed) + 1;
  const int64_t now = SteadyMs();
  int64_t last = protocol_logged_ms_.load(std::memory_order_relaxed);
  if (now - last >= kProtocolLogEveryMs &&
      protocol_logged_ms_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    const uint64_t since = total - protocol_logged_count_.exchange(total);
    spdlog::info("client {} ({}): {}; closing ({} protocol error(s) since the last such line, "
                 "{} in all; the others are logged at debug)",
                 client.id, client.addr, error, since, total);
  } else {
    spdlog::debug("client {} ({}): {}; closing", client.id, client.addr, error);
  }
}

void Server::Impl::Stop() {
  asio::post(strand_, [this] { DoStop(); });
}

void Server::Impl::DoStop() {
  if (stopping_) return;
  stopping_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
  // Loops 1..n-1 return from run() once their clients are gone.
  for (auto& guard : idle_guards_) guard.reset();
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [ptr, weak] : conns_) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  spdlog::info("stopping: {} client(s) to flush", live.size());
  for (auto& c : live) c->Shutdown();
  if (live.empty()) return;
  stop_timer_.expires_after(kStopGrace);
  stop_timer_.async_wait([this](const error_code& ec) {
    if (ec) return;  // cancelled: every client closed in time
    spdlog::warn("stopping: clients did not drain in time; dropping them");
    for (Loop& l : loops_) l.io->stop();
  });
}

void Server::Impl::Run() {
  // Before any thread runs: DoStop (on io_) resets them.
  for (auto& extra : extra_) idle_guards_.push_back(asio::make_work_guard(*extra));
  std::vector<std::thread> threads;
  for (auto& extra : extra_) threads.emplace_back([io = extra.get()] { io->run(); });
  io_.run();
  for (auto& t : threads) t.join();
}

Server::Server(const ServerConfig& config, Engine* engine, const ClusterContext* cluster)
    : impl_(std::make_unique<Impl>(config, engine, cluster)) {}
Server::~Server() = default;
Status Server::Listen() { return impl_->Listen(); }
uint16_t Server::port() const { return static_cast<uint16_t>(impl_->stats_.port); }
void Server::Run() { impl_->Run(); }
void Server::Stop() { impl_->Stop(); }
asio::io_context& Server::io_context() { return impl_->io_; }
ServerStats& Server::stats() { return impl_->stats_; }

}  // namespace bf
