//===- ShapeOps.cpp - Shape, layout and constant ONNX operators -----------===//
//
// Converts Constant, Shape, Size, Gather, Reshape, Flatten, Transpose,
// Unsqueeze, Squeeze, Concat, Slice, Split, Expand, ConstantOfShape, Range,
// Trilu and Tile. Shape vectors are tracked element by element (constants
// or `index` values) so that the shape subgraphs of exported transformers
// fold at import time. The data path uses tensor and linalg ops.
//
//===----------------------------------------------------------------------===//

#include "GraphImporter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::rill::onnx_import;

static RankedTensorType getVectorType(OpBuilder &b, int64_t n,
                                      Type elementType) {
  return RankedTensorType::get({n}, elementType);
}

/// Extracts element 0 of a tensor with one element as a scalar.
static Value extractScalar(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> zeros(type.getRank(),
                           arith::ConstantIndexOp::create(b, loc, 0));
  return tensor::ExtractOp::create(b, loc, tensor, zeros);
}

OpFoldResult mlir::rill::onnx_import::getIndexScalar(OpBuilder &b, Location loc,
                                   const TensorValue &value) {
  if (value.elements && value.elements->size() == 1)
    return (*value.elements)[0];
  Value scalar = extractScalar(b, loc, value.value);
  return b.createOrFold<arith::IndexCastOp>(loc, b.getIndexType(), scalar);
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

static LogicalResult convertConstant(NodeContext &ctx) {
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  GraphImporter &importer = ctx.getImporter();
  if (const onnx::AttributeProto *attr = ctx.getAttribute("value")) {
    // The model is owned by the importer, which may take over raw bytes.
    auto &tensor = const_cast<onnx::TensorProto &>(attr->t());
    FailureOr<TensorValue> value = importer.importTensor(tensor, loc);
    if (failed(value))
      return failure();
    ctx.setOutput(0, *value);
    return success();
  }

  auto setInts = [&](ArrayRef<int64_t> ints, bool scalar) {
    Dims elements;
    for (int64_t v : ints)
      elements.push_back(b.getIndexAttr(v));
    auto type = scalar ? RankedTensorType::get({}, b.getI64Type())
                       : getVectorType(b, ints.size(), b.getI64Type());
    ctx.setOutput(0, importer.makeElementsValue(loc, elements, type));
  };
  auto setFloats = [&](ArrayRef<float> floats, bool scalar) {
    auto type = scalar ? RankedTensorType::get({}, b.getF32Type())
                       : getVectorType(b, floats.size(), b.getF32Type());
    Value value = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, floats));
    ctx.setOutput(0, value);
  };

  if (const onnx::AttributeProto *attr = ctx.getAttribute("value_int")) {
    setInts({attr->i()}, true);
    return success();
  }
  if (const onnx::AttributeProto *attr = ctx.getAttribute("value_ints")) {
    setInts(SmallVector<int64_t>(attr->ints().begin(), attr->ints().end()),
            false);
    return success();
  }
  if (const onnx::AttributeProto *attr = ctx.getAttribute("value_float")) {
    setFloats({attr->f()}, true);
    return success();
  }
  if (const onnx::AttributeProto *attr = ctx.getAttribute("value_floats")) {
    setFloats(SmallVector<float>(attr->floats().begin(), attr->floats().end()),
              false);
    return success();
  }
  ctx.emitError() << "supports the value, value_int(s) and value_float(s) "
                     "attributes only (sparse and string constants are not "
                     "supported)";
  return failure();
}

static LogicalResult convertConstantOfShape(NodeContext &ctx) {
  FailureOr<Dims> dims = ctx.getInputElements(0, "the shape input");
  if (failed(dims))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  TypedAttr fill = b.getF32FloatAttr(0.0f);
  if (const onnx::AttributeProto *attr = ctx.getAttribute("value")) {
    auto &tensor = const_cast<onnx::TensorProto &>(attr->t());
    FailureOr<TensorValue> value =
        ctx.getImporter().importTensor(tensor, loc);
    if (failed(value))
      return failure();
    DenseElementsAttr dense;
    if (!matchPattern(value->value, m_Constant(&dense)) ||
        dense.getNumElements() != 1) {
      ctx.emitError() << "value must be a tensor with one element";
      return failure();
    }
    fill = cast<TypedAttr>(*dense.value_begin<Attribute>());
  }

  Value result = createFilled(b, loc, *dims, fill);
  TensorValue output{result};
  SmallVector<int64_t> shape = getStaticShape(*dims);
  if (fill.getType().isIntOrIndex() && shape.size() <= 1 &&
      !ShapedType::isDynamicShape(shape) &&
      ShapedType::getNumElements(shape) <= kMaxTrackedElements) {
    int64_t v = cast<IntegerAttr>(fill).getValue().getSExtValue();
    output = ctx.getImporter().makeElementsValue(
        loc, Dims(ShapedType::getNumElements(shape), b.getIndexAttr(v)),
        cast<RankedTensorType>(result.getType()));
  }
  ctx.setOutput(0, output);
  return success();
}

//===----------------------------------------------------------------------===//
// Shape queries
//===----------------------------------------------------------------------===//

