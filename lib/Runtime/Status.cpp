//===- Status.cpp - Errors, status names and helpers of the C API ---------===//
//
// The rill_error object of the C API and the functions that create, read
// and free it, plus the small helpers every part of librill shares.
//
//===----------------------------------------------------------------------===//

#include "Status.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <new>

struct rill_error {
  rill_status status;
  std::string message;
};

namespace rill::runtime {

std::string format(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list copy;
  va_copy(copy, args);
  int length = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);

  std::string result;
  if (length > 0) {
    result.resize(static_cast<size_t>(length) + 1);
    std::vsnprintf(result.data(), result.size(), fmt, args);
    result.resize(static_cast<size_t>(length));
  }
  va_end(args);
  return result;
}

rill_status report(const Status &status, rill_error **error) {
  if (status.ok() || !error)
    return status.code();

  // Allocation of the error itself can fail; the caller still gets the code.
  *error = new (std::nothrow) rill_error{status.code(), std::string()};
  if (*error) {
    try {
      (*error)->message = status.message();
    } catch (const std::bad_alloc &) {
    }
  }
  return status.code();
}

bool checkedMultiply(size_t a, size_t b, size_t &result) {
  return !__builtin_mul_overflow(a, b, &result);
}

} // namespace rill::runtime

using namespace rill::runtime;

extern "C" {

rill_status rill_error_status(const rill_error *error) {
  return error ? error->status : RILL_OK;
}

const char *rill_error_message(const rill_error *error) {
  return error ? error->message.c_str() : "";
}

void rill_error_free(rill_error *error) { delete error; }

const char *rill_status_name(rill_status status) {
  switch (status) {
  case RILL_OK:
    return "OK";
  case RILL_ERROR_INVALID_ARGUMENT:
    return "ERROR_INVALID_ARGUMENT";
  case RILL_ERROR_NOT_FOUND:
    return "ERROR_NOT_FOUND";
  case RILL_ERROR_LOAD_FAILED:
    return "ERROR_LOAD_FAILED";
  case RILL_ERROR_ABI_MISMATCH:
    return "ERROR_ABI_MISMATCH";
  case RILL_ERROR_INVALID_MODEL:
    return "ERROR_INVALID_MODEL";
  case RILL_ERROR_TOKEN_OUT_OF_RANGE:
    return "ERROR_TOKEN_OUT_OF_RANGE";
  case RILL_ERROR_CAPACITY:
    return "ERROR_CAPACITY";
  case RILL_ERROR_CHUNK:
    return "ERROR_CHUNK";
  case RILL_ERROR_STREAM_FULL:
    return "ERROR_STREAM_FULL";
  case RILL_ERROR_STEP_FAILED:
    return "ERROR_STEP_FAILED";
  case RILL_ERROR_OUT_OF_MEMORY:
    return "ERROR_OUT_OF_MEMORY";
  case RILL_ERROR_INVALID_FILE:
    return "ERROR_INVALID_FILE";
  case RILL_ERROR_UNSUPPORTED:
    return "ERROR_UNSUPPORTED";
  case RILL_ERROR_BUFFER_TOO_SMALL:
    return "ERROR_BUFFER_TOO_SMALL";
  }
  return "UNKNOWN";
}

void rill_free(void *pointer) { std::free(pointer); }

} // extern "C"
