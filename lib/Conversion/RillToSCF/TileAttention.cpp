//===- TileAttention.cpp - Tiled online-softmax attention ------*- C++ -*-===//
//
// Lowers rill.attention to a flash-attention style loop nest on memrefs.
// Each iteration of the outer parallel loop owns one batch, one key/value
// head with all the query heads that read it, and one block of query rows.
// It keeps the running row maximum, row sum and output accumulator in
// stack buffers and walks the key tiles chosen by the tile schedule, so a
// key or value row is read once per group of query heads and empty tiles
// are never touched.
//
//===----------------------------------------------------------------------===//

#include "rill/Conversion/RillToSCF/RillToSCF.h"

#include "TileSchedule.h"
#include "rill/Dialect/Rill/IR/RillOps.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;
using namespace mlir::rill;

namespace {

/// Whether a key tile runs the mask predicate.
enum class TileMode { Full, Partial };

/// The key rows that one pass of the rill.cache_attention kernel walks.
/// Each reads one key memref with one query (see buildCacheSchedule).
enum class CacheSegment {
  /// Not a cache attention: positions and the mask attribute decide.
  None,
  /// Cache slots below `sinks`, with `query_sink`.
  SinkSlots,
  /// The ring of window slots, with `query`.
  WindowSlots,
  /// Chunk rows at stream positions below `sinks`, with `query_sink`.
  ChunkSinkRows,
  /// The other chunk rows, with `query`.
  ChunkRows,
};

/// Builds the loop nest of one rill.attention op. The members hold the
/// memrefs and sizes shared by all parts of the kernel.
class TiledAttentionBuilder {
public:
  TiledAttentionBuilder(RewriterBase &rewriter, AttentionOp op,
                        const TileAttentionOptions &options)
      : b(rewriter), loc(op.getLoc()), op(op), options(options),
        mask(op.getMask()) {}
  TiledAttentionBuilder(RewriterBase &rewriter, CacheAttentionOp cacheOp,
                        const TileAttentionOptions &options)
      : b(rewriter), loc(cacheOp.getLoc()), cacheOp(cacheOp),
        options(options) {}

  /// Emits the kernel before `op` and returns the result tensor.
  Value build();

private:
  // Small emission helpers.
  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value f32(double value) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
  }
  Value add(Value lhs, Value rhs) {
    return arith::AddIOp::create(b, loc, lhs, rhs);
  }
  Value sub(Value lhs, Value rhs) {
    return arith::SubIOp::create(b, loc, lhs, rhs);
  }
  Value mul(Value lhs, Value rhs) {
    return arith::MulIOp::create(b, loc, lhs, rhs);
  }
  Value minIndex(Value lhs, Value rhs) {
    return arith::MinSIOp::create(b, loc, lhs, rhs);
  }
  Value maxIndex(Value lhs, Value rhs) {
    return arith::MaxSIOp::create(b, loc, lhs, rhs);
  }
  Value ceilDiv(Value lhs, int64_t divisor) {
    return arith::CeilDivSIOp::create(b, loc, lhs, index(divisor));
  }
  Value floorDiv(Value lhs, int64_t divisor) {
    return arith::FloorDivSIOp::create(b, loc, lhs, index(divisor));
  }
  Value negativeInfinity() {
    return f32(-std::numeric_limits<double>::infinity());
  }
  VectorType vectorType() {
    return VectorType::get({options.vectorWidth}, b.getF32Type());
  }
  Value dim(Value memref, int64_t position);
  Value toBuffer(Value tensor);

  /// Emits an scf.for over `[lower, upper)` whose body `body` receives the
  /// induction variable and the loop-carried values and returns the values
  /// to yield.
  scf::ForOp
  forLoop(Value lower, Value upper, ValueRange inits,
          function_ref<SmallVector<Value>(Value, ValueRange)> body);

  /// Loads chunk `chunk` of a row of `size` elements whose first element is
  /// at `indices` (the last index is the column) as a vector, zero-padded
  /// past `size`.
  Value loadRowChunk(Value memref, SmallVector<Value> indices, int64_t chunk,
                     int64_t size);
  void storeRowChunk(Value vector, Value memref, SmallVector<Value> indices,
                     int64_t chunk, int64_t size);

  // Parts of the kernel.
  void buildLoopNest();
  void buildBlock(Value batch, Value group, Value queryBlock);
  void buildKeyTile(Value keyStart, Value keyRows, TileMode mode);
  void buildStaticSchedule(const StaticTileSchedule &schedule);
  void buildDynamicSchedule();
  void buildKeyTileWithTest(Value keyStart, Value keyRows, Value isFull);
  void buildCacheSchedule();
  void buildCacheSegment(CacheSegment kind, Value begin, Value end);
  Value buildCacheFullTileTest(Value keyStart, Value keyRows);
  Value buildWindowSlotPosition(Value slot);
  Value buildVisible(Value queryRow, Value keyRow, Value head);
  void buildPrefetch(Value keyStart);
  void buildRowUpdate(Value head, Value row, Value queryRow, Value keyStart,
                      Value keyRows, TileMode mode);
  void buildTransposedQuery();
  Value reduceLanesTree(ArrayRef<Value> partials);
  void buildRowLaneUpdate(Value headInGroup, Value head, Value keyStart,
                          Value keyRows, TileMode mode);
  Value buildRowLaneScores(ArrayRef<Value> dots, Value head, Value keyRow,
                           TileMode mode);
  void buildFinalize();

  RewriterBase &b;
  Location loc;
  /// Exactly one of `op` and `cacheOp` is set.
  AttentionOp op;
  CacheAttentionOp cacheOp;
  const TileAttentionOptions &options;
  MaskAttrInterface mask;

  // rill.cache_attention operands as memrefs, and the query and key/value
  // memrefs of the segment being emitted (`query`, `key` and `value` point
  // to one of them).
  Value chunkQuery, sinkQuery, chunkKey, chunkValue, cacheKey, cacheValue;
  Value positions;
  CacheSegment segment = CacheSegment::None;
  // Per block values of the cache schedule: the chunk's first stream
  // position, the window size and the ring arithmetic (see
  // buildCacheSchedule).
  Value streamStart, window, sinkCount, lastSlot, ringBase;

  // Operands as memrefs.
  Value query, key, value, bias, sinkLogits, output;
  Value qPos, kPos;

  // Sizes.
  int64_t headDim = 0, valueDim = 0, queryTile = 0;
  int64_t numHeadChunks = 0, numValueChunks = 0, paddedKeyTile = 0;
  Value batchSize, numQueryHeads, numKvHeads, numQueries, numKeys;
  Value groupSize, numQueryBlocks, numKeyTiles;
  bool biasBroadcastsBatch = false, biasBroadcastsHeads = false;
  double scale = 1.0;
  std::optional<double> softcap;
  std::optional<StaticTileSchedule> staticSchedule;
  /// Whether query rows occupy vector lanes (prefill blocks, see
  /// buildRowLaneUpdate) instead of head-dimension elements.
  bool rowLanes = false;
  /// Whether the operands allow row lanes at all; a dynamic query count
  /// then picks the layout at run time.
  bool lanesFit = false;

  // Per block values, set by buildBlock.
  Value batch, group, queryBlock, queryStart, queryRows, rowCapacity;
  Value maxBuffer, sumBuffer, accBuffer, scoreBuffer;
  Value transposedQuery, alphaBuffer;
};

} // namespace

Value TiledAttentionBuilder::dim(Value memref, int64_t position) {
  auto type = cast<MemRefType>(memref.getType());
  if (!type.isDynamicDim(position))
    return index(type.getDimSize(position));
  return memref::DimOp::create(b, loc, memref, position);
}

