//===- Tokenizer.h - Text to token ids and back -----------------*- C++ -*-===//
//
// The tokenizers librill reads: llama2.c's tokenizer.bin (implemented here)
// and SentencePiece .model files (through libsentencepiece when librill is
// built with it). Both sit behind one interface, which the C API exposes as
// rill_tokenizer.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_LIB_RUNTIME_TOKENIZER_H
#define RILL_LIB_RUNTIME_TOKENIZER_H

#include "Status.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rill::runtime {

class Tokenizer {
public:
  virtual ~Tokenizer() = default;

  virtual rill_tokenizer_kind kind() const = 0;
  virtual int64_t vocabSize() const = 0;
  virtual int32_t bos() const = 0;
  virtual int32_t eos() const = 0;

  /// Encodes UTF-8 `text` under the RILL_ENCODE_* `flags`, replacing `ids`.
  virtual Status encode(std::string_view text, uint32_t flags,
                        std::vector<int32_t> &ids) const = 0;

  /// Appends the bytes of `token`, which follows `previous` (-1 at the start
  /// of a text), to `text`.
  virtual Status decodePiece(int32_t previous, int32_t token,
                             std::string &text) const = 0;

  /// Returns an error naming `token` unless 0 <= token < vocabSize().
  Status checkId(int32_t token) const;
};

/// Reads a llama2.c tokenizer.bin: an int32 maximum token length, then per
/// token a float32 merge score, an int32 byte length and the bytes.
Status loadLlama2cTokenizer(const std::string &path,
                            std::unique_ptr<Tokenizer> &tokenizer);

/// Reads a SentencePiece .model file, or returns RILL_ERROR_UNSUPPORTED when
/// librill was built without libsentencepiece.
Status loadSentencePieceTokenizer(const std::string &path,
                                  std::unique_ptr<Tokenizer> &tokenizer);

/// Reads a whole file (or standard input for "-") into `contents`.
Status readFile(const std::string &path, const char *what, std::string &contents);

} // namespace rill::runtime

struct rill_tokenizer {
  std::unique_ptr<rill::runtime::Tokenizer> tokenizer;
};

#endif // RILL_LIB_RUNTIME_TOKENIZER_H
