//===- JitRunner.cpp - JIT-compile and call tensor functions ---*- C++ -*-===//
//
// Implements JitSession: parse, lower with the reference pipeline, JIT with
// mlir::ExecutionEngine, and call functions through their packed C
// interface. Memref descriptors are plain arrays of 64-bit words
// {allocated, aligned, offset, sizes[rank], strides[rank]} built from the
// function type at call time; returned descriptors are copied into numpy
// arrays and their buffers freed.
//
//===----------------------------------------------------------------------===//

#include "rill/ExecutionEngine/JitRunner.h"

#include "rill/Conversion/CPUPipeline/CPUPipeline.h"
#include "rill/Conversion/Pipelines.h"
#include "rill/InitAllDialects.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <mutex>

using namespace mlir;
using namespace mlir::rill;
using llvm::StringRef;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Collects the diagnostics of a context into a string while alive.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext *context)
      : stream(text), handler(context, [this](Diagnostic &diagnostic) {
          print(diagnostic);
          return success();
        }) {}

  std::string take() { return std::move(text); }

private:
  void print(Diagnostic &diagnostic) {
    stream << diagnostic.getLocation() << ": ";
    switch (diagnostic.getSeverity()) {
    case DiagnosticSeverity::Error:
      stream << "error: ";
      break;
    case DiagnosticSeverity::Warning:
      stream << "warning: ";
      break;
    case DiagnosticSeverity::Note:
      stream << "note: ";
      break;
    case DiagnosticSeverity::Remark:
      stream << "remark: ";
      break;
    }
    stream << diagnostic << "\n";
    for (Diagnostic &note : diagnostic.getNotes())
      print(note);
  }

  std::string text;
  llvm::raw_string_ostream stream;
  ScopedDiagnosticHandler handler;
};

/// Returns the numpy dtype that stores elements of the MLIR `type`, or
/// std::nullopt. bf16 maps to uint16 bit patterns because numpy has no
/// bfloat16. `alternative` receives the other dtype that arguments also
/// accept: unsigned for signless integers, int16 bit patterns for bf16.
std::optional<NumpyDType> getDTypeFor(Type type,
                                      std::optional<NumpyDType> &alternative) {
  alternative = std::nullopt;
  if (type.isF16())
    return NumpyDType::Float16;
  if (type.isBF16()) {
    alternative = NumpyDType::Int16;
    return NumpyDType::UInt16;
  }
  if (type.isF32())
    return NumpyDType::Float32;
  if (type.isF64())
    return NumpyDType::Float64;
  if (type.isIndex())
    return NumpyDType::Int64;
  auto integer = dyn_cast<IntegerType>(type);
  if (!integer)
    return std::nullopt;

  std::optional<NumpyDType> signedDType, unsignedDType;
  switch (integer.getWidth()) {
  case 1:
    return NumpyDType::Bool;
  case 8:
    signedDType = NumpyDType::Int8;
    unsignedDType = NumpyDType::UInt8;
    break;
  case 16:
    signedDType = NumpyDType::Int16;
    unsignedDType = NumpyDType::UInt16;
    break;
  case 32:
    signedDType = NumpyDType::Int32;
    unsignedDType = NumpyDType::UInt32;
    break;
  case 64:
    signedDType = NumpyDType::Int64;
    unsignedDType = NumpyDType::UInt64;
    break;
  default:
    return std::nullopt;
  }
  if (integer.isUnsigned())
    return unsignedDType;
  if (integer.isSignless())
    alternative = unsignedDType;
  return signedDType;
}