// Inputs become read-only memrefs with a unit innermost stride, which keeps
// row chunks contiguous vector loads whatever the outer strides are.
Value TiledAttentionBuilder::toBuffer(Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  strides.back() = 1;
  auto layout = StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                                       strides);
  auto memrefType =
      MemRefType::get(type.getShape(), type.getElementType(), layout);
  return bufferization::ToBufferOp::create(b, loc, memrefType, tensor,
                                           b.getUnitAttr());
}

scf::ForOp TiledAttentionBuilder::forLoop(
    Value lower, Value upper, ValueRange inits,
    function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  return scf::ForOp::create(
      b, loc, lower, upper, index(1), inits,
      [&](OpBuilder &nested, Location, Value iv, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        SmallVector<Value> yielded = body(iv, args);
        scf::YieldOp::create(b, loc, yielded);
      });
}

Value TiledAttentionBuilder::loadRowChunk(Value memref,
                                          SmallVector<Value> indices,
                                          int64_t chunk, int64_t size) {
  int64_t width = options.vectorWidth;
  indices.back() = add(indices.back(), index(chunk * width));
  if ((chunk + 1) * width <= size)
    return vector::LoadOp::create(b, loc, vectorType(), memref, indices);
  Value mask = vector::CreateMaskOp::create(
      b, loc, VectorType::get({width}, b.getI1Type()),
      ValueRange{index(size - chunk * width)});
  Value zeros = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vectorType(), b.getF32FloatAttr(0.0)));
  return vector::MaskedLoadOp::create(b, loc, vectorType(), memref, indices,
                                      mask, zeros);
}

void TiledAttentionBuilder::storeRowChunk(Value vector, Value memref,
                                          SmallVector<Value> indices,
                                          int64_t chunk, int64_t size) {
  int64_t width = options.vectorWidth;
  indices.back() = add(indices.back(), index(chunk * width));
  if ((chunk + 1) * width <= size) {
    vector::StoreOp::create(b, loc, vector, memref, indices);
    return;
  }
  Value mask = vector::CreateMaskOp::create(
      b, loc, VectorType::get({width}, b.getI1Type()),
      ValueRange{index(size - chunk * width)});
  vector::MaskedStoreOp::create(b, loc, memref, indices, mask, vector);
}

Value TiledAttentionBuilder::build() {
  Value queryTensor = op ? op.getQuery() : cacheOp.getQuery();
  Value valueTensor = op ? op.getValue() : cacheOp.getValue();
  auto queryType = cast<RankedTensorType>(queryTensor.getType());
  auto valueType = cast<RankedTensorType>(valueTensor.getType());
  headDim = queryType.getDimSize(3);
  valueDim = valueType.getDimSize(3);
  scale = op ? op.getEffectiveScale() : cacheOp.getEffectiveScale();
  std::optional<APFloat> cap = op ? op.getSoftcap() : cacheOp.getSoftcap();
  if (cap)
    softcap = cap->convertToDouble();

  int64_t width = options.vectorWidth;
  numHeadChunks = llvm::divideCeil(headDim, width);
  numValueChunks = llvm::divideCeil(valueDim, width);
  paddedKeyTile = llvm::alignTo(options.keyTile, width);

  query = toBuffer(queryTensor);
  Value sinkLogitsTensor = op ? op.getSinkLogits() : cacheOp.getSinkLogits();
  if (sinkLogitsTensor)
    sinkLogits = toBuffer(sinkLogitsTensor);
  if (op) {
    key = toBuffer(op.getKey());
    value = toBuffer(op.getValue());
    if (op.getBias()) {
      bias = toBuffer(op.getBias());
      auto biasType = cast<RankedTensorType>(op.getBias().getType());
      biasBroadcastsBatch = biasType.getDimSize(0) == 1;
      biasBroadcastsHeads = biasType.getDimSize(1) == 1;
    }
    qPos = op.getQPos();
    kPos = op.getKPos();
    numKeys = dim(key, 2);
  } else {
    chunkQuery = query;
    sinkQuery = toBuffer(cacheOp.getQuerySink());
    chunkKey = toBuffer(cacheOp.getKey());
    chunkValue = toBuffer(cacheOp.getValue());
    cacheKey = toBuffer(cacheOp.getKeyCache());
    cacheValue = toBuffer(cacheOp.getValueCache());
    positions = toBuffer(cacheOp.getPositions());
    key = chunkKey;
  }

  batchSize = dim(query, 0);
  numQueryHeads = dim(query, 1);
  numQueries = dim(query, 2);
  numKvHeads = dim(key, 1);
  groupSize = arith::DivUIOp::create(b, loc, numQueryHeads, numKvHeads);

  // A decode step has fewer queries than a tile: shrink the block to them.
  queryTile = options.queryTile;
  if (!queryType.isDynamicDim(2))
    queryTile = std::max<int64_t>(1, std::min(queryTile,
                                               queryType.getDimSize(2)));
  // Blocks of at least one full vector of query rows without a bias put
  // the rows in vector lanes. The bias would need a strided gather per key.
  lanesFit = !bias && options.queryTile == options.vectorWidth;
  rowLanes = lanesFit && !queryType.isDynamicDim(2) &&
             queryType.getDimSize(2) >= options.vectorWidth;
  numQueryBlocks = ceilDiv(numQueries, queryTile);

  // The compile-time schedule needs constant positions and static lengths.
  APInt qPosValue, kPosValue;
  auto keyType = cast<RankedTensorType>(op ? op.getKey().getType()
                                           : cacheOp.getKey().getType());
  if (op && matchPattern(qPos, m_ConstantInt(&qPosValue)) &&
      matchPattern(kPos, m_ConstantInt(&kPosValue)) &&
      !queryType.isDynamicDim(2) && !keyType.isDynamicDim(2)) {
    StaticScheduleProblem problem;
    problem.qPos = qPosValue.getSExtValue();
    problem.kPos = kPosValue.getSExtValue();
    problem.numQueries = queryType.getDimSize(2);
    problem.numKeys = keyType.getDimSize(2);
    problem.queryTile = queryTile;
    problem.keyTile = options.keyTile;
    if (!queryType.isDynamicDim(1) && !keyType.isDynamicDim(1)) {
      problem.numQueryHeads = queryType.getDimSize(1);
      problem.groupSize = queryType.getDimSize(1) / keyType.getDimSize(1);
    }
    staticSchedule = computeStaticTileSchedule(mask, problem,
                                               options.staticTableLimit);
  }

  // The output is written exactly once per element, by the finalize step
  // of the block that owns its row.
  SmallVector<Value> dynamicSizes;
  auto resultType = cast<RankedTensorType>(
      (op ? op.getResult() : cacheOp.getResult()).getType());
  SmallVector<Value> outputSizes = {batchSize, numQueryHeads, numQueries};
  for (int64_t dimension = 0; dimension < 3; ++dimension)
    if (resultType.isDynamicDim(dimension))
      dynamicSizes.push_back(outputSizes[dimension]);
  auto outputType =
      MemRefType::get(resultType.getShape(), resultType.getElementType());
  output = memref::AllocOp::create(b, loc, outputType, dynamicSizes,
                                   b.getI64IntegerAttr(64));

  // A dynamic number of queries (a streaming step's chunk) decides between
  // the two block layouts at run time: rows in lanes for prefill chunks,
  // one row at a time for decode steps.
  if (lanesFit && queryType.isDynamicDim(2)) {
    Value enoughRows = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::sge, numQueries,
        index(options.vectorWidth));
    scf::IfOp::create(
        b, loc, enoughRows,
        [&](OpBuilder &nested, Location) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          rowLanes = true;
          buildLoopNest();
          scf::YieldOp::create(b, loc);
        },
        [&](OpBuilder &nested, Location) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          rowLanes = false;
          buildLoopNest();
          scf::YieldOp::create(b, loc);
        });
  } else {
    buildLoopNest();
  }

  return bufferization::ToTensorOp::create(b, loc, resultType, output,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

void TiledAttentionBuilder::buildLoopNest() {
  Value zero = index(0), one = index(1);
  SmallVector<Value> lowerBounds = {zero, zero, zero};
  SmallVector<Value> upperBounds = {batchSize, numKvHeads, numQueryBlocks};
  SmallVector<Value> steps = {one, one, one};
  Operation *outerLoop;
  if (options.parallel) {
    auto parallel = scf::ParallelOp::create(b, loc, lowerBounds, upperBounds,
                                            steps);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(parallel.getBody());
    Block *body = parallel.getBody();
    buildBlock(body->getArgument(0), body->getArgument(1),
               body->getArgument(2));
    outerLoop = parallel;
  } else {
    scf::LoopNest nest =
        scf::buildLoopNest(b, loc, lowerBounds, upperBounds, steps);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(nest.loops.back().getBody()->getTerminator());
    buildBlock(nest.loops[0].getInductionVar(),
               nest.loops[1].getInductionVar(),
               nest.loops[2].getInductionVar());
    outerLoop = nest.loops.front();
  }

  // Record the static schedule's size for tests and benchmarks.
  if (staticSchedule) {
    outerLoop->setAttr("rill.tiles_total",
                       b.getI64IntegerAttr(staticSchedule->numTotal));
    outerLoop->setAttr("rill.tiles_full",
                       b.getI64IntegerAttr(staticSchedule->numFull));
    outerLoop->setAttr("rill.tiles_partial",
                       b.getI64IntegerAttr(staticSchedule->numPartial));
  }
}

void TiledAttentionBuilder::buildBlock(Value batchIndex, Value groupIndex,
                                       Value queryBlockIndex) {
  batch = batchIndex;
  group = groupIndex;
  queryBlock = queryBlockIndex;

  // The stack buffers live for one iteration of the parallel loop.
  auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange{});
  Block *scopeBody = b.createBlock(&scope.getBodyRegion());
  b.setInsertionPointToStart(scopeBody);
  memref::AllocaScopeReturnOp::create(b, loc, ValueRange{});
  b.setInsertionPointToStart(scopeBody);

  queryStart = mul(queryBlock, index(queryTile));
  queryRows = minIndex(index(queryTile), sub(numQueries, queryStart));
  rowCapacity = mul(groupSize, index(queryTile));

  // Row r of the block is query head `group * groupSize + r / queryTile`
  // and query row `queryStart + r % queryTile`.
  auto f32Type = b.getF32Type();
  int64_t paddedValueDim = numValueChunks * options.vectorWidth;
  maxBuffer = memref::AllocaOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, f32Type),
      ValueRange{rowCapacity});
  sumBuffer = memref::AllocaOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, f32Type),
      ValueRange{rowCapacity});
  accBuffer = memref::AllocaOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic, paddedValueDim}, f32Type),
      ValueRange{rowCapacity}, b.getI64IntegerAttr(64));
  if (rowLanes) {
    scoreBuffer = memref::AllocaOp::create(
        b, loc, MemRefType::get({paddedKeyTile, options.vectorWidth}, f32Type),
        ValueRange{}, b.getI64IntegerAttr(64));
    alphaBuffer = memref::AllocaOp::create(
        b, loc, MemRefType::get({options.vectorWidth}, f32Type), ValueRange{},
        b.getI64IntegerAttr(64));
    transposedQuery = memref::AllocaOp::create(
        b, loc,
        MemRefType::get({ShapedType::kDynamic, options.vectorWidth}, f32Type),
        ValueRange{mul(groupSize, index(headDim))}, b.getI64IntegerAttr(64));
  } else {
    scoreBuffer = memref::AllocaOp::create(
        b, loc, MemRefType::get({paddedKeyTile}, f32Type), ValueRange{},
        b.getI64IntegerAttr(64));
  }

  Value negInf = negativeInfinity();
  Value zeroF = f32(0.0);
  Value zeroVector = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vectorType(), b.getF32FloatAttr(0.0)));
  forLoop(index(0), rowCapacity, {}, [&](Value row, ValueRange) {
    memref::StoreOp::create(b, loc, negInf, maxBuffer, row);
    memref::StoreOp::create(b, loc, zeroF, sumBuffer, row);
    for (int64_t chunk = 0; chunk < numValueChunks; ++chunk)
      vector::StoreOp::create(
          b, loc, zeroVector, accBuffer,
          ValueRange{row, index(chunk * options.vectorWidth)});
    return SmallVector<Value>{};
  });

  if (cacheOp) {
    buildCacheSchedule();
  } else {
    if (rowLanes)
      buildTransposedQuery();
    if (staticSchedule)
      buildStaticSchedule(*staticSchedule);
    else
      buildDynamicSchedule();
  }

  buildFinalize();
}

