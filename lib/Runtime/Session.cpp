//===- Session.cpp - Caches, stream positions and cache policies ----------===//
//
// Implements the four cache policies of docs/streaming.md on top of one
// compiled step function. `sinks`, `window` and `dense` keep a persistent
// ring-buffer cache and only choose its geometry (sinks, capacity); the
// slot rule lets the runtime pass nothing but each sequence's stream
// position. `recompute` keeps the last W token ids instead and re-runs them
// from position 0 on a scratch cache for every token.
//
//===----------------------------------------------------------------------===//

#include "Session.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace rill::runtime {

namespace {

// The default number of tokens per rill_model_step call when the library
// accepts any chunk. Long prompts are split into pieces of this size, which
// bounds the scratch logits buffer at step_chunk * vocab floats per sequence.
constexpr int64_t kDefaultStepChunk = 256;

bool policyFromName(const char *name, rill_policy &policy) {
  if (!name)
    return false;
  struct Entry {
    const char *name;
    rill_policy policy;
  };
  static const Entry entries[] = {{"default", RILL_POLICY_DEFAULT},
                                  {"sinks", RILL_POLICY_SINKS},
                                  {"window", RILL_POLICY_WINDOW},
                                  {"dense", RILL_POLICY_DENSE},
                                  {"recompute", RILL_POLICY_RECOMPUTE}};
  for (const Entry &entry : entries) {
    if (std::strcmp(entry.name, name) == 0) {
      policy = entry.policy;
      return true;
    }
  }
  return false;
}

float *allocateFloats(size_t count) {
  return static_cast<float *>(std::calloc(count ? count : 1, sizeof(float)));
}

/// Keeps the compiled step's per-call temporaries in the heap. The step
/// allocates buffers sized by the cache (joined keys, scores) on every call
/// and frees them before it returns. With glibc's default thresholds,
/// buffers above 128 KiB to 32 MiB are mapped and unmapped, or the heap top
/// is trimmed, on every call, so each call pays for page faults and zeroed
/// pages: at a capacity of 4096, stories260K's decode step ran 45% faster
/// without that. Runs once per process, at the first session.
/// NOTE: these malloc parameters are process-wide. Memory that the host
/// program frees is then also kept for reuse (up to 256 MiB above what is in
/// use) instead of being returned to the system.
void keepStepTemporariesInHeap() {
#ifdef __GLIBC__
  static std::once_flag once;
  std::call_once(once, [] {
    constexpr int kThreshold = 256 << 20;
    mallopt(M_MMAP_THRESHOLD, kThreshold);
    mallopt(M_TRIM_THRESHOLD, kThreshold);
  });
#endif
}

} // namespace

Session::Session(std::shared_ptr<Model> model)
    : model_(std::move(model)), meta_(model_->metadata()) {}

Status Session::create(std::shared_ptr<Model> model,
                       const rill_session_options &options,
                       std::unique_ptr<Session> &session) {
  if (!model->metadata().is_streaming)
    return Status(RILL_ERROR_INVALID_MODEL,
                  format("'%s' is not a streaming model (is_streaming = 0), so "
                         "it cannot run a session; compile it with rillc's "
                         "streaming pipeline",
                         model->path().c_str()));

  std::unique_ptr<Session> created(new Session(std::move(model)));
  if (Status status = created->resolveOptions(options); !status.ok())
    return status;
  if (Status status = created->allocate(); !status.ok())
    return status;
  keepStepTemporariesInHeap();
  session = std::move(created);
  return Status::success();
}

