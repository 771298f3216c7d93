#include "ml/graphsage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/rng.h"
#include "ml/graphsage_math.h"
#include "ml/inference.h"
#include "ml/synthetic.h"
#include "ml/train.h"

namespace meshloop::ml {
namespace {

using detail::Mat;

// The instruction sets this CPU can run: the baseline always, AVX2 + FMA when present.
std::vector<detail::Isa> runnable_isas() {
  std::vector<detail::Isa> out{detail::Isa::kBaseline};
  if (detail::cpu_has_avx2_fma()) out.push_back(detail::Isa::kAvx2Fma);
  return out;
}
// Forces one instruction set for a scope, then restores the CPU's choice.
struct ForceIsa {
  explicit ForceIsa(detail::Isa isa) { detail::set_inference_isa_for_test(isa); }
  ~ForceIsa() {
    detail::set_inference_isa_for_test(detail::cpu_has_avx2_fma() ? detail::Isa::kAvx2Fma : detail::Isa::kBaseline);
  }
  ForceIsa(const ForceIsa&) = delete;
  ForceIsa& operator=(const ForceIsa&) = delete;
};

TEST(GraphSageGradient, MatchesCentralFiniteDifferencesForEveryParameter) {
  Rng rng(7);
  Graph g = random_mesh(9, 3.5, rng);
  const auto n = static_cast<Eigen::Index>(g.num_nodes()), m = static_cast<Eigen::Index>(g.num_edges());
  // Add an isolated node: its aggregations are empty and must contribute nothing.
  g.offsets.push_back(g.offsets.back());
  Mat<double> x(n + 1, static_cast<Eigen::Index>(kNodeFeatureCount)),
      xe(m, static_cast<Eigen::Index>(kEdgeFeatureCount));
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.normal(0, 1);
  for (Eigen::Index i = 0; i < xe.size(); ++i) xe.data()[i] = rng.normal(0, 1);
  const std::vector<std::int32_t> sources = g.sources();

  const auto layout = detail::Layout::of(kNodeFeatureCount, kEdgeFeatureCount, 6, 4);
  std::vector<double> params(layout.size);
  for (double& p : params) p = rng.normal(0, 0.5);
  std::vector<double> node_y(static_cast<std::size_t>(n + 1)), node_w(node_y.size()),
      edge_y(static_cast<std::size_t>(m)), edge_w(edge_y.size());
  for (std::size_t i = 0; i < node_y.size(); ++i) {
    node_y[i] = rng.bernoulli(0.3) ? 1 : 0;
    node_w[i] = i == 2 ? 0.0 : rng.uniform() + 0.1;  // one unlabelled node
  }
  for (std::size_t i = 0; i < edge_y.size(); ++i) {
    edge_y[i] = rng.bernoulli(0.3) ? 1 : 0;
    edge_w[i] = rng.uniform() + 0.1;
  }
  detail::Inputs<double> in{&x, &xe, g.offsets, g.targets, sources};
  std::vector<double> grad(layout.size), scratch(layout.size);
  detail::loss_and_gradient<double>(layout, params.data(), in, node_y, node_w, edge_y, edge_w, grad.data());

  const double eps = 1e-6;
  double worst = 0;
  std::size_t worst_at = 0;
  for (std::size_t k = 0; k < params.size(); ++k) {
    const double saved = params[k];
    params[k] = saved + eps;
    const double up =
        detail::loss_and_gradient<double>(layout, params.data(), in, node_y, node_w, edge_y, edge_w, scratch.data());
    params[k] = saved - eps;
    const double down =
        detail::loss_and_gradient<double>(layout, params.data(), in, node_y, node_w, edge_y, edge_w, scratch.data());
    params[k] = saved;
    const double numeric = (up - down) / (2 * eps);
    const double err = std::abs(numeric - grad[k]) / std::max(1e-4, std::abs(numeric) + std::abs(grad[k]));
    if (err > worst) {
      worst = err;
      worst_at = k;
    }
  }
  EXPECT_LT(worst, 1e-5) << "parameter " << worst_at << " of " << params.size();
  // The check is only meaningful if the gradient is not trivially zero.
  double norm = 0;
  for (double gk : grad) norm += gk * gk;
  EXPECT_GT(norm, 1e-6);
}

TEST(GraphSage, ScoresEveryNodeAndEdgeWithProbabilities) {
  Rng rng(3);
  const LabelledWindow w = synthetic_window(SyntheticConfig{}, rng);
  const GraphSage model = GraphSage::initialise({}, Normaliser::identity(), 11);
  const Scores s = model.score(w.graph);
  ASSERT_EQ(s.node.size(), w.graph.num_nodes());
  ASSERT_EQ(s.edge.size(), w.graph.num_edges());
  for (float p : s.node) EXPECT_TRUE(p >= 0 && p <= 1);
  for (float p : s.edge) EXPECT_TRUE(p >= 0 && p <= 1);
}

TEST(GraphSage, FromParametersRefusesAWrongCount) {
  const auto r = GraphSage::from_parameters({64, 32}, Normaliser::identity(), std::vector<float>(10));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("needs"), std::string::npos);
}

TEST(Normaliser, FitsMeanAndSpreadAndMapsMissingValuesToTheMean) {
  Rng rng(5);
  SyntheticConfig healthy;
  healthy.node_fault_probability = 0;
  healthy.link_fault_probability = 0;
  LabelledWindow w = synthetic_window(healthy, rng);
  w.graph.node_features(0, 0) = std::nanf("");
  const Graph* graphs[] = {&w.graph};
  const Normaliser norm = Normaliser::fit(graphs);
  FeatureMatrix x, xe;
  norm.apply(w.graph, x, xe);
  EXPECT_EQ(x(0, 0), 0.0f);
  // Up is 1 everywhere: no spread, scale 1, normalised to 0.
  EXPECT_EQ(norm.edge_scale[index(EdgeFeature::kUp)], 1.0f);
  const Eigen::VectorXf col_mean = x.colwise().mean();
  for (Eigen::Index c = 0; c < col_mean.size(); ++c) EXPECT_NEAR(col_mean(c), 0.0f, 0.2f) << "column " << c;
}

// The normaliser runs four lanes at a time with a scalar tail; every value must be the bits of the scalar definition
// (transform_value, then (x - mean) / spread, clipped, NaN -> 0), because training and inference share it and the
// shipped model's bytes depend on what training saw. Odd row counts put values in both paths; the specials cover
// each branch of fast_log1p and of the clip.
TEST(Normaliser, VectorisedPathGivesTheScalarDefinitionsBits) {
  Rng rng(17);
  Normaliser norm = Normaliser::identity();
  for (std::size_t f = 0; f < kNodeFeatureCount; ++f) {
    norm.node_mean[f] = static_cast<float>(rng.normal(0, 2));
    norm.node_scale[f] = static_cast<float>(rng.uniform() * 3 + 0.01);
  }
  for (std::size_t f = 0; f < kEdgeFeatureCount; ++f) {
    norm.edge_mean[f] = static_cast<float>(rng.normal(0, 2));
    norm.edge_scale[f] = static_cast<float>(rng.uniform() * 3 + 0.01);
  }
  const float specials[] = {std::nanf(""), INFINITY,    -INFINITY, 3.3e38f, 3.0e38f, 2.9e38f, -0.0f,   0.0f,
                            -1.0f,         0.41421356f, 1e-30f,    1e30f,   0.5f,    2.0f,    1000.0f, -5e10f};
  for (const Eigen::Index rows : {0, 1, 3, 4, 5, 37, 203}) {
    Graph g;
    g.node_features.resize(rows, static_cast<Eigen::Index>(kNodeFeatureCount));
    g.edge_features.resize(rows, static_cast<Eigen::Index>(kEdgeFeatureCount));
    for (FeatureMatrix* m : {&g.node_features, &g.edge_features}) {
      for (Eigen::Index i = 0; i < m->size(); ++i) {
        m->data()[i] = rng.bernoulli(0.3)
                           ? specials[rng.uniform_int(0, std::size(specials) - 1)]
                           : static_cast<float>(rng.normal(0, 1) * std::pow(10.0, rng.uniform() * 8 - 3));
      }
    }
    FeatureMatrix x, xe;
    norm.apply(g, x, xe);
    auto expect_bits = [](const FeatureMatrix& raw, const FeatureMatrix& got, const auto& info, const auto& mean,
                          const auto& scale) {
      ASSERT_EQ(got.rows(), raw.rows());
      ASSERT_EQ(got.cols(), raw.cols());
      for (Eigen::Index r = 0; r < raw.rows(); ++r) {
        for (Eigen::Index c = 0; c < raw.cols(); ++c) {
          const auto f = static_cast<std::size_t>(c);
          const float t = transform_value(info[f].transform, raw(r, c));
          const float want = std::isnan(t)
                                 ? 0.0f
                                 : std::clamp((t - mean[f]) * (1.0f / scale[f]), -Normaliser::kClip, Normaliser::kClip);
          const float have = got(r, c);
          EXPECT_EQ(std::memcmp(&want, &have, sizeof want), 0) << "row " << r << " feature " << info[f].name << ": raw "
                                                               << raw(r, c) << " want " << want << " got " << have;
        }
      }
    };
    expect_bits(g.node_features, x, node_feature_info(), norm.node_mean, norm.node_scale);
    expect_bits(g.edge_features, xe, edge_feature_info(), norm.edge_mean, norm.edge_scale);
  }
}

// Inference (GraphSage::score: transposed weights, fused edge head) against the training forward pass it must equal
// up to float rounding, on graphs with an isolated node and on a shape whose edge width is not a multiple of 4.
TEST(GraphSage, ScoreMatchesTheTrainingForwardPass) {
  Rng rng(23);
  for (const GraphSage::Shape shape : {GraphSage::Shape{64, 32}, GraphSage::Shape{6, 5}}) {
    for (int round = 0; round < 3; ++round) {
      LabelledWindow w = synthetic_window(SyntheticConfig{}, rng);
      Graph& g = w.graph;
      g.offsets.push_back(g.offsets.back());  // an isolated node: empty aggregations
      g.node_features.conservativeResize(g.node_features.rows() + 1, Eigen::NoChange);
      g.node_features.row(g.node_features.rows() - 1).setConstant(0.5f);
      ASSERT_TRUE(g.validate().ok());
      const Graph* graphs[] = {&g};
      const GraphSage model = GraphSage::initialise(shape, Normaliser::fit(graphs), 100 + round);
      // Biases start at 0; give them values so their placement is tested too.
      std::vector<float> params(model.parameters().begin(), model.parameters().end());
      for (float& p : params) p += static_cast<float>(rng.normal(0, 0.1));
      const GraphSage perturbed = GraphSage::from_parameters(shape, model.normaliser(), params).value();

      for (const detail::Isa isa : runnable_isas()) {
        const ForceIsa force(isa);
        SCOPED_TRACE(isa == detail::Isa::kBaseline ? "baseline" : "avx2+fma");
        const Scores s = perturbed.score(g);
        Mat<float> x, xe;
        perturbed.normaliser().apply(g, x, xe);
        const std::vector<std::int32_t> sources = g.sources();
        detail::Activations<float> act;
        detail::forward(perturbed.layout(), perturbed.parameters().data(),
                        detail::Inputs<float>{&x, &xe, g.offsets, g.targets, sources}, act);
        ASSERT_EQ(s.node.size(), g.num_nodes());
        ASSERT_EQ(s.edge.size(), g.num_edges());
        for (std::size_t v = 0; v < s.node.size(); ++v) {
          EXPECT_NEAR(s.node[v], sigmoid(act.node_logit(static_cast<Eigen::Index>(v))), 2e-6) << "node " << v;
        }
        for (std::size_t e = 0; e < s.edge.size(); ++e) {
          EXPECT_NEAR(s.edge[e], sigmoid(act.edge_logit(static_cast<Eigen::Index>(e))), 2e-6) << "entry " << e;
        }
      }
    }
  }
}

// The AVX2 product against a double-precision oracle, on shapes that exercise every tail (rows not a multiple of the
// 6-row block, widths not a multiple of 8 or 16), with and without bias and ReLU, and row strides wider than a row.
TEST(InferenceKernels, Avx2ProductMatchesANaiveProduct) {
  if (!detail::cpu_has_avx2_fma()) GTEST_SKIP() << "no AVX2 + FMA on this CPU";
  Rng rng(5);
  for (const std::size_t rows : {1u, 5u, 6u, 13u}) {
    for (const std::size_t depth : {1u, 7u, 51u}) {
      for (const std::size_t n : {1u, 3u, 8u, 12u, 16u, 21u, 64u}) {
        for (const bool with_bias : {false, true}) {
          const std::size_t lda = depth + 3, ldb = n + 2, ldc = n + 5;
          std::vector<float> a(rows * lda), b(depth * ldb), bias(n), c(rows * ldc, -7.0f);
          for (float& v : a) v = static_cast<float>(rng.normal(0, 1));
          for (float& v : b) v = static_cast<float>(rng.normal(0, 1));
          for (float& v : bias) v = static_cast<float>(rng.normal(0, 1));
          const bool relu = with_bias;
          detail::gemm_avx2(a.data(), lda, rows, depth, b.data(), ldb, n, with_bias ? bias.data() : nullptr, relu,
                            c.data(), ldc);
          for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t j = 0; j < ldc; ++j) {
              if (j >= n) {
                EXPECT_EQ(c[r * ldc + j], -7.0f) << "wrote past the row at " << r << "," << j;
                continue;
              }
              double want = with_bias ? bias[j] : 0.0, mag = std::abs(want);
              for (std::size_t k = 0; k < depth; ++k) {
                want += static_cast<double>(a[r * lda + k]) * b[k * ldb + j];
                mag += std::abs(static_cast<double>(a[r * lda + k]) * b[k * ldb + j]);
              }
              if (relu) want = std::max(want, 0.0);
              // Float summation: at most depth + 1 roundings of a sum no larger than mag.
              EXPECT_NEAR(c[r * ldc + j], want, 1.2e-7 * static_cast<double>(depth + 1) * mag + 1e-30)
                  << rows << "x" << depth << "x" << n << " at " << r << "," << j;
            }
          }
        }
      }
    }
  }
}