void TiledAttentionBuilder::buildStaticSchedule(
    const StaticTileSchedule &schedule) {
  // The table is a constant tensor; bufferization turns it into a global.
  auto makeTable = [&](ArrayRef<int32_t> entries) {
    auto tensorType = RankedTensorType::get(
        {static_cast<int64_t>(entries.size())}, b.getI32Type());
    Value constant = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(tensorType, entries));
    return bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(tensorType.getShape(), b.getI32Type()),
        constant, b.getUnitAttr());
  };
  auto loadIndex = [&](Value table, Value position) -> Value {
    Value entry = memref::LoadOp::create(b, loc, table, position);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), entry);
  };

  if (schedule.tiles.empty())
    return;
  Value offsets = makeTable(schedule.rowOffsets);
  Value tiles = makeTable(schedule.tiles);
  Value kinds;
  bool mixed = schedule.numFull > 0 && schedule.numPartial > 0;
  if (mixed) {
    SmallVector<int32_t> fullFlags(schedule.isFull.begin(),
                                   schedule.isFull.end());
    kinds = makeTable(fullFlags);
  }

  Value tableRow = queryBlock;
  if (schedule.perGroup)
    tableRow = add(mul(group, index(schedule.numQueryBlocks)), queryBlock);
  Value first = loadIndex(offsets, tableRow);
  Value last = loadIndex(offsets, add(tableRow, index(1)));
  forLoop(first, last, {}, [&](Value entry, ValueRange) {
    Value tile = loadIndex(tiles, entry);
    Value keyStart = mul(tile, index(options.keyTile));
    Value keyRows = minIndex(index(options.keyTile), sub(numKeys, keyStart));
    if (!mixed) {
      buildKeyTile(keyStart, keyRows,
                   schedule.numFull > 0 ? TileMode::Full : TileMode::Partial);
      return SmallVector<Value>{};
    }
    Value flag = memref::LoadOp::create(b, loc, kinds, entry);
    Value isFull = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ne, flag,
        arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0)));
    buildKeyTileWithTest(keyStart, keyRows, isFull);
    return SmallVector<Value>{};
  });
}

void TiledAttentionBuilder::buildKeyTileWithTest(Value keyStart,
                                                 Value keyRows,
                                                 Value isFull) {
  scf::IfOp::create(
      b, loc, isFull,
      [&](OpBuilder &nested, Location) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        buildKeyTile(keyStart, keyRows, TileMode::Full);
        scf::YieldOp::create(b, loc);
      },
      [&](OpBuilder &nested, Location) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        buildKeyTile(keyStart, keyRows, TileMode::Partial);
        scf::YieldOp::create(b, loc);
      });
}

