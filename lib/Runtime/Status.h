//===- Status.h - Status values inside librill ------------------*- C++ -*-===//
//
// librill's implementation returns a Status (a rill_status code and a message)
// from every operation that can fail; the C API turns it into a rill_error.
// Exceptions never cross the C API: the entry points catch std::bad_alloc
// and turn it into RILL_ERROR_OUT_OF_MEMORY.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_LIB_RUNTIME_STATUS_H
#define RILL_LIB_RUNTIME_STATUS_H

#include "rill/Runtime/rill_runtime.h"

#include <string>
#include <utility>

namespace rill::runtime {

/// The outcome of an operation: RILL_OK, or an error code with a message.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(rill_status code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status success() { return Status(); }

  bool ok() const { return code_ == RILL_OK; }
  rill_status code() const { return code_; }
  const std::string &message() const { return message_; }

private:
  rill_status code_ = RILL_OK;
  std::string message_;
};

/// Formats like snprintf into a std::string.
std::string format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/// Returns `status`, storing it as a new rill_error in `*error` when it is an
/// error and `error` is not NULL.
rill_status report(const Status &status, rill_error **error);

/// Multiplies sizes, returning false instead of wrapping around.
bool checkedMultiply(size_t a, size_t b, size_t &result);

} // namespace rill::runtime

#endif // RILL_LIB_RUNTIME_STATUS_H
