//===- ElementwiseOps.cpp - Elementwise and matrix ONNX operators ---------===//
//
// Converts ONNX unary, binary and variadic elementwise operators (numpy
// broadcasting), Where, Cast, Gelu, Clip, MatMul and Gemm to linalg ops with
// arith and math bodies. Integer operators on tracked shape vectors also
// compute their elements at import time so shape subgraphs fold.
//
//===----------------------------------------------------------------------===//

#include "GraphImporter.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace mlir::rill::onnx_import;

namespace {

/// Binary and variadic operators this file implements.
enum class BinaryKind {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Mod,
  FMod,
  Max,
  Min,
  Equal,
  Less,
  LessOrEqual,
  Greater,
  GreaterOrEqual,
  And,
  Or,
  Xor,
};

/// Unary operators this file implements.
enum class UnaryKind {
  Identity,
  Neg,
  Abs,
  Sqrt,
  Reciprocal,
  Exp,
  Log,
  Tanh,
  Erf,
  Sigmoid,
  Relu,
  Cos,
  Sin,
  Floor,
  Ceil,
  Not,
  Softplus,
};

} // namespace

static bool isComparison(BinaryKind kind) {
  return kind == BinaryKind::Equal || kind == BinaryKind::Less ||
         kind == BinaryKind::LessOrEqual || kind == BinaryKind::Greater ||
         kind == BinaryKind::GreaterOrEqual;
}

static Value buildBinaryScalar(OpBuilder &b, Location loc, BinaryKind kind,
                               Value lhs, Value rhs) {
  Type type = lhs.getType();
  bool isFloat = isa<FloatType>(type);
  switch (kind) {
  case BinaryKind::Add:
    return isFloat ? arith::AddFOp::create(b, loc, lhs, rhs).getResult()
                   : arith::AddIOp::create(b, loc, lhs, rhs).getResult();
  case BinaryKind::Sub:
    return isFloat ? arith::SubFOp::create(b, loc, lhs, rhs).getResult()
                   : arith::SubIOp::create(b, loc, lhs, rhs).getResult();
  case BinaryKind::Mul:
    return isFloat ? arith::MulFOp::create(b, loc, lhs, rhs).getResult()
                   : arith::MulIOp::create(b, loc, lhs, rhs).getResult();
  case BinaryKind::Div:
    return isFloat ? arith::DivFOp::create(b, loc, lhs, rhs).getResult()
                   : arith::DivSIOp::create(b, loc, lhs, rhs).getResult();
  case BinaryKind::Pow: {
    if (isFloat) {
      Value exponent = convertScalar(b, loc, rhs, type);
      return math::PowFOp::create(b, loc, lhs, exponent);
    }
    Value exponent = convertScalar(b, loc, rhs, type);
    return math::IPowIOp::create(b, loc, lhs, exponent);
  }
  case BinaryKind::Mod: {
    // Integer Mod with fmod=0 takes the sign of the divisor (Python `%`).
    Value rem = arith::RemSIOp::create(b, loc, lhs, rhs);
    Value zero = createScalar(b, loc, type, 0);
    Value remNonZero =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, rem, zero);
    Value remNeg =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, rem, zero);
    Value rhsNeg =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, rhs, zero);
    Value signsDiffer = arith::XOrIOp::create(b, loc, remNeg, rhsNeg);
    Value adjust = arith::AndIOp::create(b, loc, remNonZero, signsDiffer);
    Value adjusted = arith::AddIOp::create(b, loc, rem, rhs);
    return arith::SelectOp::create(b, loc, adjust, adjusted, rem);
  }
  case BinaryKind::FMod:
    return isFloat ? arith::RemFOp::create(b, loc, lhs, rhs).getResult()
                   : arith::RemSIOp::create(b, loc, lhs, rhs).getResult();
  case BinaryKind::Max:
    return isFloat ? arith::MaximumFOp::create(b, loc, lhs, rhs).getResult()
                   : arith::MaxSIOp::create(b, loc, lhs, rhs).getResult();
  case BinaryKind::Min:
    return isFloat ? arith::MinimumFOp::create(b, loc, lhs, rhs).getResult()
                   : arith::MinSIOp::create(b, loc, lhs, rhs).getResult();
  case BinaryKind::Equal:
  case BinaryKind::Less:
  case BinaryKind::LessOrEqual:
  case BinaryKind::Greater:
  case BinaryKind::GreaterOrEqual: {
    if (isFloat) {
      arith::CmpFPredicate pred =
          kind == BinaryKind::Equal         ? arith::CmpFPredicate::OEQ
          : kind == BinaryKind::Less        ? arith::CmpFPredicate::OLT
          : kind == BinaryKind::LessOrEqual ? arith::CmpFPredicate::OLE
          : kind == BinaryKind::Greater     ? arith::CmpFPredicate::OGT
                                            : arith::CmpFPredicate::OGE;
      return arith::CmpFOp::create(b, loc, pred, lhs, rhs);
    }
    arith::CmpIPredicate pred =
        kind == BinaryKind::Equal         ? arith::CmpIPredicate::eq
        : kind == BinaryKind::Less        ? arith::CmpIPredicate::slt
        : kind == BinaryKind::LessOrEqual ? arith::CmpIPredicate::sle
        : kind == BinaryKind::Greater     ? arith::CmpIPredicate::sgt
                                          : arith::CmpIPredicate::sge;
    return arith::CmpIOp::create(b, loc, pred, lhs, rhs);
  }
  case BinaryKind::And:
    return arith::AndIOp::create(b, loc, lhs, rhs);
  case BinaryKind::Or:
    return arith::OrIOp::create(b, loc, lhs, rhs);
  case BinaryKind::Xor:
    return arith::XOrIOp::create(b, loc, lhs, rhs);
  }
  llvm_unreachable("unknown binary operator");
}