Status Session::resolveOptions(const rill_session_options &options) {
  const char *file = model_->path().c_str();

  policy_ = static_cast<rill_policy>(options.policy);
  if (policy_ == RILL_POLICY_DEFAULT) {
    // A library without a (known) default falls back to StreamingLLM.
    if (!policyFromName(meta_.default_policy, policy_) || policy_ == RILL_POLICY_DEFAULT)
      policy_ = RILL_POLICY_SINKS;
  }
  if (policy_ < RILL_POLICY_SINKS || policy_ > RILL_POLICY_RECOMPUTE)
    return Status(RILL_ERROR_INVALID_ARGUMENT,
                  format("option policy = %d is not a rill_policy (expected 0 to 4)",
                         options.policy));

  if (options.batch < 1)
    return Status(RILL_ERROR_INVALID_ARGUMENT,
                  format("option batch = %lld is invalid (expected >= 1)",
                         (long long)options.batch));
  batch_ = options.batch;

  if (options.threads < 0)
    return Status(RILL_ERROR_INVALID_ARGUMENT,
                  format("option threads = %d is invalid (expected >= 0, 0 = the "
                         "library's default)",
                         options.threads));
  threads_ = options.threads;

  // Only StreamingLLM pins sinks; the other policies use sinks = 0.
  if (options.sinks < -1)
    return Status(RILL_ERROR_INVALID_ARGUMENT,
                  format("option sinks = %lld is invalid (expected >= 0, or -1 "
                         "for the default)",
                         (long long)options.sinks));
  if (options.sinks > 0 && policy_ != RILL_POLICY_SINKS)
    return Status(RILL_ERROR_INVALID_ARGUMENT,
                  format("option sinks = %lld applies only to the sinks policy; "
                         "the %s policy keeps no sinks, so pass 0 or -1",
                         (long long)options.sinks, rill_policy_name(policy_)));
  if (options.sinks >= 0)
    sinks_ = options.sinks;
  else
    sinks_ = policy_ == RILL_POLICY_SINKS ? meta_.default_sinks : 0;

  if (options.capacity < 0)
    return Status(RILL_ERROR_INVALID_ARGUMENT,
                  format("option capacity = %lld is invalid (expected >= 1, or 0 "
                         "for the default)",
                         (long long)options.capacity));
  if (options.capacity > meta_.max_capacity)
    return Status(RILL_ERROR_CAPACITY,
                  format("option capacity = %lld exceeds the max_capacity %lld of "
                         "'%s'; choose a capacity <= %lld or recompile the model "
                         "with a larger maximum",
                         (long long)options.capacity, (long long)meta_.max_capacity,
                         file, (long long)meta_.max_capacity));
  if (options.capacity > 0) {
    capacity_ = options.capacity;
  } else if (policy_ == RILL_POLICY_DENSE) {
    capacity_ = meta_.trained_length > 0
                    ? std::min(meta_.trained_length, meta_.max_capacity)
                    : meta_.max_capacity;
  } else {
    capacity_ = meta_.default_capacity;
  }
  if (sinks_ >= capacity_)
    return Status(RILL_ERROR_INVALID_ARGUMENT,
                  format("option sinks = %lld must be smaller than capacity = %lld, "
                         "so that the window keeps at least one slot",
                         (long long)sinks_, (long long)capacity_));

  if (options.step_chunk < 0)
    return Status(RILL_ERROR_CHUNK,
                  format("option step_chunk = %lld is invalid (expected >= 1, or 0 "
                         "for the default)",
                         (long long)options.step_chunk));
  if (meta_.max_chunk > 0 && options.step_chunk > meta_.max_chunk)
    return Status(RILL_ERROR_CHUNK,
                  format("option step_chunk = %lld exceeds the max_chunk %lld of "
                         "'%s'; choose a step_chunk <= %lld",
                         (long long)options.step_chunk, (long long)meta_.max_chunk,
                         file, (long long)meta_.max_chunk));
  if (options.step_chunk > 0)
    stepChunk_ = options.step_chunk;
  else
    stepChunk_ = meta_.max_chunk > 0 ? meta_.max_chunk : kDefaultStepChunk;

  // A recompute step never runs more than its window.
  if (policy_ == RILL_POLICY_RECOMPUTE)
    stepChunk_ = std::min(stepChunk_, capacity_);
  return Status::success();
}

