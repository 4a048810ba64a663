//===- RillCacheOps.cpp - Ring-buffer cache operations ---------*- C++ -*-===//
//
// Verifiers of rill.cache_attention and rill.cache_update. Like the other
// rill verifiers they check every relation between static dimensions and
// treat dynamic dimensions as unknown; `sinks` and `capacity` are checked
// against each other and against the cache length when they are constants.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/IR/RillOps.h"

#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;
using namespace mlir::rill;

namespace {
/// Checks ranks and dimensions of a cache op, with messages that name the
/// operand, the dimension and both values.
class CacheShapeChecker {
public:
  explicit CacheShapeChecker(Operation *op) : op(op) {}

  LogicalResult checkRank(StringRef name, Value value, int64_t rank,
                          StringRef layout) {
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getRank() == rank)
      return success();
    return op->emitOpError() << "expects " << name << " to have rank " << rank
                             << " " << layout << " (got rank "
                             << type.getRank() << ")";
  }

  LogicalResult checkElementType(StringRef name, Value value, Type expected,
                                 StringRef expectedFrom) {
    Type actual = cast<RankedTensorType>(value.getType()).getElementType();
    if (actual == expected)
      return success();
    return op->emitOpError() << "expects " << name
                             << " element type to match " << expectedFrom
                             << " (got " << actual << ", expected " << expected
                             << ")";
  }

  /// Checks that dimension `dim` of `name` equals dimension `expectedDim` of
  /// `expectedFrom` unless either is dynamic.
  LogicalResult checkDim(StringRef name, Value value, int64_t dim,
                         StringRef dimName, StringRef expectedFrom,
                         Value expectedValue, int64_t expectedDim) {
    int64_t actual = cast<RankedTensorType>(value.getType()).getDimSize(dim);
    int64_t expected =
        cast<RankedTensorType>(expectedValue.getType()).getDimSize(expectedDim);
    if (ShapedType::isDynamic(actual) || ShapedType::isDynamic(expected) ||
        actual == expected)
      return success();
    return op->emitOpError()
           << "expects " << name << " dimension " << dim << " (" << dimName
           << ") to be " << expected << " as in " << expectedFrom << " (got "
           << actual << ")";
  }

private:
  Operation *op;
};
} // namespace

/// Checks the chunk, cache and position operands that both cache ops have.
static LogicalResult verifyCacheOperands(Operation *op, Value key, Value value,
                                         Value keyCache, Value valueCache,
                                         Value positions, Value sinks,
                                         Value capacity) {
  CacheShapeChecker checker(op);
  if (failed(checker.checkRank("key", key, 4, "[B, Hkv, T, D]")) ||
      failed(checker.checkRank("value", value, 4, "[B, Hkv, T, Dv]")) ||
      failed(checker.checkRank("key_cache", keyCache, 4, "[B, Hkv, C, D]")) ||
      failed(checker.checkRank("value_cache", valueCache, 4,
                               "[B, Hkv, C, Dv]")) ||
      failed(checker.checkRank("positions", positions, 1, "[B]")))
    return failure();

  Type elementType = cast<RankedTensorType>(key.getType()).getElementType();
  if (!isa<FloatType>(elementType))
    return op->emitOpError()
           << "expects key to have a floating-point element type (got "
           << elementType << ")";
  Type positionType =
      cast<RankedTensorType>(positions.getType()).getElementType();
  if (!positionType.isSignlessInteger(64))
    return op->emitOpError()
           << "expects positions to have i64 elements (got " << positionType
           << ")";

  if (failed(checker.checkElementType("value", value, elementType, "key")) ||
      failed(checker.checkElementType("key_cache", keyCache, elementType,
                                      "key")) ||
      failed(checker.checkElementType("value_cache", valueCache, elementType,
                                      "key")))
    return failure();

  if (failed(checker.checkDim("value", value, 0, "batch", "key", key, 0)) ||
      failed(checker.checkDim("value", value, 1, "key-value heads", "key",
                              key, 1)) ||
      failed(checker.checkDim("value", value, 2, "chunk length", "key", key,
                              2)) ||
      failed(checker.checkDim("key_cache", keyCache, 0, "batch", "key", key,
                              0)) ||
      failed(checker.checkDim("key_cache", keyCache, 1, "key-value heads",
                              "key", key, 1)) ||
      failed(checker.checkDim("key_cache", keyCache, 3, "head size", "key",
                              key, 3)) ||
      failed(checker.checkDim("value_cache", valueCache, 0, "batch", "key",
                              key, 0)) ||
      failed(checker.checkDim("value_cache", valueCache, 1, "key-value heads",
                              "key", key, 1)) ||
      failed(checker.checkDim("value_cache", valueCache, 2, "capacity",
                              "key_cache", keyCache, 2)) ||
      failed(checker.checkDim("value_cache", valueCache, 3, "value head size",
                              "value", value, 3)) ||
      failed(checker.checkDim("positions", positions, 0, "batch", "key", key,
                              0)))
    return failure();

  // The slot rule needs 0 <= sinks < capacity = C.
  APInt sinksValue, capacityValue;
  bool sinksKnown = matchPattern(sinks, m_ConstantInt(&sinksValue));
  bool capacityKnown = matchPattern(capacity, m_ConstantInt(&capacityValue));
  if (capacityKnown && capacityValue.getSExtValue() < 1)
    return op->emitOpError() << "expects capacity to be positive (got "
                             << capacityValue.getSExtValue() << ")";
  if (sinksKnown && sinksValue.getSExtValue() < 0)
    return op->emitOpError() << "expects sinks to be non-negative (got "
                             << sinksValue.getSExtValue() << ")";
  if (sinksKnown && capacityKnown &&
      sinksValue.getSExtValue() >= capacityValue.getSExtValue())
    return op->emitOpError()
           << "expects sinks (" << sinksValue.getSExtValue()
           << ") to be less than capacity (" << capacityValue.getSExtValue()
           << ") so that the window has at least one slot";
  int64_t cacheLength =
      cast<RankedTensorType>(keyCache.getType()).getDimSize(2);
  if (capacityKnown && !ShapedType::isDynamic(cacheLength) &&
      capacityValue.getSExtValue() != cacheLength)
    return op->emitOpError()
           << "expects capacity (" << capacityValue.getSExtValue()
           << ") to equal key_cache dimension 2 (got " << cacheLength << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// CacheAttentionOp
//===----------------------------------------------------------------------===//

double CacheAttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  int64_t headSize = getQuery().getType().getDimSize(3);
  if (ShapedType::isDynamic(headSize))
    return std::nan("");
  return 1.0 / std::sqrt(static_cast<double>(headSize));
}

