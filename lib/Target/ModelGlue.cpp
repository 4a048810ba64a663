//===- ModelGlue.cpp - C glue between rill_model_abi.h and compiled code --===//
//
// Generates the C source that a model library is linked with. The glue
// contains the metadata tables and implements the ABI functions on top of the
// `_mlir_ciface_` wrappers of the compiled entry points: it builds memref
// descriptors (arrays of 64-bit words {allocated, aligned, offset,
// sizes[rank], strides[rank]}) from the caller's dense buffers, checks ranks
// and static dimensions, copies results out and frees the buffers that the
// compiled code allocated. Generating C keeps the glue readable in the
// `--emit=glue` output and lets the C compiler check it against the ABI
// header, which the source embeds.
//
//===----------------------------------------------------------------------===//

#include "rill/Target/ModelLibrary.h"

#include "rill/Runtime/rill_model_abi.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::rill;

namespace {

/// The text of rill_model_abi.h, generated at configure time.
constexpr const char *kAbiHeader =
#include "RillModelAbiHeader.inc"
    ;

/// The helpers every library needs, independent of the model.
constexpr const char *kRuntimeHelpers = R"c(
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char rill_error_text[512];

static void rill_set_error(const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  vsnprintf(rill_error_text, sizeof(rill_error_text), format, arguments);
  va_end(arguments);
}

const char *rill_model_last_error(void) { return rill_error_text; }

void rill_model_free_output(void *output) { free(output); }

/* Fills a memref descriptor for a dense row-major buffer. */
static void rill_fill_descriptor(int64_t *descriptor, const void *data,
                                 const int64_t *shape, int rank) {
  int64_t stride = 1;
  descriptor[0] = (int64_t)(intptr_t)data;
  descriptor[1] = (int64_t)(intptr_t)data;
  descriptor[2] = 0;
  for (int dim = rank - 1; dim >= 0; --dim) {
    descriptor[3 + dim] = shape[dim];
    descriptor[3 + rank + dim] = stride;
    stride *= shape[dim];
  }
}

/* Checks a caller's shape against the compiled one (-1: any size). */
static int rill_check_shape(const char *what, const char *name,
                            const int64_t *shape, const int64_t *expected,
                            int rank) {
  if (rank > 0 && !shape) {
    rill_set_error("%s '%s': the shape pointer is NULL", what, name);
    return 0;
  }
  for (int dim = 0; dim < rank; ++dim) {
    if (shape[dim] < 0 || (expected[dim] >= 0 && shape[dim] != expected[dim])) {
      rill_set_error("%s '%s': dimension %d is %lld (expected %s%lld)", what,
                     name, dim, (long long)shape[dim],
                     expected[dim] >= 0 ? "" : "a size >= ",
                     (long long)(expected[dim] >= 0 ? expected[dim] : 0));
      return 0;
    }
  }
  return 1;
}

static int64_t rill_element_count(const int64_t *descriptor, int rank) {
  int64_t count = 1;
  for (int dim = 0; dim < rank; ++dim)
    count *= descriptor[3 + dim];
  return count;
}

/* Copies the strided memref `descriptor` into the dense buffer `target`. */
static void rill_copy_dense(void *target, const int64_t *descriptor, int rank,
                            size_t elementBytes) {
  const char *base = (const char *)(intptr_t)descriptor[1];
  const int64_t *sizes = descriptor + 3;
  const int64_t *strides = descriptor + 3 + rank;
  int64_t count = rill_element_count(descriptor, rank);
  int contiguous = 1;
  int64_t expectedStride = 1;
  for (int dim = rank - 1; dim >= 0; --dim) {
    if (sizes[dim] != 1 && strides[dim] != expectedStride)
      contiguous = 0;
    expectedStride *= sizes[dim];
  }
  if (count == 0)
    return;
  if (contiguous) {
    memcpy(target, base + descriptor[2] * (int64_t)elementBytes,
           (size_t)count * elementBytes);
    return;
  }
  int64_t index[16] = {0};
  for (int64_t linear = 0; linear < count; ++linear) {
    int64_t offset = descriptor[2];
    for (int dim = 0; dim < rank; ++dim)
      offset += index[dim] * strides[dim];
    memcpy((char *)target + linear * (int64_t)elementBytes,
           base + offset * (int64_t)elementBytes, elementBytes);
    for (int dim = rank - 1; dim >= 0; --dim) {
      if (++index[dim] < sizes[dim])
        break;
      index[dim] = 0;
    }
  }
}

/* memref.copy between non-contiguous memrefs lowers to a call of
 * memrefCopy, which MLIR's runner utilities library defines. The library
 * must not depend on that library, so the glue defines the function: a
 * strided copy of `elementSize`-byte elements between two unranked memrefs
 * ({rank, descriptor}) of equal sizes. */
typedef struct {
  int64_t rank;
  const int64_t *descriptor;
} rill_unranked_memref;

void memrefCopy(int64_t elementSize, rill_unranked_memref *source,
                rill_unranked_memref *target) {
  int64_t rank = source->rank;
  const int64_t *from = source->descriptor;
  const int64_t *to = target->descriptor;
  char *fromBase = (char *)(intptr_t)from[1] + from[2] * elementSize;
  char *toBase = (char *)(intptr_t)to[1] + to[2] * elementSize;
  int64_t count = rill_element_count(from, (int)rank);
  if (count == 0)
    return;
  if (rank == 0) {
    memcpy(toBase, fromBase, (size_t)elementSize);
    return;
  }
  int64_t *index = calloc((size_t)rank, sizeof(int64_t));
  if (!index)
    abort();
  for (int64_t linear = 0; linear < count; ++linear) {
    int64_t fromOffset = 0, toOffset = 0;
    for (int64_t dim = 0; dim < rank; ++dim) {
      fromOffset += index[dim] * from[3 + rank + dim];
      toOffset += index[dim] * to[3 + rank + dim];
    }
    memcpy(toBase + toOffset * elementSize, fromBase + fromOffset * elementSize,
           (size_t)elementSize);
    for (int64_t dim = rank - 1; dim >= 0; --dim) {
      if (++index[dim] < from[3 + dim])
        break;
      index[dim] = 0;
    }
  }
  free(index);
}

/* Frees a result buffer unless it is a global constant (the lowering marks
 * those with 0xdeadbeef), a caller's buffer or already freed. */
static void rill_release(void *allocated, void *const *keep, int numKeep,
                         void **freed, int *numFreed) {
  if (!allocated || (uintptr_t)allocated == 0xdeadbeef)
    return;
  for (int i = 0; i < numKeep; ++i)
    if (keep[i] == allocated)
      return;
  for (int i = 0; i < *numFreed; ++i)
    if (freed[i] == allocated)
      return;
  freed[(*numFreed)++] = allocated;
  free(allocated);
}
)c";