Status Session::allocate() {
  const size_t layers = static_cast<size_t>(meta_.num_layers);
  const size_t vocab = static_cast<size_t>(meta_.vocab_size);
  const size_t batch = static_cast<size_t>(batch_);
  const size_t stepChunk = static_cast<size_t>(stepChunk_);

  // Sizes in floats, with overflow checks: the options come from users.
  size_t perSequenceSlots = 0, keyLayer = 0, valueLayer = 0, keyAll = 0,
         valueAll = 0, logitsCount = 0;
  bool fits =
      checkedMultiply(static_cast<size_t>(meta_.num_kv_heads),
                      static_cast<size_t>(capacity_), perSequenceSlots) &&
      checkedMultiply(perSequenceSlots * batch, static_cast<size_t>(meta_.head_dim),
                      keyLayer) &&
      checkedMultiply(perSequenceSlots * batch, static_cast<size_t>(meta_.value_dim),
                      valueLayer) &&
      checkedMultiply(keyLayer, layers, keyAll) &&
      checkedMultiply(valueLayer, layers, valueAll) &&
      checkedMultiply(batch * stepChunk, vocab, logitsCount) &&
      keyAll < SIZE_MAX / 8 && valueAll < SIZE_MAX / 8 && logitsCount < SIZE_MAX / 8;
  if (!fits)
    return Status(RILL_ERROR_OUT_OF_MEMORY,
                  format("caches of capacity %lld for batch %lld do not fit in "
                         "memory; choose a smaller capacity or batch",
                         (long long)capacity_, (long long)batch_));

  size_t historyCount = policy_ == RILL_POLICY_RECOMPUTE ? batch * capacity_ : 0;
  memoryBytes_ = (keyAll + valueAll + logitsCount) * sizeof(float) +
                 batch * stepChunk * sizeof(int64_t) + batch * sizeof(int64_t) +
                 historyCount * sizeof(int32_t);

  keys_.reset(allocateFloats(keyAll));
  values_.reset(allocateFloats(valueAll));
  scratchLogits_.reset(allocateFloats(logitsCount));
  if (!keys_ || !values_ || !scratchLogits_)
    return Status(RILL_ERROR_OUT_OF_MEMORY,
                  format("cannot allocate %zu bytes for the caches of capacity "
                         "%lld and batch %lld; choose a smaller capacity or batch",
                         memoryBytes_, (long long)capacity_, (long long)batch_));

  keyLayerFloats_ = keyLayer;
  valueLayerFloats_ = valueLayer;
  keyPointers_.resize(layers);
  valuePointers_.resize(layers);
  for (size_t layer = 0; layer < layers; ++layer) {
    keyPointers_[layer] = keys_.get() + layer * keyLayer;
    valuePointers_[layer] = values_.get() + layer * valueLayer;
  }
  sliceKeys_.resize(layers);
  sliceValues_.resize(layers);

  ids_.assign(batch * stepChunk, 0);
  stepPositions_.assign(batch, 0);
  positions_.assign(batch, 0);
  history_.assign(historyCount, 0);
  return Status::success();
}

rill_session_info Session::info() const {
  rill_session_info info;
  info.policy = policy_;
  info.threads = threads_;
  info.sinks = sinks_;
  info.capacity = capacity_;
  info.window = capacity_ - sinks_;
  info.batch = batch_;
  info.step_chunk = stepChunk_;
  info.vocab_size = meta_.vocab_size;
  info.memory_bytes = memoryBytes_;
  return info;
}

Status Session::checkTokens(const int32_t *tokens, int64_t chunk) const {
  for (int64_t b = 0; b < batch_; ++b) {
    for (int64_t j = 0; j < chunk; ++j) {
      int32_t token = tokens[b * chunk + j];
      if (token < 0 || token >= meta_.vocab_size)
        return Status(RILL_ERROR_TOKEN_OUT_OF_RANGE,
                      format("token id %d at [sequence %lld, index %lld] is out of "
                             "range for '%s' (expected 0 <= id < vocab_size = %lld); "
                             "check that the tokenizer matches the model",
                             token, (long long)b, (long long)j,
                             model_->path().c_str(), (long long)meta_.vocab_size));
    }
  }
  return Status::success();
}

