// Synthetic labelled windows: a seeded toy generator for unit tests, the benchmark and smoke runs of training.
//
// It is NOT the simulator and its numbers say nothing about detection quality on a mesh: the fault signatures are
// written here by hand. Real training data comes from simulator runs (`meshloop train`).
// Faults it plants (labels follow DESIGN.md: the faulty element is positive): degraded link (loss and RTT up on both
// entries), flapping link (young, lossy), overloaded node (CPU, memory, queue drops), gray hole (transit data lost,
// links look fine), crashed node (stale telemetry; its links down, labelled as the node's fault only).
// Thread-safety: pure functions of the Rng passed in.
#pragma once

#include <cstddef>

#include "core/rng.h"
#include "ml/graph.h"
#include "ml/train.h"

namespace meshloop::ml {

// A connected mesh-like graph: a ring plus random chords up to about `degree` neighbours per node, features zero.
// REQUIRES: n >= 3.
Graph random_mesh(std::size_t n, double degree, Rng& rng);

struct SyntheticConfig {
  std::size_t nodes = 40;
  double degree = 6;
  double node_fault_probability = 0.05;  // per node: overloaded, gray hole or crashed
  double link_fault_probability = 0.03;  // per undirected link: degraded or flapping
  double background_loss = 0.01;         // the healthy regime's mean hello loss (shift it for a regime change)
  double background_cpu = 0.3;
};

// Fills healthy-regime features into every node and entry of `graph`, then plants faults and labels them.
LabelledWindow synthetic_window(Graph graph, const SyntheticConfig& config, Rng& rng);
LabelledWindow synthetic_window(const SyntheticConfig& config, Rng& rng);

}  // namespace meshloop::ml
