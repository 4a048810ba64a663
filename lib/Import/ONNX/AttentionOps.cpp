//===- AttentionOps.cpp - Attention and rotary ONNX operators -------------===//
//
// Converts the opset-23 Attention operator and the ONNX Runtime contrib
// operators MultiHeadAttention, GroupQueryAttention and RotaryEmbedding to
// `rill.attention` and `rill.rotary`, with upstream ops for the head
// split/merge, KV-cache concatenation and mask-to-bias conversion. What
// each converter rejects is checked up front with a message that names the
// unsupported input or attribute.
//
//===----------------------------------------------------------------------===//

#include "GraphImporter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "rill/Dialect/Rill/IR/RillOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::rill;
using namespace mlir::rill::onnx_import;

/// Reshapes `x` [B, S, H*D] to [B, H, S, D].
static Value splitHeads(OpBuilder &b, Location loc, Value x, int64_t heads) {
  Dims dims = getDims(b, loc, x);
  OpFoldResult headSize = foldIndexArith(b, loc, IndexArith::FloorDiv,
                                         dims[2], b.getIndexAttr(heads));
  Value split = buildReshape(
      b, loc, x, {dims[0], dims[1], b.getIndexAttr(heads), headSize});
  return buildTranspose(b, loc, split, {0, 2, 1, 3});
}

/// Reshapes `x` [B, H, S, D] to [B, S, H*D].
static Value mergeHeads(OpBuilder &b, Location loc, Value x) {
  Value transposed = buildTranspose(b, loc, x, {0, 2, 1, 3});
  Dims dims = getDims(b, loc, transposed);
  OpFoldResult hidden =
      foldIndexArith(b, loc, IndexArith::Mul, dims[2], dims[3]);
  return buildReshape(b, loc, transposed, {dims[0], dims[1], hidden});
}

/// Returns `-inf` where `mask` is false and 0 where it is true.
static Value boolMaskToBias(OpBuilder &b, Location loc, Value mask,
                            Type floatType) {
  Dims dims = getDims(b, loc, mask);
  return buildBroadcastGeneric(
      b, loc, mask, dims, floatType,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        auto ft = cast<FloatType>(floatType);
        Value zero = createScalar(nb, nloc, floatType, 0.0);
        Value negInf = arith::ConstantOp::create(
            nb, nloc,
            FloatAttr::get(ft, APFloat::getInf(ft.getFloatSemantics(), true)));
        return arith::SelectOp::create(nb, nloc, args[0], zero, negInf)
            .getResult();
      });
}

/// Prepends size-1 dimensions so that `x` has rank 4.
static Value expandToRank4(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t missing = 4 - type.getRank();
  if (missing <= 0)
    return x;
  Dims dims = getDims(b, loc, x);
  Dims outDims(missing, b.getIndexAttr(1));
  outDims.append(dims.begin(), dims.end());
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < type.getRank(); ++i)
    groups.push_back({missing + i});
  for (int64_t i = 0; i < missing; ++i)
    groups.front().insert(groups.front().begin() + i, i);
  SmallVector<int64_t> shape(missing, 1);
  shape.append(type.getShape().begin(), type.getShape().end());
  return tensor::ExpandShapeOp::create(b, loc, type.clone(shape), x, groups,
                                       outDims);
}

/// Builds `rill.attention` and returns its [B, Hq, S, Dv] result.
static Value buildAttention(OpBuilder &b, Location loc, Value q, Value k,
                            Value v, Value qPos, Value kPos, Value bias,
                            Value sinkLogits, MaskAttrInterface mask,
                            std::optional<float> scale,
                            std::optional<float> softcap) {
  auto qType = cast<RankedTensorType>(q.getType());
  auto vType = cast<RankedTensorType>(v.getType());
  auto resultType = RankedTensorType::get(
      {qType.getDimSize(0), qType.getDimSize(1), qType.getDimSize(2),
       vType.getDimSize(3)},
      qType.getElementType());
  FloatAttr scaleAttr = scale ? b.getF32FloatAttr(*scale) : FloatAttr();
  FloatAttr softcapAttr =
      softcap && *softcap > 0.0f ? b.getF32FloatAttr(*softcap) : FloatAttr();
  return AttentionOp::create(b, loc, resultType, q, k, v, qPos, kPos, bias,
                             sinkLogits, mask, scaleAttr, softcapAttr);
}