static LogicalResult convertShape(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  int64_t rank = input->getRank();
  int64_t start = ctx.getInt("start", 0), end = ctx.getInt("end", rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  Dims dims = getDims(b, loc, input->value);
  Dims elements(dims.begin() + start, dims.begin() + std::max(start, end));
  ctx.setOutput(0, ctx.getImporter().makeElementsValue(
                       loc, elements,
                       getVectorType(b, elements.size(), b.getI64Type())));
  return success();
}

static LogicalResult convertSize(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  OpFoldResult count = b.getIndexAttr(1);
  for (OpFoldResult dim : getDims(b, loc, input->value))
    count = foldIndexArith(b, loc, IndexArith::Mul, count, dim);
  ctx.setOutput(0, ctx.getImporter().makeElementsValue(
                       loc, {count},
                       RankedTensorType::get({}, b.getI64Type())));
  return success();
}

//===----------------------------------------------------------------------===//
// Gather
//===----------------------------------------------------------------------===//

static LogicalResult convertGather(NodeContext &ctx) {
  FailureOr<TensorValue> data = ctx.getInput(0), indices = ctx.getInput(1);
  if (failed(data) || failed(indices))
    return failure();
  if (!indices->getElementType().isInteger(32) &&
      !indices->getElementType().isInteger(64)) {
    ctx.emitError() << "indices must be int32 or int64 (got "
                    << indices->getType() << ")";
    return failure();
  }
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.getInt("axis", 0), data->getRank());
  if (failed(axis))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Dims dataDims = getDims(b, loc, data->value);

  // Tracked data with tracked constant indices: pick elements directly.
  if (data->elements && indices->elements) {
    Dims elements;
    bool ok = true;
    int64_t n = data->elements->size();
    for (OpFoldResult index : *indices->elements) {
      std::optional<int64_t> i = getConstant(index);
      if (!i || *i < -n || *i >= n) {
        ok = false;
        break;
      }
      elements.push_back((*data->elements)[*i < 0 ? *i + n : *i]);
    }
    if (ok) {
      auto type = indices->getType().clone(data->getElementType());
      ctx.setOutput(0, ctx.getImporter().makeElementsValue(loc, elements,
                                                           type));
      return success();
    }
  }

  int64_t q = indices->getRank();
  Dims outDims(dataDims.begin(), dataDims.begin() + *axis);
  Dims indexDims = getDims(b, loc, indices->value);
  outDims.append(indexDims.begin(), indexDims.end());
  outDims.append(dataDims.begin() + *axis + 1, dataDims.end());
  int64_t outRank = outDims.size();

  MLIRContext *mctx = b.getContext();
  SmallVector<AffineExpr> indexExprs;
  for (int64_t i = 0; i < q; ++i)
    indexExprs.push_back(getAffineDimExpr(*axis + i, mctx));
  SmallVector<AffineMap> maps = {
      AffineMap::get(outRank, 0, indexExprs, mctx),
      AffineMap::getMultiDimIdentityMap(outRank, mctx)};
  Value init = createEmpty(b, loc, outDims, data->getElementType());
  Value axisSize = toIndexValue(b, loc, dataDims[*axis]);
  Value source = data->value;
  int64_t axisValue = *axis;
  SmallVector<utils::IteratorType> iterators(outRank,
                                             utils::IteratorType::parallel);
  Value result =
      linalg::GenericOp::create(
          b, loc, init.getType(), indices->value, init, maps, iterators,
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            Value index = arith::IndexCastOp::create(
                nb, nloc, nb.getIndexType(), args[0]);
            Value zero = arith::ConstantIndexOp::create(nb, nloc, 0);
            Value negative = arith::CmpIOp::create(
                nb, nloc, arith::CmpIPredicate::slt, index, zero);
            Value wrapped = arith::AddIOp::create(nb, nloc, index, axisSize);
            index = arith::SelectOp::create(nb, nloc, negative, wrapped,
                                            index);
            // NOTE: indices outside [-size, size) are invalid in ONNX. They
            // are clamped into the axis, so a bad token id or position reads
            // a wrong row instead of memory outside the tensor. No error is
            // reported.
            Value last = arith::SubIOp::create(
                nb, nloc, axisSize, arith::ConstantIndexOp::create(nb, nloc, 1));
            index = arith::MaxSIOp::create(
                nb, nloc, arith::MinSIOp::create(nb, nloc, index, last), zero);
            SmallVector<Value> coords;
            for (int64_t i = 0; i < axisValue; ++i)
              coords.push_back(linalg::IndexOp::create(nb, nloc, i));
            coords.push_back(index);
            for (int64_t i = axisValue + q; i < outRank; ++i)
              coords.push_back(linalg::IndexOp::create(nb, nloc, i));
            Value element =
                tensor::ExtractOp::create(nb, nloc, source, coords);
            linalg::YieldOp::create(nb, nloc, element);
          })
          .getResult(0);
  ctx.setOutput(0, result);
  return success();
}

//===----------------------------------------------------------------------===//
// Reshapes
//===----------------------------------------------------------------------===//

