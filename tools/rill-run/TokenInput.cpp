//===- TokenInput.cpp - Reading and tokenizing rill-run's input -----------===//
//
// Text is tokenized in blocks that end after a newline. Only the first
// non-empty block gets the llama2.c dummy-prefix space, so the ids equal
// those of tokenizing the whole text at once whenever no vocabulary piece
// spans a newline (true for llama2.c vocabularies, which encode "\n" as the
// byte token <0x0A>). SentencePiece cannot encode without its dummy
// prefix, so for .model tokenizers the whole input is read first.
//
//===----------------------------------------------------------------------===//

#include "TokenInput.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

namespace rill::run {

namespace {

constexpr size_t kReadBytes = 1 << 16;
// A line longer than this is split at a UTF-8 boundary instead.
constexpr size_t kMaxBlockBytes = 1 << 20;

} // namespace

void BlankLineCollapser::apply(std::string &text) {
  size_t out = 0;
  for (char c : text) {
    if (c == '\n' && afterNewline_)
      continue;
    afterNewline_ = c == '\n';
    text[out++] = c;
  }
  text.resize(out);
}

TokenInput::TokenInput(const Options &options, const Tokenizer &tokenizer)
    : options_(options), tokenizer_(tokenizer) {
  if (options.inputFormat != InputFormat::Text) {
    rill_token_file_format format = options.inputFormat == InputFormat::Ids
                                        ? RILL_TOKEN_FILE_TEXT
                                        : RILL_TOKEN_FILE_INT32;
    Error error = readTokenFile(options.input, format, ids_);
    if (!error.ok())
      fail(error.message());
    return;
  }

  if (options.input == "-") {
    file_ = stdin;
  } else {
    file_ = std::fopen(options.input.c_str(), "rb");
    if (!file_)
      fail("cannot open input '" + options.input + "': " + std::strerror(errno));
    struct stat info;
    if (::stat(options.input.c_str(), &info) == 0 && S_ISREG(info.st_mode))
      fileSize_ = static_cast<long>(info.st_size);
  }
}

TokenInput::~TokenInput() {
  if (file_ && file_ != stdin)
    std::fclose(file_);
}

double TokenInput::progress() const {
  if (options_.inputFormat != InputFormat::Text)
    return idsDelivered_ ? 1.0 : 0.0;
  if (fileSize_ <= 0)
    return -1.0;
  return double(bytesRead_ - long(pending_.size())) / double(fileSize_);
}

bool TokenInput::readTextBlock(std::string &block) {
  block.clear();
  bool wholeInput = tokenizer_.kind() == RILL_TOKENIZER_SENTENCEPIECE;
  char buffer[kReadBytes];

  while (!atEnd_) {
    size_t cut = pending_.rfind('\n');
    if (!wholeInput && cut != std::string::npos) {
      block = pending_.substr(0, cut + 1);
      pending_.erase(0, cut + 1);
      return true;
    }
    if (!wholeInput && pending_.size() >= kMaxBlockBytes) {
      // NOTE: a line longer than kMaxBlockBytes is cut here, so a merge
      // across the cut is lost; such inputs tokenize slightly differently.
      size_t boundary = pending_.size() - 1;
      while (boundary > 0 && (static_cast<unsigned char>(pending_[boundary]) & 0xC0) == 0x80)
        --boundary;
      block = pending_.substr(0, boundary);
      pending_.erase(0, boundary);
      return true;
    }

    size_t count = std::fread(buffer, 1, sizeof(buffer), file_);
    if (count == 0) {
      if (std::ferror(file_))
        fail("cannot read input '" + options_.input + "': " + std::strerror(errno));
      atEnd_ = true;
      break;
    }
    bytesRead_ += static_cast<long>(count);
    pending_.append(buffer, count);
  }

  block.swap(pending_);
  pending_.clear();
  return !block.empty();
}

bool TokenInput::next(std::vector<int32_t> &tokens) {
  tokens.clear();
  if (options_.inputFormat != InputFormat::Text) {
    if (idsDelivered_)
      return false;
    idsDelivered_ = true;
    tokens = ids_;
    return true;
  }

  std::string block;
  bool more = readTextBlock(block);
  if (!options_.rawText)
    collapser_.apply(block);
  if (!more && started_)
    return false;

  uint32_t flags = 0;
  if (!started_)
    flags |= RILL_ENCODE_BOS;
  if (prefixDone_)
    flags |= RILL_ENCODE_NO_DUMMY_PREFIX;
  Error error = tokenizer_.encode(block, flags, tokens);
  if (!error.ok())
    fail("cannot tokenize '" + options_.input + "' with '" + options_.tokenizer +
         "': " + error.message());
  prefixDone_ = prefixDone_ || !block.empty();
  started_ = true;
  return true;
}

} // namespace rill::run
