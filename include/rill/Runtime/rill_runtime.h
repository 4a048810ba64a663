/*===- rill_runtime.h - C API of the Rill streaming runtime ---------*- C -*-===//
 *
 * The C API of librill: load a library compiled by `rillc`, open streaming
 * sessions over it (each session owns fixed-size key/value caches and runs
 * one cache policy), feed token chunks and read logits, and turn text into
 * token ids with the llama2.c or SentencePiece tokenizers. The streaming
 * semantics (stream positions, the ring-buffer slot rule, the policies) are
 * those of docs/streaming.md; docs/runtime.md describes this API in prose.
 *
 * Every function that can fail returns a rill_status and, when `error` is
 * not NULL and the call fails, stores a newly allocated rill_error in
 * `*error` that the caller releases with rill_error_free. No function
 * aborts the process on bad input or allocation failure.
 *
 *===----------------------------------------------------------------------===*/

#ifndef RILL_RUNTIME_RILL_RUNTIME_H
#define RILL_RUNTIME_RILL_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "rill/Runtime/rill_model_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* librill builds with hidden visibility; the C API is its only export. */
#pragma GCC visibility push(default)

/* Version of this C API, independent of RILL_MODEL_ABI_VERSION. */
#define RILL_RUNTIME_API_VERSION 1

/*===----------------------------------------------------------------------===
 * Status codes and errors
 *===----------------------------------------------------------------------===*/

typedef enum rill_status {
  RILL_OK = 0,
  RILL_ERROR_INVALID_ARGUMENT = 1, /* a NULL pointer, a bad option value */
  RILL_ERROR_NOT_FOUND = 2,        /* a file does not exist or is unreadable */
  RILL_ERROR_LOAD_FAILED = 3,      /* dlopen failed or a symbol is missing */
  RILL_ERROR_ABI_MISMATCH = 4,     /* the library's model ABI version differs */
  RILL_ERROR_INVALID_MODEL = 5,    /* the library's metadata is inconsistent */
  RILL_ERROR_TOKEN_OUT_OF_RANGE = 6, /* a token id is < 0 or >= vocab_size */
  RILL_ERROR_CAPACITY = 7,         /* a cache larger than the model allows */
  RILL_ERROR_CHUNK = 8,            /* a chunk or batch size that cannot run */
  RILL_ERROR_STREAM_FULL = 9,      /* the dense policy's cache is full */
  RILL_ERROR_STEP_FAILED = 10,     /* rill_model_step returned non-zero */
  RILL_ERROR_OUT_OF_MEMORY = 11,
  RILL_ERROR_INVALID_FILE = 12,    /* a tokenizer or token file is malformed */
  RILL_ERROR_UNSUPPORTED = 13,     /* a feature this build does not include */
  RILL_ERROR_BUFFER_TOO_SMALL = 14 /* the output needs more room; see below */
} rill_status;

typedef struct rill_error rill_error;

/* The status and a message naming the file, option or value at fault and
 * what to do. The message stays valid until rill_error_free. */
rill_status rill_error_status(const rill_error *error);
const char *rill_error_message(const rill_error *error);
void rill_error_free(rill_error *error);

/* The enumerator name of a status without the RILL_ prefix, e.g.
 * "ERROR_CAPACITY"; "UNKNOWN" for values outside the enum. */
const char *rill_status_name(rill_status status);

/* Frees memory that a rill_* function allocated for the caller. */
void rill_free(void *pointer);

/*===----------------------------------------------------------------------===
 * Models
 *===----------------------------------------------------------------------===*/

typedef struct rill_model rill_model;

/* Loads a library produced by `rillc` with dlopen and checks that it
 * exports rill_model_metadata_get, that its abi_version equals
 * RILL_MODEL_ABI_VERSION, and, for streaming libraries, that it exports
 * rill_model_step and consistent geometry. A path without '/' is taken
 * relative to the working directory, never searched on LD_LIBRARY_PATH. */
rill_status rill_model_load(const char *path, rill_model **model,
                            rill_error **error);

/* Releases the caller's reference. Sessions keep their own reference, so
 * a model may be freed while its sessions are still in use. */