static Value buildUnaryScalar(OpBuilder &b, Location loc, UnaryKind kind,
                              Value x) {
  Type type = x.getType();
  bool isFloat = isa<FloatType>(type);
  switch (kind) {
  case UnaryKind::Identity:
    return x;
  case UnaryKind::Neg:
    if (isFloat)
      return arith::NegFOp::create(b, loc, x);
    return arith::SubIOp::create(b, loc, createScalar(b, loc, type, 0), x);
  case UnaryKind::Abs:
    if (isFloat)
      return math::AbsFOp::create(b, loc, x);
    return math::AbsIOp::create(b, loc, x);
  case UnaryKind::Sqrt:
    return math::SqrtOp::create(b, loc, x);
  case UnaryKind::Reciprocal:
    return arith::DivFOp::create(b, loc, createScalar(b, loc, type, 1.0), x);
  case UnaryKind::Exp:
    return math::ExpOp::create(b, loc, x);
  case UnaryKind::Log:
    return math::LogOp::create(b, loc, x);
  case UnaryKind::Tanh:
    return math::TanhOp::create(b, loc, x);
  case UnaryKind::Erf:
    return math::ErfOp::create(b, loc, x);
  case UnaryKind::Sigmoid: {
    Value negated = arith::NegFOp::create(b, loc, x);
    Value exp = math::ExpOp::create(b, loc, negated);
    Value one = createScalar(b, loc, type, 1.0);
    Value denom = arith::AddFOp::create(b, loc, one, exp);
    return arith::DivFOp::create(b, loc, one, denom);
  }
  case UnaryKind::Relu:
    if (isFloat)
      return arith::MaxNumFOp::create(b, loc, x,
                                      createScalar(b, loc, type, 0.0));
    return arith::MaxSIOp::create(b, loc, x, createScalar(b, loc, type, 0));
  case UnaryKind::Cos:
    return math::CosOp::create(b, loc, x);
  case UnaryKind::Sin:
    return math::SinOp::create(b, loc, x);
  case UnaryKind::Floor:
    return math::FloorOp::create(b, loc, x);
  case UnaryKind::Ceil:
    return math::CeilOp::create(b, loc, x);
  case UnaryKind::Not:
    return arith::XOrIOp::create(b, loc, x, createScalar(b, loc, type, 1));
  case UnaryKind::Softplus:
    return math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, x));
  }
  llvm_unreachable("unknown unary operator");
}

