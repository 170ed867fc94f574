// ServerConfig: every setting of bridgefeed-server, with its default. Read
// from a TOML file (--config FILE) and command-line flags; a flag overrides
// the file. File keys are the flag names with underscores (--data-dir ->
// data_dir).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
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
  int64_t proto_max_bulk_len = 1 << 20;
  int64_t max_args = 4096;
  int64_t max_inline_len = 64 << 10;
  int64_t client_query_buffer_limit = 64ll << 20;
  // Past the soft limit a client's socket is not read until its pending
  // replies drain (backpressure); past the hard limit the client is closed.
  int64_t client_output_buffer_soft_limit = 1ll << 20;
  int64_t client_output_buffer_limit = 256ll << 20;

  // Logging ------------------------------------------------------------------
  std::string log_level = "info";   // trace debug info warn error critical off
  int64_t slowlog_usec = 10000;     // log commands slower than this; -1 = never

  // Engine -------------------------------------------------------------------
  std::string data_dir = "./data";
  int dim = 64;
  std::string index = "auto";       // Faiss factory string or "auto"
  std::string fsync = "everysec";   // always | everysec | no
  int64_t snapshot_interval_s = 300;
  IndexOptions index_options;       // spec and dim are filled from index/dim
  RankingOptions ranking;

  RespLimits resp_limits() const;
  // Options for Engine::Open. REQUIRES: Validate() returned OK.
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

}  // namespace bf
