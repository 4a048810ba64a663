//===- ModelLibrary.cpp - LLVM IR, object files and the final link --------===//
//
// Describes compiled entry points for the glue, translates a module in the
// LLVM dialect to optimized LLVM IR for a chosen x86-64 CPU, writes the
// object file with an LLVM TargetMachine in process, and links the object
// and the compiled glue into a shared library with the system C compiler
// driver (clang-22 by default).
//
//===----------------------------------------------------------------------===//

#include "rill/Target/ModelLibrary.h"

#include "rill/Runtime/rill_model_abi.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <mutex>

using namespace mlir;
using namespace mlir::rill;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

void initializeX86Target() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

/// Fills the dtype fields of `value` from an element type, or fails.
llvm::Error setElementType(TensorSignature &value, Type elementType,
                           llvm::StringRef what) {
  std::string typeName;
  llvm::raw_string_ostream(typeName) << elementType;
  if (elementType.isF32()) {
    value.dtype = RILL_DTYPE_F32;
    value.elementBytes = 4;
  } else if (elementType.isF16()) {
    value.dtype = RILL_DTYPE_F16;
    value.elementBytes = 2;
  } else if (elementType.isIndex() || elementType.isInteger(64)) {
    value.dtype = RILL_DTYPE_I64;
    value.elementBytes = 8;
  } else if (elementType.isInteger(32)) {
    value.dtype = RILL_DTYPE_I32;
    value.elementBytes = 4;
  } else if (elementType.isInteger(1)) {
    // NOTE: i1 tensors lower to one byte per element in memrefs.
    value.dtype = RILL_DTYPE_BOOL;
    value.elementBytes = 1;
  } else {
    return makeError(what + " has element type " + typeName +
                     ", which the model ABI cannot express (expected f32, "
                     "f16, i64, i32, i1 or index)");
  }
  return llvm::Error::success();
}

llvm::Expected<TensorSignature> describeValue(Type type, std::string name,
                                              const std::string &what,
                                              bool allowScalar) {
  TensorSignature value;
  value.name = std::move(name);
  if (auto tensorType = dyn_cast<RankedTensorType>(type)) {
    for (int64_t dim : tensorType.getShape())
      value.shape.push_back(ShapedType::isDynamic(dim) ? -1 : dim);
    if (llvm::Error error =
            setElementType(value, tensorType.getElementType(), what))
      return std::move(error);
    return value;
  }
  if (allowScalar && (type.isIndex() || type.isInteger(64) ||
                      type.isInteger(32))) {
    value.isScalar = true;
    if (llvm::Error error = setElementType(value, type, what))
      return std::move(error);
    return value;
  }
  std::string typeName;
  llvm::raw_string_ostream(typeName) << type;
  return makeError(what + " has type " + typeName +
                   ", which the model ABI cannot express (expected a ranked "
                   "tensor" +
                   (allowScalar ? " or an integer or index scalar)" : ")"));
}

} // namespace

llvm::Expected<EntrySignature>
mlir::rill::describeEntry(func::FuncOp function) {
  EntrySignature entry;
  entry.symbol = function.getSymName().str();
  FunctionType type = function.getFunctionType();

  for (auto [index, argumentType] : llvm::enumerate(type.getInputs())) {
    auto name = function.getArgAttrOfType<StringAttr>(index, "rill.name");
    std::string what = "@" + entry.symbol + " argument " +
                       std::to_string(index);
    llvm::Expected<TensorSignature> value = describeValue(
        argumentType, name ? name.str() : "input" + std::to_string(index),
        what, /*allowScalar=*/true);
    if (!value)
      return value.takeError();
    entry.arguments.push_back(std::move(*value));
  }

  for (auto [index, resultType] : llvm::enumerate(type.getResults())) {
    auto name = function.getResultAttrOfType<StringAttr>(index, "rill.name");
    std::string what = "@" + entry.symbol + " result " + std::to_string(index);
    llvm::Expected<TensorSignature> value = describeValue(
        resultType, name ? name.str() : "output" + std::to_string(index),
        what, /*allowScalar=*/false);
    if (!value)
      return value.takeError();
    entry.results.push_back(std::move(*value));
  }
  return entry;
}