// The vectorised exp against std::exp at 2 ulp (relative 2.4e-7) over the whole clamped range, and the vectorised
// sigmoid against ml::sigmoid at 1e-7 absolute, NaN kept.
TEST(InferenceKernels, Avx2ExpAndSigmoidMatchTheScalarLibrary) {
  if (!detail::cpu_has_avx2_fma()) GTEST_SKIP() << "no AVX2 + FMA on this CPU";
  std::vector<float> xs;
  for (float x = -87.0f; x <= 88.5f; x += 0.0137f) xs.push_back(x);
  for (const float x : {0.0f, -0.0f, 1e-8f, -1e-8f, 0.34657359f, -0.34657359f, 88.7f, -87.3f}) xs.push_back(x);
  while (xs.size() % 8 != 0) xs.push_back(1.0f);
  double worst = 0;
  for (std::size_t i = 0; i < xs.size(); i += 8) {
    float got[8];
    detail::exp8_avx2_for_test(xs.data() + i, got);
    for (std::size_t l = 0; l < 8; ++l) {
      const double want = std::exp(static_cast<double>(xs[i + l]));
      const double rel = std::abs(got[l] - want) / want;
      worst = std::max(worst, rel);
      EXPECT_LE(rel, 2.4e-7) << "exp(" << xs[i + l] << ") = " << got[l] << ", want " << want;
    }
  }
  RecordProperty("worst_exp_relative_error", std::to_string(worst));

  std::vector<float> logits;
  for (float x = -100.0f; x <= 100.0f; x += 0.0173f) logits.push_back(x);
  logits.push_back(std::numeric_limits<float>::quiet_NaN());
  logits.push_back(std::numeric_limits<float>::infinity());
  logits.push_back(-std::numeric_limits<float>::infinity());  // 3 past a multiple of 8 or not: the tail is masked
  std::vector<float> s = logits;
  detail::sigmoid_avx2(s.data(), s.size(), 0.25f);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const float want = sigmoid(logits[i] + 0.25f);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(s[i])) << "sigmoid(NaN) = " << s[i];
    } else {
      EXPECT_NEAR(s[i], want, 1e-7) << "sigmoid(" << logits[i] << " + 0.25)";
    }
  }
}