static LogicalResult convertReshape(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  FailureOr<Dims> target = ctx.getInputElements(1, "the shape input");
  if (failed(target))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  bool allowZero = ctx.getOpset() >= 14 && ctx.getInt("allowzero", 0);
  Dims inDims = getDims(b, loc, input->value);

  Dims outDims;
  std::optional<int64_t> inferredPos;
  for (auto [i, e] : llvm::enumerate(*target)) {
    std::optional<int64_t> c = getConstant(e);
    if (c == 0 && !allowZero) {
      if (static_cast<int64_t>(i) >= input->getRank()) {
        ctx.emitError() << "shape element " << i
                        << " is 0 (copy the input size) but the input has "
                           "rank "
                        << input->getRank();
        return failure();
      }
      outDims.push_back(inDims[i]);
      continue;
    }
    if (c == -1) {
      if (inferredPos) {
        ctx.emitError() << "shape has more than one -1 element";
        return failure();
      }
      inferredPos = i;
      outDims.push_back(b.getIndexAttr(1));
      continue;
    }
    if (c && *c < -1) {
      ctx.emitError() << "shape element " << i << " is " << *c
                      << "; sizes must be >= -1";
      return failure();
    }
    // NOTE: a shape element known only at run time is assumed to be a
    // size, never the 0 or -1 placeholder.
    outDims.push_back(e);
  }

  // Cancel sizes that appear on both sides so that -1 stays static when
  // only the known sizes differ (for example [?, ?, 768] -> [0, 0, 12, -1]).
  Dims inFactors(inDims), outFactors;
  for (auto [i, d] : llvm::enumerate(outDims)) {
    if (inferredPos && i == *inferredPos)
      continue;
    auto match = llvm::find_if(inFactors, [&](OpFoldResult f) {
      return !getConstant(f) && isSameSize(f, d);
    });
    if (match != inFactors.end())
      inFactors.erase(match);
    else
      outFactors.push_back(d);
  }
  OpFoldResult inCount = b.getIndexAttr(1), outCount = b.getIndexAttr(1);
  for (OpFoldResult d : inFactors)
    inCount = foldIndexArith(b, loc, IndexArith::Mul, inCount, d);
  for (OpFoldResult d : outFactors)
    outCount = foldIndexArith(b, loc, IndexArith::Mul, outCount, d);
  if (inferredPos) {
    outDims[*inferredPos] =
        foldIndexArith(b, loc, IndexArith::FloorDiv, inCount, outCount);
  } else {
    std::optional<int64_t> in = getConstant(inCount),
                           out = getConstant(outCount);
    if (in && out && *in != *out) {
      ctx.emitError() << "cannot reshape " << input->getType() << " ("
                      << *in << " elements) to " << *out << " elements";
      return failure();
    }
  }

  Value result = buildReshape(b, loc, input->value, outDims);
  TensorValue output{result};
  if (input->elements && outDims.size() <= 1)
    output.elements = input->elements;
  ctx.setOutput(0, output);
  return success();
}

static LogicalResult convertFlatten(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  int64_t rank = input->getRank();
  int64_t axis = ctx.getInt("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank) {
    ctx.emitError() << "axis " << ctx.getInt("axis", 1)
                    << " is out of range for rank " << rank;
    return failure();
  }
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Dims dims = getDims(b, loc, input->value);
  OpFoldResult outer = b.getIndexAttr(1), inner = b.getIndexAttr(1);
  for (int64_t i = 0; i < rank; ++i) {
    OpFoldResult &acc = i < axis ? outer : inner;
    acc = foldIndexArith(b, loc, IndexArith::Mul, acc, dims[i]);
  }
  ctx.setOutput(0, buildReshape(b, loc, input->value, {outer, inner}));
  return success();
}

/// Reads the axes of Squeeze/Unsqueeze from the attribute (before opset 13)
/// or the optional second input.
static FailureOr<std::optional<SmallVector<int64_t>>>
getSqueezeAxes(NodeContext &ctx) {
  if (ctx.getOpset() < 13)
    return ctx.getInts("axes");
  if (!ctx.hasInput(1))
    return std::optional<SmallVector<int64_t>>();
  FailureOr<SmallVector<int64_t>> axes =
      ctx.getConstantInputInts(1, "the axes input");
  if (failed(axes))
    return failure();
  return std::optional<SmallVector<int64_t>>(*axes);
}

