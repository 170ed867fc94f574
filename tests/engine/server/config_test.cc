#include "engine/server/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace bf {
namespace {

int Parse(std::vector<std::string> args, ServerConfig* c, std::string* err = nullptr,
          std::string* out = nullptr) {
  args.insert(args.begin(), "bridgefeed-server");
  std::ostringstream o, e;
  const int rc = ParseServerConfig(args, c, o, e);
  if (err) *err = e.str();
  if (out) *out = o.str();
  return rc;
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(ServerConfig, Defaults) {
  ServerConfig c;
  ASSERT_EQ(Parse({}, &c), -1);
  EXPECT_EQ(c.bind, "127.0.0.1");
  EXPECT_EQ(c.port, 6479);
  EXPECT_EQ(c.engine.data_dir, "./data");
  EXPECT_EQ(c.engine.dim, 64);
  EXPECT_EQ(c.engine.index.spec, "auto");
  EXPECT_EQ(c.engine.fsync, FsyncPolicy::kEverysec);
  EXPECT_EQ(c.requirepass, "");
  EXPECT_EQ(c.threads, 0);
  EXPECT_EQ(c.maxclients, 10000);
  EXPECT_EQ(c.limits.max_bulk_len, 1u << 20);
  EXPECT_EQ(c.limits.max_args, 4096u);
  EXPECT_EQ(c.limits.max_query_buffer, 64ull << 20);
  EXPECT_EQ(c.timeout, 0);
  EXPECT_EQ(c.slowlog_usec, 10000);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.engine.snapshot_interval_s, 300);
  const EngineOptions e = c.engine_options();
  EXPECT_EQ(e.dim, 64);
  EXPECT_EQ(e.index.dim, 64);
  EXPECT_EQ(e.index.spec, "auto");
  EXPECT_EQ(e.fsync, FsyncPolicy::kEverysec);
  EXPECT_EQ(e.ranking.max_per_author, 2);
}

TEST(ServerConfig, TextModelSetsTheDimUnlessDimIsGiven) {
  ServerConfig c;
  ASSERT_EQ(Parse({"--text-model", "/x/lexicon.bin"}, &c), -1);
  EXPECT_EQ(c.engine.text_model, "/x/lexicon.bin");
  EXPECT_EQ(c.engine_options().dim, 0);  // the model's, resolved by Engine::Open
  EXPECT_EQ(c.engine_options().index.dim, 0);
  ServerConfig d;
  ASSERT_EQ(Parse({"--text-model", "/x/lexicon.bin", "--dim", "64"}, &d), -1);
  EXPECT_EQ(d.engine_options().dim, 64);  // given: Engine::Open checks it against the model
  const std::string file = WriteTemp("bf_config_text.toml", "dim = 100\ntext_model = \"/y\"\n");
  ServerConfig f;
  ASSERT_EQ(Parse({"--config", file}, &f), -1);
  EXPECT_EQ(f.engine.text_model, "/y");
  EXPECT_EQ(f.engine_options().dim, 100);
  ServerConfig n;
  ASSERT_EQ(Parse({"--dim", "32"}, &n), -1);
  EXPECT_EQ(n.engine_options().dim, 32);  // no model: dim as given
}

TEST(ServerConfig, FlagsAndFileFlagsWin) {
  const std::string file = WriteTemp("bf_config_test.toml",
                                     "port = 7000\n"
                                     "dim = 32\n"
                                     "data_dir = \"/tmp/bfdata\"\n"
                                     "w_bridge = 0.75\n"
                                     "fsync = \"always\"\n"
                                     "requirepass = \"s3cret\"\n"
                                     "default_openness = 1\n");
  ServerConfig c;
  ASSERT_EQ(Parse({"--config", file, "--port", "7001", "--index", "HNSW32"}, &c), -1);
  EXPECT_EQ(c.port, 7001);  // the flag overrides the file
  EXPECT_EQ(c.engine.dim, 32);
  EXPECT_EQ(c.engine.data_dir, "/tmp/bfdata");
  EXPECT_EQ(c.engine.ranking.w_bridge, 0.75);
  EXPECT_EQ(c.engine.ranking.default_openness, 1.0);
  EXPECT_EQ(c.requirepass, "s3cret");
  EXPECT_EQ(c.engine.index.spec, "HNSW32");
  const EngineOptions e = c.engine_options();
  EXPECT_EQ(e.fsync, FsyncPolicy::kAlways);
  EXPECT_EQ(e.index.spec, "HNSW32");
  EXPECT_EQ(e.index.dim, 32);
  EXPECT_EQ(e.data_dir, "/tmp/bfdata");
  ServerConfig d;
  ASSERT_EQ(Parse({"--config=" + file, "--data-dir", "x", "--max-per-author", "3"}, &d), -1);
  EXPECT_EQ(d.port, 7000);
  EXPECT_EQ(d.engine.data_dir, "x");
  EXPECT_EQ(d.engine.ranking.max_per_author, 3);
}

// The learning defaults are the ones chosen on MovieLens validation
// (docs/learning.md); each event kind's confidence is a setting.
TEST(ServerConfig, LearningDefaultsAndWeights) {
  ServerConfig c;
  ASSERT_EQ(Parse({}, &c), -1);
  const EngineOptions e = c.engine_options();
  EXPECT_EQ(e.learn.regularization, 20.0f);
  EXPECT_EQ(e.learn.prior_regularization, 5.0f);
  EXPECT_EQ(e.learn.confidence.weight[0], 0.5f);  // VIEW
  EXPECT_EQ(e.learn.confidence.weight[1], 2.0f);  // LIKE
  EXPECT_EQ(e.ranking.mmr_lambda, 0.9);
  ServerConfig w;
  ASSERT_EQ(Parse({"--train-weight-like", "8", "--train-weight-report", "0"}, &w), -1);
  EXPECT_EQ(w.engine_options().learn.confidence.weight[1], 8.0f);
  EXPECT_EQ(w.engine_options().learn.confidence.weight[6], 0.0f);
  EXPECT_EQ(w.engine_options().learn.confidence.half_life_s, 0.0);
  ServerConfig h;
  ASSERT_EQ(Parse({"--train-half-life-s", "86400"}, &h), -1);
  EXPECT_EQ(h.engine_options().learn.confidence.half_life_s, 86400.0);
  std::string err;
  ServerConfig bad;
  EXPECT_EQ(Parse({"--train-weight-view", "-1"}, &bad, &err), 2);
  EXPECT_NE(err.find("train: "), std::string::npos) << err;
  ServerConfig bad_decay;
  EXPECT_EQ(Parse({"--train-half-life-s", "-5"}, &bad_decay, &err), 2);
}

TEST(ServerConfig, BadValuesRejected) {
  std::string err;
  ServerConfig c;
  EXPECT_EQ(Parse({"--port", "70000"}, &c, &err), 2);
  EXPECT_NE(err.find("port must be 0 to 65535"), std::string::npos) << err;
  ServerConfig c2;
  EXPECT_EQ(Parse({"--port", "abc"}, &c2, &err), 2);
  ServerConfig c3;
  EXPECT_EQ(Parse({"--fsync", "sometimes"}, &c3, &err), 2);
  EXPECT_NE(err.find("fsync must be always, everysec or no"), std::string::npos);
  ServerConfig c4;
  EXPECT_EQ(Parse({"--no-such-flag"}, &c4, &err), 2);
  ServerConfig c5;
  EXPECT_EQ(Parse({"--default-openness", "2"}, &c5, &err), 2);
  ServerConfig c6;
  EXPECT_EQ(Parse({"--dim", "0"}, &c6, &err), 2);
  ServerConfig c7;
  EXPECT_EQ(Parse({"--log-level", "loud"}, &c7, &err), 2);
  ServerConfig c8;
  EXPECT_EQ(Parse({"--config", "/nonexistent/bf.toml"}, &c8, &err), 2);
  EXPECT_NE(err.find("cannot read config file"), std::string::npos);
}

TEST(ServerConfig, BadFilesRejected) {
  ServerConfig c;
  Status s = ApplyTomlConfig("nosuch = 1\n", "f.toml", &c);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(), "f.toml: unknown config key 'nosuch'");
  s = ApplyTomlConfig("port = \"x\"\n", "f.toml", &c);
  EXPECT_EQ(s.message(), "config key 'port' must be an integer");
  s = ApplyTomlConfig("bind = 5\n", "f.toml", &c);
  EXPECT_EQ(s.message(), "config key 'bind' must be a string");
  s = ApplyTomlConfig("w_rel = \"high\"\n", "f.toml", &c);
  EXPECT_EQ(s.message(), "config key 'w_rel' must be a number");
  s = ApplyTomlConfig("port = \n", "f.toml", &c);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message().rfind("f.toml:1: ", 0), 0u) << s.message();
  EXPECT_TRUE(ApplyTomlConfig("w_rel = 2\n", "f.toml", &c).ok());  // an integer is a number
  EXPECT_EQ(c.engine.ranking.w_rel, 2.0);
  s = ApplyTomlConfig("fsync = \"sometimes\"\n", "f.toml", &c);
  EXPECT_EQ(s.message(), "fsync must be always, everysec or no");
  s = ApplyTomlConfig("max_args = -1\n", "f.toml", &c);
  EXPECT_EQ(s.message(), "config key 'max_args' must be a non-negative integer");
  const std::string good = "fsync = \"no\"\nmax_args = 9\nfeedback_away = 0.5\n";
  ASSERT_TRUE(ApplyTomlConfig(good, "f.toml", &c).ok());
  EXPECT_EQ(c.engine.fsync, FsyncPolicy::kNo);
  EXPECT_EQ(c.limits.max_args, 9u);
  EXPECT_EQ(c.engine.ranking.feedback.away, 0.5f);
}

