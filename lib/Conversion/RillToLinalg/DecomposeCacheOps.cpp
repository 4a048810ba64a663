//===- DecomposeCacheOps.cpp - rill cache ops to linalg --------*- C++ -*-===//
//
// The reference lowering of rill.cache_attention and rill.cache_update.
// rill.cache_attention becomes a rill.attention with mask #rill.full over
// the cache keys followed by the chunk keys, with the slot rule and the
// streaming visibility turned into a -inf bias, and with the sink-key
// query selected by doubling the channels: the query is
// concat(query, query_sink) and a key is concat(k, 0) for window keys and
// concat(0, k) for sink keys, so one dot product picks the right query.
// That op is then decomposed by decomposeAttention. rill.cache_update is one
// linalg.generic per cache.
//
//===----------------------------------------------------------------------===//

#include "rill/Conversion/RillToLinalg/DecomposeCacheOps.h"
#include "rill/Conversion/RillToLinalg/RillToLinalg.h"

#include "DecomposeUtils.h"
#include "rill/Dialect/Rill/IR/RillOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace mlir::rill;

namespace {

/// Index arithmetic of the slot rule, built inside a linalg body. All
/// values are `index`; -1 marks an empty slot or no source row.
struct SlotArithmetic {
  OpBuilder &b;
  Location l;
  Value sinks, capacity;

  Value constant(int64_t value) {
    return arith::ConstantIndexOp::create(b, l, value);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, l, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, l, x, y); }
  Value rem(Value x, Value y) { return arith::RemSIOp::create(b, l, x, y); }
  Value cmp(arith::CmpIPredicate predicate, Value x, Value y) {
    return arith::CmpIOp::create(b, l, predicate, x, y);
  }
  Value select(Value condition, Value x, Value y) {
    return arith::SelectOp::create(b, l, condition, x, y);
  }
  Value both(Value x, Value y) { return arith::AndIOp::create(b, l, x, y); }

  /// Returns the largest position `p <= last` with `p >= sinks` that maps
  /// to the window slot `slot`, or a value below `sinks` if none does.
  Value latestWindowPosition(Value slot, Value last) {
    Value window = sub(capacity, sinks);
    Value lastOffset = rem(sub(last, sinks), window);
    Value slotOffset = sub(slot, sinks);
    // (lastOffset - slotOffset) mod window, kept non-negative. Both offsets
    // are in [0, window) whenever last >= sinks, and the callers discard
    // the result in the other cases.
    Value back = rem(add(sub(lastOffset, slotOffset), window), window);
    return sub(last, back);
  }

  /// Returns the stream position held in cache slot `slot` before a chunk
  /// starting at `start`, or -1 if the slot is empty.
  Value cachedPosition(Value slot, Value start) {
    Value empty = constant(-1);
    Value isSinkSlot = cmp(arith::CmpIPredicate::slt, slot, sinks);
    Value sinkPosition =
        select(cmp(arith::CmpIPredicate::slt, slot, start), slot, empty);

    Value last = sub(start, constant(1));
    Value position = latestWindowPosition(slot, last);
    Value exists = both(cmp(arith::CmpIPredicate::sge, last, sinks),
                        cmp(arith::CmpIPredicate::sge, position, sinks));
    Value windowPosition = select(exists, position, empty);
    return select(isSinkSlot, sinkPosition, windowPosition);
  }

  /// Returns the chunk row (0-based) that writes cache slot `slot` last,
  /// for a chunk of `length` rows starting at `start`, or -1 if none does.
  Value sourceRow(Value slot, Value start, Value length) {
    Value none = constant(-1);
    Value end = add(start, length);
    Value isSinkSlot = cmp(arith::CmpIPredicate::slt, slot, sinks);
    Value sinkWritten = both(cmp(arith::CmpIPredicate::sge, slot, start),
                             cmp(arith::CmpIPredicate::slt, slot, end));
    Value sinkRow = select(sinkWritten, sub(slot, start), none);

    Value last = sub(end, constant(1));
    Value position = latestWindowPosition(slot, last);
    Value written = both(both(cmp(arith::CmpIPredicate::sge, last, sinks),
                              cmp(arith::CmpIPredicate::sge, position, sinks)),
                         cmp(arith::CmpIPredicate::sge, position, start));
    Value windowRow = select(written, sub(position, start), none);
    return select(isSinkSlot, sinkRow, windowRow);
  }
};

