//===- FixtureModel.cpp - Test fixture implementing the model ABI ---------===//
//
// TEST FIXTURE, not a model. This library implements rill_model_abi.h in
// plain C++ so that librill, rill-run and the Python binding can be tested
// before real compiled models exist. Its logits are a deterministic function
// of exactly which stream positions (and which token ids) a query may see
// under docs/streaming.md: the cache slots that the slot rule marks as
// full, plus the chunk's own earlier tokens, filtered by
// `p <= t and (p < sinks or t - p < window)`.
//
// Each cache slot stores the stream position and token id it was written
// with. Before reading a slot the fixture derives from the step arguments
// which position the slot must hold and returns FIXTURE_ERROR_STALE_SLOT if
// the cache disagrees, so any slip in the runtime's bookkeeping (positions,
// resets, per-sequence cache rows, eviction) fails the step.
//
// Logits layout, for a query at stream position t that sees the set V of
// (position, token) pairs; every probe is -(1 + value), so probes never win
// an argmax:
//   [0] |V|              [1] sum of positions   [2] sum of token ids
//   [3] t                [4] visible sinks      [5] min position in V
//   [6] max position     [7] a 20-bit hash of V
//   [8..vocab) a toy distribution: one preferred next token (logit 5) and
//   hashed values in [0, 1) elsewhere, both depending on V, so greedy
//   generation and perplexity depend on what the cache shows.
//
// Variants are built from this file with compile definitions:
//   FIXTURE_MAX_CHUNK   max_chunk in the metadata (default 0, any)
//   FIXTURE_ABI_VERSION abi_version in the metadata
//   FIXTURE_NOT_STREAMING  is_streaming = 0 and no rill_model_step
//   FIXTURE_NO_METADATA    no rill_model_metadata_get at all
//   FIXTURE_POISON_TOKEN   a token id that makes rill_model_step fail
//
//===----------------------------------------------------------------------===//

#include "rill/Runtime/rill_model_abi.h"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#ifndef FIXTURE_MAX_CHUNK
#define FIXTURE_MAX_CHUNK 0
#endif
#ifndef FIXTURE_ABI_VERSION
#define FIXTURE_ABI_VERSION RILL_MODEL_ABI_VERSION
#endif

#define FIXTURE_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

constexpr int64_t kVocab = 512;
constexpr int64_t kLayers = 2;
constexpr int64_t kKvHeads = 2;
constexpr int64_t kHeadDim = 4;
constexpr int64_t kValueDim = 3;
constexpr int64_t kMaxCapacity = 1024;
constexpr int64_t kProbes = 8;

// Error codes of rill_model_step.
[[maybe_unused]] constexpr int32_t kErrorArguments = 1;
[[maybe_unused]] constexpr int32_t kErrorStaleSlot = 2;
[[maybe_unused]] constexpr int32_t kErrorPoison = 3;

std::atomic<int32_t> gThreads{0};

const int64_t kOutputShape[] = {-1, -1, kVocab};
const int64_t kInputShape[] = {-1, -1};
const rill_tensor_info kInputs[] = {{"input_ids", RILL_DTYPE_I64, 2, kInputShape}};
const rill_tensor_info kOutputs[] = {{"logits", RILL_DTYPE_F32, 3, kOutputShape}};

[[maybe_unused]] const rill_model_metadata kMetadata = {
    /*abi_version=*/FIXTURE_ABI_VERSION,
    /*model_name=*/"rill_fixture_model",
    /*source_file=*/"(test fixture, no ONNX file)",
#ifdef FIXTURE_NOT_STREAMING
    /*is_streaming=*/0,
#else
    /*is_streaming=*/1,
#endif
    /*vocab_size=*/kVocab,
    /*num_layers=*/kLayers,
    /*num_kv_heads=*/kKvHeads,
    /*head_dim=*/kHeadDim,
    /*value_dim=*/kValueDim,
    /*max_capacity=*/kMaxCapacity,
    /*max_chunk=*/FIXTURE_MAX_CHUNK,
    /*default_sinks=*/4,
    /*default_capacity=*/64,
    /*trained_length=*/512,
    /*mask_pattern=*/"sinks(4)|window(60)",
    /*position_policy=*/"rotary",
    /*default_policy=*/"sinks",
    /*num_inputs=*/1,
    kInputs,
    /*num_outputs=*/1,
    kOutputs,
};

