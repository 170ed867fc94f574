#include "engine/server/config.h"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <list>
#include <ostream>
#include <sstream>
#include <toml++/toml.h>
#include <type_traits>
#include <variant>

namespace bf {

#ifndef BRIDGEFEED_VERSION
#define BRIDGEFEED_VERSION "0.0.0"
#endif

const char* Version() { return BRIDGEFEED_VERSION; }

namespace {

// One row of the settings table.
using Target =
    std::variant<int*, int64_t*, size_t*, double*, float*, std::string*, FsyncPolicy*, Metric*>;
struct Setting {
  std::string_view section;  // heading in docs/configuration.md
  std::string_view key;      // TOML key; the flag is "--" + key with '-' for '_'
  std::string_view help;
  Target target;             // where it lands; its initial value is the default
  std::string_view config_get = {};  // the name CONFIG GET answers to; empty: none
  int RunningValues::*running = nullptr;  // CONFIG GET reports this instead
};

constexpr std::string_view kNet = "Network", kLimits = "Request and reply limits",
                           kLog = "Logging", kStore = "Storage", kIndex = "Index",
                           kRank = "Ranking", kText = "Text vectors",
                           kCluster = "Cluster";

// The settings table: every setting's one declaration.
std::vector<Setting> Settings(ServerConfig* c) {
  EngineOptions& e = c->engine;
  IndexOptions& ix = e.index;
  RankingOptions& r = e.ranking;
  RespLimits& l = c->limits;
  return {
      {kNet, "bind", "Address to listen on", &c->bind, "bind"},
      {kNet, "port", "TCP port (0: any free port)", &c->port, "port", &RunningValues::port},
      {kNet, "threads", "I/O threads (0: one per core)", &c->threads},
      {kNet, "maxclients", "Maximum connected clients", &c->maxclients, "maxclients"},
      {kNet, "timeout", "Close clients idle this many seconds (0: never)", &c->timeout,
       "timeout"},
      {kNet, "requirepass", "Password clients must AUTH with (empty: none)", &c->requirepass},
      {kNet, "protected_mode", "yes: refuse a non-loopback bind without requirepass; no: allow it",
       &c->protected_mode},
      {kLimits, "proto_max_bulk_len", "Maximum bytes in one bulk string", &l.max_bulk_len,
       "proto-max-bulk-len"},
      {kLimits, "max_args", "Maximum arguments in one command", &l.max_args},
      {kLimits, "max_inline_len", "Maximum bytes in one inline command", &l.max_inline_len},
      {kLimits, "client_query_buffer_limit", "Maximum unread pipelined input per client (bytes)",
       &l.max_query_buffer},
      {kLimits, "client_output_buffer_soft_limit",
       "Pending reply bytes past which a client's input is not read (backpressure)",
       &c->client_output_buffer_soft_limit},
      {kLimits, "client_output_buffer_limit", "Pending reply bytes past which a client is closed",
       &c->client_output_buffer_limit},
      {kLog, "log_level", "trace, debug, info, warn, error, critical or off", &c->log_level},
      {kLog, "slowlog_log_slower_than",
       "Microseconds past which a command enters SLOWLOG and the log (-1: never)",
       &c->slowlog_usec, "slowlog-log-slower-than"},
      {kLog, "slowlog_max_len", "Entries SLOWLOG keeps (the oldest go first)",
       &c->slowlog_max_len, "slowlog-max-len"},
      {kStore, "data_dir", "Database folder", &e.data_dir, "dir"},
      {kStore, "dim", "Vector dimension of a new database", &e.dim, "dim", &RunningValues::dim},
      {kStore, "fsync", "WAL sync: always, everysec or no", &e.fsync, "fsync"},
      {kIndex, "index", "ANN index: a Faiss factory string or auto", &ix.spec, "index"},
      {kIndex, "snapshot_interval_s", "Seconds between index snapshots (0: never)",
       &e.snapshot_interval_s},
      {kIndex, "metric", "Relevance and retrieval: ip (inner product) or cosine", &ix.metric},
      {kIndex, "train_interval_s", "Seconds between periodic TRAINs when events arrived (0: never)",
       &e.train_interval_s},
      {kIndex, "train_iterations", "TRAIN: ALS sweeps", &e.learn.iterations},
      {kIndex, "train_regularization", "TRAIN: weight toward 0 of rows without a prior",
       &e.learn.regularization},
      {kIndex, "train_prior_regularization", "TRAIN: weight toward the prior of rows with one",
       &e.learn.prior_regularization},
      {kIndex, "train_seed", "TRAIN: seed of the initial factors (same seed, same model)",
       &e.learn.seed},
      {kIndex, "train_weight_view", "TRAIN and fold-in: confidence a VIEW adds",
       &e.learn.confidence.weight[0]},
      {kIndex, "train_weight_like", "TRAIN and fold-in: confidence a LIKE adds",
       &e.learn.confidence.weight[1]},
      {kIndex, "train_weight_save", "TRAIN and fold-in: confidence a SAVE adds",
       &e.learn.confidence.weight[2]},
      {kIndex, "train_weight_share", "TRAIN and fold-in: confidence a SHARE adds",
       &e.learn.confidence.weight[3]},
      {kIndex, "train_weight_comment", "TRAIN and fold-in: confidence a COMMENT adds",
       &e.learn.confidence.weight[4]},
      {kIndex, "train_weight_hide", "TRAIN and fold-in: confidence a HIDE adds (a negative)",
       &e.learn.confidence.weight[5]},
      {kIndex, "train_weight_report", "TRAIN and fold-in: confidence a REPORT adds (a negative)",
       &e.learn.confidence.weight[6]},
      {kIndex, "train_half_life_s",
       "TRAIN and fold-in: seconds in which an event's weight halves (0: no decay)",
       &e.learn.confidence.half_life_s},
      {kIndex, "auto_ann_threshold", "index auto: posts past which IVF replaces exact Flat search",
       &ix.auto_ann_threshold},
      {kIndex, "hnsw_ef_search", "HNSW efSearch", &ix.hnsw_ef_search},
      {kIndex, "hnsw_ef_construction", "HNSW efConstruction", &ix.hnsw_ef_construction},
      {kIndex, "ivf_nprobe", "IVF nprobe", &ix.ivf_nprobe},
      {kIndex, "rebuild_tombstone_ratio", "Tombstone share that calls for a rebuild",
       &ix.rebuild_tombstone_ratio},
      {kIndex, "omp_threads", "Faiss threads inside one call (0: OpenMP default)",
       &ix.omp_threads},
      {kRank, "w_rel", "Ranking weight of cosine(user, post)", &r.w_rel},
      {kRank, "w_bridge", "Ranking weight of the bridging score", &r.w_bridge},
      {kRank, "w_fresh", "Ranking weight of freshness exp(-age/tau)", &r.w_fresh},
      {kRank, "fresh_tau_s", "Freshness time constant in seconds", &r.fresh_tau_s},
      {kRank, "bridge_a", "Bridging smoothing a in (pos+a)/(imp+a+b)", &r.bridge_a},
      {kRank, "bridge_b", "Bridging smoothing b in (pos+a)/(imp+a+b)", &r.bridge_b},
      {kRank, "bridge_min_impressions", "Impressions before a culture counts for bridging",
       &r.bridge_min_impressions},
      {kRank, "mmr_lambda", "MMR diversity trade-off in [0,1]", &r.mmr_lambda},
      {kRank, "max_per_author", "Posts of one author per feed page", &r.max_per_author},
      {kRank, "default_openness", "Cross-cultural share when neither request nor user sets one",
       &r.default_openness},
      {kRank, "seen_window_s", "Seconds a served or viewed post stays excluded",
       &r.seen_window_s},
      {kRank, "candidates_per_slot", "ANN candidates per feed slot", &r.candidates_per_slot},
      {kRank, "feedback_toward", "User vector step toward a liked post", &r.feedback.toward},
      {kRank, "feedback_away", "User vector step away from a hidden post", &r.feedback.away},
      {kRank, "feedback", "EVENT's effect on the user's vector: foldin (exact ALS fold-in) or nudge",
       &e.feedback},
      {kRank, "foldin_cache_users", "Users whose incremental fold-in state stays in memory",
       &e.foldin_cache_users},
      {kText, "text_model",
       "Lexicon file of the text model (./bridgefeed text-model prints its path); the database "
       "then has the model's dimension (empty: no text vectors)",
       &e.text_model},
      {kCluster, "cluster", "Cluster file (docs/cluster.md); empty: a single node", &c->cluster},
      {kCluster, "node_id", "This node's id in the cluster file", &c->node_id},
  };
}

// The words of an enum setting, in enum order.
template <typename T>
struct Words;
template <>
struct Words<FsyncPolicy> {
  static constexpr std::string_view kList[] = {"always", "everysec", "no"};
  static constexpr std::string_view kText = "always, everysec or no";
};
template <>
struct Words<Metric> {
  static constexpr std::string_view kList[] = {"cosine", "ip"};
  static constexpr std::string_view kText = "cosine or ip";
};

template <typename T>
Status SetWord(const Setting& s, std::string_view word, T* out) {
  for (size_t i = 0; i < std::size(Words<T>::kList); ++i) {
    if (word == Words<T>::kList[i]) {
      *out = static_cast<T>(i);
      return Status::OK();
    }
  }
  return Status::Invalid(std::string(s.key) + " must be " + std::string(Words<T>::kText));
}

// Shortest text that reads back as v, in v's own type ("0.2" for 0.2f).
template <typename T>
std::string FormatNumber(T v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, p) : std::string("nan");
}

// The setting's current value as text: CONFIG GET, defaults in the docs.
std::string ValueText(const Target& t) {
  return std::visit(
      [](auto* p) -> std::string {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return *p;
        } else if constexpr (std::is_enum_v<T>) {
          return std::string(Words<T>::kList[static_cast<size_t>(*p)]);
        } else if constexpr (std::is_floating_point_v<T>) {
          return FormatNumber(*p);
        } else {
          return std::to_string(*p);
        }
      },
      t);
}

