//===- RillOps.cpp - rill dialect operations -------------------*- C++ -*-===//
//
// Verifiers and builders of the rill dialect operations. The verifiers
// check every relation between static dimensions and treat dynamic
// dimensions as unknown. Each message names the operand, the dimension and
// the actual and expected values.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/IR/RillOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::rill;

#define GET_OP_CLASSES
#include "rill/Dialect/Rill/IR/RillOps.cpp.inc"

namespace {
/// Checks shapes of one op, emitting errors that name operands and
/// dimensions.
class ShapeChecker {
public:
  explicit ShapeChecker(Operation *op) : op(op) {}

  /// Checks that `name` has rank `rank`, where `layout` names the dimensions.
  LogicalResult checkRank(StringRef name, RankedTensorType type, int64_t rank,
                          StringRef layout) {
    if (type.getRank() == rank)
      return success();
    return op->emitOpError() << "expects " << name << " to have rank " << rank
                             << " " << layout << " (got rank "
                             << type.getRank() << ")";
  }

  /// Checks that `name` has a floating-point element type.
  LogicalResult checkFloat(StringRef name, RankedTensorType type) {
    if (isa<FloatType>(type.getElementType()))
      return success();
    return op->emitOpError() << "expects " << name
                             << " to have a floating-point element type (got "
                             << type.getElementType() << ")";
  }

  /// Checks that `name` has the element type `expected` of `expectedFrom`.
  LogicalResult checkElementType(StringRef name, RankedTensorType type,
                                 Type expected, StringRef expectedFrom) {
    if (type.getElementType() == expected)
      return success();
    return op->emitOpError()
           << "expects " << name << " element type to match " << expectedFrom
           << " (got " << type.getElementType() << ", expected " << expected
           << ")";
  }

  /// Checks that dimension `dim` (called `dimName`) of `name` equals
  /// `expected` unless either is dynamic.
  LogicalResult checkDim(StringRef name, RankedTensorType type, int64_t dim,
                         StringRef dimName, int64_t expected,
                         StringRef expectedFrom) {
    int64_t actual = type.getDimSize(dim);
    if (ShapedType::isDynamic(actual) || ShapedType::isDynamic(expected) ||
        actual == expected)
      return success();
    return op->emitOpError()
           << "expects " << name << " dimension " << dim << " (" << dimName
           << ") to be " << expected << " as in " << expectedFrom << " (got "
           << actual << ")";
  }

  /// Like checkDim, but also accepts a size of 1 (broadcast).
  LogicalResult checkBroadcastDim(StringRef name, RankedTensorType type,
                                  int64_t dim, StringRef dimName,
                                  int64_t expected, StringRef expectedFrom) {
    int64_t actual = type.getDimSize(dim);
    if (actual == 1 || ShapedType::isDynamic(actual) ||
        ShapedType::isDynamic(expected) || actual == expected)
      return success();
    InFlightDiagnostic diag = op->emitOpError()
                              << "expects " << name << " dimension " << dim
                              << " (" << dimName << ") to be ";
    if (expected != 1)
      diag << "1 or ";
    return diag << expected << " as in " << expectedFrom << " (got " << actual
                << ")";
  }

private:
  Operation *op;
};
} // namespace

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

double AttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  int64_t headSize = getQuery().getType().getDimSize(3);
  return 1.0 / std::sqrt(static_cast<double>(headSize));
}

/// Checks the optional bias and sink-logit operands of `op`.
static LogicalResult verifyAttentionExtras(AttentionOp op,
                                           ShapeChecker &checker,
                                           RankedTensorType queryType,
                                           RankedTensorType keyType) {
  Type elementType = queryType.getElementType();
  int64_t batch = queryType.getDimSize(0);
  int64_t queryHeads = queryType.getDimSize(1);

  if (Value bias = op.getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (failed(checker.checkRank("bias", biasType, 4,
                                 "[B|1, Hq|1, Tq, Tk]")) ||
        failed(checker.checkElementType("bias", biasType, elementType,
                                        "query")) ||
        failed(checker.checkBroadcastDim("bias", biasType, 0, "batch", batch,
                                         "query")) ||
        failed(checker.checkBroadcastDim("bias", biasType, 1, "query heads",
                                         queryHeads, "query")) ||
        failed(checker.checkDim("bias", biasType, 2, "query length",
                                queryType.getDimSize(2), "query")) ||
        failed(checker.checkDim("bias", biasType, 3, "key length",
                                keyType.getDimSize(2), "key")))
      return failure();
  }

  if (Value sinkLogits = op.getSinkLogits()) {
    auto sinkType = cast<RankedTensorType>(sinkLogits.getType());
    if (failed(checker.checkRank("sink_logits", sinkType, 1, "[Hq]")) ||
        failed(checker.checkElementType("sink_logits", sinkType, elementType,
                                        "query")) ||
        failed(checker.checkDim("sink_logits", sinkType, 0, "query heads",
                                queryHeads, "query")))
      return failure();
  }
  return success();
}