/// Describes the argument or result `type`, or returns why it is not
/// supported.
llvm::Expected<JitValueType> describeType(Type type) {
  JitValueType result;
  llvm::raw_string_ostream(result.typeName) << type;
  Type elementType = type;
  if (auto tensorType = dyn_cast<RankedTensorType>(type)) {
    elementType = tensorType.getElementType();
    result.shape.assign(tensorType.getShape().begin(),
                        tensorType.getShape().end());
  } else if (isa<ShapedType>(type) || !type.isIntOrIndexOrFloat()) {
    return makeError("type " + result.typeName +
                     " is not supported (expected a ranked tensor or an "
                     "integer, index or float scalar)");
  } else {
    result.isScalar = true;
  }
  std::optional<NumpyDType> dtype =
      getDTypeFor(elementType, result.alternativeDType);
  if (!dtype)
    return makeError("element type of " + result.typeName +
                     " has no numpy equivalent (expected f16, bf16, f32, "
                     "f64, i1, i8-i64 or index)");
  result.dtype = *dtype;
  return result;
}

/// Describes `type` for describeFunction. An unsupported type keeps its name
/// for listings, and the first reason goes to `unsupported` as
/// "<what>: <reason>".
JitValueType describeOrRecord(Type type, const std::string &what,
                              std::string &unsupported) {
  llvm::Expected<JitValueType> described = describeType(type);
  if (described)
    return std::move(*described);

  std::string reason = llvm::toString(described.takeError());
  if (unsupported.empty())
    unsupported = what + ": " + reason;
  JitValueType placeholder;
  llvm::raw_string_ostream(placeholder.typeName) << type;
  return placeholder;
}

/// Extracts the signature of `function`; `unsupported` receives the reason
/// when an argument or result type cannot be passed.
JitFunction describeFunction(func::FuncOp function, std::string &unsupported) {
  JitFunction result;
  result.name = function.getSymName().str();
  FunctionType type = function.getFunctionType();

  for (auto [index, argumentType] : llvm::enumerate(type.getInputs())) {
    auto name = function.getArgAttrOfType<StringAttr>(index, kJitNameAttrName);
    result.argumentNames.push_back(name ? name.str()
                                        : "arg" + std::to_string(index));
    result.arguments.push_back(describeOrRecord(
        argumentType, "argument " + std::to_string(index), unsupported));
  }

  for (auto [index, resultType] : llvm::enumerate(type.getResults())) {
    auto name =
        function.getResultAttrOfType<StringAttr>(index, kJitNameAttrName);
    result.resultNames.push_back(name ? name.str()
                                      : "result" + std::to_string(index));
    result.results.push_back(describeOrRecord(
        resultType, "result " + std::to_string(index), unsupported));
  }
  return result;
}

/// Formats `shape` as text, "?" marking dynamic dimensions ("[2, ?, 4]").
std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (auto [index, dim] : llvm::enumerate(shape)) {
    if (index)
      text += ", ";
    text += ShapedType::isDynamic(dim) ? "?" : std::to_string(dim);
  }
  return text + "]";
}

/// Checks that `array` can be passed as a value of `type`.
llvm::Error checkArgument(const JitFunction &function, size_t index,
                          const NumpyArray &array) {
  const JitValueType &type = function.arguments[index];
  std::string label =
      llvm::formatv("function @{0}, argument {1} ('{2}', {3})", function.name,
                    index, function.argumentNames[index], type.typeName);
  bool dtypeMatches =
      array.dtype == type.dtype || array.dtype == type.alternativeDType;
  if (!dtypeMatches) {
    std::string expected = getDTypeName(type.dtype).str();
    if (type.alternativeDType)
      expected += " or " + getDTypeName(*type.alternativeDType).str();
    return makeError(label + ": expected " + expected + " elements, got " +
                     array.describe());
  }

  if (type.isScalar) {
    if (array.getRank() != 0)
      return makeError(label + ": expected a 0-d array for the scalar, got " +
                       array.describe());
    return llvm::Error::success();
  }

  if (array.getRank() != static_cast<int64_t>(type.shape.size()))
    return makeError(label + ": expected rank " +
                     llvm::Twine(type.shape.size()) + " " +
                     formatShape(type.shape) + ", got " + array.describe());
  for (auto [dim, expected] : llvm::enumerate(type.shape)) {
    if (!ShapedType::isDynamic(expected) && array.shape[dim] != expected)
      return makeError(label + ": expected dimension " + llvm::Twine(dim) +
                       " to be " + llvm::Twine(expected) + ", got " +
                       array.describe());
  }
  return llvm::Error::success();
}

