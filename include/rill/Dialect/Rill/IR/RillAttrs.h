//===- RillAttrs.h - rill mask attributes and their interface ---*- C++ -*-===//
//
// Declares TileKind, the mask attribute interface MaskAttrInterface and the
// mask attributes of the rill dialect (full, causal, window, sinks, dilated,
// chunked, bigbird, union, intersect, per_head).
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_IR_RILLATTRS_H
#define RILL_DIALECT_RILL_IR_RILLATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace mlir::rill {

/// How much of a tile of (query, key) pairs a mask shows.
enum class TileKind {
  /// No pair of the tile is visible, so a kernel may skip the tile.
  Empty,
  /// Every pair of the tile is visible, so a kernel may drop the predicate.
  Full,
  /// Some pairs may be visible and some hidden, so the predicate is needed.
  Partial,
};

/// Returns "empty", "full" or "partial".
llvm::StringRef stringifyTileKind(TileKind kind);

/// Returns the splitmix64 finalizer of `value`, with wrapping arithmetic:
/// the integer hash behind BigBird random blocks.
uint64_t splitmix64(uint64_t value);

} // namespace mlir::rill

#include "rill/Dialect/Rill/IR/RillAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "rill/Dialect/Rill/IR/RillAttrs.h.inc"

#endif // RILL_DIALECT_RILL_IR_RILLATTRS_H
