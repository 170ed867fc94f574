// bridgefeed-server: parses the config, refuses an unprotected public bind,
// raises its open files limit for maxclients, in cluster mode checks the
// cluster file and reaches the write log (before any data is touched), opens
// the engine, serves RESP until SIGINT/SIGTERM, then stops gracefully and
// closes the engine (which writes the index snapshot).
#include <spdlog/cfg/env.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>

#include "engine/cluster/runtime.h"
#include "engine/server/config.h"
#include "engine/engine.h"
#include "engine/server/server.h"
#include "engine/server/wire_error.h"

namespace {

// File descriptors kept for everything but clients: RocksDB's SST and WAL
// files (max_open_files is unlimited), the snapshot, the log, the acceptor.
constexpr rlim_t kReservedFds = 512;

// As Redis: every client is a file descriptor, so raise the soft limit to
// maxclients + kReservedFds. When the hard limit does not allow that, lower
// maxclients instead, so an extra client gets "max number of clients
// reached" rather than a failed accept().
void AdjustOpenFilesLimit(bf::ServerConfig* config) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    spdlog::warn("cannot read the open files limit; maxclients {} is not checked",
                 config->maxclients);
    return;
  }
  const rlim_t want = static_cast<rlim_t>(config->maxclients) + kReservedFds;
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= want) return;
  const rlim_t old = lim.rlim_cur;
  rlimit next = lim;
  next.rlim_cur = (lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= want) ? want : lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &next) == 0) lim = next;
  if (lim.rlim_cur >= want) {
    spdlog::info("open files limit raised from {} to {} (maxclients {} + {} reserved)", old,
                 lim.rlim_cur, config->maxclients, kReservedFds);
    return;
  }
  const int allowed = static_cast<int>(
      std::max<rlim_t>(1, lim.rlim_cur > kReservedFds ? lim.rlim_cur - kReservedFds : 1));
  spdlog::warn("open files limit is {} (hard limit {}), too low for maxclients {}: serving at "
               "most {} clients; raise it with ulimit -n or LimitNOFILE= in the service unit",
               lim.rlim_cur, lim.rlim_max, config->maxclients, allowed);
  config->maxclients = allowed;
}

}  // namespace

int main(int argc, char** argv) {
  bf::ServerConfig config;
  const int rc = bf::ParseServerConfig(std::vector<std::string>(argv, argv + argc), &config,
                                       std::cout, std::cerr);
  if (rc >= 0) return rc;

  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL overrides the config

  // Before anything listens or touches the data dir.
  if (bf::Status s = config.CheckProtectedMode(); !s.ok()) {
    std::cerr << "bridgefeed-server: " << s.message() << "\n";
    return 2;
  }
  AdjustOpenFilesLimit(&config);

  // Cluster mode: the file, this node's place in it and the log, all before the data dir.
  std::unique_ptr<bf::cluster::ClusterRuntime> cluster;
  if (!config.cluster.empty()) {
    auto file = bf::cluster::LoadClusterFile(config.cluster);
    auto connected = file.ok() ? bf::cluster::ClusterRuntime::Connect(std::move(file).value(),
                                                                      config.node_id, config.port)
                               : bf::Result<std::unique_ptr<bf::cluster::ClusterRuntime>>(
                                     file.status());
    if (!connected.ok()) {
      std::cerr << "bridgefeed-server: " << bf::WireError(connected.status()) << "\n";
      return 2;
    }
    cluster = std::move(connected).value();
  }

  bf::EngineOptions engine_options = config.engine_options();
  // In cluster mode the periodic TRAIN goes through the log (ClusterRuntime).
  if (cluster) engine_options.train_interval_s = 0;
  auto opened = bf::Engine::Open(engine_options);
  if (!opened.ok()) {
    if (config.engine.text_model.empty()) {
      spdlog::critical("cannot open the database in {}: {}", config.engine.data_dir,
                       opened.status().ToString());
    } else {
      spdlog::critical("cannot open the database in {} with the text model {}: {}",
                       config.engine.data_dir, config.engine.text_model,
                       opened.status().ToString());
    }
    return 1;
  }
  std::unique_ptr<bf::Engine> engine = std::move(opened).value();

  bf::ClusterContext cluster_context;
  bf::Engine* serving = engine.get();
  if (cluster) {
    if (bf::Status s = cluster->Start(engine.get(), config.engine.learn,
                                      config.engine.train_interval_s);
        !s.ok()) {
      spdlog::critical("cluster: cannot apply the log: {}", s.ToString());
      (void)engine->Close();
      return 1;
    }
    cluster_context.config = &cluster->config();
    cluster_context.self = cluster->self_index();
    cluster_context.status = [c = cluster.get()] { return c->Report(); };
    serving = cluster->engine();
  }

  bf::Server server(config, serving, cluster ? &cluster_context : nullptr);
  if (bf::Status s = server.Listen(); !s.ok()) {
    spdlog::critical("{}", s.ToString());
    if (cluster) cluster->Stop();
    (void)engine->Close();
    return 1;
  }
  const bf::IndexInfo index = engine->GetIndexInfo();
  const bf::EngineCounters counters = engine->Counters();
  spdlog::info("bridgefeed {} serving data_dir={} dim={} index={} posts={} on {}:{}",
               bf::Version(), config.engine.data_dir, engine->dim(), index.stats.type, counters.posts,
               config.bind, server.port());

  boost::asio::signal_set signals(server.io_context(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signo);
    server.Stop();
  });
  server.Run();
  // Run returns after a stop; a stop that did not come from a signal leaves
  // the signal wait pending (and Run would not return): only signals stop it.
  if (cluster) cluster->Stop();  // before the engine it applies to closes

  if (bf::Status s = engine->Close(); !s.ok()) {
    spdlog::error("closing the engine: {}", s.ToString());
    return 1;
  }
  spdlog::info("bye");
  return 0;
}
