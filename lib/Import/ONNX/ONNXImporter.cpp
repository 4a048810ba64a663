//===- ONNXImporter.cpp - Import ONNX models into MLIR --------------------===//
//
// Reads a ModelProto with libonnx's generated protobuf classes (no schema
// registry, so any opset and vendor domain parses), checks every node
// against the table of supported operators, then walks the main graph in
// order and builds one `func.func`. Initializers become constants when
// first used: small ones as dense attributes, the rest as `dense_resource`
// blobs that take over the protobuf's raw bytes or map external data files
// without copying.
//
//===----------------------------------------------------------------------===//

#include "rill/Import/ONNX/ONNXImporter.h"

#include "GraphImporter.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "rill/Dialect/Rill/IR/RillDialect.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include <fcntl.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::rill;
using namespace mlir::rill::onnx_import;

//===----------------------------------------------------------------------===//
// Data types
//===----------------------------------------------------------------------===//

Type mlir::rill::onnx_import::convertElementType(MLIRContext *ctx,
                                                 int32_t onnxType) {
  Builder b(ctx);
  switch (onnxType) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::DOUBLE:
    return b.getF64Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  // NOTE: unsigned types map to signless integers, and arithmetic on them
  // (division, comparison, widening) uses signed semantics.
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
    return b.getIntegerType(8);
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::UINT16:
    return b.getIntegerType(16);
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::UINT32:
    return b.getIntegerType(32);
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT64:
    return b.getIntegerType(64);
  default:
    return {};
  }
}

std::string mlir::rill::onnx_import::getDataTypeName(int32_t onnxType) {
  if (onnx::TensorProto::DataType_IsValid(onnxType))
    return onnx::TensorProto::DataType_Name(
        static_cast<onnx::TensorProto::DataType>(onnxType));
  return "data type " + std::to_string(onnxType);
}

