//===- TileSchedule.h - Which key tiles a query block visits ----*- C++ -*-===//
//
// Decides, from the mask attribute interface alone, which key tiles each
// query block of the tiled attention kernel visits and whether a tile needs
// the mask predicate. The compile-time schedule is a compressed-row table of
// visited tiles; the run-time schedule is a pair of key tile ranges (sink
// tiles, then the tiles the lookback and causality allow) plus a full-tile
// test emitted as arith ops.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_LIB_CONVERSION_RILLTOSCF_TILESCHEDULE_H
#define RILL_LIB_CONVERSION_RILLTOSCF_TILESCHEDULE_H

#include "rill/Dialect/Rill/IR/RillAttrs.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>

namespace mlir::rill {

/// The key tiles `[0, sinkEnd)` and `[windowBegin, end)` that a query block
/// may need; every other tile is empty by the mask's cache bounds. When
/// the mask has no lookback bound, `sinkEnd` is 0 and `windowBegin` is 0.
struct KeyTileRange {
  int64_t sinkEnd = 0;
  int64_t windowBegin = 0;
  int64_t end = 0;
};

/// Returns the key tile range of the query positions `[qFirst, qLast]` for
/// keys at positions `kPos + j`, `0 <= j < numKeys`, in tiles of `keyTile`.
KeyTileRange getKeyTileRange(MaskAttrInterface mask, int64_t qFirst,
                             int64_t qLast, int64_t kPos, int64_t numKeys,
                             int64_t keyTile);

/// Returns whether the mask's visibility depends on the query head (per-head
/// masks, BigBird random blocks, or compositions containing them).
bool isHeadDependent(MaskAttrInterface mask);

/// The visited key tiles of every query block, computed at compile time.
/// Row `r` of the table lists the tiles of query block `r` (or, when
/// `perGroup`, of key/value head `r / numQueryBlocks` and query block
/// `r % numQueryBlocks`) in increasing order, from `rowOffsets[r]` to
/// `rowOffsets[r + 1]`.
struct StaticTileSchedule {
  bool perGroup = false;
  int64_t numQueryBlocks = 0;
  llvm::SmallVector<int32_t> rowOffsets;
  llvm::SmallVector<int32_t> tiles;
  /// Whether each visited tile is full (no predicate needed).
  llvm::SmallVector<int8_t> isFull;
  int64_t numFull = 0;
  int64_t numPartial = 0;
  /// All (query block, key tile) pairs, summed over table rows.
  int64_t numTotal = 0;
};

/// The static facts the compile-time schedule needs.
struct StaticScheduleProblem {
  int64_t qPos = 0;
  int64_t kPos = 0;
  int64_t numQueries = 0;
  int64_t numKeys = 0;
  int64_t queryTile = 0;
  int64_t keyTile = 0;
  /// Query heads and query heads per key/value head; only needed (and only
  /// required to be known) for head-dependent masks.
  std::optional<int64_t> numQueryHeads;
  std::optional<int64_t> groupSize;
};

/// Classifies every (query block, key tile) pair with `classifyTile`,
/// combining the query heads of each group: a tile is skipped when it is
/// empty for every head of the group and full when full for every head.
/// Returns std::nullopt when the problem has more than `limit` pairs or a
/// head-dependent mask lacks static head counts.
std::optional<StaticTileSchedule>
computeStaticTileSchedule(MaskAttrInterface mask,
                          const StaticScheduleProblem &problem, int64_t limit);

/// Emits an `i1` that is true when every (query, key) pair with query
/// positions in `[qFirst, qLast]` and key positions in `[kFirst, kLast]` is
/// visible, or returns a null value when the mask has no cheap test. The
/// test is sound: false may be returned for a full tile. Head-dependent
/// masks have no test.
Value buildFullTileTest(OpBuilder &builder, Location loc,
                        MaskAttrInterface mask, Value qFirst, Value qLast,
                        Value kFirst, Value kLast);

} // namespace mlir::rill

#endif // RILL_LIB_CONVERSION_RILLTOSCF_TILESCHEDULE_H
