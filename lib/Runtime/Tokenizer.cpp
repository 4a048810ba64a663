//===- Tokenizer.cpp - Tokenizer loading and the tokenizer C API ----------===//
//
// Chooses the tokenizer implementation for a file and implements the
// rill_tokenizer_* functions, including the buffer-size protocol of
// rill_tokenizer_encode and rill_tokenizer_decode.
//
//===----------------------------------------------------------------------===//

#include "Tokenizer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

namespace rill::runtime {

Status Tokenizer::checkId(int32_t token) const {
  if (token < 0 || token >= vocabSize())
    return Status(RILL_ERROR_TOKEN_OUT_OF_RANGE,
                  format("token id %d is out of range for the tokenizer "
                         "(expected 0 <= id < %lld)",
                         token, (long long)vocabSize()));
  return Status::success();
}

Status readFile(const std::string &path, const char *what, std::string &contents) {
  bool isStdin = path == "-";
  std::FILE *file = isStdin ? stdin : std::fopen(path.c_str(), "rb");
  if (!file)
    return Status(RILL_ERROR_NOT_FOUND,
                  format("cannot open %s '%s': %s", what, path.c_str(),
                         std::strerror(errno)));

  contents.clear();
  char buffer[1 << 16];
  size_t count;
  while ((count = std::fread(buffer, 1, sizeof(buffer), file)) > 0)
    contents.append(buffer, count);
  bool failed = std::ferror(file) != 0;
  int savedErrno = errno;
  if (!isStdin)
    std::fclose(file);
  if (failed)
    return Status(RILL_ERROR_NOT_FOUND,
                  format("cannot read %s '%s': %s", what, path.c_str(),
                         std::strerror(savedErrno)));
  return Status::success();
}

namespace {

bool endsWith(const std::string &text, const char *suffix) {
  size_t length = std::strlen(suffix);
  return text.size() >= length && text.compare(text.size() - length, length, suffix) == 0;
}

Status loadTokenizer(const std::string &path, rill_tokenizer_kind kind,
                     std::unique_ptr<Tokenizer> &tokenizer) {
  if (kind == RILL_TOKENIZER_AUTO)
    kind = endsWith(path, ".model") ? RILL_TOKENIZER_SENTENCEPIECE : RILL_TOKENIZER_LLAMA2C;
  switch (kind) {
  case RILL_TOKENIZER_LLAMA2C:
    return loadLlama2cTokenizer(path, tokenizer);
  case RILL_TOKENIZER_SENTENCEPIECE:
    return loadSentencePieceTokenizer(path, tokenizer);
  default:
    return Status(RILL_ERROR_INVALID_ARGUMENT,
                  format("tokenizer kind %d is not a rill_tokenizer_kind", kind));
  }
}

rill_status outOfMemory(rill_error **error) {
  return report(Status(RILL_ERROR_OUT_OF_MEMORY, "out of memory in the tokenizer"),
                error);
}

} // namespace

} // namespace rill::runtime

using namespace rill::runtime;

extern "C" {

rill_status rill_tokenizer_load(const char *path, rill_tokenizer_kind kind,
                                rill_tokenizer **tokenizer, rill_error **error) {
  if (!path || !tokenizer)
    return report(Status(RILL_ERROR_INVALID_ARGUMENT,
                         "rill_tokenizer_load: path and tokenizer must not be NULL"),
                  error);
  *tokenizer = nullptr;
  try {
    std::unique_ptr<Tokenizer> loaded;
    if (Status status = loadTokenizer(path, kind, loaded); !status.ok())
      return report(status, error);
    *tokenizer = new rill_tokenizer{std::move(loaded)};
    return RILL_OK;
  } catch (const std::bad_alloc &) {
    return outOfMemory(error);
  }
}

void rill_tokenizer_free(rill_tokenizer *tokenizer) { delete tokenizer; }

rill_tokenizer_kind rill_tokenizer_get_kind(const rill_tokenizer *tokenizer) {
  return tokenizer ? tokenizer->tokenizer->kind() : RILL_TOKENIZER_AUTO;
}

int64_t rill_tokenizer_vocab_size(const rill_tokenizer *tokenizer) {
  return tokenizer ? tokenizer->tokenizer->vocabSize() : 0;
}

int32_t rill_tokenizer_bos(const rill_tokenizer *tokenizer) {
  return tokenizer ? tokenizer->tokenizer->bos() : -1;
}

int32_t rill_tokenizer_eos(const rill_tokenizer *tokenizer) {
  return tokenizer ? tokenizer->tokenizer->eos() : -1;
}

rill_status rill_tokenizer_encode(const rill_tokenizer *tokenizer, const char *text,
                                  size_t length, uint32_t flags, int32_t *tokens,
                                  int64_t max_tokens, int64_t *num_tokens,
                                  rill_error **error) {
  if (!tokenizer || (!text && length > 0) || !num_tokens || (!tokens && max_tokens > 0))
    return report(Status(RILL_ERROR_INVALID_ARGUMENT,
                         "rill_tokenizer_encode: NULL tokenizer, text, tokens or "
                         "num_tokens"),
                  error);
  try {
    std::vector<int32_t> ids;
    if (Status status = tokenizer->tokenizer->encode(
            std::string_view(text ? text : "", length), flags, ids);
        !status.ok())
      return report(status, error);
    *num_tokens = static_cast<int64_t>(ids.size());
    if (*num_tokens > max_tokens)
      return report(Status(RILL_ERROR_BUFFER_TOO_SMALL,
                           format("rill_tokenizer_encode: the text needs %zu token "
                                  "slots but max_tokens is %lld",
                                  ids.size(), (long long)max_tokens)),
                    error);
    std::copy(ids.begin(), ids.end(), tokens);
    return RILL_OK;
  } catch (const std::bad_alloc &) {
    return outOfMemory(error);
  }
}

rill_status rill_tokenizer_decode(const rill_tokenizer *tokenizer, int32_t previous,
                                  const int32_t *tokens, int64_t count, char *text,
                                  size_t capacity, size_t *length, rill_error **error) {
  if (!tokenizer || (!tokens && count > 0) || count < 0 || !length ||
      (!text && capacity > 0))
    return report(Status(RILL_ERROR_INVALID_ARGUMENT,
                         "rill_tokenizer_decode: NULL tokenizer, tokens, text or "
                         "length, or a negative count"),
                  error);
  try {
    std::string decoded;
    for (int64_t i = 0; i < count; ++i) {
      if (Status status = tokenizer->tokenizer->decodePiece(previous, tokens[i], decoded);
          !status.ok())
        return report(status, error);
      previous = tokens[i];
    }
    *length = decoded.size();
    if (decoded.size() > capacity)
      return report(Status(RILL_ERROR_BUFFER_TOO_SMALL,
                           format("rill_tokenizer_decode: the text needs %zu bytes "
                                  "but capacity is %zu",
                                  decoded.size(), capacity)),
                    error);
    if (!decoded.empty())
      std::memcpy(text, decoded.data(), decoded.size());
    return RILL_OK;
  } catch (const std::bad_alloc &) {
    return outOfMemory(error);
  }
}

} // extern "C"
