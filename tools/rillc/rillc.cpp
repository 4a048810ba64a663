//===- rillc.cpp - The Rill compiler driver -------------------------------===//
//
// Compiles an ONNX model into a shared library with the C ABI of
// rill_model_abi.h (`rillc model.onnx -o model.so`), or into MLIR, LLVM IR,
// an object file or the C glue. The command line only parses and checks
// options; the work happens in compileModel (lib/Driver).
//
//===----------------------------------------------------------------------===//

#include "rill/Driver/Driver.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::rill;

namespace cl = llvm::cl;

static cl::OptionCategory category("rillc options");

static cl::opt<std::string> inputPath(cl::Positional,
                                      cl::desc("<model.onnx>"),
                                      cl::cat(category));

static cl::opt<std::string> outputPath(
    "o",
    cl::desc("Output file (default: the model file name with the extension "
             "of --emit, in the working directory)"),
    cl::value_desc("file"), cl::cat(category));

static cl::opt<std::string> emit(
    "emit",
    cl::desc("Artifact to write: 'so' (shared library with the model ABI), "
             "'obj' (object file), 'llvm' (LLVM IR text), 'mlir' (tensor-level "
             "MLIR after the graph passes) or 'glue' (the generated C glue). "
             "Default: from the extension of -o (.so, .o, .ll, .mlir, .c), "
             "else 'so'"),
    cl::value_desc("kind"), cl::cat(category));

static cl::opt<std::string> maskPattern(
    "mask",
    cl::desc("Attention mask for every layer, in the mask pattern language, "
             "e.g. 'sinks(4)|window(252)' (passed to rill-set-mask; sizes in "
             "tokens). Default: the graph's own masks"),
    cl::value_desc("pattern"), cl::cat(category));

static cl::opt<std::string> policy(
    "policy",
    cl::desc("Default cache policy recorded in the metadata: dense, window, "
             "recompute or sinks. Default: sinks if the mask has sinks, "
             "window if it has a window, else dense"),
    cl::value_desc("name"), cl::cat(category));

static cl::opt<bool> streaming(
    "streaming",
    cl::desc("Compile a decoder with a KV cache into a streaming step "
             "function (the default when rill-streamify is built in)"),
    cl::cat(category));

static cl::opt<std::string> positionPolicy(
    "position-policy",
    cl::desc("Positions of a streaming model: 'rotary' (keys rotated once "
             "at their stream position, exact), 'clamped-absolute' (a "
             "learned position table read at min(t, capacity - 1), an "
             "approximation for GPT-2-style models) or 'original' (RoPE "
             "with sink keys left at their stream positions: the "
             "StreamingLLM ablation, for experiments). Default: rotary"),
    cl::value_desc("name"), cl::cat(category));

static cl::opt<bool> noStreaming(
    "no-streaming",
    cl::desc("Compile the plain graph even for a decoder with a KV cache"),
    cl::cat(category));

static cl::opt<std::string> pipeline(
    "pipeline",
    cl::desc("Lowering pipeline: 'cpu' (rill-cpu-pipeline: tiled "
             "attention, register-blocked matrix products, vector code, "
             "OpenMP) or 'reference' (scalar loops, the correctness "
             "baseline). Default: cpu"),
    cl::value_desc("name"), cl::init("cpu"), cl::cat(category));

static cl::opt<std::string> cpuOptions(
    "cpu-options",
    cl::desc("Options of the cpu pipeline as space-separated key=value "
             "pairs, for tuning: query-tile, key-tile, vector-width, "
             "prefetch, matmul-row-tile, matmul-column-vectors, "
             "matmul-vector-width, matmul-pack-weights, fuse-elementwise, "
             "openmp (see "
             "`rill-opt --help`, --rill-cpu-pipeline)"),
    cl::value_desc("options"), cl::cat(category));

static cl::opt<int64_t> maxCapacity(
    "max-capacity",
    cl::desc("Largest KV cache capacity, in tokens per sequence, that a "
             "streaming step accepts (default 4096)"),
    cl::value_desc("slots"), cl::init(0), cl::cat(category));

static cl::opt<std::string> march(
    "march",
    cl::desc("Target x86-64 CPU: an LLVM CPU name (x86-64-v3 = AVX2 and FMA, "
             "x86-64-v4 = AVX-512, skylake-avx512, znver4, ...) or 'native' "
             "for the machine running rillc. Recorded in the metadata "
             "(default x86-64-v3)"),
    cl::value_desc("cpu"), cl::init("x86-64-v3"), cl::cat(category));

static cl::opt<int64_t> optLevel("O",
                                 cl::desc("LLVM optimization level, 0 to 3 "
                                          "(default 3)"),
                                 cl::init(3), cl::Prefix, cl::cat(category));

