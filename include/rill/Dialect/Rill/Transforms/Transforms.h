//===- Transforms.h - Rewrites of rill ops ----------------------*- C++ -*-===//
//
// Declares the rewrite functions behind the rill passes, for use from other
// passes and tools: the mask edits of rill-set-mask and the mask algebra
// they need (selecting the mask of one head, replacing the masks of some
// heads, stamping the layer of BigBird masks), and the rewrites of
// rill-fuse-attention that turn decomposed attention and RoPE into rill ops.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_TRANSFORMS_TRANSFORMS_H
#define RILL_DIALECT_RILL_TRANSFORMS_TRANSFORMS_H

#include "rill/Dialect/Rill/IR/RillAttrs.h"
#include "rill/Dialect/Rill/IR/RillOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Support/LLVM.h"

namespace mlir::linalg {
class GenericOp;
} // namespace mlir::linalg

namespace mlir::rill {

/// Returns `mask` with the `layer` parameter of every #rill.bigbird inside
/// it set to `layer`. Other masks come back unchanged.
MaskAttrInterface setBigBirdLayer(MaskAttrInterface mask, int64_t layer);

/// Returns a mask without per-head members that shows query head `head`
/// exactly what `mask` shows it: each #rill.per_head is replaced by its
/// member `head`, through any unions and intersections around it. Requires
/// `head` to be below `mask.getNumHeads()` when that is set.
MaskAttrInterface selectHeadMask(MaskAttrInterface mask, int64_t head);

/// Returns a mask for `numHeads` query heads that shows `newMask` to the
/// heads in `heads` and what `oldMask` showed to the others: a #rill.per_head
/// with `numHeads` members, or the common member when all are equal. Fails
/// if `newMask` has per-head members, if a head is outside
/// `[0, numHeads)`, or if `oldMask` is defined for another number of heads.
FailureOr<MaskAttrInterface> replaceHeadMasks(MaskAttrInterface oldMask,
                                              MaskAttrInterface newMask,
                                              ArrayRef<int64_t> heads,
                                              int64_t numHeads);

/// Replaces the mask of `op` with `mask` in place. Fails without changing
/// `op` if `mask` is a per-head mask whose number of members differs from
/// the static number of query heads of `op`.
LogicalResult setAttentionMask(RewriterBase &rewriter, AttentionOp op,
                               MaskAttrInterface mask);

//===----------------------------------------------------------------------===//
// Attention and RoPE fusion (rill-fuse-attention)
//===----------------------------------------------------------------------===//

/// Options of the attention fusion patterns.
struct FuseAttentionOptions {
  /// Turn query/key position comparisons in masks into mask attributes.
  /// When false, every mask term becomes the bias operand.
  bool recognizeMasks = true;
  /// Emit a remark on each fused op whose mask was kept as a bias.
  bool emitRemarks = true;
};

/// Rewrites the decomposed attention that ends in `pvContraction`, the
/// batched contraction of softmax weights with values, into one
/// rill.attention op: softmax over the last axis, additive and select
/// masks, a constant scale and the contraction of queries with transposed
/// keys, with grouped-query key/value repetition removed. Returns the new
/// op, or failure without changing the IR when the subgraph does not match.
FailureOr<AttentionOp> fuseAttention(RewriterBase &rewriter,
                                     linalg::GenericOp pvContraction,
                                     const FuseAttentionOptions &options);

/// Rewrites the rotate-half RoPE expression whose final addition is `add`,
/// `x * cos + concat(-x[..., h:], x[..., :h]) * sin` with cos and sin
/// gathered from constant tables by position ids, into rill.rotary with
/// tables. Returns the new op, or failure without changing the IR.
FailureOr<RotaryOp> fuseRotary(RewriterBase &rewriter, linalg::GenericOp add);

/// Populates `patterns` with the pattern that applies fuseAttention to
/// every matching contraction with values.
void populateFuseAttentionPatterns(RewritePatternSet &patterns,
                                   const FuseAttentionOptions &options);

/// Populates `patterns` with the pattern that applies fuseRotary to every
/// matching RoPE expression.
void populateFuseRotaryPatterns(RewritePatternSet &patterns);

} // namespace mlir::rill

#endif // RILL_DIALECT_RILL_TRANSFORMS_TRANSFORMS_H
