//===- GraphImporter.h - State of one ONNX graph import ---------*- C++ -*-===//
//
// Private interface between the graph walker (ONNXImporter.cpp) and the
// per-family operator converters (ElementwiseOps.cpp, ShapeOps.cpp,
// ReductionOps.cpp, AttentionOps.cpp). A converter receives a NodeContext,
// reads inputs and attributes through it and records its outputs in it.
// Sources that include this header use protobuf and are built with
// exceptions enabled.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_LIB_IMPORT_ONNX_GRAPHIMPORTER_H
#define RILL_LIB_IMPORT_ONNX_GRAPHIMPORTER_H

#include "Builders.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include "onnx/onnx_pb.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::rill::onnx_import {

/// An ONNX value as imported: a ranked tensor SSA value, plus the element
/// values when the tensor is a small integer or boolean vector or scalar
/// (shape arithmetic). Each element is a constant or an `index` SSA value,
/// which lets Shape -> Gather -> Concat -> Reshape chains fold at import time.
struct TensorValue {
  Value value;
  std::optional<Dims> elements = std::nullopt;

  RankedTensorType getType() const {
    return cast<RankedTensorType>(value.getType());
  }
  Type getElementType() const { return getType().getElementType(); }
  int64_t getRank() const { return getType().getRank(); }
};

/// Largest integer vector whose elements the importer tracks.
constexpr int64_t kMaxTrackedElements = 64;

class GraphImporter;

/// The view of one node given to an operator converter.
class NodeContext {
public:
  NodeContext(GraphImporter &importer, const onnx::NodeProto &node,
              int64_t index, Location loc, int64_t opset);

  const onnx::NodeProto &getNode() const { return node; }
  int64_t getOpset() const { return opset; }
  Location getLoc() const { return loc; }
  OpBuilder &getBuilder();
  GraphImporter &getImporter() { return importer; }

  /// Number of inputs, not counting trailing empty (omitted) ones.
  int64_t getNumInputs() const;
  /// Whether input `i` is present (non-empty name).
  bool hasInput(int64_t i) const;
  /// Returns input `i`, or emits an error when it is absent.
  FailureOr<TensorValue> getInput(int64_t i);
  /// Returns input `i` when present, std::nullopt otherwise.
  std::optional<TensorValue> getOptionalInput(int64_t i);

  int64_t getNumOutputs() const { return node.output_size(); }
  /// Whether output `i` is requested by the graph (non-empty name).
  bool hasOutput(int64_t i) const;
  /// Records output `i`. Absent outputs are ignored.
  void setOutput(int64_t i, TensorValue value);
  void setOutput(int64_t i, Value value) { setOutput(i, TensorValue{value}); }

  const onnx::AttributeProto *getAttribute(llvm::StringRef name) const;
  int64_t getInt(llvm::StringRef name, int64_t defaultValue) const;
  float getFloat(llvm::StringRef name, float defaultValue) const;
  std::string getString(llvm::StringRef name,
                        llvm::StringRef defaultValue) const;
  std::optional<SmallVector<int64_t>> getInts(llvm::StringRef name) const;

  /// Emits an error that names the node and its operator.
  InFlightDiagnostic emitError();

  /// Emits an error built from `message` when `result` failed.
  template <typename T>
  FailureOr<T> check(FailureOr<T> result, const std::string &message) {
    if (failed(result))
      emitError() << message;
    return result;
  }

  /// Normalizes `axis` against `rank` (negative counts from the end).
  /// Emits an error and returns failure when it is out of range.
  FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank);

  /// Returns the constant integer contents of input `i`: each element is a
  /// constant or an `index` value. Emits an error when the input is not a
  /// tracked integer tensor.
  FailureOr<Dims> getInputElements(int64_t i, llvm::StringRef what);

  /// Like getInputElements, but requires every element to be a constant.
  FailureOr<SmallVector<int64_t>> getConstantInputInts(int64_t i,
                                                       llvm::StringRef what);

private:
  GraphImporter &importer;
  const onnx::NodeProto &node;
  int64_t index;
  Location loc;
  int64_t opset;
};

/// Returns "node 'name' (OpType)", or "node #index (unnamed) (OpType)" for
/// nodes without a name, for diagnostics.
std::string describeNode(const onnx::NodeProto &node, int64_t index);

/// Converts one node. Returns failure after emitting an error.
using OpConverter = LogicalResult (*)(NodeContext &);

/// One supported operator: domain ("" for ai.onnx), type, the opset range
/// the converter implements and the converter itself.
struct OpSupport {
  const char *domain;
  const char *opType;
  int64_t minOpset;
  int64_t maxOpset;
  OpConverter converter;
};

void appendElementwiseOps(std::vector<OpSupport> &ops);
void appendShapeOps(std::vector<OpSupport> &ops);
void appendReductionOps(std::vector<OpSupport> &ops);
void appendAttentionOps(std::vector<OpSupport> &ops);

/// Returns every supported operator, in no particular order.
const std::vector<OpSupport> &getSupportedOps();

/// Returns a scalar integer input as an index size: its tracked element, or
/// a `tensor.extract` of it when it is not tracked.
OpFoldResult getIndexScalar(OpBuilder &b, Location loc,
                            const TensorValue &value);

/// Returns the MLIR element type for an ONNX `TensorProto::DataType`, or
/// null for types the importer does not support (strings, complex).
Type convertElementType(MLIRContext *ctx, int32_t onnxType);

/// Returns the ONNX name of a data type for messages ("FLOAT", "INT64").
std::string getDataTypeName(int32_t onnxType);

/// Shared state of the import of one graph into one function.
class GraphImporter {
public:
  GraphImporter(MLIRContext *ctx, llvm::StringRef modelPath,
                llvm::StringRef modelDir, int64_t maxDenseElements);

  OpBuilder &getBuilder() { return builder; }
  MLIRContext *getContext() { return builder.getContext(); }
  llvm::StringRef getModelPath() const { return modelPath; }

  /// Returns the value named `name`, importing an initializer on first use.
  /// Returns std::nullopt when the name is not defined.
  std::optional<TensorValue> lookup(const std::string &name);
  void define(const std::string &name, TensorValue value);

  /// Returns whether importing the initializer `name` failed (and was
  /// reported).
  bool hasFailedInitializer(const std::string &name) const {
    return failedInitializers.contains(name);
  }

  /// Registers initializers, which are imported when first used.
  void addInitializer(onnx::TensorProto *tensor);

  /// Builds a constant from a TensorProto: a dense attribute when small, a
  /// `dense_resource` blob otherwise. Emits an error at `loc` on failure.
  FailureOr<TensorValue> importTensor(onnx::TensorProto &tensor,
                                      Location loc);

  /// Builds a tracked-elements value (see TensorValue) from elements.
  TensorValue makeElementsValue(Location loc, Dims elements,
                                RankedTensorType type);

private:
  OpBuilder builder;
  std::string modelPath;
  std::string modelDir;
  int64_t maxDenseElements;
  llvm::StringMap<TensorValue> values;
  llvm::StringMap<onnx::TensorProto *> initializers;
  llvm::StringSet<> failedInitializers;
};

} // namespace mlir::rill::onnx_import

#endif // RILL_LIB_IMPORT_ONNX_GRAPHIMPORTER_H