// Both instruction sets on a graph of the benchmark's size: the same scores up to float rounding.
TEST(InferenceKernels, BaselineAndAvx2PathsAgreeOnALargeGraph) {
  if (!detail::cpu_has_avx2_fma()) GTEST_SKIP() << "no AVX2 + FMA on this CPU";
  Rng rng(8);
  SyntheticConfig big;
  big.nodes = 1000;
  big.degree = 8;
  const LabelledWindow w = synthetic_window(big, rng);
  const Graph* graphs[] = {&w.graph};
  const GraphSage model = GraphSage::initialise({}, Normaliser::fit(graphs), 3);
  std::vector<float> params(model.parameters().begin(), model.parameters().end());
  for (float& p : params) p += static_cast<float>(rng.normal(0, 0.1));
  const GraphSage perturbed = GraphSage::from_parameters({}, model.normaliser(), params).value();
  Scores base, avx;
  {
    const ForceIsa force(detail::Isa::kBaseline);
    base = perturbed.score(w.graph);
  }
  {
    const ForceIsa force(detail::Isa::kAvx2Fma);
    avx = perturbed.score(w.graph);
  }
  ASSERT_EQ(base.node.size(), avx.node.size());
  ASSERT_EQ(base.edge.size(), avx.edge.size());
  for (std::size_t v = 0; v < base.node.size(); ++v) EXPECT_NEAR(base.node[v], avx.node[v], 2e-6) << "node " << v;
  for (std::size_t e = 0; e < base.edge.size(); ++e) EXPECT_NEAR(base.edge[e], avx.edge[e], 2e-6) << "entry " << e;
}