static std::string formatType(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

//===----------------------------------------------------------------------===//
// NodeContext
//===----------------------------------------------------------------------===//

NodeContext::NodeContext(GraphImporter &importer, const onnx::NodeProto &node,
                         int64_t index, Location loc, int64_t opset)
    : importer(importer), node(node), index(index), loc(loc), opset(opset) {}

OpBuilder &NodeContext::getBuilder() { return importer.getBuilder(); }

int64_t NodeContext::getNumInputs() const {
  int64_t n = node.input_size();
  while (n > 0 && node.input(n - 1).empty())
    --n;
  return n;
}

bool NodeContext::hasInput(int64_t i) const {
  return i < node.input_size() && !node.input(i).empty();
}

FailureOr<TensorValue> NodeContext::getInput(int64_t i) {
  if (!hasInput(i)) {
    emitError() << "expects input " << i << " but it is missing";
    return failure();
  }
  std::optional<TensorValue> value = importer.lookup(node.input(i));
  if (!value) {
    emitError() << "input '" << node.input(i)
                << "' is not defined by any graph input, initializer or "
                   "earlier node";
    return failure();
  }
  return *value;
}

std::optional<TensorValue> NodeContext::getOptionalInput(int64_t i) {
  if (!hasInput(i))
    return std::nullopt;
  return importer.lookup(node.input(i));
}

bool NodeContext::hasOutput(int64_t i) const {
  return i < node.output_size() && !node.output(i).empty();
}

void NodeContext::setOutput(int64_t i, TensorValue value) {
  if (hasOutput(i))
    importer.define(node.output(i), std::move(value));
}

const onnx::AttributeProto *
NodeContext::getAttribute(llvm::StringRef name) const {
  for (const onnx::AttributeProto &attr : node.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

int64_t NodeContext::getInt(llvm::StringRef name, int64_t defaultValue) const {
  const onnx::AttributeProto *attr = getAttribute(name);
  return attr ? attr->i() : defaultValue;
}

float NodeContext::getFloat(llvm::StringRef name, float defaultValue) const {
  const onnx::AttributeProto *attr = getAttribute(name);
  return attr ? attr->f() : defaultValue;
}

std::string NodeContext::getString(llvm::StringRef name,
                                   llvm::StringRef defaultValue) const {
  const onnx::AttributeProto *attr = getAttribute(name);
  return attr ? attr->s() : defaultValue.str();
}

std::optional<SmallVector<int64_t>>
NodeContext::getInts(llvm::StringRef name) const {
  const onnx::AttributeProto *attr = getAttribute(name);
  if (!attr)
    return std::nullopt;
  return SmallVector<int64_t>(attr->ints().begin(), attr->ints().end());
}

std::string mlir::rill::onnx_import::describeNode(const onnx::NodeProto &node,
                                                 int64_t index) {
  std::string name = node.name().empty()
                         ? "#" + std::to_string(index) + " (unnamed)"
                         : "'" + node.name() + "'";
  return "node " + name + " (" + node.op_type() + ")";
}

InFlightDiagnostic NodeContext::emitError() {
  return mlir::emitError(loc) << describeNode(node, index) << ": ";
}

FailureOr<int64_t> NodeContext::normalizeAxis(int64_t axis, int64_t rank) {
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) {
    emitError() << "axis " << axis << " is out of range for rank " << rank;
    return failure();
  }
  return normalized;
}

FailureOr<Dims> NodeContext::getInputElements(int64_t i,
                                              llvm::StringRef what) {
  FailureOr<TensorValue> input = getInput(i);
  if (failed(input))
    return failure();
  if (input->elements)
    return *input->elements;

  // A shape vector known only at run time is read element by element.
  RankedTensorType type = input->getType();
  bool isSmallVector =
      type.getRank() <= 1 && type.hasStaticShape() &&
      type.getNumElements() <= kMaxTrackedElements &&
      type.getElementType().isSignlessInteger() &&
      !type.getElementType().isInteger(1);
  if (!isSmallVector) {
    emitError() << what << " must be a 0-D or 1-D integer tensor with at "
                << "most " << kMaxTrackedElements
                << " elements and a static length (got " << type << ")";
    return failure();
  }
  OpBuilder &b = getBuilder();
  Dims elements;
  for (int64_t i = 0; i < type.getNumElements(); ++i) {
    SmallVector<Value> indices;
    if (type.getRank() == 1)
      indices.push_back(arith::ConstantIndexOp::create(b, loc, i));
    Value element = tensor::ExtractOp::create(b, loc, input->value, indices);
    elements.push_back(
        arith::IndexCastOp::create(b, loc, b.getIndexType(), element)
            .getResult());
  }
  return elements;
}

FailureOr<SmallVector<int64_t>>
NodeContext::getConstantInputInts(int64_t i, llvm::StringRef what) {
  FailureOr<Dims> elements = getInputElements(i, what);
  if (failed(elements))
    return failure();
  SmallVector<int64_t> result;
  for (OpFoldResult e : *elements) {
    std::optional<int64_t> c = getConstant(e);
    if (!c) {
      emitError() << what
                  << " must be a constant (an initializer, a Constant node "
                     "or computable from static shapes)";
      return failure();
    }
    result.push_back(*c);
  }
  return result;
}

//===----------------------------------------------------------------------===//
// GraphImporter: values and constants
//===----------------------------------------------------------------------===//

GraphImporter::GraphImporter(MLIRContext *ctx, llvm::StringRef modelPath,
                             llvm::StringRef modelDir,
                             int64_t maxDenseElements)
    : builder(ctx), modelPath(modelPath.str()), modelDir(modelDir.str()),
      maxDenseElements(maxDenseElements) {}

void GraphImporter::define(const std::string &name, TensorValue value) {
  values[name] = std::move(value);
}

void GraphImporter::addInitializer(onnx::TensorProto *tensor) {
  initializers[tensor->name()] = tensor;
}

std::optional<TensorValue> GraphImporter::lookup(const std::string &name) {
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  auto init = initializers.find(name);
  if (init == initializers.end())
    return std::nullopt;

  Location loc = NameLoc::get(builder.getStringAttr(name),
                              FileLineColLoc::get(builder.getContext(),
                                                  modelPath, 0, 0));
  if (failedInitializers.contains(name))
    return std::nullopt;
  FailureOr<TensorValue> value = importTensor(*init->second, loc);
  if (failed(value)) {
    failedInitializers.insert(name);
    return std::nullopt;
  }
  values[name] = *value;
  return *value;
}

TensorValue GraphImporter::makeElementsValue(Location loc, Dims elements,
                                             RankedTensorType type) {
  Value value = materializeElements(builder, loc, elements, type);
  return TensorValue{value, std::move(elements)};
}

/// Returns the number of bytes of one element as ONNX raw data stores it.
static int64_t getRawElementBytes(Type type) {
  if (type.isInteger(1))
    return 1;
  return type.getIntOrFloatBitWidth() / 8;
}

/// Packs the typed repeated fields of `tensor` into little-endian bytes.
static std::vector<char> packTypedData(const onnx::TensorProto &tensor,
                                       Type elementType) {
  std::vector<char> bytes;
  int64_t width = getRawElementBytes(elementType);
  auto append = [&](uint64_t bits) {
    for (int64_t i = 0; i < width; ++i)
      bytes.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  };
  switch (tensor.data_type()) {
  case onnx::TensorProto::FLOAT:
    for (float v : tensor.float_data()) {
      uint32_t bits;
      std::memcpy(&bits, &v, 4);
      append(bits);
    }
    break;
  case onnx::TensorProto::DOUBLE:
    for (double v : tensor.double_data()) {
      uint64_t bits;
      std::memcpy(&bits, &v, 8);
      append(bits);
    }
    break;
  case onnx::TensorProto::INT64:
    for (int64_t v : tensor.int64_data())
      append(static_cast<uint64_t>(v));
    break;
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    for (uint64_t v : tensor.uint64_data())
      append(v);
    break;
  default:
    // BOOL, INT8/16/32, UINT8/16, FLOAT16 and BFLOAT16 live in int32_data.
    for (int32_t v : tensor.int32_data())
      append(static_cast<uint32_t>(v));
    break;
  }
  return bytes;
}

/// Returns a blob key made of identifier characters.
static std::string sanitizeBlobName(llvm::StringRef name) {
  std::string key;
  for (char c : name)
    key.push_back(llvm::isAlnum(c) || c == '_' || c == '.' ? c : '_');
  if (key.empty() || !(llvm::isAlpha(key[0]) || key[0] == '_'))
    key.insert(key.begin(), '_');
  return key;
}

/// Builds a dense attribute from little-endian raw bytes.
static DenseElementsAttr getDenseFromRaw(RankedTensorType type,
                                         ArrayRef<char> bytes) {
  Type elementType = type.getElementType();
  if (elementType.isInteger(1)) {
    SmallVector<bool> bits;
    for (char c : bytes)
      bits.push_back(c != 0);
    return DenseElementsAttr::get(type, bits);
  }
  return DenseElementsAttr::getFromRawBuffer(type, bytes);
}

/// Returns the tracked elements of a small integer constant.
static std::optional<Dims> getTrackedElements(Builder &b,
                                              DenseElementsAttr attr) {
  auto type = cast<RankedTensorType>(attr.getType());
  if (!type.getElementType().isIntOrIndex() || type.getRank() > 1 ||
      type.getNumElements() > kMaxTrackedElements)
    return std::nullopt;
  Dims elements;
  for (APInt v : attr.getValues<APInt>())
    elements.push_back(b.getIndexAttr(
        type.getElementType().isInteger(1) ? v.getZExtValue()
                                           : v.getSExtValue()));
  return elements;
}

FailureOr<TensorValue> GraphImporter::importTensor(onnx::TensorProto &tensor,
                                                   Location loc) {
  MLIRContext *ctx = builder.getContext();
  Type elementType = convertElementType(ctx, tensor.data_type());
  if (!elementType) {
    mlir::emitError(loc) << "tensor '" << tensor.name() << "' has data type "
                         << getDataTypeName(tensor.data_type())
                         << ", which the importer does not support";
    return failure();
  }
  SmallVector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
  for (int64_t d : shape) {
    if (d < 0) {
      mlir::emitError(loc) << "tensor '" << tensor.name()
                           << "' has negative dimension " << d;
      return failure();
    }
  }
  auto type = RankedTensorType::get(shape, elementType);
  int64_t numElements = type.getNumElements();
  int64_t expectedBytes = numElements * getRawElementBytes(elementType);
  int64_t alignment = std::max<int64_t>(1, getRawElementBytes(elementType));

  // Locate the bytes: external file, raw_data or the typed fields.
  std::unique_ptr<llvm::MemoryBuffer> external;
  std::string *ownedRaw = nullptr;
  std::vector<char> packed;
  ArrayRef<char> bytes;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
      if (entry.key() == "location")
        location = entry.value();
      else if (entry.key() == "offset")
        offset = std::strtoll(entry.value().c_str(), nullptr, 10);
      else if (entry.key() == "length")
        length = std::strtoll(entry.value().c_str(), nullptr, 10);
    }
    if (location.empty()) {
      mlir::emitError(loc) << "tensor '" << tensor.name()
                           << "' has external data without a location";
      return failure();
    }
    if (llvm::sys::path::is_absolute(location)) {
      mlir::emitError(loc)
          << "tensor '" << tensor.name() << "' has external data at absolute "
          << "path '" << location
          << "'; external data must be a relative path inside the model's "
             "folder";
      return failure();
    }
    llvm::SmallString<256> normalized(location);
    llvm::sys::path::remove_dots(normalized, /*remove_dot_dot=*/true);
    if (llvm::StringRef(normalized).starts_with("..")) {
      mlir::emitError(loc)
          << "tensor '" << tensor.name() << "' has external data path '"
          << location
          << "' that leaves the model's folder; external data must be a "
             "relative path inside the model's folder";
      return failure();
    }
    llvm::SmallString<256> path(modelDir);
    llvm::sys::path::append(path, normalized);
    uint64_t fileSize = 0;
    if (llvm::sys::fs::file_size(path, fileSize)) {
      mlir::emitError(loc) << "tensor '" << tensor.name()
                           << "': cannot read external data file '" << path
                           << "'";
      return failure();
    }
    if (length < 0)
      length = static_cast<int64_t>(fileSize) - offset;
    if (offset < 0 || offset + length > static_cast<int64_t>(fileSize)) {
      mlir::emitError(loc) << "tensor '" << tensor.name()
                           << "': external data range [" << offset << ", "
                           << offset + length << ") exceeds the size "
                           << fileSize << " of '" << path << "'";
      return failure();
    }
    auto buffer = llvm::MemoryBuffer::getFileSlice(path, length, offset);
    if (!buffer) {
      mlir::emitError(loc) << "tensor '" << tensor.name()
                           << "': cannot read external data file '" << path
                           << "': " << buffer.getError().message();
      return failure();
    }
    external = std::move(*buffer);
    bytes = ArrayRef<char>(external->getBufferStart(),
                           external->getBufferSize());
  } else if (tensor.has_raw_data()) {
    bytes = ArrayRef<char>(tensor.raw_data().data(), tensor.raw_data().size());
  } else {
    packed = packTypedData(tensor, elementType);
    bytes = packed;
  }

  if (static_cast<int64_t>(bytes.size()) != expectedBytes) {
    mlir::emitError(loc) << "tensor '" << tensor.name() << "' of type "
                         << formatType(type) << " needs " << expectedBytes
                         << " bytes of data but has " << bytes.size();
    return failure();
  }

  // Small tensors and booleans become dense attributes.
  if (numElements <= maxDenseElements || elementType.isInteger(1)) {
    DenseElementsAttr attr = getDenseFromRaw(type, bytes);
    Value value = arith::ConstantOp::create(builder, loc, attr);
    return TensorValue{value, getTrackedElements(builder, attr)};
  }

  // Large tensors become blobs that own the bytes without copying them
  // when the bytes are suitably aligned.
  AsmResourceBlob blob;
  bool aligned =
      reinterpret_cast<uintptr_t>(bytes.data()) % alignment == 0;
  if (external && aligned) {
    auto *raw = external.release();
    blob = AsmResourceBlob(
        bytes, alignment,
        [raw](void *, size_t, size_t) { delete raw; },
        /*dataIsMutable=*/false);
  } else if (!external && tensor.has_raw_data() && aligned) {
    // Releasing keeps the heap buffer, so `bytes` is re-read from it.
    ownedRaw = tensor.release_raw_data();
    bytes = ArrayRef<char>(ownedRaw->data(), ownedRaw->size());
    blob = AsmResourceBlob(
        bytes, alignment,
        [ownedRaw](void *, size_t, size_t) { delete ownedRaw; },
        /*dataIsMutable=*/false);
  } else {
    blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignment);
  }
  auto attr = DenseResourceElementsAttr::get(
      type, sanitizeBlobName(tensor.name()), std::move(blob));
  Value value = arith::ConstantOp::create(builder, loc, attr);
  return TensorValue{value, std::nullopt};
}

