// bridgefeed-server: parses the config, opens the engine, serves RESP until
// SIGINT/SIGTERM, then stops gracefully and closes the engine (which writes
// the index snapshot).
#include <spdlog/cfg/env.h>
#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>

#include "engine/config.h"
#include "engine/engine.h"
#include "engine/server.h"

int main(int argc, char** argv) {
  bf::ServerConfig config;
  const int rc = bf::ParseServerConfig(std::vector<std::string>(argv, argv + argc), &config,
                                       std::cout, std::cerr);
  if (rc >= 0) return rc;

  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL overrides the config

  auto opened = bf::Engine::Open(config.engine_options());
  if (!opened.ok()) {
    spdlog::critical("cannot open the database in {}: {}", config.data_dir,
                     opened.status().ToString());
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
               bf::Version(), config.data_dir, engine->dim(), index.stats.type, counters.posts,
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