/// Converts an attention mask input (boolean or additive, broadcastable to
/// [B, H, S, T]) into a rank-4 additive bias.
static FailureOr<Value> convertMaskInput(NodeContext &ctx,
                                         const TensorValue &mask,
                                         Type floatType) {
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  if (mask.getRank() < 2 || mask.getRank() > 4) {
    ctx.emitError() << "attention mask must have rank 2 to 4 (got "
                    << mask.getType() << ")";
    return failure();
  }
  Value bias = mask.value;
  if (mask.getElementType().isInteger(1))
    bias = boolMaskToBias(b, loc, bias, floatType);
  else if (mask.getElementType() != floatType) {
    ctx.emitError() << "attention mask must be boolean or have the query's "
                       "element type (got "
                    << mask.getType() << ")";
    return failure();
  }
  return expandToRank4(b, loc, bias);
}

static Value getIndexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

//===----------------------------------------------------------------------===//
// ai.onnx Attention (opset 23)
//===----------------------------------------------------------------------===//

static LogicalResult convertAttention(NodeContext &ctx) {
  FailureOr<TensorValue> q = ctx.getInput(0), k = ctx.getInput(1),
                         v = ctx.getInput(2);
  if (failed(q) || failed(k) || failed(v))
    return failure();
  if (ctx.hasOutput(3)) {
    ctx.emitError() << "the qk_matmul_output output is not supported";
    return failure();
  }
  if (ctx.getNumInputs() > 6) {
    ctx.emitError() << "the nonpad_kv_seqlen input is not supported";
    return failure();
  }
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Type type = q->getElementType();
  if (!isa<FloatType>(type) || k->getElementType() != type ||
      v->getElementType() != type) {
    ctx.emitError() << "Q, K and V must share a floating-point element type "
                       "(got "
                    << q->getType() << ", " << k->getType() << ", "
                    << v->getType() << ")";
    return failure();
  }

  bool packed = q->getRank() == 3;
  if (!packed && q->getRank() != 4) {
    ctx.emitError() << "Q must be 3-D or 4-D (got " << q->getType() << ")";
    return failure();
  }
  if (k->getRank() != q->getRank() || v->getRank() != q->getRank()) {
    ctx.emitError() << "Q, K and V must have the same rank";
    return failure();
  }
  Value query = q->value, key = k->value, value = v->value;
  if (packed) {
    int64_t qHeads = ctx.getInt("q_num_heads", 0);
    int64_t kvHeads = ctx.getInt("kv_num_heads", 0);
    if (qHeads <= 0 || kvHeads <= 0) {
      ctx.emitError() << "3-D inputs require positive q_num_heads and "
                         "kv_num_heads attributes";
      return failure();
    }
    query = splitHeads(b, loc, query, qHeads);
    key = splitHeads(b, loc, key, kvHeads);
    value = splitHeads(b, loc, value, kvHeads);
  }

  // The past cache is prepended along the sequence axis, and the queries
  // sit after it in the stream (bottom-right causal alignment).
  Value qPos = getIndexConstant(b, loc, 0);
  Value kPos = getIndexConstant(b, loc, 0);
  std::optional<TensorValue> pastKey = ctx.getOptionalInput(4);
  std::optional<TensorValue> pastValue = ctx.getOptionalInput(5);
  if (pastKey.has_value() != pastValue.has_value()) {
    ctx.emitError() << "past_key and past_value must be given together";
    return failure();
  }
  if (pastKey) {
    if (pastKey->getRank() != 4 || pastValue->getRank() != 4) {
      ctx.emitError() << "past_key and past_value must be 4-D";
      return failure();
    }
    qPos = toIndexValue(b, loc, getDims(b, loc, pastKey->value)[2]);
    key = tensor::ConcatOp::create(b, loc, 2,
                                   ValueRange{pastKey->value, key});
    value = tensor::ConcatOp::create(b, loc, 2,
                                     ValueRange{pastValue->value, value});
  }

  Value bias;
  if (std::optional<TensorValue> mask = ctx.getOptionalInput(3)) {
    FailureOr<Value> converted = convertMaskInput(ctx, *mask, type);
    if (failed(converted))
      return failure();
    bias = *converted;
  }

  MLIRContext *mctx = b.getContext();
  MaskAttrInterface maskAttr =
      ctx.getInt("is_causal", 0) ? MaskAttrInterface(CausalAttr::get(mctx))
                                 : MaskAttrInterface(FullAttr::get(mctx));
  std::optional<float> scale;
  if (ctx.getAttribute("scale"))
    scale = ctx.getFloat("scale", 1.0f);
  std::optional<float> softcap;
  if (ctx.getAttribute("softcap"))
    softcap = ctx.getFloat("softcap", 0.0f);
  Value y = buildAttention(b, loc, query, key, value, qPos, kPos, bias,
                           Value(), maskAttr, scale, softcap);
  ctx.setOutput(0, packed ? mergeHeads(b, loc, y) : y);
  ctx.setOutput(1, key);
  ctx.setOutput(2, value);
  return success();
}

