//===- Driver.cpp - The rillc compile pipeline ----------------------------===//
//
// Implements compileModel: option checks, ONNX import, the Rill graph
// passes, lowering, and emission of MLIR, LLVM IR, object files or shared
// libraries. Graph passes that other parts of Rill add later
// (rill-fuse-attention, rill-streamify) are looked up in the pass registry
// by name, so the driver uses them as soon as they are built in.
//
//===----------------------------------------------------------------------===//

#include "rill/Driver/Driver.h"

#include "rill/Conversion/CPUPipeline/CPUPipeline.h"
#include "rill/Conversion/ModelCodegen/ModelCodegen.h"
#include "rill/Conversion/Pipelines.h"
#include "rill/Dialect/Rill/IR/RillAttrs.h"
#include "rill/Dialect/Rill/Utils/MaskPattern.h"
#include "rill/Import/ONNX/ONNXImporter.h"
#include "rill/InitAllDialects.h"
#include "rill/InitAllPasses.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::rill;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The sinks and window sizes that a mask pattern names at its top level,
/// e.g. 4 and 252 for `sinks(4)|window(252)`.
struct MaskGeometry {
  int64_t sinks = 0;
  int64_t window = 0;
};

void collectMaskGeometry(Attribute mask, MaskGeometry &geometry) {
  if (auto sinks = dyn_cast<SinksAttr>(mask)) {
    geometry.sinks = std::max(geometry.sinks, sinks.getCount());
  } else if (auto window = dyn_cast<WindowAttr>(mask)) {
    geometry.window = std::max(geometry.window, window.getLeft() + 1);
  } else if (auto unionMask = dyn_cast<UnionAttr>(mask)) {
    for (Attribute member : unionMask.getMasks())
      collectMaskGeometry(member, geometry);
  } else if (auto intersection = dyn_cast<IntersectAttr>(mask)) {
    for (Attribute member : intersection.getMasks())
      collectMaskGeometry(member, geometry);
  }
}

/// Checks the option values that do not need the model.
llvm::Error checkOptions(const DriverOptions &options, MLIRContext &context,
                         MaskGeometry &geometry) {
  if (!options.policy.empty() &&
      !llvm::is_contained({"dense", "window", "recompute", "sinks"},
                          options.policy))
    return makeError("invalid --policy '" + options.policy +
                     "' (expected dense, window, recompute or sinks)");
  if (options.threads < 0)
    return makeError("invalid --threads " + std::to_string(options.threads) +
                     " (expected 0 for the OpenMP default or a positive "
                     "count)");
  if (!options.positionPolicy.empty() &&
      options.positionPolicy != "rotary" &&
      options.positionPolicy != "clamped-absolute" &&
      options.positionPolicy != "original")
    return makeError("invalid --position-policy '" + options.positionPolicy +
                     "' (expected rotary, clamped-absolute or original)");
  if (options.maxCapacity < 0)
    return makeError("invalid --max-capacity " +
                     std::to_string(options.maxCapacity) +
                     " (expected a positive number of cache slots)");
  if (options.target.optLevel > 3)
    return makeError("invalid -O" + std::to_string(options.target.optLevel) +
                     " (expected 0 to 3)");

  if (!options.maskPattern.empty()) {
    std::string message;
    FailureOr<MaskAttrInterface> mask = parseMaskPattern(
        &context, options.maskPattern,
        [&](const llvm::Twine &text) { message = text.str(); });
    if (failed(mask))
      return makeError("--mask: " + message);
    collectMaskGeometry(*mask, geometry);
  }

  if (options.inputPath.empty())
    return makeError("no input file; pass the ONNX model to compile");
  if (!llvm::sys::fs::exists(options.inputPath))
    return makeError("cannot open '" + options.inputPath +
                     "': no such file; pass the path of an .onnx model");
  if (llvm::sys::fs::is_directory(options.inputPath))
    return makeError("'" + options.inputPath +
                     "' is a directory; pass the path of an .onnx model");
  return llvm::Error::success();
}