std::string mlir::rill::resolveTargetCPU(const TargetOptions &options) {
  if (options.cpu == "native")
    return llvm::sys::getHostCPUName().str();
  return options.cpu;
}

namespace {

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetOptions &options) {
  initializeX86Target();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return makeError("cannot find an LLVM target for " + triple.str() + ": " +
                     error);

  std::string cpu = resolveTargetCPU(options);
  std::string features;
  if (options.cpu == "native") {
    llvm::SubtargetFeatures hostFeatures;
    for (const auto &[name, enabled] : llvm::sys::getHostCPUFeatures())
      hostFeatures.AddFeature(name, enabled);
    features = hostFeatures.getString();
  }
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      target->createMCSubtargetInfo(triple, "", ""));
  if (!subtarget || !subtarget->isCPUStringValid(cpu))
    return makeError("unknown target CPU '" + cpu +
                     "' (expected an LLVM x86 CPU name such as x86-64-v3, "
                     "skylake-avx512 or znver4, or 'native')");

  llvm::CodeGenOptLevel level = llvm::CodeGenOptLevel::Aggressive;
  if (options.optLevel <= 0)
    level = llvm::CodeGenOptLevel::None;
  else if (options.optLevel == 1)
    level = llvm::CodeGenOptLevel::Less;
  else if (options.optLevel == 2)
    level = llvm::CodeGenOptLevel::Default;

  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, level));
  if (!machine)
    return makeError("cannot create an LLVM target machine for CPU '" + cpu +
                     "'");
  return machine;
}

} // namespace

llvm::Expected<int64_t>
mlir::rill::getTargetVectorWidth(const TargetOptions &options) {
  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> machine =
      createTargetMachine(options);
  if (!machine)
    return machine.takeError();
  return (*machine)->getMCSubtargetInfo()->checkFeatures("+avx512f") ? 16 : 8;
}

llvm::Expected<std::unique_ptr<llvm::Module>>
mlir::rill::translateToOptimizedLLVMIR(
    ModuleOp module, llvm::LLVMContext &llvmContext,
    const TargetOptions &options, llvm::function_ref<void()> afterTranslation) {
  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> machine =
      createTargetMachine(options);
  if (!machine)
    return machine.takeError();

  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "rill_model");
  if (!llvmModule)
    return makeError("cannot translate the lowered module to LLVM IR (see "
                     "the diagnostics above)");
  if (afterTranslation)
    afterTranslation();
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  llvmModule->setDataLayout((*machine)->createDataLayout());

  // Every function gets the target's CPU and features, so that the LLVM
  // optimizer vectorizes for the same CPU the backend compiles for.
  std::string cpu = resolveTargetCPU(options);
  std::string features = (*machine)->getTargetFeatureString().str();
  for (llvm::Function &function : *llvmModule) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("target-cpu", cpu);
    if (!features.empty())
      function.addFnAttr("target-features", features);
  }

  auto optimize = makeOptimizingTransformer(options.optLevel,
                                            /*sizeLevel=*/0, machine->get());
  if (llvm::Error error = optimize(llvmModule.get()))
    return makeError("LLVM optimization failed: " +
                     llvm::toString(std::move(error)));
  return llvmModule;
}

llvm::Error mlir::rill::emitObjectFile(llvm::Module &module,
                                       llvm::StringRef path,
                                       const TargetOptions &options) {
  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> machine =
      createTargetMachine(options);
  if (!machine)
    return machine.takeError();

  std::error_code error;
  llvm::ToolOutputFile output(path, error, llvm::sys::fs::OF_None);
  if (error)
    return makeError("cannot open '" + path + "' for writing: " +
                     error.message());

  llvm::legacy::PassManager passes;
  if ((*machine)->addPassesToEmitFile(passes, output.os(), nullptr,
                                      llvm::CodeGenFileType::ObjectFile))
    return makeError("the LLVM target cannot emit object files");
  passes.run(module);
  output.os().flush();
  if (output.os().has_error())
    return makeError("cannot write '" + path + "'");
  output.keep();
  return llvm::Error::success();
}