//===----------------------------------------------------------------------===//
// com.microsoft MultiHeadAttention
//===----------------------------------------------------------------------===//

static LogicalResult convertMultiHeadAttention(NodeContext &ctx) {
  int64_t heads = ctx.getInt("num_heads", 0);
  if (heads <= 0) {
    ctx.emitError() << "requires a positive num_heads attribute";
    return failure();
  }
  if (!ctx.hasInput(1) || !ctx.hasInput(2)) {
    ctx.emitError() << "packed QKV (query without key and value) is not "
                       "supported; pass separate query, key and value";
    return failure();
  }
  for (int64_t i : {3, 4}) {
    if (ctx.hasInput(i)) {
      ctx.emitError() << (i == 3 ? "the bias input" : "key_padding_mask")
                      << " is not supported; fold it into the projections "
                         "or attention_bias";
      return failure();
    }
  }
  if (ctx.getNumInputs() > 8) {
    ctx.emitError() << "inputs after past_value (past_sequence_length, "
                       "cache_indirection) are not supported";
    return failure();
  }
  if (ctx.hasOutput(3)) {
    ctx.emitError() << "the qk output is not supported";
    return failure();
  }
  FailureOr<TensorValue> q = ctx.getInput(0), k = ctx.getInput(1),
                         v = ctx.getInput(2);
  if (failed(q) || failed(k) || failed(v))
    return failure();
  if (q->getRank() != 3 || k->getRank() != 3 || v->getRank() != 3) {
    ctx.emitError() << "supports 3-D query, key and value [batch, sequence, "
                       "hidden] only";
    return failure();
  }
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Type type = q->getElementType();
  Value query = splitHeads(b, loc, q->value, heads);
  Value key = splitHeads(b, loc, k->value, heads);
  Value value = splitHeads(b, loc, v->value, heads);

  Value qPos = getIndexConstant(b, loc, 0);
  Value kPos = getIndexConstant(b, loc, 0);
  std::optional<TensorValue> pastKey = ctx.getOptionalInput(6);
  std::optional<TensorValue> pastValue = ctx.getOptionalInput(7);
  if (pastKey.has_value() != pastValue.has_value()) {
    ctx.emitError() << "past_key and past_value must be given together";
    return failure();
  }
  if (pastKey) {
    qPos = toIndexValue(b, loc, getDims(b, loc, pastKey->value)[2]);
    key = tensor::ConcatOp::create(b, loc, 2,
                                   ValueRange{pastKey->value, key});
    value = tensor::ConcatOp::create(b, loc, 2,
                                     ValueRange{pastValue->value, value});
  }
  Value bias;
  if (std::optional<TensorValue> attentionBias = ctx.getOptionalInput(5)) {
    FailureOr<Value> converted = convertMaskInput(ctx, *attentionBias, type);
    if (failed(converted))
      return failure();
    bias = *converted;
  }
  MLIRContext *mctx = b.getContext();
  MaskAttrInterface mask =
      ctx.getInt("unidirectional", 0)
          ? MaskAttrInterface(CausalAttr::get(mctx))
          : MaskAttrInterface(FullAttr::get(mctx));
  std::optional<float> scale;
  if (ctx.getAttribute("scale") && ctx.getFloat("scale", 0.0f) != 0.0f)
    scale = ctx.getFloat("scale", 1.0f);
  Value y = buildAttention(b, loc, query, key, value, qPos, kPos, bias,
                           Value(), mask, scale, std::nullopt);
  ctx.setOutput(0, mergeHeads(b, loc, y));
  ctx.setOutput(1, key);
  ctx.setOutput(2, value);
  return success();
}

