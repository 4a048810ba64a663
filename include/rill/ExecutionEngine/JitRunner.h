//===- JitRunner.h - JIT-compile and call tensor functions ------*- C++ -*-===//
//
// Compiles an MLIR module of tensor-level functions (func, linalg, tensor,
// arith, math and rill ops) with the reference CPU pipeline, JIT-compiles it
// with mlir::ExecutionEngine and calls its functions on numpy arrays. This is
// how tests, rill-exec and the ONNX importer's checks execute Rill IR.
//
// Arguments and results may be ranked tensors with static or dynamic
// dimensions, or integer, index and float scalars. Calls go through the
// packed C interface (`llvm.emit_c_interface`), with memref descriptors built
// at run time from the function type, so no per-signature glue is compiled.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_EXECUTIONENGINE_JITRUNNER_H
#define RILL_EXECUTIONENGINE_JITRUNNER_H

#include "rill/ExecutionEngine/NumpyIO.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace mlir {
class DialectRegistry;
class ExecutionEngine;
class MLIRContext;

namespace rill {

/// Name of the string attribute that names a function argument or result
/// for the JIT runner (`{rill.name = "q"}`). Unnamed arguments are `arg<i>`
/// and unnamed results `result<i>`.
inline constexpr llvm::StringLiteral kJitNameAttrName = "rill.name";

/// Options of a JIT session.
struct JitOptions {
  /// LLVM code generation optimization level, 0 to 3.
  unsigned optLevel = 2;
  /// Lower with rill-cpu-pipeline (tiled attention, matrix-product kernel,
  /// vector code) instead of the reference pipeline.
  /// NOTE: its parallel loops run sequentially in the JIT (no OpenMP
  /// runtime is loaded); libraries from rillc run them with OpenMP.
  bool cpuPipeline = false;
  /// When set, the module is printed here after the lowering pipeline, in
  /// the LLVM dialect.
  llvm::raw_ostream *loweredModuleOutput = nullptr;
};

/// The type of one argument or result of a callable function.
struct JitValueType {
  /// The element type that arrays passed for this value must have.
  NumpyDType dtype = NumpyDType::Float32;
  /// True for a scalar (integer, index or float), false for a tensor.
  bool isScalar = false;
  /// Tensor dimensions; ShapedType::kDynamic marks a dynamic one.
  llvm::SmallVector<int64_t> shape;
  /// The MLIR type as written, for messages.
  std::string typeName;
  /// Another dtype that arguments also accept: `uintN` for signless `iN`
  /// (N > 1), whose results come back as signed `intN`, and int16 bit
  /// patterns for bf16, whose results come back as uint16.
  std::optional<NumpyDType> alternativeDType;
};

/// The signature of a function that the session can call.
struct JitFunction {
  std::string name;
  std::vector<std::string> argumentNames;
  std::vector<JitValueType> arguments;
  std::vector<std::string> resultNames;
  std::vector<JitValueType> results;
  /// The reason the function cannot be called (an argument or result type
  /// without a numpy equivalent), or empty if it can.
  std::string unsupported;
};

/// A compiled module whose public functions can be called with numpy arrays.
/// Sessions are independent of the MLIRContext they were created from.
class JitSession {
public:
  ~JitSession();
  JitSession(const JitSession &) = delete;
  JitSession &operator=(const JitSession &) = delete;

  /// Parses the MLIR file at `path` and compiles it.
  static llvm::Expected<std::unique_ptr<JitSession>>
  createFromFile(llvm::StringRef path, const JitOptions &options = {});

  /// Parses MLIR source text and compiles it; `bufferName` labels messages.
  static llvm::Expected<std::unique_ptr<JitSession>>
  createFromSource(llvm::StringRef source, llvm::StringRef bufferName,
                   const JitOptions &options = {});

  /// Compiles a copy of `module`, which stays unchanged. The dialects and
  /// LLVM translations of registerJitDialects are added to its context.
  static llvm::Expected<std::unique_ptr<JitSession>>
  create(ModuleOp module, const JitOptions &options = {});

  /// Returns the callable (public, defined) functions in module order.
  llvm::ArrayRef<JitFunction> getFunctions() const { return functions; }

  /// Returns the function named `name`, or nullptr.
  const JitFunction *lookupFunction(llvm::StringRef name) const;

  /// Calls `function` with `arguments` in order and returns its results,
  /// named by `rill.name` or `result<i>`. Rejects arguments whose count,
  /// dtype, rank or static dimensions do not match the function type.
  llvm::Expected<std::vector<NamedArray>>
  call(llvm::StringRef function, llvm::ArrayRef<NumpyArray> arguments);

  /// Like `call`, but binds each argument to the input of the same name:
  /// its `rill.name` attribute if it has one, else `arg<i>`. Inputs that
  /// match no argument are an error, so typos do not go unnoticed.
  llvm::Expected<std::vector<NamedArray>>
  callWithNamedInputs(llvm::StringRef function,
                      llvm::ArrayRef<NamedArray> inputs);

private:
  JitSession();

  static llvm::Expected<std::unique_ptr<JitSession>>
  compileOwned(ModuleOp module, const JitOptions &options);

  std::vector<JitFunction> functions;
  std::unique_ptr<ExecutionEngine> engine;
};

/// Adds every dialect, interface implementation and LLVM IR translation that
/// the JIT runner needs to `registry`.
void registerJitDialects(DialectRegistry &registry);

/// Formats `array` like numpy's repr, at most `maxElements` values shown
/// (the rest elided with "..."), for rill-exec --print.
void printArray(llvm::raw_ostream &os, const NumpyArray &array,
                int64_t maxElements = 1000);

} // namespace rill
} // namespace mlir

#endif // RILL_EXECUTIONENGINE_JITRUNNER_H
