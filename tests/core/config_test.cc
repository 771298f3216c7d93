#include "core/config.h"

#include <gtest/gtest.h>

#include <map>

namespace meshloop {
namespace {

TEST(ConfigTest, FlattensNestedYamlIntoDottedKeys) {
  auto c = Config::from_yaml("mesh:\n  hello_interval: 250ms\n  peers: [a, b]\nnode:\n  id: 7\n", "test.yaml");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->get_duration("mesh.hello_interval", seconds(1)).value(), milliseconds(250));
  EXPECT_EQ(c->get_int("node.id", 0).value(), 7);
  EXPECT_EQ(c->get_list("mesh.peers"), (std::vector<std::string>{"a", "b"}));
}

TEST(ConfigTest, LaterLayersWin) {
  auto c = Config::from_yaml("node:\n  id: 1\n  name: file\n", "f.yaml");
  ASSERT_TRUE(c.ok());
  std::map<std::string, std::string> env{{"MESHLOOP_NODE_ID", "2"}};
  c->overlay_env({"node.id", "node.name"}, [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  EXPECT_EQ(c->get_int("node.id", 0).value(), 2);
  EXPECT_EQ(c->get_string("node.name", ""), "file");
  c->set("node.id", "3", "flag --id");
  EXPECT_EQ(c->get_int("node.id", 0).value(), 3);
}

TEST(ConfigTest, BadValueNamesKeyAndOrigin) {
  auto c = Config::from_yaml("mesh:\n  hello_interval: soon\n", "cfg.yaml");
  ASSERT_TRUE(c.ok());
  auto d = c->get_duration("mesh.hello_interval", seconds(1));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("mesh.hello_interval"), std::string::npos);
  EXPECT_NE(d.status().message().find("cfg.yaml"), std::string::npos);
}

TEST(ConfigTest, RejectsInvalidYamlAndUnknownKeys) {
  EXPECT_FALSE(Config::from_yaml("a: [1, 2\n", "x.yaml").ok());
  EXPECT_FALSE(Config::from_yaml("- 1\n- 2\n", "x.yaml").ok());
  auto c = Config::from_yaml("mesh:\n  helo_interval: 1s\n", "x.yaml");
  ASSERT_TRUE(c.ok());
  Status s = c->check_known({"mesh.hello_interval"});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("helo_interval"), std::string::npos);
}

TEST(ConfigTest, ParsesDurations) {
  EXPECT_EQ(parse_duration("100us").value(), microseconds(100));
  EXPECT_EQ(parse_duration("1.5s").value(), milliseconds(1500));
  EXPECT_EQ(parse_duration("2m").value(), seconds(120));
  EXPECT_EQ(parse_duration("3").value(), seconds(3));
  EXPECT_FALSE(parse_duration("3 parsecs").ok());
  EXPECT_FALSE(parse_duration("-1s").ok());
  EXPECT_FALSE(parse_duration("").ok());
}

TEST(ConfigTest, EnvNameIsDerivedFromKey) {
  EXPECT_EQ(Config::env_name("mesh.hello_interval"), "MESHLOOP_MESH_HELLO_INTERVAL");
}

}  // namespace
}  // namespace meshloop