/// Body of buildIndexedTensor: returns the element at the loop indices,
/// which it reads through linalg.index.
using IndexedFn = llvm::function_ref<Value(OpBuilder &, Location)>;

} // namespace

/// Returns a tensor of `sizes` and `elementType` whose elements `fn`
/// computes from the loop indices alone.
static Value buildIndexedTensor(OpBuilder &builder, Location loc,
                                ArrayRef<OpFoldResult> sizes, Type elementType,
                                IndexedFn fn) {
  Value init = tensor::EmptyOp::create(builder, loc, sizes, elementType);
  auto rank = static_cast<unsigned>(sizes.size());
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(rank, builder.getContext())};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             builder, loc, init.getType(), ValueRange{}, ValueRange{init},
             maps, iterators,
             [&](OpBuilder &nested, Location l, ValueRange) {
               linalg::YieldOp::create(nested, l, fn(nested, l));
             })
      .getResult(0);
}

/// Returns `factor * x + y` as a constant when both sizes are static and as
/// an index value otherwise.
static OpFoldResult buildSizeSum(OpBuilder &builder, Location loc,
                                 OpFoldResult x, int64_t factor,
                                 OpFoldResult y) {
  std::optional<int64_t> xConstant = getConstantIntValue(x);
  std::optional<int64_t> yConstant = getConstantIntValue(y);
  if (xConstant && yConstant)
    return builder.getIndexAttr(factor * *xConstant + *yConstant);
  Value xValue = getValueOrCreateConstantIndexOp(builder, loc, x);
  Value scaled = arith::MulIOp::create(
      builder, loc, xValue,
      arith::ConstantIndexOp::create(builder, loc, factor));
  return arith::AddIOp::create(builder, loc, scaled,
                               getValueOrCreateConstantIndexOp(builder, loc, y))
      .getResult();
}