/// Returns the size and alignment in bytes of a value in the LLVM lowering:
/// a memref descriptor for tensors, the scalar itself otherwise.
std::pair<size_t, size_t> getLoweredSizeAndAlignment(const JitValueType &type) {
  if (type.isScalar) {
    size_t size = getDTypeSize(type.dtype);
    return {size, size};
  }
  return {sizeof(int64_t) * (3 + 2 * type.shape.size()), sizeof(int64_t)};
}

/// Copies the strided memref described by `descriptor` into a new array.
NumpyArray copyFromDescriptor(const JitValueType &type,
                              const int64_t *descriptor) {
  size_t rank = type.shape.size();
  auto *aligned = reinterpret_cast<const uint8_t *>(descriptor[1]);
  int64_t offset = descriptor[2];
  llvm::ArrayRef<int64_t> sizes(descriptor + 3, rank);
  llvm::ArrayRef<int64_t> strides(descriptor + 3 + rank, rank);
  size_t elementSize = getDTypeSize(type.dtype);

  NumpyArray array(type.dtype, sizes);
  int64_t count = array.getNumElements();
  llvm::SmallVector<int64_t> index(rank, 0);
  for (int64_t linear = 0; linear < count; ++linear) {
    int64_t elementOffset = offset;
    for (size_t dim = 0; dim < rank; ++dim)
      elementOffset += index[dim] * strides[dim];
    std::memcpy(array.bytes.data() + linear * elementSize,
                aligned + elementOffset * elementSize, elementSize);
    // Advance the C-order multi-index.
    for (size_t dim = rank; dim-- > 0;) {
      if (++index[dim] < sizes[dim])
        break;
      index[dim] = 0;
    }
  }
  return array;
}

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

} // namespace

//===----------------------------------------------------------------------===//
// JitSession
//===----------------------------------------------------------------------===//

JitSession::JitSession() = default;
JitSession::~JitSession() = default;

void mlir::rill::registerJitDialects(DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  rill::registerAllDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

llvm::Expected<std::unique_ptr<JitSession>>
JitSession::createFromFile(StringRef path, const JitOptions &options) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFileOrSTDIN(path);
  if (!buffer)
    return makeError("cannot read '" + path +
                     "': " + buffer.getError().message());
  return createFromSource((*buffer)->getBuffer(), path, options);
}

llvm::Expected<std::unique_ptr<JitSession>>
JitSession::createFromSource(StringRef source, StringRef bufferName,
                             const JitOptions &options) {
  DialectRegistry registry;
  registerJitDialects(registry);
  MLIRContext context(registry);

  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source, bufferName), llvm::SMLoc());
  std::string diagnostics;
  llvm::raw_string_ostream diagnosticStream(diagnostics);
  OwningOpRef<ModuleOp> module;
  {
    SourceMgrDiagnosticHandler handler(sourceMgr, &context, diagnosticStream);
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  }
  if (!module)
    return makeError("cannot parse '" + bufferName + "':\n" + diagnostics);
  return compileOwned(*module, options);
}

llvm::Expected<std::unique_ptr<JitSession>>
JitSession::create(ModuleOp module, const JitOptions &options) {
  DialectRegistry registry;
  registerJitDialects(registry);
  module->getContext()->appendDialectRegistry(registry);
  OwningOpRef<ModuleOp> copy = module.clone();
  return compileOwned(*copy, options);
}

