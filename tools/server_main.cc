// bridgefeed-server: parses the config, refuses an unprotected public bind,
// raises its open files limit for maxclients, opens the engine, serves RESP
// until SIGINT/SIGTERM, then stops gracefully and closes the engine (which
// writes the index snapshot).
#include <spdlog/cfg/env.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>

#include "engine/server/config.h"
#include "engine/engine.h"
#include "engine/server/server.h"

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

  auto opened = bf::Engine::Open(config.engine_options());
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

  bf::Server server(config, engine.get());
  if (bf::Status s = server.Listen(); !s.ok()) {
    spdlog::critical("{}", s.ToString());
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

  if (bf::Status s = engine->Close(); !s.ok()) {
    spdlog::error("closing the engine: {}", s.ToString());
    return 1;
  }
  spdlog::info("bye");
  return 0;
}