/// Returns `text` as a C string literal.
std::string quote(llvm::StringRef text) {
  std::string result = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      result += '\\';
      result += c;
    } else if (static_cast<unsigned char>(c) < 0x20 ||
               static_cast<unsigned char>(c) >= 0x7f) {
      result += llvm::formatv("\\{0:o3}", static_cast<unsigned char>(c)).str();
    } else {
      result += c;
    }
  }
  return result + "\"";
}

/// Returns the C type of a scalar argument or of a tensor element.
std::string getCType(const TensorSignature &value) {
  switch (value.dtype) {
  case RILL_DTYPE_F32:
    return "float";
  case RILL_DTYPE_F16:
  case RILL_DTYPE_I32:
    return value.dtype == RILL_DTYPE_I32 ? "int32_t" : "uint16_t";
  case RILL_DTYPE_BOOL:
    return "uint8_t";
  default:
    return "int64_t";
  }
}

int64_t getDescriptorWords(const TensorSignature &value) {
  return 3 + 2 * static_cast<int64_t>(value.shape.size());
}

int64_t getResultWords(const EntrySignature &entry) {
  int64_t words = 0;
  for (const TensorSignature &result : entry.results)
    words += getDescriptorWords(result);
  return words;
}

/// Writes the `rill_tensor_info` table and the shapes of `values`.
void emitTensorTable(llvm::raw_ostream &os, llvm::StringRef prefix,
                     llvm::ArrayRef<TensorSignature> values) {
  for (auto [index, value] : llvm::enumerate(values)) {
    os << "static const int64_t " << prefix << "_shape_" << index << "[] = {";
    if (value.shape.empty())
      os << "0";
    os << llvm::join(llvm::map_range(value.shape,
                                     [](int64_t d) { return std::to_string(d); }),
                     ", ");
    os << "};\n";
  }
  os << "static const rill_tensor_info " << prefix << "[] = {\n";
  for (auto [index, value] : llvm::enumerate(values))
    os << "  {" << quote(value.name) << ", " << value.dtype << ", "
       << value.shape.size() << ", " << prefix << "_shape_" << index
       << "},\n";
  if (values.empty())
    os << "  {0, 0, 0, 0},\n";
  os << "};\n";
}

