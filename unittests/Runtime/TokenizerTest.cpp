//===- TokenizerTest.cpp - Tokenizers and token-id files ------------------===//
//
// Tests of librill's llama2.c tokenizer on data/checkpoints/tok512.bin
// (the cross-check against the numpy reference tokenizer on real text is
// in python/tests/test_runtime_tokenizer.py), of the SentencePiece wrapper
// on a model trained at test time with libsentencepiece_train, and of the
// token-id file readers.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestUtils.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#ifdef RILL_TEST_SENTENCEPIECE
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#endif

using namespace rill;
using namespace rill::test;

namespace {

class Llama2c : public testing::Test {
protected:
  void SetUp() override {
    Error error = tokenizer.load(dataPath("checkpoints/tok512.bin"));
    ASSERT_TRUE(error.ok()) << error.message();
  }

  std::string roundTrip(const std::string &text) {
    std::vector<int32_t> ids;
    EXPECT_TRUE(tokenizer.encode(text, RILL_ENCODE_BOS, ids).ok());
    std::string decoded;
    EXPECT_TRUE(tokenizer.decode(ids.data(), ids.size(), decoded).ok());
    return decoded;
  }

  Tokenizer tokenizer;
};

TEST_F(Llama2c, VocabularyAndSpecialIds) {
  EXPECT_EQ(tokenizer.kind(), RILL_TOKENIZER_LLAMA2C);
  EXPECT_EQ(tokenizer.vocabSize(), 512);
  EXPECT_EQ(tokenizer.bos(), 1);
  EXPECT_EQ(tokenizer.eos(), 2);
}

TEST_F(Llama2c, FlagsFrameTheText) {
  std::vector<int32_t> plain, framed;
  ASSERT_TRUE(tokenizer.encode("Once upon a time", 0, plain).ok());
  ASSERT_TRUE(tokenizer.encode("Once upon a time", RILL_ENCODE_BOS | RILL_ENCODE_EOS, framed).ok());
  ASSERT_EQ(framed.size(), plain.size() + 2);
  EXPECT_EQ(framed.front(), 1);
  EXPECT_EQ(framed.back(), 2);
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), framed.begin() + 1));
}

TEST_F(Llama2c, EmptyTextHasNoDummyPrefix) {
  std::vector<int32_t> ids;
  ASSERT_TRUE(tokenizer.encode("", RILL_ENCODE_BOS, ids).ok());
  EXPECT_EQ(ids, std::vector<int32_t>{1});
}

TEST_F(Llama2c, DummyPrefixIsASpace) {
  std::vector<int32_t> with, without, spaced;
  ASSERT_TRUE(tokenizer.encode("a", 0, with).ok());
  ASSERT_TRUE(tokenizer.encode("a", RILL_ENCODE_NO_DUMMY_PREFIX, without).ok());
  ASSERT_TRUE(tokenizer.encode(" a", RILL_ENCODE_NO_DUMMY_PREFIX, spaced).ok());
  EXPECT_EQ(with, spaced);
  EXPECT_NE(with, without);
}

TEST_F(Llama2c, ByteFallbackForUnknownCodepoints) {
  // U+2603 SNOWMAN is not in the 512-token vocabulary: three byte tokens.
  std::vector<int32_t> ids;
  ASSERT_TRUE(tokenizer.encode("\xE2\x98\x83", RILL_ENCODE_NO_DUMMY_PREFIX, ids).ok());
  EXPECT_EQ(ids, (std::vector<int32_t>{0xE2 + 3, 0x98 + 3, 0x83 + 3}));
}

TEST_F(Llama2c, RoundTripsUtf8AndNewlines) {
  for (const std::string &text : {std::string("Once upon a time, there was a cat."),
                                  std::string("Line one\nLine two\n\ttab"),
                                  std::string("caf\xC3\xA9 \xE2\x98\x83 \xE6\x97\xA5\xE6\x9C\xAC"),
                                  std::string("  leading spaces")})
    EXPECT_EQ(roundTrip(text), text);
}

