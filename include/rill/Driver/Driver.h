//===- Driver.h - The rillc compile pipeline as a library -------*- C++ -*-===//
//
// Declares the options and the entry point of the Rill compiler driver:
// import an ONNX model, run the Rill graph passes (attention fusion, mask
// replacement and, for decoders, streamification when those passes are
// built in), lower to the LLVM dialect with the reference or the CPU
// pipeline, and write MLIR, LLVM IR, an object file or a shared library
// with the C ABI of rill_model_abi.h. `rillc` is a thin command line over
// compileModel.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DRIVER_DRIVER_H
#define RILL_DRIVER_DRIVER_H

#include "rill/Target/ModelLibrary.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mlir::rill {

/// The artifact compileModel writes.
enum class EmitKind {
  /// The tensor-level module after the Rill graph passes, before lowering.
  MLIR,
  /// Optimized LLVM IR (text).
  LLVMIR,
  /// A relocatable object file.
  Object,
  /// The generated C glue (for inspection).
  Glue,
  /// A shared library with the model ABI.
  SharedLibrary,
};

/// The lowering pipeline compileModel uses.
enum class PipelineKind {
  /// rill-reference-pipeline: scalar loops, the correctness baseline.
  Reference,
  /// rill-cpu-pipeline: tiled attention, register-blocked matrix
  /// products (blocked for the target's vector registers), vector code,
  /// OpenMP.
  CPU,
};

/// Options of one compilation.
struct DriverOptions {
  std::string inputPath;
  std::string outputPath;
  EmitKind emit = EmitKind::SharedLibrary;
  PipelineKind pipeline = PipelineKind::CPU;

  /// Mask in the mask pattern language for every attention layer; empty
  /// keeps the masks of the graph.
  std::string maskPattern;
  /// Default cache policy recorded in the metadata; empty derives it from
  /// the mask ("sinks" with sinks, "window" with a window, else "dense").
  std::string policy;
  /// Streamify decoders: unset means "when the graph has a KV cache and the
  /// rill-streamify pass is built in".
  std::optional<bool> streaming;
  /// Default thread count recorded in the metadata (0 = OpenMP default).
  int32_t threads = 0;
  /// Largest cache capacity a streaming step accepts; 0 means the default.
  int64_t maxCapacity = 0;
  /// rill-streamify's position policy ("rotary" or "clamped-absolute");
  /// empty keeps the pass default.
  std::string positionPolicy;
  /// Options of rill-cpu-pipeline as `key=value` pairs separated by
  /// spaces (query-tile=32 fuse-elementwise=true); they override the
  /// target-derived defaults. Ignored by the reference pipeline.
  std::string cpuOptions;

  TargetOptions target;
  LinkOptions link;
};

/// Returns the emit kind that the extension of `path` implies: .mlir,
/// .ll, .o, .c, anything else a shared library.
EmitKind getEmitKindForPath(llvm::StringRef path);

/// Parses "reference" or "cpu".
std::optional<PipelineKind> parsePipelineKind(llvm::StringRef text);

/// Runs the whole compilation. Diagnostics of the MLIR passes go to the
/// context's handler (stderr in rillc); the returned error summarizes what
/// failed and names the file or option at fault.
llvm::Error compileModel(const DriverOptions &options);

} // namespace mlir::rill

#endif // RILL_DRIVER_DRIVER_H