Status Session::checkDenseRoom(int64_t chunk) const {
  for (int64_t b = 0; b < batch_; ++b) {
    if (positions_[b] + chunk > capacity_)
      return Status(RILL_ERROR_STREAM_FULL,
                    format("the dense policy's cache is full: sequence %lld has "
                           "seen %lld tokens and %lld more would exceed capacity "
                           "%lld; reset the sequence, choose a larger capacity "
                           "(at most %lld) or use the sinks or window policy",
                           (long long)b, (long long)positions_[b], (long long)chunk,
                           (long long)capacity_, (long long)meta_.max_capacity));
  }
  return Status::success();
}

Status Session::feed(const int32_t *tokens, int64_t batch, int64_t chunk,
                     float *logits) {
  if (!tokens)
    return Status(RILL_ERROR_INVALID_ARGUMENT, "rill_session_feed: tokens is NULL");
  if (batch != batch_)
    return Status(RILL_ERROR_CHUNK,
                  format("rill_session_feed: batch = %lld, but the session was "
                         "created with batch = %lld",
                         (long long)batch, (long long)batch_));
  if (chunk < 1)
    return Status(RILL_ERROR_CHUNK,
                  format("rill_session_feed: chunk = %lld is invalid (expected "
                         ">= 1 tokens per sequence)",
                         (long long)chunk));

  if (Status status = checkTokens(tokens, chunk); !status.ok())
    return status;
  if (policy_ == RILL_POLICY_DENSE) {
    if (Status status = checkDenseRoom(chunk); !status.ok())
      return status;
  }

  consumed_ = 0;
  model_->applyThreads(threads_);
  if (policy_ == RILL_POLICY_RECOMPUTE)
    return feedRecompute(tokens, chunk, logits);
  return feedCached(tokens, chunk, logits);
}

Status Session::feedCached(const int32_t *tokens, int64_t chunk, float *logits) {
  const int64_t vocab = meta_.vocab_size;

  for (int64_t start = 0; start < chunk; start += stepChunk_) {
    int64_t length = std::min(stepChunk_, chunk - start);
    for (int64_t b = 0; b < batch_; ++b) {
      std::copy(tokens + b * chunk + start, tokens + b * chunk + start + length,
                ids_.data() + b * length);
      stepPositions_[b] = positions_[b];
    }

    // The step writes [batch, length, vocab]; that is a contiguous part of
    // the caller's [batch, chunk, vocab] only for batch 1 or a whole chunk.
    bool direct = logits && (batch_ == 1 || length == chunk);
    float *out = direct ? logits + start * vocab : scratchLogits_.get();
    if (Status status = step(0, batch_, length, capacity_, sinks_, out); !status.ok())
      return status;

    if (logits && !direct) {
      for (int64_t b = 0; b < batch_; ++b)
        std::memcpy(logits + (b * chunk + start) * vocab,
                    scratchLogits_.get() + b * length * vocab,
                    sizeof(float) * length * vocab);
    }
    for (int64_t b = 0; b < batch_; ++b)
      positions_[b] += length;
    consumed_ += length;
  }
  return Status::success();
}

Status Session::feedRecompute(const int32_t *tokens, int64_t chunk, float *logits) {
  const int64_t window = capacity_;

  for (int64_t j = 0; j < chunk; ++j) {
    bool sameLength = true;
    int64_t length0 = std::min(positions_[0] + 1, window);
    for (int64_t b = 0; b < batch_; ++b) {
      history_[b * window + positions_[b] % window] = tokens[b * chunk + j];
      sameLength = sameLength && std::min(positions_[b] + 1, window) == length0;
    }

    // Sequences reset at different times hold windows of different lengths;
    // the step takes one chunk length, so those run one sequence at a time.
    if (sameLength) {
      if (Status status = recomputeWindow(0, batch_, length0, logits, chunk, j);
          !status.ok())
        return status;
    } else {
      for (int64_t b = 0; b < batch_; ++b) {
        int64_t length = std::min(positions_[b] + 1, window);
        if (Status status = recomputeWindow(b, 1, length, logits, chunk, j);
            !status.ok())
          return status;
      }
    }

    for (int64_t b = 0; b < batch_; ++b)
      ++positions_[b];
    ++consumed_;
  }
  return Status::success();
}

