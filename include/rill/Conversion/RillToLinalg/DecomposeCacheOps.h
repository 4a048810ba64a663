//===- DecomposeCacheOps.h - Decompose the rill cache ops -------*- C++ -*-===//
//
// Entry points of the reference lowering of rill.cache_attention and
// rill.cache_update into linalg, tensor and arith ops on tensors. The pass
// `rill-decompose-attention` applies the patterns together with those of
// rill.attention and rill.rotary.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_CONVERSION_RILLTOLINALG_DECOMPOSECACHEOPS_H
#define RILL_CONVERSION_RILLTOLINALG_DECOMPOSECACHEOPS_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Support/LLVM.h"

namespace mlir::rill {

class AttentionOp;
class CacheAttentionOp;
class CacheUpdateOp;

/// Replaces `op` with a rill.attention over the cache and chunk keys, with
/// mask #rill.full, a visibility bias and the sink keys selected by doubled
/// channels, and returns it. Fails without changing the IR when the element
/// type is not f16, bf16, f32 or f64.
FailureOr<AttentionOp> rewriteCacheAttentionAsAttention(RewriterBase &rewriter,
                                                        CacheAttentionOp op);

/// Applies rewriteCacheAttentionAsAttention, then decomposes the attention
/// op into linalg.
FailureOr<Value> decomposeCacheAttention(RewriterBase &rewriter,
                                         CacheAttentionOp op);

/// Rewrites `op` into one linalg.generic per cache that selects, for every
/// slot, the last chunk row mapped to it or the old contents, and replaces
/// `op`. Always succeeds.
FailureOr<SmallVector<Value>> decomposeCacheUpdate(RewriterBase &rewriter,
                                                   CacheUpdateOp op);

/// Adds the patterns that apply decomposeCacheAttention and
/// decomposeCacheUpdate.
void populateDecomposeCacheOpsPatterns(RewritePatternSet &patterns);

} // namespace mlir::rill

#endif // RILL_CONVERSION_RILLTOLINALG_DECOMPOSECACHEOPS_H