//===----------------------------------------------------------------------===//
// Tracked shape vectors
//===----------------------------------------------------------------------===//

/// Returns whether a tracked element is known to be >= 0 (a constant or a
/// tensor size).
static bool isKnownNonNegative(OpFoldResult element) {
  if (std::optional<int64_t> c = getConstant(element))
    return *c >= 0;
  Value value = cast<Value>(element);
  if (value.getDefiningOp<tensor::DimOp>())
    return true;
  if (auto add = value.getDefiningOp<arith::AddIOp>())
    return isKnownNonNegative(add.getLhs()) &&
           isKnownNonNegative(add.getRhs());
  // Reified sizes (of tensor.concat, for example) are sums of sizes.
  if (auto apply = value.getDefiningOp<affine::AffineApplyOp>())
    return llvm::all_of(apply.getMapOperands(), [](Value operand) {
      return isKnownNonNegative(operand);
    });
  if (auto mul = value.getDefiningOp<arith::MulIOp>())
    return isKnownNonNegative(mul.getLhs()) &&
           isKnownNonNegative(mul.getRhs());
  return false;
}

/// Evaluates a binary operator on two tracked index elements.
static std::optional<OpFoldResult> foldBinaryElement(OpBuilder &b,
                                                     Location loc,
                                                     BinaryKind kind,
                                                     OpFoldResult lhs,
                                                     OpFoldResult rhs) {
  std::optional<int64_t> l = getConstant(lhs), r = getConstant(rhs);
  switch (kind) {
  case BinaryKind::Add:
    return foldIndexArith(b, loc, IndexArith::Add, lhs, rhs);
  case BinaryKind::Sub:
    return foldIndexArith(b, loc, IndexArith::Sub, lhs, rhs);
  case BinaryKind::Mul:
    return foldIndexArith(b, loc, IndexArith::Mul, lhs, rhs);
  case BinaryKind::Max:
    return foldIndexArith(b, loc, IndexArith::Max, lhs, rhs);
  case BinaryKind::Min:
    return foldIndexArith(b, loc, IndexArith::Min, lhs, rhs);
  case BinaryKind::Div:
    if (l && r && *r != 0)
      return OpFoldResult(b.getIndexAttr(*l / *r));
    if (r == 1)
      return lhs;
    if (r && *r == 0)
      return std::nullopt;
    return OpFoldResult(b.createOrFold<arith::DivSIOp>(
        loc, toIndexValue(b, loc, lhs), toIndexValue(b, loc, rhs)));
  case BinaryKind::Equal:
  case BinaryKind::Less:
  case BinaryKind::LessOrEqual:
  case BinaryKind::Greater:
  case BinaryKind::GreaterOrEqual: {
    if (l && r) {
      bool value = kind == BinaryKind::Equal         ? *l == *r
                   : kind == BinaryKind::Less        ? *l < *r
                   : kind == BinaryKind::LessOrEqual ? *l <= *r
                   : kind == BinaryKind::Greater     ? *l > *r
                                                     : *l >= *r;
      return OpFoldResult(b.getIndexAttr(value));
    }
    // Shape code compares sizes with -1 ("infer this size"); a size is
    // never negative, so the comparison folds.
    if (kind == BinaryKind::Equal &&
        ((l && *l < 0 && isKnownNonNegative(rhs)) ||
         (r && *r < 0 && isKnownNonNegative(lhs))))
      return OpFoldResult(b.getIndexAttr(0));
    Value lv = toIndexValue(b, loc, lhs), rv = toIndexValue(b, loc, rhs);
    Value cmp = buildBinaryScalar(b, loc, kind, lv, rv);
    return OpFoldResult(b.createOrFold<arith::SelectOp>(
        loc, cmp, toIndexValue(b, loc, b.getIndexAttr(1)),
        toIndexValue(b, loc, b.getIndexAttr(0))));
  }
  case BinaryKind::And:
  case BinaryKind::Or:
    if (l && r)
      return OpFoldResult(b.getIndexAttr(
          kind == BinaryKind::And ? (*l && *r) : (*l || *r)));
    return std::nullopt;
  default:
    return std::nullopt;
  }
}