Status Session::recomputeWindow(int64_t first, int64_t count, int64_t length,
                                float *logits, int64_t chunk, int64_t column) {
  const int64_t window = capacity_;
  const int64_t vocab = meta_.vocab_size;

  for (int64_t start = 0; start < length; start += stepChunk_) {
    int64_t pieceLength = std::min(stepChunk_, length - start);
    for (int64_t i = 0; i < count; ++i) {
      int64_t b = first + i;
      // The window's oldest token has stream position positions_[b] + 1 - length.
      int64_t oldest = positions_[b] + 1 - length;
      for (int64_t k = 0; k < pieceLength; ++k)
        ids_[i * pieceLength + k] =
            history_[b * window + (oldest + start + k) % window];
      stepPositions_[i] = start;
    }
    if (Status status = step(first, count, pieceLength, window, 0, scratchLogits_.get());
        !status.ok())
      return status;

    bool lastPiece = start + pieceLength == length;
    if (lastPiece && logits) {
      for (int64_t i = 0; i < count; ++i)
        std::memcpy(logits + ((first + i) * chunk + column) * vocab,
                    scratchLogits_.get() + (i * pieceLength + pieceLength - 1) * vocab,
                    sizeof(float) * vocab);
    }
  }
  return Status::success();
}

Status Session::step(int64_t first, int64_t count, int64_t pieceLength,
                     int64_t capacity, int64_t sinks, float *logits) {
  float *const *keys = keyPointers_.data();
  float *const *values = valuePointers_.data();

  // One sequence of the batch: its cache rows are contiguous in every layer.
  if (count != batch_) {
    size_t keyOffset = keyLayerFloats_ / batch_ * first;
    size_t valueOffset = valueLayerFloats_ / batch_ * first;
    for (size_t layer = 0; layer < keyPointers_.size(); ++layer) {
      sliceKeys_[layer] = keyPointers_[layer] + keyOffset;
      sliceValues_[layer] = valuePointers_[layer] + valueOffset;
    }
    keys = sliceKeys_.data();
    values = sliceValues_.data();
  }

  rill_step_args args;
  args.batch = count;
  args.chunk = pieceLength;
  args.input_ids = ids_.data();
  args.positions = stepPositions_.data();
  args.sinks = sinks;
  args.capacity = capacity;
  args.key_caches = keys;
  args.value_caches = values;
  args.logits = logits;

  int32_t code = model_->step(args);
  if (code != 0)
    return stepFailure(code, first, pieceLength);
  return Status::success();
}

Status Session::stepFailure(int32_t code, int64_t first, int64_t pieceLength) const {
  return Status(RILL_ERROR_STEP_FAILED,
                format("rill_model_step of '%s' returned %d (policy %s, sequence "
                       "%lld at stream position %lld, %lld tokens, sinks %lld, "
                       "capacity %lld); %lld tokens of this feed entered the stream "
                       "before the failure",
                       model_->path().c_str(), code, rill_policy_name(policy_),
                       (long long)first, (long long)positions_[first],
                       (long long)pieceLength, (long long)sinks_,
                       (long long)capacity_, (long long)consumed_));
}

Status Session::reset(int64_t sequence) {
  if (sequence < -1 || sequence >= batch_)
    return Status(RILL_ERROR_INVALID_ARGUMENT,
                  format("rill_session_reset: sequence %lld is out of range "
                         "(expected -1 for all, or 0 <= sequence < batch = %lld)",
                         (long long)sequence, (long long)batch_));
  if (sequence == -1)
    std::fill(positions_.begin(), positions_.end(), 0);
  else
    positions_[sequence] = 0;
  return Status::success();
}

} // namespace rill::runtime

