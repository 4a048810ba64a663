//===- SentencePieceTokenizer.cpp - SentencePiece through libsentencepiece ===//
//
// Wraps sentencepiece::SentencePieceProcessor (Debian's libsentencepiece)
// behind librill's Tokenizer interface. Built only when CMake finds the
// library; otherwise loading a .model file reports RILL_ERROR_UNSUPPORTED.
//
//===----------------------------------------------------------------------===//

#include "Tokenizer.h"

#include <cstdlib>

#ifdef RILL_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

namespace rill::runtime {

#ifdef RILL_HAVE_SENTENCEPIECE

namespace {

// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's marker for a space.
constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";

class SentencePieceTokenizer final : public Tokenizer {
public:
  explicit SentencePieceTokenizer(std::unique_ptr<sentencepiece::SentencePieceProcessor> processor)
      : processor_(std::move(processor)) {}

  rill_tokenizer_kind kind() const override { return RILL_TOKENIZER_SENTENCEPIECE; }
  int64_t vocabSize() const override { return processor_->GetPieceSize(); }
  int32_t bos() const override { return processor_->bos_id(); }
  int32_t eos() const override { return processor_->eos_id(); }

  Status encode(std::string_view text, uint32_t flags,
                std::vector<int32_t> &ids) const override {
    // SentencePiece adds the dummy prefix in its normalizer, as the model's
    // normalizer_spec says, and 0.1.97 offers no per-call switch.
    if (flags & RILL_ENCODE_NO_DUMMY_PREFIX)
      return Status(RILL_ERROR_UNSUPPORTED,
                    "RILL_ENCODE_NO_DUMMY_PREFIX is not supported for SentencePiece "
                    "models; encode the whole text in one call");

    std::vector<int> pieces;
    auto status = processor_->Encode(text, &pieces);
    if (!status.ok())
      return Status(RILL_ERROR_INVALID_ARGUMENT,
                    format("SentencePiece failed to encode the text: %s",
                           status.ToString().c_str()));
    ids.clear();
    if ((flags & RILL_ENCODE_BOS) && bos() >= 0)
      ids.push_back(bos());
    ids.insert(ids.end(), pieces.begin(), pieces.end());
    if ((flags & RILL_ENCODE_EOS) && eos() >= 0)
      ids.push_back(eos());
    return Status::success();
  }

  Status decodePiece(int32_t previous, int32_t token, std::string &text) const override {
    if (Status status = checkId(token); !status.ok())
      return status;
    if (processor_->IsControl(token))
      return Status::success();
    if (processor_->IsUnknown(token)) {
      // SentencePiece's own Decode writes U+2047 DOUBLE QUESTION MARK.
      text.append(" \xE2\x81\x87 ");
      return Status::success();
    }

    const std::string &piece = processor_->IdToPiece(token);
    if (processor_->IsByte(token) && piece.size() == 6) {
      text.push_back(static_cast<char>(std::strtol(piece.substr(3, 2).c_str(), nullptr, 16)));
      return Status::success();
    }

    std::string decoded;
    for (size_t i = 0; i < piece.size();) {
      if (piece.compare(i, kSpaceMarker.size(), kSpaceMarker) == 0) {
        decoded.push_back(' ');
        i += kSpaceMarker.size();
      } else {
        decoded.push_back(piece[i++]);
      }
    }
    bool atStart = previous < 0 || previous == bos();
    if (atStart && !decoded.empty() && decoded[0] == ' ')
      decoded.erase(0, 1);
    text.append(decoded);
    return Status::success();
  }

private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

} // namespace

Status loadSentencePieceTokenizer(const std::string &path,
                                  std::unique_ptr<Tokenizer> &tokenizer) {
  std::string data;
  if (Status status = readFile(path, "SentencePiece model", data); !status.ok())
    return status;
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  auto status = processor->LoadFromSerializedProto(data);
  if (!status.ok())
    return Status(RILL_ERROR_INVALID_FILE,
                  format("'%s' is not a valid SentencePiece model: %s",
                         path.c_str(), status.ToString().c_str()));
  tokenizer = std::make_unique<SentencePieceTokenizer>(std::move(processor));
  return Status::success();
}

#else

Status loadSentencePieceTokenizer(const std::string &path,
                                  std::unique_ptr<Tokenizer> &) {
  return Status(RILL_ERROR_UNSUPPORTED,
                format("cannot read SentencePiece model '%s': this librill was "
                       "built without libsentencepiece; install "
                       "libsentencepiece-dev and rebuild",
                       path.c_str()));
}

#endif

} // namespace rill::runtime