/// Declares `_mlir_ciface_<symbol>`: a pointer to the packed results (if
/// any), then one descriptor pointer per tensor and one value per scalar.
void emitWrapperDeclaration(llvm::raw_ostream &os, const EntrySignature &entry) {
  os << "extern void _mlir_ciface_" << entry.symbol << "(";
  llvm::SmallVector<std::string> parameters;
  if (!entry.results.empty())
    parameters.push_back("int64_t *");
  for (const TensorSignature &argument : entry.arguments)
    parameters.push_back(argument.isScalar ? getCType(argument) : "int64_t *");
  if (parameters.empty())
    parameters.push_back("void");
  os << llvm::join(parameters, ", ") << ");\n\n";
}

/// Writes the call of the wrapper, with descriptors named `d<i>` and
/// scalars named `s<i>`.
void emitWrapperCall(llvm::raw_ostream &os, const EntrySignature &entry) {
  os << "  _mlir_ciface_" << entry.symbol << "(";
  llvm::SmallVector<std::string> operands;
  if (!entry.results.empty())
    operands.push_back("results");
  for (auto [index, argument] : llvm::enumerate(entry.arguments))
    operands.push_back((argument.isScalar ? "s" : "d") + std::to_string(index));
  os << llvm::join(operands, ", ") << ");\n";
}

void emitMetadata(llvm::raw_ostream &os, const EntrySignature &run,
                  const ModelLibraryMetadata &metadata) {
  emitTensorTable(os, "rill_inputs", run.arguments);
  emitTensorTable(os, "rill_outputs", run.results);

  StreamingGeometry geometry = metadata.streaming.value_or(StreamingGeometry());
  os << "\nstatic const rill_model_metadata rill_metadata = {\n"
     << "  " << RILL_MODEL_ABI_VERSION << ", /* abi_version */\n"
     << "  " << quote(metadata.modelName) << ",\n"
     << "  " << quote(metadata.sourceFile) << ",\n"
     << "  " << (metadata.streaming ? 1 : 0) << ", /* is_streaming */\n"
     << "  " << geometry.vocabSize << ", /* vocab_size */\n"
     << "  " << geometry.numLayers << ", /* num_layers */\n"
     << "  " << geometry.numKvHeads << ", /* num_kv_heads */\n"
     << "  " << geometry.headDim << ", /* head_dim */\n"
     << "  " << geometry.valueDim << ", /* value_dim */\n"
     << "  " << geometry.maxCapacity << ", /* max_capacity */\n"
     << "  " << geometry.maxChunk << ", /* max_chunk */\n"
     << "  " << geometry.defaultSinks << ", /* default_sinks */\n"
     << "  " << geometry.defaultCapacity << ", /* default_capacity */\n"
     << "  " << geometry.trainedLength << ", /* trained_length */\n"
     << "  " << quote(metadata.maskPattern) << ",\n"
     << "  " << quote(metadata.positionPolicy) << ",\n"
     << "  " << quote(metadata.defaultPolicy) << ",\n"
     << "  " << run.arguments.size() << ", rill_inputs,\n"
     << "  " << run.results.size() << ", rill_outputs,\n"
     << "  " << metadata.defaultThreads << ", /* default_threads */\n"
     << "  " << quote(metadata.targetCPU) << ",\n"
     << "  " << quote(metadata.pipeline) << ",\n"
     << "};\n\n"
     << "const rill_model_metadata *rill_model_metadata_get(void) {\n"
     << "  return &rill_metadata;\n}\n\n";
}