void rill_model_free(rill_model *model);

/* The compiled library's metadata; valid until the model and all its
 * sessions are freed. */
const rill_model_metadata *rill_model_get_metadata(const rill_model *model);

/* The path the model was loaded from. */
const char *rill_model_path(const rill_model *model);

/*===----------------------------------------------------------------------===
 * Sessions
 *===----------------------------------------------------------------------===*/

/* The cache policies of docs/streaming.md. */
typedef enum rill_policy {
  RILL_POLICY_DEFAULT = 0, /* the model's default_policy */
  RILL_POLICY_SINKS = 1,   /* StreamingLLM: sinks + sliding window */
  RILL_POLICY_WINDOW = 2,  /* sliding window, no sinks */
  RILL_POLICY_DENSE = 3,   /* no eviction; the stream stops when full */
  RILL_POLICY_RECOMPUTE = 4 /* re-run the last W tokens for every token */
} rill_policy;

/* Parses "sinks", "window", "dense", "recompute" or "default". */
rill_status rill_policy_from_name(const char *name, rill_policy *policy,
                                  rill_error **error);
/* The lower-case name of a policy; "unknown" for values outside the enum. */
const char *rill_policy_name(rill_policy policy);

typedef struct rill_session_options {
  int32_t policy;     /* a rill_policy */
  int32_t threads;    /* threads of the library's parallel loops, 0 = its default */
  int64_t sinks;      /* pinned sink slots; -1 = default_sinks for `sinks`, 0 otherwise */
  int64_t capacity;   /* cache slots; 0 = default (see docs/runtime.md) */
  int64_t batch;      /* independent streams fed together, >= 1 */
  int64_t step_chunk; /* maximum tokens per rill_model_step call; 0 = default */
} rill_session_options;

/* Fills `options` with the defaults: policy DEFAULT, sinks -1, capacity 0,
 * batch 1, threads 0, step_chunk 0. */
void rill_session_options_init(rill_session_options *options);

typedef struct rill_session rill_session;

/* Creates a session and allocates all its caches and scratch buffers; no
 * later call allocates. Fails with RILL_ERROR_CAPACITY when `capacity`
 * exceeds the model's max_capacity and with RILL_ERROR_INVALID_ARGUMENT for
 * other bad options; the message names the option and its limit. */
rill_status rill_session_create(rill_model *model,
                                const rill_session_options *options,
                                rill_session **session, rill_error **error);
void rill_session_free(rill_session *session);

/* Cache geometry and state of a session, as resolved from its options. */
typedef struct rill_session_info {
  int32_t policy;      /* never RILL_POLICY_DEFAULT */
  int32_t threads;
  int64_t sinks;
  int64_t capacity;    /* cache slots per sequence */
  int64_t window;      /* capacity - sinks */
  int64_t batch;
  int64_t step_chunk;  /* maximum tokens per rill_model_step call */
  int64_t vocab_size;
  size_t memory_bytes; /* as rill_session_memory */
} rill_session_info;

void rill_session_get_info(const rill_session *session, rill_session_info *info);

/* Feeds `chunk` tokens to each of the session's `batch` streams. `tokens`
 * is [batch, chunk] row-major; `batch` must equal the session's batch and
 * `chunk` must be >= 1. Writes logits [batch, chunk, vocab_size] to
 * `logits` unless it is NULL. Token ids are checked against vocab_size and
 * the dense policy's capacity is checked before anything runs, so on those
 * errors the session is unchanged. If the compiled step fails, the tokens
 * of the steps that completed stay in the stream; the message says how
 * many. A session must not be fed from two threads at once. */
rill_status rill_session_feed(rill_session *session, const int32_t *tokens,
                              int64_t batch, int64_t chunk, float *logits,
                              rill_error **error);

/* Restarts sequence `sequence` of the batch at stream position 0, or every
 * sequence when `sequence` is -1. Caches are not cleared: the slot rule
 * makes every slot empty at position 0. */
rill_status rill_session_reset(rill_session *session, int64_t sequence,
                               rill_error **error);