/// Returns `first` and `second` joined along dimension `dim`.
static Value buildJoined(OpBuilder &builder, Location loc, Value first,
                         Value second, int64_t dim) {
  SmallVector<OpFoldResult> firstSizes =
      tensor::getMixedSizes(builder, loc, first);
  SmallVector<OpFoldResult> secondSizes =
      tensor::getMixedSizes(builder, loc, second);
  // The verifier makes the other dimensions equal. Take the static size from
  // whichever operand has one, so that the kernels see static head sizes.
  SmallVector<OpFoldResult> sizes = firstSizes;
  for (auto [index, size] : llvm::enumerate(sizes))
    if (isa<Value>(size) && isa<Attribute>(secondSizes[index]))
      size = secondSizes[index];
  sizes[dim] = buildSizeSum(builder, loc, firstSizes[dim], 1, secondSizes[dim]);

  Type elementType = cast<RankedTensorType>(first.getType()).getElementType();
  Value joined = tensor::EmptyOp::create(builder, loc, sizes, elementType);
  auto rank = static_cast<int64_t>(sizes.size());
  SmallVector<OpFoldResult> zeros(rank, builder.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(rank, builder.getIndexAttr(1));
  joined = tensor::InsertSliceOp::create(builder, loc, first, joined, zeros,
                                         firstSizes, ones);
  SmallVector<OpFoldResult> offsets = zeros;
  offsets[dim] = firstSizes[dim];
  return tensor::InsertSliceOp::create(builder, loc, second, joined, offsets,
                                       secondSizes, ones);
}

/// Returns the chunk's first stream position for batch `batch` as an index.
static Value buildStart(OpBuilder &b, Location l, Value positions,
                        Value batch) {
  Value start = tensor::ExtractOp::create(b, l, positions, ValueRange{batch});
  return arith::IndexCastOp::create(b, l, b.getIndexType(), start);
}

//===----------------------------------------------------------------------===//
// rill.cache_attention
//===----------------------------------------------------------------------===//

/// Returns the stream position of every key row of cache + chunk, `[B,
/// C + T]` i64, with -1 for empty cache slots.
static Value buildKeyPositions(OpBuilder &builder, Location loc,
                               CacheAttentionOp op, OpFoldResult batch,
                               OpFoldResult cacheLength,
                               OpFoldResult keyLength) {
  Value cacheLengthValue =
      getValueOrCreateConstantIndexOp(builder, loc, cacheLength);
  return buildIndexedTensor(
      builder, loc, {batch, keyLength}, builder.getI64Type(),
      [&](OpBuilder &b, Location l) -> Value {
        SlotArithmetic slots{b, l, op.getSinks(), op.getCapacity()};
        Value batchIndex = linalg::IndexOp::create(b, l, 0);
        Value row = linalg::IndexOp::create(b, l, 1);
        Value start = buildStart(b, l, op.getPositions(), batchIndex);

        Value inCache =
            slots.cmp(arith::CmpIPredicate::slt, row, cacheLengthValue);
        Value cached = slots.cachedPosition(row, start);
        Value chunk = slots.add(start, slots.sub(row, cacheLengthValue));
        Value position = slots.select(inCache, cached, chunk);
        return arith::IndexCastOp::create(b, l, b.getI64Type(), position);
      });
}

/// Returns the keys with doubled channels: `concat(k, 0)` for keys at or
/// past `sinks` (and empty slots) and `concat(0, k)` for sink keys.
static Value buildSplitKeys(OpBuilder &builder, Location loc,
                            CacheAttentionOp op, Value keys,
                            Value keyPositions) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(builder, loc, keys);
  Value headSize = getValueOrCreateConstantIndexOp(builder, loc, sizes[3]);
  sizes[3] = buildSizeSum(builder, loc, sizes[3], 2, builder.getIndexAttr(0));
  Type elementType = cast<RankedTensorType>(keys.getType()).getElementType();

  return buildIndexedTensor(
      builder, loc, sizes, elementType, [&](OpBuilder &b, Location l) -> Value {
        SlotArithmetic slots{b, l, op.getSinks(), op.getCapacity()};
        Value batch = linalg::IndexOp::create(b, l, 0);
        Value head = linalg::IndexOp::create(b, l, 1);
        Value row = linalg::IndexOp::create(b, l, 2);
        Value channel = linalg::IndexOp::create(b, l, 3);

        Value position = arith::IndexCastOp::create(
            b, l, b.getIndexType(),
            tensor::ExtractOp::create(b, l, keyPositions,
                                      ValueRange{batch, row}));
        Value isSinkKey =
            slots.both(slots.cmp(arith::CmpIPredicate::sge, position,
                                 slots.constant(0)),
                       slots.cmp(arith::CmpIPredicate::slt, position,
                                 op.getSinks()));
        Value inFirstHalf =
            slots.cmp(arith::CmpIPredicate::ult, channel, headSize);
        Value sourceChannel = slots.select(inFirstHalf, channel,
                                           slots.sub(channel, headSize));
        Value key = tensor::ExtractOp::create(
            b, l, keys, ValueRange{batch, head, row, sourceChannel});

        // The first half meets `query`, the second half `query_sink`.
        Value used = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne,
                                           inFirstHalf, isSinkKey);
        Value zero =
            arith::ConstantOp::create(b, l, b.getFloatAttr(elementType, 0.0));
        return slots.select(used, key, zero);
      });
}