/// Writes rill_model_set_num_threads and the per-thread default.
void emitThreads(llvm::raw_ostream &os, const ModelLibraryMetadata &metadata,
                 bool usesOpenMP) {
  if (!usesOpenMP) {
    os << "/* The compiled code has no parallel loops. */\n"
          "static void rill_apply_default_threads(void) {}\n"
          "void rill_model_set_num_threads(int32_t num_threads) {\n"
          "  (void)num_threads;\n}\n\n";
    return;
  }
  os << "extern void omp_set_num_threads(int);\n"
        "extern int omp_get_max_threads(void);\n"
     << "static const int32_t rill_default_threads = " << metadata.defaultThreads
     << ";\n"
     << R"c(static int rill_initial_threads = 1;
static _Thread_local int rill_threads_set;

__attribute__((constructor)) static void rill_record_initial_threads(void) {
  rill_initial_threads = omp_get_max_threads();
}

/* OpenMP thread counts are per calling thread, so the compiled default is
 * applied once on each thread that runs the model without a count of its
 * own. */
static void rill_apply_default_threads(void) {
  if (rill_threads_set)
    return;
  rill_threads_set = 1;
  if (rill_default_threads > 0)
    omp_set_num_threads(rill_default_threads);
}

void rill_model_set_num_threads(int32_t num_threads) {
  rill_threads_set = 1;
  if (num_threads <= 0)
    num_threads = rill_default_threads > 0 ? rill_default_threads
                                           : rill_initial_threads;
  omp_set_num_threads(num_threads);
}

)c";
}

