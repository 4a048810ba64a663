//===- ONNXImporterTest.cpp - Tests of the ONNX importer API --------------===//
//
// Builds small ModelProto messages in memory, imports them with
// importONNXModelBytes and checks the function signature, the rill.name
// attributes, weight blobs and the diagnostics for invalid input.
//
//===----------------------------------------------------------------------===//

#include "rill/Import/ONNX/ONNXImporter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include "onnx/onnx_pb.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace mlir;

namespace {

void addValueInfo(onnx::ValueInfoProto *info, const std::string &name,
                  std::vector<std::string> dims) {
  info->set_name(name);
  auto *tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  for (const std::string &dim : dims) {
    auto *d = tensor->mutable_shape()->add_dim();
    if (!dim.empty() && std::isdigit(dim[0]))
      d->set_dim_value(std::stoll(dim));
    else
      d->set_dim_param(dim);
  }
}

/// Returns a serialized model computing y = MatMul(x, w) with a 16x8
/// float initializer w.
std::string makeMatMulModel() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(17);
  onnx::GraphProto *graph = model.mutable_graph();
  graph->set_name("tiny");
  addValueInfo(graph->add_input(), "x", {"batch", "16"});
  addValueInfo(graph->add_output(), "y", {"batch", "8"});
  onnx::TensorProto *w = graph->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(16);
  w->add_dims(8);
  std::vector<float> values(16 * 8, 0.5f);
  w->set_raw_data(std::string(reinterpret_cast<const char *>(values.data()),
                              values.size() * sizeof(float)));
  onnx::NodeProto *node = graph->add_node();
  node->set_op_type("MatMul");
  node->set_name("matmul");
  node->add_input("x");
  node->add_input("w");
  node->add_output("y");
  std::string bytes;
  model.SerializeToString(&bytes);
  return bytes;
}

TEST(ONNXImporter, ImportsSignatureAndNames) {
  MLIRContext context;
  rill::ONNXImportOptions options;
  OwningOpRef<ModuleOp> module = rill::importONNXModelBytes(
      makeMatMulModel(), ".", "tiny.onnx", &context, options);
  ASSERT_TRUE(module);
  EXPECT_TRUE(succeeded(verify(*module)));

  auto func = module->lookupSymbol<func::FuncOp>("tiny");
  ASSERT_TRUE(func);
  FunctionType type = func.getFunctionType();
  ASSERT_EQ(type.getNumInputs(), 1u);
  ASSERT_EQ(type.getNumResults(), 1u);
  auto input = cast<RankedTensorType>(type.getInput(0));
  EXPECT_TRUE(input.isDynamicDim(0));
  EXPECT_EQ(input.getDimSize(1), 16);
  auto result = cast<RankedTensorType>(type.getResult(0));
  EXPECT_TRUE(result.isDynamicDim(0));
  EXPECT_EQ(result.getDimSize(1), 8);
  EXPECT_EQ(func.getArgAttrOfType<StringAttr>(0, "rill.name").getValue(),
            "x");
  EXPECT_EQ(func.getResultAttrOfType<StringAttr>(0, "rill.name").getValue(),
            "y");
}

TEST(ONNXImporter, LargeInitializerBecomesBlob) {
  MLIRContext context;
  rill::ONNXImportOptions options;
  OwningOpRef<ModuleOp> module = rill::importONNXModelBytes(
      makeMatMulModel(), ".", "tiny.onnx", &context, options);
  ASSERT_TRUE(module);

  int blobs = 0;
  module->walk([&](arith::ConstantOp op) {
    auto attr = dyn_cast<DenseResourceElementsAttr>(op.getValue());
    if (!attr)
      return;
    ++blobs;
    ArrayRef<char> data = attr.getData();
    ASSERT_EQ(data.size(), 16u * 8u * sizeof(float));
    float first;
    std::memcpy(&first, data.data(), sizeof(float));
    EXPECT_EQ(first, 0.5f);
  });
  EXPECT_EQ(blobs, 1);
}

TEST(ONNXImporter, EntryNameOption) {
  MLIRContext context;
  rill::ONNXImportOptions options;
  options.entryName = "main";
  OwningOpRef<ModuleOp> module = rill::importONNXModelBytes(
      makeMatMulModel(), ".", "tiny.onnx", &context, options);
  ASSERT_TRUE(module);
  EXPECT_TRUE(module->lookupSymbol<func::FuncOp>("main"));
}

TEST(ONNXImporter, InvalidBytesReportError) {
  MLIRContext context;
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  rill::ONNXImportOptions options;
  std::string bytes = makeMatMulModel();
  bytes.resize(bytes.size() / 2);
  OwningOpRef<ModuleOp> module = rill::importONNXModelBytes(
      bytes, ".", "half.onnx", &context, options);
  EXPECT_FALSE(module);
  EXPECT_NE(message.find("truncated or not an ONNX model"), std::string::npos)
      << message;
}

} // namespace
