#include "ml/quantised.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/rng.h"
#include "ml/inference.h"
#include "ml/synthetic.h"
#include "ml/train.h"

namespace meshloop::ml {
namespace {

std::vector<LabelledWindow> windows(std::size_t count, std::uint64_t seed, std::size_t nodes = 40) {
  Rng rng(seed);
  SyntheticConfig config;
  config.nodes = nodes;
  std::vector<LabelledWindow> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(synthetic_window(config, rng));
  return out;
}

TEST(QuantisedLinear, MatchesTheFloatProductWithinTheQuantisationStep) {
  Rng rng(4);
  const std::size_t out = 13, in = 37;  // neither a multiple of 4 nor of 8: the tails run too
  std::vector<float> w(out * in), b(out);
  for (float& x : w) x = static_cast<float>(rng.normal(0, 0.3));
  for (float& x : b) x = static_cast<float>(rng.normal(0, 0.1));
  const auto q = QuantisedGraphSage::Linear::quantise(w.data(), b.data(), out, in);
  FeatureMatrix x(5, static_cast<Eigen::Index>(in)), y;
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.normal(0, 1));
  x.row(3).setZero();  // an all-zero row gives exactly the bias
  q.apply(x, y);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    for (std::size_t o = 0; o < out; ++o) {
      double exact = b[o];
      for (std::size_t i = 0; i < in; ++i)
        exact += static_cast<double>(w[o * in + i]) * x(r, static_cast<Eigen::Index>(i));
      EXPECT_NEAR(y(r, static_cast<Eigen::Index>(o)), exact, 0.05) << "row " << r << " output " << o;
    }
  }
  for (std::size_t o = 0; o < out; ++o) EXPECT_EQ(y(3, static_cast<Eigen::Index>(o)), b[o]);
}

// The AVX2 integer products sum the same int32 values: both instruction sets give the same bits.
TEST(QuantisedLinear, BothInstructionSetsGiveTheSameBits) {
  if (!detail::cpu_has_avx2_fma()) GTEST_SKIP() << "no AVX2 + FMA on this CPU";
  Rng rng(9);
  for (const std::size_t in : {5u, 8u, 16u, 37u, 51u, 128u}) {  // in_padded 8, 8, 16, 40, 56, 128: both tails
    const std::size_t out = 13;
    std::vector<float> w(out * in), b(out);
    for (float& v : w) v = static_cast<float>(rng.normal(0, 0.3));
    for (float& v : b) v = static_cast<float>(rng.normal(0, 0.1));
    const auto q = QuantisedGraphSage::Linear::quantise(w.data(), b.data(), out, in);
    FeatureMatrix x(7, static_cast<Eigen::Index>(in)), base, avx;
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.normal(0, 1));
    detail::set_inference_isa_for_test(detail::Isa::kBaseline);
    q.apply(x, base);
    detail::set_inference_isa_for_test(detail::Isa::kAvx2Fma);
    q.apply(x, avx);
    ASSERT_EQ(base.size(), avx.size());
    EXPECT_EQ(std::memcmp(base.data(), avx.data(), sizeof(float) * static_cast<std::size_t>(base.size())), 0)
        << "in " << in;
  }
}

TEST(QuantisedGraphSage, ScoresStayCloseToFloatOnRandomGraphs) {
  TrainConfig config;
  config.epochs = 8;
  config.learning_rate = 1e-2f;
  const auto trained = train(windows(12, 1), config);
  ASSERT_TRUE(trained.ok());
  const GraphSage& model = trained->model;
  const QuantisedGraphSage q(model);
  double worst = 0, sum = 0;
  std::size_t count = 0, disagreements = 0;
  for (const auto& w : windows(10, 77, 60)) {
    const Scores f = model.score(w.graph), i8 = q.score(w.graph);
    ASSERT_EQ(f.node.size(), i8.node.size());
    ASSERT_EQ(f.edge.size(), i8.edge.size());
    auto compare = [&](const std::vector<float>& a, const std::vector<float>& b) {
      for (std::size_t k = 0; k < a.size(); ++k) {
        const double d = std::abs(a[k] - b[k]);
        worst = std::max(worst, d);
        sum += d;
        ++count;
        if ((a[k] >= 0.5f) != (b[k] >= 0.5f)) ++disagreements;
      }
    };
    compare(f.node, i8.node);
    compare(f.edge, i8.edge);
  }
  EXPECT_LT(sum / static_cast<double>(count), 0.005);
  EXPECT_LT(worst, 0.1);
  EXPECT_LE(static_cast<double>(disagreements), 0.002 * static_cast<double>(count)) << disagreements << " of " << count;
}

TEST(QuantisedGraphSage, F1StaysWithinOneHundredthOfFloat) {
  TrainConfig config;
  config.shape = {32, 16};
  config.epochs = 20;
  config.learning_rate = 1e-2f;
  const auto trained = train(windows(30, 5), config);
  ASSERT_TRUE(trained.ok());
  const auto test_set = windows(15, 6);
  std::vector<detail::Isa> isas{detail::Isa::kBaseline};
  if (detail::cpu_has_avx2_fma()) isas.push_back(detail::Isa::kAvx2Fma);
  for (const detail::Isa isa : isas) {  // both instruction sets of the float model and of the int8 edge head
    detail::set_inference_isa_for_test(isa);
    const double f = evaluate(trained->model, test_set).all().f1();
    const double q = evaluate(QuantisedGraphSage(trained->model), test_set).all().f1();
    EXPECT_NEAR(q, f, 0.01) << "float " << f << " int8 " << q
                            << (isa == detail::Isa::kBaseline ? " (baseline)" : " (avx2)");
  }
  detail::set_inference_isa_for_test(isas.back());
}

TEST(QuantisedGraphSage, IsSmallerThanTheFloatModel) {
  const GraphSage model = GraphSage::initialise({}, Normaliser::identity(), 3);
  const QuantisedGraphSage q(model);
  EXPECT_LT(q.weight_bytes_int8(), model.parameters().size_bytes() / 2);
}

}  // namespace
}  // namespace meshloop::ml
