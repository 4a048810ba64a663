//===- TestMaskVisibility.cpp - Print what a rill mask shows ----*- C++ -*-===//
//
// The test pass -rill-test-mask-visibility. For every op that carries a
// `rill.test.mask` attribute it prints the visibility table of the mask over
// the requested query and key positions and the visible key count of each
// query. On request it also prints a grid of tile classifications and checks
// each tile against the visibility table. lit tests compare the output with
// hand-computed tables, and python/tests/test_mask_cross_check.py compares
// it with the numpy reference.
//
// Attributes read from each op:
//   rill.test.mask        the mask (required)
//   rill.test.queries     array<i64: ...> of query positions, or
//   rill.test.query_range array<i64: begin, end> (half-open)
//   rill.test.keys        array<i64: ...> of key positions, or
//   rill.test.key_range   array<i64: begin, end> (half-open)
//   rill.test.heads       array<i64: ...> of heads (default: head 0)
//   rill.test.tile        array<i64: tq, tk>: print the tile classification
//                         of the range [min query, max query] by
//                         [min key, max key] in tq-by-tk tiles
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/IR/RillAttrs.h"
#include "rill/Dialect/Rill/IR/RillDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::rill;

namespace {

/// Reads the positions named `listName` (an explicit list) or `rangeName`
/// (a half-open [begin, end) pair) from `op`.
FailureOr<SmallVector<int64_t>> readPositions(Operation *op,
                                              StringRef listName,
                                              StringRef rangeName) {
  if (auto list = op->getAttrOfType<DenseI64ArrayAttr>(listName))
    return SmallVector<int64_t>(list.asArrayRef());

  auto range = op->getAttrOfType<DenseI64ArrayAttr>(rangeName);
  if (!range)
    return op->emitError() << "expects a '" << listName << "' or '"
                           << rangeName << "' attribute of type array<i64>";
  if (range.size() != 2 || range[0] > range[1])
    return op->emitError() << "expects '" << rangeName
                           << "' to be array<i64: begin, end> with begin <= "
                              "end (got "
                           << range << ")";

  SmallVector<int64_t> positions;
  for (int64_t position = range[0]; position < range[1]; ++position)
    positions.push_back(position);
  return positions;
}

/// Prints sorted positions compactly, as "0..3,20..25".
void printPositionSet(raw_ostream &os, ArrayRef<int64_t> positions) {
  os << "{";
  for (size_t begin = 0; begin < positions.size();) {
    size_t end = begin + 1;
    while (end < positions.size() && positions[end] == positions[end - 1] + 1)
      ++end;
    if (begin != 0)
      os << ",";
    os << positions[begin];
    if (end - begin > 1)
      os << ".." << positions[end - 1];
    begin = end;
  }
  os << "}";
}

char tileSymbol(TileKind kind) {
  switch (kind) {
  case TileKind::Empty:
    return '.';
  case TileKind::Full:
    return 'F';
  case TileKind::Partial:
    return 'P';
  }
  llvm_unreachable("unknown TileKind");
}

/// Returns "" if `kind` agrees with the visibility of the tile's pairs, and
/// otherwise a description of the contradiction.
std::string checkTile(MaskAttrInterface mask, TileKind kind, int64_t qBegin,
                      int64_t qEnd, int64_t kBegin, int64_t kEnd,
                      int64_t head) {
  for (int64_t q = qBegin; q < qEnd; ++q) {
    for (int64_t k = kBegin; k < kEnd; ++k) {
      bool visible = mask.isVisible(q, k, head);
      if (kind == TileKind::Empty && visible)
        return "empty tile has visible pair (" + std::to_string(q) + ", " +
               std::to_string(k) + ")";
      if (kind == TileKind::Full && !visible)
        return "full tile has hidden pair (" + std::to_string(q) + ", " +
               std::to_string(k) + ")";
    }
  }
  return "";
}

struct TestMaskVisibilityPass
    : PassWrapper<TestMaskVisibilityPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestMaskVisibilityPass)

  StringRef getArgument() const final { return "rill-test-mask-visibility"; }
  StringRef getDescription() const final {
    return "Print the visibility table and tile classification of every "
           "rill.test.mask attribute";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<RillDialect>();
  }

  void runOnOperation() override {
    WalkResult result = getOperation()->walk([&](Operation *op) {
      if (!op->hasAttr("rill.test.mask"))
        return WalkResult::advance();
      return failed(printMask(op)) ? WalkResult::interrupt()
                                   : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult printMask(Operation *op);
  LogicalResult printTiles(Operation *op, MaskAttrInterface mask,
                           ArrayRef<int64_t> queries, ArrayRef<int64_t> keys,
                           int64_t head);
};

LogicalResult TestMaskVisibilityPass::printMask(Operation *op) {
  auto mask = op->getAttrOfType<MaskAttrInterface>("rill.test.mask");
  if (!mask)
    return op->emitError()
           << "expects 'rill.test.mask' to be a rill mask attribute";
  FailureOr<SmallVector<int64_t>> queries =
      readPositions(op, "rill.test.queries", "rill.test.query_range");
  FailureOr<SmallVector<int64_t>> keys =
      readPositions(op, "rill.test.keys", "rill.test.key_range");
  if (failed(queries) || failed(keys))
    return failure();
  SmallVector<int64_t> heads = {0};
  if (auto headList = op->getAttrOfType<DenseI64ArrayAttr>("rill.test.heads"))
    heads.assign(headList.asArrayRef().begin(), headList.asArrayRef().end());

  raw_ostream &os = llvm::outs();
  os << "mask";
  if (auto name = op->getAttrOfType<StringAttr>(
          SymbolTable::getSymbolAttrName()))
    os << " @" << name.getValue();
  os << " = " << Attribute(mask) << "\n";
  os << "  causal=" << (mask.isCausal() ? "true" : "false")
     << " sinks=" << mask.getNumSinkKeys() << " lookback=";
  if (std::optional<int64_t> lookback = mask.getMaxLookback())
    os << *lookback;
  else
    os << "unbounded";
  os << " heads=";
  if (std::optional<int64_t> numHeads = mask.getNumHeads())
    os << *numHeads;
  else
    os << "any";
  os << "\n";

  for (int64_t head : heads) {
    for (int64_t q : *queries) {
      std::string row;
      SmallVector<int64_t> visibleKeys;
      for (int64_t k : *keys) {
        bool visible = mask.isVisible(q, k, head);
        row.push_back(visible ? 'x' : '.');
        if (visible)
          visibleKeys.push_back(k);
      }
      os << "  head " << head << " query " << q << ": " << row
         << " count=" << visibleKeys.size() << " keys=";
      printPositionSet(os, visibleKeys);
      os << "\n";
    }
    if (op->hasAttr("rill.test.tile") &&
        failed(printTiles(op, mask, *queries, *keys, head)))
      return failure();
  }
  return success();
}

LogicalResult TestMaskVisibilityPass::printTiles(Operation *op,
                                                 MaskAttrInterface mask,
                                                 ArrayRef<int64_t> queries,
                                                 ArrayRef<int64_t> keys,
                                                 int64_t head) {
  auto tile = op->getAttrOfType<DenseI64ArrayAttr>("rill.test.tile");
  if (!tile || tile.size() != 2 || tile[0] < 1 || tile[1] < 1)
    return op->emitError() << "expects 'rill.test.tile' to be array<i64: tq, "
                              "tk> with positive sizes";
  if (queries.empty() || keys.empty())
    return op->emitError() << "expects non-empty queries and keys to tile";

  int64_t qFirst = *llvm::min_element(queries);
  int64_t qLimit = *llvm::max_element(queries) + 1;
  int64_t kFirst = *llvm::min_element(keys);
  int64_t kLimit = *llvm::max_element(keys) + 1;

  raw_ostream &os = llvm::outs();
  os << "  head " << head << " tiles " << tile[0] << "x" << tile[1] << ":\n";
  for (int64_t qBegin = qFirst; qBegin < qLimit; qBegin += tile[0]) {
    int64_t qEnd = std::min(qBegin + tile[0], qLimit);
    os << "    query [" << qBegin << ", " << qEnd << "):";
    for (int64_t kBegin = kFirst; kBegin < kLimit; kBegin += tile[1]) {
      int64_t kEnd = std::min(kBegin + tile[1], kLimit);
      TileKind kind = mask.classifyTile(qBegin, qEnd, kBegin, kEnd, head);
      std::string error =
          checkTile(mask, kind, qBegin, qEnd, kBegin, kEnd, head);
      if (!error.empty())
        return op->emitError() << "unsound tile classification for query ["
                               << qBegin << ", " << qEnd << ") key ["
                               << kBegin << ", " << kEnd << "): " << error;
      os << " " << tileSymbol(kind);
    }
    os << "\n";
  }
  return success();
}

} // namespace

namespace mlir::rill::test {
void registerTestMaskVisibilityPass() {
  PassRegistration<TestMaskVisibilityPass>();
}
} // namespace mlir::rill::test