static cl::opt<std::string> compiler(
    "cc",
    cl::desc("C compiler driver that compiles the glue and links the shared "
             "library (default: clang-22, clang or cc from PATH)"),
    cl::value_desc("path"), cl::cat(category));

/// Returns the --threads option. libLLVM registers an option of the same
/// name at load time, so rillc unregisters that one before creating its own.
static cl::opt<int64_t> &getThreadsOption() {
  static cl::opt<int64_t> *option = [] {
    auto &registered = cl::getRegisteredOptions();
    auto existing = registered.find("threads");
    if (existing != registered.end())
      existing->second->removeArgument();
    return new cl::opt<int64_t>(
        "threads",
        cl::desc("Default number of threads of the parallel loops, recorded "
                 "in the metadata and applied when the library runs (0: the "
                 "OpenMP default, OMP_NUM_THREADS or one per core)"),
        cl::value_desc("count"), cl::init(0), cl::cat(category));
  }();
  return *option;
}

static int reportError(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "rillc") << message << "\n";
  return 1;
}

static std::optional<EmitKind> parseEmitKind(llvm::StringRef text) {
  if (text == "so")
    return EmitKind::SharedLibrary;
  if (text == "obj")
    return EmitKind::Object;
  if (text == "llvm")
    return EmitKind::LLVMIR;
  if (text == "mlir")
    return EmitKind::MLIR;
  if (text == "glue")
    return EmitKind::Glue;
  return std::nullopt;
}

static llvm::StringRef getExtension(EmitKind kind) {
  switch (kind) {
  case EmitKind::MLIR:
    return ".mlir";
  case EmitKind::LLVMIR:
    return ".ll";
  case EmitKind::Object:
    return ".o";
  case EmitKind::Glue:
    return ".c";
  case EmitKind::SharedLibrary:
    return ".so";
  }
  return ".so";
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::opt<int64_t> &threads = getThreadsOption();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Rill compiler: ONNX model to a shared library with the model ABI\n\n"
      "  rillc model.onnx -o model.so\n"
      "  rillc model.onnx --mask 'sinks(4)|window(252)' -o model.so\n"
      "  rillc model.onnx --emit=mlir -o model.mlir\n");

  if (inputPath.empty())
    return reportError("no input file; usage: rillc model.onnx -o model.so "
                       "(see --help)");
  if (streaming && noStreaming)
    return reportError("--streaming and --no-streaming contradict each other; "
                       "pass at most one");
  if (threads < 0 || threads > 4096)
    return reportError("invalid --threads " + llvm::Twine(threads.getValue()) +
                       " (expected 0 for the OpenMP default, or 1 to 4096)");
  if (optLevel < 0 || optLevel > 3)
    return reportError("invalid -O" + llvm::Twine(optLevel.getValue()) +
                       " (expected 0 to 3)");
  if (maxCapacity < 0)
    return reportError("invalid --max-capacity " +
                       llvm::Twine(maxCapacity.getValue()) +
                       " (expected a positive number of cache slots, or 0 "
                       "for the default of 4096)");

  DriverOptions options;
  options.inputPath = inputPath;

  std::optional<EmitKind> emitKind;
  if (!emit.empty()) {
    emitKind = parseEmitKind(emit);
    if (!emitKind)
      return reportError("invalid --emit '" + emit +
                         "' (expected so, obj, llvm, mlir or glue)");
  } else {
    emitKind = outputPath.empty() ? EmitKind::SharedLibrary
                                  : getEmitKindForPath(outputPath);
  }
  options.emit = *emitKind;
  options.outputPath = outputPath;
  if (options.outputPath.empty())
    options.outputPath = (llvm::sys::path::stem(inputPath.getValue()) +
                          getExtension(*emitKind))
                             .str();

  std::optional<PipelineKind> pipelineKind = parsePipelineKind(pipeline);
  if (!pipelineKind)
    return reportError("invalid --pipeline '" + pipeline +
                       "' (expected cpu or reference)");
  options.pipeline = *pipelineKind;

  options.maskPattern = maskPattern;
  options.policy = policy;
  if (streaming)
    options.streaming = true;
  if (noStreaming)
    options.streaming = false;
  options.threads = static_cast<int32_t>(threads);
  options.maxCapacity = maxCapacity;
  options.positionPolicy = positionPolicy;
  if (!cpuOptions.empty() && *pipelineKind != PipelineKind::CPU)
    return reportError("--cpu-options applies to --pipeline=cpu only; drop "
                       "it or select the cpu pipeline");
  options.cpuOptions = cpuOptions;
  options.target.cpu = march;
  options.target.optLevel = static_cast<unsigned>(optLevel);
  options.link.compiler = compiler;

  if (llvm::Error error = compileModel(options))
    return reportError(llvm::toString(std::move(error)));
  return 0;
}
