//===- RillToSCF.h - Tiled lowering of rill.attention -----------*- C++ -*-===//
//
// Entry points of the tiled CPU lowering of rill.attention: a block-sparse,
// flash-attention style loop nest over memrefs with vectorized inner loops.
// The pass `rill-tile-attention` applies the pattern; the CPU pipeline runs
// it before bufferization.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_CONVERSION_RILLTOSCF_RILLTOSCF_H
#define RILL_CONVERSION_RILLTOSCF_RILLTOSCF_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>

namespace mlir::rill {

class AttentionOp;
class CacheAttentionOp;
class CacheUpdateOp;

/// Tile sizes and code generation choices of the tiled lowering.
struct TileAttentionOptions {
  /// Query rows per head in one block.
  int64_t queryTile = 16;
  /// Keys per tile: the unit of mask classification and skipping.
  int64_t keyTile = 32;
  /// f32 lanes per vector.
  int64_t vectorWidth = 16;
  /// Emit scf.parallel over (batch, key/value head, query block).
  bool parallel = true;
  /// Prefetch the key and value rows of the next key tile.
  bool prefetch = false;
  /// Maximum number of (query block, key tile) pairs classified at compile
  /// time; above it the schedule is computed at run time.
  int64_t staticTableLimit = 1 << 20;
};

/// Rewrites `op` into a tiled online-softmax loop nest on memrefs and
/// replaces it with the resulting tensor. Fails, without changing the IR,
/// when a precondition does not hold (element type other than f32, dynamic
/// head size, bias of rank other than 4); the reason goes to
/// `rewriter.notifyMatchFailure`.
FailureOr<Value> tileAttention(RewriterBase &rewriter, AttentionOp op,
                               const TileAttentionOptions &options);

/// Rewrites a rill.cache_attention into the same loop nest, reading the
/// cache and the chunk in place: the kernel walks the sink slots, the ring
/// of window slots and the chunk rows with the slot rule and the streaming
/// visibility computed per key tile, so that tiles visible to every query run
/// without a mask. Fails under the same preconditions as tileAttention.
FailureOr<Value> tileCacheAttention(RewriterBase &rewriter,
                                    CacheAttentionOp op,
                                    const TileAttentionOptions &options);

/// Rewrites a rill.cache_update into a loop over the chunk rows that writes
/// each row into its slot of the incoming cache, so that bufferization can
/// update the cache buffers in place.
FailureOr<SmallVector<Value>> scatterCacheUpdate(RewriterBase &rewriter,
                                                 CacheUpdateOp op);

/// Adds the patterns that apply tileAttention, tileCacheAttention and
/// scatterCacheUpdate with `options`.
void populateTileAttentionPatterns(RewritePatternSet &patterns,
                                   const TileAttentionOptions &options);

#define GEN_PASS_DECL
#include "rill/Conversion/RillToSCF/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "rill/Conversion/RillToSCF/Passes.h.inc"

} // namespace mlir::rill

#endif // RILL_CONVERSION_RILLTOSCF_RILLTOSCF_H
