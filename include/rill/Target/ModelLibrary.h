//===- ModelLibrary.h - Ahead-of-time emission of model libraries -*- C++ -*-===//
//
// Declares what rillc needs to turn a module lowered to the LLVM dialect into
// a shared library with the C ABI of rill_model_abi.h: the description of the
// compiled entry points (names, element types and shapes of their tensors),
// the metadata that the library reports, the generated C glue that builds
// memref descriptors and calls the `_mlir_ciface_` wrappers, LLVM IR and
// object emission for the host or a named x86-64 CPU, and the final link.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_TARGET_MODELLIBRARY_H
#define RILL_TARGET_MODELLIBRARY_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace mlir {
namespace func {
class FuncOp;
} // namespace func

namespace rill {

/// One argument or result of a compiled entry point.
struct TensorSignature {
  std::string name;
  /// A rill_dtype value.
  int32_t dtype = 0;
  /// Size in bytes of one element.
  int64_t elementBytes = 0;
  /// Dimensions; -1 marks a dynamic one. Empty for scalars.
  llvm::SmallVector<int64_t> shape;
  /// True for an `index` or integer scalar passed by value.
  bool isScalar = false;
};

/// The signature of a public function compiled with `llvm.emit_c_interface`.
struct EntrySignature {
  /// The MLIR function name; the glue calls `_mlir_ciface_<symbol>`.
  std::string symbol;
  std::vector<TensorSignature> arguments;
  std::vector<TensorSignature> results;
};

/// Returns the signature of `function`, whose arguments must be ranked
/// tensors or index/integer scalars and whose results ranked tensors of the
/// element types rill_dtype names. Argument and result names come from the
/// `rill.name` attribute, else `input<i>` / `output<i>`. Fails with a message
/// that names the function and the unsupported type.
llvm::Expected<EntrySignature> describeEntry(func::FuncOp function);

/// Streaming geometry and defaults recorded in the metadata.
struct StreamingGeometry {
  int64_t vocabSize = 0;
  int64_t numLayers = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  int64_t valueDim = 0;
  int64_t maxCapacity = 0;
  int64_t maxChunk = 0;
  int64_t defaultSinks = 0;
  int64_t defaultCapacity = 0;
  int64_t trainedLength = 0;
};

/// Everything `rill_model_metadata_get` reports, besides the signatures.
struct ModelLibraryMetadata {
  std::string modelName;
  std::string sourceFile;
  std::string maskPattern;
  std::string positionPolicy = "rotary";
  std::string defaultPolicy;
  /// Threads the parallel loops use unless the caller sets a count; 0 means
  /// the OpenMP default.
  int32_t defaultThreads = 0;
  /// The CPU the object code was compiled for, e.g. "x86-64-v3".
  std::string targetCPU;
  /// The lowering pipeline, "reference" or "cpu".
  std::string pipeline;
  /// Set for streaming libraries.
  std::optional<StreamingGeometry> streaming;
};

/// Returns the C source of the glue: the metadata tables,
/// `rill_model_metadata_get`, `rill_model_run` (calling `run`),
/// `rill_model_step` when `step` is given, `rill_model_set_num_threads`,
/// `rill_model_free_output` and `rill_model_last_error`. The source embeds
/// rill_model_abi.h, so compiling it needs no include path.
std::string generateModelGlue(const EntrySignature &run,
                              const EntrySignature *step,
                              const ModelLibraryMetadata &metadata,
                              bool usesOpenMP);

/// Code generation target.
struct TargetOptions {
  /// An LLVM x86 CPU name ("x86-64-v3", "skylake-avx512", ...) or "native"
  /// for the CPU and features of the machine running rillc.
  std::string cpu = "x86-64-v3";
  /// LLVM optimization level, 0 to 3.
  unsigned optLevel = 3;
};

/// Returns the CPU name that `options.cpu` resolves to ("native" becomes the
/// host CPU name).
std::string resolveTargetCPU(const TargetOptions &options);

/// Returns the widest f32 vector the target's CPU has: 16 lanes with
/// AVX-512, 8 otherwise (AVX2 is the least rillc targets).
llvm::Expected<int64_t> getTargetVectorWidth(const TargetOptions &options);

/// Translates `module` (already in the LLVM dialect) to LLVM IR in
/// `llvmContext`, sets the triple and data layout of the target and runs
/// the LLVM optimization pipeline. `afterTranslation`, if set, runs between
/// the translation and the optimization, when the LLVM module contains its
/// own copy of every constant.
llvm::Expected<std::unique_ptr<llvm::Module>>
translateToOptimizedLLVMIR(ModuleOp module, llvm::LLVMContext &llvmContext,
                           const TargetOptions &options,
                           llvm::function_ref<void()> afterTranslation = {});

/// Writes `module` as a relocatable ELF object file to `path`.
llvm::Error emitObjectFile(llvm::Module &module, llvm::StringRef path,
                           const TargetOptions &options);

/// Options of the final link.
struct LinkOptions {
  /// The C compiler driver used to compile the glue and link; empty means
  /// search PATH for clang-22, then clang, then cc.
  std::string compiler;
  /// Link libomp (the compiled code calls the OpenMP runtime).
  bool openMP = false;
};

/// Compiles the glue source and links it with `objectPath` into the shared
/// library `outputPath`. Temporary files go next to `outputPath`'s
/// temporary directory and are removed.
llvm::Error linkModelLibrary(llvm::StringRef objectPath,
                             llvm::StringRef glueSource,
                             llvm::StringRef outputPath,
                             const LinkOptions &options);

} // namespace rill
} // namespace mlir

#endif // RILL_TARGET_MODELLIBRARY_H
