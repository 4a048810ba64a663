//===- ONNXImporter.h - Import ONNX models into MLIR ------------*- C++ -*-===//
//
// Entry points that read an ONNX ModelProto (any ai.onnx opset up to 23 plus
// a few com.microsoft operators) and build a builtin module with one
// `func.func` for the main graph. The function uses upstream tensor, linalg,
// arith and math ops, and rill ops for attention and rotary embeddings.
// Errors are reported through the context's diagnostic engine.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_IMPORT_ONNX_ONNXIMPORTER_H
#define RILL_IMPORT_ONNX_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace mlir {
class DialectRegistry;
class MLIRContext;
} // namespace mlir

namespace mlir::rill {

/// Options of the ONNX importer.
struct ONNXImportOptions {
  /// Name of the function built for the main graph. Empty means the graph's
  /// own name, or `main_graph` when the graph has none.
  std::string entryName;

  /// Constant tensors with at most this many elements become dense
  /// attributes; larger ones become `dense_resource` blobs so that weights
  /// are never uniqued in the context.
  int64_t maxDenseElements = 64;
};

/// Adds every dialect that imported modules contain to `registry`.
void registerONNXImportDialects(DialectRegistry &registry);

/// Imports the ONNX model stored in the file at `path`. External data files
/// are read relative to the folder that contains `path`. Returns null after
/// emitting diagnostics when the file cannot be read or the model uses
/// unsupported or inconsistent constructs.
OwningOpRef<ModuleOp> importONNXModelFile(llvm::StringRef path,
                                          MLIRContext *context,
                                          const ONNXImportOptions &options);

/// Imports a serialized ModelProto held in memory. `modelDir` is the folder
/// against which external data locations are resolved and `displayName`
/// names the model in diagnostics.
OwningOpRef<ModuleOp> importONNXModelBytes(llvm::StringRef bytes,
                                           llvm::StringRef modelDir,
                                           llvm::StringRef displayName,
                                           MLIRContext *context,
                                           const ONNXImportOptions &options);

} // namespace mlir::rill

#endif // RILL_IMPORT_ONNX_ONNXIMPORTER_H