/// Returns the `[B, 1, T, C + T]` bias: 0 for visible keys, -inf otherwise.
static Value buildVisibilityBias(OpBuilder &builder, Location loc,
                                 CacheAttentionOp op, Value keyPositions,
                                 OpFoldResult batch, OpFoldResult chunkLength,
                                 OpFoldResult keyLength) {
  Type elementType = op.getQuery().getType().getElementType();
  bool dense = op.getDenseWithinChunk();
  return buildIndexedTensor(
      builder, loc, {batch, builder.getIndexAttr(1), chunkLength, keyLength},
      elementType, [&](OpBuilder &b, Location l) -> Value {
        SlotArithmetic slots{b, l, op.getSinks(), op.getCapacity()};
        Value batchIndex = linalg::IndexOp::create(b, l, 0);
        Value queryRow = linalg::IndexOp::create(b, l, 2);
        Value keyRow = linalg::IndexOp::create(b, l, 3);
        Value start = buildStart(b, l, op.getPositions(), batchIndex);
        Value queryPosition = slots.add(start, queryRow);
        Value keyPosition = arith::IndexCastOp::create(
            b, l, b.getIndexType(),
            tensor::ExtractOp::create(b, l, keyPositions,
                                      ValueRange{batchIndex, keyRow}));

        Value present = slots.cmp(arith::CmpIPredicate::sge, keyPosition,
                                  slots.constant(0));
        Value causal = slots.cmp(arith::CmpIPredicate::sle, keyPosition,
                                 queryPosition);
        Value visible = slots.both(present, causal);
        if (!dense) {
          Value isSink =
              slots.cmp(arith::CmpIPredicate::slt, keyPosition, op.getSinks());
          Value window = slots.sub(op.getCapacity(), op.getSinks());
          Value recent =
              slots.cmp(arith::CmpIPredicate::slt,
                        slots.sub(queryPosition, keyPosition), window);
          visible = slots.both(
              visible, arith::OrIOp::create(b, l, isSink, recent).getResult());
        }

        Value zero =
            arith::ConstantOp::create(b, l, b.getFloatAttr(elementType, 0.0));
        Value hidden = buildNegativeInfinity(b, l, elementType);
        return slots.select(visible, zero, hidden);
      });
}

FailureOr<AttentionOp>
mlir::rill::rewriteCacheAttentionAsAttention(RewriterBase &rewriter,
                                             CacheAttentionOp op) {
  RankedTensorType queryType = op.getQuery().getType();
  if (!isSupportedFloat(queryType.getElementType()))
    return rewriter.notifyMatchFailure(
        op, "expected f16, bf16, f32 or f64 elements (got " +
                printType(queryType.getElementType()) + ")");

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();

  // Keys and values of the cache followed by those of the chunk.
  Value keys = buildJoined(rewriter, loc, op.getKeyCache(), op.getKey(), 2);
  Value values =
      buildJoined(rewriter, loc, op.getValueCache(), op.getValue(), 2);
  Value queries =
      buildJoined(rewriter, loc, op.getQuery(), op.getQuerySink(), 3);

  // The doubled channels would change the default 1 / sqrt(D), so the
  // scale is always explicit. With a dynamic D it is only known at run
  // time and multiplies the queries instead.
  double scale = op.getEffectiveScale();
  if (std::isnan(scale)) {
    Value headSize = tensor::DimOp::create(rewriter, loc, op.getQuery(), 3);
    Type elementType = queryType.getElementType();
    Value headSizeFloat = arith::UIToFPOp::create(
        rewriter, loc, elementType,
        arith::IndexCastUIOp::create(rewriter, loc, rewriter.getI64Type(),
                                     headSize));
    Value factor = math::RsqrtOp::create(rewriter, loc, headSizeFloat);
    queries = buildElementwise(
        rewriter, loc, queries, elementType,
        [&](OpBuilder &b, Location l, Value element) -> Value {
          return arith::MulFOp::create(b, l, element, factor);
        });
    scale = 1.0;
  }

  OpFoldResult batch = tensor::getMixedSize(rewriter, loc, op.getQuery(), 0);
  OpFoldResult chunkLength =
      tensor::getMixedSize(rewriter, loc, op.getQuery(), 2);
  OpFoldResult cacheLength =
      tensor::getMixedSize(rewriter, loc, op.getKeyCache(), 2);
  OpFoldResult keyLength = tensor::getMixedSize(rewriter, loc, keys, 2);

  Value keyPositions =
      buildKeyPositions(rewriter, loc, op, batch, cacheLength, keyLength);
  Value splitKeys = buildSplitKeys(rewriter, loc, op, keys, keyPositions);
  Value bias = buildVisibilityBias(rewriter, loc, op, keyPositions, batch,
                                   chunkLength, keyLength);

  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  auto attention = AttentionOp::create(
      rewriter, loc, op.getType(), queries, splitKeys, values, zero, zero,
      bias, op.getSinkLogits(),
      cast<MaskAttrInterface>(FullAttr::get(rewriter.getContext())),
      rewriter.getF32FloatAttr(static_cast<float>(scale)),
      op.getSoftcapAttr());

  rewriter.replaceOp(op, attention.getResult());
  return attention;
}

