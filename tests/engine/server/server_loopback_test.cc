// The real Asio server on 127.0.0.1 with a fake engine: pipelining, protocol
// errors, QUIT, maxclients, backpressure and graceful stop. Every read has a
// timeout, so a bug fails the test instead of hanging it.
#include "engine/server/server.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <thread>

#include "tests/engine/server/fake_engine.h"

namespace bf {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Client {
 public:
  Client(asio::io_context& io, uint16_t port) : socket_(io) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{5, 0};  // bounded reads
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  void Send(std::string_view bytes) { asio::write(socket_, asio::buffer(bytes.data(), bytes.size())); }
  // Reads exactly n bytes (fewer if the server closes or the read times out).
  std::string Read(size_t n) {
    std::string out(n, '\0');
    boost::system::error_code ec;
    const size_t got = asio::read(socket_, asio::buffer(out), ec);
    out.resize(got);
    return out;
  }
  // The payload of one bulk string reply ("" on a timeout or another reply).
  std::string ReadBulk() {
    std::string header;
    while (header.empty() || header.back() != '\n') {
      const std::string c = Read(1);
      if (c.empty()) return "";
      header += c;
    }
    if (header[0] != '$') return "";
    const std::string body = Read(std::stoul(header.substr(1)) + 2);
    return body.substr(0, body.size() - 2);
  }
  // True when the server has closed the connection.
  bool Closed() {
    char c;
    boost::system::error_code ec;
    socket_.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  tcp::socket& socket() { return socket_; }

 private:
  tcp::socket socket_;
};

class ServerLoopbackTest : public ::testing::Test {
 protected:
  void Start() {
    config_.port = 0;
    config_.threads = 2;
    server_ = std::make_unique<Server>(config_, &engine_);
    Status s = server_->Listen();
    ASSERT_TRUE(s.ok()) << s.ToString();
    runner_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) {
      server_->Stop();
      runner_.join();
    }
  }

