//===- SetMask.cpp - The rill-set-mask pass ---------------------*- C++ -*-===//
//
// Implements rill-set-mask, which replaces the mask of selected
// rill.attention ops by a mask written in the mask pattern language, for
// whole layers or for chosen query heads. Passes.td documents the options
// and how layers are numbered.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/Transforms/Passes.h"
#include "rill/Dialect/Rill/Transforms/Transforms.h"
#include "rill/Dialect/Rill/Utils/MaskPattern.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Sequence.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/DebugLog.h"

#include <optional>

#define DEBUG_TYPE "rill-set-mask"

namespace mlir::rill {
#define GEN_PASS_DEF_RILLSETMASKPASS
#include "rill/Dialect/Rill/Transforms/Passes.h.inc"
} // namespace mlir::rill

using namespace mlir;
using namespace mlir::rill;

/// The name of the optional integer attribute that numbers the layer of a
/// rill.attention op.
static constexpr StringLiteral kLayerAttrName = "rill.layer";

namespace {

/// A set of layer or head numbers, stored as inclusive ranges so that a
/// range such as 0-1000000000 costs no memory.
struct IndexRanges {
  SmallVector<std::pair<int64_t, int64_t>> ranges;

  bool contains(int64_t index) const {
    return llvm::any_of(ranges, [&](const auto &range) {
      return range.first <= index && index <= range.second;
    });
  }

  /// Returns the smallest member that is not in `present` (sorted), or
  /// std::nullopt when every member is present.
  std::optional<int64_t> findFirstMissing(ArrayRef<int64_t> present) const {
    std::optional<int64_t> missing;
    for (auto [first, last] : ranges) {
      // At most present.size() + 1 steps, because each step but the last
      // finds a present index.
      for (int64_t index = first; index <= last; ++index) {
        if (llvm::binary_search(present, index))
          continue;
        if (!missing || index < *missing)
          missing = index;
        break;
      }
    }
    return missing;
  }
};

} // namespace

/// Parses the value of the `layers` or `heads` option: `all` (returned as
/// std::nullopt) or comma-separated numbers and inclusive ranges `A-B`.
static FailureOr<std::optional<IndexRanges>>
parseIndexList(StringRef optionName, StringRef value,
               function_ref<void(const Twine &)> emitError) {
  auto fail = [&](const Twine &reason) {
    emitError("invalid value '" + value + "' of option '" + optionName +
              "': " + reason +
              " (expected 'all' or numbers and ranges such as '0-3,5')");
    return failure();
  };

  if (value.trim() == "all")
    return std::optional<IndexRanges>();

  SmallVector<StringRef> items;
  value.split(items, ',');
  IndexRanges selection;
  for (StringRef item : items) {
    item = item.trim();
    if (item.empty())
      return fail("empty item");

    auto [firstText, lastText] = item.split('-');
    bool isRange = item.contains('-');
    int64_t first = 0;
    int64_t last = 0;
    if (firstText.trim().getAsInteger(10, first) || first < 0 ||
        (isRange && (lastText.trim().getAsInteger(10, last) || last < 0)))
      return fail("'" + item +
                  "' is neither a non-negative integer nor a range A-B");
    if (!isRange)
      last = first;
    if (last < first)
      return fail("range '" + item + "' ends before it starts");
    selection.ranges.emplace_back(first, last);
  }
  return std::optional<IndexRanges>(std::move(selection));
}

namespace {

struct RillSetMaskPass
    : public mlir::rill::impl::RillSetMaskPassBase<RillSetMaskPass> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override;
  void runOnOperation() override;

private:
  /// Replaces the masks of the selected rill.attention ops of `function`.
  /// On failure, reports why and changes no op of `function`.
  LogicalResult processFunction(FunctionOpInterface function);

  /// Returns the layer number of each op of `attentionOps`, or failure after
  /// reporting an op whose `rill.layer` is missing or invalid.
  FailureOr<SmallVector<int64_t>> getLayers(FunctionOpInterface function,
                                            ArrayRef<AttentionOp> attentionOps);

  /// Reports the selected layers that no op of `function` has.
  LogicalResult checkSelectedLayersExist(FunctionOpInterface function,
                                         ArrayRef<int64_t> opLayers,
                                         bool fromAttribute);

