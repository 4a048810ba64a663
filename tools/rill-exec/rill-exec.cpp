//===- rill-exec.cpp - Run a function of an MLIR module on npz data -------===//
//
// Lowers an MLIR module of tensor-level functions with the reference
// pipeline, JIT-compiles it and calls one function with inputs from an .npz
// archive (or one .npy file), writing the results to an .npz archive or
// printing them. Numerics tests and the ONNX importer's checks use it to
// compare compiled code with numpy and ONNX Runtime.
//
//===----------------------------------------------------------------------===//

#include "rill/ExecutionEngine/JitRunner.h"
#include "rill/ExecutionEngine/NumpyIO.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::rill;

namespace cl = llvm::cl;

static cl::OptionCategory category("rill-exec options");

static cl::opt<std::string> modulePath(cl::Positional, cl::Required,
                                       cl::desc("<module.mlir>"),
                                       cl::cat(category));

static cl::opt<std::string> entry("entry",
                                  cl::desc("Name of the function to call"),
                                  cl::value_desc("name"), cl::cat(category));

static cl::opt<std::string> inputsPath(
    "inputs",
    cl::desc("Input arrays: an .npz archive whose member names match the "
             "arguments' rill.name attributes or arg0..argN, or one .npy "
             "file for a single argument"),
    cl::value_desc("file"), cl::cat(category));

static cl::opt<std::string>
    outputsPath("outputs",
                cl::desc("Write the results to this .npz archive, named by "
                         "the results' rill.name attributes or "
                         "result0..resultN"),
                cl::value_desc("file.npz"), cl::cat(category));

static cl::opt<bool>
    compressOutputs("compress", cl::desc("Deflate-compress the output archive"),
                    cl::init(false), cl::cat(category));

static cl::opt<bool> printOutputs("print",
                                  cl::desc("Print the results to stdout"),
                                  cl::init(false), cl::cat(category));

static cl::opt<int64_t> printLimit(
    "print-limit",
    cl::desc("Maximum number of elements printed per result (default 1000)"),
    cl::init(1000), cl::cat(category));

static cl::opt<bool>
    listFunctions("list-functions",
                  cl::desc("Print the callable functions and their argument "
                           "and result names, then exit"),
                  cl::init(false), cl::cat(category));

static cl::opt<std::string> pipelineName(
    "pipeline",
    cl::desc("Lowering pipeline: 'reference' (scalar loops, the correctness "
             "baseline) or 'cpu' (rill-cpu-pipeline: tiled attention, "
             "matrix-product kernel and vector code; parallel loops run on "
             "one thread). Default: reference"),
    cl::value_desc("name"), cl::init("reference"), cl::cat(category));

static cl::opt<bool> printLowered(
    "print-lowered",
    cl::desc("Print the module after the lowering pipeline (LLVM dialect) "
             "to stderr"),
    cl::init(false), cl::cat(category));

static cl::opt<unsigned>
    optLevel("O", cl::desc("LLVM optimization level, 0 to 3 (default 2)"),
             cl::init(2), cl::Prefix, cl::cat(category));

static int reportError(llvm::Error error) {
  llvm::WithColor::error(llvm::errs(), "rill-exec")
      << llvm::toString(std::move(error)) << "\n";
  return 1;
}

static void printSignature(const JitFunction &function) {
  llvm::outs() << "@" << function.name << "(";
  for (size_t index = 0; index < function.arguments.size(); ++index) {
    if (index)
      llvm::outs() << ", ";
    llvm::outs() << function.argumentNames[index] << ": "
                 << function.arguments[index].typeName;
  }
  llvm::outs() << ") -> (";
  for (size_t index = 0; index < function.results.size(); ++index) {
    if (index)
      llvm::outs() << ", ";
    llvm::outs() << function.resultNames[index] << ": "
                 << function.results[index].typeName;
  }
  llvm::outs() << ")";
  if (!function.unsupported.empty())
    llvm::outs() << "  [not callable: " << function.unsupported << "]";
  llvm::outs() << "\n";
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Rill JIT runner: calls a function of an MLIR module on numpy arrays\n\n"
      "  rill-exec model.mlir --entry NAME --inputs in.npz --outputs "
      "out.npz\n");

  if (optLevel > 3)
    return reportError(llvm::createStringError(
        "invalid -O" + std::to_string(optLevel) + " (expected 0 to 3)"));
  if (!listFunctions && entry.empty())
    return reportError(llvm::createStringError(
        "missing --entry; run with --list-functions to see the callable "
        "functions"));

  if (pipelineName != "reference" && pipelineName != "cpu")
    return reportError(llvm::createStringError(
        "unknown --pipeline=" + pipelineName +
        " (expected 'reference' or 'cpu')"));
  JitOptions options;
  options.optLevel = optLevel;
  options.cpuPipeline = pipelineName == "cpu";
  if (printLowered)
    options.loweredModuleOutput = &llvm::errs();
  llvm::Expected<std::unique_ptr<JitSession>> session =
      JitSession::createFromFile(modulePath, options);
  if (!session)
    return reportError(session.takeError());

  if (listFunctions) {
    for (const JitFunction &function : (*session)->getFunctions())
      printSignature(function);
    return 0;
  }

  std::vector<NamedArray> inputs;
  if (!inputsPath.empty()) {
    llvm::Expected<std::vector<NamedArray>> read = readArrayFile(inputsPath);
    if (!read)
      return reportError(read.takeError());
    inputs = std::move(*read);
  }

  // A lone .npy array binds to a function with exactly one argument.
  const JitFunction *function = (*session)->lookupFunction(entry);
  if (function && inputs.size() == 1 && function->arguments.size() == 1 &&
      inputs.front().name != function->argumentNames.front())
    inputs.front().name = function->argumentNames.front();

  llvm::Expected<std::vector<NamedArray>> results =
      (*session)->callWithNamedInputs(entry, inputs);
  if (!results)
    return reportError(llvm::createStringError(
        modulePath + ": " + llvm::toString(results.takeError())));

  if (printOutputs) {
    for (const NamedArray &result : *results) {
      llvm::outs() << result.name << ": " << result.array.describe() << "\n";
      printArray(llvm::outs(), result.array, printLimit);
      llvm::outs() << "\n";
    }
  }
  if (!outputsPath.empty())
    if (llvm::Error error =
            writeNpzFile(outputsPath, *results, compressOutputs))
      return reportError(std::move(error));
  return 0;
}