  testing::FakeEngine engine_;
  ServerConfig config_;
  std::unique_ptr<Server> server_;
  std::thread runner_;
  asio::io_context io_;
};

TEST_F(ServerLoopbackTest, PipelinedRepliesInOrder) {
  Start();
  Client c(io_, server_->port());
  const std::string req = "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nUSER.DEL alice\r\nnope\r\n";
  const std::string want =
      "+PONG\r\n$2\r\nhi\r\n:1\r\n-ERR unknown command 'nope', with args beginning with: \r\n";
  c.Send(req);
  EXPECT_EQ(c.Read(want.size()), want);
  // The same, one byte per write.
  for (char ch : req) c.Send(std::string_view(&ch, 1));
  EXPECT_EQ(c.Read(want.size()), want);
}

TEST_F(ServerLoopbackTest, ProtocolErrorClosesOnlyThatConnection) {
  Start();
  Client bad(io_, server_->port());
  Client good(io_, server_->port());
  bad.Send("PING\r\n*1\r\n$-5\r\nPING\r\n");
  const std::string want = "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n";
  EXPECT_EQ(bad.Read(want.size()), want);
  EXPECT_TRUE(bad.Closed());
  good.Send("PING\r\n");
  EXPECT_EQ(good.Read(7), "+PONG\r\n");
  EXPECT_EQ(server_->stats().protocol_errors.load(), 1u);
  good.Send("INFO stats\r\n");
  const std::string info = good.ReadBulk();
  EXPECT_NE(info.find("protocol_errors:1\r\n"), std::string::npos) << info;
}

// CLIENT LIST sees every open connection (each on its own strand) with
// Redis's fields, and forgets a closed one.
TEST_F(ServerLoopbackTest, ClientListShowsOtherConnections) {
  Start();
  Client a(io_, server_->port());
  Client b(io_, server_->port());
  b.Send("CLIENT SETNAME bee\r\n");
  EXPECT_EQ(b.Read(5), "+OK\r\n");
  auto list = [&] {
    a.Send("CLIENT LIST\r\n");
    return a.ReadBulk();
  };
  const std::string both = list();
  EXPECT_NE(both.find(" name=bee age="), std::string::npos) << both;
  EXPECT_NE(both.find(" cmd=client user=default"), std::string::npos) << both;
  EXPECT_EQ(std::count(both.begin(), both.end(), '\n'), 2) << both;
  EXPECT_NE(both.find("laddr=127.0.0.1:" + std::to_string(server_->port())), std::string::npos);
  b.Send("QUIT\r\n");
  EXPECT_EQ(b.Read(5), "+OK\r\n");
  EXPECT_TRUE(b.Closed());
  std::string one;
  for (int i = 0; i < 50; ++i) {  // the close lands on b's strand: allow it a moment
    one = list();
    if (one.find("name=bee") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(one.find("name=bee"), std::string::npos) << one;
  EXPECT_EQ(std::count(one.begin(), one.end(), '\n'), 1) << one;
}

TEST_F(ServerLoopbackTest, QuitClosesAfterReply) {
  Start();
  Client c(io_, server_->port());
  c.Send("QUIT\r\nPING\r\n");
  EXPECT_EQ(c.Read(5), "+OK\r\n");
  EXPECT_TRUE(c.Closed());
}

TEST_F(ServerLoopbackTest, MaxClients) {
  config_.maxclients = 1;
  Start();
  Client first(io_, server_->port());
  first.Send("PING\r\n");
  EXPECT_EQ(first.Read(7), "+PONG\r\n");
  Client second(io_, server_->port());
  const std::string want = "-ERR max number of clients reached\r\n";
  EXPECT_EQ(second.Read(want.size()), want);
  EXPECT_TRUE(second.Closed());
  first.Send("PING\r\n");
  EXPECT_EQ(first.Read(7), "+PONG\r\n");
}

// A client that pipelines far more than the soft output limit still gets
// every reply, in order, while the server holds back reading its input.
TEST_F(ServerLoopbackTest, BackpressureKeepsEveryReply) {
  config_.client_output_buffer_soft_limit = 4096;
  config_.client_output_buffer_limit = 1 << 20;
  Start();
  Client c(io_, server_->port());
  const std::string payload(1000, 'x');
  const int n = 3000;  // ~3 MB of replies against a 4 KiB soft limit
  std::string one = "*2\r\n$4\r\nECHO\r\n$1000\r\n" + payload + "\r\n";
  std::thread writer([&] {
    std::string batch;
    for (int i = 0; i < n; ++i) batch += one;
    c.Send(batch);
  });
  const std::string reply = "$1000\r\n" + payload + "\r\n";
  size_t ok = 0;
  for (int i = 0; i < n; ++i) ok += c.Read(reply.size()) == reply ? 1 : 0;
  writer.join();
  EXPECT_EQ(ok, static_cast<size_t>(n));
}

// CPU time of this process (all threads), in milliseconds.
double CpuMillis() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

// Out of file descriptors, accept() fails while the connection stays queued:
// the server must wait and retry instead of spinning, and serve the client
// once descriptors are free again.
TEST_F(ServerLoopbackTest, AcceptBacksOffWhenOutOfFileDescriptors) {
  Start();
  Client first(io_, server_->port());
  first.Send("PING\r\n");
  ASSERT_EQ(first.Read(7), "+PONG\r\n");

  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit tight = saved;
  tight.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::vector<int> hogs;
  for (int fd; (fd = ::dup(0)) >= 0;) hogs.push_back(fd);
  ASSERT_FALSE(hogs.empty());
  ::close(hogs.back());  // one left: for the client's own socket
  hogs.pop_back();
  auto release = [&] {
    for (int fd : hogs) ::close(fd);
    hogs.clear();
    ::setrlimit(RLIMIT_NOFILE, &saved);
  };

  std::unique_ptr<Client> late;
  try {
    late = std::make_unique<Client>(io_, server_->port());
  } catch (const std::exception& e) {
    release();
    FAIL() << e.what();
  }
  late->Send("PING\r\n");
  const double cpu0 = CpuMillis();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double spent = CpuMillis() - cpu0;
  release();
  // A retry every 100 ms costs next to nothing; a hot accept loop burns a core.
  EXPECT_LT(spent, 150) << "accept() retried in a hot loop";
  EXPECT_EQ(late->Read(7), "+PONG\r\n");
  EXPECT_EQ(first.Read(0), "");
  first.Send("PING\r\n");
  EXPECT_EQ(first.Read(7), "+PONG\r\n");
}

TEST_F(ServerLoopbackTest, StatsAndStop) {
  Start();
  Client c(io_, server_->port());
  c.Send("PING\r\n");
  EXPECT_EQ(c.Read(7), "+PONG\r\n");
  EXPECT_EQ(server_->stats().connected_clients.load(), 1);
  EXPECT_GE(server_->stats().total_connections.load(), 1u);
  server_->Stop();
  runner_.join();
  server_.reset();
  EXPECT_TRUE(c.Closed());
}

}  // namespace
}  // namespace bf