void TiledAttentionBuilder::buildDynamicSchedule() {
  int64_t keyTile = options.keyTile;
  Value zero = index(0);
  Value queryFirst = add(qPos, queryStart);
  Value queryLast = sub(add(queryFirst, queryRows), index(1));

  // The same bounds as getKeyTileRange, computed at run time.
  Value numKeyTiles = ceilDiv(numKeys, keyTile);
  Value end = numKeyTiles;
  if (mask.isCausal()) {
    Value lastTile = floorDiv(sub(queryLast, kPos), keyTile);
    end = minIndex(numKeyTiles, maxIndex(zero, add(lastTile, index(1))));
  }
  std::optional<int64_t> lookback = mask.getMaxLookback();
  Value sinkEnd = zero, windowBegin = zero;
  if (lookback) {
    Value sinkKeys = index(mask.getNumSinkKeys());
    sinkEnd = minIndex(end, maxIndex(zero, ceilDiv(sub(sinkKeys, kPos),
                                                   keyTile)));
    Value firstRow = sub(add(sub(queryFirst, index(*lookback)), index(1)),
                         kPos);
    windowBegin = minIndex(end, maxIndex(sinkEnd, floorDiv(firstRow,
                                                           keyTile)));
  }

  auto visit = [&](Value tile) {
    Value keyStart = mul(tile, index(keyTile));
    Value keyRows = minIndex(index(keyTile), sub(numKeys, keyStart));
    Value keyFirst = add(kPos, keyStart);
    Value keyLast = sub(add(keyFirst, keyRows), index(1));
    Value isFull = buildFullTileTest(b, loc, mask, queryFirst, queryLast,
                                     keyFirst, keyLast);
    if (isFull)
      buildKeyTileWithTest(keyStart, keyRows, isFull);
    else
      buildKeyTile(keyStart, keyRows, TileMode::Partial);
    return SmallVector<Value>{};
  };
  if (lookback && mask.getNumSinkKeys() > 0)
    forLoop(zero, sinkEnd, {},
            [&](Value tile, ValueRange) { return visit(tile); });
  forLoop(windowBegin, end, {},
          [&](Value tile, ValueRange) { return visit(tile); });
}

// rill.cache_attention. Its keys are the cache slots followed by the
// chunk rows, but the window slots form a ring, so the block walks four
// segments, each with one key memref and one query:
//
//   sink slots [0, min(sinks, s)): all visible (their positions are below
//     `sinks` and below every query's), with query_sink;
//   window slots [sinks, min(C, s)), the ones written so far;
//   chunk rows [0, sinkRows) at positions below `sinks`, with query_sink;
//   the other chunk rows, up to the block's last query row.
//
// With `last = s - 1` the newest cached window position and `lastSlot` its
// slot, window slot c holds `ringBase + c` when c <= lastSlot and
// `ringBase + c - W` otherwise (ringBase = last - lastSlot); a value below
// `sinks` means the slot is empty.
void TiledAttentionBuilder::buildCacheSchedule() {
  Value zero = index(0);
  Value start = memref::LoadOp::create(b, loc, positions, batch);
  streamStart =
      arith::IndexCastOp::create(b, loc, b.getIndexType(), start);
  sinkCount = cacheOp.getSinks();
  window = sub(cacheOp.getCapacity(), sinkCount);
  Value last = sub(streamStart, index(1));
  // The remainder is only used once last >= sinks, where it is in [0, W).
  lastSlot = add(sinkCount, arith::RemSIOp::create(
                                b, loc, sub(last, sinkCount), window));
  ringBase = sub(last, lastSlot);

  Value slots = dim(cacheKey, 2);
  Value chunkRows = numQueries;
  Value blockEnd = add(queryStart, queryRows);

  buildCacheSegment(CacheSegment::SinkSlots, zero,
                    minIndex(sinkCount, streamStart));
  // The ring fills from slot `sinks` upwards, so only slots below
  // min(C, s) have been written; a dense session's empty tail costs
  // nothing.
  buildCacheSegment(CacheSegment::WindowSlots, sinkCount,
                    maxIndex(sinkCount, minIndex(slots, streamStart)));
  Value sinkRows = minIndex(chunkRows,
                            maxIndex(zero, sub(sinkCount, streamStart)));
  buildCacheSegment(CacheSegment::ChunkSinkRows, zero,
                    minIndex(sinkRows, blockEnd));
  // Chunk keys more than W - 1 rows before the block's first row are
  // outside every row's window.
  Value begin = sinkRows;
  if (!cacheOp.getDenseWithinChunk())
    begin = maxIndex(begin, add(sub(queryStart, window), index(1)));
  buildCacheSegment(CacheSegment::ChunkRows, begin,
                    maxIndex(begin, minIndex(chunkRows, blockEnd)));
}

void TiledAttentionBuilder::buildCacheSegment(CacheSegment kind, Value begin,
                                              Value end) {
  segment = kind;
  bool readsCache =
      kind == CacheSegment::SinkSlots || kind == CacheSegment::WindowSlots;
  bool sinkQueries =
      kind == CacheSegment::SinkSlots || kind == CacheSegment::ChunkSinkRows;
  query = sinkQueries ? sinkQuery : chunkQuery;
  key = readsCache ? cacheKey : chunkKey;
  value = readsCache ? cacheValue : chunkValue;
  numKeys = dim(key, 2);

  Value length = maxIndex(index(0), sub(end, begin));
  auto nonEmpty = scf::IfOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, length,
                            index(0)),
      /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(nonEmpty.thenBlock()->getTerminator());
  if (rowLanes)
    buildTransposedQuery();
  forLoop(index(0), ceilDiv(length, options.keyTile), {},
          [&](Value tile, ValueRange) {
            Value keyStart = add(begin, mul(tile, index(options.keyTile)));
            Value keyRows =
                minIndex(index(options.keyTile), sub(end, keyStart));
            if (kind == CacheSegment::SinkSlots)
              buildKeyTile(keyStart, keyRows, TileMode::Full);
            else if (kind == CacheSegment::ChunkSinkRows)
              buildKeyTile(keyStart, keyRows, TileMode::Partial);
            else
              buildKeyTileWithTest(keyStart, keyRows,
                                   buildCacheFullTileTest(keyStart, keyRows));
            return SmallVector<Value>{};
          });
}

// Whether every key of the tile is visible to every row of the block.
Value TiledAttentionBuilder::buildCacheFullTileTest(Value keyStart,
                                                    Value keyRows) {
  using Predicate = arith::CmpIPredicate;
  auto compare = [&](Predicate predicate, Value lhs, Value rhs) -> Value {
    return arith::CmpIOp::create(b, loc, predicate, lhs, rhs);
  };
  auto both = [&](Value lhs, Value rhs) -> Value {
    return arith::AndIOp::create(b, loc, lhs, rhs);
  };
  bool dense = cacheOp.getDenseWithinChunk();
  Value keyLast = sub(add(keyStart, keyRows), index(1));
  Value rowLast = sub(add(queryStart, queryRows), index(1));

  if (segment == CacheSegment::WindowSlots) {
    // Positions grow with the slot except across lastSlot, where the ring
    // wraps; the tile's oldest position decides.
    Value wraps = both(compare(Predicate::sle, keyStart, lastSlot),
                       compare(Predicate::slt, lastSlot, keyLast));
    Value oldestSlot = arith::SelectOp::create(
        b, loc, wraps, add(lastSlot, index(1)), keyStart);
    Value oldest = buildWindowSlotPosition(oldestSlot);
    Value present = compare(Predicate::sge, oldest, sinkCount);
    if (dense)
      return present;
    Value newestQuery = add(streamStart, rowLast);
    return both(present, compare(Predicate::slt, sub(newestQuery, oldest),
                                 window));
  }

  // Chunk rows: causal, and inside the window of the block's last row.
  Value causal = compare(Predicate::sle, keyLast, queryStart);
  if (dense)
    return causal;
  return both(causal, compare(Predicate::slt, sub(rowLast, keyStart), window));
}

