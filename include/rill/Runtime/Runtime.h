//===- Runtime.h - C++ wrapper of the librill C API -------------*- C++ -*-===//
//
// Header-only RAII classes over rill_runtime.h: Model, Session and Tokenizer
// own their C handles, and every failing call returns an Error (a status and
// the runtime's message) instead of throwing, so the wrapper works with and
// without C++ exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_RUNTIME_RUNTIME_H
#define RILL_RUNTIME_RUNTIME_H

#include "rill/Runtime/rill_runtime.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rill {

/// A status and a message; `ok()` when the call succeeded.
class Error {
public:
  Error() = default;
  Error(rill_status status, std::string message)
      : status_(status), message_(std::move(message)) {}

  /// Takes over a rill_error from the C API (NULL means success).
  static Error take(rill_status status, rill_error *error) {
    Error result(status, error ? rill_error_message(error) : "");
    rill_error_free(error);
    return result;
  }

  bool ok() const { return status_ == RILL_OK; }
  rill_status status() const { return status_; }
  const std::string &message() const { return message_; }

private:
  rill_status status_ = RILL_OK;
  std::string message_;
};

/// Moves a C handle and frees it with `Free` on destruction.
template <typename Handle, void (*Free)(Handle *)>
class Owned {
public:
  Owned() = default;
  explicit Owned(Handle *handle) : handle_(handle) {}
  Owned(Owned &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Owned &operator=(Owned &&other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Owned(const Owned &) = delete;
  Owned &operator=(const Owned &) = delete;
  ~Owned() { reset(); }

  void reset() {
    if (handle_)
      Free(handle_);
    handle_ = nullptr;
  }
  Handle *get() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }

private:
  Handle *handle_ = nullptr;
};

class Model {
public:
  Model() = default;

  Error load(const std::string &path) {
    rill_model *model = nullptr;
    rill_error *error = nullptr;
    rill_status status = rill_model_load(path.c_str(), &model, &error);
    handle_ = Owned<rill_model, rill_model_free>(model);
    return Error::take(status, error);
  }

  const rill_model_metadata &metadata() const { return *rill_model_get_metadata(handle_.get()); }
  const char *path() const { return rill_model_path(handle_.get()); }
  rill_model *get() const { return handle_.get(); }

private:
  Owned<rill_model, rill_model_free> handle_;
};

class Session {
public:
  Session() = default;

  Error create(const Model &model, const rill_session_options &options) {
    rill_session *session = nullptr;
    rill_error *error = nullptr;
    rill_status status = rill_session_create(model.get(), &options, &session, &error);
    handle_ = Owned<rill_session, rill_session_free>(session);
    if (status == RILL_OK)
      rill_session_get_info(session, &info_);
    return Error::take(status, error);
  }

  /// Feeds tokens [batch, chunk]; `logits` may be NULL.
  Error feed(const int32_t *tokens, int64_t chunk, float *logits) {
    rill_error *error = nullptr;
    rill_status status =
        rill_session_feed(handle_.get(), tokens, info_.batch, chunk, logits, &error);
    return Error::take(status, error);
  }

  Error reset(int64_t sequence = -1) {
    rill_error *error = nullptr;
    rill_status status = rill_session_reset(handle_.get(), sequence, &error);
    return Error::take(status, error);
  }

  std::vector<int64_t> positions() const {
    std::vector<int64_t> result(static_cast<size_t>(info_.batch));
    rill_session_positions(handle_.get(), result.data());
    return result;
  }

  size_t memory() const { return rill_session_memory(handle_.get()); }
  const rill_session_info &info() const { return info_; }
  rill_session *get() const { return handle_.get(); }

private:
  Owned<rill_session, rill_session_free> handle_;
  rill_session_info info_{};
};

class Tokenizer {
public:
  Tokenizer() = default;

  Error load(const std::string &path, rill_tokenizer_kind kind = RILL_TOKENIZER_AUTO) {
    rill_tokenizer *tokenizer = nullptr;
    rill_error *error = nullptr;
    rill_status status = rill_tokenizer_load(path.c_str(), kind, &tokenizer, &error);
    handle_ = Owned<rill_tokenizer, rill_tokenizer_free>(tokenizer);
    return Error::take(status, error);
  }

  /// Encodes `text` under RILL_ENCODE_* `flags`, replacing `ids`.
  Error encode(std::string_view text, uint32_t flags, std::vector<int32_t> &ids) const {
    ids.resize(text.size() + 3);
    for (;;) {
      int64_t count = 0;
      rill_error *error = nullptr;
      rill_status status =
          rill_tokenizer_encode(handle_.get(), text.data(), text.size(), flags,
                                ids.data(), static_cast<int64_t>(ids.size()), &count, &error);
      if (status == RILL_ERROR_BUFFER_TOO_SMALL) {
        rill_error_free(error);
        ids.resize(static_cast<size_t>(count));
        continue;
      }
      if (status == RILL_OK)
        ids.resize(static_cast<size_t>(count));
      return Error::take(status, error);
    }
  }

  /// Decodes `ids` that follow `previous` (-1 = start of text), replacing `text`.
  Error decode(const int32_t *ids, int64_t count, std::string &text,
               int32_t previous = -1) const {
    text.resize(static_cast<size_t>(count) * 8 + 16);
    for (;;) {
      size_t length = 0;
      rill_error *error = nullptr;
      rill_status status = rill_tokenizer_decode(handle_.get(), previous, ids, count,
                                                 text.data(), text.size(), &length, &error);
      if (status == RILL_ERROR_BUFFER_TOO_SMALL) {
        rill_error_free(error);
        text.resize(length);
        continue;
      }
      text.resize(status == RILL_OK ? length : 0);
      return Error::take(status, error);
    }
  }

  int64_t vocabSize() const { return rill_tokenizer_vocab_size(handle_.get()); }
  int32_t bos() const { return rill_tokenizer_bos(handle_.get()); }
  int32_t eos() const { return rill_tokenizer_eos(handle_.get()); }
  rill_tokenizer_kind kind() const { return rill_tokenizer_get_kind(handle_.get()); }
  explicit operator bool() const { return static_cast<bool>(handle_); }

private:
  Owned<rill_tokenizer, rill_tokenizer_free> handle_;
};

/// Reads a token-id file in `format`, replacing `ids`.
inline Error readTokenFile(const std::string &path, rill_token_file_format format,
                           std::vector<int32_t> &ids) {
  int32_t *tokens = nullptr;
  int64_t count = 0;
  rill_error *error = nullptr;
  rill_status status = rill_token_file_read(path.c_str(), format, &tokens, &count, &error);
  if (status == RILL_OK)
    ids.assign(tokens, tokens + count);
  rill_free(tokens);
  return Error::take(status, error);
}

} // namespace rill

#endif // RILL_RUNTIME_RUNTIME_H
