//===- RillToSCF.cpp - The rill-tile-attention pass ------------*- C++ -*-===//
//
// Wraps tileAttention in a rewrite pattern and defines the passes of the
// tiled CPU lowering: rill-tile-attention and rill-approximate-math. Ops
// that the tiled lowering rejects stay in place, so a pipeline can follow it
// with the reference decomposition.
//
//===----------------------------------------------------------------------===//

#include "rill/Conversion/RillToSCF/RillToSCF.h"

#include "rill/Dialect/Rill/IR/RillOps.h"

#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir::rill {
#define GEN_PASS_DEF_RILLTILEATTENTIONPASS
#define GEN_PASS_DEF_RILLAPPROXIMATEMATHPASS
#include "rill/Conversion/RillToSCF/Passes.h.inc"
} // namespace mlir::rill

using namespace mlir;
using namespace mlir::rill;

namespace {

struct TileAttentionPattern : OpRewritePattern<AttentionOp> {
  TileAttentionPattern(MLIRContext *context,
                       const TileAttentionOptions &options)
      : OpRewritePattern(context), options(options) {}

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    return tileAttention(rewriter, op, options);
  }

  TileAttentionOptions options;
};

/// Tiles a rill.cache_attention. Ops the kernel rejects stay for the
/// reference decomposition.
struct TileCacheAttentionPattern : OpRewritePattern<CacheAttentionOp> {
  TileCacheAttentionPattern(MLIRContext *context,
                            const TileAttentionOptions &options)
      : OpRewritePattern(context), options(options) {}

  LogicalResult matchAndRewrite(CacheAttentionOp op,
                                PatternRewriter &rewriter) const override {
    return tileCacheAttention(rewriter, op, options);
  }

  TileAttentionOptions options;
};

struct ScatterCacheUpdatePattern : OpRewritePattern<CacheUpdateOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CacheUpdateOp op,
                                PatternRewriter &rewriter) const override {
    return scatterCacheUpdate(rewriter, op);
  }
};

struct RillTileAttentionPass
    : rill::impl::RillTileAttentionPassBase<RillTileAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    TileAttentionOptions tileOptions;
    tileOptions.queryTile = queryTile;
    tileOptions.keyTile = keyTile;
    tileOptions.vectorWidth = vectorWidth;
    tileOptions.parallel = parallel;
    tileOptions.prefetch = prefetch;
    tileOptions.staticTableLimit = staticTableLimit;
    // The tile buffers live on the stack of each (OpenMP) thread, so the
    // tiles are bounded as well as positive.
    int64_t query = queryTile, key = keyTile, width = vectorWidth;
    if (query < 1 || query > 256 || key < 1 || key > 4096 || width < 1 ||
        width > 64) {
      getOperation()->emitError()
          << "rill-tile-attention: invalid tile (query-tile " << query
          << ", key-tile " << key << ", vector-width " << width
          << "); expected query-tile in 1..256, key-tile in 1..4096 and "
             "vector-width in 1..64";
      return signalPassFailure();
    }

    RewritePatternSet patterns(&getContext());
    populateTileAttentionPatterns(patterns, tileOptions);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

struct RillApproximateMathPass
    : rill::impl::RillApproximateMathPassBase<RillApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) {
          return name == math::ExpOp::getOperationName() ||
                 name == math::TanhOp::getOperationName();
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

void mlir::rill::populateTileAttentionPatterns(
    RewritePatternSet &patterns, const TileAttentionOptions &options) {
  patterns.add<TileAttentionPattern, TileCacheAttentionPattern>(
      patterns.getContext(), options);
  patterns.add<ScatterCacheUpdatePattern>(patterns.getContext());
}