Value TiledAttentionBuilder::buildWindowSlotPosition(Value slot) {
  Value wrapped = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                        slot, lastSlot);
  Value shift = arith::SelectOp::create(b, loc, wrapped, window, index(0));
  return sub(add(ringBase, slot), shift);
}

// Whether the key in row `keyRow` of the current key memref is visible to
// query row `queryRow` of the chunk (or of the query operand).
Value TiledAttentionBuilder::buildVisible(Value queryRow, Value keyRow,
                                          Value head) {
  using Predicate = arith::CmpIPredicate;
  auto compare = [&](Predicate predicate, Value lhs, Value rhs) -> Value {
    return arith::CmpIOp::create(b, loc, predicate, lhs, rhs);
  };
  bool dense = cacheOp && cacheOp.getDenseWithinChunk();
  switch (segment) {
  case CacheSegment::None:
    return mask.buildVisible(b, loc, add(qPos, queryRow), add(kPos, keyRow),
                             head);
  case CacheSegment::SinkSlots:
    return arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1);
  case CacheSegment::WindowSlots: {
    Value position = buildWindowSlotPosition(keyRow);
    Value present = compare(Predicate::sge, position, sinkCount);
    if (dense)
      return present;
    Value queryPosition = add(streamStart, queryRow);
    return arith::AndIOp::create(
        b, loc, present,
        compare(Predicate::slt, sub(queryPosition, position), window));
  }
  case CacheSegment::ChunkSinkRows:
    return compare(Predicate::sle, keyRow, queryRow);
  case CacheSegment::ChunkRows: {
    Value causal = compare(Predicate::sle, keyRow, queryRow);
    if (dense)
      return causal;
    return arith::AndIOp::create(
        b, loc, causal,
        compare(Predicate::slt, sub(queryRow, keyRow), window));
  }
  }
  llvm_unreachable("unknown cache segment");
}

// Requests every cache line of the key and value rows from `keyStart` on
// (one tile), so that DRAM fetches of the tile that most likely follows
// overlap the current tile's arithmetic. Rows past the end are clamped to
// the last key.
void TiledAttentionBuilder::buildPrefetch(Value keyStart) {
  constexpr int64_t kFloatsPerCacheLine = 16;
  Value lastKey = sub(numKeys, index(1));
  forLoop(index(0), index(options.keyTile), {}, [&](Value keyInTile,
                                                    ValueRange) {
    Value keyRow = minIndex(add(keyStart, keyInTile), lastKey);
    auto prefetchRow = [&](Value memref, int64_t size) {
      for (int64_t column = 0; column < size; column += kFloatsPerCacheLine)
        memref::PrefetchOp::create(
            b, loc, memref, ValueRange{batch, group, keyRow, index(column)},
            b.getBoolAttr(false), b.getI32IntegerAttr(3),
            b.getBoolAttr(true));
    };
    prefetchRow(key, headDim);
    prefetchRow(value, valueDim);
    return SmallVector<Value>{};
  });
}

