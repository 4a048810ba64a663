//===- ReductionOps.cpp - Reductions and normalizations -------------------===//
//
// Converts ReduceSum/Mean/Max/Min/Prod (attribute axes and, from opset 13
// for ReduceSum and 18 for the others, input axes), Softmax and LogSoftmax
// (coerce-to-2D semantics before opset 13, a single axis from 13 on),
// LayerNormalization and com.microsoft SimplifiedLayerNormalization (RMS
// norm). Each becomes linalg reductions and broadcasting elementwise ops.
//
//===----------------------------------------------------------------------===//

#include "GraphImporter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::rill::onnx_import;

/// Builds an elementwise op or emits the broadcast error on the node.
static FailureOr<Value> elementwise(NodeContext &ctx, ValueRange inputs,
                                    Type type, ScalarBodyFn body) {
  std::string error;
  FailureOr<Value> result = buildElementwise(ctx.getBuilder(), ctx.getLoc(),
                                             inputs, type, body, error);
  if (failed(result))
    ctx.emitError() << error;
  return result;
}

/// Returns the sorted axes `first..rank-1`.
static SmallVector<int64_t> getTrailingAxes(int64_t first, int64_t rank) {
  SmallVector<int64_t> axes;
  for (int64_t i = first; i < rank; ++i)
    axes.push_back(i);
  return axes;
}

static LogicalResult convertReduce(NodeContext &ctx, ReduceKind kind,
                                   bool mean, int64_t inputAxesOpset) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  int64_t rank = input->getRank();

  std::optional<SmallVector<int64_t>> axes;
  if (ctx.getOpset() >= inputAxesOpset) {
    if (ctx.hasInput(1)) {
      FailureOr<SmallVector<int64_t>> fromInput =
          ctx.getConstantInputInts(1, "the axes input");
      if (failed(fromInput))
        return failure();
      axes = *fromInput;
    }
  } else {
    axes = ctx.getInts("axes");
  }
  bool noopWithEmptyAxes = ctx.getInt("noop_with_empty_axes", 0) != 0;
  if (!axes || axes->empty()) {
    if (noopWithEmptyAxes) {
      ctx.setOutput(0, *input);
      return success();
    }
    axes = getTrailingAxes(0, rank);
  }

  SmallVector<int64_t> normalized;
  for (int64_t axis : *axes) {
    FailureOr<int64_t> a = ctx.normalizeAxis(axis, rank);
    if (failed(a))
      return failure();
    if (!llvm::is_contained(normalized, *a))
      normalized.push_back(*a);
  }
  llvm::sort(normalized);

  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  bool keepDims = ctx.getInt("keepdims", 1) != 0;
  Value result =
      buildReduction(b, loc, input->value, normalized, keepDims, kind);
  if (mean) {
    Type type = input->getElementType();
    Value count = buildElementCount(b, loc, input->value, normalized, type);
    FailureOr<Value> divided =
        elementwise(ctx, result, type,
                    [&](OpBuilder &nb, Location nloc, ValueRange args) {
                      if (isa<FloatType>(type))
                        return arith::DivFOp::create(nb, nloc, args[0], count)
                            .getResult();
                      return arith::DivSIOp::create(nb, nloc, args[0], count)
                          .getResult();
                    });
    if (failed(divided))
      return failure();
    result = *divided;
  }
  ctx.setOutput(0, result);
  return success();
}

static LogicalResult convertReduceSum(NodeContext &ctx) {
  return convertReduce(ctx, ReduceKind::Sum, false, 13);
}
static LogicalResult convertReduceMean(NodeContext &ctx) {
  return convertReduce(ctx, ReduceKind::Sum, true, 18);
}
static LogicalResult convertReduceMax(NodeContext &ctx) {
  return convertReduce(ctx, ReduceKind::Max, false, 18);
}
static LogicalResult convertReduceMin(NodeContext &ctx) {
  return convertReduce(ctx, ReduceKind::Min, false, 18);
}
static LogicalResult convertReduceProd(NodeContext &ctx) {
  return convertReduce(ctx, ReduceKind::Prod, false, 18);
}