llvm::Expected<std::unique_ptr<JitSession>>
JitSession::compileOwned(ModuleOp module, const JitOptions &options) {
  std::unique_ptr<JitSession> session(new JitSession());
  MLIRContext *context = module->getContext();

  // Record the tensor-level signatures and request C wrappers for every
  // public function with a body.
  std::string unsupportedAll;
  for (auto function : module.getOps<func::FuncOp>()) {
    if (function.isExternal() || function.isPrivate())
      continue;
    std::string unsupported;
    JitFunction described = describeFunction(function, unsupported);
    described.unsupported = unsupported;
    session->functions.push_back(std::move(described));
    function->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                      UnitAttr::get(context));
  }

  {
    DiagnosticCollector collector(context);
    PassManager pm(context, ModuleOp::getOperationName());
    const char *pipelineName = "reference";
    if (options.cpuPipeline) {
      CPUPipelineOptions cpuOptions;
      cpuOptions.openMP = false;
      buildCPUPipeline(pm, cpuOptions);
      pipelineName = "CPU";
    } else {
      buildReferencePipeline(pm);
    }
    if (failed(pm.run(module)))
      return makeError(std::string("the ") + pipelineName +
                       " pipeline failed:\n" + collector.take());
  }
  if (options.loweredModuleOutput)
    module->print(*options.loweredModuleOutput);

  initializeNativeTarget();
  // The transformer must outlive ExecutionEngine::create, which only keeps
  // a function_ref to it.
  std::function<llvm::Error(llvm::Module *)> transformer =
      makeOptimizingTransformer(options.optLevel, /*sizeLevel=*/0,
                                /*targetMachine=*/nullptr);
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel =
      static_cast<llvm::CodeGenOptLevel>(std::min(options.optLevel, 3u));
  engineOptions.enableGDBNotificationListener = false;
  engineOptions.enablePerfNotificationListener = false;

  DiagnosticCollector collector(context);
  llvm::Expected<std::unique_ptr<ExecutionEngine>> engine =
      ExecutionEngine::create(module, engineOptions);
  if (!engine)
    return makeError(
        "JIT compilation failed: " + llvm::toString(engine.takeError()) + "\n" +
        collector.take());
  session->engine = std::move(*engine);

  // Non-contiguous memref.copy lowers to a call of memrefCopy from the MLIR
  // C runner utilities, which this library links.
  session->engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    symbols[interner("memrefCopy")] = {
        llvm::orc::ExecutorAddr::fromPtr(&memrefCopy),
        llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  return session;
}

const JitFunction *JitSession::lookupFunction(StringRef name) const {
  for (const JitFunction &function : functions)
    if (function.name == name)
      return &function;
  return nullptr;
}

