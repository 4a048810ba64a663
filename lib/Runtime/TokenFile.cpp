//===- TokenFile.cpp - Reading token-id files -----------------------------===//
//
// Token-id files let rill-run and other callers stream pre-tokenized input:
// either decimal ids separated by whitespace, or raw little-endian int32.
// Errors name the file and the line (text) or byte offset (binary).
//
//===----------------------------------------------------------------------===//

#include "Tokenizer.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

namespace rill::runtime {

namespace {

Status parseTextIds(const std::string &path, const std::string &data,
                    std::vector<int32_t> &ids) {
  size_t line = 1;
  size_t i = 0;
  while (i < data.size()) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    if (std::isspace(c)) {
      line += c == '\n';
      ++i;
      continue;
    }

    size_t start = i;
    while (i < data.size() && !std::isspace(static_cast<unsigned char>(data[i])))
      ++i;
    std::string word = data.substr(start, i - start);
    errno = 0;
    char *end = nullptr;
    long long value = std::strtoll(word.c_str(), &end, 10);
    if (*end != '\0' || errno == ERANGE || value < INT32_MIN || value > INT32_MAX)
      return Status(RILL_ERROR_INVALID_FILE,
                    format("%s:%zu: '%s' is not a token id (expected decimal "
                           "integers separated by whitespace; use the int32 format "
                           "for binary files)",
                           path.c_str(), line, word.c_str()));
    ids.push_back(static_cast<int32_t>(value));
  }
  return Status::success();
}

Status parseInt32Ids(const std::string &path, const std::string &data,
                     std::vector<int32_t> &ids) {
  if (data.size() % 4 != 0)
    return Status(RILL_ERROR_INVALID_FILE,
                  format("'%s' has %zu bytes, not a multiple of 4, so it is not "
                         "a file of int32 token ids",
                         path.c_str(), data.size()));
  ids.resize(data.size() / 4);
  for (size_t k = 0; k < ids.size(); ++k) {
    const unsigned char *p = reinterpret_cast<const unsigned char *>(data.data()) + 4 * k;
    uint32_t value = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
                     uint32_t(p[3]) << 24;
    ids[k] = static_cast<int32_t>(value);
  }
  return Status::success();
}

} // namespace

} // namespace rill::runtime

using namespace rill::runtime;

extern "C" {

rill_status rill_token_file_read(const char *path, rill_token_file_format format,
                                 int32_t **tokens, int64_t *count, rill_error **error) {
  if (!path || !tokens || !count)
    return report(Status(RILL_ERROR_INVALID_ARGUMENT,
                         "rill_token_file_read: path, tokens and count must not be NULL"),
                  error);
  *tokens = nullptr;
  *count = 0;
  try {
    std::string data;
    if (Status status = readFile(path, "token-id file", data); !status.ok())
      return report(status, error);

    std::vector<int32_t> ids;
    Status status;
    if (format == RILL_TOKEN_FILE_TEXT)
      status = parseTextIds(path, data, ids);
    else if (format == RILL_TOKEN_FILE_INT32)
      status = parseInt32Ids(path, data, ids);
    else
      status = Status(RILL_ERROR_INVALID_ARGUMENT,
                      rill::runtime::format("token file format %d is not a "
                                            "rill_token_file_format",
                                            format));
    if (!status.ok())
      return report(status, error);

    int32_t *result = static_cast<int32_t *>(std::malloc(ids.empty() ? 1 : ids.size() * 4));
    if (!result)
      throw std::bad_alloc();
    std::memcpy(result, ids.data(), ids.size() * 4);
    *tokens = result;
    *count = static_cast<int64_t>(ids.size());
    return RILL_OK;
  } catch (const std::bad_alloc &) {
    return report(Status(RILL_ERROR_OUT_OF_MEMORY,
                         rill::runtime::format("out of memory reading '%s'", path)),
                  error);
  }
}

} // extern "C"