namespace {

llvm::Expected<std::string> findCompiler(const LinkOptions &options) {
  if (!options.compiler.empty()) {
    if (llvm::sys::fs::can_execute(options.compiler))
      return options.compiler;
    // A name with a slash is a path, which findProgramByName returns as is.
    llvm::ErrorOr<std::string> found =
        llvm::sys::findProgramByName(options.compiler);
    if (found && llvm::StringRef(options.compiler).find('/') ==
                     llvm::StringRef::npos)
      return *found;
    return makeError("cannot find the C compiler '" + options.compiler +
                     "'; pass --cc with the path of clang-22 or another C "
                     "compiler driver");
  }
  for (llvm::StringRef name : {"clang-22", "clang", "cc"}) {
    llvm::ErrorOr<std::string> found = llvm::sys::findProgramByName(name);
    if (found)
      return *found;
  }
  if (llvm::sys::fs::can_execute("/usr/lib/llvm-22/bin/clang"))
    return std::string("/usr/lib/llvm-22/bin/clang");
  return makeError("cannot find clang-22, clang or cc on PATH to link the "
                   "shared library; install clang-22 or pass --cc=PATH");
}

/// Runs `program` with `arguments`, capturing its output in a file.
llvm::Error runProgram(llvm::StringRef program,
                       llvm::ArrayRef<std::string> arguments,
                       llvm::StringRef what) {
  llvm::SmallString<128> logPath;
  if (std::error_code error =
          llvm::sys::fs::createTemporaryFile("rillc-link", "log", logPath))
    return makeError("cannot create a temporary file: " + error.message());
  llvm::FileRemover removeLog(logPath);

  llvm::SmallVector<llvm::StringRef> argv;
  for (const std::string &argument : arguments)
    argv.push_back(argument);
  std::optional<llvm::StringRef> redirects[] = {
      std::nullopt, llvm::StringRef(logPath), llvm::StringRef(logPath)};
  std::string errorMessage;
  int code = llvm::sys::ExecuteAndWait(program, argv, std::nullopt, redirects,
                                       /*SecondsToWait=*/0, /*MemoryLimit=*/0,
                                       &errorMessage);
  if (code == 0)
    return llvm::Error::success();

  std::string log;
  if (auto buffer = llvm::MemoryBuffer::getFile(logPath))
    log = (*buffer)->getBuffer().take_back(4000).str();
  return makeError(what + " failed (" + program + " exited with " +
                   std::to_string(code) +
                   (errorMessage.empty() ? "" : ", " + errorMessage) +
                   "):\n" + log);
}

} // namespace

llvm::Error mlir::rill::linkModelLibrary(llvm::StringRef objectPath,
                                         llvm::StringRef glueSource,
                                         llvm::StringRef outputPath,
                                         const LinkOptions &options) {
  llvm::Expected<std::string> compiler = findCompiler(options);
  if (!compiler)
    return compiler.takeError();

  llvm::SmallString<128> gluePath;
  if (std::error_code error =
          llvm::sys::fs::createTemporaryFile("rillc-glue", "c", gluePath))
    return makeError("cannot create a temporary file: " + error.message());
  llvm::FileRemover removeGlue(gluePath);
  {
    std::error_code error;
    llvm::raw_fd_ostream glue(gluePath, error);
    if (error)
      return makeError("cannot write '" + gluePath + "': " + error.message());
    glue << glueSource;
  }

  // The glue is plain C11 (it uses _Thread_local). -Bsymbolic binds the
  // library's calls of its own functions locally: a compiled function named
  // like a libc symbol (glibc exports `step`) must not resolve to libc.
  std::vector<std::string> arguments = {
      *compiler,        "-shared",          "-fPIC",
      "-O2",            "-std=c11",         "-Wall",
      "-Wl,-Bsymbolic",
      "-Wno-unused-function", "-x",         "c",
      gluePath.str().str(), "-x",           "none",
      objectPath.str(), "-o",               outputPath.str(),
      "-lm"};
  if (options.openMP) {
    arguments.push_back("-lomp");
  }
  return runProgram(*compiler, arguments,
                    ("linking '" + outputPath + "'").str());
}