//===----------------------------------------------------------------------===//
// Supported operators
//===----------------------------------------------------------------------===//

const std::vector<OpSupport> &mlir::rill::onnx_import::getSupportedOps() {
  static const std::vector<OpSupport> ops = [] {
    std::vector<OpSupport> all;
    appendElementwiseOps(all);
    appendShapeOps(all);
    appendReductionOps(all);
    appendAttentionOps(all);
    return all;
  }();
  return ops;
}

static llvm::StringRef normalizeDomain(llvm::StringRef domain) {
  return domain == "ai.onnx" ? llvm::StringRef() : domain;
}

static const OpSupport *findOp(llvm::StringRef domain, llvm::StringRef opType,
                               int64_t opset) {
  for (const OpSupport &op : getSupportedOps())
    if (normalizeDomain(domain) == op.domain && opType == op.opType &&
        opset >= op.minOpset && opset <= op.maxOpset)
      return &op;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Model import
//===----------------------------------------------------------------------===//

namespace {

/// Imports the main graph of one model into a module.
class ModelImporter {
public:
  ModelImporter(MLIRContext *ctx, onnx::ModelProto &model,
                llvm::StringRef displayName, llvm::StringRef modelDir,
                const ONNXImportOptions &options)
      : ctx(ctx), model(model), displayName(displayName.str()),
        options(options),
        graph(ctx, displayName, modelDir, options.maxDenseElements),
        fileLoc(FileLineColLoc::get(ctx, displayName, 0, 0)) {}

  OwningOpRef<ModuleOp> run();

private:
  int64_t getOpset(llvm::StringRef domain) const;
  LogicalResult checkSupported();
  FailureOr<RankedTensorType> convertValueType(const onnx::ValueInfoProto &info,
                                               llvm::StringRef what);
  LogicalResult checkDeclaredType(const onnx::ValueInfoProto &info,
                                  Value value, llvm::StringRef what);
  Location getNodeLoc(const onnx::NodeProto &node);
  LogicalResult importNode(const onnx::NodeProto &node, int64_t index);
  FailureOr<Value> reconcileOutput(const onnx::ValueInfoProto &info,
                                   Value value);

  MLIRContext *ctx;
  onnx::ModelProto &model;
  std::string displayName;
  const ONNXImportOptions &options;
  GraphImporter graph;
  Location fileLoc;
  llvm::StringMap<const onnx::ValueInfoProto *> valueInfos;
};

} // namespace

int64_t ModelImporter::getOpset(llvm::StringRef domain) const {
  for (const onnx::OperatorSetIdProto &id : model.opset_import())
    if (normalizeDomain(id.domain()) == normalizeDomain(domain))
      return id.version();
  // ONNX assumes opset 1 for a domain that the model does not import.
  return 1;
}

LogicalResult ModelImporter::checkSupported() {
  std::vector<std::string> unsupported;
  for (auto [index, node] : llvm::enumerate(model.graph().node())) {
    int64_t opset = getOpset(node.domain());
    if (findOp(node.domain(), node.op_type(), opset))
      continue;
    std::string domain = node.domain().empty() ? "ai.onnx" : node.domain();
    unsupported.push_back("  domain '" + domain + "', op '" +
                          node.op_type() + "', opset " +
                          std::to_string(opset) + ", " +
                          describeNode(node, index));
  }
  if (unsupported.empty())
    return success();
  InFlightDiagnostic diag = mlir::emitError(fileLoc)
                            << "model uses " << unsupported.size()
                            << " node(s) with unsupported operators:";
  for (const std::string &line : unsupported)
    diag << "\n" << line;
  return failure();
}

FailureOr<RankedTensorType>
ModelImporter::convertValueType(const onnx::ValueInfoProto &info,
                                llvm::StringRef what) {
  if (!info.type().has_tensor_type()) {
    mlir::emitError(fileLoc) << what << " '" << info.name()
                             << "' is not a tensor; only tensor values are "
                                "supported";
    return failure();
  }
  const onnx::TypeProto::Tensor &tensorType = info.type().tensor_type();
  Type elementType = convertElementType(ctx, tensorType.elem_type());
  if (!elementType) {
    mlir::emitError(fileLoc) << what << " '" << info.name()
                             << "' has data type "
                             << getDataTypeName(tensorType.elem_type())
                             << ", which the importer does not support";
    return failure();
  }
  if (!tensorType.has_shape()) {
    mlir::emitError(fileLoc) << what << " '" << info.name()
                             << "' has no shape; the importer needs the "
                                "rank of every graph input";
    return failure();
  }
  SmallVector<int64_t> shape;
  for (const onnx::TensorShapeProto::Dimension &dim :
       tensorType.shape().dim())
    shape.push_back(dim.has_dim_value() && dim.dim_value() >= 0
                        ? dim.dim_value()
                        : ShapedType::kDynamic);
  return RankedTensorType::get(shape, elementType);
}

LogicalResult ModelImporter::checkDeclaredType(
    const onnx::ValueInfoProto &info, Value value, llvm::StringRef what) {
  if (!info.type().has_tensor_type())
    return success();
  const onnx::TypeProto::Tensor &declared = info.type().tensor_type();
  auto actual = cast<RankedTensorType>(value.getType());
  Type declaredElement = convertElementType(ctx, declared.elem_type());
  if (declared.elem_type() != 0 && declaredElement &&
      declaredElement != actual.getElementType()) {
    mlir::emitError(fileLoc)
        << what << " '" << info.name() << "' is declared as "
        << getDataTypeName(declared.elem_type()) << " but the graph computes "
        << formatType(actual.getElementType());
    return failure();
  }
  if (!declared.has_shape())
    return success();
  if (declared.shape().dim_size() != actual.getRank()) {
    mlir::emitError(fileLoc)
        << what << " '" << info.name() << "' is declared with rank "
        << declared.shape().dim_size() << " but the graph computes "
        << formatType(actual);
    return failure();
  }
  for (int64_t i = 0; i < actual.getRank(); ++i) {
    const onnx::TensorShapeProto::Dimension &dim = declared.shape().dim(i);
    if (dim.has_dim_value() && !actual.isDynamicDim(i) &&
        dim.dim_value() != actual.getDimSize(i)) {
      mlir::emitError(fileLoc)
          << what << " '" << info.name() << "' is declared with size "
          << dim.dim_value() << " in dimension " << i
          << " but the graph computes " << formatType(actual)
          << " (inconsistent shapes)";
      return failure();
    }
  }
  return success();
}

FailureOr<Value> ModelImporter::reconcileOutput(const onnx::ValueInfoProto &info,
                                                Value value) {
  if (failed(checkDeclaredType(info, value, "graph output")))
    return failure();
  if (!info.type().has_tensor_type() ||
      !info.type().tensor_type().has_shape())
    return value;

  // Refine unknown sizes with the declared static ones.
  auto actual = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> refined(actual.getShape());
  const onnx::TensorShapeProto &shape = info.type().tensor_type().shape();
  for (int64_t i = 0; i < actual.getRank(); ++i)
    if (actual.isDynamicDim(i) && shape.dim(i).has_dim_value())
      refined[i] = shape.dim(i).dim_value();
  auto refinedType = actual.clone(refined);
  if (refinedType == actual)
    return value;
  return tensor::CastOp::create(graph.getBuilder(), value.getLoc(),
                                refinedType, value)
      .getResult();
}

Location ModelImporter::getNodeLoc(const onnx::NodeProto &node) {
  std::string name = node.name().empty() ? node.op_type() : node.name();
  return NameLoc::get(StringAttr::get(ctx, name), fileLoc);
}

LogicalResult ModelImporter::importNode(const onnx::NodeProto &node,
                                        int64_t index) {
  int64_t opset = getOpset(node.domain());
  const OpSupport *op = findOp(node.domain(), node.op_type(), opset);
  assert(op && "checkSupported accepted the node");
  Location loc = getNodeLoc(node);
  NodeContext context(graph, node, index, loc, opset);

  // Every named input must exist before the converter runs.
  for (int64_t i = 0; i < node.input_size(); ++i) {
    if (node.input(i).empty())
      continue;
    if (!graph.lookup(node.input(i))) {
      // A failed initializer import already reported its error.
      if (graph.hasFailedInitializer(node.input(i)))
        return failure();
      context.emitError() << "input '" << node.input(i)
                          << "' is not defined by any graph input, "
                             "initializer or earlier node";
      return failure();
    }
  }

  if (failed(op->converter(context)))
    return failure();

  for (int64_t i = 0; i < node.output_size(); ++i) {
    if (node.output(i).empty())
      continue;
    std::optional<TensorValue> result = graph.lookup(node.output(i));
    if (!result) {
      context.emitError() << "output " << i << " ('" << node.output(i)
                          << "') is not supported by the importer";
      return failure();
    }
    auto info = valueInfos.find(node.output(i));
    if (info != valueInfos.end() &&
        failed(checkDeclaredType(*info->second, result->value, "value")))
      return failure();
  }
  return success();
}

OwningOpRef<ModuleOp> ModelImporter::run() {
  if (!model.has_graph()) {
    mlir::emitError(fileLoc) << "not an ONNX model: the ModelProto has no "
                                "graph";
    return nullptr;
  }
  onnx::GraphProto &g = *model.mutable_graph();
  if (failed(checkSupported()))
    return nullptr;

  for (const onnx::ValueInfoProto &info : g.value_info())
    valueInfos[info.name()] = &info;
  llvm::StringSet<> initializerNames;
  for (onnx::TensorProto &tensor : *g.mutable_initializer()) {
    graph.addInitializer(&tensor);
    initializerNames.insert(tensor.name());
  }

  // Arguments: graph inputs that are not initializers.
  SmallVector<Type> argTypes;
  SmallVector<const onnx::ValueInfoProto *> argInfos;
  for (const onnx::ValueInfoProto &input : g.input()) {
    if (initializerNames.contains(input.name()))
      continue;
    FailureOr<RankedTensorType> type = convertValueType(input, "graph input");
    if (failed(type))
      return nullptr;
    argTypes.push_back(*type);
    argInfos.push_back(&input);
  }

  OpBuilder &b = graph.getBuilder();
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  b.setInsertionPointToEnd(module->getBody());
  std::string name = options.entryName;
  if (name.empty())
    name = g.name().empty() ? "main_graph" : g.name();
  auto func = func::FuncOp::create(b, fileLoc, name,
                                   b.getFunctionType(argTypes, {}));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToEnd(body);
  for (auto [i, info] : llvm::enumerate(argInfos)) {
    func.setArgAttr(i, "rill.name", b.getStringAttr(info->name()));
    graph.define(info->name(), TensorValue{body->getArgument(i)});
  }

  for (auto [index, node] : llvm::enumerate(g.node()))
    if (failed(importNode(node, index)))
      return nullptr;

  SmallVector<Value> results;
  for (const onnx::ValueInfoProto &output : g.output()) {
    std::optional<TensorValue> value = graph.lookup(output.name());
    if (!value) {
      mlir::emitError(fileLoc) << "graph output '" << output.name()
                               << "' is not produced by any node, input or "
                                  "initializer";
      return nullptr;
    }
    FailureOr<Value> reconciled = reconcileOutput(output, value->value);
    if (failed(reconciled))
      return nullptr;
    results.push_back(*reconciled);
  }
  func::ReturnOp::create(b, fileLoc, results);
  func.setFunctionType(
      b.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (auto [i, output] : llvm::enumerate(g.output()))
    func.setResultAttr(i, "rill.name", b.getStringAttr(output.name()));

  // Shape arithmetic leaves unused constants and dims behind.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*body)))
    if (isOpTriviallyDead(&op))
      op.erase();
  return module;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

void mlir::rill::registerONNXImportDialects(DialectRegistry &registry) {
  registry.insert<affine::AffineDialect, arith::ArithDialect,
                  func::FuncDialect,
                  linalg::LinalgDialect, math::MathDialect,
                  tensor::TensorDialect, rill::RillDialect>();
}

static void loadImportDialects(MLIRContext *context) {
  DialectRegistry registry;
  registerONNXImportDialects(registry);
  context->appendDialectRegistry(registry);
  context->loadAllAvailableDialects();
}

static OwningOpRef<ModuleOp>
importParsedModel(onnx::ModelProto &model, llvm::StringRef modelDir,
                  llvm::StringRef displayName, MLIRContext *context,
                  const ONNXImportOptions &options) {
  loadImportDialects(context);
  ModelImporter importer(context, model, displayName, modelDir, options);
  return importer.run();
}

OwningOpRef<ModuleOp>
mlir::rill::importONNXModelFile(llvm::StringRef path, MLIRContext *context,
                                const ONNXImportOptions &options) {
  Location loc = FileLineColLoc::get(context, path, 0, 0);
  int fd = ::open(path.str().c_str(), O_RDONLY);
  if (fd < 0) {
    mlir::emitError(loc) << "cannot open ONNX model '" << path
                         << "': " << std::strerror(errno);
    return nullptr;
  }

  // Parse straight from the file so the bytes are held only once.
  onnx::ModelProto model;
  bool parsed;
  {
    google::protobuf::io::FileInputStream stream(fd);
    google::protobuf::io::CodedInputStream coded(&stream);
    coded.SetTotalBytesLimit(std::numeric_limits<int>::max());
    parsed = model.ParseFromCodedStream(&coded) &&
             coded.ConsumedEntireMessage();
  }
  ::close(fd);
  if (!parsed) {
    mlir::emitError(loc) << "cannot parse '" << path
                         << "' as an ONNX ModelProto; the file is truncated "
                            "or not an ONNX model";
    return nullptr;
  }

  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  return importParsedModel(model, dir, path, context, options);
}

OwningOpRef<ModuleOp> mlir::rill::importONNXModelBytes(
    llvm::StringRef bytes, llvm::StringRef modelDir,
    llvm::StringRef displayName, MLIRContext *context,
    const ONNXImportOptions &options) {
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    mlir::emitError(FileLineColLoc::get(context, displayName, 0, 0))
        << "cannot parse '" << displayName
        << "' as an ONNX ModelProto; the data is truncated or not an ONNX "
           "model";
    return nullptr;
  }
  return importParsedModel(model, modelDir, displayName, context, options);
}
