/*===- rill_model_abi.h - C ABI of a library compiled by rillc -----*- C -*-===//
 *
 * The symbols a shared library produced by `rillc model.onnx -o model.so`
 * exports, and their argument layout. The runtime (librill) loads such a
 * library with dlopen and talks to it only through this header, so a
 * compiled model needs no MLIR or LLVM library at run time. The streaming
 * semantics behind `rill_model_step` (slot rule, visibility, rotary
 * positions) are described in docs/streaming.md.
 *
 * All tensors are dense, row-major (C order) and owned by the caller.
 *
 *===----------------------------------------------------------------------===*/

#ifndef RILL_RUNTIME_RILL_MODEL_ABI_H
#define RILL_RUNTIME_RILL_MODEL_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct below or a function signature changes. The
 * runtime rejects libraries whose version differs from its own. */
#define RILL_MODEL_ABI_VERSION 2

/* Element types of tensors described by rill_tensor_info. */
typedef enum rill_dtype {
  RILL_DTYPE_F32 = 1,
  RILL_DTYPE_F16 = 2,
  RILL_DTYPE_I64 = 3,
  RILL_DTYPE_I32 = 4,
  RILL_DTYPE_BOOL = 5,
} rill_dtype;

/* One input or output of the compiled graph. Dynamic dimensions are -1. */
typedef struct rill_tensor_info {
  const char *name;
  int32_t dtype; /* a rill_dtype */
  int32_t rank;
  const int64_t *shape;
} rill_tensor_info;

/* What a compiled model is. Returned by rill_model_metadata; the pointers
 * stay valid for as long as the library is loaded. */
typedef struct rill_model_metadata {
  uint32_t abi_version;     /* RILL_MODEL_ABI_VERSION of the compiler */
  const char *model_name;   /* the ONNX graph name */
  const char *source_file;  /* the ONNX file the library was compiled from */
  int32_t is_streaming;     /* 1: rill_model_step is present */

  /* Streaming geometry, valid when is_streaming is 1. */
  int64_t vocab_size;
  int64_t num_layers;
  int64_t num_kv_heads;
  int64_t head_dim;          /* key width per head */
  int64_t value_dim;         /* value width per head */
  int64_t max_capacity;      /* the largest capacity a call may pass */
  int64_t max_chunk;         /* the largest chunk a call may pass, 0 = any */
  int64_t default_sinks;     /* from the compiled mask pattern */
  int64_t default_capacity;  /* from the compiled mask pattern */
  int64_t trained_length;    /* the model's trained context, 0 if unknown */
  const char *mask_pattern;    /* e.g. "sinks(4)|window(252)" */
  const char *position_policy; /* "rotary" or the named alternative */
  const char *default_policy;  /* "sinks", "window", "dense" or "recompute" */

  /* The graph's inputs and outputs as compiled (non-streaming entry). */
  int32_t num_inputs;
  const rill_tensor_info *inputs;
  int32_t num_outputs;
  const rill_tensor_info *outputs;

  /* Added in version 2. */
  int32_t default_threads;  /* threads of parallel loops unless set, 0 = OpenMP default */
  const char *target_cpu;   /* the CPU the code was compiled for, e.g. "x86-64-v3" */
  const char *pipeline;     /* the lowering pipeline, "reference" or "cpu" */
} rill_model_metadata;

/* Arguments of one streaming step; see docs/streaming.md. */
typedef struct rill_step_args {
  int64_t batch;
  int64_t chunk;
  const int64_t *input_ids; /* [batch, chunk] */
  const int64_t *positions; /* [batch]: stream position of each chunk's first token */
  int64_t sinks;            /* pinned sink slots, 0 <= sinks < capacity */
  int64_t capacity;         /* slots per cache, <= max_capacity */
  /* num_layers pointers each, every buffer [batch, num_kv_heads, capacity,
   * head_dim] (values: value_dim); read and updated in place. */
  float *const *key_caches;
  float *const *value_caches;
  float *logits;            /* [batch, chunk, vocab_size], written */
} rill_step_args;

/* Returns the library's metadata. Never fails. */
const rill_model_metadata *rill_model_metadata_get(void);

/* Runs one streaming step. Returns 0 on success and a non-zero code if an
 * argument is out of range (the library does not check token ids: the
 * runtime does). Thread-safe for distinct caches. */
int32_t rill_model_step(const rill_step_args *args);

/* Return codes of rill_model_run. */
#define RILL_MODEL_RUN_OK 0
#define RILL_MODEL_RUN_INVALID_ARGUMENT 1 /* NULL pointer, wrong rank or static dimension */
#define RILL_MODEL_RUN_OUT_OF_MEMORY 2

/* Runs the compiled graph once (every library has this entry, streaming or
 * not). `inputs[i]` points to the dense data of input i, in the order and
 * with the dtype of metadata->inputs, and `input_shapes[i]` to its rank
 * dimensions. On success, `outputs[i]` receives a buffer allocated by the
 * library that the caller releases with rill_model_free_output, and the
 * caller-provided array `output_shapes[i]` (rank entries) receives its
 * dimensions. Static dimensions and ranks are checked; consistency between
 * dynamic dimensions (for example a mask as long as the sequence) is the
 * caller's contract, as in the ONNX graph. Returns a RILL_MODEL_RUN_* code;
 * rill_model_last_error describes the last failure of the calling thread.
 * Thread-safe. */
int32_t rill_model_run(const void *const *inputs, const int64_t *const *input_shapes,
                       void **outputs, int64_t **output_shapes);

/* Releases an output buffer returned by rill_model_run. NULL is ignored. */
void rill_model_free_output(void *output);

/* Returns the message of the calling thread's last failed rill_model_run or
 * rill_model_step, or "" if none failed. Valid until the next call. */
const char *rill_model_last_error(void);

/* Sets the number of threads the library's parallel loops use (0 = the
 * library's default_threads, or the OpenMP default when that is 0). Like
 * OpenMP's omp_set_num_threads, the setting applies to parallel loops
 * started from the calling thread, so librill calls it from each thread
 * that feeds a session whenever that thread's requested count changes. */
void rill_model_set_num_threads(int32_t num_threads);

#ifdef __cplusplus
}
#endif

#endif /* RILL_RUNTIME_RILL_MODEL_ABI_H */
