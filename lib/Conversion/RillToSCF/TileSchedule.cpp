//===- TileSchedule.cpp - Which key tiles a query block visits --*- C++ -*-===//
//
// Implements the compile-time and run-time tile schedules of the tiled
// attention kernel. Both ask only the mask attribute interface (cache
// bounds, causality, classifyTile) plus, for the run-time full-tile test,
// the parameters of the primitive masks whose visible set is a distance
// band or a chunk.
//
//===----------------------------------------------------------------------===//

#include "TileSchedule.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::rill;

using arith::CmpIPredicate;

KeyTileRange mlir::rill::getKeyTileRange(MaskAttrInterface mask,
                                         int64_t qFirst, int64_t qLast,
                                         int64_t kPos, int64_t numKeys,
                                         int64_t keyTile) {
  KeyTileRange range;
  int64_t numTiles = llvm::divideCeilSigned(numKeys, keyTile);
  range.end = numTiles;

  // A causal mask shows no key after the last query of the block.
  if (mask.isCausal()) {
    int64_t lastTile = llvm::divideFloorSigned(qLast - kPos, keyTile);
    range.end = std::clamp<int64_t>(lastTile + 1, 0, numTiles);
  }

  // With a lookback bound L, a visible key is a sink (k < S) or satisfies
  // k > q - L >= qFirst - L for every query q of the block.
  std::optional<int64_t> lookback = mask.getMaxLookback();
  if (!lookback)
    return range;
  int64_t sinkKeys = mask.getNumSinkKeys();
  range.sinkEnd = std::clamp<int64_t>(
      llvm::divideCeilSigned(sinkKeys - kPos, keyTile), 0, range.end);
  int64_t firstWindowTile =
      llvm::divideFloorSigned(qFirst - *lookback + 1 - kPos, keyTile);
  range.windowBegin =
      std::clamp<int64_t>(firstWindowTile, range.sinkEnd, range.end);
  return range;
}

bool mlir::rill::isHeadDependent(MaskAttrInterface mask) {
  if (isa<PerHeadAttr>(mask))
    return true;
  if (auto bigBird = dyn_cast<BigBirdAttr>(mask))
    return bigBird.getRandom() > 0;
  ArrayAttr members;
  if (auto unionMask = dyn_cast<UnionAttr>(mask))
    members = unionMask.getMasks();
  else if (auto intersection = dyn_cast<IntersectAttr>(mask))
    members = intersection.getMasks();
  if (!members)
    return false;
  return llvm::any_of(members.getAsRange<MaskAttrInterface>(),
                      [](MaskAttrInterface member) {
                        return isHeadDependent(member);
                      });
}

/// Combines the kinds of one tile over the heads `[firstHead, lastHead]`.
static TileKind classifyForHeads(MaskAttrInterface mask, int64_t qBegin,
                                 int64_t qEnd, int64_t kBegin, int64_t kEnd,
                                 int64_t firstHead, int64_t lastHead) {
  bool allEmpty = true;
  bool allFull = true;
  for (int64_t head = firstHead; head <= lastHead; ++head) {
    TileKind kind = mask.classifyTile(qBegin, qEnd, kBegin, kEnd, head);
    allEmpty &= kind == TileKind::Empty;
    allFull &= kind == TileKind::Full;
  }
  if (allEmpty)
    return TileKind::Empty;
  return allFull ? TileKind::Full : TileKind::Partial;
}

std::optional<StaticTileSchedule>
mlir::rill::computeStaticTileSchedule(MaskAttrInterface mask,
                                      const StaticScheduleProblem &problem,
                                      int64_t limit) {
  StaticTileSchedule schedule;
  schedule.perGroup = isHeadDependent(mask);
  if (schedule.perGroup && (!problem.numQueryHeads || !problem.groupSize))
    return std::nullopt;

  int64_t numQueryBlocks =
      llvm::divideCeilSigned(problem.numQueries, problem.queryTile);
  int64_t numKeyTiles =
      llvm::divideCeilSigned(problem.numKeys, problem.keyTile);
  int64_t groupSize = schedule.perGroup ? *problem.groupSize : 1;
  int64_t numGroups =
      schedule.perGroup ? *problem.numQueryHeads / groupSize : 1;
  if (numQueryBlocks * numKeyTiles * numGroups * groupSize > limit)
    return std::nullopt;

  schedule.numQueryBlocks = numQueryBlocks;
  schedule.numTotal = numGroups * numQueryBlocks * numKeyTiles;
  schedule.rowOffsets.push_back(0);
  for (int64_t group = 0; group < numGroups; ++group) {
    for (int64_t block = 0; block < numQueryBlocks; ++block) {
      int64_t qBegin = problem.qPos + block * problem.queryTile;
      int64_t qEnd = problem.qPos + std::min(problem.numQueries,
                                             (block + 1) * problem.queryTile);
      KeyTileRange range =
          getKeyTileRange(mask, qBegin, qEnd - 1, problem.kPos,
                          problem.numKeys, problem.keyTile);

      auto visit = [&](int64_t tile) {
        int64_t kBegin = problem.kPos + tile * problem.keyTile;
        int64_t kEnd = problem.kPos + std::min(problem.numKeys,
                                               (tile + 1) * problem.keyTile);
        TileKind kind =
            classifyForHeads(mask, qBegin, qEnd, kBegin, kEnd,
                             group * groupSize, group * groupSize + groupSize - 1);
        if (kind == TileKind::Empty)
          return;
        schedule.tiles.push_back(static_cast<int32_t>(tile));
        schedule.isFull.push_back(kind == TileKind::Full);
        ++(kind == TileKind::Full ? schedule.numFull : schedule.numPartial);
      };
      for (int64_t tile = 0; tile < range.sinkEnd; ++tile)
        visit(tile);
      for (int64_t tile = range.windowBegin; tile < range.end; ++tile)
        visit(tile);
      schedule.rowOffsets.push_back(
          static_cast<int32_t>(schedule.tiles.size()));
    }
  }
  return schedule;
}