/// Returns the one public function that contains the imported graph.
FailureOr<func::FuncOp> findGraphFunction(ModuleOp module) {
  func::FuncOp found;
  for (auto function : module.getOps<func::FuncOp>()) {
    if (function.isPrivate() || function.isExternal())
      continue;
    if (found)
      return failure();
    found = function;
  }
  if (!found)
    return failure();
  return found;
}

/// Returns the KV-cache layout of a decoder exported in Hugging Face optimum's
/// layout: inputs `past_key_values.<layer>.key/value` [batch, kv_heads,
/// past, head_dim] and an output `logits` [batch, seq, vocab].
std::optional<StreamingGeometry> findDecoderGeometry(const EntrySignature &graph) {
  StreamingGeometry geometry;
  for (const TensorSignature &input : graph.arguments) {
    llvm::StringRef name = input.name;
    if (!name.consume_front("past_key_values.") || input.shape.size() != 4)
      continue;
    if (name.ends_with(".key")) {
      ++geometry.numLayers;
      geometry.numKvHeads = input.shape[1];
      geometry.headDim = input.shape[3];
    } else if (name.ends_with(".value")) {
      geometry.valueDim = input.shape[3];
    }
  }
  for (const TensorSignature &output : graph.results)
    if (output.name == "logits" && output.shape.size() == 3)
      geometry.vocabSize = output.shape[2];
  if (geometry.numLayers == 0 || geometry.vocabSize <= 0 ||
      geometry.numKvHeads <= 0 || geometry.headDim <= 0 ||
      geometry.valueDim <= 0)
    return std::nullopt;
  return geometry;
}

/// Adds the registered pass `name` to `pm`. Returns false if no pass of
/// that name is built in.
bool addPassIfRegistered(OpPassManager &pm, llvm::StringRef name,
                         llvm::StringRef options) {
  const PassInfo *info = PassInfo::lookup(name);
  if (!info)
    return false;
  return succeeded(info->addToPipeline(pm, options, [](const llvm::Twine &message) {
    llvm::WithColor::error(llvm::errs(), "rillc") << message << "\n";
    return failure();
  }));
}

std::string getDefaultPolicy(const DriverOptions &options,
                             const MaskGeometry &geometry) {
  if (!options.policy.empty())
    return options.policy;
  if (geometry.sinks > 0)
    return "sinks";
  if (geometry.window > 0)
    return "window";
  return "dense";
}

llvm::Error writeText(llvm::StringRef path,
                      llvm::function_ref<void(llvm::raw_ostream &)> write) {
  std::error_code error;
  llvm::ToolOutputFile output(path, error, llvm::sys::fs::OF_Text);
  if (error)
    return makeError("cannot open '" + path + "' for writing: " +
                     error.message());
  write(output.os());
  output.os().flush();
  if (output.os().has_error())
    return makeError("cannot write '" + path + "'");
  output.keep();
  return llvm::Error::success();
}

/// True if the LLVM module calls the OpenMP runtime.
bool usesOpenMPRuntime(const llvm::Module &module) {
  for (const llvm::Function &function : module)
    if (function.isDeclaration() && (function.getName().starts_with("__kmpc") ||
                                     function.getName().starts_with("omp_")))
      return true;
  return false;
}

/// Frees the data of the context's dense resource blobs (the model's
/// weights), except the blobs that `keep` still references when it is set.
/// Without this, the imported weights and their packed copies stay allocated
/// next to the LLVM module's copy until rillc exits.
void releaseResourceBlobs(MLIRContext &context, Operation *keep) {
  llvm::StringSet<> referenced;
  if (keep)
    keep->walk([&](Operation *op) {
      op->getAttrDictionary().walk([&](DenseResourceElementsAttr attr) {
        referenced.insert(attr.getRawHandle().getKey());
      });
    });
  DialectResourceBlobManager &blobs =
      DenseResourceElementsHandle::getManagerInterface(&context)
          .getBlobManager();
  std::vector<std::string> unused;
  blobs.getBlobMap([&](const llvm::StringMap<
                       DialectResourceBlobManager::BlobEntry> &entries) {
    for (const auto &entry : entries)
      if (!referenced.contains(entry.getKey()))
        unused.push_back(entry.getKey().str());
  });
  for (const std::string &key : unused)
    if (DialectResourceBlobManager::BlobEntry *entry = blobs.lookup(key))
      entry->setBlob(AsmResourceBlob());
}