/* Writes the stream position of each sequence (the number of tokens it has
 * seen) to `positions`, an array of `batch` values. */
void rill_session_positions(const rill_session *session, int64_t *positions);

/* Bytes the session keeps in caches and scratch buffers; constant for the
 * session's lifetime. */
size_t rill_session_memory(const rill_session *session);

/*===----------------------------------------------------------------------===
 * Tokenizers
 *===----------------------------------------------------------------------===*/

typedef enum rill_tokenizer_kind {
  RILL_TOKENIZER_AUTO = 0,    /* SentencePiece for *.model, else llama2.c */
  RILL_TOKENIZER_LLAMA2C = 1, /* llama2.c tokenizer.bin */
  RILL_TOKENIZER_SENTENCEPIECE = 2 /* SentencePiece .model (protobuf) */
} rill_tokenizer_kind;

typedef struct rill_tokenizer rill_tokenizer;

rill_status rill_tokenizer_load(const char *path, rill_tokenizer_kind kind,
                                rill_tokenizer **tokenizer, rill_error **error);
void rill_tokenizer_free(rill_tokenizer *tokenizer);

/* The kind actually loaded (never AUTO). */
rill_tokenizer_kind rill_tokenizer_get_kind(const rill_tokenizer *tokenizer);
int64_t rill_tokenizer_vocab_size(const rill_tokenizer *tokenizer);
/* Beginning- and end-of-sequence ids; -1 if the vocabulary has none. */
int32_t rill_tokenizer_bos(const rill_tokenizer *tokenizer);
int32_t rill_tokenizer_eos(const rill_tokenizer *tokenizer);

/* Flags of rill_tokenizer_encode. */
enum {
  RILL_ENCODE_BOS = 1,             /* prepend the BOS id */
  RILL_ENCODE_EOS = 2,             /* append the EOS id */
  RILL_ENCODE_NO_DUMMY_PREFIX = 4  /* do not prepend a space to the text */
};

/* Encodes `length` bytes of UTF-8 `text`. Writes at most `max_tokens` ids
 * to `tokens` and the count to `*num_tokens`. If the ids do not fit, returns
 * RILL_ERROR_BUFFER_TOO_SMALL with `*num_tokens` set to the count needed.
 * For llama2.c tokenizers the count never exceeds length + 3. */
rill_status rill_tokenizer_encode(const rill_tokenizer *tokenizer,
                                  const char *text, size_t length,
                                  uint32_t flags, int32_t *tokens,
                                  int64_t max_tokens, int64_t *num_tokens,
                                  rill_error **error);

/* Decodes `count` ids to UTF-8 bytes: BOS and EOS produce nothing, byte
 * tokens <0xXX> produce their byte, and a piece that follows BOS loses its
 * leading space. `previous` is the id before tokens[0]; -1 means the start
 * of a text, which counts as following BOS. Writes at
 * most `capacity` bytes (no terminating NUL) and the length to `*length`;
 * returns RILL_ERROR_BUFFER_TOO_SMALL with `*length` set to the length
 * needed if they do not fit. */
rill_status rill_tokenizer_decode(const rill_tokenizer *tokenizer,
                                  int32_t previous, const int32_t *tokens,
                                  int64_t count, char *text, size_t capacity,
                                  size_t *length, rill_error **error);

/*===----------------------------------------------------------------------===
 * Token-id files
 *===----------------------------------------------------------------------===*/

typedef enum rill_token_file_format {
  RILL_TOKEN_FILE_TEXT = 0,  /* decimal ids separated by whitespace */
  RILL_TOKEN_FILE_INT32 = 1  /* little-endian int32 values, nothing else */
} rill_token_file_format;

/* Reads a whole token-id file ("-" reads standard input). On success
 * `*tokens` is an array of `*count` ids that the caller releases with
 * rill_free. Ids are not range-checked here; rill_session_feed does that. */
rill_status rill_token_file_read(const char *path, rill_token_file_format format,
                                 int32_t **tokens, int64_t *count,
                                 rill_error **error);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* RILL_RUNTIME_RILL_RUNTIME_H */