void TiledAttentionBuilder::buildKeyTile(Value keyStart, Value keyRows,
                                         TileMode mode) {
  if (options.prefetch)
    buildPrefetch(add(keyStart, index(options.keyTile)));

  // All query heads of the group and all rows of the block read the same
  // key and value tile, which stays in the L1/L2 cache meanwhile.
  forLoop(index(0), groupSize, {}, [&](Value headInGroup, ValueRange) {
    Value head = add(mul(group, groupSize), headInGroup);
    if (rowLanes) {
      buildRowLaneUpdate(headInGroup, head, keyStart, keyRows, mode);
      return SmallVector<Value>{};
    }
    forLoop(index(0), queryRows, {}, [&](Value rowInBlock, ValueRange) {
      Value row = add(mul(headInGroup, index(queryTile)), rowInBlock);
      Value queryRow = add(queryStart, rowInBlock);
      buildRowUpdate(head, row, queryRow, keyStart, keyRows, mode);
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

void TiledAttentionBuilder::buildRowUpdate(Value head, Value row,
                                           Value queryRow, Value keyStart,
                                           Value keyRows, TileMode mode) {
  int64_t width = options.vectorWidth;
  auto reassoc = arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
  Value negInf = negativeInfinity();

  SmallVector<Value> queryChunks;
  for (int64_t chunk = 0; chunk < numHeadChunks; ++chunk)
    queryChunks.push_back(loadRowChunk(
        query, {batch, head, queryRow, index(0)}, chunk, headDim));

  Value biasBatch = biasBroadcastsBatch ? index(0) : batch;
  Value biasHead = biasBroadcastsHeads ? index(0) : head;

  // Scores of the tile, with scale, soft-capping, bias and mask applied,
  // into the score buffer; the loop also tracks the tile's maximum.
  // Dot product of the query row with key row `keyRow` as a vector of
  // partial sums; two accumulators halve the FMA dependency chain.
  auto partialDot = [&](Value keyRow) {
    Value sums[2];
    for (int64_t chunk = 0; chunk < numHeadChunks; ++chunk) {
      Value keyChunk = loadRowChunk(key, {batch, group, keyRow, index(0)},
                                    chunk, headDim);
      Value &sum = sums[chunk % 2];
      sum = sum ? vector::FMAOp::create(b, loc, queryChunks[chunk], keyChunk,
                                        sum)
                      .getResult()
                : arith::MulFOp::create(b, loc, queryChunks[chunk], keyChunk)
                      .getResult();
    }
    if (!sums[1])
      return sums[0];
    return arith::AddFOp::create(b, loc, sums[0], sums[1]).getResult();
  };

  Value tileMax;
  if (llvm::isPowerOf2_64(width) && width > 1) {
    // `width` keys at a time: their partial-sum vectors are reduced together
    // by a shuffle tree into one vector of scores, which is cheaper than one
    // horizontal reduction per key and lets the rest run on vectors.
    Value negInfVector =
        vector::BroadcastOp::create(b, loc, vectorType(), negInf);
    Value lastKey = sub(keyRows, index(1));
    auto laneMaskType = VectorType::get({width}, b.getI1Type());
    auto groupLoop = forLoop(
        index(0), ceilDiv(keyRows, width), {negInfVector},
        [&](Value keyGroup, ValueRange args) {
          Value first = mul(keyGroup, index(width));
          SmallVector<Value> partials;
          for (int64_t lane = 0; lane < width; ++lane) {
            // Lanes past the tile read the last key again; they are
            // masked to -inf below.
            Value keyInTile = minIndex(add(first, index(lane)), lastKey);
            partials.push_back(partialDot(add(keyStart, keyInTile)));
          }
          Value scores = reduceLanesTree(partials);
          scores = arith::MulFOp::create(
              b, loc, scores,
              vector::BroadcastOp::create(b, loc, vectorType(), f32(scale)));
          if (softcap) {
            Value cap = vector::BroadcastOp::create(b, loc, vectorType(),
                                                    f32(*softcap));
            Value tanh = math::TanhOp::create(
                b, loc, arith::DivFOp::create(b, loc, scores, cap));
            scores = arith::MulFOp::create(b, loc, tanh, cap);
          }
          Value validLanes = vector::CreateMaskOp::create(
              b, loc, laneMaskType, ValueRange{sub(keyRows, first)});
          if (bias) {
            Value zeros = arith::ConstantOp::create(
                b, loc,
                DenseElementsAttr::get(vectorType(), b.getF32FloatAttr(0.0)));
            Value biasValues = vector::MaskedLoadOp::create(
                b, loc, vectorType(), bias,
                ValueRange{biasBatch, biasHead, queryRow,
                           add(keyStart, first)},
                validLanes, zeros);
            scores = arith::AddFOp::create(b, loc, scores, biasValues);
          }
          if (mode == TileMode::Partial) {
            Value visible = arith::ConstantOp::create(
                b, loc, DenseElementsAttr::get(laneMaskType, false));
            for (int64_t lane = 0; lane < width; ++lane) {
              Value keyRow = add(keyStart, add(first, index(lane)));
              Value lanePredicate = buildVisible(queryRow, keyRow, head);
              visible = vector::InsertOp::create(b, loc, lanePredicate,
                                                 visible,
                                                 ArrayRef<int64_t>{lane});
            }
            scores = arith::SelectOp::create(b, loc, visible, scores,
                                             negInfVector);
          }
          scores = arith::SelectOp::create(b, loc, validLanes, scores,
                                           negInfVector);
          vector::StoreOp::create(b, loc, scores, scoreBuffer, first);
          return SmallVector<Value>{
              arith::MaxNumFOp::create(b, loc, args[0], scores)};
        });
    tileMax = vector::ReductionOp::create(b, loc,
                                          vector::CombiningKind::MAXNUMF,
                                          groupLoop.getResult(0));
  } else {
    auto scoreLoop = forLoop(
        index(0), keyRows, {negInf}, [&](Value keyInTile, ValueRange args) {
          Value keyRow = add(keyStart, keyInTile);
          Value score = vector::ReductionOp::create(
              b, loc, vector::CombiningKind::ADD, partialDot(keyRow),
              reassoc);
          score = arith::MulFOp::create(b, loc, score, f32(scale));
          if (softcap) {
            Value scaled =
                arith::DivFOp::create(b, loc, score, f32(*softcap));
            Value tanh = math::TanhOp::create(b, loc, scaled);
            score = arith::MulFOp::create(b, loc, tanh, f32(*softcap));
          }
          if (bias) {
            Value biasValue = memref::LoadOp::create(
                b, loc, bias,
                ValueRange{biasBatch, biasHead, queryRow, keyRow});
            score = arith::AddFOp::create(b, loc, score, biasValue);
          }
          if (mode == TileMode::Partial) {
            Value visible = buildVisible(queryRow, keyRow, head);
            score = arith::SelectOp::create(b, loc, visible, score, negInf);
          }
          memref::StoreOp::create(b, loc, score, scoreBuffer, keyInTile);
          Value runningMax = arith::MaxNumFOp::create(b, loc, args[0], score);
          return SmallVector<Value>{runningMax};
        });
    tileMax = scoreLoop.getResult(0);
  }

  // Online softmax: rescale by exp(oldMax - newMax). A row that has seen
  // no visible key keeps max -inf; subtracting 0 instead keeps every
  // exponential at exp(-inf) = 0 and avoids inf - inf.
  Value oldMax = memref::LoadOp::create(b, loc, maxBuffer, row);
  Value newMax = arith::MaxNumFOp::create(b, loc, oldMax, tileMax);
  Value isEmptyRow = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                           newMax, negInf);
  Value shift = arith::SelectOp::create(b, loc, isEmptyRow, f32(0.0), newMax);
  Value alpha = math::ExpOp::create(
      b, loc, arith::SubFOp::create(b, loc, oldMax, shift));

  // Probabilities, in vectors of `width` scores; lanes past the tile's
  // last key become exp(-inf) = 0.
  Value shiftVector = vector::BroadcastOp::create(b, loc, vectorType(), shift);
  Value negInfVector = vector::BroadcastOp::create(b, loc, vectorType(), negInf);
  Value numChunks = ceilDiv(keyRows, width);
  auto probabilityLoop = forLoop(
      index(0), numChunks, {f32(0.0)}, [&](Value chunk, ValueRange args) {
        Value offset = mul(chunk, index(width));
        Value scores = vector::LoadOp::create(b, loc, vectorType(),
                                              scoreBuffer, offset);
        Value lanes = vector::CreateMaskOp::create(
            b, loc, VectorType::get({width}, b.getI1Type()),
            ValueRange{sub(keyRows, offset)});
        scores = arith::SelectOp::create(b, loc, lanes, scores, negInfVector);
        Value probabilities = math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, scores, shiftVector));
        vector::StoreOp::create(b, loc, probabilities, scoreBuffer, offset);
        Value chunkSum = vector::ReductionOp::create(
            b, loc, vector::CombiningKind::ADD, probabilities, reassoc);
        return SmallVector<Value>{
            arith::AddFOp::create(b, loc, args[0], chunkSum)};
      });
  Value tileSum = probabilityLoop.getResult(0);

  Value oldSum = memref::LoadOp::create(b, loc, sumBuffer, row);
  Value newSum = arith::AddFOp::create(
      b, loc, arith::MulFOp::create(b, loc, oldSum, alpha), tileSum);
  memref::StoreOp::create(b, loc, newSum, sumBuffer, row);
  memref::StoreOp::create(b, loc, newMax, maxBuffer, row);

  // acc = acc * alpha + sum_j p[j] * value[j, :], with the accumulator row
  // held in registers across the tile.
  Value alphaVector = vector::BroadcastOp::create(b, loc, vectorType(), alpha);
  SmallVector<Value> accChunks;
  for (int64_t chunk = 0; chunk < numValueChunks; ++chunk) {
    Value acc = vector::LoadOp::create(b, loc, vectorType(), accBuffer,
                                       ValueRange{row, index(chunk * width)});
    accChunks.push_back(arith::MulFOp::create(b, loc, acc, alphaVector));
  }
  auto valueLoop = forLoop(
      index(0), keyRows, accChunks, [&](Value keyInTile, ValueRange args) {
        Value keyRow = add(keyStart, keyInTile);
        Value probability =
            memref::LoadOp::create(b, loc, scoreBuffer, keyInTile);
        Value broadcast =
            vector::BroadcastOp::create(b, loc, vectorType(), probability);
        SmallVector<Value> updated;
        for (int64_t chunk = 0; chunk < numValueChunks; ++chunk) {
          Value valueChunk = loadRowChunk(
              value, {batch, group, keyRow, index(0)}, chunk, valueDim);
          updated.push_back(vector::FMAOp::create(b, loc, broadcast,
                                                  valueChunk, args[chunk]));
        }
        return updated;
      });
  for (int64_t chunk = 0; chunk < numValueChunks; ++chunk)
    vector::StoreOp::create(b, loc, valueLoop.getResult(chunk), accBuffer,
                            ValueRange{row, index(chunk * width)});
}

// Reduces `width` vectors of partial sums (one per key) to one vector whose
// lane k is the sum of vector k. Each level pairs neighbouring vectors and
// adds the low halves of every key's lane segment to the high halves, so
// the segments halve while the keys per vector double.
Value TiledAttentionBuilder::reduceLanesTree(ArrayRef<Value> partials) {
  int64_t width = options.vectorWidth;
  SmallVector<Value> level(partials.begin(), partials.end());
  int64_t keysPerVector = 1;
  while (level.size() > 1) {
    int64_t segment = width / keysPerVector;
    SmallVector<int64_t> lowLanes, highLanes;
    for (int64_t source = 0; source < 2; ++source) {
      for (int64_t slot = 0; slot < keysPerVector; ++slot) {
        for (int64_t lane = 0; lane < segment / 2; ++lane) {
          int64_t base = source * width + slot * segment + lane;
          lowLanes.push_back(base);
          highLanes.push_back(base + segment / 2);
        }
      }
    }
    SmallVector<Value> next;
    for (size_t pair = 0; pair + 1 < level.size(); pair += 2) {
      Value low = vector::ShuffleOp::create(b, loc, level[pair],
                                            level[pair + 1], lowLanes);
      Value high = vector::ShuffleOp::create(b, loc, level[pair],
                                             level[pair + 1], highLanes);
      next.push_back(arith::AddFOp::create(b, loc, low, high));
    }
    level = std::move(next);
    keysPerVector *= 2;
  }
  return level.front();
}

// Row lanes: transposedQuery[hh * D + d][i] = scale * query[b, h, i, d]
// for the block's rows i, zero for lanes past the last row. Folding the
// scale here saves one multiply per score.
void TiledAttentionBuilder::buildTransposedQuery() {
  Value zeroVector = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vectorType(), b.getF32FloatAttr(0.0)));
  Value scaleValue = f32(scale);
  forLoop(index(0), groupSize, {}, [&](Value headInGroup, ValueRange) {
    Value head = add(mul(group, groupSize), headInGroup);
    Value base = mul(headInGroup, index(headDim));
    for (int64_t d = 0; d < headDim; ++d)
      vector::StoreOp::create(b, loc, zeroVector, transposedQuery,
                              ValueRange{add(base, index(d)), index(0)});
    forLoop(index(0), queryRows, {}, [&](Value rowInBlock, ValueRange) {
      Value queryRow = add(queryStart, rowInBlock);
      for (int64_t d = 0; d < headDim; ++d) {
        Value element = memref::LoadOp::create(
            b, loc, query, ValueRange{batch, head, queryRow, index(d)});
        element = arith::MulFOp::create(b, loc, element, scaleValue);
        memref::StoreOp::create(b, loc, element, transposedQuery,
                                ValueRange{add(base, index(d)), rowInBlock});
      }
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

// Applies soft-capping and, on partial tiles, the mask to the scores of
// one key for all rows of the block (one lane per row).
Value TiledAttentionBuilder::buildRowLaneScores(ArrayRef<Value> dots,
                                                Value head, Value keyRow,
                                                TileMode mode) {
  Value scores = dots.front();
  if (softcap) {
    Value cap = vector::BroadcastOp::create(b, loc, vectorType(),
                                            f32(*softcap));
    Value tanh = math::TanhOp::create(
        b, loc, arith::DivFOp::create(b, loc, scores, cap));
    scores = arith::MulFOp::create(b, loc, tanh, cap);
  }
  if (mode == TileMode::Full)
    return scores;

  // The predicate takes scalar positions, so evaluate it once per lane.
  auto maskType = VectorType::get({options.vectorWidth}, b.getI1Type());
  Value visible = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(maskType, false));
  for (int64_t lane = 0; lane < options.vectorWidth; ++lane) {
    Value lanePredicate =
        buildVisible(add(queryStart, index(lane)), keyRow, head);
    visible = vector::InsertOp::create(b, loc, lanePredicate, visible,
                                       ArrayRef<int64_t>{lane});
  }
  Value negInfVector =
      vector::BroadcastOp::create(b, loc, vectorType(), negativeInfinity());
  return arith::SelectOp::create(b, loc, visible, scores, negInfVector);
}

// One key tile for one query head with the block's query rows in vector
// lanes: a score vector per key is a sum over d of transposedQuery[d]
// times the broadcast key element, so no horizontal reduction is needed and
// the online softmax runs lane-wise. Four keys share each query load.
void TiledAttentionBuilder::buildRowLaneUpdate(Value headInGroup, Value head,
                                               Value keyStart, Value keyRows,
                                               TileMode mode) {
  int64_t width = options.vectorWidth;
  constexpr int64_t kKeysPerStep = 4;
  Value queryBase = mul(headInGroup, index(headDim));
  Value rowBase = mul(headInGroup, index(width));
  Value zeroVector = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vectorType(), b.getF32FloatAttr(0.0)));
  Value negInfVector =
      vector::BroadcastOp::create(b, loc, vectorType(), negativeInfinity());

  // Scores of `count` keys from `firstKey` on, stored in the score buffer;
  // returns the running lane-wise maximum.
  auto scoreKeys = [&](Value firstKey, int64_t count, Value runningMax) {
    SmallVector<Value> dots(count, zeroVector);
    for (int64_t d = 0; d < headDim; ++d) {
      Value queryColumn = vector::LoadOp::create(
          b, loc, vectorType(), transposedQuery,
          ValueRange{add(queryBase, index(d)), index(0)});
      for (int64_t k = 0; k < count; ++k) {
        Value keyRow = add(keyStart, add(firstKey, index(k)));
        Value element = memref::LoadOp::create(
            b, loc, key, ValueRange{batch, group, keyRow, index(d)});
        Value broadcast =
            vector::BroadcastOp::create(b, loc, vectorType(), element);
        dots[k] = vector::FMAOp::create(b, loc, queryColumn, broadcast,
                                        dots[k]);
      }
    }
    for (int64_t k = 0; k < count; ++k) {
      Value keyInTile = add(firstKey, index(k));
      Value scores = buildRowLaneScores(dots[k], head,
                                        add(keyStart, keyInTile), mode);
      vector::StoreOp::create(b, loc, scores, scoreBuffer,
                              ValueRange{keyInTile, index(0)});
      runningMax = arith::MaxNumFOp::create(b, loc, runningMax, scores);
    }
    return runningMax;
  };

  Value numSteps = arith::DivSIOp::create(b, loc, keyRows,
                                          index(kKeysPerStep));
  auto steps = forLoop(index(0), numSteps, {negInfVector},
                       [&](Value step, ValueRange args) {
                         Value firstKey = mul(step, index(kKeysPerStep));
                         return SmallVector<Value>{
                             scoreKeys(firstKey, kKeysPerStep, args[0])};
                       });
  auto remainder = forLoop(mul(numSteps, index(kKeysPerStep)), keyRows,
                           {steps.getResult(0)},
                           [&](Value keyInTile, ValueRange args) {
                             return SmallVector<Value>{
                                 scoreKeys(keyInTile, 1, args[0])};
                           });
  Value tileMax = remainder.getResult(0);

  // Lane-wise online softmax, with the same -inf handling as the scalar
  // path.
  Value oldMax = vector::LoadOp::create(b, loc, vectorType(), maxBuffer,
                                        rowBase);
  Value newMax = arith::MaxNumFOp::create(b, loc, oldMax, tileMax);
  Value isEmptyRow = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                           newMax, negInfVector);
  Value shift = arith::SelectOp::create(b, loc, isEmptyRow, zeroVector,
                                        newMax);
  Value alpha = math::ExpOp::create(
      b, loc, arith::SubFOp::create(b, loc, oldMax, shift));
  auto probabilities = forLoop(
      index(0), keyRows, {zeroVector}, [&](Value keyInTile, ValueRange args) {
        Value scores = vector::LoadOp::create(b, loc, vectorType(),
                                              scoreBuffer,
                                              ValueRange{keyInTile, index(0)});
        Value probability = math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, scores, shift));
        vector::StoreOp::create(b, loc, probability, scoreBuffer,
                                ValueRange{keyInTile, index(0)});
        return SmallVector<Value>{
            arith::AddFOp::create(b, loc, args[0], probability)};
      });
  Value oldSum = vector::LoadOp::create(b, loc, vectorType(), sumBuffer,
                                        rowBase);
  Value newSum = arith::AddFOp::create(
      b, loc, arith::MulFOp::create(b, loc, oldSum, alpha),
      probabilities.getResult(0));
  vector::StoreOp::create(b, loc, newSum, sumBuffer, rowBase);
  vector::StoreOp::create(b, loc, newMax, maxBuffer, rowBase);
  vector::StoreOp::create(b, loc, alpha, alphaBuffer, index(0));

  // acc[row] = acc[row] * alpha[row] + sum_j p[j][row] * value[j, :].
  forLoop(index(0), queryRows, {}, [&](Value rowInBlock, ValueRange) {
    Value row = add(rowBase, rowInBlock);
    Value rowAlpha = memref::LoadOp::create(b, loc, alphaBuffer, rowInBlock);
    Value alphaVector =
        vector::BroadcastOp::create(b, loc, vectorType(), rowAlpha);
    SmallVector<Value> accChunks;
    for (int64_t chunk = 0; chunk < numValueChunks; ++chunk) {
      Value acc = vector::LoadOp::create(b, loc, vectorType(), accBuffer,
                                         ValueRange{row, index(chunk * width)});
      accChunks.push_back(arith::MulFOp::create(b, loc, acc, alphaVector));
    }
    auto valueLoop = forLoop(
        index(0), keyRows, accChunks, [&](Value keyInTile, ValueRange args) {
          Value keyRow = add(keyStart, keyInTile);
          Value probability = memref::LoadOp::create(
              b, loc, scoreBuffer, ValueRange{keyInTile, rowInBlock});
          Value broadcast =
              vector::BroadcastOp::create(b, loc, vectorType(), probability);
          SmallVector<Value> updated;
          for (int64_t chunk = 0; chunk < numValueChunks; ++chunk) {
            Value valueChunk = loadRowChunk(
                value, {batch, group, keyRow, index(0)}, chunk, valueDim);
            updated.push_back(vector::FMAOp::create(b, loc, broadcast,
                                                    valueChunk, args[chunk]));
          }
          return updated;
        });
    for (int64_t chunk = 0; chunk < numValueChunks; ++chunk)
      vector::StoreOp::create(b, loc, valueLoop.getResult(chunk), accBuffer,
                              ValueRange{row, index(chunk * width)});
    return SmallVector<Value>{};
  });
}

