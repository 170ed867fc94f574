#include "engine/server/config.h"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <cmath>
#include <fstream>
#include <functional>
#include <ostream>
#include <sstream>
#include <toml++/toml.h>
#include <variant>

namespace bf {

#ifndef BRIDGEFEED_VERSION
#define BRIDGEFEED_VERSION "0.0.0"
#endif

const char* Version() { return BRIDGEFEED_VERSION; }

namespace {

// One setting, declared once for the flags, the TOML keys and --help.
struct Setting {
  std::string key;  // TOML key; the flag is "--" + key with '-' for '_'
  std::string help;
  std::variant<int*, int64_t*, double*, float*, std::string*> target;
};

std::vector<Setting> Settings(ServerConfig* c) {
  RankingOptions& r = c->ranking;
  IndexOptions& ix = c->index_options;
  return {
      {"bind", "Address to listen on", &c->bind},
      {"port", "TCP port (0: any free port)", &c->port},
      {"threads", "I/O threads (0: one per core)", &c->threads},
      {"maxclients", "Maximum connected clients", &c->maxclients},
      {"timeout", "Close clients idle this many seconds (0: never)", &c->timeout},
      {"requirepass", "Password clients must AUTH with (empty: none)", &c->requirepass},
      {"protected_mode",
       "yes: refuse a non-loopback bind without requirepass; no: allow it",
       &c->protected_mode},
      {"proto_max_bulk_len", "Maximum bytes in one bulk string", &c->proto_max_bulk_len},
      {"max_args", "Maximum arguments in one command", &c->max_args},
      {"max_inline_len", "Maximum bytes in one inline command", &c->max_inline_len},
      {"client_query_buffer_limit", "Maximum unread pipelined input per client (bytes)",
       &c->client_query_buffer_limit},
      {"client_output_buffer_soft_limit",
       "Pending reply bytes past which a client's input is not read (backpressure)",
       &c->client_output_buffer_soft_limit},
      {"client_output_buffer_limit", "Pending reply bytes past which a client is closed",
       &c->client_output_buffer_limit},
      {"log_level", "trace, debug, info, warn, error, critical or off", &c->log_level},
      {"slowlog_usec", "Log commands slower than this (-1: never)", &c->slowlog_usec},
      {"data_dir", "Database folder", &c->data_dir},
      {"dim", "Vector dimension of a new database", &c->dim},
      {"index", "ANN index: a Faiss factory string or auto", &c->index},
      {"fsync", "WAL sync: always, everysec or no", &c->fsync},
      {"snapshot_interval_s", "Seconds between index snapshots (0: never)",
       &c->snapshot_interval_s},
      {"auto_ann_threshold", "index auto: posts past which IVF replaces exact Flat search",
       &ix.auto_ann_threshold},
      {"hnsw_ef_search", "HNSW efSearch", &ix.hnsw_ef_search},
      {"hnsw_ef_construction", "HNSW efConstruction", &ix.hnsw_ef_construction},
      {"ivf_nprobe", "IVF nprobe", &ix.ivf_nprobe},
      {"rebuild_tombstone_ratio", "Tombstone share that calls for a rebuild",
       &ix.rebuild_tombstone_ratio},
      {"omp_threads", "Faiss threads inside one call (0: OpenMP default)", &ix.omp_threads},
      {"w_rel", "Ranking weight of cosine(user, post)", &r.w_rel},
      {"w_bridge", "Ranking weight of the bridging score", &r.w_bridge},
      {"w_fresh", "Ranking weight of freshness exp(-age/tau)", &r.w_fresh},
      {"fresh_tau_s", "Freshness time constant in seconds", &r.fresh_tau_s},
      {"bridge_a", "Bridging smoothing a in (pos+a)/(imp+a+b)", &r.bridge_a},
      {"bridge_b", "Bridging smoothing b in (pos+a)/(imp+a+b)", &r.bridge_b},
      {"bridge_min_impressions", "Impressions before a culture counts for bridging",
       &r.bridge_min_impressions},
      {"mmr_lambda", "MMR diversity trade-off in [0,1]", &r.mmr_lambda},
      {"max_per_author", "Posts of one author per feed page", &r.max_per_author},
      {"default_openness", "Cross-cultural share when neither request nor user sets one",
       &r.default_openness},
      {"seen_window_s", "Seconds a served or viewed post stays excluded", &r.seen_window_s},
      {"candidates_per_slot", "ANN candidates per feed slot", &r.candidates_per_slot},
      {"feedback_toward", "User vector step toward a liked post", &r.feedback.toward},
      {"feedback_away", "User vector step away from a hidden post", &r.feedback.away},
  };
}

std::string FlagName(const std::string& key) {
  std::string f = "--" + key;
  for (char& ch : f) if (ch == '_') ch = '-';
  return f;
}

Status ApplyNode(const Setting& s, const toml::node& node) {
  auto bad = [&](const char* what) {
    return Status::Invalid("config key '" + s.key + "' must be " + what);
  };
  if (auto* p = std::get_if<std::string*>(&s.target)) {
    auto v = node.value_exact<std::string>();
    if (!v) return bad("a string");
    **p = *v;
  } else if (auto* p = std::get_if<int*>(&s.target)) {
    auto v = node.value_exact<int64_t>();
    if (!v || *v < INT32_MIN || *v > INT32_MAX) return bad("an integer");
    **p = static_cast<int>(*v);
  } else if (auto* p = std::get_if<int64_t*>(&s.target)) {
    auto v = node.value_exact<int64_t>();
    if (!v) return bad("an integer");
    **p = *v;
  } else if (auto* p = std::get_if<double*>(&s.target)) {
    auto v = node.value<double>();
    if (!v || !(node.is_floating_point() || node.is_integer())) return bad("a number");
    **p = *v;
  } else if (auto* p = std::get_if<float*>(&s.target)) {
    auto v = node.value<double>();
    if (!v || !(node.is_floating_point() || node.is_integer())) return bad("a number");
    **p = static_cast<float>(*v);
  }
  return Status::OK();
}

bool Finite(double v) { return std::isfinite(v); }

}  // namespace

Status ApplyTomlConfig(const std::string& toml_text, const std::string& source_name,
                       ServerConfig* config) {
  toml::table table;
  try {
    table = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source_name << ":" << e.source().begin.line << ": " << e.description();
    return Status::Invalid(msg.str());
  }
  const auto settings = Settings(config);
  for (const auto& [key, node] : table) {
    const Setting* found = nullptr;
    for (const auto& s : settings) {
      if (s.key == key.str()) found = &s;
    }
    if (found == nullptr) {
      return Status::Invalid(source_name + ": unknown config key '" + std::string(key.str()) + "'");
    }
    BF_RETURN_IF_ERROR(ApplyNode(*found, node));
  }
  return Status::OK();
}

RespLimits ServerConfig::resp_limits() const {
  RespLimits l;
  l.max_bulk_len = static_cast<size_t>(proto_max_bulk_len);
  l.max_args = static_cast<size_t>(max_args);
  l.max_inline_len = static_cast<size_t>(max_inline_len);
  l.max_query_buffer = static_cast<size_t>(client_query_buffer_limit);
  return l;
}

EngineOptions ServerConfig::engine_options() const {
  EngineOptions o;
  o.data_dir = data_dir;
  o.dim = dim;
  o.fsync = fsync == "always" ? FsyncPolicy::kAlways
            : fsync == "no"   ? FsyncPolicy::kNo
                              : FsyncPolicy::kEverysec;
  o.index = index_options;
  o.index.dim = dim;
  o.index.spec = index;
  o.ranking = ranking;
  o.snapshot_interval_s = snapshot_interval_s;
  return o;
}

Status ServerConfig::Validate() const {
  auto bad = [](const std::string& what) { return Status::Invalid(what); };
  if (bind.empty()) return bad("bind must not be empty");
  if (protected_mode != "yes" && protected_mode != "no") {
    return bad("protected_mode must be yes or no");
  }
  if (port < 0 || port > 65535) return bad("port must be 0 to 65535");
  if (threads < 0 || threads > 1024) return bad("threads must be 0 to 1024");
  if (maxclients < 1) return bad("maxclients must be at least 1");
  if (timeout < 0) return bad("timeout must be 0 or more seconds");
  if (proto_max_bulk_len < 1 || proto_max_bulk_len > (512ll << 20)) {
    return bad("proto_max_bulk_len must be 1 byte to 512 MiB");
  }
  if (max_args < 1 || max_args > (1 << 20)) return bad("max_args must be 1 to 1048576");
  if (max_inline_len < 16) return bad("max_inline_len must be at least 16");
  if (client_query_buffer_limit < proto_max_bulk_len) {
    return bad("client_query_buffer_limit must be at least proto_max_bulk_len");
  }
  if (client_output_buffer_soft_limit < 1) {
    return bad("client_output_buffer_soft_limit must be positive");
  }
  if (client_output_buffer_limit < client_output_buffer_soft_limit) {
    return bad("client_output_buffer_limit must be at least the soft limit");
  }
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  bool level_ok = false;
  for (const char* l : kLevels) level_ok |= log_level == l;
  if (!level_ok) return bad("log_level must be one of trace debug info warn error critical off");
  if (slowlog_usec < -1) return bad("slowlog_usec must be -1 or more");
  if (data_dir.empty()) return bad("data_dir must not be empty");
  if (dim < 1 || dim > kMaxDim) return bad("dim must be 1 to " + std::to_string(kMaxDim));
  if (index.empty()) return bad("index must not be empty");
  if (fsync != "always" && fsync != "everysec" && fsync != "no") {
    return bad("fsync must be always, everysec or no");
  }
  if (snapshot_interval_s < 0) return bad("snapshot_interval_s must be 0 or more");
  const IndexOptions& ix = index_options;
  if (ix.auto_ann_threshold < 0) return bad("auto_ann_threshold must be 0 or more");
  if (ix.hnsw_ef_search < 1) return bad("hnsw_ef_search must be positive");
  if (ix.hnsw_ef_construction < 1) return bad("hnsw_ef_construction must be positive");
  if (ix.ivf_nprobe < 1) return bad("ivf_nprobe must be positive");
  if (!(ix.rebuild_tombstone_ratio > 0 && ix.rebuild_tombstone_ratio <= 1)) {
    return bad("rebuild_tombstone_ratio must be in (0, 1]");
  }
  if (ix.omp_threads < 0) return bad("omp_threads must be 0 or more");
  const RankingOptions& r = ranking;
  if (!Finite(r.w_rel) || !Finite(r.w_bridge) || !Finite(r.w_fresh)) {
    return bad("ranking weights must be finite numbers");
  }
  if (!(r.fresh_tau_s > 0) || !Finite(r.fresh_tau_s)) return bad("fresh_tau_s must be positive");
  if (!(r.bridge_a >= 0) || !(r.bridge_b >= 0) || !(r.bridge_a + r.bridge_b > 0) ||
      !Finite(r.bridge_a + r.bridge_b)) {
    return bad("bridge_a and bridge_b must be non-negative, not both 0");
  }
  if (r.bridge_min_impressions < 0) return bad("bridge_min_impressions must be 0 or more");
  if (!(r.mmr_lambda >= 0 && r.mmr_lambda <= 1)) return bad("mmr_lambda must be in [0, 1]");
  if (r.max_per_author < 1) return bad("max_per_author must be at least 1");
  if (!(r.default_openness >= 0 && r.default_openness <= 1)) {
    return bad("default_openness must be in [0, 1]");
  }
  if (r.seen_window_s < 0) return bad("seen_window_s must be 0 or more");
  if (r.candidates_per_slot < 1) return bad("candidates_per_slot must be at least 1");
  if (!(r.feedback.toward >= 0 && r.feedback.toward <= 1) ||
      !(r.feedback.away >= 0 && r.feedback.away <= 1)) {
    return bad("feedback_toward and feedback_away must be in [0, 1]");
  }
  return Status::OK();
}

bool IsLoopbackAddress(const std::string& addr) {
  if (addr == "localhost") return true;
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(addr, ec);
  if (ec) return false;
  if (a.is_v4()) return a.to_v4().is_loopback();
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
  }
  return v6.is_loopback();
}

