// ServerConfig: every setting of bridgefeed-server. The settings table in
// config.cc is the one place a setting is named: it drives the flags, the
// TOML keys, CONFIG GET, the checks and docs/configuration.md. Each entry
// lands in a field below; engine settings land in EngineOptions (and its
// IndexOptions, RankingOptions), whose initialisers are the defaults.
//
// A flag overrides the TOML file (--config FILE); file keys are the flag
// names with underscores (--data-dir -> data_dir).
//
// Thread safety: a ServerConfig is filled once at start and then only read,
// from any thread. The functions here keep no state.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/server/resp_parser.h"

namespace bf {

// The server's version ("0.1.0").
const char* Version();

struct ServerConfig {
  // Network -----------------------------------------------------------------
  std::string bind = "127.0.0.1";
  int port = 6479;                  // 0 picks a free port (tests)
  int threads = 0;                  // io threads; 0 = hardware concurrency
  int maxclients = 10000;
  int64_t timeout = 0;              // idle seconds before closing a client; 0 = never
  std::string requirepass;          // empty: no AUTH needed
  // "yes": refuse to start on a non-loopback bind without requirepass, so a
  // database is never exposed to the network by accident (as Redis).
  std::string protected_mode = "yes";

  // Request and reply limits -------------------------------------------------
  RespLimits limits;                // bulk length, arguments, inline, query buffer
  // Past the soft limit a client's socket is not read until its pending
  // replies drain (backpressure); past the hard limit the client is closed.
  int64_t client_output_buffer_soft_limit = 1ll << 20;
  int64_t client_output_buffer_limit = 256ll << 20;

  // Logging ------------------------------------------------------------------
  std::string log_level = "info";   // trace debug info warn error critical off
  int64_t slowlog_usec = 10000;     // SLOWLOG and log commands slower than this; -1 = never
  int64_t slowlog_max_len = 128;    // SLOWLOG entries kept

  // Engine: data dir, dim, fsync, index spec and parameters, ranking ----------
  EngineOptions engine;
  // dim was set by a flag or the config file; when not, a text model sets it.
  bool dim_given = false;

  // Cluster mode (docs/cluster.md): both set, or neither (a single node) ------
  std::string cluster;              // the cluster file (TOML)
  std::string node_id;              // this process's node in it

  // Options for Engine::Open: engine, with the index's dim set from dim (0,
  // the text model's, when a text model is set and dim was not given).
  // REQUIRES: Validate() returned OK.
  EngineOptions engine_options() const;
  // Invalid naming the first bad setting.
  Status Validate() const;
  // Invalid with an operator-facing message when protected mode forbids
  // this bind without a password; OK otherwise. REQUIRES: Validate() OK.
  Status CheckProtectedMode() const;
};

// True when addr is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.y.z)
// or "localhost". Other host names count as not loopback.
bool IsLoopbackAddress(const std::string& addr);

// Parses argv (argv[0] is the program name). Returns -1 when the server
// should run with *config; otherwise the process exit code: 0 after --help
// or --version (printed to out), 2 for a bad flag, file or value (message on
// err).
int ParseServerConfig(const std::vector<std::string>& argv, ServerConfig* config,
                      std::ostream& out, std::ostream& err);

// Applies the keys of a TOML document to *config. Invalid for a syntax
// error, an unknown key or a value of the wrong type.
Status ApplyTomlConfig(const std::string& toml_text, const std::string& source_name,
                       ServerConfig* config);

// What CONFIG GET reports from the running server rather than the config:
// the port actually bound and the database's dimension.
struct RunningValues {
  int port = 0;
  int dim = 0;
};

// The name/value pairs CONFIG GET knows, in table order: Redis's save,
// appendonly and databases (answered as a Redis without persistence, so
// redis-benchmark runs), then every setting that has a CONFIG GET name.
std::vector<std::pair<std::string, std::string>> ConfigGetPairs(const ServerConfig& config,
                                                                const RunningValues& running);

// docs/configuration.md's reference: one Markdown table per section with
// each setting's key, flag, type, default, CONFIG GET name and help.
std::string SettingsReference();

}  // namespace bf