//===----------------------------------------------------------------------===//
// com.microsoft GroupQueryAttention
//===----------------------------------------------------------------------===//

/// Returns the [B] past lengths `seqlens_k + 1 - S` as an index-typed
/// tensor and the [B, S] positions `past + s` as i64.
static std::pair<Value, Value> buildGQAPositions(OpBuilder &b, Location loc,
                                                 Value seqlensK,
                                                 OpFoldResult seqLen) {
  Dims batch = getDims(b, loc, seqlensK);
  Value s = toIndexValue(b, loc, seqLen);
  Value past = buildBroadcastGeneric(
      b, loc, seqlensK, batch, b.getIndexType(),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value total = arith::IndexCastOp::create(nb, nloc, nb.getIndexType(),
                                                 args[0]);
        Value one = arith::ConstantIndexOp::create(nb, nloc, 1);
        Value plusOne = arith::AddIOp::create(nb, nloc, total, one);
        return arith::SubIOp::create(nb, nloc, plusOne, s).getResult();
      });
  Dims posDims = {batch[0], seqLen};
  Value init = createEmpty(b, loc, posDims, b.getI64Type());
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps = {
      AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx),
      AffineMap::getMultiDimIdentityMap(2, ctx)};
  Value positions =
      linalg::GenericOp::create(
          b, loc, init.getType(), past, init, maps,
          {utils::IteratorType::parallel, utils::IteratorType::parallel},
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            Value i = linalg::IndexOp::create(nb, nloc, 1);
            Value p = arith::AddIOp::create(nb, nloc, args[0], i);
            Value asInt =
                arith::IndexCastOp::create(nb, nloc, nb.getI64Type(), p);
            linalg::YieldOp::create(nb, nloc, asInt);
          })
          .getResult(0);
  return {past, positions};
}

/// Writes the new keys `cur` [B, H, S, D] into the cache buffer `past`
/// [B, H, P, D] at each row's past length, giving a [B, H, T, D] present
/// cache with `T = max(P, totalLength)`. Slots before a row's past length
/// come from `past`; slots after its new keys are zero, as in ONNX Runtime.
static Value buildGQAPresent(OpBuilder &b, Location loc, Value past,
                             Value cur, Value pastLengths,
                             OpFoldResult totalLength) {
  Dims pastDims = getDims(b, loc, past);
  Dims curDims = getDims(b, loc, cur);
  OpFoldResult t =
      foldIndexArith(b, loc, IndexArith::Max, pastDims[2], totalLength);
  Dims outDims = {pastDims[0], pastDims[1], t, pastDims[3]};
  auto type = cast<RankedTensorType>(past.getType());
  Value init = createEmpty(b, loc, outDims, type.getElementType());
  Value pastSize = toIndexValue(b, loc, pastDims[2]);
  Value curSize = toIndexValue(b, loc, curDims[2]);
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps = {
      AffineMap::get(4, 0, {getAffineDimExpr(0, ctx)}, ctx),
      AffineMap::getMultiDimIdentityMap(4, ctx)};
  SmallVector<utils::IteratorType> iterators(4,
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, init.getType(), pastLengths, init, maps, iterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               Value start = args[0];
               Value bi = linalg::IndexOp::create(nb, nloc, 0);
               Value hi = linalg::IndexOp::create(nb, nloc, 1);
               Value j = linalg::IndexOp::create(nb, nloc, 2);
               Value di = linalg::IndexOp::create(nb, nloc, 3);
               Value zeroIdx = arith::ConstantIndexOp::create(nb, nloc, 0);
               Value end = arith::AddIOp::create(nb, nloc, start, curSize);
               Value afterStart = arith::CmpIOp::create(
                   nb, nloc, arith::CmpIPredicate::sge, j, start);
               Value beforeEnd = arith::CmpIOp::create(
                   nb, nloc, arith::CmpIPredicate::slt, j, end);
               Value inNew =
                   arith::AndIOp::create(nb, nloc, afterStart, beforeEnd);
               Value inPast = arith::CmpIOp::create(
                   nb, nloc, arith::CmpIPredicate::slt, j, start);
               // Clamp the indices so both reads stay in bounds.
               Value curMax = arith::SubIOp::create(
                   nb, nloc, curSize,
                   arith::ConstantIndexOp::create(nb, nloc, 1));
               Value curJ = arith::MinSIOp::create(
                   nb, nloc,
                   arith::MaxSIOp::create(
                       nb, nloc, arith::SubIOp::create(nb, nloc, j, start),
                       zeroIdx),
                   curMax);
               Value pastMax = arith::MaxSIOp::create(
                   nb, nloc,
                   arith::SubIOp::create(
                       nb, nloc, pastSize,
                       arith::ConstantIndexOp::create(nb, nloc, 1)),
                   zeroIdx);
               Value pastJ = arith::MinSIOp::create(nb, nloc, j, pastMax);
               Value fromCur = tensor::ExtractOp::create(
                   nb, nloc, cur, ValueRange{bi, hi, curJ, di});
               Value zero =
                   createScalar(nb, nloc, type.getElementType(), 0.0);
               Value fromPast = zero;
               if (!type.isDynamicDim(2) && type.getDimSize(2) == 0) {
                 fromPast = zero;
               } else {
                 Value read = tensor::ExtractOp::create(
                     nb, nloc, past, ValueRange{bi, hi, pastJ, di});
                 fromPast =
                     arith::SelectOp::create(nb, nloc, inPast, read, zero);
               }
               Value result =
                   arith::SelectOp::create(nb, nloc, inNew, fromCur, fromPast);
               linalg::YieldOp::create(nb, nloc, result);
             })
      .getResult(0);
}