static LogicalResult convertSoftmax(NodeContext &ctx, bool logSoftmax) {
  FailureOr<TensorValue> input = ctx.getInput(0);
  if (failed(input))
    return failure();
  Type type = input->getElementType();
  if (!isa<FloatType>(type)) {
    ctx.emitError() << "expects a floating-point input (got "
                    << input->getType() << ")";
    return failure();
  }
  int64_t rank = input->getRank();
  bool coerceTo2D = ctx.getOpset() < 13;
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.getInt("axis", coerceTo2D ? 1 : -1), rank);
  if (failed(axis))
    return failure();
  // Before opset 13 the input is viewed as [prod(d0..axis-1),
  // prod(axis..)], so the softmax covers every dimension from `axis` on.
  SmallVector<int64_t> axes =
      coerceTo2D ? getTrailingAxes(*axis, rank) : SmallVector<int64_t>{*axis};

  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value max = buildReduction(b, loc, input->value, axes, true,
                             ReduceKind::Max);
  FailureOr<Value> shifted =
      elementwise(ctx, {input->value, max}, type,
                  [](OpBuilder &nb, Location nloc, ValueRange args) {
                    return arith::SubFOp::create(nb, nloc, args[0], args[1])
                        .getResult();
                  });
  if (failed(shifted))
    return failure();
  FailureOr<Value> exp =
      elementwise(ctx, *shifted, type,
                  [](OpBuilder &nb, Location nloc, ValueRange args) {
                    return math::ExpOp::create(nb, nloc, args[0]).getResult();
                  });
  if (failed(exp))
    return failure();
  Value sum = buildReduction(b, loc, *exp, axes, true, ReduceKind::Sum);
  FailureOr<Value> result;
  if (logSoftmax) {
    result = elementwise(
        ctx, {*shifted, sum}, type,
        [](OpBuilder &nb, Location nloc, ValueRange args) {
          Value logSum = math::LogOp::create(nb, nloc, args[1]);
          return arith::SubFOp::create(nb, nloc, args[0], logSum).getResult();
        });
  } else {
    result = elementwise(
        ctx, {*exp, sum}, type,
        [](OpBuilder &nb, Location nloc, ValueRange args) {
          return arith::DivFOp::create(nb, nloc, args[0], args[1])
              .getResult();
        });
  }
  if (failed(result))
    return failure();
  ctx.setOutput(0, *result);
  return success();
}

static LogicalResult convertSoftmaxOp(NodeContext &ctx) {
  return convertSoftmax(ctx, false);
}
static LogicalResult convertLogSoftmaxOp(NodeContext &ctx) {
  return convertSoftmax(ctx, true);
}