TEST(ServerConfig, HelpListsEveryOptionWithDefaults) {
  ServerConfig c;
  std::string out;
  EXPECT_EQ(Parse({"--help"}, &c, nullptr, &out), 0);
  for (const char* flag : {"--config", "--bind", "--port", "--data-dir", "--dim", "--index",
                           "--requirepass", "--fsync", "--maxclients", "--timeout",
                           "--proto-max-bulk-len", "--client-query-buffer-limit",
                           "--client-output-buffer-limit", "--slowlog-log-slower-than",
                           "--slowlog-max-len", "--w-bridge",
                           "--snapshot-interval-s", "--log-level"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(out.find("6479"), std::string::npos);
  EXPECT_NE(out.find("everysec"), std::string::npos);
  EXPECT_EQ(Parse({"--version"}, &c, nullptr, &out), 0);
  EXPECT_EQ(out, std::string("bridgefeed-server ") + Version() + "\n");
}

TEST(ServerConfig, LoopbackAddresses) {
  for (const char* a : {"127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "localhost"}) {
    EXPECT_TRUE(IsLoopbackAddress(a)) << a;
  }
  for (const char* a : {"0.0.0.0", "::", "10.0.0.1", "192.168.1.5", "::ffff:10.0.0.1",
                        "2001:db8::1", "example.com", "128.0.0.1"}) {
    EXPECT_FALSE(IsLoopbackAddress(a)) << a;
  }
}

TEST(ServerConfig, ProtectedModeRefusesPublicBindWithoutPassword) {
  ServerConfig c;
  ASSERT_EQ(Parse({}, &c), -1);
  EXPECT_EQ(c.protected_mode, "yes");
  EXPECT_TRUE(c.CheckProtectedMode().ok());  // 127.0.0.1

  ServerConfig open;
  ASSERT_EQ(Parse({"--bind", "0.0.0.0"}, &open), -1);
  const Status s = open.CheckProtectedMode();
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_NE(s.message().find("refusing to listen on 0.0.0.0"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("--protected-mode no"), std::string::npos) << s.message();

  ServerConfig with_pass;
  ASSERT_EQ(Parse({"--bind", "0.0.0.0", "--requirepass", "pw"}, &with_pass), -1);
  EXPECT_TRUE(with_pass.CheckProtectedMode().ok());

  ServerConfig unprotected;
  ASSERT_EQ(Parse({"--bind", "::", "--protected-mode", "no"}, &unprotected), -1);
  EXPECT_TRUE(unprotected.CheckProtectedMode().ok());

  ServerConfig from_file;
  const std::string file = WriteTemp("bf_config_protected.toml",
                                     "bind = \"10.1.2.3\"\nprotected_mode = \"no\"\n");
  ASSERT_EQ(Parse({"--config", file}, &from_file), -1);
  EXPECT_TRUE(from_file.CheckProtectedMode().ok());

  ServerConfig bad;
  std::string err;
  EXPECT_EQ(Parse({"--protected-mode", "maybe"}, &bad, &err), 2);
  EXPECT_NE(err.find("protected_mode must be yes or no"), std::string::npos) << err;
}

}  // namespace
}  // namespace bf