/// Builds the [B, 1, S, T] additive bias that hides, for each row, keys
/// after the query (causal at the row's own past length) and keys outside
/// the local window.
static Value buildGQABias(OpBuilder &b, Location loc, Value pastLengths,
                          OpFoldResult seqLen, OpFoldResult keyLen,
                          int64_t window, Type floatType) {
  Dims batch = getDims(b, loc, pastLengths);
  Dims dims = {batch[0], b.getIndexAttr(1), seqLen, keyLen};
  Value init = createEmpty(b, loc, dims, floatType);
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps = {
      AffineMap::get(4, 0, {getAffineDimExpr(0, ctx)}, ctx),
      AffineMap::getMultiDimIdentityMap(4, ctx)};
  SmallVector<utils::IteratorType> iterators(4,
                                             utils::IteratorType::parallel);
  auto ft = cast<FloatType>(floatType);
  return linalg::GenericOp::create(
             b, loc, init.getType(), pastLengths, init, maps, iterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               Value i = linalg::IndexOp::create(nb, nloc, 2);
               Value j = linalg::IndexOp::create(nb, nloc, 3);
               Value qPos = arith::AddIOp::create(nb, nloc, args[0], i);
               Value visible = arith::CmpIOp::create(
                   nb, nloc, arith::CmpIPredicate::sle, j, qPos);
               if (window > 0) {
                 Value lowest = arith::SubIOp::create(
                     nb, nloc, qPos,
                     arith::ConstantIndexOp::create(nb, nloc, window));
                 Value inWindow = arith::CmpIOp::create(
                     nb, nloc, arith::CmpIPredicate::sgt, j, lowest);
                 visible = arith::AndIOp::create(nb, nloc, visible, inWindow);
               }
               Value zero = createScalar(nb, nloc, floatType, 0.0);
               Value negInf = arith::ConstantOp::create(
                   nb, nloc,
                   FloatAttr::get(
                       ft, APFloat::getInf(ft.getFloatSemantics(), true)));
               Value bias =
                   arith::SelectOp::create(nb, nloc, visible, zero, negInf);
               linalg::YieldOp::create(nb, nloc, bias);
             })
      .getResult(0);
}

