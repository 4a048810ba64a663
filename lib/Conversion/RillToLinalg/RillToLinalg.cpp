//===- RillToLinalg.cpp - The rill-decompose-attention pass ----*- C++ -*-===//
//
// Wraps decomposeAttention and decomposeRotary in rewrite patterns and
// defines the pass that applies them. The pass fails, naming the
// precondition, on any rill.attention or rill.rotary it cannot lower, so a
// pipeline never continues with ops that bufferization would reject.
//
//===----------------------------------------------------------------------===//

#include "rill/Conversion/RillToLinalg/RillToLinalg.h"
#include "rill/Conversion/RillToLinalg/DecomposeCacheOps.h"

#include "DecomposeUtils.h"
#include "rill/Conversion/Passes.h"
#include "rill/Dialect/Rill/IR/RillOps.h"

#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir::rill {
#define GEN_PASS_DEF_RILLDECOMPOSEATTENTIONPASS
#include "rill/Conversion/Passes.h.inc"
} // namespace mlir::rill

using namespace mlir;
using namespace mlir::rill;

namespace {

struct DecomposeAttentionPattern : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    return decomposeAttention(rewriter, op);
  }
};

struct DecomposeRotaryPattern : OpRewritePattern<RotaryOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RotaryOp op,
                                PatternRewriter &rewriter) const override {
    return decomposeRotary(rewriter, op);
  }
};

struct RillDecomposeAttentionPass
    : rill::impl::RillDecomposeAttentionPassBase<RillDecomposeAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateDecomposeAttentionPatterns(patterns);
    walkAndApplyPatterns(getOperation(), std::move(patterns));

    // The patterns only fail on preconditions; report each op left over.
    WalkResult result = getOperation()->walk([](Operation *op) {
      std::string failure;
      if (auto attention = dyn_cast<AttentionOp>(op))
        failure = getAttentionDecompositionFailure(attention);
      else if (auto rotary = dyn_cast<RotaryOp>(op))
        failure = getRotaryDecompositionFailure(rotary);
      else
        return WalkResult::advance();
      op->emitOpError() << "cannot be decomposed: " << failure;
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

void mlir::rill::populateDecomposeAttentionPatterns(
    RewritePatternSet &patterns) {
  patterns.add<DecomposeAttentionPattern, DecomposeRotaryPattern>(
      patterns.getContext());
  populateDecomposeCacheOpsPatterns(patterns);
}