static LogicalResult convertUnsqueeze(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  FailureOr<std::optional<SmallVector<int64_t>>> axesOr = getSqueezeAxes(ctx);
  if (failed(input) || failed(axesOr))
    return failure();
  if (!*axesOr) {
    ctx.emitError() << "requires axes";
    return failure();
  }
  int64_t outRank = input->getRank() + (*axesOr)->size();
  SmallVector<bool> inserted(outRank, false);
  for (int64_t axis : **axesOr) {
    FailureOr<int64_t> a = ctx.normalizeAxis(axis, outRank);
    if (failed(a))
      return failure();
    if (inserted[*a]) {
      ctx.emitError() << "axes contain " << axis << " twice";
      return failure();
    }
    inserted[*a] = true;
  }

  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Dims inDims = getDims(b, loc, input->value);
  Dims outDims;
  SmallVector<int64_t> outShape;
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  int64_t next = 0;
  for (int64_t i = 0; i < outRank; ++i) {
    pending.push_back(i);
    if (inserted[i]) {
      outDims.push_back(b.getIndexAttr(1));
      outShape.push_back(1);
      continue;
    }
    outDims.push_back(inDims[next]);
    outShape.push_back(input->getType().getDimSize(next));
    ++next;
    groups.push_back(pending);
    pending.clear();
  }
  if (!pending.empty() && !groups.empty())
    groups.back().append(pending.begin(), pending.end());
  auto type = RankedTensorType::get(outShape, input->getElementType());
  Value result = tensor::ExpandShapeOp::create(b, loc, type, input->value,
                                               groups, outDims);
  TensorValue output{result};
  if (input->elements && outRank <= 1)
    output.elements = input->elements;
  ctx.setOutput(0, output);
  return success();
}

static LogicalResult convertSqueeze(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  FailureOr<std::optional<SmallVector<int64_t>>> axesOr = getSqueezeAxes(ctx);
  if (failed(input) || failed(axesOr))
    return failure();
  RankedTensorType type = input->getType();
  int64_t rank = type.getRank();
  SmallVector<bool> squeezed(rank, false);
  if (*axesOr) {
    for (int64_t axis : **axesOr) {
      FailureOr<int64_t> a = ctx.normalizeAxis(axis, rank);
      if (failed(a))
        return failure();
      if (!type.isDynamicDim(*a) && type.getDimSize(*a) != 1) {
        ctx.emitError() << "cannot squeeze dimension " << *a << " of size "
                        << type.getDimSize(*a);
        return failure();
      }
      squeezed[*a] = true;
    }
  } else {
    for (int64_t i = 0; i < rank; ++i)
      squeezed[i] = type.getDimSize(i) == 1;
  }

  // Squeezed dimensions of unknown size are 1 by contract; make that static
  // first so collapse_shape keeps the other sizes.
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  SmallVector<int64_t> staticShape(type.getShape());
  for (int64_t i = 0; i < rank; ++i)
    if (squeezed[i])
      staticShape[i] = 1;
  Value source = input->value;
  if (staticShape != SmallVector<int64_t>(type.getShape()))
    source = tensor::CastOp::create(b, loc, type.clone(staticShape), source);

  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  SmallVector<int64_t> outShape;
  for (int64_t i = 0; i < rank; ++i) {
    pending.push_back(i);
    if (squeezed[i])
      continue;
    outShape.push_back(staticShape[i]);
    groups.push_back(pending);
    pending.clear();
  }
  if (!pending.empty() && !groups.empty())
    groups.back().append(pending.begin(), pending.end());
  auto outType = RankedTensorType::get(outShape, type.getElementType());
  Value result =
      tensor::CollapseShapeOp::create(b, loc, outType, source, groups);
  TensorValue output{result};
  if (input->elements)
    output.elements = input->elements;
  ctx.setOutput(0, output);
  return success();
}

static LogicalResult convertTranspose(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  int64_t rank = input->getRank();
  SmallVector<int64_t> perm;
  if (std::optional<SmallVector<int64_t>> attr = ctx.getInts("perm")) {
    perm = *attr;
  } else {
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  }
  SmallVector<int64_t> sorted(perm);
  llvm::sort(sorted);
  for (int64_t i = 0; i < rank; ++i) {
    if (static_cast<int64_t>(sorted.size()) != rank || sorted[i] != i) {
      ctx.emitError() << "perm is not a permutation of 0.." << rank - 1;
      return failure();
    }
  }
  ctx.setOutput(0, buildTranspose(ctx.getBuilder(), ctx.getLoc(),
                                  input->value, perm));
  return success();
}

//===----------------------------------------------------------------------===//
// Concat, Slice, Split
//===----------------------------------------------------------------------===//

static LogicalResult convertConcat(NodeContext &ctx) {
  SmallVector<TensorValue> inputs;
  for (int64_t i = 0; i < ctx.getNumInputs(); ++i) {
    FailureOr<TensorValue> input = ctx.getInput(i);
    if (failed(input))
      return failure();
    inputs.push_back(*input);
  }
  if (inputs.empty()) {
    ctx.emitError() << "expects at least one input";
    return failure();
  }
  int64_t rank = inputs[0].getRank();
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getInt("axis", 0), rank);
  if (failed(axis))
    return failure();
  for (const TensorValue &input : inputs) {
    if (input.getRank() != rank ||
        input.getElementType() != inputs[0].getElementType()) {
      ctx.emitError() << "inputs differ in rank or element type ("
                      << inputs[0].getType() << " vs " << input.getType()
                      << ")";
      return failure();
    }
    for (int64_t d = 0; d < rank; ++d) {
      int64_t a = inputs[0].getType().getDimSize(d),
              c = input.getType().getDimSize(d);
      if (d != *axis && !ShapedType::isDynamic(a) &&
          !ShapedType::isDynamic(c) && a != c) {
        ctx.emitError() << "inputs differ in dimension " << d << " ("
                        << inputs[0].getType() << " vs " << input.getType()
                        << "; inconsistent shapes)";
        return failure();
      }
    }
  }

  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  SmallVector<Value> values;
  for (const TensorValue &input : inputs)
    values.push_back(input.value);
  Value result = values.size() == 1
                     ? values[0]
                     : tensor::ConcatOp::create(b, loc, *axis, values)
                           .getResult();

  TensorValue output{result};
  if (rank == 1 && llvm::all_of(inputs, [](const TensorValue &v) {
        return v.elements.has_value();
      })) {
    Dims elements;
    for (const TensorValue &input : inputs)
      elements.append(input.elements->begin(), input.elements->end());
    if (static_cast<int64_t>(elements.size()) <= kMaxTrackedElements)
      output = ctx.getImporter().makeElementsValue(
          loc, elements,
          getVectorType(b, elements.size(), inputs[0].getElementType()));
  }
  ctx.setOutput(0, output);
  return success();
}

