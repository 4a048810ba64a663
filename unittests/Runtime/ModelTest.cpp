//===- ModelTest.cpp - Loading compiled model libraries -------------------===//
//
// Tests of rill_model_load and rill_session_create's option checks on the
// fixture libraries: metadata, the errors for missing files, non-libraries,
// libraries without the ABI's symbols or with another ABI version, and
// options outside the model's limits.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestUtils.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

using namespace rill;
using namespace rill::test;

namespace {

TEST(ModelLoad, FixtureMetadata) {
  Model model;
  Error error = model.load(fixturePath());
  ASSERT_TRUE(error.ok()) << error.message();
  const rill_model_metadata &meta = model.metadata();
  EXPECT_EQ(meta.abi_version, uint32_t(RILL_MODEL_ABI_VERSION));
  EXPECT_EQ(meta.is_streaming, 1);
  EXPECT_EQ(meta.vocab_size, 512);
  EXPECT_EQ(meta.default_sinks, 4);
  EXPECT_EQ(meta.default_capacity, 64);
  EXPECT_EQ(meta.max_capacity, 1024);
  EXPECT_STREQ(meta.default_policy, "sinks");
  EXPECT_EQ(std::string(model.path()), fixturePath());
}

TEST(ModelLoad, MissingFileNamesPath) {
  Model model;
  Error error = model.load("/nonexistent/model.so");
  EXPECT_EQ(error.status(), RILL_ERROR_NOT_FOUND);
  EXPECT_NE(error.message().find("/nonexistent/model.so"), std::string::npos) << error.message();
  EXPECT_EQ(model.get(), nullptr);
}

TEST(ModelLoad, TextFileIsNotLibrary) {
  std::string path = testing::TempDir() + "rill_not_a_library.so";
  std::ofstream(path) << "not an ELF file\n";
  Model model;
  Error error = model.load(path);
  EXPECT_EQ(error.status(), RILL_ERROR_LOAD_FAILED);
  EXPECT_NE(error.message().find(path), std::string::npos) << error.message();
  std::remove(path.c_str());
}

TEST(ModelLoad, MissingMetadataSymbol) {
  Model model;
  Error error = model.load(fixturePath("no_metadata"));
  EXPECT_EQ(error.status(), RILL_ERROR_LOAD_FAILED);
  EXPECT_NE(error.message().find("rill_model_metadata_get"), std::string::npos)
      << error.message();
}

TEST(ModelLoad, AbiVersionMismatch) {
  Model model;
  Error error = model.load(fixturePath("abi999"));
  EXPECT_EQ(error.status(), RILL_ERROR_ABI_MISMATCH);
  EXPECT_NE(error.message().find("version 999"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find(fixturePath("abi999")), std::string::npos);
}

TEST(ModelLoad, NotStreamingRejectsSession) {
  Model model;
  ASSERT_TRUE(model.load(fixturePath("not_streaming")).ok());
  Session session;
  Error error = session.create(model, options(RILL_POLICY_DEFAULT));
  EXPECT_EQ(error.status(), RILL_ERROR_INVALID_MODEL);
  EXPECT_NE(error.message().find("is_streaming"), std::string::npos) << error.message();
}

TEST(ModelLoad, NullArgumentsRejected) {
  rill_error *error = nullptr;
  EXPECT_EQ(rill_model_load(nullptr, nullptr, &error), RILL_ERROR_INVALID_ARGUMENT);
  ASSERT_NE(error, nullptr);
  rill_error_free(error);
  // A NULL error pointer is allowed: only the status comes back.
  rill_model *model = nullptr;
  EXPECT_EQ(rill_model_load("/nonexistent.so", &model, nullptr), RILL_ERROR_NOT_FOUND);
}

TEST(ModelLoad, ModelOutlivedBySession) {
  rill_model *model = nullptr;
  ASSERT_EQ(rill_model_load(fixturePath().c_str(), &model, nullptr), RILL_OK);
  rill_session *session = nullptr;
  ASSERT_EQ(rill_session_create(model, nullptr, &session, nullptr), RILL_OK);
  rill_model_free(model);

  // The session keeps the library loaded.
  int32_t tokens[3] = {10, 11, 12};
  std::vector<float> logits(3 * kFixtureVocab);
  EXPECT_EQ(rill_session_feed(session, tokens, 1, 3, logits.data(), nullptr), RILL_OK);
  rill_session_free(session);
}

class SessionOptions : public testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(model.load(fixturePath()).ok()); }

  Error create(const rill_session_options &opts) { return session.create(model, opts); }

  Model model;
  Session session;
};