std::vector<LabelledWindow> windows(std::size_t count, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<LabelledWindow> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(synthetic_window(SyntheticConfig{}, rng));
  return out;
}

TEST(GraphSageTraining, SameSeedSameBytesOtherSeedOtherBytes) {
  const auto data = windows(6, 1);
  TrainConfig config;
  config.shape = {16, 8};
  config.epochs = 3;
  config.seed = 42;
  const auto a = train(data, config), b = train(data, config);
  config.seed = 43;
  const auto c = train(data, config);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  const auto pa = a->model.parameters(), pb = b->model.parameters(), pc = c->model.parameters();
  ASSERT_EQ(pa.size(), pb.size());
  EXPECT_EQ(std::memcmp(pa.data(), pb.data(), pa.size_bytes()), 0);
  EXPECT_NE(std::memcmp(pa.data(), pc.data(), pa.size_bytes()), 0);
}

TEST(GraphSageTraining, LearnsPlantedFaultsAndGeneralisesToHeldOutWindows) {
  const auto train_set = windows(40, 100), test_set = windows(20, 200);
  TrainConfig config;
  config.shape = {32, 16};
  config.epochs = 25;
  config.learning_rate = 1e-2f;
  const auto trained = train(train_set, config);
  ASSERT_TRUE(trained.ok()) << trained.status().to_string();
  const auto& loss = trained->report.epoch_loss;
  EXPECT_LT(loss.back(), 0.25 * loss.front());
  const Evaluation ev = evaluate(trained->model, test_set);
  EXPECT_GT(ev.node.f1(), 0.9) << "node tp " << ev.node.tp << " fp " << ev.node.fp << " fn " << ev.node.fn;
  EXPECT_GT(ev.edge.f1(), 0.9) << "edge tp " << ev.edge.tp << " fp " << ev.edge.fp << " fn " << ev.edge.fn;
}

