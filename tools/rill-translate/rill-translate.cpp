//===- rill-translate.cpp - Translate models into Rill's MLIR ---*- C++ -*-===//
//
// Command-line front end of the importers: `rill-translate --import-onnx
// model.onnx` parses an ONNX model, verifies the module it builds and
// prints it as MLIR text (or bytecode with --emit-bytecode). Exits with
// status 1 after printing diagnostics when the model cannot be imported.
//
//===----------------------------------------------------------------------===//

#include "rill/Import/ONNX/ONNXImporter.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

static llvm::cl::opt<std::string> inputFilename(llvm::cl::Positional,
                                                llvm::cl::desc("<input file>"),
                                                llvm::cl::Required);

static llvm::cl::opt<std::string>
    outputFilename("o", llvm::cl::desc("Output file (default: stdout)"),
                   llvm::cl::value_desc("filename"), llvm::cl::init("-"));

static llvm::cl::opt<bool>
    importONNX("import-onnx",
               llvm::cl::desc("Import an ONNX model (.onnx ModelProto)"));

static llvm::cl::opt<std::string> entryName(
    "entry-name",
    llvm::cl::desc("Name of the function built for the main graph "
                   "(default: the graph name, or main_graph)"),
    llvm::cl::init(""));

static llvm::cl::opt<int64_t> maxDenseElements(
    "max-dense-elements",
    llvm::cl::desc("Constants with at most this many elements become dense "
                   "attributes; larger ones become dense_resource blobs"),
    llvm::cl::init(64));

static llvm::cl::opt<bool>
    emitBytecode("emit-bytecode",
                 llvm::cl::desc("Write MLIR bytecode instead of text"));

/// Prints "<file>: error: <message>" with the model file taken from the
/// diagnostic's location (importer locations carry no line numbers).
static LogicalResult printDiagnostic(Diagnostic &diag) {
  std::string file = "rill-translate";
  diag.getLocation()->walk([&](Location loc) {
    if (auto fileLoc = dyn_cast<FileLineColLoc>(loc)) {
      file = fileLoc.getFilename().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  llvm::StringRef severity = "error";
  if (diag.getSeverity() == DiagnosticSeverity::Warning)
    severity = "warning";
  else if (diag.getSeverity() == DiagnosticSeverity::Note)
    severity = "note";
  else if (diag.getSeverity() == DiagnosticSeverity::Remark)
    severity = "remark";
  llvm::errs() << file << ": " << severity << ": " << diag.str() << "\n";
  for (Diagnostic &note : diag.getNotes())
    llvm::errs() << file << ": note: " << note.str() << "\n";
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  llvm::cl::ParseCommandLineOptions(argc, argv,
                                    "Rill model importer (ONNX to MLIR)\n");
  if (!importONNX) {
    llvm::errs() << "rill-translate: no translation selected; pass "
                    "--import-onnx\n";
    return 1;
  }

  MLIRContext context;
  ScopedDiagnosticHandler diagnostics(&context, printDiagnostic);
  rill::ONNXImportOptions options;
  options.entryName = entryName;
  options.maxDenseElements = maxDenseElements;
  OwningOpRef<ModuleOp> module =
      rill::importONNXModelFile(inputFilename, &context, options);
  if (!module)
    return 1;
  if (failed(verify(*module))) {
    llvm::errs() << "rill-translate: the imported module of '"
                 << inputFilename
                 << "' failed verification; this is an importer bug\n";
    return 1;
  }

  std::string errorMessage;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFilename, &errorMessage);
  if (!output) {
    llvm::errs() << "rill-translate: " << errorMessage << "\n";
    return 1;
  }
  if (emitBytecode) {
    if (failed(writeBytecodeToFile(*module, output->os()))) {
      llvm::errs() << "rill-translate: cannot write bytecode\n";
      return 1;
    }
  } else {
    module->print(output->os());
    output->os() << "\n";
  }
  output->keep();
  return 0;
}
