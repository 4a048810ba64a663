//===- RillToLinalg.h - Decompose rill ops into linalg ----------*- C++ -*-===//
//
// Entry points of the reference lowering of rill.attention and rill.rotary
// into linalg, tensor, arith and math ops on tensors. The pass
// `rill-decompose-attention` applies the patterns; other passes and tools
// can call the rewrite functions on single ops.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_CONVERSION_RILLTOLINALG_RILLTOLINALG_H
#define RILL_CONVERSION_RILLTOLINALG_RILLTOLINALG_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Support/LLVM.h"

namespace mlir::rill {

class AttentionOp;
class RotaryOp;

/// Rewrites `op` into upstream ops on tensors computing the same result
/// and replaces it. Fails, without changing the IR, when a precondition
/// does not hold (non-float element types, unsupported bias rank); the
/// reason goes to `rewriter.notifyMatchFailure`.
FailureOr<Value> decomposeAttention(RewriterBase &rewriter, AttentionOp op);

/// Rewrites `op` into one linalg.generic that rotates channel pairs by
/// f64 angles (or table entries) and replaces it. Fails, without changing
/// the IR, when a precondition does not hold.
FailureOr<Value> decomposeRotary(RewriterBase &rewriter, RotaryOp op);

/// Adds the patterns that apply decomposeAttention and decomposeRotary.
void populateDecomposeAttentionPatterns(RewritePatternSet &patterns);

} // namespace mlir::rill

#endif // RILL_CONVERSION_RILLTOLINALG_RILLTOLINALG_H