/// Computes the elements of `kind` applied to tracked inputs, when both
/// are tracked and broadcast as vectors.
static std::optional<Dims> foldBinaryElements(OpBuilder &b, Location loc,
                                              BinaryKind kind,
                                              const TensorValue &lhs,
                                              const TensorValue &rhs) {
  if (!lhs.elements || !rhs.elements)
    return std::nullopt;
  size_t n = std::max(lhs.elements->size(), rhs.elements->size());
  if ((lhs.elements->size() != n && lhs.elements->size() != 1) ||
      (rhs.elements->size() != n && rhs.elements->size() != 1))
    return std::nullopt;
  Dims result;
  for (size_t i = 0; i < n; ++i) {
    OpFoldResult l = (*lhs.elements)[lhs.elements->size() == 1 ? 0 : i];
    OpFoldResult r = (*rhs.elements)[rhs.elements->size() == 1 ? 0 : i];
    std::optional<OpFoldResult> e = foldBinaryElement(b, loc, kind, l, r);
    if (!e)
      return std::nullopt;
    result.push_back(*e);
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Converters
//===----------------------------------------------------------------------===//

static LogicalResult emitBroadcastError(NodeContext &ctx,
                                        const std::string &error) {
  ctx.emitError() << error;
  return failure();
}

static LogicalResult convertBinary(NodeContext &ctx, BinaryKind kind) {
  FailureOr<TensorValue> lhs = ctx.getInput(0), rhs = ctx.getInput(1);
  if (failed(lhs) || failed(rhs))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  bool mixedTypesAllowed = kind == BinaryKind::Pow;
  if (!mixedTypesAllowed && lhs->getElementType() != rhs->getElementType()) {
    ctx.emitError() << "input types differ (" << lhs->getType() << " vs "
                    << rhs->getType() << ")";
    return failure();
  }
  if (kind == BinaryKind::Mod && ctx.getInt("fmod", 0))
    kind = BinaryKind::FMod;
  if (kind == BinaryKind::Mod && isa<FloatType>(lhs->getElementType())) {
    ctx.emitError() << "floating-point Mod requires fmod=1";
    return failure();
  }

  Type resultType =
      isComparison(kind) ? b.getI1Type() : lhs->getElementType();
  std::string error;
  FailureOr<Value> result = buildElementwise(
      b, loc, {lhs->value, rhs->value}, resultType,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        return buildBinaryScalar(nb, nloc, kind, args[0], args[1]);
      },
      error);
  if (failed(result))
    return emitBroadcastError(ctx, error);

  TensorValue output{*result};
  if (std::optional<Dims> elements =
          foldBinaryElements(b, loc, kind, *lhs, *rhs))
    output = ctx.getImporter().makeElementsValue(
        loc, *elements, cast<RankedTensorType>(result->getType()));
  ctx.setOutput(0, output);
  return success();
}

template <BinaryKind kind>
static LogicalResult convertBinaryOp(NodeContext &ctx) {
  return convertBinary(ctx, kind);
}

/// Max, Min, Sum and Mean take any number of inputs.
static LogicalResult convertVariadic(NodeContext &ctx, BinaryKind kind,
                                     bool mean) {
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  FailureOr<TensorValue> acc = ctx.getInput(0);
  if (failed(acc))
    return failure();
  for (int64_t i = 1; i < ctx.getNumInputs(); ++i) {
    FailureOr<TensorValue> next = ctx.getInput(i);
    if (failed(next))
      return failure();
    std::string error;
    FailureOr<Value> combined = buildElementwise(
        b, loc, {acc->value, next->value}, acc->getElementType(),
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          return buildBinaryScalar(nb, nloc, kind, args[0], args[1]);
        },
        error);
    if (failed(combined))
      return emitBroadcastError(ctx, error);
    std::optional<Dims> elements =
        foldBinaryElements(b, loc, kind, *acc, *next);
    acc = TensorValue{*combined, elements};
  }
  if (mean) {
    Value count = createScalar(b, loc, acc->getElementType(),
                               static_cast<double>(ctx.getNumInputs()));
    std::string error;
    acc = TensorValue{*buildElementwise(
        b, loc, acc->value, acc->getElementType(),
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          return buildBinaryScalar(nb, nloc, BinaryKind::Div, args[0], count);
        },
        error)};
  }
  ctx.setOutput(0, *acc);
  return success();
}

