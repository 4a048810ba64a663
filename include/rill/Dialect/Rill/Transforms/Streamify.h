//===- Streamify.h - Rewrite a decoder into a step function ----*- C++ -*-===//
//
// Declares the rewrite behind rill-streamify: a function whose attention
// layers are rill.attention ops with rill.rotary on queries and keys becomes
// the streaming step function of docs/streaming.md, over ring-buffer caches
// read by rill.cache_attention and written by rill.cache_update.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_TRANSFORMS_STREAMIFY_H
#define RILL_DIALECT_RILL_TRANSFORMS_STREAMIFY_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Support/LLVM.h"

#include <optional>
#include <string>

namespace mlir::rill {

/// Visibility of a chunk's own keys to the chunk's queries.
enum class StreamingPrefill {
  /// One call with a chunk equals one call per token.
  MaskExact,
  /// Dense causal attention inside the chunk, eviction afterwards (the
  /// StreamingLLM reference's prompt processing).
  DenseWithinChunk,
};

/// How token positions enter the model.
enum class PositionPolicy {
  /// RoPE: keys at stream positions, queries rotated per segment.
  Rotary,
  /// Learned absolute tables read at min(t, capacity - 1). An
  /// approximation: evicted tokens leave the table positions of the kept
  /// ones unchanged, so the model sees positions it was not trained with.
  ClampedAbsolute,
  /// RoPE with every key and every query at its stream position, sink keys
  /// included: sink distances grow with the stream, as when a cache is
  /// truncated without re-rotating. The StreamingLLM paper's ablation of
  /// sinks that keep their original positions, not a recommended setting.
  Original,
};

/// Options of streamifyFunction. Unset geometry values come from the mask
/// of the first rill.attention op.
struct StreamifyOptions {
  std::string policy = "sinks";
  std::optional<int64_t> sinks;
  std::optional<int64_t> window;
  std::optional<int64_t> capacity;
  StreamingPrefill prefill = StreamingPrefill::MaskExact;
  PositionPolicy positionPolicy = PositionPolicy::Rotary;
};

/// Function attributes that record the defaults for the runtime.
inline constexpr llvm::StringLiteral kStreamingSinksAttrName =
    "rill.streaming.sinks";
inline constexpr llvm::StringLiteral kStreamingCapacityAttrName =
    "rill.streaming.capacity";
inline constexpr llvm::StringLiteral kStreamingPolicyAttrName =
    "rill.streaming.policy";
inline constexpr llvm::StringLiteral kStreamingPrefillAttrName =
    "rill.streaming.prefill";
inline constexpr llvm::StringLiteral kStreamingPositionPolicyAttrName =
    "rill.streaming.position_policy";

/// Returns theta if `cosTable` and `sinTable` (`[max_pos, rotaryDim / 2]`
/// constants, possibly behind static tensor.extract_slice ops) hold
/// cos/sin of `p * theta^(-2i / rotaryDim)`, within float32 rounding.
/// Returns failure, with the reason in `reason`, otherwise.
FailureOr<double> recoverRotaryTheta(Value cosTable, Value sinTable,
                                     int64_t rotaryDim, std::string &reason);

/// Rewrites `func` into the step function, renamed `step`. Emits an error
/// on the op at fault and returns failure when a precondition does not
/// hold; the function may then be partly rewritten.
FailureOr<func::FuncOp> streamifyFunction(RewriterBase &rewriter,
                                          func::FuncOp func,
                                          const StreamifyOptions &options);

} // namespace mlir::rill

#endif // RILL_DIALECT_RILL_TRANSFORMS_STREAMIFY_H
