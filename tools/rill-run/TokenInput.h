//===- TokenInput.h - Streaming token input of rill-run ---------*- C++ -*-===//
//
// Reads rill-run's INPUT as a stream of token ids. Text is read in blocks
// that end at a newline and tokenized block by block, so memory stays
// bounded however long the input. Token-id files are read whole.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_TOOLS_RILL_RUN_TOKENINPUT_H
#define RILL_TOOLS_RILL_RUN_TOKENINPUT_H

#include "Options.h"

#include "rill/Runtime/Runtime.h"

#include <cstdio>
#include <string>
#include <vector>

namespace rill::run {

/// Replaces every run of newlines by one newline, across calls.
class BlankLineCollapser {
public:
  void apply(std::string &text);

private:
  bool afterNewline_ = false;
};

class TokenInput {
public:
  /// Opens the input of `options`; `tokenizer` may be empty for id formats.
  TokenInput(const Options &options, const Tokenizer &tokenizer);
  ~TokenInput();
  TokenInput(const TokenInput &) = delete;
  TokenInput &operator=(const TokenInput &) = delete;

  /// Replaces `tokens` with the next block of ids; returns false at the end.
  /// The first block starts with BOS when the input is text.
  bool next(std::vector<int32_t> &tokens);

  /// Fraction of the input file read so far, or -1 when unknown (stdin).
  double progress() const;

private:
  bool readTextBlock(std::string &block);

  const Options &options_;
  const Tokenizer &tokenizer_;
  std::FILE *file_ = nullptr;
  long fileSize_ = -1;
  long bytesRead_ = 0;
  std::string pending_;
  bool atEnd_ = false;
  bool started_ = false;    // the first block (with BOS) was returned
  bool prefixDone_ = false; // the dummy-prefix space was added
  BlankLineCollapser collapser_;
  std::vector<int32_t> ids_; // whole id files
  bool idsDelivered_ = false;
};

} // namespace rill::run

#endif // RILL_TOOLS_RILL_RUN_TOKENINPUT_H
