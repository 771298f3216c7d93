// sim telemetry: what the MAPE-K Monitor would read about every node and link, produced by the simulator's models
// over fixed observation windows, with the ground-truth label of every element-window (DESIGN.md's scoring windows:
// 5 s, a window positive when a fault covers at least half of it).
//
// Off unless RunOptions::on_telemetry is set: a run without it counts nothing extra (its hot path reads one null
// pointer per transmission) and its report is unchanged. With it, at the end of each window [k w, (k+1) w) the world
// fills an ml::LabelledWindow: the whole mesh as one graph (node index = id - 1, one CSR entry per port, in port
// order, i.e. neighbours by ascending id), the ml feature schema (ml/features.h) per node and per entry, and labels.
//
// Models (parameters in TelemetryParams):
//   radio      each link has a base SNR (rgg: falling with distance / radius; other topologies: seeded uniform). The
//              link's current loss p (background, faults, regime) caps it through a logistic packet-error curve,
//              snr = min(base, snr50 + slope * ln((1 - p) / p)); a link that is down hears nothing (snr -5 dB).
//              RSSI = noise floor + SNR. Both get seeded measurement noise.
//   node load  CPU = a per-node base + a cost per packet handled per second + noise; memory = a per-node base +
//              noise; an overloaded node's CPU and memory move towards 0.92..0.99 and +0.35 by the share of the window
//              it was overloaded. Queue drops = its data dropped by overload + packets refused by its full link
//              queues, over the packets it sent.
//   measured   hello loss both ways (control packets sent on a direction vs delivered by the link), one-way delays
//              (RTT = the two directions' means, jitter = their standard deviations), link age (since the link or an
//              end last changed state), up (ground truth), data throughput per direction, forward loss (transit data
//              a gray hole dropped / transit data it was handed, NaN when it forwarded nothing: what a watchdog
//              neighbour overhearing it would measure), route computations per second (from the agent, NaN if it
//              does not say), telemetry age (0..1 s for a live node, time since the crash for a crashed one).
// Labels: node_crash, gray_hole, overload -> the node; link_cut, loss_burst, flapping, degradation -> both entries
// of the link; partition -> both entries of every cut link; regime_change -> nothing (a shift, not a fault).
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "core/time.h"
#include "ml/train.h"
#include "sim/faults.h"

namespace meshloop::sim {

struct TelemetryParams {
  Duration window = seconds(5);
  double noise_floor_dbm = -95.0;
  double snr50_db = 6.0;        // SNR at which half the packets are lost
  double snr_slope_db = 1.5;    // width of the logistic packet-error curve
  double snr_noise_db = 1.0;    // measurement noise (standard deviation) on SNR and RSSI
  double cpu_per_pps = 0.0005;  // CPU share per packet per second handled (sent + received)
  double cpu_noise = 0.02;
  double memory_noise = 0.01;
};

struct TelemetryWindow {
  TimePoint start{}, end{};
  ml::LabelledWindow data;
};

// The SNR a link of base SNR `base_snr_db` shows at loss `loss` (no noise): min(base, snr50 + slope ln((1-p)/p)).
double radio_snr_db(double base_snr_db, double loss, const TelemetryParams& p);

// Share of [start, end) that `f` covers.
double covered_share(const Fault& f, TimePoint start, TimePoint end);

// Labels of one window: node_labels (n) and edge_labels (one per CSR entry) set to 0 or 1 from `faults`.
// `dir_entry[2e]` / `dir_entry[2e + 1]` are the CSR entries of edge e's directions (smaller id first, then back).
void label_window(const std::vector<Fault>& faults, TimePoint start, TimePoint end,
                  const std::vector<std::int32_t>& dir_entry, ml::LabelledWindow& out);

}  // namespace meshloop::sim
