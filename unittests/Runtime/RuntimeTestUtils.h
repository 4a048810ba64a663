//===- RuntimeTestUtils.h - Helpers shared by the librill tests -*- C++ -*-===//
//
// Paths of the fixture libraries and data files, and the decoder of the
// fixture's probe logits with the visibility that docs/streaming.md
// predicts for each policy, written independently of librill.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_UNITTESTS_RUNTIME_RUNTIMETESTUTILS_H
#define RILL_UNITTESTS_RUNTIME_RUNTIMETESTUTILS_H

#include "rill/Runtime/Runtime.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace rill::test {

inline std::string fixturePath(const std::string &variant = "") {
  return std::string(RILL_FIXTURE_DIR) + "/librill_fixture_model" +
         (variant.empty() ? "" : "_" + variant) + ".so";
}

inline std::string dataPath(const std::string &relative) {
  return std::string(RILL_DATA_DIR) + "/" + relative;
}

constexpr int64_t kFixtureVocab = 512;

/// What a query saw, decoded from the first eight logits of the fixture.
struct Probe {
  int64_t count, sumPositions, sumTokens, query, sinksSeen, minPosition, maxPosition;

  static Probe fromLogits(const float *row) {
    auto value = [&](int i) { return static_cast<int64_t>(std::llround(-row[i] - 1.0f)); };
    return {value(0), value(1), value(2), value(3), value(4), value(5), value(6)};
  }

  bool operator==(const Probe &other) const {
    return count == other.count && sumPositions == other.sumPositions &&
           sumTokens == other.sumTokens && query == other.query &&
           sinksSeen == other.sinksSeen && minPosition == other.minPosition &&
           maxPosition == other.maxPosition;
  }
};

inline std::string describe(const Probe &p) {
  return "count " + std::to_string(p.count) + ", sum(pos) " + std::to_string(p.sumPositions) +
         ", sum(tok) " + std::to_string(p.sumTokens) + ", query " + std::to_string(p.query) +
         ", sinks " + std::to_string(p.sinksSeen) + ", min " + std::to_string(p.minPosition) +
         ", max " + std::to_string(p.maxPosition);
}

/// The probe that the query of stream token `t` must produce under
/// `policy` with `sinks` and `capacity`, given the stream's tokens so far.
inline Probe expectedProbe(rill_policy policy, int64_t sinks, int64_t capacity, int64_t t,
                           const std::vector<int32_t> &stream) {
  std::vector<int64_t> visible; // stream positions
  int64_t window = capacity - sinks;
  switch (policy) {
  case RILL_POLICY_DENSE:
    for (int64_t p = 0; p <= t; ++p)
      visible.push_back(p);
    break;
  case RILL_POLICY_WINDOW:
  case RILL_POLICY_RECOMPUTE:
    for (int64_t p = std::max<int64_t>(0, t - capacity + 1); p <= t; ++p)
      visible.push_back(p);
    break;
  default:
    for (int64_t p = 0; p <= t; ++p)
      if (p < sinks || t - p < window)
        visible.push_back(p);
    break;
  }

  Probe probe{0, 0, 0, 0, 0, INT64_MAX, -1};
  // Recompute runs its window at positions 0.. on a fresh cache.
  int64_t base = policy == RILL_POLICY_RECOMPUTE ? visible.front() : 0;
  int64_t keptSinks = policy == RILL_POLICY_SINKS ? sinks : 0;
  for (int64_t p : visible) {
    int64_t position = p - base;
    ++probe.count;
    probe.sumPositions += position;
    probe.sumTokens += stream[p];
    probe.sinksSeen += position < keptSinks;
    probe.minPosition = std::min(probe.minPosition, position);
    probe.maxPosition = std::max(probe.maxPosition, position);
  }
  probe.query = t - base;
  return probe;
}

/// A deterministic token stream over the fixture's vocabulary.
inline std::vector<int32_t> makeStream(int64_t length, uint32_t seed) {
  std::vector<int32_t> tokens(length);
  uint64_t state = seed * 2654435761u + 1;
  for (int64_t i = 0; i < length; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    tokens[i] = static_cast<int32_t>((state >> 33) % (kFixtureVocab - 20)) + 10;
  }
  return tokens;
}

inline rill_session_options options(rill_policy policy, int64_t capacity = 0,
                                    int64_t sinks = -1, int64_t batch = 1) {
  rill_session_options result;
  rill_session_options_init(&result);
  result.policy = policy;
  result.capacity = capacity;
  result.sinks = sinks;
  result.batch = batch;
  return result;
}

} // namespace rill::test

#endif // RILL_UNITTESTS_RUNTIME_RUNTIMETESTUTILS_H