static LogicalResult convertMax(NodeContext &ctx) {
  return convertVariadic(ctx, BinaryKind::Max, false);
}
static LogicalResult convertMin(NodeContext &ctx) {
  return convertVariadic(ctx, BinaryKind::Min, false);
}
static LogicalResult convertSum(NodeContext &ctx) {
  return convertVariadic(ctx, BinaryKind::Add, false);
}
static LogicalResult convertMean(NodeContext &ctx) {
  return convertVariadic(ctx, BinaryKind::Add, true);
}

static LogicalResult convertUnary(NodeContext &ctx, UnaryKind kind) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Type elementType = input->getElementType();
  bool needsFloat = kind != UnaryKind::Identity && kind != UnaryKind::Neg &&
                    kind != UnaryKind::Abs && kind != UnaryKind::Relu &&
                    kind != UnaryKind::Not;
  if (needsFloat && !isa<FloatType>(elementType)) {
    ctx.emitError() << "expects a floating-point input (got "
                    << input->getType() << ")";
    return failure();
  }
  if (kind == UnaryKind::Identity) {
    ctx.setOutput(0, *input);
    return success();
  }

  std::string error;
  FailureOr<Value> result = buildElementwise(
      b, loc, input->value, elementType,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        return buildUnaryScalar(nb, nloc, kind, args[0]);
      },
      error);
  if (failed(result))
    return emitBroadcastError(ctx, error);

  TensorValue output{*result};
  if (input->elements && (kind == UnaryKind::Neg || kind == UnaryKind::Not)) {
    Dims elements;
    for (OpFoldResult e : *input->elements) {
      OpFoldResult operand = kind == UnaryKind::Neg
                                 ? OpFoldResult(b.getIndexAttr(0))
                                 : OpFoldResult(b.getIndexAttr(1));
      elements.push_back(
          foldIndexArith(b, loc, IndexArith::Sub, operand, e));
    }
    output.elements = elements;
  }
  ctx.setOutput(0, output);
  return success();
}

template <UnaryKind kind>
static LogicalResult convertUnaryOp(NodeContext &ctx) {
  return convertUnary(ctx, kind);
}

static LogicalResult convertWhere(NodeContext &ctx) {
  FailureOr<TensorValue> cond = ctx.getInput(0), lhs = ctx.getInput(1),
                         rhs = ctx.getInput(2);
  if (failed(cond) || failed(lhs) || failed(rhs))
    return failure();
  if (!cond->getElementType().isInteger(1)) {
    ctx.emitError() << "condition must be a boolean tensor (got "
                    << cond->getType() << ")";
    return failure();
  }
  if (lhs->getElementType() != rhs->getElementType()) {
    ctx.emitError() << "input types differ (" << lhs->getType() << " vs "
                    << rhs->getType() << ")";
    return failure();
  }
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  std::string error;
  FailureOr<Value> result = buildElementwise(
      b, loc, {cond->value, lhs->value, rhs->value}, lhs->getElementType(),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        return arith::SelectOp::create(nb, nloc, args[0], args[1], args[2])
            .getResult();
      },
      error);
  if (failed(result))
    return emitBroadcastError(ctx, error);

  TensorValue output{*result};
  if (cond->elements && lhs->elements && rhs->elements) {
    size_t n = std::max({cond->elements->size(), lhs->elements->size(),
                         rhs->elements->size()});
    auto at = [&](const Dims &v, size_t i) { return v[v.size() == 1 ? 0 : i]; };
    Dims elements;
    bool ok = true;
    for (size_t i = 0; i < n && ok; ++i) {
      std::optional<int64_t> c = getConstant(at(*cond->elements, i));
      if (!c) {
        ok = false;
        break;
      }
      elements.push_back(*c ? at(*lhs->elements, i) : at(*rhs->elements, i));
    }
    if (ok)
      output.elements = elements;
  }
  ctx.setOutput(0, output);
  return success();
}