/// Lowers `module` with the selected pipeline and translates it to
/// optimized LLVM IR. The module's weights are released on the way, so
/// `module` must not be used afterwards.
llvm::Expected<std::unique_ptr<llvm::Module>>
lowerToLLVMIR(ModuleOp module, const DriverOptions &options,
              llvm::LLVMContext &llvmContext) {
  PassManager lowering(module.getContext());
  if (options.pipeline == PipelineKind::Reference) {
    buildReferencePipeline(lowering);
  } else {
    // Matrix-product blocks sized for the target's registers: 6 x 2 AVX2
    // vectors (12 of 16 registers hold accumulators) or 6 x 4 AVX-512
    // vectors (24 of 32).
    llvm::Expected<int64_t> width = getTargetVectorWidth(options.target);
    if (!width)
      return width.takeError();
    CPUPipelineOptions pipelineOptions;
    pipelineOptions.matmulVectorWidth = *width;
    pipelineOptions.matmulRowTile = 6;
    pipelineOptions.matmulColumnVectors = *width == 16 ? 4 : 2;
    std::string parseErrors;
    llvm::raw_string_ostream parseStream(parseErrors);
    if (failed(pipelineOptions.parseFromString(options.cpuOptions,
                                               parseStream))) {
      // A value that does not parse is reported by the option parser
      // itself, on stderr, before this message.
      llvm::StringRef reason = llvm::StringRef(parseErrors).trim();
      if (reason.empty())
        reason = "a value does not parse (see the message above)";
      return makeError("invalid --cpu-options '" + options.cpuOptions +
                       "': " + reason +
                       "; see `rill-opt --help` under "
                       "--rill-cpu-pipeline for the option names");
    }
    buildCPUPipeline(lowering, pipelineOptions);
  }
  if (failed(lowering.run(module)))
    return makeError("lowering '" + options.inputPath +
                     "' to the LLVM dialect failed (see the diagnostics "
                     "above); --pipeline=reference is the simplest pipeline");
  // Free the weights that the pipeline replaced (the matrices next to their
  // packed copies) before the translation copies the rest into LLVM IR, and
  // the rest right after it.
  MLIRContext &context = *module.getContext();
  releaseResourceBlobs(context, module);
  return translateToOptimizedLLVMIR(
      module, llvmContext, options.target,
      [&] { releaseResourceBlobs(context, /*keep=*/nullptr); });
}

/// Writes LLVM IR text or an object file, as `options.emit` selects.
llvm::Error writeLLVMArtifact(llvm::Module &llvmModule,
                              const DriverOptions &options) {
  if (options.emit == EmitKind::LLVMIR)
    return writeText(options.outputPath, [&](llvm::raw_ostream &os) {
      llvmModule.print(os, nullptr);
    });
  return emitObjectFile(llvmModule, options.outputPath, options.target);
}

/// Compiles every public function of a tensor-level module (an .mlir
/// input) with a C interface, for --emit=mlir, llvm or obj.
llvm::Error compileFunctions(ModuleOp module, const DriverOptions &options) {
  if (options.emit == EmitKind::MLIR)
    return writeText(options.outputPath,
                     [&](llvm::raw_ostream &os) { module->print(os); });
  for (auto function : module.getOps<func::FuncOp>())
    if (function.isPublic() && !function.isExternal())
      function->setAttr("llvm.emit_c_interface",
                        UnitAttr::get(module.getContext()));
  llvm::LLVMContext llvmContext;
  llvm::Expected<std::unique_ptr<llvm::Module>> llvmModule =
      lowerToLLVMIR(module, options, llvmContext);
  if (!llvmModule)
    return llvmModule.takeError();
  return writeLLVMArtifact(**llvmModule, options);
}

} // namespace

