//===- MaskPredicate.cpp - Emit rill mask predicates as IR ------*- C++ -*-===//
//
// Implements MaskAttrInterface::buildVisible for every mask attribute: the
// visibility predicate emitted as arith ops on `index` values (plus an
// scf.while for BigBird random blocks), for kernels to evaluate on partial
// tiles. The IR computes the same function as isVisible in
// MaskSemantics.cpp; a unit test evaluates both on a grid.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/IR/RillAttrs.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::rill;

using arith::CmpIPredicate;

namespace {
/// Small helpers that keep the emission code close to the formulas.
class PredicateEmitter {
public:
  PredicateEmitter(OpBuilder &builder, Location loc)
      : builder(builder), loc(loc) {}

  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(builder, loc, value);
  }
  Value i64(uint64_t value) {
    return arith::ConstantOp::create(
        builder, loc, builder.getI64IntegerAttr(static_cast<int64_t>(value)));
  }
  Value boolean(bool value) {
    return arith::ConstantOp::create(builder, loc,
                                     builder.getBoolAttr(value));
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
    return arith::FloorDivSIOp::create(builder, loc, lhs, index(divisor));
  }
  Value toI64(Value indexValue) {
    return arith::IndexCastOp::create(builder, loc, builder.getI64Type(),
                                      indexValue);
  }

  /// Emits `lower <= value <= upper` on index values.
  Value inRange(Value value, int64_t lower, int64_t upper) {
    return both(compare(CmpIPredicate::sge, value, index(lower)),
                compare(CmpIPredicate::sle, value, index(upper)));
  }

  /// Emits splitmix64 on an i64 value with wrapping arithmetic.
  Value splitmix64(Value value) {
    auto xorShift = [&](Value z, int64_t shift) {
      Value shifted = arith::ShRUIOp::create(builder, loc, z, i64(shift));
      return arith::XOrIOp::create(builder, loc, z, shifted).getResult();
    };
    auto multiply = [&](Value z, uint64_t factor) {
      return arith::MulIOp::create(builder, loc, z, i64(factor)).getResult();
    };
    Value z = arith::AddIOp::create(builder, loc, value,
                                    i64(0x9E3779B97F4A7C15ULL));
    z = multiply(xorShift(z, 30), 0xBF58476D1CE4E5B9ULL);
    z = multiply(xorShift(z, 27), 0x94D049BB133111EBULL);
    return xorShift(z, 31);
  }

  OpBuilder &builder;
  Location loc;
};
} // namespace

//===----------------------------------------------------------------------===//
// Primitive masks
//===----------------------------------------------------------------------===//

Value FullAttr::buildVisible(OpBuilder &builder, Location loc, Value, Value,
                             Value) const {
  return PredicateEmitter(builder, loc).boolean(true);
}

Value CausalAttr::buildVisible(OpBuilder &builder, Location loc, Value q,
                               Value k, Value) const {
  return PredicateEmitter(builder, loc).compare(CmpIPredicate::sle, k, q);
}

Value WindowAttr::buildVisible(OpBuilder &builder, Location loc, Value q,
                               Value k, Value) const {
  PredicateEmitter emit(builder, loc);
  return emit.inRange(emit.sub(k, q), -getLeft(), getRight());
}

Value SinksAttr::buildVisible(OpBuilder &builder, Location loc, Value q,
                              Value k, Value) const {
  PredicateEmitter emit(builder, loc);
  return emit.both(emit.compare(CmpIPredicate::slt, k, emit.index(getCount())),
                   emit.compare(CmpIPredicate::sle, k, q));
}

Value DilatedAttr::buildVisible(OpBuilder &builder, Location loc, Value q,
                                Value k, Value) const {
  PredicateEmitter emit(builder, loc);
  Value distance = emit.sub(q, k);
  Value inSpan =
      emit.inRange(distance, 0, getWindow() * getDilation() - 1);
  if (getDilation() == 1)
    return inSpan;

  // The remainder is only used when the distance is non-negative.
  Value remainder = arith::RemSIOp::create(builder, loc, distance,
                                           emit.index(getDilation()));
  return emit.both(inSpan, emit.compare(CmpIPredicate::eq, remainder,
                                        emit.index(0)));
}

Value ChunkedAttr::buildVisible(OpBuilder &builder, Location loc, Value q,
                                Value k, Value) const {
  PredicateEmitter emit(builder, loc);
  Value sameChunk =
      emit.compare(CmpIPredicate::eq, emit.floorDiv(q, getSize()),
                   emit.floorDiv(k, getSize()));
  return emit.both(sameChunk, emit.compare(CmpIPredicate::sle, k, q));
}

//===----------------------------------------------------------------------===//
// BigBirdAttr
//===----------------------------------------------------------------------===//

