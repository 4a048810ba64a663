//===- Llama2cTokenizer.cpp - llama2.c byte-pair tokenizer ----------------===//
//
// Encoding follows llama2.c's run.c: the text is split into UTF-8
// codepoints, each looked up in the vocabulary or else written as one
// <0xXX> byte token per byte (id byte + 3), a space token (the "dummy
// prefix") goes in front of non-empty text, and then the adjacent pair whose
// concatenation is a vocabulary entry with the highest merge score is merged
// (leftmost among equal scores) until no pair merges. llama2.c rescans the
// whole sequence after every merge; a priority queue over a linked list
// finds the same merges in O(n log n), which matters for whole books.
//
//===----------------------------------------------------------------------===//

#include "Tokenizer.h"

#include <cstring>
#include <queue>
#include <unordered_map>

namespace rill::runtime {

namespace {

constexpr int32_t kBos = 1;
constexpr int32_t kEos = 2;
constexpr int32_t kByteFallbackOffset = 3;

/// Returns the byte that a piece "<0xXX>" stands for, or -1.
int parseByteToken(const std::string &piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>')
    return -1;
  int value = 0;
  for (int i = 3; i < 5; ++i) {
    char c = piece[i];
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
    if (digit < 0)
      return -1;
    value = value * 16 + digit;
  }
  return value;
}

class Llama2cTokenizer final : public Tokenizer {
public:
  Llama2cTokenizer(std::vector<std::string> vocab, std::vector<float> scores)
      : vocab_(std::move(vocab)), scores_(std::move(scores)) {
    ids_.reserve(vocab_.size());
    // llama2.c finds pieces by binary search, so with duplicate strings any
    // of their ids may win; this keeps the lowest.
    for (size_t i = 0; i < vocab_.size(); ++i)
      ids_.emplace(vocab_[i], static_cast<int32_t>(i));
    byteTokens_.resize(vocab_.size());
    for (size_t i = 0; i < vocab_.size(); ++i)
      byteTokens_[i] = parseByteToken(vocab_[i]);
  }

  rill_tokenizer_kind kind() const override { return RILL_TOKENIZER_LLAMA2C; }
  int64_t vocabSize() const override { return static_cast<int64_t>(vocab_.size()); }
  int32_t bos() const override { return vocabSize() > kBos ? kBos : -1; }
  int32_t eos() const override { return vocabSize() > kEos ? kEos : -1; }

  Status encode(std::string_view text, uint32_t flags,
                std::vector<int32_t> &ids) const override;
  Status decodePiece(int32_t previous, int32_t token,
                     std::string &text) const override;

private:
  Status initialTokens(std::string_view text, bool dummyPrefix,
                       std::vector<int32_t> &tokens) const;
  int32_t lookup(const std::string &piece) const {
    auto it = ids_.find(piece);
    return it == ids_.end() ? -1 : it->second;
  }

  std::vector<std::string> vocab_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int32_t> ids_;
  std::vector<int> byteTokens_; // the byte of each <0xXX> piece, else -1
};

Status Llama2cTokenizer::initialTokens(std::string_view text, bool dummyPrefix,
                                       std::vector<int32_t> &tokens) const {
  tokens.clear();
  if (dummyPrefix && !text.empty()) {
    int32_t space = lookup(" ");
    if (space < 0)
      return Status(RILL_ERROR_INVALID_FILE,
                    "the llama2.c vocabulary has no \" \" token for the dummy prefix; "
                    "encode with RILL_ENCODE_NO_DUMMY_PREFIX");
    tokens.push_back(space);
  }

  // A codepoint starts at every byte that is not a UTF-8 continuation byte
  // and takes at most 4 bytes, so invalid UTF-8 still splits into pieces
  // that the byte fallback can encode.
  std::string piece;
  size_t start = 0;
  for (size_t i = 1; i <= text.size(); ++i) {
    bool atEnd = i == text.size();
    if (!atEnd && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80 && i - start < 4)
      continue;
    piece.assign(text.substr(start, i - start));
    int32_t id = lookup(piece);
    if (id >= 0) {
      tokens.push_back(id);
    } else {
      for (unsigned char byte : piece) {
        int32_t byteId = byte + kByteFallbackOffset;
        if (byteId >= vocabSize())
          return Status(RILL_ERROR_INVALID_FILE,
                        format("byte 0x%02X has no <0x%02X> token: the llama2.c "
                               "vocabulary has %lld entries, fewer than the 259 "
                               "that byte fallback needs",
                               byte, byte, (long long)vocabSize()));
        tokens.push_back(byteId);
      }
    }
    start = i;
  }
  return Status::success();
}

Status Llama2cTokenizer::encode(std::string_view text, uint32_t flags,
                                std::vector<int32_t> &ids) const {
  std::vector<int32_t> tokens;
  if (Status status = initialTokens(text, !(flags & RILL_ENCODE_NO_DUMMY_PREFIX), tokens);
      !status.ok())
    return status;
  const int64_t n = static_cast<int64_t>(tokens.size());

  // A doubly linked list over the initial positions; a merged piece keeps
  // the position of its left part.
  std::vector<int64_t> next(n), prev(n);
  std::vector<char> alive(n, 1);
  for (int64_t i = 0; i < n; ++i) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }

