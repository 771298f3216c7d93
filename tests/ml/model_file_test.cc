#include "ml/model_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "core/rng.h"
#include "ml/synthetic.h"

namespace meshloop::ml {
namespace {

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ml_model_file_testXXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  static GraphSage model() {
    Rng rng(1);
    const LabelledWindow w = synthetic_window(SyntheticConfig{}, rng);
    const Graph* graphs[] = {&w.graph};
    return GraphSage::initialise({16, 8}, Normaliser::fit(graphs), 77);
  }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void spit(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  std::string dir_;
};

TEST_F(ModelFileTest, RoundTripKeepsEveryParameterAndTheNormaliserBitForBit) {
  const GraphSage m = model();
  const std::string path = dir_ + "/model.bin";
  ASSERT_TRUE(save_model(m, path).ok());
  EXPECT_NE(::access((path + ".tmp").c_str(), F_OK), 0) << "temporary file left behind";
  const Result<GraphSage> back = load_model(path);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->shape().hidden, 16u);
  EXPECT_EQ(back->shape().edge_hidden, 8u);
  ASSERT_EQ(back->parameters().size(), m.parameters().size());
  EXPECT_EQ(std::memcmp(back->parameters().data(), m.parameters().data(), m.parameters().size_bytes()), 0);
  EXPECT_EQ(back->normaliser().edge_mean, m.normaliser().edge_mean);
  EXPECT_EQ(back->normaliser().node_scale, m.normaliser().node_scale);
  EXPECT_EQ(encode_model(*back), encode_model(m));  // same model, same bytes
  EXPECT_EQ(slurp(path), encode_model(m));
}

TEST_F(ModelFileTest, EveryFlippedByteIsRefusedAsCorruptOrMismatched) {
  const std::string good = encode_model(model());
  // Every byte of the header and trailer, and a stride through the payload.
  for (std::size_t i = 0; i < good.size(); i += (i < kModelHeaderBytes || i + 4 >= good.size()) ? 1 : 37) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    const auto r = decode_model(bad);
    ASSERT_FALSE(r.ok()) << "byte " << i << " flipped and accepted";
    EXPECT_TRUE(r.status().code() == StatusCode::kCorruption || r.status().code() == StatusCode::kFailedPrecondition)
        << r.status().to_string();
  }
}

TEST_F(ModelFileTest, TruncationIsRefusedWithTheSizesInTheMessage) {
  const std::string good = encode_model(model());
  for (std::size_t keep : {std::size_t{0}, std::size_t{10}, kModelHeaderBytes, good.size() / 2, good.size() - 1}) {
    const auto r = decode_model(good.substr(0, keep));
    ASSERT_FALSE(r.ok()) << keep;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << keep;
  }
  const auto r = decode_model(good.substr(0, good.size() - 1));
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().message();
  EXPECT_FALSE(decode_model(good + "x").ok());
}

TEST_F(ModelFileTest, PayloadDamageNamesTheChecksum) {
  std::string bad = encode_model(model());
  bad[kModelHeaderBytes + 100] ^= 0x01;
  const auto r = decode_model(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("payload checksum mismatch"), std::string::npos) << r.status().message();
}

// Rewrites a header field and re-seals the header checksum, as a well-formed file from another build would be.
std::string with_header_field(std::string bytes, std::size_t at, std::uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>((value >> (8 * i)) & 0xffu);
  const std::uint32_t crc = crc32c(std::string_view(bytes).substr(0, 40));
  for (std::size_t i = 0; i < 4; ++i) bytes[40 + i] = static_cast<char>((crc >> (8 * i)) & 0xffu);
  return bytes;
}

TEST_F(ModelFileTest, AnotherFormatVersionOrFeatureSchemaIsAMismatchNotCorruption) {
  const std::string good = encode_model(model());
  const auto version = decode_model(with_header_field(good, 8, kModelFormatVersion + 1));
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(version.status().message().find("format version 2"), std::string::npos) << version.status().message();

  const auto schema = decode_model(with_header_field(good, 12, kFeatureSchemaVersion + 1));
  ASSERT_FALSE(schema.ok());
  EXPECT_EQ(schema.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(schema.status().message().find("feature schema v2"), std::string::npos) << schema.status().message();

  const auto features = decode_model(with_header_field(good, 20, 3));
  ASSERT_FALSE(features.ok());
  EXPECT_EQ(features.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ModelFileTest, NotAModelFile) {
  const auto r = decode_model(std::string(200, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad magic"), std::string::npos);
}

TEST_F(ModelFileTest, LoadNamesThePathAndTellsMissingFromCorrupt) {
  const auto missing = load_model(dir_ + "/absent.bin");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  const std::string path = dir_ + "/model.bin";
  ASSERT_TRUE(save_model(model(), path).ok());
  std::string bytes = slurp(path);
  bytes[bytes.size() - 2] ^= 0x40;
  spit(path, bytes);
  const auto corrupt = load_model(path);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(corrupt.status().message().rfind(path, 0), 0u) << corrupt.status().message();
}

TEST_F(ModelFileTest, AFailedSaveLeavesTheOldFileAndNoTemporary) {
  const std::string path = dir_ + "/model.bin";
  ASSERT_TRUE(save_model(model(), path).ok());
  const std::string before = slurp(path);
  // The target's directory does not exist: open fails, the message names the step.
  const Status s = save_model(model(), dir_ + "/missing/model.bin");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("open"), std::string::npos) << s.message();
  // The rename cannot replace a directory: the temporary file is removed again.
  ASSERT_EQ(::mkdir((dir_ + "/adir").c_str(), 0755), 0);
  const Status r = save_model(model(), dir_ + "/adir");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("rename"), std::string::npos) << r.message();
  EXPECT_NE(::access((dir_ + "/adir.tmp").c_str(), F_OK), 0);
  EXPECT_EQ(slurp(path), before);
}

}  // namespace
}  // namespace meshloop::ml