void TiledAttentionBuilder::buildFinalize() {
  int64_t width = options.vectorWidth;
  forLoop(index(0), groupSize, {}, [&](Value headInGroup, ValueRange) {
    Value head = add(mul(group, groupSize), headInGroup);
    forLoop(index(0), queryRows, {}, [&](Value rowInBlock, ValueRange) {
      Value row = add(mul(headInGroup, index(queryTile)), rowInBlock);
      Value queryRow = add(queryStart, rowInBlock);
      Value rowMax = memref::LoadOp::create(b, loc, maxBuffer, row);
      Value rowSum = memref::LoadOp::create(b, loc, sumBuffer, row);
      Value zeroF = f32(0.0);

      // The sink logit joins the denominator only: rescale the row to the
      // common maximum and add exp(sink - max).
      Value accScale = f32(1.0);
      if (sinkLogits) {
        Value sink = memref::LoadOp::create(b, loc, sinkLogits, head);
        Value common = arith::MaxNumFOp::create(b, loc, rowMax, sink);
        accScale = math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, rowMax, common));
        Value sinkTerm = math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, sink, common));
        rowSum = arith::AddFOp::create(
            b, loc, arith::MulFOp::create(b, loc, rowSum, accScale), sinkTerm);
      }

      // A row with no visible key has sum 0 and an all-zero accumulator:
      // it yields zeros, never NaN.
      Value isEmptyRow = arith::CmpFOp::create(
          b, loc, arith::CmpFPredicate::OLE, rowSum, zeroF);
      Value safeSum = arith::SelectOp::create(b, loc, isEmptyRow, f32(1.0),
                                              rowSum);
      Value factor = arith::DivFOp::create(b, loc, accScale, safeSum);
      factor = arith::SelectOp::create(b, loc, isEmptyRow, zeroF, factor);
      Value factorVector =
          vector::BroadcastOp::create(b, loc, vectorType(), factor);
      for (int64_t chunk = 0; chunk < numValueChunks; ++chunk) {
        Value acc = vector::LoadOp::create(
            b, loc, vectorType(), accBuffer,
            ValueRange{row, index(chunk * width)});
        Value result = arith::MulFOp::create(b, loc, acc, factorVector);
        storeRowChunk(result, output, {batch, head, queryRow, index(0)},
                      chunk, valueDim);
      }
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

/// Returns the reason why an attention with these operand types cannot be
/// tiled, or an empty string.
static std::string getTilingFailure(RankedTensorType queryType,
                                    RankedTensorType valueType, Value bias,
                                    const TileAttentionOptions &options) {
  if (!queryType.getElementType().isF32())
    return "expected f32 element type";
  if (queryType.getRank() != 4 || valueType.getRank() != 4)
    return "expected rank-4 query, key and value";
  if (queryType.isDynamicDim(3) || valueType.isDynamicDim(3))
    return "expected static head sizes D and Dv";
  if (bias && cast<RankedTensorType>(bias.getType()).getRank() != 4)
    return "expected a rank-4 bias";
  if (options.queryTile < 1 || options.keyTile < 1 ||
      options.vectorWidth < 1)
    return "expected positive tile sizes and vector width";
  return "";
}

/// Returns `options` with the vector width lowered to the smallest power of
/// two that fits a row of `headDim` elements, if that is narrower. Small
/// heads (stories260K's D = 8) otherwise fill half of every vector with
/// masked lanes, and the dot products of a key group are reduced over
/// twice the lanes they need.
static TileAttentionOptions fitVectorWidth(const TileAttentionOptions &options,
                                           int64_t headDim) {
  TileAttentionOptions fitted = options;
  int64_t needed = static_cast<int64_t>(
      llvm::PowerOf2Ceil(static_cast<uint64_t>(std::max<int64_t>(headDim, 4))));
  if (llvm::isPowerOf2_64(options.vectorWidth) && needed < options.vectorWidth) {
    fitted.vectorWidth = needed;
    // Row lanes pair one query row with each lane.
    if (options.queryTile == options.vectorWidth)
      fitted.queryTile = needed;
  }
  return fitted;
}

/// Checks the preconditions of either op, then replaces it with the kernel.
/// `bias` is the op's bias operand (rill.cache_attention has none).
template <typename OpTy>
static FailureOr<Value> buildTiledKernel(RewriterBase &rewriter, OpTy op,
                                         Value bias,
                                         const TileAttentionOptions &options) {
  std::string failure = getTilingFailure(
      op.getQuery().getType(), op.getValue().getType(), bias, options);
  if (!failure.empty())
    return rewriter.notifyMatchFailure(op, failure);

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  TileAttentionOptions fitted =
      fitVectorWidth(options, op.getQuery().getType().getDimSize(3));
  Value result = TiledAttentionBuilder(rewriter, op, fitted).build();
  rewriter.replaceOp(op, result);
  return result;
}

FailureOr<Value> mlir::rill::tileAttention(
    RewriterBase &rewriter, AttentionOp op,
    const TileAttentionOptions &options) {
  return buildTiledKernel(rewriter, op, op.getBias(), options);
}

FailureOr<Value> mlir::rill::tileCacheAttention(
    RewriterBase &rewriter, CacheAttentionOp op,
    const TileAttentionOptions &options) {
  return buildTiledKernel(rewriter, op, Value(), options);
}