std::string_view TypeName(const Target& t) {
  return std::visit(
      [](auto* p) -> std::string_view {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, std::string>) return "string";
        if constexpr (std::is_enum_v<T>) return Words<T>::kText;
        if constexpr (std::is_floating_point_v<T>) return "number";
        return "integer";
      },
      t);
}

std::string FlagName(std::string_view key) {
  std::string f = "--" + std::string(key);
  for (char& ch : f) if (ch == '_') ch = '-';
  return f;
}

Status ApplyNode(const Setting& s, const toml::node& node) {
  auto bad = [&](const char* what) {
    return Status::Invalid("config key '" + std::string(s.key) + "' must be " + what);
  };
  if (auto* p = std::get_if<std::string*>(&s.target)) {
    auto v = node.value_exact<std::string>();
    if (!v) return bad("a string");
    **p = *v;
  } else if (auto* p = std::get_if<FsyncPolicy*>(&s.target)) {
    auto v = node.value_exact<std::string>();
    if (!v) return bad("a string");
    return SetWord(s, *v, *p);
  } else if (auto* p = std::get_if<Metric*>(&s.target)) {
    auto v = node.value_exact<std::string>();
    if (!v) return bad("a string");
    return SetWord(s, *v, *p);
  } else if (auto* p = std::get_if<int*>(&s.target)) {
    auto v = node.value_exact<int64_t>();
    if (!v || *v < INT32_MIN || *v > INT32_MAX) return bad("an integer");
    **p = static_cast<int>(*v);
  } else if (auto* p = std::get_if<int64_t*>(&s.target)) {
    auto v = node.value_exact<int64_t>();
    if (!v) return bad("an integer");
    **p = *v;
  } else if (auto* p = std::get_if<size_t*>(&s.target)) {
    auto v = node.value_exact<int64_t>();
    if (!v || *v < 0) return bad("a non-negative integer");
    **p = static_cast<size_t>(*v);
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
    if (found->key == "dim") config->dim_given = true;
  }
  return Status::OK();
}

