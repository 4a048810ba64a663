//===- StreamifyRotary.cpp - Recover theta from rotary tables --*- C++ -*-===//
//
// rill-streamify replaces rotary cos/sin tables by theta-based angles,
// because a table cannot cover stream positions past its length. This file
// reads constant tables (through static extract_slice ops), estimates theta
// from the first rows and checks every entry against the angles that theta
// generates.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/Transforms/Streamify.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>
#include <numbers>

using namespace mlir;
using namespace mlir::rill;

namespace {
/// A rank-2 float table read from a constant: `values[row * columns + col]`.
struct ConstantTable {
  std::vector<double> values;
  int64_t rows = 0;
  int64_t columns = 0;

  double at(int64_t row, int64_t column) const {
    return values[row * columns + column];
  }
};
} // namespace

/// Returns the float elements of `attr` in row-major order, or nothing if
/// the attribute is neither dense nor a float32 resource.
static std::optional<std::vector<double>> readElements(ElementsAttr attr) {
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr)) {
    std::vector<double> values;
    for (APFloat value : dense.getValues<APFloat>())
      values.push_back(value.convertToDouble());
    return values;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    if (!resource.getElementType().isF32())
      return std::nullopt;
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<float> data = blob->getDataAs<float>();
    if (static_cast<int64_t>(data.size()) != resource.getNumElements())
      return std::nullopt;
    return std::vector<double>(data.begin(), data.end());
  }
  return std::nullopt;
}

/// Reads `table`, an arith.constant or a unit-stride static
/// tensor.extract_slice of one, as a rank-2 table.
static FailureOr<ConstantTable> readTable(Value table, std::string &reason) {
  SmallVector<int64_t> offsets = {0, 0};
  auto type = dyn_cast<RankedTensorType>(table.getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape()) {
    reason = "expected static rank-2 tables";
    return failure();
  }

  Value source = table;
  if (auto slice = source.getDefiningOp<tensor::ExtractSliceOp>()) {
    if (slice.getSourceType().getRank() != 2 ||
        ShapedType::isDynamicShape(slice.getStaticOffsets()) ||
        llvm::any_of(slice.getStaticStrides(),
                     [](int64_t stride) { return stride != 1; })) {
      reason = "expected tables that are constants or static unit-stride "
               "slices of constants";
      return failure();
    }
    offsets.assign(slice.getStaticOffsets().begin(),
                   slice.getStaticOffsets().end());
    source = slice.getSource();
  }

  auto constant = source.getDefiningOp<arith::ConstantOp>();
  auto elements =
      constant ? dyn_cast<ElementsAttr>(constant.getValue()) : ElementsAttr();
  std::optional<std::vector<double>> all =
      elements ? readElements(elements) : std::nullopt;
  if (!all) {
    reason = "expected tables that are float constants (dense or f32 "
             "resource), so that their values can be checked";
    return failure();
  }

  auto sourceType = cast<RankedTensorType>(source.getType());
  int64_t sourceColumns = sourceType.getDimSize(1);
  ConstantTable result;
  result.rows = type.getDimSize(0);
  result.columns = type.getDimSize(1);
  for (int64_t row = 0; row < result.rows; ++row)
    for (int64_t column = 0; column < result.columns; ++column)
      result.values.push_back(
          (*all)[(row + offsets[0]) * sourceColumns + column + offsets[1]]);
  return result;
}

FailureOr<double> mlir::rill::recoverRotaryTheta(Value cosTable,
                                                 Value sinTable,
                                                 int64_t rotaryDim,
                                                 std::string &reason) {
  FailureOr<ConstantTable> cos = readTable(cosTable, reason);
  if (failed(cos))
    return failure();
  FailureOr<ConstantTable> sin = readTable(sinTable, reason);
  if (failed(sin))
    return failure();
  int64_t pairs = rotaryDim / 2;
  if (cos->columns != pairs || sin->columns != pairs ||
      cos->rows != sin->rows || cos->rows < 2 || pairs < 2) {
    reason = "expected cos and sin tables of shape [max_pos >= 2, " +
             std::to_string(pairs) + "] with at least 2 pairs";
    return failure();
  }

  // Row 1, pair 1 contains the angle theta^(-2 / rotaryDim), which is below pi
  // for any theta > 1, so atan2 recovers it without ambiguity.
  double angle = std::atan2(sin->at(1, 1), cos->at(1, 1));
  if (!(angle > 0.0 && angle < 1.0)) {
    reason = "expected row 1 of the tables to hold angles in (0, 1) "
             "radians (got " +
             std::to_string(angle) + " for pair 1)";
    return failure();
  }
  double theta = std::pow(angle, -static_cast<double>(rotaryDim) / 2.0);
  // Float32 tables put the estimate off by about 1e-6 relative, and the
  // common thetas (10000, 500000, 1000000) are integers.
  double rounded = std::round(theta);
  if (std::abs(rounded - theta) <= 1e-4 * theta)
    theta = rounded;

  // Every entry must match. Tables built in float32 carry angle errors of
  // about position * 1e-7, so the tolerance grows with the position.
  for (int64_t position = 0; position < cos->rows; ++position) {
    double tolerance = 1e-5 + 2e-7 * static_cast<double>(position);
    for (int64_t pair = 0; pair < pairs; ++pair) {
      double expected = static_cast<double>(position) *
                        std::pow(theta, -2.0 * pair / rotaryDim);
      double cosError = std::abs(cos->at(position, pair) - std::cos(expected));
      double sinError = std::abs(sin->at(position, pair) - std::sin(expected));
      if (cosError > tolerance || sinError > tolerance) {
        reason = "the cos/sin tables are not generated by theta = " +
                 std::to_string(theta) + " (position " +
                 std::to_string(position) + ", pair " + std::to_string(pair) +
                 " is off by " + std::to_string(std::max(cosError, sinError)) +
                 "); a table cannot be extended past its length, so only "
                 "theta-generated tables can be streamed";
        return failure();
      }
    }
  }
  return theta;
}