TEST_F(SessionOptions, DefaultsFromPattern) {
  ASSERT_TRUE(create(options(RILL_POLICY_DEFAULT)).ok());
  EXPECT_EQ(session.info().policy, RILL_POLICY_SINKS);
  EXPECT_EQ(session.info().sinks, 4);
  EXPECT_EQ(session.info().capacity, 64);
  EXPECT_EQ(session.info().window, 60);
  EXPECT_EQ(session.info().batch, 1);
}

TEST_F(SessionOptions, WindowDefaultsHaveNoSinks) {
  ASSERT_TRUE(create(options(RILL_POLICY_WINDOW)).ok());
  EXPECT_EQ(session.info().sinks, 0);
  EXPECT_EQ(session.info().capacity, 64);
}

TEST_F(SessionOptions, DenseDefaultsToTrainedLength) {
  ASSERT_TRUE(create(options(RILL_POLICY_DENSE)).ok());
  EXPECT_EQ(session.info().capacity, 512);
  EXPECT_EQ(session.info().sinks, 0);
}

TEST_F(SessionOptions, RecomputeClampsStepChunk) {
  ASSERT_TRUE(create(options(RILL_POLICY_RECOMPUTE, 16)).ok());
  EXPECT_EQ(session.info().step_chunk, 16);
}

TEST_F(SessionOptions, CapacityWithinMaximum) {
  ASSERT_TRUE(create(options(RILL_POLICY_SINKS, 1024, 4)).ok());
  EXPECT_EQ(session.info().capacity, 1024);
}

TEST_F(SessionOptions, CapacityAboveMaximumRejected) {
  Error error = create(options(RILL_POLICY_SINKS, 1025));
  EXPECT_EQ(error.status(), RILL_ERROR_CAPACITY);
  EXPECT_NE(error.message().find("capacity = 1025"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("1024"), std::string::npos) << error.message();
  EXPECT_EQ(session.get(), nullptr);
}

TEST_F(SessionOptions, SinksNotBelowCapacityRejected) {
  Error error = create(options(RILL_POLICY_SINKS, 8, 8));
  EXPECT_EQ(error.status(), RILL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(error.message().find("sinks = 8"), std::string::npos) << error.message();
}

TEST_F(SessionOptions, SinksWithWindowPolicyRejected) {
  Error error = create(options(RILL_POLICY_WINDOW, 0, 4));
  EXPECT_EQ(error.status(), RILL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(error.message().find("window policy"), std::string::npos) << error.message();
}

TEST_F(SessionOptions, BadValuesRejected) {
  EXPECT_EQ(create(options(RILL_POLICY_SINKS, 0, -1, 0)).status(), RILL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(create(options(RILL_POLICY_SINKS, -5)).status(), RILL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(create(options(static_cast<rill_policy>(9))).status(), RILL_ERROR_INVALID_ARGUMENT);
  rill_session_options threads = options(RILL_POLICY_SINKS);
  threads.threads = -1;
  EXPECT_EQ(create(threads).status(), RILL_ERROR_INVALID_ARGUMENT);
  rill_session_options stepChunk = options(RILL_POLICY_SINKS);
  stepChunk.step_chunk = -1;
  EXPECT_EQ(create(stepChunk).status(), RILL_ERROR_CHUNK);
}

TEST(SessionOptionsChunk3, StepChunkAboveMaxChunkRejected) {
  Model model;
  ASSERT_TRUE(model.load(fixturePath("chunk3")).ok());
  rill_session_options opts = options(RILL_POLICY_SINKS);
  opts.step_chunk = 4;
  Session session;
  Error error = session.create(model, opts);
  EXPECT_EQ(error.status(), RILL_ERROR_CHUNK);
  EXPECT_NE(error.message().find("max_chunk 3"), std::string::npos) << error.message();
}

TEST(PolicyNames, RoundTrip) {
  for (rill_policy policy : {RILL_POLICY_SINKS, RILL_POLICY_WINDOW, RILL_POLICY_DENSE,
                             RILL_POLICY_RECOMPUTE}) {
    rill_policy parsed = RILL_POLICY_DEFAULT;
    EXPECT_EQ(rill_policy_from_name(rill_policy_name(policy), &parsed, nullptr), RILL_OK);
    EXPECT_EQ(parsed, policy);
  }
  rill_policy parsed;
  rill_error *error = nullptr;
  EXPECT_EQ(rill_policy_from_name("sink", &parsed, &error), RILL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(rill_error_message(error)).find("'sink'"), std::string::npos);
  rill_error_free(error);
}

TEST(StatusNames, Known) {
  EXPECT_STREQ(rill_status_name(RILL_OK), "OK");
  EXPECT_STREQ(rill_status_name(RILL_ERROR_CAPACITY), "ERROR_CAPACITY");
  EXPECT_STREQ(rill_status_name(static_cast<rill_status>(99)), "UNKNOWN");
}

} // namespace
