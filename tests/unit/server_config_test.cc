// The services' configuration file: the shipped sample loads with its documented defaults, the
// Redis settings survive an address given after them, and a value out of range is refused.
#include "services/runtime/server_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <utility>

#include "tests/support/process.h"

namespace backline::testing {
namespace {

absl::Status LoadText(const std::string& text, ServerConfig* config) {
  const TempDir dir("backline-config");
  const std::string path = dir.path() + "/config.json";
  std::ofstream(path) << text;
  return LoadConfigFile(path, config);
}

TEST(ServerConfigTest, TheShippedSampleLoadsWithTheDefaults) {
  std::ifstream in(std::string(BACKLINE_SOURCE_DIR) + "/deploy/backline.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The sample's files exist where it is installed: the test's secret and the repository's
  // policy stand in.
  const TempDir dir("backline-config-secret");
  const std::string secret = dir.path() + "/token.secret";
  std::ofstream(secret) << std::string(48, 's');
  for (const auto& [installed, here] :
       {std::pair<std::string, std::string>{"/etc/backline/token.secret", secret},
        {"/etc/backline/routing-policy.json",
         std::string(BACKLINE_SOURCE_DIR) + "/deploy/routing-policy.json"}}) {
    const size_t at = text.find(installed);
    ASSERT_NE(at, std::string::npos) << installed;
    text.replace(at, installed.size(), here);
  }
  ServerConfig config;
  const absl::Status st = LoadText(text, &config);
  ASSERT_TRUE(st.ok()) << st;
  const store::RedisOptions defaults;
  EXPECT_EQ(config.redis.pool_size, defaults.pool_size);
  EXPECT_EQ(config.redis.command_timeout, defaults.command_timeout);
  EXPECT_EQ(config.redis.reply_spin, defaults.reply_spin);
}

TEST(ServerConfigTest, RedisSettingsApplyWhereverTheAddressIs) {
  ServerConfig config;
  ASSERT_TRUE(LoadText(R"({"redis_pool_size": 3, "redis_reply_spin_us": 0,
                           "redis_timeout_ms": 250, "redis": "redis://10.0.0.7:6380/2"})",
                       &config)
                  .ok());
  EXPECT_EQ(config.redis.host, "10.0.0.7");
  EXPECT_EQ(config.redis.port, 6380);
  EXPECT_EQ(config.redis.db, 2);
  EXPECT_EQ(config.redis.pool_size, 3);
  EXPECT_EQ(config.redis.command_timeout, absl::Milliseconds(250));
  EXPECT_EQ(config.redis.reply_spin, absl::ZeroDuration());
}

TEST(ServerConfigTest, ASpinOutOfRangeIsRefused) {
  ServerConfig config;
  const absl::Status st = LoadText(R"({"redis_reply_spin_us": 5000})", &config);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("redis_reply_spin_us"), std::string::npos) << st;
}

}  // namespace
}  // namespace backline::testing