// Calibration picks the F1-best thresholds on the windows it is given and folds them into the output biases: the
// calibrated model flagging at 0.5 flags exactly what the raw model flagged at those thresholds.
TEST(GraphSageTraining, CalibrationFoldsTheBestThresholdsIntoTheModel) {
  const auto data = windows(12, 300);
  TrainConfig config;
  config.shape = {16, 8};
  config.epochs = 4;
  auto trained = train(data, config);
  ASSERT_TRUE(trained.ok());
  const GraphSage raw = trained->model;
  // Per entry, so that evaluate() (which counts per entry) is its oracle.
  const Calibration cal = calibrate(trained->model, data, LinkCounting::kPerEntry);
  EXPECT_GE(cal.node_threshold, 0.01f);
  EXPECT_LE(cal.edge_threshold, 0.999f);
  const Evaluation before_node = evaluate(raw, data, cal.node_threshold);
  const Evaluation before_edge = evaluate(raw, data, cal.edge_threshold);
  const Evaluation after = evaluate(trained->model, data, 0.5f);
  EXPECT_NEAR(after.node.f1(), cal.node_f1, 1e-9);
  EXPECT_NEAR(after.edge.f1(), cal.edge_f1, 1e-9);
  EXPECT_EQ(after.node.tp + after.node.fp, before_node.node.tp + before_node.node.fp);
  EXPECT_EQ(after.edge.tp + after.edge.fp, before_edge.edge.tp + before_edge.edge.fp);
  // Never worse than the uncalibrated 0.5 on the windows it saw.
  const Evaluation half = evaluate(raw, data, 0.5f);
  EXPECT_GE(cal.node_f1, half.node.f1());
  EXPECT_GE(cal.edge_f1, half.edge.f1());
}