/// Emits whether `keyBlock` is among the random blocks of `queryBlock`
/// (both index values) for `head`, replaying the draws of
/// BigBirdAttr::getRandomBlocks in an scf.while loop. The loop keeps the
/// chosen blocks in `count` loop-carried slots to reject repeats, and stops
/// after `min(count, queryBlock + 1)` distinct blocks, which also covers the
/// case where every candidate is taken.
static Value emitIsRandomBlock(PredicateEmitter &emit, BigBirdAttr mask,
                               Value queryBlock, Value keyBlock, Value head) {
  OpBuilder &builder = emit.builder;
  Location loc = emit.loc;
  int64_t count = mask.getRandom();
  Type i64Type = builder.getI64Type();

  // The seed and layer are constants, so the first two hash steps fold.
  uint64_t seedState =
      splitmix64(splitmix64(mask.getSeed()) ^
                 static_cast<uint64_t>(mask.getLayer()));
  Value queryBlock64 = emit.toI64(queryBlock);
  Value keyBlock64 = emit.toI64(keyBlock);
  Value state = emit.splitmix64(
      arith::XOrIOp::create(builder, loc, emit.i64(seedState),
                            emit.toI64(head)));
  state = emit.splitmix64(
      arith::XOrIOp::create(builder, loc, state, queryBlock64));

  Value candidates =
      arith::AddIOp::create(builder, loc, queryBlock64, emit.i64(1));
  Value target =
      arith::MinSIOp::create(builder, loc, candidates, emit.i64(count));

  // Loop-carried values: draw, number chosen, found, then `count` slots
  // initialised to -1, which never equals a drawn block.
  SmallVector<Value> inits = {emit.i64(0), emit.i64(0), emit.boolean(false)};
  for (int64_t slot = 0; slot < count; ++slot)
    inits.push_back(emit.i64(static_cast<uint64_t>(-1)));
  SmallVector<Type> types(inits.size(), i64Type);
  types[2] = builder.getI1Type();

  auto whileOp = scf::WhileOp::create(
      builder, loc, types, inits,
      [&](OpBuilder &before, Location beforeLoc, ValueRange args) {
        Value more = arith::CmpIOp::create(before, beforeLoc,
                                           CmpIPredicate::slt, args[1],
                                           target);
        scf::ConditionOp::create(before, beforeLoc, more, args);
      },
      [&](OpBuilder &after, Location afterLoc, ValueRange args) {
        PredicateEmitter body(after, afterLoc);
        Value draw = args[0];
        Value numChosen = args[1];
        Value found = args[2];
        ValueRange slots = args.drop_front(3);

        Value hash = body.splitmix64(
            arith::XOrIOp::create(after, afterLoc, state, draw));
        Value block = arith::RemUIOp::create(after, afterLoc, hash,
                                             candidates);
        Value repeated = body.boolean(false);
        for (Value slot : slots)
          repeated = body.either(
              repeated, body.compare(CmpIPredicate::eq, slot, block));
        Value isNew = arith::XOrIOp::create(after, afterLoc, repeated,
                                            body.boolean(true));

        SmallVector<Value> next;
        next.push_back(arith::AddIOp::create(after, afterLoc, draw,
                                             body.i64(1)));
        next.push_back(arith::SelectOp::create(
            after, afterLoc, isNew,
            arith::AddIOp::create(after, afterLoc, numChosen, body.i64(1)),
            numChosen));
        next.push_back(body.either(
            found, body.compare(CmpIPredicate::eq, block, keyBlock64)));
        for (auto [position, slot] : llvm::enumerate(slots)) {
          Value isThisSlot = body.compare(
              CmpIPredicate::eq, numChosen,
              body.i64(static_cast<uint64_t>(position)));
          next.push_back(arith::SelectOp::create(
              after, afterLoc, body.both(isNew, isThisSlot), block, slot));
        }
        scf::YieldOp::create(after, afterLoc, next);
      });
  return whileOp.getResult(2);
}

Value BigBirdAttr::buildVisible(OpBuilder &builder, Location loc, Value q,
                                Value k, Value head) const {
  PredicateEmitter emit(builder, loc);
  Value queryBlock = emit.floorDiv(q, getBlock());
  Value keyBlock = emit.floorDiv(k, getBlock());

  Value global = emit.either(
      emit.compare(CmpIPredicate::slt, queryBlock, emit.index(getGlobal())),
      emit.compare(CmpIPredicate::slt, keyBlock, emit.index(getGlobal())));
  int64_t halfWindow = getWindow() / 2;
  Value visible = emit.either(
      global,
      emit.inRange(emit.sub(keyBlock, queryBlock), -halfWindow, halfWindow));
  if (getRandom() > 0)
    visible = emit.either(
        visible, emitIsRandomBlock(emit, *this, queryBlock, keyBlock, head));

  if (getCausal())
    visible = emit.both(visible, emit.compare(CmpIPredicate::sle, k, q));
  return visible;
}

//===----------------------------------------------------------------------===//
// Compositions
//===----------------------------------------------------------------------===//

Value UnionAttr::buildVisible(OpBuilder &builder, Location loc, Value q,
                              Value k, Value head) const {
  PredicateEmitter emit(builder, loc);
  Value result;
  for (auto member : getMasks().getAsRange<MaskAttrInterface>()) {
    Value visible = member.buildVisible(builder, loc, q, k, head);
    result = result ? emit.either(result, visible) : visible;
  }
  return result;
}

Value IntersectAttr::buildVisible(OpBuilder &builder, Location loc, Value q,
                                  Value k, Value head) const {
  PredicateEmitter emit(builder, loc);
  Value result;
  for (auto member : getMasks().getAsRange<MaskAttrInterface>()) {
    Value visible = member.buildVisible(builder, loc, q, k, head);
    result = result ? emit.both(result, visible) : visible;
  }
  return result;
}

// Emits every member's predicate and selects the one of `head`. Heads
// outside the member range see no key, as in isVisible.
Value PerHeadAttr::buildVisible(OpBuilder &builder, Location loc, Value q,
                                Value k, Value head) const {
  PredicateEmitter emit(builder, loc);
  Value result = emit.boolean(false);
  for (auto [index, member] :
       llvm::enumerate(getMasks().getAsRange<MaskAttrInterface>())) {
    Value visible = member.buildVisible(builder, loc, q, k, head);
    Value isThisHead = emit.compare(CmpIPredicate::eq, head,
                                    emit.index(static_cast<int64_t>(index)));
    result = arith::SelectOp::create(builder, loc, isThisHead, visible, result);
  }
  return result;
}