uint64_t mix(uint64_t value) {
  value += 0x9E3779B97F4A7C15ull;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
  return value ^ (value >> 31);
}

// Stores integers bit for bit in float cache elements; the fixture never
// does arithmetic on them.
void storeInt(float *slot, int32_t value) { std::memcpy(slot, &value, 4); }
int32_t loadInt(const float *slot) {
  int32_t value;
  std::memcpy(&value, slot, 4);
  return value;
}

// The stream position in slot `slot` before a chunk that starts at `s`,
// or -1 when it is empty (the slot rule of docs/streaming.md).
[[maybe_unused]] int64_t slotContent(int64_t slot, int64_t s, int64_t sinks, int64_t window) {
  if (slot < sinks)
    return slot < s ? slot : -1;
  if (s <= sinks)
    return -1;
  // The largest p < s with p >= sinks and (p - sinks) mod window == slot - sinks.
  int64_t offset = slot - sinks;
  int64_t last = s - 1 - sinks;
  if (last < offset)
    return -1;
  return sinks + last - ((last - offset) % window);
}

struct View {
  int64_t count = 0, sumPositions = 0, sumTokens = 0, sinksSeen = 0;
  int64_t minPosition = INT64_MAX, maxPosition = -1;
  uint64_t hash = 0;

  void add(int64_t position, int64_t token, int64_t sinks) {
    ++count;
    sumPositions += position;
    sumTokens += token;
    sinksSeen += position < sinks;
    minPosition = position < minPosition ? position : minPosition;
    maxPosition = position > maxPosition ? position : maxPosition;
    hash += mix(static_cast<uint64_t>(position) * 1000003u + static_cast<uint64_t>(token));
  }
};

size_t cacheIndex(int64_t b, int64_t head, int64_t slot, int64_t capacity, int64_t dim) {
  return static_cast<size_t>(((b * kKvHeads + head) * capacity + slot) * dim);
}

// Checks that every layer and head of slot `slot` contains `position` and
// returns its token id, or -1 on a mismatch.
[[maybe_unused]] int64_t readSlot(const rill_step_args &args, int64_t b, int64_t slot, int64_t position) {
  int64_t token = -1;
  for (int64_t layer = 0; layer < kLayers; ++layer) {
    for (int64_t head = 0; head < kKvHeads; ++head) {
      const float *key = args.key_caches[layer] + cacheIndex(b, head, slot, args.capacity, kHeadDim);
      const float *value =
          args.value_caches[layer] + cacheIndex(b, head, slot, args.capacity, kValueDim);
      int64_t stored = int64_t(uint32_t(loadInt(key))) | int64_t(loadInt(key + 1)) << 32;
      if (stored != position || loadInt(key + 3) != layer * 100 + head ||
          loadInt(value + 1) != loadInt(key) || loadInt(value) != loadInt(key + 2) ||
          loadInt(value + 2) != b)
        return -1;
      if (token >= 0 && token != loadInt(key + 2))
        return -1;
      token = loadInt(key + 2);
    }
  }
  return token;
}

[[maybe_unused]] void writeSlot(const rill_step_args &args, int64_t b, int64_t slot, int64_t position,
               int64_t token) {
  for (int64_t layer = 0; layer < kLayers; ++layer) {
    for (int64_t head = 0; head < kKvHeads; ++head) {
      float *key = args.key_caches[layer] + cacheIndex(b, head, slot, args.capacity, kHeadDim);
      float *value = args.value_caches[layer] + cacheIndex(b, head, slot, args.capacity, kValueDim);
      storeInt(key, static_cast<int32_t>(position & 0xFFFFFFFF));
      storeInt(key + 1, static_cast<int32_t>(position >> 32));
      storeInt(key + 2, static_cast<int32_t>(token));
      storeInt(key + 3, static_cast<int32_t>(layer * 100 + head));
      storeInt(value, static_cast<int32_t>(token));
      storeInt(value + 1, static_cast<int32_t>(position & 0xFFFFFFFF));
      storeInt(value + 2, static_cast<int32_t>(b));
    }
  }
}