static LogicalResult convertCastTo(NodeContext &ctx, Type to) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  if (input->getElementType() == to) {
    ctx.setOutput(0, *input);
    return success();
  }
  std::string error;
  FailureOr<Value> result = buildElementwise(
      b, loc, input->value, to,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        return convertScalar(nb, nloc, args[0], to);
      },
      error);
  if (failed(result))
    return emitBroadcastError(ctx, error);
  TensorValue output{*result};
  if (input->elements && to.isInteger() && !to.isInteger(1))
    output.elements = input->elements;
  ctx.setOutput(0, output);
  return success();
}

static LogicalResult convertCast(NodeContext &ctx) {
  int64_t to = ctx.getInt("to", 0);
  Type type = convertElementType(ctx.getBuilder().getContext(), to);
  if (!type) {
    ctx.emitError() << "cannot cast to " << getDataTypeName(to)
                    << ", which the importer does not support";
    return failure();
  }
  return convertCastTo(ctx, type);
}

static LogicalResult convertCastLike(NodeContext &ctx) {
  FailureOr<TensorValue> like = ctx.getInput(1);
  if (failed(like))
    return failure();
  return convertCastTo(ctx, like->getElementType());
}

static LogicalResult convertGelu(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  std::string approximate = ctx.getString("approximate", "none");
  if (approximate != "none" && approximate != "tanh") {
    ctx.emitError() << "approximate must be 'none' or 'tanh' (got '"
                    << approximate << "')";
    return failure();
  }
  bool useTanh = approximate == "tanh";
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Type type = input->getElementType();
  std::string error;
  FailureOr<Value> result = buildElementwise(
      b, loc, input->value, type,
      [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
        Value x = args[0];
        Value half = createScalar(nb, nloc, type, 0.5);
        Value one = createScalar(nb, nloc, type, 1.0);
        Value inner;
        if (useTanh) {
          Value cube = arith::MulFOp::create(
              nb, nloc, x, arith::MulFOp::create(nb, nloc, x, x));
          Value poly = arith::AddFOp::create(
              nb, nloc, x,
              arith::MulFOp::create(nb, nloc,
                                    createScalar(nb, nloc, type, 0.044715),
                                    cube));
          Value scaled = arith::MulFOp::create(
              nb, nloc, createScalar(nb, nloc, type, std::sqrt(2.0 / M_PI)),
              poly);
          inner = math::TanhOp::create(nb, nloc, scaled);
        } else {
          Value scaled = arith::MulFOp::create(
              nb, nloc, x, createScalar(nb, nloc, type, M_SQRT1_2));
          inner = math::ErfOp::create(nb, nloc, scaled);
        }
        Value sum = arith::AddFOp::create(nb, nloc, one, inner);
        return arith::MulFOp::create(
            nb, nloc, arith::MulFOp::create(nb, nloc, half, x), sum);
      },
      error);
  if (failed(result))
    return emitBroadcastError(ctx, error);
  ctx.setOutput(0, *result);
  return success();
}