/// Clamps a Slice start or end to the valid range for a dimension of size
/// `dim`, following the ONNX rules for positive and negative steps.
static OpFoldResult clampSliceBound(OpBuilder &b, Location loc,
                                    OpFoldResult bound, OpFoldResult dim,
                                    bool isStart, int64_t step) {
  // Negative bounds count from the end.
  std::optional<int64_t> c = getConstant(bound);
  if (c && *c < 0) {
    bound = foldIndexArith(b, loc, IndexArith::Add, bound, dim);
  } else if (!c) {
    Value value = cast<Value>(bound);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value isNegative =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, value, zero);
    Value wrapped = arith::AddIOp::create(b, loc, value,
                                          toIndexValue(b, loc, dim));
    bound = arith::SelectOp::create(b, loc, isNegative, wrapped, value)
                .getResult();
  }

  OpFoldResult lo, hi;
  if (step > 0) {
    lo = b.getIndexAttr(0);
    hi = dim;
  } else {
    lo = b.getIndexAttr(isStart ? 0 : -1);
    hi = foldIndexArith(b, loc, IndexArith::Sub, dim, b.getIndexAttr(1));
  }
  // Very large constant bounds (INT64_MAX means "to the end") clamp to
  // the size without overflowing.
  bound = foldIndexArith(b, loc, IndexArith::Max, bound, lo);
  std::optional<int64_t> cb = getConstant(bound);
  std::optional<int64_t> ch = getConstant(hi);
  if (cb && !ch && step > 0 && *cb >= std::numeric_limits<int32_t>::max())
    return hi;
  return foldIndexArith(b, loc, IndexArith::Min, bound, hi);
}