void emitRun(llvm::raw_ostream &os, const EntrySignature &run) {
  emitWrapperDeclaration(os, run);
  size_t numInputs = run.arguments.size();
  size_t numOutputs = run.results.size();
  os << "int32_t rill_model_run(const void *const *inputs,\n"
        "                       const int64_t *const *input_shapes,\n"
        "                       void **outputs, int64_t **output_shapes) {\n"
        "  rill_error_text[0] = 0;\n";
  if (numInputs)
    os << "  if (!inputs || !input_shapes) {\n"
          "    rill_set_error(\"rill_model_run: inputs and input_shapes must "
          "not be NULL\");\n"
          "    return RILL_MODEL_RUN_INVALID_ARGUMENT;\n  }\n";
  if (numOutputs)
    os << "  if (!outputs || !output_shapes) {\n"
          "    rill_set_error(\"rill_model_run: outputs and output_shapes "
          "must not be NULL\");\n"
          "    return RILL_MODEL_RUN_INVALID_ARGUMENT;\n  }\n";
  os << "  rill_apply_default_threads();\n";

  // Inputs: check, then describe.
  for (auto [index, input] : llvm::enumerate(run.arguments)) {
    os << llvm::formatv(
        "  if (!inputs[{0}]) {{\n"
        "    rill_set_error(\"input '%s': the data pointer is NULL\", "
        "rill_inputs[{0}].name);\n"
        "    return RILL_MODEL_RUN_INVALID_ARGUMENT;\n  }\n",
        index);
    if (input.isScalar) {
      os << llvm::formatv("  {0} s{1} = *(const {0} *)inputs[{1}];\n",
                          getCType(input), index);
      continue;
    }
    size_t rank = input.shape.size();
    os << llvm::formatv(
        "  if (!rill_check_shape(\"input\", rill_inputs[{0}].name, "
        "input_shapes[{0}], rill_inputs_shape_{0}, {1}))\n"
        "    return RILL_MODEL_RUN_INVALID_ARGUMENT;\n"
        "  int64_t d{0}[{2}];\n"
        "  rill_fill_descriptor(d{0}, inputs[{0}], input_shapes[{0}], {1});\n",
        index, rank, 3 + 2 * rank);
  }
  for (size_t index = 0; index < numOutputs; ++index)
    os << llvm::formatv("  outputs[{0}] = NULL;\n", index);

  int64_t words = std::max<int64_t>(getResultWords(run), 1);
  os << "  int64_t results[" << words << "];\n";
  emitWrapperCall(os, run);

  // Copy every result out before freeing anything: two results may share a
  // buffer.
  os << "  int32_t status = RILL_MODEL_RUN_OK;\n";
  int64_t offset = 0;
  for (auto [index, output] : llvm::enumerate(run.results)) {
    size_t rank = output.shape.size();
    os << llvm::formatv(
        "  {{\n"
        "    const int64_t *descriptor = results + {0};\n"
        "    int64_t count = rill_element_count(descriptor, {1});\n"
        "    outputs[{2}] = malloc(count > 0 ? (size_t)count * {3} : 1);\n"
        "    if (!outputs[{2}]) {{\n"
        "      rill_set_error(\"output '%s': cannot allocate %lld elements\", "
        "rill_outputs[{2}].name, (long long)count);\n"
        "      status = RILL_MODEL_RUN_OUT_OF_MEMORY;\n"
        "    } else {{\n"
        "      rill_copy_dense(outputs[{2}], descriptor, {1}, {3});\n"
        "      for (int dim = 0; dim < {1}; ++dim)\n"
        "        output_shapes[{2}][dim] = descriptor[3 + dim];\n"
        "    }\n"
        "  }\n",
        offset, rank, index, output.elementBytes);
    offset += getDescriptorWords(output);
  }

  // Free the compiled code's buffers.
  os << "  void *keep[" << std::max<size_t>(numInputs, 1) << "] = {0};\n";
  for (auto [index, input] : llvm::enumerate(run.arguments))
    if (!input.isScalar)
      os << "  keep[" << index << "] = (void *)inputs[" << index << "];\n";
  os << "  void *freed[" << std::max<size_t>(numOutputs, 1) << "];\n"
     << "  int numFreed = 0;\n";
  offset = 0;
  for (const TensorSignature &output : run.results) {
    os << "  rill_release((void *)(intptr_t)results[" << offset << "], keep, "
       << numInputs << ", freed, &numFreed);\n";
    offset += getDescriptorWords(output);
  }
  os << "  (void)keep;\n  (void)freed;\n  (void)numFreed;\n";
  os << "  if (status != RILL_MODEL_RUN_OK)\n"
     << "    for (int i = 0; i < " << numOutputs << "; ++i) {\n"
     << "      free(outputs[i]);\n"
     << "      outputs[i] = NULL;\n"
     << "    }\n"
     << "  return status;\n}\n\n";
}