/// LayerNormalization and RMS normalization over the axes `axis..rank-1`:
/// `y = (x - mean) * rsqrt(var + epsilon) * scale + bias`, where RMS
/// normalization uses mean 0.
static LogicalResult convertNormalization(NodeContext &ctx, bool rms) {
  FailureOr<TensorValue> input = ctx.getInput(0), scale = ctx.getInput(1);
  if (failed(input) || failed(scale))
    return failure();
  Type type = input->getElementType();
  if (!isa<FloatType>(type)) {
    ctx.emitError() << "expects a floating-point input (got "
                    << input->getType() << ")";
    return failure();
  }
  int64_t rank = input->getRank();
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.getInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  SmallVector<int64_t> axes = getTrailingAxes(*axis, rank);
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value epsilon = createScalar(b, loc, type, ctx.getFloat("epsilon", 1e-5f));
  Value count = buildElementCount(b, loc, input->value, axes, type);

  auto divideByCount = [&](Value sum) {
    return elementwise(ctx, sum, type,
                       [&](OpBuilder &nb, Location nloc, ValueRange args) {
                         return arith::DivFOp::create(nb, nloc, args[0], count)
                             .getResult();
                       });
  };

  Value centered = input->value;
  Value mean;
  if (!rms) {
    FailureOr<Value> m = divideByCount(
        buildReduction(b, loc, input->value, axes, true, ReduceKind::Sum));
    if (failed(m))
      return failure();
    mean = *m;
    FailureOr<Value> c =
        elementwise(ctx, {input->value, mean}, type,
                    [](OpBuilder &nb, Location nloc, ValueRange args) {
                      return arith::SubFOp::create(nb, nloc, args[0], args[1])
                          .getResult();
                    });
    if (failed(c))
      return failure();
    centered = *c;
  }
  FailureOr<Value> squares =
      elementwise(ctx, centered, type,
                  [](OpBuilder &nb, Location nloc, ValueRange args) {
                    return arith::MulFOp::create(nb, nloc, args[0], args[0])
                        .getResult();
                  });
  if (failed(squares))
    return failure();
  FailureOr<Value> variance = divideByCount(
      buildReduction(b, loc, *squares, axes, true, ReduceKind::Sum));
  if (failed(variance))
    return failure();
  FailureOr<Value> invStdDev =
      elementwise(ctx, *variance, type,
                  [&](OpBuilder &nb, Location nloc, ValueRange args) {
                    Value sum = arith::AddFOp::create(nb, nloc, args[0],
                                                      epsilon);
                    return math::RsqrtOp::create(nb, nloc, sum).getResult();
                  });
  if (failed(invStdDev))
    return failure();

  SmallVector<Value> operands = {centered, *invStdDev, scale->value};
  std::optional<TensorValue> bias = ctx.getOptionalInput(2);
  if (bias)
    operands.push_back(bias->value);
  FailureOr<Value> result =
      elementwise(ctx, operands, type,
                  [](OpBuilder &nb, Location nloc, ValueRange args) {
                    Value normalized =
                        arith::MulFOp::create(nb, nloc, args[0], args[1]);
                    Value scaled =
                        arith::MulFOp::create(nb, nloc, normalized, args[2]);
                    if (args.size() > 3)
                      return arith::AddFOp::create(nb, nloc, scaled, args[3])
                          .getResult();
                    return scaled;
                  });
  if (failed(result))
    return failure();
  ctx.setOutput(0, *result);
  if (rms) {
    ctx.setOutput(1, *invStdDev);
    return success();
  }
  ctx.setOutput(1, mean);
  ctx.setOutput(2, *invStdDev);
  return success();
}

static LogicalResult convertLayerNorm(NodeContext &ctx) {
  if (ctx.getInt("stash_type", 1) != 1) {
    ctx.emitError() << "supports stash_type=1 (float) only";
    return failure();
  }
  return convertNormalization(ctx, false);
}
static LogicalResult convertRMSNorm(NodeContext &ctx) {
  return convertNormalization(ctx, true);
}

void mlir::rill::onnx_import::appendReductionOps(
    std::vector<OpSupport> &ops) {
  constexpr int64_t kMax = 23;
  ops.insert(ops.end(),
             {
                 {"", "ReduceSum", 1, kMax, convertReduceSum},
                 {"", "ReduceMean", 1, kMax, convertReduceMean},
                 {"", "ReduceMax", 1, kMax, convertReduceMax},
                 {"", "ReduceMin", 1, kMax, convertReduceMin},
                 {"", "ReduceProd", 1, kMax, convertReduceProd},
                 {"", "Softmax", 1, kMax, convertSoftmaxOp},
                 {"", "LogSoftmax", 1, kMax, convertLogSoftmaxOp},
                 {"", "LayerNormalization", 17, kMax, convertLayerNorm},
                 {"com.microsoft", "SimplifiedLayerNormalization", 1, 1,
                  convertRMSNorm},
                 {"", "SimplifiedLayerNormalization", 1, kMax,
                  convertRMSNorm},
             });
}