namespace {
/// Emits the index arithmetic of the full-tile tests.
struct TestEmitter {
  OpBuilder &builder;
  Location loc;

  Value constant(int64_t value) {
    return arith::ConstantIndexOp::create(builder, loc, value);
  }
  Value compare(CmpIPredicate predicate, Value lhs, Value rhs) {
    return arith::CmpIOp::create(builder, loc, predicate, lhs, rhs);
  }
  Value both(Value lhs, Value rhs) {
    return arith::AndIOp::create(builder, loc, lhs, rhs);
  }
  Value either(Value lhs, Value rhs) {
    return arith::OrIOp::create(builder, loc, lhs, rhs);
  }
  Value sub(Value lhs, Value rhs) {
    return arith::SubIOp::create(builder, loc, lhs, rhs);
  }
  Value floorDiv(Value lhs, int64_t divisor) {
    return arith::FloorDivSIOp::create(builder, loc, lhs, constant(divisor));
  }

  /// Every distance `q - k` of the tile lies in `[minDistance, maxDistance]`.
  Value inDistanceBand(Value qFirst, Value qLast, Value kFirst, Value kLast,
                       int64_t minDistance, int64_t maxDistance) {
    Value lowest = sub(qFirst, kLast);
    Value highest = sub(qLast, kFirst);
    return both(compare(CmpIPredicate::sge, lowest, constant(minDistance)),
                compare(CmpIPredicate::sle, highest, constant(maxDistance)));
  }
};
} // namespace

static Value buildFullTest(TestEmitter &emit, MaskAttrInterface mask,
                           Value qFirst, Value qLast, Value kFirst,
                           Value kLast) {
  if (isa<FullAttr>(mask))
    return arith::ConstantOp::create(emit.builder, emit.loc,
                                     emit.builder.getBoolAttr(true));
  if (isa<CausalAttr>(mask))
    return emit.compare(CmpIPredicate::sle, kLast, qFirst);
  if (auto window = dyn_cast<WindowAttr>(mask))
    return emit.inDistanceBand(qFirst, qLast, kFirst, kLast,
                               -window.getRight(), window.getLeft());
  if (auto dilated = dyn_cast<DilatedAttr>(mask)) {
    if (dilated.getDilation() != 1)
      return Value();
    return emit.inDistanceBand(qFirst, qLast, kFirst, kLast, 0,
                               dilated.getWindow() - 1);
  }
  if (auto sinks = dyn_cast<SinksAttr>(mask))
    return emit.both(
        emit.compare(CmpIPredicate::slt, kLast,
                     emit.constant(sinks.getCount())),
        emit.compare(CmpIPredicate::sle, kLast, qFirst));
  if (auto chunked = dyn_cast<ChunkedAttr>(mask)) {
    // All four corners in one chunk, and the latest key before the
    // earliest query.
    int64_t size = chunked.getSize();
    Value chunk = emit.floorDiv(qFirst, size);
    Value sameChunk = emit.both(
        emit.compare(CmpIPredicate::eq, emit.floorDiv(qLast, size), chunk),
        emit.both(emit.compare(CmpIPredicate::eq,
                               emit.floorDiv(kFirst, size), chunk),
                  emit.compare(CmpIPredicate::eq,
                               emit.floorDiv(kLast, size), chunk)));
    return emit.both(sameChunk,
                     emit.compare(CmpIPredicate::sle, kLast, qFirst));
  }

  // A union is full where any member is; an intersection where all are.
  if (auto unionMask = dyn_cast<UnionAttr>(mask)) {
    Value result;
    for (auto member : unionMask.getMasks().getAsRange<MaskAttrInterface>()) {
      Value test = buildFullTest(emit, member, qFirst, qLast, kFirst, kLast);
      if (test)
        result = result ? emit.either(result, test) : test;
    }
    return result;
  }
  if (auto intersection = dyn_cast<IntersectAttr>(mask)) {
    Value result;
    for (auto member :
         intersection.getMasks().getAsRange<MaskAttrInterface>()) {
      Value test = buildFullTest(emit, member, qFirst, qLast, kFirst, kLast);
      if (!test)
        return Value();
      result = result ? emit.both(result, test) : test;
    }
    return result;
  }

  // BigBird and per-head masks: no cheap test, the tile runs the predicate.
  return Value();
}

Value mlir::rill::buildFullTileTest(OpBuilder &builder, Location loc,
                                    MaskAttrInterface mask, Value qFirst,
                                    Value qLast, Value kFirst, Value kLast) {
  if (isHeadDependent(mask))
    return Value();
  TestEmitter emit{builder, loc};
  return buildFullTest(emit, mask, qFirst, qLast, kFirst, kLast);
}