static LogicalResult convertSlice(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  int64_t rank = input->getRank();

  Dims starts, ends;
  SmallVector<int64_t> axes, steps;
  if (ctx.getOpset() < 10) {
    for (int64_t v : ctx.getInts("starts").value_or(SmallVector<int64_t>()))
      starts.push_back(b.getIndexAttr(v));
    for (int64_t v : ctx.getInts("ends").value_or(SmallVector<int64_t>()))
      ends.push_back(b.getIndexAttr(v));
    if (std::optional<SmallVector<int64_t>> a = ctx.getInts("axes"))
      axes = *a;
  } else {
    FailureOr<Dims> s = ctx.getInputElements(1, "starts");
    FailureOr<Dims> e = ctx.getInputElements(2, "ends");
    if (failed(s) || failed(e))
      return failure();
    starts = *s;
    ends = *e;
    if (ctx.hasInput(3)) {
      FailureOr<SmallVector<int64_t>> a =
          ctx.getConstantInputInts(3, "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (ctx.hasInput(4)) {
      FailureOr<SmallVector<int64_t>> st =
          ctx.getConstantInputInts(4, "steps");
      if (failed(st))
        return failure();
      steps = *st;
    }
  }
  if (axes.empty())
    for (int64_t i = 0, e = starts.size(); i < e; ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || starts.size() != axes.size() ||
      starts.size() != steps.size()) {
    ctx.emitError() << "starts, ends, axes and steps differ in length ("
                    << starts.size() << ", " << ends.size() << ", "
                    << axes.size() << ", " << steps.size() << ")";
    return failure();
  }

  Dims dims = getDims(b, loc, input->value);
  Dims offsets(rank, b.getIndexAttr(0)), sizes(dims);
  SmallVector<int64_t> strides(rank, 1);
  bool anyNegative = false;
  for (size_t i = 0; i < axes.size(); ++i) {
    FailureOr<int64_t> axis = ctx.normalizeAxis(axes[i], rank);
    if (failed(axis))
      return failure();
    if (steps[i] == 0) {
      ctx.emitError() << "steps must be non-zero";
      return failure();
    }
    OpFoldResult start =
        clampSliceBound(b, loc, starts[i], dims[*axis], true, steps[i]);
    OpFoldResult end =
        clampSliceBound(b, loc, ends[i], dims[*axis], false, steps[i]);
    OpFoldResult extent = foldIndexArith(b, loc, IndexArith::Sub, end, start);
    OpFoldResult count = foldIndexArith(b, loc, IndexArith::CeilDiv, extent,
                                        b.getIndexAttr(steps[i]));
    offsets[*axis] = start;
    sizes[*axis] =
        foldIndexArith(b, loc, IndexArith::Max, count, b.getIndexAttr(0));
    strides[*axis] = steps[i];
    anyNegative |= steps[i] < 0;
  }

  // Tracked vectors slice their elements.
  std::optional<Dims> elements;
  if (input->elements && rank == 1) {
    std::optional<int64_t> off = getConstant(offsets[0]),
                           size = getConstant(sizes[0]);
    if (off && size) {
      elements.emplace();
      for (int64_t i = 0; i < *size; ++i)
        elements->push_back((*input->elements)[*off + i * strides[0]]);
    }
  }

  // An empty slice may start at the end of the dimension, which
  // extract_slice rejects, so it becomes tensor.empty.
  bool isEmpty = llvm::any_of(
      sizes, [](OpFoldResult size) { return getConstant(size) == 0; });

  Value result;
  if (isEmpty) {
    result = createEmpty(b, loc, sizes, input->getElementType());
  } else if (!anyNegative) {
    SmallVector<OpFoldResult> strideAttrs;
    for (int64_t s : strides)
      strideAttrs.push_back(b.getIndexAttr(s));
    result = tensor::ExtractSliceOp::create(b, loc, input->value, offsets,
                                            sizes, strideAttrs);
  } else {
    // Negative steps walk backwards, which extract_slice cannot express.
    Value init = createEmpty(b, loc, sizes, input->getElementType());
    SmallVector<Value> offsetValues;
    for (OpFoldResult o : offsets)
      offsetValues.push_back(toIndexValue(b, loc, o));
    Value source = input->value;
    MLIRContext *mctx = b.getContext();
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    result = linalg::GenericOp::create(
                 b, loc, init.getType(), ValueRange{}, init,
                 {AffineMap::getMultiDimIdentityMap(rank, mctx)}, iterators,
                 [&](OpBuilder &nb, Location nloc, ValueRange) {
                   SmallVector<Value> coords;
                   for (int64_t d = 0; d < rank; ++d) {
                     Value i = linalg::IndexOp::create(nb, nloc, d);
                     Value step =
                         arith::ConstantIndexOp::create(nb, nloc, strides[d]);
                     Value scaled = arith::MulIOp::create(nb, nloc, i, step);
                     coords.push_back(arith::AddIOp::create(
                         nb, nloc, offsetValues[d], scaled));
                   }
                   Value element =
                       tensor::ExtractOp::create(nb, nloc, source, coords);
                   linalg::YieldOp::create(nb, nloc, element);
                 })
                 .getResult(0);
  }

  TensorValue output{result};
  if (elements)
    output = ctx.getImporter().makeElementsValue(
        loc, *elements, cast<RankedTensorType>(result.getType()));
  ctx.setOutput(0, output);
  return success();
}

static LogicalResult convertSplit(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  int64_t rank = input->getRank();
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getInt("axis", 0), rank);
  if (failed(axis))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Dims dims = getDims(b, loc, input->value);

  Dims sizes;
  if (ctx.getOpset() >= 13 && ctx.hasInput(1)) {
    FailureOr<Dims> split = ctx.getInputElements(1, "the split input");
    if (failed(split))
      return failure();
    sizes = *split;
  } else if (std::optional<SmallVector<int64_t>> split =
                 ctx.getOpset() < 13 ? ctx.getInts("split") : std::nullopt) {
    for (int64_t s : *split)
      sizes.push_back(b.getIndexAttr(s));
  } else {
    int64_t n = ctx.getOpset() >= 18
                    ? ctx.getInt("num_outputs", ctx.getNumOutputs())
                    : ctx.getNumOutputs();
    if (n <= 0) {
      ctx.emitError() << "num_outputs must be positive (got " << n << ")";
      return failure();
    }
    // Equal chunks; the last one takes the remainder (opset 18 rule).
    OpFoldResult chunk = foldIndexArith(b, loc, IndexArith::CeilDiv,
                                        dims[*axis], b.getIndexAttr(n));
    for (int64_t i = 0; i + 1 < n; ++i)
      sizes.push_back(chunk);
    OpFoldResult used =
        foldIndexArith(b, loc, IndexArith::Mul, chunk, b.getIndexAttr(n - 1));
    sizes.push_back(foldIndexArith(b, loc, IndexArith::Sub, dims[*axis], used));
  }
  if (static_cast<int64_t>(sizes.size()) != ctx.getNumOutputs()) {
    ctx.emitError() << "split has " << sizes.size() << " sizes but the node has "
                    << ctx.getNumOutputs() << " outputs";
    return failure();
  }

  OpFoldResult offset = b.getIndexAttr(0);
  for (auto [i, size] : llvm::enumerate(sizes)) {
    Dims offsets(rank, b.getIndexAttr(0)), extents(dims);
    // Empty parts start at 0 because extract_slice rejects an offset equal
    // to the dimension size.
    offsets[*axis] = getConstant(size) == 0 ? b.getIndexAttr(0) : offset;
    extents[*axis] = size;
    SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
    // An empty part of an empty dimension cannot be an extract_slice,
    // whose verifier rejects offset 0 in a dimension of size 0.
    Value part =
        getConstant(size) == 0
            ? createEmpty(b, loc, extents, input->getElementType())
            : tensor::ExtractSliceOp::create(b, loc, input->value, offsets,
                                             extents, strides)
                  .getResult();
    ctx.setOutput(i, part);
    offset = foldIndexArith(b, loc, IndexArith::Add, offset, size);
  }
  std::optional<int64_t> total = getConstant(offset),
                         dim = getConstant(dims[*axis]);
  if (total && dim && *total != *dim) {
    ctx.emitError() << "split sizes add up to " << *total
                    << " but the dimension has size " << *dim;
    return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Expand, Range, Trilu, Tile
//===----------------------------------------------------------------------===//

static LogicalResult convertExpand(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  FailureOr<Dims> shape = ctx.getInputElements(1, "the shape input");
  if (failed(shape))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  std::string error;
  FailureOr<Dims> dims =
      broadcastDims(b, {getDims(b, loc, input->value), *shape}, error);
  if (failed(dims)) {
    ctx.emitError() << error;
    return failure();
  }
  Value result = buildBroadcastGeneric(
      b, loc, input->value, *dims, input->getElementType(),
      [](OpBuilder &, Location, ValueRange args) { return args[0]; });
  TensorValue output{result};
  if (input->elements && dims->size() <= 1) {
    std::optional<int64_t> n =
        dims->empty() ? std::optional<int64_t>(1) : getConstant((*dims)[0]);
    if (n && *n <= kMaxTrackedElements) {
      Dims elements;
      for (int64_t i = 0; i < *n; ++i)
        elements.push_back(
            (*input->elements)[input->elements->size() == 1 ? 0 : i]);
      output.elements = elements;
    }
  }
  ctx.setOutput(0, output);
  return success();
}

static LogicalResult convertRange(NodeContext &ctx) {
  FailureOr<TensorValue> start = ctx.getInput(0), limit = ctx.getInput(1),
                         delta = ctx.getInput(2);
  if (failed(start) || failed(limit) || failed(delta))
    return failure();
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Type type = start->getElementType();
  if (limit->getElementType() != type || delta->getElementType() != type) {
    ctx.emitError() << "start, limit and delta differ in type";
    return failure();
  }

  if (type.isInteger()) {
    OpFoldResult s = getIndexScalar(b, loc, *start);
    OpFoldResult l = getIndexScalar(b, loc, *limit);
    OpFoldResult d = getIndexScalar(b, loc, *delta);
    if (getConstant(d) == 0) {
      ctx.emitError() << "delta must be non-zero";
      return failure();
    }
    OpFoldResult n = foldIndexArith(
        b, loc, IndexArith::Max,
        foldIndexArith(b, loc, IndexArith::CeilDiv,
                       foldIndexArith(b, loc, IndexArith::Sub, l, s), d),
        b.getIndexAttr(0));
    std::optional<int64_t> cs = getConstant(s), cd = getConstant(d),
                           cn = getConstant(n);
    if (cs && cd && cn && *cn <= kMaxTrackedElements) {
      Dims elements;
      for (int64_t i = 0; i < *cn; ++i)
        elements.push_back(b.getIndexAttr(*cs + i * *cd));
      ctx.setOutput(0, ctx.getImporter().makeElementsValue(
                           loc, elements, getVectorType(b, *cn, type)));
      return success();
    }
    Value init = createEmpty(b, loc, {n}, type);
    Value sv = toIndexValue(b, loc, s), dv = toIndexValue(b, loc, d);
    Value result =
        linalg::GenericOp::create(
            b, loc, init.getType(), ValueRange{}, init,
            {AffineMap::getMultiDimIdentityMap(1, b.getContext())},
            {utils::IteratorType::parallel},
            [&](OpBuilder &nb, Location nloc, ValueRange) {
              Value i = linalg::IndexOp::create(nb, nloc, 0);
              Value v = arith::AddIOp::create(
                  nb, nloc, sv, arith::MulIOp::create(nb, nloc, i, dv));
              Value element = arith::IndexCastOp::create(nb, nloc, type, v);
              linalg::YieldOp::create(nb, nloc, element);
            })
            .getResult(0);
    ctx.setOutput(0, result);
    return success();
  }

  // Floating-point range: the count is ceil((limit - start) / delta).
  Value s = extractScalar(b, loc, start->value);
  Value l = extractScalar(b, loc, limit->value);
  Value d = extractScalar(b, loc, delta->value);
  Value span = arith::SubFOp::create(b, loc, l, s);
  Value steps = math::CeilOp::create(b, loc,
                                     arith::DivFOp::create(b, loc, span, d));
  Value count = arith::FPToSIOp::create(b, loc, b.getI64Type(), steps);
  count = arith::MaxSIOp::create(b, loc, count,
                                 createScalar(b, loc, b.getI64Type(), 0));
  Value n = arith::IndexCastOp::create(b, loc, b.getIndexType(), count);
  OpFoldResult nFold = n;
  if (IntegerAttr attr; matchPattern(n, m_Constant(&attr)))
    nFold = b.getIndexAttr(attr.getInt());
  Value init = createEmpty(b, loc, {nFold}, type);
  Value result =
      linalg::GenericOp::create(
          b, loc, init.getType(), ValueRange{}, init,
          {AffineMap::getMultiDimIdentityMap(1, b.getContext())},
          {utils::IteratorType::parallel},
          [&](OpBuilder &nb, Location nloc, ValueRange) {
            Value i = linalg::IndexOp::create(nb, nloc, 0);
            Value iInt = arith::IndexCastOp::create(nb, nloc,
                                                    nb.getI64Type(), i);
            Value iFloat = arith::SIToFPOp::create(nb, nloc, type, iInt);
            Value v = arith::AddFOp::create(
                nb, nloc, s, arith::MulFOp::create(nb, nloc, iFloat, d));
            linalg::YieldOp::create(nb, nloc, v);
          })
          .getResult(0);
  ctx.setOutput(0, result);
  return success();
}

static LogicalResult convertTrilu(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  int64_t rank = input->getRank();
  if (rank < 2) {
    ctx.emitError() << "expects rank >= 2 (got " << input->getType() << ")";
    return failure();
  }
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  OpFoldResult k = b.getIndexAttr(0);
  if (std::optional<TensorValue> kInput = ctx.getOptionalInput(1))
    k = getIndexScalar(b, loc, *kInput);
  Value kValue = toIndexValue(b, loc, k);
  bool upper = ctx.getInt("upper", 1) != 0;
  Type type = input->getElementType();
  std::string error;
  FailureOr<Value> result = buildElementwise(
      b, loc, input->value, type,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value row = linalg::IndexOp::create(nb, nloc, rank - 2);
        Value col = linalg::IndexOp::create(nb, nloc, rank - 1);
        Value diff = arith::SubIOp::create(nb, nloc, col, row);
        Value keep = arith::CmpIOp::create(
            nb, nloc,
            upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
            diff, kValue);
        Value zero = createScalar(nb, nloc, type, 0.0);
        return arith::SelectOp::create(nb, nloc, keep, args[0], zero)
            .getResult();
      },
      error);
  if (failed(result)) {
    ctx.emitError() << error;
    return failure();
  }
  ctx.setOutput(0, *result);
  return success();
}

static LogicalResult convertTile(NodeContext &ctx) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  FailureOr<Dims> repeats = ctx.getInputElements(1, "the repeats input");
  if (failed(repeats))
    return failure();
  int64_t rank = input->getRank();
  if (static_cast<int64_t>(repeats->size()) != rank) {
    ctx.emitError() << "repeats has " << repeats->size()
                    << " elements but the input has rank " << rank;
    return failure();
  }
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Dims inDims = getDims(b, loc, input->value);
  Dims outDims;
  SmallVector<Value> inSizes;
  for (int64_t i = 0; i < rank; ++i) {
    outDims.push_back(
        foldIndexArith(b, loc, IndexArith::Mul, inDims[i], (*repeats)[i]));
    inSizes.push_back(toIndexValue(b, loc, inDims[i]));
  }
  Value init = createEmpty(b, loc, outDims, input->getElementType());
  Value source = input->value;
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  Value result =
      linalg::GenericOp::create(
          b, loc, init.getType(), ValueRange{}, init,
          {AffineMap::getMultiDimIdentityMap(rank, b.getContext())},
          iterators,
          [&](OpBuilder &nb, Location nloc, ValueRange) {
            SmallVector<Value> coords;
            for (int64_t d = 0; d < rank; ++d) {
              Value i = linalg::IndexOp::create(nb, nloc, d);
              coords.push_back(
                  arith::RemUIOp::create(nb, nloc, i, inSizes[d]));
            }
            Value element =
                tensor::ExtractOp::create(nb, nloc, source, coords);
            linalg::YieldOp::create(nb, nloc, element);
          })
          .getResult(0);
  ctx.setOutput(0, result);
  return success();
}

void mlir::rill::onnx_import::appendShapeOps(std::vector<OpSupport> &ops) {
  constexpr int64_t kMax = 23;
  ops.insert(ops.end(), {
                            {"", "Constant", 1, kMax, convertConstant},
                            {"", "ConstantOfShape", 9, kMax,
                             convertConstantOfShape},
                            {"", "Shape", 1, kMax, convertShape},
                            {"", "Size", 1, kMax, convertSize},
                            {"", "Gather", 1, kMax, convertGather},
                            {"", "Reshape", 5, kMax, convertReshape},
                            {"", "Flatten", 1, kMax, convertFlatten},
                            {"", "Unsqueeze", 1, kMax, convertUnsqueeze},
                            {"", "Squeeze", 1, kMax, convertSqueeze},
                            {"", "Transpose", 1, kMax, convertTranspose},
                            {"", "Concat", 1, kMax, convertConcat},
                            {"", "Slice", 1, kMax, convertSlice},
                            {"", "Split", 2, kMax, convertSplit},
                            {"", "Expand", 8, kMax, convertExpand},
                            {"", "Range", 11, kMax, convertRange},
                            {"", "Trilu", 14, kMax, convertTrilu},
                            {"", "Tile", 6, kMax, convertTile},
                        });
}