  /// Returns the new mask of `op` at `layer`, or failure after reporting
  /// why the options do not fit the op.
  FailureOr<MaskAttrInterface> buildMask(AttentionOp op, int64_t layer);

  /// The parsed `pattern`.
  MaskAttrInterface patternMask;
  /// The parsed `layers`, or std::nullopt to select every layer.
  std::optional<IndexRanges> selectedLayers;
  /// The parsed `heads`, or std::nullopt to replace the whole mask.
  std::optional<IndexRanges> selectedHeads;
};

} // namespace

// Parses the options once per run, before any IR is visited.
LogicalResult RillSetMaskPass::initialize(MLIRContext *context) {
  Location loc = UnknownLoc::get(context);
  auto emitOptionError = [&](const Twine &message) {
    mlir::emitError(loc) << "rill-set-mask: " << message;
  };

  if (StringRef(pattern).trim().empty()) {
    emitOptionError("missing value of option 'pattern' (expected a mask "
                    "such as pattern=sinks(4)|window(1020))");
    return failure();
  }
  FailureOr<MaskAttrInterface> parsed =
      parseMaskPattern(context, pattern, [&](const Twine &message) {
        emitOptionError("invalid value of option 'pattern': " + message);
      });
  if (failed(parsed))
    return failure();
  patternMask = *parsed;

  FailureOr<std::optional<IndexRanges>> layerList =
      parseIndexList("layers", layers, emitOptionError);
  if (failed(layerList))
    return failure();
  selectedLayers = std::move(*layerList);

  selectedHeads.reset();
  if (!StringRef(heads).trim().empty()) {
    FailureOr<std::optional<IndexRanges>> headList =
        parseIndexList("heads", heads, emitOptionError);
    if (failed(headList))
      return failure();
    selectedHeads = std::move(*headList);
  }

  if (selectedHeads && patternMask.getNumHeads()) {
    emitOptionError("option 'pattern' must not contain a per-head list when "
                    "option 'heads' is set (got pattern '" +
                    pattern + "' and heads '" + heads + "')");
    return failure();
  }

  LDBG() << "pattern '" << pattern << "' parsed as " << patternMask;
  return success();
}

FailureOr<SmallVector<int64_t>>
RillSetMaskPass::getLayers(FunctionOpInterface function,
                           ArrayRef<AttentionOp> attentionOps) {
  size_t numWithAttr = llvm::count_if(
      attentionOps, [](AttentionOp op) { return op->hasAttr(kLayerAttrName); });

  SmallVector<int64_t> opLayers;
  for (auto [position, op] : llvm::enumerate(attentionOps)) {
    if (numWithAttr == 0) {
      opLayers.push_back(position);
      continue;
    }

    Attribute attr = op->getAttr(kLayerAttrName);
    if (!attr)
      return op->emitError()
             << "has no '" << kLayerAttrName << "' attribute, but "
             << numWithAttr << " of the " << attentionOps.size()
             << " rill.attention ops of function @" << function.getName()
             << " have one (rill-set-mask needs it on all of them or on none)";

    auto layer = dyn_cast<IntegerAttr>(attr);
    if (!layer || layer.getType().isUnsignedInteger() ||
        layer.getValue().getSignificantBits() > 64 ||
        layer.getValue().getSExtValue() < 0)
      return op->emitError()
             << "expects '" << kLayerAttrName
             << "' to be a non-negative integer (got " << attr << ")";
    opLayers.push_back(layer.getValue().getSExtValue());
  }
  return opLayers;
}

LogicalResult
RillSetMaskPass::checkSelectedLayersExist(FunctionOpInterface function,
                                          ArrayRef<int64_t> opLayers,
                                          bool fromAttribute) {
  if (!selectedLayers)
    return success();

  SmallVector<int64_t> present(opLayers);
  llvm::sort(present);
  present.erase(llvm::unique(present), present.end());
  std::optional<int64_t> layer = selectedLayers->findFirstMissing(present);
  if (!layer)
    return success();

  InFlightDiagnostic diag = function.emitError()
                            << "option 'layers' selects layer " << *layer
                            << ", but ";
  if (fromAttribute) {
    diag << "no rill.attention op of function @" << function.getName()
         << " has " << kLayerAttrName << " = " << *layer
         << " (layers present: ";
    llvm::interleaveComma(present, diag);
    diag << ")";
  } else {
    diag << "function @" << function.getName() << " has " << opLayers.size()
         << " rill.attention ops (layers 0 to " << opLayers.size() - 1 << ")";
  }
  return failure();
}