static LogicalResult convertClip(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Type type = input->getElementType();
  Value lo, hi;
  if (ctx.getOpset() < 11) {
    lo = createScalar(b, loc, type, ctx.getFloat("min", -INFINITY));
    hi = createScalar(b, loc, type, ctx.getFloat("max", INFINITY));
  } else {
    auto scalarInput = [&](int64_t i) -> Value {
      std::optional<TensorValue> v = ctx.getOptionalInput(i);
      if (!v)
        return nullptr;
      return tensor::ExtractOp::create(
          b, loc, v->value,
          SmallVector<Value>(v->getRank(),
                             arith::ConstantIndexOp::create(b, loc, 0)));
    };
    lo = scalarInput(1);
    hi = scalarInput(2);
  }
  bool isFloat = isa<FloatType>(type);
  std::string error;
  FailureOr<Value> result = buildElementwise(
      b, loc, input->value, type,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value x = args[0];
        if (lo)
          x = isFloat ? arith::MaxNumFOp::create(nb, nloc, x, lo).getResult()
                      : arith::MaxSIOp::create(nb, nloc, x, lo).getResult();
        if (hi)
          x = isFloat ? arith::MinNumFOp::create(nb, nloc, x, hi).getResult()
                      : arith::MinSIOp::create(nb, nloc, x, hi).getResult();
        return x;
      },
      error);
  if (failed(result))
    return emitBroadcastError(ctx, error);
  ctx.setOutput(0, *result);
  return success();
}

static LogicalResult convertMatMul(NodeContext &ctx) {
  FailureOr<TensorValue> lhs = ctx.getInput(0), rhs = ctx.getInput(1);
  if (failed(lhs) || failed(rhs))
    return failure();
  if (lhs->getElementType() != rhs->getElementType()) {
    ctx.emitError() << "input types differ (" << lhs->getType() << " vs "
                    << rhs->getType() << ")";
    return failure();
  }
  std::string error;
  FailureOr<Value> result = buildMatMul(ctx.getBuilder(), ctx.getLoc(),
                                        lhs->value, rhs->value, error);
  if (failed(result))
    return emitBroadcastError(ctx, error);
  ctx.setOutput(0, *result);
  return success();
}

static LogicalResult convertGemm(NodeContext &ctx) {
  FailureOr<TensorValue> a = ctx.getInput(0), bIn = ctx.getInput(1);
  if (failed(a) || failed(bIn))
    return failure();
  if (a->getRank() != 2 || bIn->getRank() != 2) {
    ctx.emitError() << "expects 2-D A and B (got " << a->getType() << " and "
                    << bIn->getType() << ")";
    return failure();
  }
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value lhs = a->value, rhs = bIn->value;
  if (ctx.getInt("transA", 0))
    lhs = buildTranspose(b, loc, lhs, {1, 0});
  if (ctx.getInt("transB", 0))
    rhs = buildTranspose(b, loc, rhs, {1, 0});
  std::string error;
  FailureOr<Value> product = buildMatMul(b, loc, lhs, rhs, error);
  if (failed(product))
    return emitBroadcastError(ctx, error);

  Type type = a->getElementType();
  double alpha = ctx.getFloat("alpha", 1.0f);
  double beta = ctx.getFloat("beta", 1.0f);
  Value result = *product;
  std::optional<TensorValue> c = ctx.getOptionalInput(2);
  if (alpha != 1.0 || (c && beta != 0.0)) {
    SmallVector<Value> inputs = {result};
    if (c && beta != 0.0)
      inputs.push_back(c->value);
    FailureOr<Value> combined = buildElementwise(
        b, loc, inputs, type,
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value acc = args[0];
          if (alpha != 1.0)
            acc = arith::MulFOp::create(nb, nloc, acc,
                                        createScalar(nb, nloc, type, alpha));
          if (args.size() > 1) {
            Value bias = args[1];
            if (beta != 1.0)
              bias = arith::MulFOp::create(
                  nb, nloc, bias, createScalar(nb, nloc, type, beta));
            acc = arith::AddFOp::create(nb, nloc, acc, bias);
          }
          return acc;
        },
        error);
    if (failed(combined))
      return emitBroadcastError(ctx, error);
    result = *combined;
  }
  ctx.setOutput(0, result);
  return success();
}