Status ServerConfig::CheckProtectedMode() const {
  if (protected_mode == "no" || !requirepass.empty() || IsLoopbackAddress(bind)) {
    return Status::OK();
  }
  return Status::Invalid(
      "refusing to listen on " + bind +
      ": it is not a loopback address and no password is set. Anyone who can reach it could "
      "read and change every user and post. Set --requirepass (or requirepass in the config "
      "file), bind 127.0.0.1, or, if a firewall already protects this port, start with "
      "--protected-mode no");
}

int ParseServerConfig(const std::vector<std::string>& argv, ServerConfig* config,
                      std::ostream& out, std::ostream& err) {
  // The file goes first so that flags override it: find --config by hand.
  std::string config_file;
  for (size_t i = 1; i < argv.size(); ++i) {
    if (argv[i] == "--config" && i + 1 < argv.size()) {
      config_file = argv[i + 1];
    } else if (argv[i].rfind("--config=", 0) == 0) {
      config_file = argv[i].substr(9);
    }
  }
  if (!config_file.empty()) {
    std::ifstream in(config_file, std::ios::binary);
    if (!in) {
      err << "bridgefeed-server: cannot read config file " << config_file << "\n";
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    Status s = ApplyTomlConfig(text.str(), config_file, config);
    if (!s.ok()) {
      err << "bridgefeed-server: " << s.message() << "\n";
      return 2;
    }
  }

  CLI::App app{"bridgefeed-server: the bridgefeed feed-ranking engine behind a RESP2 (Redis "
               "protocol) server.\nEvery option is also a key of the --config TOML file, with "
               "'_' for '-'.",
               "bridgefeed-server"};
  app.get_formatter()->column_width(40);
  std::string ignored;
  app.add_option("--config", ignored, "TOML file with settings; flags override it");
  bool version = false;
  app.add_flag("--version", version, "Print the version and exit");
  for (const Setting& s : Settings(config)) {
    std::visit([&](auto* p) { app.add_option(FlagName(s.key), *p, s.help)->capture_default_str(); },
               s.target);
  }
  std::vector<const char*> cargv;
  for (const auto& a : argv) cargv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(cargv.size()), cargv.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, out, err);  // --help
    err << "bridgefeed-server: " << e.what() << "\nRun with --help for the options.\n";
    return 2;
  }
  if (version) {
    out << "bridgefeed-server " << Version() << "\n";
    return 0;
  }
  Status s = config->Validate();
  if (!s.ok()) {
    err << "bridgefeed-server: " << s.message() << "\n";
    return 2;
  }
  return -1;
}

}  // namespace bf