FailureOr<Value> mlir::rill::decomposeCacheAttention(RewriterBase &rewriter,
                                                     CacheAttentionOp op) {
  FailureOr<AttentionOp> attention =
      rewriteCacheAttentionAsAttention(rewriter, op);
  if (failed(attention))
    return failure();
  // The element type was checked and #rill.full has no per-head members,
  // so the attention decomposition has no precondition left.
  return decomposeAttention(rewriter, *attention);
}

//===----------------------------------------------------------------------===//
// rill.cache_update
//===----------------------------------------------------------------------===//

/// Returns `cache` with every slot that a chunk row maps to replaced by the
/// last such row of `chunk`.
static Value buildUpdatedCache(OpBuilder &builder, Location loc,
                               CacheUpdateOp op, Value chunk, Value cache) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(builder, loc, cache);
  Value chunkLength = tensor::DimOp::create(builder, loc, chunk, 2);
  return buildElementwise(
      builder, loc, cache, cast<RankedTensorType>(cache.getType()).getElementType(),
      [&](OpBuilder &b, Location l, Value old) -> Value {
        SlotArithmetic slots{b, l, op.getSinks(), op.getCapacity()};
        Value batch = linalg::IndexOp::create(b, l, 0);
        Value head = linalg::IndexOp::create(b, l, 1);
        Value slot = linalg::IndexOp::create(b, l, 2);
        Value channel = linalg::IndexOp::create(b, l, 3);
        Value start = buildStart(b, l, op.getPositions(), batch);

        Value row = slots.sourceRow(slot, start, chunkLength);
        Value written =
            slots.cmp(arith::CmpIPredicate::sge, row, slots.constant(0));
        // Read row 0 for unwritten slots so the read stays in bounds.
        // NOTE: a chunk of length 0 still reads row 0, out of bounds.
        Value safeRow = slots.select(written, row, slots.constant(0));
        Value fresh = tensor::ExtractOp::create(
            b, l, chunk, ValueRange{batch, head, safeRow, channel});
        return slots.select(written, fresh, old);
      });
}

FailureOr<SmallVector<Value>>
mlir::rill::decomposeCacheUpdate(RewriterBase &rewriter, CacheUpdateOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  SmallVector<Value> results = {
      buildUpdatedCache(rewriter, loc, op, op.getKey(), op.getKeyCache()),
      buildUpdatedCache(rewriter, loc, op, op.getValue(), op.getValueCache())};
  rewriter.replaceOp(op, results);
  return results;
}

namespace {

struct DecomposeCacheAttentionPattern : OpRewritePattern<CacheAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CacheAttentionOp op,
                                PatternRewriter &rewriter) const override {
    return decomposeCacheAttention(rewriter, op);
  }
};

struct DecomposeCacheUpdatePattern : OpRewritePattern<CacheUpdateOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CacheUpdateOp op,
                                PatternRewriter &rewriter) const override {
    return decomposeCacheUpdate(rewriter, op);
  }
};

} // namespace

void mlir::rill::populateDecomposeCacheOpsPatterns(
    RewritePatternSet &patterns) {
  patterns.add<DecomposeCacheAttentionPattern, DecomposeCacheUpdatePattern>(
      patterns.getContext());
}