LogicalResult AttentionOp::verify() {
  ShapeChecker checker(getOperation());
  RankedTensorType queryType = getQuery().getType();
  RankedTensorType keyType = getKey().getType();
  RankedTensorType valueType = getValue().getType();
  RankedTensorType resultType = getResult().getType();

  if (failed(checker.checkRank("query", queryType, 4, "[B, Hq, Tq, D]")) ||
      failed(checker.checkRank("key", keyType, 4, "[B, Hkv, Tk, D]")) ||
      failed(checker.checkRank("value", valueType, 4, "[B, Hkv, Tk, Dv]")) ||
      failed(checker.checkRank("result", resultType, 4, "[B, Hq, Tq, Dv]")))
    return failure();

  Type elementType = queryType.getElementType();
  if (failed(checker.checkFloat("query", queryType)) ||
      failed(checker.checkElementType("key", keyType, elementType, "query")) ||
      failed(checker.checkElementType("value", valueType, elementType,
                                      "query")) ||
      failed(checker.checkElementType("result", resultType, elementType,
                                      "query")))
    return failure();

  int64_t batch = queryType.getDimSize(0);
  int64_t queryHeads = queryType.getDimSize(1);
  if (failed(checker.checkDim("key", keyType, 0, "batch", batch, "query")) ||
      failed(checker.checkDim("value", valueType, 0, "batch", batch,
                              "query")) ||
      failed(checker.checkDim("key", keyType, 3, "head size",
                              queryType.getDimSize(3), "query")) ||
      failed(checker.checkDim("value", valueType, 1, "key-value heads",
                              keyType.getDimSize(1), "key")) ||
      failed(checker.checkDim("value", valueType, 2, "key length",
                              keyType.getDimSize(2), "key")) ||
      failed(checker.checkDim("result", resultType, 0, "batch", batch,
                              "query")) ||
      failed(checker.checkDim("result", resultType, 1, "query heads",
                              queryHeads, "query")) ||
      failed(checker.checkDim("result", resultType, 2, "query length",
                              queryType.getDimSize(2), "query")) ||
      failed(checker.checkDim("result", resultType, 3, "value head size",
                              valueType.getDimSize(3), "value")))
    return failure();

  // Grouped-query attention: each key-value head serves Hq / Hkv query heads.
  int64_t keyHeads = keyType.getDimSize(1);
  if (!ShapedType::isDynamic(queryHeads) && !ShapedType::isDynamic(keyHeads) &&
      (keyHeads == 0 || queryHeads % keyHeads != 0))
    return emitOpError() << "expects query heads (query dimension 1, got "
                         << queryHeads
                         << ") to be a multiple of key-value heads (key "
                            "dimension 1, got "
                         << keyHeads << ")";

  if (failed(verifyAttentionExtras(*this, checker, queryType, keyType)))
    return failure();

  // softcap * tanh(s / softcap) needs a positive cap.
  if (std::optional<APFloat> softcap = getSoftcap()) {
    double cap = softcap->convertToDouble();
    if (!(cap > 0.0))
      return emitOpError() << "expects softcap to be positive (got " << cap
                           << ")";
  }

  if (std::optional<int64_t> maskHeads = getMask().getNumHeads()) {
    if (!ShapedType::isDynamic(queryHeads) && *maskHeads != queryHeads)
      return emitOpError() << "expects the per-head mask to have one member "
                              "per query head (got "
                           << *maskHeads << " members, query dimension 1 is "
                           << queryHeads << ")";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// RotaryOp
//===----------------------------------------------------------------------===//

void RotaryOp::build(OpBuilder &builder, OperationState &state, Value input,
                     Value positions, double theta,
                     std::optional<int64_t> rotaryDim, bool interleaved) {
  IntegerAttr rotaryDimAttr;
  if (rotaryDim)
    rotaryDimAttr = builder.getI64IntegerAttr(*rotaryDim);
  build(builder, state, input.getType(), input, positions,
        /*cos_table=*/Value(), /*sin_table=*/Value(),
        builder.getF64FloatAttr(theta), rotaryDimAttr,
        interleaved ? builder.getUnitAttr() : UnitAttr());
}

int64_t RotaryOp::getEffectiveRotaryDim() {
  if (std::optional<uint64_t> rotaryDim = getRotaryDim())
    return static_cast<int64_t>(*rotaryDim);
  return getInput().getType().getDimSize(3);
}

/// Checks the optional cos/sin tables of `op` against the rotary dimension.
static LogicalResult verifyRotaryTables(RotaryOp op, ShapeChecker &checker,
                                        int64_t rotaryDim) {
  Value cosTable = op.getCosTable();
  Value sinTable = op.getSinTable();
  if (!cosTable && !sinTable)
    return success();
  if (!cosTable || !sinTable)
    return op.emitOpError() << "expects cos_table and sin_table together (got "
                            << (cosTable ? "only cos_table" : "only sin_table")
                            << ")";

  auto cosType = cast<RankedTensorType>(cosTable.getType());
  auto sinType = cast<RankedTensorType>(sinTable.getType());
  int64_t halfDim =
      ShapedType::isDynamic(rotaryDim) ? ShapedType::kDynamic : rotaryDim / 2;
  if (failed(checker.checkRank("cos_table", cosType, 2,
                               "[max_pos, rotary_dim / 2]")) ||
      failed(checker.checkRank("sin_table", sinType, 2,
                               "[max_pos, rotary_dim / 2]")) ||
      failed(checker.checkFloat("cos_table", cosType)) ||
      failed(checker.checkElementType("sin_table", sinType,
                                      cosType.getElementType(),
                                      "cos_table")) ||
      failed(checker.checkDim("cos_table", cosType, 1, "rotary_dim / 2",
                              halfDim, "the rotary dimension")) ||
      failed(checker.checkDim("sin_table", sinType, 0, "max_pos",
                              cosType.getDimSize(0), "cos_table")) ||
      failed(checker.checkDim("sin_table", sinType, 1, "rotary_dim / 2",
                              halfDim, "the rotary dimension")))
    return failure();
  return success();
}

LogicalResult RotaryOp::verify() {
  ShapeChecker checker(getOperation());
  RankedTensorType inputType = getInput().getType();
  RankedTensorType positionsType = getPositions().getType();

  if (failed(checker.checkRank("input", inputType, 4, "[B, H, T, D]")) ||
      failed(checker.checkFloat("input", inputType)) ||
      failed(checker.checkRank("positions", positionsType, 2, "[B, T]")))
    return failure();

  Type positionElement = positionsType.getElementType();
  if (!positionElement.isSignlessInteger() && !positionElement.isIndex())
    return emitOpError() << "expects positions to have a signless integer or "
                            "index element type (got "
                         << positionElement << ")";
  if (failed(checker.checkBroadcastDim("positions", positionsType, 0, "batch",
                                       inputType.getDimSize(0), "input")) ||
      failed(checker.checkDim("positions", positionsType, 1, "sequence length",
                              inputType.getDimSize(2), "input")))
    return failure();

  if (!(getTheta().convertToDouble() > 0.0))
    return emitOpError() << "expects theta to be positive (got "
                         << getTheta().convertToDouble() << ")";

  int64_t headSize = inputType.getDimSize(3);
  int64_t rotaryDim = getEffectiveRotaryDim();
  if (!ShapedType::isDynamic(rotaryDim)) {
    if (rotaryDim <= 0 || rotaryDim % 2 != 0)
      return emitOpError() << "expects rotary_dim to be positive and even (got "
                           << rotaryDim << ")";
    if (!ShapedType::isDynamic(headSize) && rotaryDim > headSize)
      return emitOpError() << "expects rotary_dim to be at most the head size "
                              "(input dimension 3, "
                           << headSize << ") (got " << rotaryDim << ")";
  }
  return verifyRotaryTables(*this, checker, rotaryDim);
}