/// Writes rill_model_step for a step function laid out as docs/streaming.md
/// describes: (input_ids, positions, sinks, capacity, key/value caches per
/// layer) -> (logits, updated caches).
void emitStep(llvm::raw_ostream &os, const EntrySignature &step,
              const StreamingGeometry &geometry) {
  emitWrapperDeclaration(os, step);
  int64_t numCaches = 2 * geometry.numLayers;
  os << "int32_t rill_model_step(const rill_step_args *args) {\n"
        "  rill_error_text[0] = 0;\n"
        "  if (!args || !args->input_ids || !args->positions || "
        "!args->key_caches ||\n"
        "      !args->value_caches || !args->logits) {\n"
        "    rill_set_error(\"rill_model_step: a pointer argument is "
        "NULL\");\n"
        "    return 1;\n  }\n"
        "  if (args->batch < 1 || args->chunk < 1 || args->sinks < 0 ||\n"
        "      args->sinks >= args->capacity ||\n"
        "      args->capacity > rill_metadata.max_capacity ||\n"
        "      (rill_metadata.max_chunk > 0 && args->chunk > "
        "rill_metadata.max_chunk)) {\n"
        "    rill_set_error(\"rill_model_step: batch %lld, chunk %lld, sinks "
        "%lld, capacity %lld out of range (max_capacity %lld)\",\n"
        "                   (long long)args->batch, (long long)args->chunk,\n"
        "                   (long long)args->sinks, (long long)args->capacity,\n"
        "                   (long long)rill_metadata.max_capacity);\n"
        "    return 1;\n  }\n"
        "  rill_apply_default_threads();\n"
        "  int64_t ids_shape[2] = {args->batch, args->chunk};\n"
        "  int64_t d0[7];\n"
        "  rill_fill_descriptor(d0, args->input_ids, ids_shape, 2);\n"
        "  int64_t d1[5];\n"
        "  rill_fill_descriptor(d1, args->positions, &args->batch, 1);\n"
        "  int64_t s2 = args->sinks;\n"
        "  int64_t s3 = args->capacity;\n";
  os << llvm::formatv(
      "  int64_t key_shape[4] = {{args->batch, {0}, args->capacity, {1}};\n"
      "  int64_t value_shape[4] = {{args->batch, {0}, args->capacity, {2}};\n",
      geometry.numKvHeads, geometry.headDim, geometry.valueDim);
  os << "  void *keep[" << numCaches << "];\n";
  for (int64_t layer = 0; layer < geometry.numLayers; ++layer) {
    int64_t key = 4 + 2 * layer, value = key + 1;
    os << llvm::formatv(
        "  int64_t d{0}[11];\n"
        "  rill_fill_descriptor(d{0}, args->key_caches[{2}], key_shape, 4);\n"
        "  int64_t d{1}[11];\n"
        "  rill_fill_descriptor(d{1}, args->value_caches[{2}], value_shape, "
        "4);\n"
        "  keep[{3}] = args->key_caches[{2}];\n"
        "  keep[{4}] = args->value_caches[{2}];\n",
        key, value, layer, 2 * layer, 2 * layer + 1);
  }
  os << "  int64_t results[" << getResultWords(step) << "];\n";
  emitWrapperCall(os, step);

  // Logits, then caches: a cache returned in another buffer is copied back
  // so that the caller's cache is updated in place.
  os << "  int32_t status = 0;\n"
        "  if (results[3] != args->batch || results[4] != args->chunk ||\n"
        "      results[5] != rill_metadata.vocab_size) {\n"
        "    rill_set_error(\"rill_model_step: the step returned logits of "
        "shape [%lld, %lld, %lld]\",\n"
        "                   (long long)results[3], (long long)results[4], "
        "(long long)results[5]);\n"
        "    status = 2;\n"
        "  } else {\n"
        "    rill_copy_dense(args->logits, results, 3, sizeof(float));\n"
        "  }\n";
  int64_t offset = 9;
  for (int64_t cache = 0; cache < numCaches; ++cache) {
    os << llvm::formatv(
        "  if (status == 0 && (void *)(intptr_t)results[{0} + 1] != keep[{1}])\n"
        "    rill_copy_dense(keep[{1}], results + {0}, 4, sizeof(float));\n",
        offset, cache);
    offset += 11;
  }
  os << "  void *freed[" << numCaches + 1 << "];\n  int numFreed = 0;\n";
  offset = 0;
  for (int64_t result = 0; result <= numCaches; ++result) {
    os << "  rill_release((void *)(intptr_t)results[" << offset << "], keep, "
       << numCaches << ", freed, &numFreed);\n";
    offset += result == 0 ? 9 : 11;
  }
  os << "  return status;\n}\n\n";
}

} // namespace

std::string mlir::rill::generateModelGlue(const EntrySignature &run,
                                          const EntrySignature *step,
                                          const ModelLibraryMetadata &metadata,
                                          bool usesOpenMP) {
  std::string source;
  llvm::raw_string_ostream os(source);
  os << "/* Generated by rillc for " << metadata.sourceFile
     << "; the C ABI of rill_model_abi.h follows. */\n"
     << kAbiHeader << "\n"
     << kRuntimeHelpers << "\n";
  emitMetadata(os, run, metadata);
  emitThreads(os, metadata, usesOpenMP);
  emitRun(os, run);
  if (step && metadata.streaming)
    emitStep(os, *step, *metadata.streaming);
  return source;
}