[[maybe_unused]] void writeLogits(const View &view, int64_t query, int64_t queryToken, float *row) {
  row[0] = -1.0f - float(view.count);
  row[1] = -1.0f - float(view.sumPositions);
  row[2] = -1.0f - float(view.sumTokens);
  row[3] = -1.0f - float(query);
  row[4] = -1.0f - float(view.sinksSeen);
  row[5] = -1.0f - float(view.minPosition);
  row[6] = -1.0f - float(view.maxPosition);
  row[7] = -1.0f - float(view.hash & 0xFFFFF);

  int64_t preferred =
      kProbes + int64_t((uint64_t(queryToken) * 31 + uint64_t(view.count) * 7 +
                         uint64_t(view.sumTokens)) %
                        uint64_t(kVocab - kProbes));
  for (int64_t v = kProbes; v < kVocab; ++v)
    row[v] = float(mix(view.hash ^ uint64_t(v)) % 1000) / 1000.0f;
  row[preferred] = 5.0f;
}

[[maybe_unused]] bool validArguments(const rill_step_args *args) {
  if (!args || args->batch < 1 || args->chunk < 1 || !args->input_ids ||
      !args->positions || !args->key_caches || !args->value_caches || !args->logits)
    return false;
  if (args->capacity < 1 || args->capacity > kMaxCapacity || args->sinks < 0 ||
      args->sinks >= args->capacity)
    return false;
  if (FIXTURE_MAX_CHUNK > 0 && args->chunk > FIXTURE_MAX_CHUNK)
    return false;
  for (int64_t b = 0; b < args->batch; ++b)
    if (args->positions[b] < 0)
      return false;
  return true;
}

} // namespace

#ifndef FIXTURE_NO_METADATA
FIXTURE_EXPORT const rill_model_metadata *rill_model_metadata_get(void) { return &kMetadata; }
#endif

FIXTURE_EXPORT void rill_model_set_num_threads(int32_t threads) { gThreads = threads; }

#ifndef FIXTURE_NOT_STREAMING
FIXTURE_EXPORT int32_t rill_model_step(const rill_step_args *args) {
  if (!validArguments(args))
    return kErrorArguments;

  const int64_t sinks = args->sinks;
  const int64_t window = args->capacity - sinks;
  for (int64_t b = 0; b < args->batch; ++b) {
    const int64_t s = args->positions[b];
    const int64_t *ids = args->input_ids + b * args->chunk;

#ifdef FIXTURE_POISON_TOKEN
    for (int64_t j = 0; j < args->chunk; ++j)
      if (ids[j] == FIXTURE_POISON_TOKEN)
        return kErrorPoison;
#endif

    // Positions held by the cache before this chunk, and their tokens.
    std::vector<int64_t> cachedPosition(args->capacity), cachedToken(args->capacity);
    for (int64_t slot = 0; slot < args->capacity; ++slot) {
      cachedPosition[slot] = slotContent(slot, s, sinks, window);
      if (cachedPosition[slot] >= 0) {
        cachedToken[slot] = readSlot(*args, b, slot, cachedPosition[slot]);
        if (cachedToken[slot] < 0)
          return kErrorStaleSlot;
      }
    }

    for (int64_t j = 0; j < args->chunk; ++j) {
      const int64_t t = s + j;
      View view;
      for (int64_t slot = 0; slot < args->capacity; ++slot) {
        int64_t p = cachedPosition[slot];
        if (p >= 0 && (p < sinks || t - p < window))
          view.add(p, cachedToken[slot], sinks);
      }
      for (int64_t k = 0; k <= j; ++k) {
        int64_t p = s + k;
        if (p < sinks || t - p < window)
          view.add(p, ids[k], sinks);
      }
      writeLogits(view, t, ids[j], args->logits + (b * args->chunk + j) * kVocab);
    }

    // After attention, the chunk's keys enter their slots in stream order,
    // so of a chunk longer than the window only the last tokens remain.
    for (int64_t j = 0; j < args->chunk; ++j) {
      int64_t p = s + j;
      int64_t slot = p < sinks ? p : sinks + (p - sinks) % window;
      writeSlot(*args, b, slot, p, ids[j]);
    }
  }
  return 0;
}
#endif

// Lets tests observe the last rill_model_set_num_threads value.
FIXTURE_EXPORT int32_t rill_fixture_threads(void) { return gThreads; }