static LogicalResult convertGroupQueryAttention(NodeContext &ctx) {
  int64_t heads = ctx.getInt("num_heads", 0);
  int64_t kvHeads = ctx.getInt("kv_num_heads", 0);
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
    ctx.emitError() << "num_heads (" << heads << ") must be a positive "
                    << "multiple of kv_num_heads (" << kvHeads << ")";
    return failure();
  }
  if (ctx.hasInput(1) != ctx.hasInput(2)) {
    ctx.emitError() << "key and value must be given together";
    return failure();
  }
  if (!ctx.hasInput(5) || !ctx.hasInput(6)) {
    ctx.emitError() << "requires the seqlens_k and total_sequence_length "
                       "inputs";
    return failure();
  }
  if (ctx.hasInput(9) || ctx.hasInput(10)) {
    ctx.emitError() << "the position_ids and attention_bias inputs are not "
                       "supported";
    return failure();
  }
  if (ctx.getInt("smooth_softmax", 0) && !ctx.hasInput(11)) {
    ctx.emitError() << "smooth_softmax without head_sink is not supported";
    return failure();
  }
  if (ctx.hasOutput(3)) {
    ctx.emitError() << "the output_qk output is not supported";
    return failure();
  }
  bool doRotary = ctx.getInt("do_rotary", 0) != 0;
  if (doRotary && (!ctx.hasInput(7) || !ctx.hasInput(8))) {
    ctx.emitError() << "do_rotary=1 requires cos_cache and sin_cache";
    return failure();
  }

  FailureOr<TensorValue> q = ctx.getInput(0), seqlens = ctx.getInput(5),
                         total = ctx.getInput(6);
  if (failed(q) || failed(seqlens) || failed(total))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  if (q->getRank() != 3) {
    ctx.emitError() << "supports 3-D query [batch, sequence, hidden] only";
    return failure();
  }
  FailureOr<TensorValue> k = *q, v = *q;
  if (ctx.hasInput(1)) {
    k = ctx.getInput(1);
    v = ctx.getInput(2);
    if (failed(k) || failed(v))
      return failure();
    if (k->getRank() != 3 || v->getRank() != 3) {
      ctx.emitError() << "supports 3-D key and value [batch, sequence, "
                         "hidden] only";
      return failure();
    }
  } else {
    // Packed QKV: the last axis contains num_heads query heads, then
    // kv_num_heads key heads and kv_num_heads value heads.
    int64_t packedSize = q->getType().getDimSize(2);
    int64_t totalHeads = heads + 2 * kvHeads;
    if (ShapedType::isDynamic(packedSize) || packedSize % totalHeads != 0) {
      ctx.emitError() << "packed QKV needs a static last dimension divisible "
                         "by num_heads + 2 * kv_num_heads (got "
                      << q->getType() << ")";
      return failure();
    }
    int64_t headSize = packedSize / totalHeads;
    Dims dims = getDims(b, loc, q->value);
    auto slice = [&](int64_t offset, int64_t size) {
      Dims offsets = {b.getIndexAttr(0), b.getIndexAttr(0),
                      b.getIndexAttr(offset)};
      Dims sizes = {dims[0], dims[1], b.getIndexAttr(size)};
      Dims strides(3, b.getIndexAttr(1));
      return TensorValue{tensor::ExtractSliceOp::create(b, loc, q->value,
                                                        offsets, sizes,
                                                        strides)};
    };
    TensorValue packedQ = slice(0, heads * headSize);
    k = slice(heads * headSize, kvHeads * headSize);
    v = slice((heads + kvHeads) * headSize, kvHeads * headSize);
    q = packedQ;
  }
  if (seqlens->getRank() != 1) {
    ctx.emitError() << "seqlens_k must be 1-D [batch] (got "
                    << seqlens->getType() << ")";
    return failure();
  }
  Type type = q->getElementType();
  Value query = splitHeads(b, loc, q->value, heads);
  Value key = splitHeads(b, loc, k->value, kvHeads);
  Value value = splitHeads(b, loc, v->value, kvHeads);
  OpFoldResult seqLen = getDims(b, loc, query)[2];
  auto [pastLengths, positions] =
      buildGQAPositions(b, loc, seqlens->value, seqLen);

  if (doRotary) {
    FailureOr<TensorValue> cosCache = ctx.getInput(7),
                           sinCache = ctx.getInput(8);
    if (failed(cosCache) || failed(sinCache))
      return failure();
    int64_t half = cosCache->getType().getDimSize(1);
    IntegerAttr rotaryDim =
        ShapedType::isDynamic(half) ? IntegerAttr()
                                    : b.getI64IntegerAttr(2 * half);
    bool interleaved = ctx.getInt("rotary_interleaved", 0) != 0;
    auto rotate = [&](Value x) {
      return RotaryOp::create(b, loc, x.getType(), x, positions,
                              cosCache->value, sinCache->value,
                              APFloat(10000.0), rotaryDim, interleaved)
          .getResult();
    };
    query = rotate(query);
    key = rotate(key);
  }

  // The present cache contains past and new keys, and queries attend to
  // it with stream positions equal to cache slots.
  OpFoldResult totalLength = getIndexScalar(b, loc, *total);
  Value presentKey = key, presentValue = value;
  std::optional<TensorValue> pastKey = ctx.getOptionalInput(3);
  std::optional<TensorValue> pastValue = ctx.getOptionalInput(4);
  if (pastKey.has_value() != pastValue.has_value()) {
    ctx.emitError() << "past_key and past_value must be given together";
    return failure();
  }
  if (pastKey) {
    presentKey = buildGQAPresent(b, loc, pastKey->value, key, pastLengths,
                                 totalLength);
    presentValue = buildGQAPresent(b, loc, pastValue->value, value,
                                   pastLengths, totalLength);
  }

  // NOTE: rows may have different lengths, so causality and the local
  // window are expressed per row in an additive bias and the mask
  // attribute stays #rill.full, unless the batch is statically 1.
  int64_t window = ctx.getInt("local_window_size", -1);
  MLIRContext *mctx = b.getContext();
  Value bias, qPos = getIndexConstant(b, loc, 0);
  MaskAttrInterface mask = FullAttr::get(mctx);
  bool singleRow = q->getType().getDimSize(0) == 1;
  if (singleRow) {
    Value zero = getIndexConstant(b, loc, 0);
    qPos = tensor::ExtractOp::create(b, loc, pastLengths, ValueRange{zero});
    mask = window > 0 ? MaskAttrInterface(WindowAttr::get(mctx, window))
                      : MaskAttrInterface(CausalAttr::get(mctx));
  } else {
    bias = buildGQABias(b, loc, pastLengths, seqLen,
                        getDims(b, loc, presentKey)[2], window, type);
  }

  Value sinkLogits;
  if (std::optional<TensorValue> sink = ctx.getOptionalInput(11))
    sinkLogits = sink->value;
  std::optional<float> scale;
  if (ctx.getAttribute("scale") && ctx.getFloat("scale", 0.0f) != 0.0f)
    scale = ctx.getFloat("scale", 1.0f);
  std::optional<float> softcap;
  if (ctx.getAttribute("softcap"))
    softcap = ctx.getFloat("softcap", 0.0f);
  Value y = buildAttention(b, loc, query, presentKey, presentValue, qPos,
                           getIndexConstant(b, loc, 0), bias, sinkLogits, mask,
                           scale, softcap);
  ctx.setOutput(0, mergeHeads(b, loc, y));
  ctx.setOutput(1, presentKey);
  ctx.setOutput(2, presentValue);
  return success();
}