void mlir::rill::onnx_import::appendElementwiseOps(
    std::vector<OpSupport> &ops) {
  constexpr int64_t kMax = 23;
  ops.insert(
      ops.end(),
      {
          {"", "Add", 1, kMax, convertBinaryOp<BinaryKind::Add>},
          {"", "Sub", 1, kMax, convertBinaryOp<BinaryKind::Sub>},
          {"", "Mul", 1, kMax, convertBinaryOp<BinaryKind::Mul>},
          {"", "Div", 1, kMax, convertBinaryOp<BinaryKind::Div>},
          {"", "Pow", 1, kMax, convertBinaryOp<BinaryKind::Pow>},
          {"", "Mod", 10, kMax, convertBinaryOp<BinaryKind::Mod>},
          {"", "Equal", 1, kMax, convertBinaryOp<BinaryKind::Equal>},
          {"", "Less", 1, kMax, convertBinaryOp<BinaryKind::Less>},
          {"", "LessOrEqual", 12, kMax,
           convertBinaryOp<BinaryKind::LessOrEqual>},
          {"", "Greater", 1, kMax, convertBinaryOp<BinaryKind::Greater>},
          {"", "GreaterOrEqual", 12, kMax,
           convertBinaryOp<BinaryKind::GreaterOrEqual>},
          {"", "And", 1, kMax, convertBinaryOp<BinaryKind::And>},
          {"", "Or", 1, kMax, convertBinaryOp<BinaryKind::Or>},
          {"", "Xor", 1, kMax, convertBinaryOp<BinaryKind::Xor>},
          {"", "Max", 1, kMax, convertMax},
          {"", "Min", 1, kMax, convertMin},
          {"", "Sum", 1, kMax, convertSum},
          {"", "Mean", 1, kMax, convertMean},
          {"", "Identity", 1, kMax, convertUnaryOp<UnaryKind::Identity>},
          {"", "Neg", 1, kMax, convertUnaryOp<UnaryKind::Neg>},
          {"", "Abs", 1, kMax, convertUnaryOp<UnaryKind::Abs>},
          {"", "Sqrt", 1, kMax, convertUnaryOp<UnaryKind::Sqrt>},
          {"", "Reciprocal", 1, kMax, convertUnaryOp<UnaryKind::Reciprocal>},
          {"", "Exp", 1, kMax, convertUnaryOp<UnaryKind::Exp>},
          {"", "Log", 1, kMax, convertUnaryOp<UnaryKind::Log>},
          {"", "Tanh", 1, kMax, convertUnaryOp<UnaryKind::Tanh>},
          {"", "Erf", 9, kMax, convertUnaryOp<UnaryKind::Erf>},
          {"", "Sigmoid", 1, kMax, convertUnaryOp<UnaryKind::Sigmoid>},
          {"", "Relu", 1, kMax, convertUnaryOp<UnaryKind::Relu>},
          {"", "Cos", 7, kMax, convertUnaryOp<UnaryKind::Cos>},
          {"", "Sin", 7, kMax, convertUnaryOp<UnaryKind::Sin>},
          {"", "Floor", 1, kMax, convertUnaryOp<UnaryKind::Floor>},
          {"", "Ceil", 1, kMax, convertUnaryOp<UnaryKind::Ceil>},
          {"", "Not", 1, kMax, convertUnaryOp<UnaryKind::Not>},
          {"", "Softplus", 1, kMax, convertUnaryOp<UnaryKind::Softplus>},
          {"", "Where", 9, kMax, convertWhere},
          {"", "Cast", 6, kMax, convertCast},
          {"", "CastLike", 15, kMax, convertCastLike},
          {"", "Gelu", 20, kMax, convertGelu},
          {"com.microsoft", "Gelu", 1, 1, convertGelu},
          {"", "Clip", 6, kMax, convertClip},
          {"", "MatMul", 1, kMax, convertMatMul},
          {"", "Gemm", 7, kMax, convertGemm},
      });
}