LogicalResult CacheAttentionOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyCacheOperands(op, getKey(), getValue(), getKeyCache(),
                                 getValueCache(), getPositions(), getSinks(),
                                 getCapacity())))
    return failure();

  CacheShapeChecker checker(op);
  Value query = getQuery();
  Value key = getKey();
  Type elementType = cast<RankedTensorType>(key.getType()).getElementType();
  if (failed(checker.checkRank("query", query, 4, "[B, Hq, T, D]")) ||
      failed(checker.checkRank("result", getResult(), 4, "[B, Hq, T, Dv]")) ||
      failed(checker.checkElementType("query", query, elementType, "key")) ||
      failed(checker.checkElementType("result", getResult(), elementType,
                                      "key")) ||
      failed(checker.checkDim("query", query, 0, "batch", "key", key, 0)) ||
      failed(checker.checkDim("query", query, 2, "chunk length", "key", key,
                              2)) ||
      failed(checker.checkDim("query", query, 3, "head size", "key", key,
                              3)) ||
      failed(checker.checkDim("result", getResult(), 0, "batch", "query",
                              query, 0)) ||
      failed(checker.checkDim("result", getResult(), 1, "query heads",
                              "query", query, 1)) ||
      failed(checker.checkDim("result", getResult(), 2, "chunk length",
                              "query", query, 2)) ||
      failed(checker.checkDim("result", getResult(), 3, "value head size",
                              "value", getValue(), 3)))
    return failure();

  int64_t queryHeads = getQuery().getType().getDimSize(1);
  int64_t keyHeads = cast<RankedTensorType>(key.getType()).getDimSize(1);
  if (!ShapedType::isDynamic(queryHeads) && !ShapedType::isDynamic(keyHeads) &&
      (keyHeads == 0 || queryHeads % keyHeads != 0))
    return emitOpError() << "expects query heads (query dimension 1, got "
                         << queryHeads
                         << ") to be a multiple of key-value heads (key "
                            "dimension 1, got "
                         << keyHeads << ")";

  if (Value sinkLogits = getSinkLogits()) {
    if (failed(checker.checkRank("sink_logits", sinkLogits, 1, "[Hq]")) ||
        failed(checker.checkElementType("sink_logits", sinkLogits,
                                        elementType, "key")) ||
        failed(checker.checkDim("sink_logits", sinkLogits, 0, "query heads",
                                "query", query, 1)))
      return failure();
  }

  if (std::optional<APFloat> softcap = getSoftcap()) {
    if (!(softcap->convertToDouble() > 0.0))
      return emitOpError() << "expects softcap to be positive (got "
                           << softcap->convertToDouble() << ")";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// CacheUpdateOp
//===----------------------------------------------------------------------===//

LogicalResult CacheUpdateOp::verify() {
  return verifyCacheOperands(getOperation(), getKey(), getValue(),
                             getKeyCache(), getValueCache(), getPositions(),
                             getSinks(), getCapacity());
}