  struct Candidate {
    float score;
    int64_t left;
    int32_t merged, leftToken, rightToken;
  };
  // Highest score first; among equal scores the leftmost pair.
  auto lower = [](const Candidate &a, const Candidate &b) {
    if (a.score != b.score)
      return a.score < b.score;
    return a.left > b.left;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(lower)> queue(lower);

  std::string pair;
  auto push = [&](int64_t i) {
    int64_t j = next[i];
    if (j >= n)
      return;
    pair.assign(vocab_[tokens[i]]);
    pair.append(vocab_[tokens[j]]);
    int32_t merged = lookup(pair);
    if (merged >= 0)
      queue.push({scores_[merged], i, merged, tokens[i], tokens[j]});
  };
  for (int64_t i = 0; i + 1 < n; ++i)
    push(i);

  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    int64_t i = top.left;
    int64_t j = alive[i] ? next[i] : n;
    // Skip candidates made stale by an earlier merge of either piece.
    if (j >= n || tokens[i] != top.leftToken || tokens[j] != top.rightToken)
      continue;

    tokens[i] = top.merged;
    alive[j] = 0;
    next[i] = next[j];
    if (next[j] < n)
      prev[next[j]] = i;
    if (prev[i] >= 0)
      push(prev[i]);
    push(i);
  }

  ids.clear();
  if ((flags & RILL_ENCODE_BOS) && bos() >= 0)
    ids.push_back(bos());
  for (int64_t i = 0; i < n; ++i)
    if (alive[i])
      ids.push_back(tokens[i]);
  if ((flags & RILL_ENCODE_EOS) && eos() >= 0)
    ids.push_back(eos());
  return Status::success();
}

Status Llama2cTokenizer::decodePiece(int32_t previous, int32_t token,
                                     std::string &text) const {
  if (Status status = checkId(token); !status.ok())
    return status;
  if (token == kBos || token == kEos)
    return Status::success();

  const std::string &piece = vocab_[token];
  if (byteTokens_[token] >= 0) {
    text.push_back(static_cast<char>(byteTokens_[token]));
    return Status::success();
  }
  bool afterBos = previous == kBos || previous < 0;
  if (afterBos && !piece.empty() && piece[0] == ' ')
    text.append(piece, 1, std::string::npos);
  else
    text.append(piece);
  return Status::success();
}

} // namespace

Status loadLlama2cTokenizer(const std::string &path,
                            std::unique_ptr<Tokenizer> &tokenizer) {
  std::string data;
  if (Status status = readFile(path, "llama2.c tokenizer", data); !status.ok())
    return status;
  if (data.size() < 4)
    return Status(RILL_ERROR_INVALID_FILE,
                  format("'%s': file has %zu bytes, too short for a llama2.c "
                         "tokenizer header; pass a tokenizer.bin",
                         path.c_str(), data.size()));

  std::vector<std::string> vocab;
  std::vector<float> scores;
  size_t offset = 4; // skip the maximum token length, which encoding does not need
  while (offset < data.size()) {
    if (offset + 8 > data.size())
      return Status(RILL_ERROR_INVALID_FILE,
                    format("'%s': truncated token record at offset %zu; is it a "
                           "llama2.c tokenizer.bin?",
                           path.c_str(), offset));
    float score;
    int32_t length;
    std::memcpy(&score, data.data() + offset, 4);
    std::memcpy(&length, data.data() + offset + 4, 4);
    offset += 8;
    if (length < 0 || static_cast<size_t>(length) > data.size() - offset)
      return Status(RILL_ERROR_INVALID_FILE,
                    format("'%s': invalid token length %d at offset %zu; is it a "
                           "llama2.c tokenizer.bin?",
                           path.c_str(), length, offset - 4));
    vocab.emplace_back(data, offset, static_cast<size_t>(length));
    scores.push_back(score);
    offset += static_cast<size_t>(length);
  }
  if (vocab.size() < 3)
    return Status(RILL_ERROR_INVALID_FILE,
                  format("'%s': the vocabulary has %zu tokens, but llama2.c "
                         "tokenizers start with <unk>, BOS and EOS",
                         path.c_str(), vocab.size()));

  tokenizer = std::make_unique<Llama2cTokenizer>(std::move(vocab), std::move(scores));
  return Status::success();
}

} // namespace rill::runtime