TEST_F(Llama2c, DecodeAfterPreviousToken) {
  std::vector<int32_t> ids;
  ASSERT_TRUE(tokenizer.encode("the cat", 0, ids).ok());
  ASSERT_GE(ids.size(), 2u);
  // The first piece keeps its space when it follows a token that is not BOS.
  std::string first, continued;
  ASSERT_TRUE(tokenizer.decode(ids.data(), 1, first).ok());
  ASSERT_TRUE(tokenizer.decode(ids.data(), 1, continued, ids.back()).ok());
  EXPECT_EQ(" " + first, continued);
}

TEST_F(Llama2c, DecodeRejectsBadId) {
  int32_t ids[2] = {5, 512};
  std::string text;
  Error error = tokenizer.decode(ids, 2, text);
  EXPECT_EQ(error.status(), RILL_ERROR_TOKEN_OUT_OF_RANGE);
  EXPECT_NE(error.message().find("512"), std::string::npos);
}

TEST_F(Llama2c, EncodeBufferProtocol) {
  rill_tokenizer *handle = nullptr;
  ASSERT_EQ(rill_tokenizer_load(dataPath("checkpoints/tok512.bin").c_str(), RILL_TOKENIZER_AUTO,
                                &handle, nullptr),
            RILL_OK);
  const char *text = "Once upon a time";
  int64_t needed = 0;
  EXPECT_EQ(rill_tokenizer_encode(handle, text, std::strlen(text), RILL_ENCODE_BOS, nullptr, 0,
                                  &needed, nullptr),
            RILL_ERROR_BUFFER_TOO_SMALL);
  std::vector<int32_t> ids(needed);
  int64_t count = 0;
  EXPECT_EQ(rill_tokenizer_encode(handle, text, std::strlen(text), RILL_ENCODE_BOS, ids.data(),
                                  needed, &count, nullptr),
            RILL_OK);
  EXPECT_EQ(count, needed);
  rill_tokenizer_free(handle);
}

TEST(Llama2cFile, MissingAndTruncatedFiles) {
  Tokenizer tokenizer;
  Error missing = tokenizer.load("/nonexistent/tokenizer.bin");
  EXPECT_EQ(missing.status(), RILL_ERROR_NOT_FOUND);
  EXPECT_NE(missing.message().find("/nonexistent/tokenizer.bin"), std::string::npos);

  std::string path = testing::TempDir() + "rill_truncated_tokenizer.bin";
  {
    std::ifstream source(dataPath("checkpoints/tok512.bin"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(source)), std::istreambuf_iterator<char>());
    std::ofstream(path, std::ios::binary) << bytes.substr(0, 1001);
  }
  Error truncated = tokenizer.load(path);
  EXPECT_EQ(truncated.status(), RILL_ERROR_INVALID_FILE);
  EXPECT_NE(truncated.message().find(path), std::string::npos) << truncated.message();
  std::remove(path.c_str());
}

#ifdef RILL_TEST_SENTENCEPIECE

// Trains a small BPE model with byte fallback on the start of Frankenstein.
class SentencePiece : public testing::Test {
protected:
  static void SetUpTestSuite() {
    std::ifstream source(dataPath("text/pg84_frankenstein.txt"));
    std::string text((std::istreambuf_iterator<char>(source)), std::istreambuf_iterator<char>());
    std::string input = testing::TempDir() + "rill_spm_input.txt";
    std::ofstream(input) << text.substr(0, 100000);
    prefix = testing::TempDir() + "rill_spm_test";
    auto status = sentencepiece::SentencePieceTrainer::Train(
        "--input=" + input + " --model_prefix=" + prefix +
        " --vocab_size=600 --model_type=bpe --byte_fallback=true --minloglevel=2"
        " --bos_id=1 --eos_id=2 --unk_id=0");
    trained = status.ok();
    message = status.ToString();
    std::remove(input.c_str());
  }

  void SetUp() override {
    ASSERT_TRUE(trained) << "training a SentencePiece model failed: " << message;
    Error error = tokenizer.load(prefix + ".model");
    ASSERT_TRUE(error.ok()) << error.message();
    ASSERT_TRUE(processor.Load(prefix + ".model").ok());
  }

  static inline std::string prefix, message;
  static inline bool trained = false;
  Tokenizer tokenizer;
  sentencepiece::SentencePieceProcessor processor;
};