FailureOr<MaskAttrInterface> RillSetMaskPass::buildMask(AttentionOp op,
                                                        int64_t layer) {
  MaskAttrInterface newMask = setBigBirdLayer(patternMask, layer);
  int64_t queryHeads = op.getQuery().getType().getDimSize(1);

  if (selectedHeads) {
    if (ShapedType::isDynamic(queryHeads))
      return op.emitError()
             << "option 'heads' needs a static number of query heads, but "
                "query dimension 1 of this op is dynamic";
    SmallVector<int64_t> allHeads =
        llvm::to_vector(llvm::seq<int64_t>(0, queryHeads));
    if (std::optional<int64_t> head = selectedHeads->findFirstMissing(allHeads))
      return op.emitError()
             << "option 'heads' selects query head " << *head
             << ", but this op has " << queryHeads << " query heads";
    SmallVector<int64_t> headList;
    for (int64_t head : allHeads)
      if (selectedHeads->contains(head))
        headList.push_back(head);

    // The op verifier gives a per-head mask one member per static query
    // head, so replaceHeadMasks fails only on IR that was never verified.
    MaskAttrInterface oldMask = op.getMask();
    FailureOr<MaskAttrInterface> merged =
        replaceHeadMasks(oldMask, newMask, headList, queryHeads);
    if (failed(merged))
      return op.emitError()
             << "option 'heads' cannot be applied to the mask " << oldMask
             << " of an op with " << queryHeads << " query heads";
    newMask = *merged;
  }

  std::optional<int64_t> maskHeads = newMask.getNumHeads();
  if (maskHeads && !ShapedType::isDynamic(queryHeads) &&
      *maskHeads != queryHeads)
    return op.emitError() << "option 'pattern' gives a per-head mask with "
                          << *maskHeads << " members, but this op has "
                          << queryHeads << " query heads (query dimension 1)";
  return newMask;
}

void RillSetMaskPass::runOnOperation() {
  SmallVector<FunctionOpInterface> functions;
  getOperation()->walk(
      [&](FunctionOpInterface function) { functions.push_back(function); });

  for (FunctionOpInterface function : functions)
    if (failed(processFunction(function)))
      return signalPassFailure();
}

LogicalResult RillSetMaskPass::processFunction(FunctionOpInterface function) {
  SmallVector<AttentionOp> attentionOps;
  function->walk<WalkOrder::PreOrder>(
      [&](AttentionOp op) { attentionOps.push_back(op); });
  if (attentionOps.empty())
    return success();

  FailureOr<SmallVector<int64_t>> opLayers = getLayers(function, attentionOps);
  bool fromAttribute = attentionOps.front()->hasAttr(kLayerAttrName);
  if (failed(opLayers) ||
      failed(checkSelectedLayersExist(function, *opLayers, fromAttribute)))
    return failure();

  // Build every new mask before changing any op, so that an error leaves
  // the function as it was.
  SmallVector<std::tuple<AttentionOp, int64_t, MaskAttrInterface>> updates;
  bool anyFailed = false;
  for (auto [op, layer] : llvm::zip(attentionOps, *opLayers)) {
    if (selectedLayers && !selectedLayers->contains(layer))
      continue;
    FailureOr<MaskAttrInterface> newMask = buildMask(op, layer);
    if (failed(newMask)) {
      anyFailed = true;
      continue;
    }
    updates.emplace_back(op, layer, *newMask);
  }
  if (anyFailed)
    return failure();

  IRRewriter rewriter(function.getContext());
  for (auto [op, layer, newMask] : updates) {
    MaskAttrInterface oldMask = op.getMask();
    if (failed(setAttentionMask(rewriter, op, newMask))) {
      // buildMask already checked what setAttentionMask checks.
      return op.emitError() << "failed to set the mask " << newMask;
    }
    ++numMasksSet;
    LDBG() << "layer " << layer << ": " << oldMask << " -> " << newMask;
    if (remarks)
      op.emitRemark() << "rill-set-mask: layer " << layer << " mask " << oldMask
                      << " replaced by " << newMask;
  }
  return success();
}