// A model whose edge score is sigmoid(relu(loss_in) - 3) and whose node score is sigmoid(-3): a link's two entries
// can be given any scores (above 0.047) through their loss_in.
GraphSage edge_score_model() {
  const GraphSage::Shape shape{2, 1};
  const auto layout = detail::Layout::of(kNodeFeatureCount, kEdgeFeatureCount, shape.hidden, shape.edge_hidden);
  std::vector<float> p(layout.size, 0.0f);
  p[layout.e + index(EdgeFeature::kLossIn)] = 1.0f;
  p[layout.q] = 1.0f;
  p[layout.d] = -3.0f;
  p[layout.bn] = -3.0f;
  return GraphSage::from_parameters(shape, Normaliser::identity(), p).value();
}

// Detection is scored per undirected link, flagged when either entry is (DESIGN.md). A faulty link whose entries
// disagree (one sees the loss, the other does not) next to a healthy link whose entries both look mildly lossy:
// per entry no threshold separates them, per undirected link (the larger entry score) one does, and calibration
// picks it.
TEST(GraphSageTraining, CalibrationCountsLinksAsTheSimulatorScoresThem) {
  const std::vector<std::pair<std::int32_t, std::int32_t>> links = {{0, 1}, {2, 3}};
  LabelledWindow w{Graph::from_links(4, links), std::vector<float>(4, 0.0f), {}};
  const std::vector<std::int32_t> rev = reverse_edges(w.graph);
  w.edge_labels.assign(w.graph.num_edges(), 0.0f);
  for (std::size_t e = 0; e < w.graph.num_edges(); ++e) {
    const bool faulty_link = w.graph.sources()[e] <= 1;
    const bool seeing_end = w.graph.sources()[e] == 0;
    w.graph.edge_features(static_cast<Eigen::Index>(e), static_cast<Eigen::Index>(index(EdgeFeature::kLossIn))) =
        faulty_link ? (seeing_end ? 6.0f : 0.5f) : 3.5f;  // scores 0.953 / 0.076 on the faulty link, 0.622 healthy
    w.edge_labels[e] = faulty_link ? 1.0f : 0.0f;
  }
  ASSERT_TRUE(w.graph.validate().ok());
  const std::vector<LabelledWindow> data(3, w);

  GraphSage per_entry = edge_score_model();
  const Calibration entry_cal = calibrate(per_entry, data, LinkCounting::kPerEntry);
  EXPECT_LT(entry_cal.edge_f1, 0.7);  // the best per-entry F1 is 2/3

  GraphSage model = edge_score_model();
  const Calibration cal = calibrate(model, data);  // kUndirected by default
  EXPECT_DOUBLE_EQ(cal.edge_f1, 1.0);
  EXPECT_GT(cal.edge_threshold, 0.622f);
  EXPECT_LE(cal.edge_threshold, 0.953f);
  EXPECT_FLOAT_EQ(cal.node_threshold, 0.5f);  // no positive nodes: nothing beats 0.5, the bias is untouched
  // Folded into the model: at 0.5 the faulty link is flagged (through its seeing end), the healthy one is not.
  const Scores s = model.score(w.graph);
  for (std::size_t e = 0; e < w.graph.num_edges(); ++e) {
    const float link_score = std::max(s.edge[e], s.edge[static_cast<std::size_t>(rev[e])]);
    EXPECT_EQ(link_score >= 0.5f, w.edge_labels[e] > 0.5f) << "entry " << e << " score " << s.edge[e];
  }
}

TEST(GraphSageTraining, RefusesLabelsOfTheWrongSize) {
  auto data = windows(1, 9);
  data[0].edge_labels.pop_back();
  const auto r = train(data, TrainConfig{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("window 0"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace meshloop::ml