//===----------------------------------------------------------------------===//
// RotaryEmbedding
//===----------------------------------------------------------------------===//

/// Converts RotaryEmbedding. The contrib operator's 4-D layout is
/// [B, S, H, D] and the opset-23 operator's is [B, H, S, D]; both accept
/// [B, S, H*D] with num_heads.
static LogicalResult convertRotaryEmbedding(NodeContext &ctx) {
  bool contrib = ctx.getNode().domain() == "com.microsoft";
  // The contrib operator orders its inputs (input, position_ids, cos, sin)
  // and the opset-23 operator (X, cos, sin, position_ids).
  int64_t posIndex = contrib ? 1 : 3;
  int64_t cosIndex = contrib ? 2 : 1;
  int64_t sinIndex = contrib ? 3 : 2;
  if (!ctx.hasInput(posIndex)) {
    ctx.emitError() << "requires position_ids";
    return failure();
  }
  if (contrib && ctx.getInt("is_packed_batching", 0)) {
    ctx.emitError() << "is_packed_batching=1 is not supported";
    return failure();
  }
  FailureOr<TensorValue> x = ctx.getInput(0), pos = ctx.getInput(posIndex),
                         cosCache = ctx.getInput(cosIndex),
                         sinCache = ctx.getInput(sinIndex);
  if (failed(x) || failed(pos) || failed(cosCache) || failed(sinCache))
    return failure();
  if (cosCache->getRank() != 2) {
    ctx.emitError() << "cos_cache must be 2-D [max_position, rotary_dim / 2] "
                       "(got "
                    << cosCache->getType() << ")";
    return failure();
  }
  if (contrib && ctx.getFloat("scale", 1.0f) != 1.0f) {
    ctx.emitError() << "scale other than 1 is not supported";
    return failure();
  }
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();

  Value input = x->value;
  bool packed = x->getRank() == 3;
  if (packed) {
    int64_t heads = ctx.getInt("num_heads", 0);
    if (heads <= 0) {
      ctx.emitError() << "3-D input requires a positive num_heads attribute";
      return failure();
    }
    input = splitHeads(b, loc, input, heads);
  } else if (x->getRank() == 4) {
    if (contrib)
      input = buildTranspose(b, loc, input, {0, 2, 1, 3});
  } else {
    ctx.emitError() << "input must be 3-D or 4-D (got " << x->getType()
                    << ")";
    return failure();
  }

  // A 1-element position input is an offset: token s is at offset + s.
  Value positions = pos->value;
  if (pos->getRank() != 2) {
    if (pos->getType().getNumElements() != 1) {
      ctx.emitError() << "position_ids must be [batch, sequence] or a single "
                         "offset (got "
                      << pos->getType() << ")";
      return failure();
    }
    OpFoldResult offset = getDims(b, loc, input)[2];
    Value zero = getIndexConstant(b, loc, 0);
    Value start = tensor::ExtractOp::create(
        b, loc, pos->value, SmallVector<Value>(pos->getRank(), zero));
    Type posType = pos->getElementType();
    Dims dims = {b.getIndexAttr(1), offset};
    Value init = createEmpty(b, loc, dims, posType);
    positions =
        linalg::GenericOp::create(
            b, loc, init.getType(), ValueRange{}, init,
            {AffineMap::getMultiDimIdentityMap(2, b.getContext())},
            {utils::IteratorType::parallel, utils::IteratorType::parallel},
            [&](OpBuilder &nb, Location nloc, ValueRange) {
              Value s = linalg::IndexOp::create(nb, nloc, 1);
              Value asInt = arith::IndexCastOp::create(nb, nloc, posType, s);
              Value p = arith::AddIOp::create(nb, nloc, start, asInt);
              linalg::YieldOp::create(nb, nloc, p);
            })
            .getResult(0);
  }

  int64_t rotaryDim = ctx.getInt("rotary_embedding_dim", 0);
  int64_t half = cosCache->getType().getDimSize(1);
  IntegerAttr rotaryDimAttr;
  if (rotaryDim > 0)
    rotaryDimAttr = b.getI64IntegerAttr(rotaryDim);
  else if (!ShapedType::isDynamic(half))
    rotaryDimAttr = b.getI64IntegerAttr(2 * half);
  bool interleaved = ctx.getInt("interleaved", 0) != 0;
  Value rotated = RotaryOp::create(b, loc, input.getType(), input, positions,
                                   cosCache->value, sinCache->value,
                                   APFloat(10000.0), rotaryDimAttr,
                                   interleaved)
                      .getResult();
  if (packed)
    rotated = mergeHeads(b, loc, rotated);
  else if (contrib)
    rotated = buildTranspose(b, loc, rotated, {0, 2, 1, 3});
  ctx.setOutput(0, rotated);
  return success();
}

void mlir::rill::onnx_import::appendAttentionOps(std::vector<OpSupport> &ops) {
  ops.insert(ops.end(),
             {
                 {"", "Attention", 23, 23, convertAttention},
                 {"", "RotaryEmbedding", 23, 23, convertRotaryEmbedding},
                 {"com.microsoft", "MultiHeadAttention", 1, 1,
                  convertMultiHeadAttention},
                 {"com.microsoft", "GroupQueryAttention", 1, 1,
                  convertGroupQueryAttention},
                 {"com.microsoft", "RotaryEmbedding", 1, 1,
                  convertRotaryEmbedding},
             });
}
