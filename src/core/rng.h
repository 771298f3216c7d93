// Seeded, portable random numbers (xoshiro256** seeded through SplitMix64).
//
// Every draw is defined by this code alone (no std:: distributions, whose output differs between standard
// libraries), so a seed gives the same run on every machine. derive() makes independent streams from one seed and a
// stream id: the simulator gives each link its own stream, so protocols under comparison see the same loss draws.
// Thread-safety: none; one Rng per owner.
#pragma once

#include <cstdint>

namespace meshloop {

class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  // An independent stream for (seed, stream): same inputs, same stream, whatever else drew from other streams.
  static Rng derive(std::uint64_t seed, std::uint64_t stream);

  std::uint64_t next_u64();
  // Uniform in [0, 1).
  double uniform();
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi);
  bool bernoulli(double p) { return uniform() < p; }
  // Exponential with the given mean.
  double exponential(double mean);
  // Normal (Box-Muller, one value per call).
  double normal(double mean, double stddev);

 private:
  std::uint64_t s_[4];
};

// SplitMix64 step, exposed for hashing ids into seeds.
std::uint64_t splitmix64(std::uint64_t& state);
std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b);

}  // namespace meshloop