using namespace rill::runtime;

extern "C" {

rill_status rill_policy_from_name(const char *name, rill_policy *policy,
                                  rill_error **error) {
  if (!policy)
    return report(Status(RILL_ERROR_INVALID_ARGUMENT,
                         "rill_policy_from_name: policy must not be NULL"),
                  error);
  if (!policyFromName(name, *policy))
    return report(Status(RILL_ERROR_INVALID_ARGUMENT,
                         format("unknown policy '%s' (expected sinks, window, "
                                "dense, recompute or default)",
                                name ? name : "(null)")),
                  error);
  return RILL_OK;
}

const char *rill_policy_name(rill_policy policy) {
  switch (policy) {
  case RILL_POLICY_DEFAULT:
    return "default";
  case RILL_POLICY_SINKS:
    return "sinks";
  case RILL_POLICY_WINDOW:
    return "window";
  case RILL_POLICY_DENSE:
    return "dense";
  case RILL_POLICY_RECOMPUTE:
    return "recompute";
  }
  return "unknown";
}

void rill_session_options_init(rill_session_options *options) {
  if (!options)
    return;
  options->policy = RILL_POLICY_DEFAULT;
  options->threads = 0;
  options->sinks = -1;
  options->capacity = 0;
  options->batch = 1;
  options->step_chunk = 0;
}

rill_status rill_session_create(rill_model *model, const rill_session_options *options,
                                rill_session **session, rill_error **error) {
  if (!model || !session)
    return report(Status(RILL_ERROR_INVALID_ARGUMENT,
                         "rill_session_create: model and session must not be NULL"),
                  error);
  *session = nullptr;
  rill_session_options defaults;
  rill_session_options_init(&defaults);
  try {
    std::unique_ptr<Session> created;
    if (Status status = Session::create(model->model, options ? *options : defaults,
                                        created);
        !status.ok())
      return report(status, error);
    *session = new rill_session{std::move(created)};
    return RILL_OK;
  } catch (const std::bad_alloc &) {
    return report(Status(RILL_ERROR_OUT_OF_MEMORY,
                         "out of memory while creating a session; choose a "
                         "smaller capacity or batch"),
                  error);
  }
}

void rill_session_free(rill_session *session) { delete session; }

void rill_session_get_info(const rill_session *session, rill_session_info *info) {
  if (session && info)
    *info = session->session->info();
}

rill_status rill_session_feed(rill_session *session, const int32_t *tokens,
                              int64_t batch, int64_t chunk, float *logits,
                              rill_error **error) {
  if (!session)
    return report(Status(RILL_ERROR_INVALID_ARGUMENT,
                         "rill_session_feed: session is NULL"),
                  error);
  // feed() does not allocate; the guard covers the message formatting.
  try {
    return report(session->session->feed(tokens, batch, chunk, logits), error);
  } catch (const std::bad_alloc &) {
    return report(Status(RILL_ERROR_OUT_OF_MEMORY,
                         "out of memory while formatting an error message"),
                  error);
  }
}

rill_status rill_session_reset(rill_session *session, int64_t sequence,
                               rill_error **error) {
  if (!session)
    return report(Status(RILL_ERROR_INVALID_ARGUMENT,
                         "rill_session_reset: session is NULL"),
                  error);
  try {
    return report(session->session->reset(sequence), error);
  } catch (const std::bad_alloc &) {
    return report(Status(RILL_ERROR_OUT_OF_MEMORY,
                         "out of memory while formatting an error message"),
                  error);
  }
}

void rill_session_positions(const rill_session *session, int64_t *positions) {
  if (!session || !positions)
    return;
  const std::vector<int64_t> &current = session->session->positions();
  std::copy(current.begin(), current.end(), positions);
}

size_t rill_session_memory(const rill_session *session) {
  return session ? session->session->memoryBytes() : 0;
}

} // extern "C"
