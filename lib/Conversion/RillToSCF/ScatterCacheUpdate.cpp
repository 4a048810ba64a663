//===- ScatterCacheUpdate.cpp - rill.cache_update as row writes -*- C++ -*-===//
//
// The CPU lowering of rill.cache_update. The reference lowering rebuilds
// both caches element by element, deciding for every slot which chunk row
// (if any) writes it. Here each chunk row is written into its slot of the
// incoming cache instead, in stream order so that a later row wins a slot
// that two rows of a long chunk share. The writes are tensor.insert_slice
// ops on loop-carried tensors, which one-shot bufferization performs in
// place on the cache buffers: a step then touches the chunk's rows only.
//
//===----------------------------------------------------------------------===//

#include "rill/Conversion/RillToSCF/RillToSCF.h"

#include "rill/Dialect/Rill/IR/RillOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::rill;

/// Returns `cache` with row `row` of `chunk` (all heads, all channels) of
/// sequence `batch` written into slot `slot`.
static Value writeRow(OpBuilder &b, Location loc, Value chunk, Value cache,
                      Value batch, Value row, Value slot) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, chunk);
  sizes[0] = b.getIndexAttr(1);
  sizes[2] = b.getIndexAttr(1);
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  OpFoldResult zero = b.getIndexAttr(0);
  Value slice = tensor::ExtractSliceOp::create(
      b, loc, chunk, SmallVector<OpFoldResult>{batch, zero, row, zero}, sizes,
      strides);
  return tensor::InsertSliceOp::create(
      b, loc, slice, cache, SmallVector<OpFoldResult>{batch, zero, slot, zero},
      sizes, strides);
}

FailureOr<SmallVector<Value>>
mlir::rill::scatterCacheUpdate(RewriterBase &rewriter, CacheUpdateOp op) {
  if (op.getKey().getType().getRank() != 4 ||
      op.getKeyCache().getType().getRank() != 4)
    return rewriter.notifyMatchFailure(op, "expected rank-4 keys and caches");

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  auto index = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(rewriter, loc, value);
  };
  Value zero = index(0), one = index(1);
  Value batchSize = tensor::DimOp::create(rewriter, loc, op.getKeyCache(), 0);
  Value chunkRows = tensor::DimOp::create(rewriter, loc, op.getKey(), 2);
  Value sinks = op.getSinks();
  Value window =
      arith::SubIOp::create(rewriter, loc, op.getCapacity(), sinks);

  auto outer = scf::ForOp::create(
      rewriter, loc, zero, batchSize, one,
      ValueRange{op.getKeyCache(), op.getValueCache()},
      [&](OpBuilder &b, Location l, Value batch, ValueRange caches) {
        Value first = tensor::ExtractOp::create(b, l, op.getPositions(),
                                                ValueRange{batch});
        Value start = arith::IndexCastOp::create(b, l, b.getIndexType(),
                                                 first);
        auto inner = scf::ForOp::create(
            b, l, zero, chunkRows, one, caches,
            [&](OpBuilder &nb, Location nl, Value row, ValueRange current) {
              // slot(p) = p below `sinks`, else sinks + (p - sinks) mod W.
              Value position = arith::AddIOp::create(nb, nl, start, row);
              Value isSink = arith::CmpIOp::create(
                  nb, nl, arith::CmpIPredicate::slt, position, sinks);
              Value ring = arith::AddIOp::create(
                  nb, nl, sinks,
                  arith::RemSIOp::create(
                      nb, nl,
                      arith::SubIOp::create(nb, nl, position, sinks),
                      window));
              Value slot =
                  arith::SelectOp::create(nb, nl, isSink, position, ring);
              Value keys = writeRow(nb, nl, op.getKey(), current[0], batch,
                                    row, slot);
              Value values = writeRow(nb, nl, op.getValue(), current[1],
                                      batch, row, slot);
              scf::YieldOp::create(nb, nl, ValueRange{keys, values});
            });
        scf::YieldOp::create(b, l, inner.getResults());
      });

  SmallVector<Value> results(outer.getResults());
  rewriter.replaceOp(op, results);
  return results;
}
