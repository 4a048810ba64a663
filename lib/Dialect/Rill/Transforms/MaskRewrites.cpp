//===- MaskRewrites.cpp - Edits of rill mask attributes --------*- C++ -*-===//
//
// Implements the mask edits declared in Transforms.h: stamping the layer of
// BigBird masks, selecting the mask of one query head, replacing the masks
// of some heads and writing a mask into a rill.attention op.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/Transforms/Transforms.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

using namespace mlir;
using namespace mlir::rill;

/// Rebuilds the member list of a composition with `transform` applied to
/// each member. Returns null if nothing changed.
static ArrayAttr
mapMembers(ArrayAttr members,
           function_ref<MaskAttrInterface(MaskAttrInterface)> transform) {
  bool changed = false;
  SmallVector<Attribute> mapped;
  for (Attribute member : members) {
    Attribute result = transform(cast<MaskAttrInterface>(member));
    changed |= result != member;
    mapped.push_back(result);
  }
  if (!changed)
    return {};
  return ArrayAttr::get(members.getContext(), mapped);
}

/// Applies `transform` to the members of a union, intersection or per-head
/// mask and rebuilds it. Returns `mask` itself for primitives.
static MaskAttrInterface
mapComposition(MaskAttrInterface mask,
               function_ref<MaskAttrInterface(MaskAttrInterface)> transform) {
  if (auto unionAttr = dyn_cast<UnionAttr>(mask)) {
    if (ArrayAttr members = mapMembers(unionAttr.getMasks(), transform))
      return UnionAttr::get(mask.getContext(), members);
  } else if (auto intersect = dyn_cast<IntersectAttr>(mask)) {
    if (ArrayAttr members = mapMembers(intersect.getMasks(), transform))
      return IntersectAttr::get(mask.getContext(), members);
  } else if (auto perHead = dyn_cast<PerHeadAttr>(mask)) {
    if (ArrayAttr members = mapMembers(perHead.getMasks(), transform))
      return PerHeadAttr::get(mask.getContext(), members);
  }
  return mask;
}

MaskAttrInterface mlir::rill::setBigBirdLayer(MaskAttrInterface mask,
                                              int64_t layer) {
  if (auto bigBird = dyn_cast<BigBirdAttr>(mask)) {
    return BigBirdAttr::get(mask.getContext(), bigBird.getBlock(),
                            bigBird.getGlobal(), bigBird.getWindow(),
                            bigBird.getRandom(), bigBird.getSeed(), layer,
                            bigBird.getCausal());
  }
  return mapComposition(mask, [&](MaskAttrInterface member) {
    return setBigBirdLayer(member, layer);
  });
}

MaskAttrInterface mlir::rill::selectHeadMask(MaskAttrInterface mask,
                                             int64_t head) {
  // Members of a per-head mask see the head index unchanged, so the member
  // of head `head` may itself contain per-head masks to select from.
  if (auto perHead = dyn_cast<PerHeadAttr>(mask))
    return selectHeadMask(cast<MaskAttrInterface>(perHead.getMasks()[head]),
                          head);
  return mapComposition(mask, [&](MaskAttrInterface member) {
    return selectHeadMask(member, head);
  });
}

FailureOr<MaskAttrInterface>
mlir::rill::replaceHeadMasks(MaskAttrInterface oldMask,
                             MaskAttrInterface newMask, ArrayRef<int64_t> heads,
                             int64_t numHeads) {
  if (numHeads < 1 || newMask.getNumHeads())
    return failure();
  if (std::optional<int64_t> oldHeads = oldMask.getNumHeads())
    if (*oldHeads != numHeads)
      return failure();

  SmallVector<bool> selected(numHeads, false);
  for (int64_t head : heads) {
    if (head < 0 || head >= numHeads)
      return failure();
    selected[head] = true;
  }

  SmallVector<Attribute> members;
  for (int64_t head = 0; head < numHeads; ++head)
    members.push_back(selected[head] ? newMask : selectHeadMask(oldMask, head));
  if (llvm::all_equal(members))
    return cast<MaskAttrInterface>(members.front());
  return cast<MaskAttrInterface>(PerHeadAttr::get(
      newMask.getContext(), ArrayAttr::get(newMask.getContext(), members)));
}

LogicalResult mlir::rill::setAttentionMask(RewriterBase &rewriter,
                                           AttentionOp op,
                                           MaskAttrInterface mask) {
  int64_t queryHeads = op.getQuery().getType().getDimSize(1);
  std::optional<int64_t> maskHeads = mask.getNumHeads();
  if (maskHeads && !ShapedType::isDynamic(queryHeads) &&
      *maskHeads != queryHeads)
    return rewriter.notifyMatchFailure(op, [&](Diagnostic &diag) {
      diag << "expected a per-head mask with " << queryHeads
           << " members, one per query head (got " << *maskHeads << ")";
    });

  rewriter.modifyOpInPlace(op, [&] { op.setMaskAttr(mask); });
  return success();
}