TEST_F(SentencePiece, MatchesProcessor) {
  EXPECT_EQ(tokenizer.kind(), RILL_TOKENIZER_SENTENCEPIECE);
  EXPECT_EQ(tokenizer.vocabSize(), 600);
  EXPECT_EQ(tokenizer.bos(), 1);
  EXPECT_EQ(tokenizer.eos(), 2);
  const std::string text = "I am by birth a Genevese, and my family is one of the most "
                           "distinguished of that republic.";
  std::vector<int32_t> ids;
  ASSERT_TRUE(tokenizer.encode(text, 0, ids).ok());
  std::vector<int> expected;
  ASSERT_TRUE(processor.Encode(text, &expected).ok());
  EXPECT_EQ(ids, std::vector<int32_t>(expected.begin(), expected.end()));
}

TEST_F(SentencePiece, RoundTripWithByteFallback) {
  const std::string text = "Walton writes to his sister \xE2\x98\x83 caf\xC3\xA9.";
  std::vector<int32_t> ids;
  ASSERT_TRUE(tokenizer.encode(text, RILL_ENCODE_BOS | RILL_ENCODE_EOS, ids).ok());
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(ids.back(), 2);
  std::string decoded;
  ASSERT_TRUE(tokenizer.decode(ids.data(), ids.size(), decoded).ok());
  EXPECT_EQ(decoded, text);
  std::string expected;
  ASSERT_TRUE(processor.Decode(std::vector<int>(ids.begin(), ids.end()), &expected).ok());
  EXPECT_EQ(decoded, expected);
}

TEST_F(SentencePiece, NoDummyPrefixUnsupported) {
  std::vector<int32_t> ids;
  EXPECT_EQ(tokenizer.encode("text", RILL_ENCODE_NO_DUMMY_PREFIX, ids).status(),
            RILL_ERROR_UNSUPPORTED);
}

TEST(SentencePieceFile, InvalidModelRejected) {
  Tokenizer tokenizer;
  Error error = tokenizer.load(dataPath("checkpoints/tok512.bin"), RILL_TOKENIZER_SENTENCEPIECE);
  EXPECT_EQ(error.status(), RILL_ERROR_INVALID_FILE);
  EXPECT_NE(error.message().find("tok512.bin"), std::string::npos) << error.message();
}

#endif // RILL_TEST_SENTENCEPIECE

std::string writeTemp(const std::string &name, const std::string &contents) {
  std::string path = testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

TEST(TokenFile, TextIds) {
  std::string path = writeTemp("rill_ids.txt", "1 22\n333\t4444  \n\n5\n");
  std::vector<int32_t> ids;
  Error error = readTokenFile(path, RILL_TOKEN_FILE_TEXT, ids);
  ASSERT_TRUE(error.ok()) << error.message();
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 22, 333, 4444, 5}));
  std::remove(path.c_str());
}

TEST(TokenFile, TextIdsRejectWordsWithLine) {
  std::string path = writeTemp("rill_bad_ids.txt", "1 2\n3 x4\n");
  std::vector<int32_t> ids;
  Error error = readTokenFile(path, RILL_TOKEN_FILE_TEXT, ids);
  EXPECT_EQ(error.status(), RILL_ERROR_INVALID_FILE);
  EXPECT_NE(error.message().find(path + ":2"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("'x4'"), std::string::npos) << error.message();
  std::remove(path.c_str());
}

TEST(TokenFile, Int32Ids) {
  int32_t values[3] = {7, 300000, -2};
  std::string path = writeTemp("rill_ids.bin", std::string(reinterpret_cast<char *>(values), 12));
  std::vector<int32_t> ids;
  ASSERT_TRUE(readTokenFile(path, RILL_TOKEN_FILE_INT32, ids).ok());
  EXPECT_EQ(ids, (std::vector<int32_t>{7, 300000, -2}));
  std::remove(path.c_str());

  path = writeTemp("rill_odd.bin", "12345");
  Error error = readTokenFile(path, RILL_TOKEN_FILE_INT32, ids);
  EXPECT_EQ(error.status(), RILL_ERROR_INVALID_FILE);
  EXPECT_NE(error.message().find("5 bytes"), std::string::npos) << error.message();
  std::remove(path.c_str());
}

} // namespace