llvm::Expected<std::vector<NamedArray>>
JitSession::call(StringRef name, llvm::ArrayRef<NumpyArray> arguments) {
  const JitFunction *function = lookupFunction(name);
  if (!function) {
    std::string available;
    for (const JitFunction &candidate : functions)
      available += (available.empty() ? "@" : ", @") + candidate.name;
    return makeError("function @" + name +
                     " not found; the module's public "
                     "functions are: " +
                     (available.empty() ? "(none)" : available));
  }
  if (!function->unsupported.empty())
    return makeError("function @" + name +
                     " cannot be called: " + function->unsupported);
  if (arguments.size() != function->arguments.size())
    return makeError("function @" + name + " expects " +
                     llvm::Twine(function->arguments.size()) +
                     " arguments, got " + llvm::Twine(arguments.size()));
  for (size_t index = 0; index < arguments.size(); ++index)
    if (llvm::Error error = checkArgument(*function, index, arguments[index]))
      return std::move(error);

  // Arguments: a descriptor per tensor (over a private copy of the data,
  // because the compiled code may update arguments in place) and the value
  // itself per scalar. The packed interface takes a pointer to each C
  // argument, and a C tensor argument is a pointer to its descriptor.
  size_t numArguments = arguments.size();
  std::vector<std::vector<uint8_t>> data(numArguments);
  std::vector<llvm::SmallVector<int64_t>> descriptors(numArguments);
  std::vector<void *> descriptorPointers(numArguments);
  llvm::SmallVector<void *> packed;
  alignas(64) static uint8_t emptyStorage[64];
  llvm::DenseSet<const void *> inputPointers;

  for (size_t index = 0; index < numArguments; ++index) {
    const NumpyArray &array = arguments[index];
    data[index] = array.bytes;
    uint8_t *pointer = data[index].empty() ? emptyStorage : data[index].data();
    if (function->arguments[index].isScalar) {
      packed.push_back(pointer);
      continue;
    }
    inputPointers.insert(pointer);
    llvm::SmallVector<int64_t> &descriptor = descriptors[index];
    descriptor.push_back(reinterpret_cast<int64_t>(pointer));
    descriptor.push_back(reinterpret_cast<int64_t>(pointer));
    descriptor.push_back(0);
    descriptor.append(array.shape.begin(), array.shape.end());
    llvm::SmallVector<int64_t> strides(array.shape.size(), 1);
    for (size_t dim = array.shape.size(); dim-- > 1;)
      strides[dim - 1] = strides[dim] * std::max<int64_t>(array.shape[dim], 1);
    descriptor.append(strides.begin(), strides.end());
    descriptorPointers[index] = descriptor.data();
    packed.push_back(&descriptorPointers[index]);
  }

  // Results: the C wrapper returns a lone scalar directly (the packed
  // interface stores it through the last pointer) and anything else
  // through a struct pointer passed as its first argument.
  const std::vector<JitValueType> &resultTypes = function->results;
  bool resultThroughPointer =
      resultTypes.size() > 1 ||
      (resultTypes.size() == 1 && !resultTypes.front().isScalar);
  llvm::SmallVector<size_t> resultOffsets;
  size_t structSize = 0;
  for (const JitValueType &type : resultTypes) {
    auto [size, alignment] = getLoweredSizeAndAlignment(type);
    structSize = llvm::alignTo(structSize, alignment);
    resultOffsets.push_back(structSize);
    structSize += size;
  }
  std::vector<int64_t> resultStorage((structSize + 7) / 8 + 1, 0);
  void *resultPointer = resultStorage.data();
  if (resultThroughPointer)
    packed.insert(packed.begin(), &resultPointer);
  else if (!resultTypes.empty())
    packed.push_back(resultPointer);

  std::string wrapperName = "_mlir_ciface_" + name.str();
  if (llvm::Error error = engine->invokePacked(wrapperName, packed))
    return makeError("calling @" + name +
                     " failed: " + llvm::toString(std::move(error)));

  // Copy the results out, then free each buffer the compiled code
  // allocated, once, and never a caller's input or a global constant
  // (whose descriptors carry 0xdeadbeef as the allocated pointer).
  std::vector<NamedArray> results;
  llvm::DenseSet<void *> freed;
  auto *resultBytes = reinterpret_cast<const uint8_t *>(resultStorage.data());
  for (auto [index, type] : llvm::enumerate(resultTypes)) {
    const uint8_t *field = resultBytes + resultOffsets[index];
    if (type.isScalar) {
      NumpyArray array(type.dtype, {});
      std::memcpy(array.bytes.data(), field, getDTypeSize(type.dtype));
      results.push_back({function->resultNames[index], std::move(array)});
      continue;
    }
    const auto *descriptor = reinterpret_cast<const int64_t *>(field);
    results.push_back(
        {function->resultNames[index], copyFromDescriptor(type, descriptor)});
    auto *allocated = reinterpret_cast<void *>(descriptor[0]);
    if (allocated && reinterpret_cast<uintptr_t>(allocated) != 0xdeadbeef &&
        !inputPointers.contains(allocated) && freed.insert(allocated).second)
      std::free(allocated);
  }
  return results;
}

