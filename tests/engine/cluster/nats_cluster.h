// A JetStream cluster of nats-server processes on loopback for tests: free ports, a temp
// store folder per server, routes between them; every process is killed by the destructor
// (and by the kernel if the test process dies first).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace bf::cluster::testing {

class NatsCluster {
 public:
  // Starts `n` servers named bf0..bf<n-1> and waits until each accepts clients (at most 10 s).
  // On failure, *error says why and the servers started are stopped.
  explicit NatsCluster(int n);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // nats://127.0.0.1:<port> of every server, running or not.
  std::vector<std::string> Urls() const;
  // SIGKILLs server i (name "bf<i>") and reaps it.
  void Kill(int i);
  // Kills the server named `name` ("bf1"); false when no running server has it.
  bool KillByName(const std::string& name);

 private:
  struct Server {
    int port = 0;
    int cluster_port = 0;
    std::string dir;
    pid_t pid = -1;
  };
  void Spawn(int i);

  std::string root_;
  std::vector<Server> servers_;
  std::string error_;
};

// One 3-server cluster for the whole test process, started on first use (JetStream takes
// about 3 s to elect its leaders; tests that kill servers start their own). Tests sharing it
// keep apart by each using its own stream (FreshStreamName).
NatsCluster& SharedNatsCluster();
// "t1", "t2", ...: a stream name no other test of this process uses.
std::string FreshStreamName();

// The name of the server leading `stream` ("bf1"), asked through any reachable server in
// `urls`; "" when there is none or none answers within 2 s.
std::string StreamLeader(const std::vector<std::string>& urls, const std::string& stream);

}  // namespace bf::cluster::testing
