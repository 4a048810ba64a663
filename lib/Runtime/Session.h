//===- Session.h - A streaming session over a compiled model ----*- C++ -*-===//
//
// A Session owns the key/value caches of `batch` independent streams, their
// stream positions and the scratch buffers of one cache policy. Everything
// is allocated in create(); feed() never allocates, so a session's memory
// stays flat however long the stream.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_LIB_RUNTIME_SESSION_H
#define RILL_LIB_RUNTIME_SESSION_H

#include "Model.h"

#include <cstdlib>
#include <memory>
#include <vector>

namespace rill::runtime {

/// Frees memory from std::calloc.
struct FreeDeleter {
  void operator()(void *pointer) const { std::free(pointer); }
};

class Session {
public:
  static Status create(std::shared_ptr<Model> model,
                       const rill_session_options &options,
                       std::unique_ptr<Session> &session);

  Status feed(const int32_t *tokens, int64_t batch, int64_t chunk, float *logits);
  Status reset(int64_t sequence);

  rill_session_info info() const;
  const std::vector<int64_t> &positions() const { return positions_; }
  size_t memoryBytes() const { return memoryBytes_; }

private:
  explicit Session(std::shared_ptr<Model> model);

  Status resolveOptions(const rill_session_options &options);
  Status allocate();

  Status checkTokens(const int32_t *tokens, int64_t chunk) const;
  Status checkDenseRoom(int64_t chunk) const;

  /// Feeds the sinks, window and dense policies: the cache persists and the
  /// chunk runs in pieces of at most step_chunk tokens.
  Status feedCached(const int32_t *tokens, int64_t chunk, float *logits);

  /// Feeds the recompute policy: for every token, the last min(t + 1, W)
  /// tokens of each sequence run again from position 0 on the scratch cache.
  Status feedRecompute(const int32_t *tokens, int64_t chunk, float *logits);

  /// Re-runs the window of sequences [first, first + count), which all hold
  /// `length` tokens, and copies each one's last logits row to column
  /// `column` of `logits` (a [batch, chunk, vocab] buffer, may be NULL).
  Status recomputeWindow(int64_t first, int64_t count, int64_t length,
                         float *logits, int64_t chunk, int64_t column);

  /// Calls rill_model_step for sequences [first, first + count) on the
  /// prepared ids_ and stepPositions_.
  Status step(int64_t first, int64_t count, int64_t pieceLength,
              int64_t capacity, int64_t sinks, float *logits);

  Status stepFailure(int32_t code, int64_t first, int64_t pieceLength) const;

  std::shared_ptr<Model> model_;
  const rill_model_metadata &meta_;

  rill_policy policy_ = RILL_POLICY_SINKS;
  int32_t threads_ = 0;
  int64_t sinks_ = 0;
  int64_t capacity_ = 0;
  int64_t batch_ = 1;
  int64_t stepChunk_ = 0;

  std::vector<int64_t> positions_; // tokens seen by each sequence

  // Caches: one block for the keys of all layers and one for the values,
  // each [num_layers, batch, num_kv_heads, capacity, dim].
  std::unique_ptr<float, FreeDeleter> keys_;
  std::unique_ptr<float, FreeDeleter> values_;
  size_t keyLayerFloats_ = 0, valueLayerFloats_ = 0;
  std::vector<float *> keyPointers_, valuePointers_;

  // Scratch for one rill_model_step call.
  std::vector<int64_t> ids_;           // [batch, step_chunk]
  std::vector<int64_t> stepPositions_; // [batch]
  std::unique_ptr<float, FreeDeleter> scratchLogits_; // [batch, step_chunk, vocab]
  std::vector<float *> sliceKeys_, sliceValues_;      // one sequence's caches

  // The recompute policy's last W tokens of each sequence, a ring indexed by
  // stream position modulo W.
  std::vector<int32_t> history_;

  size_t memoryBytes_ = 0;
  int64_t consumed_ = 0; // tokens of the current feed already in the stream
};

} // namespace rill::runtime

struct rill_session {
  std::unique_ptr<rill::runtime::Session> session;
};

#endif // RILL_LIB_RUNTIME_SESSION_H