llvm::Expected<std::vector<NamedArray>>
JitSession::callWithNamedInputs(StringRef name,
                                llvm::ArrayRef<NamedArray> inputs) {
  const JitFunction *function = lookupFunction(name);
  if (!function)
    return call(name, {});

  std::vector<NumpyArray> arguments;
  llvm::DenseSet<size_t> used;
  auto findInput = [&](StringRef key) -> std::optional<size_t> {
    for (auto [index, input] : llvm::enumerate(inputs))
      if (input.name == key)
        return index;
    return std::nullopt;
  };
  auto listInputs = [&] {
    std::string names;
    for (const NamedArray &input : inputs)
      names += (names.empty() ? "" : ", ") + input.name;
    return names.empty() ? std::string("(none)") : names;
  };

  for (size_t index = 0; index < function->arguments.size(); ++index) {
    const std::string &argumentName = function->argumentNames[index];
    std::optional<size_t> found = findInput(argumentName);
    std::string positional = "arg" + std::to_string(index);
    if (!found && argumentName != positional)
      found = findInput(positional);
    if (!found)
      return makeError("function @" + name + ": missing input '" +
                       argumentName + "' for argument " + llvm::Twine(index) +
                       " (" + function->arguments[index].typeName +
                       "); the inputs are: " + listInputs());
    used.insert(*found);
    arguments.push_back(inputs[*found].array);
  }

  for (auto [index, input] : llvm::enumerate(inputs)) {
    if (used.contains(index))
      continue;
    std::string expected;
    for (const std::string &argumentName : function->argumentNames)
      expected += (expected.empty() ? "" : ", ") + argumentName;
    return makeError("input '" + input.name + "' matches no argument of @" +
                     name + " (arguments: " +
                     (expected.empty() ? std::string("none") : expected) + ")");
  }
  return call(name, arguments);
}

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

namespace {

/// Prints nested lists of an array's elements, numpy style.
class ArrayPrinter {
public:
  ArrayPrinter(llvm::raw_ostream &os, const NumpyArray &array,
               int64_t maxElements)
      : os(os), array(array), maxElements(maxElements) {}

  void print() {
    if (array.getRank() == 0) {
      printElement(0);
      return;
    }
    printDimension(0, 0);
  }

private:
  void printElement(int64_t index) {
    double value = array.getAsDouble(index);
    switch (array.dtype) {
    case NumpyDType::Bool:
      os << (value != 0.0 ? "True" : "False");
      break;
    case NumpyDType::Float16:
    case NumpyDType::Float32:
      os << llvm::format("%.8g", value);
      break;
    case NumpyDType::Float64:
      os << llvm::format("%.17g", value);
      break;
    case NumpyDType::UInt64: {
      uint64_t raw;
      std::memcpy(&raw, array.bytes.data() + index * 8, 8);
      os << raw;
      break;
    }
    case NumpyDType::Int64: {
      int64_t raw;
      std::memcpy(&raw, array.bytes.data() + index * 8, 8);
      os << raw;
      break;
    }
    default:
      os << static_cast<int64_t>(value);
      break;
    }
  }

  void printDimension(size_t dim, int64_t base) {
    os << "[";
    int64_t stride = 1;
    for (size_t inner = dim + 1; inner < array.shape.size(); ++inner)
      stride *= array.shape[inner];
    for (int64_t i = 0; i < array.shape[dim]; ++i) {
      if (printed >= maxElements) {
        os << "...";
        break;
      }
      if (i)
        os << (dim + 1 == array.shape.size() ? ", " : ",\n ");
      if (dim + 1 == array.shape.size()) {
        printElement(base + i);
        ++printed;
      } else {
        printDimension(dim + 1, base + i * stride);
      }
    }
    os << "]";
  }

  llvm::raw_ostream &os;
  const NumpyArray &array;
  int64_t maxElements;
  int64_t printed = 0;
};

} // namespace

void mlir::rill::printArray(llvm::raw_ostream &os, const NumpyArray &array,
                            int64_t maxElements) {
  ArrayPrinter(os, array, maxElements).print();
}