EmitKind mlir::rill::getEmitKindForPath(llvm::StringRef path) {
  llvm::StringRef extension = llvm::sys::path::extension(path);
  return llvm::StringSwitch<EmitKind>(extension)
      .Case(".mlir", EmitKind::MLIR)
      .Case(".ll", EmitKind::LLVMIR)
      .Case(".o", EmitKind::Object)
      .Case(".c", EmitKind::Glue)
      .Default(EmitKind::SharedLibrary);
}

std::optional<PipelineKind> mlir::rill::parsePipelineKind(llvm::StringRef text) {
  if (text == "reference")
    return PipelineKind::Reference;
  if (text == "cpu")
    return PipelineKind::CPU;
  return std::nullopt;
}

llvm::Error mlir::rill::compileModel(const DriverOptions &options) {
  static bool registered = [] {
    mlir::rill::registerAllPasses();
    return true;
  }();
  (void)registered;

  DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::rill::registerAllDialects(registry);
  registerONNXImportDialects(registry);
  registerAllToLLVMIRTranslations(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  MaskGeometry maskGeometry;
  if (llvm::Error error = checkOptions(options, context, maskGeometry))
    return error;

  // Import, or parse a tensor-level module.
  OwningOpRef<ModuleOp> module;
  bool isMLIRInput = llvm::sys::path::extension(options.inputPath) == ".mlir";
  if (isMLIRInput) {
    module = parseSourceFile<ModuleOp>(options.inputPath, &context);
    if (!module)
      return makeError("cannot parse '" + options.inputPath +
                       "' (see the diagnostics above)");
    if (options.emit != EmitKind::SharedLibrary &&
        options.emit != EmitKind::Glue)
      return compileFunctions(*module, options);
  } else {
    ONNXImportOptions importOptions;
    module = importONNXModelFile(options.inputPath, &context, importOptions);
    if (!module)
      return makeError("cannot import '" + options.inputPath +
                       "' (see the diagnostics above)");
  }
  FailureOr<func::FuncOp> graph = findGraphFunction(*module);
  if (failed(graph))
    return makeError("'" + options.inputPath +
                     "' has no single public function to compile into a "
                     "model library");
  llvm::Expected<EntrySignature> graphSignature = describeEntry(*graph);
  if (!graphSignature)
    return makeError("'" + options.inputPath + "': " +
                     llvm::toString(graphSignature.takeError()));
  std::string graphName = graph->getSymName().str();

  // Graph passes.
  std::optional<StreamingGeometry> decoder =
      findDecoderGeometry(*graphSignature);
  bool haveStreamify = PassInfo::lookup("rill-streamify") != nullptr;
  bool streaming = false;
  if (options.streaming.value_or(true) && decoder && haveStreamify)
    streaming = true;
  if (options.streaming.value_or(false) && !streaming) {
    llvm::WithColor::warning(llvm::errs(), "rillc")
        << (decoder ? "this rillc has no rill-streamify pass"
                    : "'" + options.inputPath +
                          "' has no past_key_values inputs, so it is not a "
                          "decoder with a KV cache")
        << "; compiling the plain graph without streaming\n";
  }

  PassManager graphPasses(&context);
  addPassIfRegistered(graphPasses, "rill-fuse-attention", "");
  if (!options.maskPattern.empty()) {
    RillSetMaskPassOptions maskOptions;
    maskOptions.pattern = options.maskPattern;
    graphPasses.addPass(createRillSetMaskPass(maskOptions));
  }
  std::string streamifyOptions;
  if (!options.positionPolicy.empty())
    streamifyOptions = "position-policy=" + options.positionPolicy;
  if (streaming &&
      !addPassIfRegistered(graphPasses, "rill-streamify", streamifyOptions))
    return makeError("cannot add rill-streamify to the pipeline");
  if (failed(graphPasses.run(*module)))
    return makeError("the Rill graph passes failed on '" + options.inputPath +
                     "' (see the diagnostics above)");

  if (options.emit == EmitKind::MLIR)
    return writeText(options.outputPath,
                     [&](llvm::raw_ostream &os) { module->print(os); });

  // Entry points: the graph, and the step function of a streaming library.
  auto runFunction = module->lookupSymbol<func::FuncOp>(graphName);
  auto stepFunction =
      streaming ? module->lookupSymbol<func::FuncOp>("step") : func::FuncOp();
  if (streaming && !stepFunction)
    return makeError("rill-streamify produced no @step function for '" +
                     options.inputPath + "'");
  if (!runFunction)
    runFunction = stepFunction;
  if (!runFunction)
    return makeError("the graph function @" + graphName +
                     " disappeared during the graph passes");

  llvm::Expected<EntrySignature> run = describeEntry(runFunction);
  if (!run)
    return run.takeError();
  std::optional<EntrySignature> step;
  if (stepFunction) {
    llvm::Expected<EntrySignature> described = describeEntry(stepFunction);
    if (!described)
      return described.takeError();
    size_t caches = 2 * decoder->numLayers;
    if (described->arguments.size() != 4 + caches ||
        described->results.size() != 1 + caches)
      return makeError("@step has " +
                       std::to_string(described->arguments.size()) +
                       " arguments and " +
                       std::to_string(described->results.size()) +
                       " results (expected " + std::to_string(4 + caches) +
                       " and " + std::to_string(1 + caches) +
                       " for the step contract of docs/streaming.md)");
    step = std::move(*described);
  }
  for (func::FuncOp function : {runFunction, stepFunction})
    if (function)
      function->setAttr("llvm.emit_c_interface", UnitAttr::get(&context));

  llvm::LLVMContext llvmContext;
  llvm::Expected<std::unique_ptr<llvm::Module>> llvmModule =
      lowerToLLVMIR(*module, options, llvmContext);
  if (!llvmModule)
    return llvmModule.takeError();
  if (options.emit == EmitKind::LLVMIR || options.emit == EmitKind::Object)
    return writeLLVMArtifact(**llvmModule, options);

  // Metadata and glue.
  ModelLibraryMetadata metadata;
  metadata.modelName = graphName;
  metadata.sourceFile = options.inputPath;
  metadata.maskPattern = options.maskPattern;
  metadata.defaultPolicy = getDefaultPolicy(options, maskGeometry);
  metadata.defaultThreads = options.threads;
  metadata.targetCPU = resolveTargetCPU(options.target);
  metadata.pipeline =
      options.pipeline == PipelineKind::Reference ? "reference" : "cpu";
  if (!options.positionPolicy.empty())
    metadata.positionPolicy = options.positionPolicy;
  if (streaming) {
    StreamingGeometry geometry = *decoder;
    geometry.maxCapacity = options.maxCapacity > 0 ? options.maxCapacity : 4096;
    geometry.defaultSinks = maskGeometry.sinks;
    geometry.defaultCapacity = maskGeometry.window > 0
                                   ? maskGeometry.sinks + maskGeometry.window
                                   : std::min<int64_t>(geometry.maxCapacity, 1024);
    if (geometry.defaultCapacity > geometry.maxCapacity)
      return makeError("--mask '" + options.maskPattern + "' needs " +
                       std::to_string(geometry.defaultCapacity) +
                       " cache slots, more than --max-capacity " +
                       std::to_string(geometry.maxCapacity) +
                       "; raise --max-capacity");
    metadata.streaming = geometry;
  }
  bool openMP = usesOpenMPRuntime(**llvmModule);
  std::string glue =
      generateModelGlue(*run, step ? &*step : nullptr, metadata, openMP);
  if (options.emit == EmitKind::Glue)
    return writeText(options.outputPath,
                     [&](llvm::raw_ostream &os) { os << glue; });

  // Object file and link.
  llvm::SmallString<128> objectPath;
  if (std::error_code error =
          llvm::sys::fs::createTemporaryFile("rillc-model", "o", objectPath))
    return makeError("cannot create a temporary object file: " +
                     error.message());
  llvm::FileRemover removeObject(objectPath);
  if (llvm::Error error =
          emitObjectFile(**llvmModule, objectPath, options.target))
    return error;
  LinkOptions link = options.link;
  link.openMP = openMP;
  return linkModelLibrary(objectPath, glue, options.outputPath, link);
}