EngineOptions ServerConfig::engine_options() const {
  EngineOptions o = engine;
  if (!engine.text_model.empty() && !dim_given) o.dim = 0;  // the model's
  o.index.dim = o.dim;
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
  if (limits.max_bulk_len < 1 || limits.max_bulk_len > (512u << 20)) {
    return bad("proto_max_bulk_len must be 1 byte to 512 MiB");
  }
  if (limits.max_args < 1 || limits.max_args > (1u << 20)) {
    return bad("max_args must be 1 to 1048576");
  }
  if (limits.max_inline_len < 16) return bad("max_inline_len must be at least 16");
  if (limits.max_query_buffer < limits.max_bulk_len) {
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
  if (slowlog_usec < -1) return bad("slowlog_log_slower_than must be -1 or more");
  if (slowlog_max_len < 0) return bad("slowlog_max_len must be 0 or more");
  if (engine.data_dir.empty()) return bad("data_dir must not be empty");
  if (engine.dim < 1 || engine.dim > kMaxDim) {
    return bad("dim must be 1 to " + std::to_string(kMaxDim));
  }
  const IndexOptions& ix = engine.index;
  if (ix.spec.empty()) return bad("index must not be empty");
  if (engine.snapshot_interval_s < 0) return bad("snapshot_interval_s must be 0 or more");
  if (engine.train_interval_s < 0) return bad("train_interval_s must be 0 or more");
  learn::AlsOptions als = engine.learn;
  als.dim = engine.dim;
  if (Status st = learn::CheckAlsOptions(als); !st.ok()) return bad("train: " + st.message());
  if (ix.auto_ann_threshold < 0) return bad("auto_ann_threshold must be 0 or more");
  if (ix.hnsw_ef_search < 1) return bad("hnsw_ef_search must be positive");
  if (ix.hnsw_ef_construction < 1) return bad("hnsw_ef_construction must be positive");
  if (ix.ivf_nprobe < 1) return bad("ivf_nprobe must be positive");
  if (!(ix.rebuild_tombstone_ratio > 0 && ix.rebuild_tombstone_ratio <= 1)) {
    return bad("rebuild_tombstone_ratio must be in (0, 1]");
  }
  if (ix.omp_threads < 0) return bad("omp_threads must be 0 or more");
  const RankingOptions& r = engine.ranking;
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
  if (cluster.empty() != node_id.empty()) return bad("cluster and node_id go together");
  if (engine.feedback != "foldin" && engine.feedback != "nudge") {
    return bad("feedback must be foldin or nudge");
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
  // A word setting goes through a string, converted (and checked) after parsing.
  std::list<std::pair<Setting, std::string>> words;
  for (const Setting& s : Settings(config)) {
    std::visit(
        [&](auto* p) {
          using T = std::remove_pointer_t<decltype(p)>;
          if constexpr (std::is_enum_v<T>) {
            auto& [setting, text] = words.emplace_back(s, ValueText(s.target));
            app.add_option(FlagName(setting.key), text, std::string(s.help))
                ->capture_default_str();
          } else {
            app.add_option(FlagName(s.key), *p, std::string(s.help))->capture_default_str();
          }
        },
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
  if (app.count("--dim") > 0) config->dim_given = true;
  if (version) {
    out << "bridgefeed-server " << Version() << "\n";
    return 0;
  }
  Status s;
  for (const auto& [setting, text] : words) {
    if (!s.ok()) break;
    std::visit(
        [&, &setting = setting, &text = text](auto* p) {
          using T = std::remove_pointer_t<decltype(p)>;
          if constexpr (std::is_enum_v<T>) s = SetWord(setting, text, p);
        },
        setting.target);
  }
  if (s.ok()) s = config->Validate();
  if (!s.ok()) {
    err << "bridgefeed-server: " << s.message() << "\n";
    return 2;
  }
  return -1;
}

}  // namespace bf

namespace bf {

std::vector<std::pair<std::string, std::string>> ConfigGetPairs(const ServerConfig& config,
                                                                const RunningValues& running) {
  std::vector<std::pair<std::string, std::string>> out = {
      {"save", ""}, {"appendonly", "no"}, {"databases", "1"}};
  ServerConfig copy = config;  // Settings() hands out pointers into it
  for (const Setting& s : Settings(&copy)) {
    if (s.config_get.empty()) continue;
    out.emplace_back(s.config_get, s.running ? std::to_string(running.*s.running)
                                             : ValueText(s.target));
  }
  return out;
}

std::string SettingsReference() {
  ServerConfig defaults;
  std::string md;
  std::string_view section;
  for (const Setting& s : Settings(&defaults)) {
    if (s.section != section) {
      section = s.section;
      md += (md.empty() ? "### " : "\n### ") + std::string(section) + "\n\n" +
            "| key | flag | type | default | CONFIG GET | meaning |\n" +
            "|---|---|---|---|---|---|\n";
    }
    const std::string def = ValueText(s.target);
    md += "| `" + std::string(s.key) + "` | `" + FlagName(s.key) + "` | " +
          std::string(TypeName(s.target)) + " | " + (def.empty() ? "" : "`" + def + "`") +
          " | " + (s.config_get.empty() ? "" : "`" + std::string(s.config_get) + "`") + " | " +
          std::string(s.help) + " |\n";
  }
  return md;
}

}  // namespace bf
