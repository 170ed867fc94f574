#include "tests/engine/cluster/nats_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace bf::cluster::testing {
namespace {

// A port the kernel just handed out on 127.0.0.1 (free now; racy by nature, fine in tests).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

bool Accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

std::string NatsServerPath() {
  const char* env = std::getenv("BF_NATS_SERVER");
  if (env != nullptr) return env;
  // Debian installs it in /usr/sbin.
  return ::access("/usr/sbin/nats-server", X_OK) == 0 ? "/usr/sbin/nats-server" : "/usr/bin/nats-server";
}

}  // namespace

NatsCluster::NatsCluster(int n) {
  if (::access(NatsServerPath().c_str(), X_OK) != 0) {
    error_ = NatsServerPath() + " not found: ./bridgefeed setup installs nats-server";
    return;
  }
  char tmpl[] = "/tmp/bf_nats_XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  root_ = tmpl;
  servers_.resize(n);
  for (int i = 0; i < n; i++) {
    servers_[i].port = FreePort();
    servers_[i].cluster_port = FreePort();
    servers_[i].dir = root_ + "/bf" + std::to_string(i);
  }
  for (int i = 0; i < n; i++) Spawn(i);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int i = 0; i < n; i++) {
    while (!Accepts(servers_[i].port)) {
      int status = 0;
      if (::waitpid(servers_[i].pid, &status, WNOHANG) == servers_[i].pid) {
        servers_[i].pid = -1;
        error_ = "nats-server bf" + std::to_string(i) + " exited; log: " + servers_[i].dir + ".log";
        return;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        error_ = "nats-server bf" + std::to_string(i) + " did not accept clients within 10 s";
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

void NatsCluster::Spawn(int i) {
  Server& s = servers_[i];
  std::string routes;
  for (size_t j = 0; j < servers_.size(); j++) {
    if (static_cast<int>(j) == i) continue;
    routes += (routes.empty() ? "" : ",") + std::string("nats://127.0.0.1:") +
              std::to_string(servers_[j].cluster_port);
  }
  std::vector<std::string> args = {
      NatsServerPath(), "-a", "127.0.0.1", "-p", std::to_string(s.port),
      "-n", "bf" + std::to_string(i), "-js", "-sd", s.dir,
      "--cluster_name", "bftest", "--cluster", "nats://127.0.0.1:" + std::to_string(s.cluster_port),
      "--routes", routes, "-l", s.dir + ".log"};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  s.pid = pid;
}

NatsCluster::~NatsCluster() {
  for (size_t i = 0; i < servers_.size(); i++) Kill(static_cast<int>(i));
  if (!root_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
}

std::vector<std::string> NatsCluster::Urls() const {
  std::vector<std::string> urls;
  for (const Server& s : servers_) urls.push_back("nats://127.0.0.1:" + std::to_string(s.port));
  return urls;
}

void NatsCluster::Kill(int i) {
  Server& s = servers_[i];
  if (s.pid <= 0) return;
  ::kill(s.pid, SIGKILL);
  ::waitpid(s.pid, nullptr, 0);
  s.pid = -1;
}

bool NatsCluster::KillByName(const std::string& name) {
  for (size_t i = 0; i < servers_.size(); i++) {
    if ("bf" + std::to_string(i) == name && servers_[i].pid > 0) {
      Kill(static_cast<int>(i));
      return true;
    }
  }
  return false;
}

NatsCluster& SharedNatsCluster() {
  // Never destroyed before exit; its servers die with the process (PR_SET_PDEATHSIG) and the
  // destructor at exit removes the folder.
  static NatsCluster cluster(3);
  return cluster;
}

std::string FreshStreamName() {
  static std::atomic<int> n{0};
  return "t" + std::to_string(++n);
}

std::string StreamLeader(const std::vector<std::string>& urls, const std::string& stream) {
  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  std::vector<const char*> list;
  for (const std::string& u : urls) list.push_back(u.c_str());
  natsOptions_SetServers(opts, list.data(), static_cast<int>(list.size()));
  natsOptions_SetTimeout(opts, 500);
  natsConnection* nc = nullptr;
  std::string leader;
  if (natsConnection_Connect(&nc, opts) == NATS_OK) {
    jsCtx* js = nullptr;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 2000;
    jsStreamInfo* si = nullptr;
    if (natsConnection_JetStream(&js, nc, &jo) == NATS_OK &&
        js_GetStreamInfo(&si, js, stream.c_str(), nullptr, nullptr) == NATS_OK) {
      if (si->Cluster != nullptr && si->Cluster->Leader != nullptr) leader = si->Cluster->Leader;
      jsStreamInfo_Destroy(si);
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  natsOptions_Destroy(opts);
  return leader;
}

}  // namespace bf::cluster::testing
