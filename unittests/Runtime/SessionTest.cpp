//===- SessionTest.cpp - Streaming sessions on the fixture model ----------===//
//
// Tests of rill_session_feed and rill_session_reset. They decode what each
// policy lets every query see from the fixture's probe logits and compare
// it with docs/streaming.md's rules. They also cover mask-exact chunking,
// per-sequence positions in batches, the dense policy's stop, token and
// chunk errors, memory, and sessions in several threads.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestUtils.h"

#include <gtest/gtest.h>

#include <cstring>
#include <dlfcn.h>
#include <thread>

using namespace rill;
using namespace rill::test;

namespace {

struct PolicyCase {
  rill_policy policy;
  int64_t capacity;
  int64_t sinks;
  int64_t chunk;
};

std::string caseName(const testing::TestParamInfo<PolicyCase> &info) {
  return std::string(rill_policy_name(info.param.policy)) + "_cap" +
         std::to_string(info.param.capacity) + "_sinks" +
         std::to_string(info.param.sinks < 0 ? 0 : info.param.sinks) + "_chunk" +
         std::to_string(info.param.chunk);
}

class PolicyVisibility : public testing::TestWithParam<PolicyCase> {};

// Streams 3 * capacity tokens in chunks and checks every query's view.
TEST_P(PolicyVisibility, MatchesStreamingRules) {
  const PolicyCase &c = GetParam();
  Model model;
  ASSERT_TRUE(model.load(fixturePath()).ok());
  Session session;
  Error error = session.create(model, options(c.policy, c.capacity, c.sinks));
  ASSERT_TRUE(error.ok()) << error.message();
  const int64_t sinks = session.info().sinks;

  const int64_t length = c.policy == RILL_POLICY_DENSE ? c.capacity : 3 * c.capacity + 5;
  std::vector<int32_t> stream = makeStream(length, 7);
  std::vector<float> logits;
  for (int64_t start = 0; start < length; start += c.chunk) {
    int64_t n = std::min(c.chunk, length - start);
    logits.assign(n * kFixtureVocab, 0.0f);
    error = session.feed(stream.data() + start, n, logits.data());
    ASSERT_TRUE(error.ok()) << error.message();
    for (int64_t j = 0; j < n; ++j) {
      int64_t t = start + j;
      Probe actual = Probe::fromLogits(logits.data() + j * kFixtureVocab);
      Probe expected = expectedProbe(c.policy, sinks, c.capacity, t, stream);
      ASSERT_EQ(actual, expected) << "token " << t << ": got " << describe(actual)
                                  << ", expected " << describe(expected);
    }
  }
  EXPECT_EQ(session.positions()[0], length);
}

INSTANTIATE_TEST_SUITE_P(
    Policies, PolicyVisibility,
    testing::Values(PolicyCase{RILL_POLICY_SINKS, 16, 4, 1}, PolicyCase{RILL_POLICY_SINKS, 16, 4, 5},
                    PolicyCase{RILL_POLICY_SINKS, 16, 4, 40}, PolicyCase{RILL_POLICY_SINKS, 9, 1, 3},
                    PolicyCase{RILL_POLICY_SINKS, 16, 0, 7}, PolicyCase{RILL_POLICY_WINDOW, 16, -1, 1},
                    PolicyCase{RILL_POLICY_WINDOW, 16, -1, 33}, PolicyCase{RILL_POLICY_DENSE, 40, -1, 1},
                    PolicyCase{RILL_POLICY_DENSE, 40, -1, 8}, PolicyCase{RILL_POLICY_RECOMPUTE, 12, -1, 1},
                    PolicyCase{RILL_POLICY_RECOMPUTE, 12, -1, 10}),
    caseName);

// Feeds the same stream once per token and in one call per `chunk`.
std::vector<float> runStream(const std::string &library, const rill_session_options &opts,
                             const std::vector<int32_t> &stream, int64_t chunk) {
  Model model;
  EXPECT_TRUE(model.load(library).ok());
  Session session;
  Error error = session.create(model, opts);
  EXPECT_TRUE(error.ok()) << error.message();
  std::vector<float> logits(stream.size() * kFixtureVocab);
  for (size_t start = 0; start < stream.size(); start += chunk) {
    int64_t n = std::min<int64_t>(chunk, stream.size() - start);
    error = session.feed(stream.data() + start, n, logits.data() + start * kFixtureVocab);
    EXPECT_TRUE(error.ok()) << error.message();
  }
  return logits;
}

TEST(SessionFeed, ChunkedEqualsTokenByToken) {
  std::vector<int32_t> stream = makeStream(150, 3);
  for (rill_policy policy : {RILL_POLICY_SINKS, RILL_POLICY_WINDOW, RILL_POLICY_RECOMPUTE}) {
    rill_session_options opts = options(policy, 20);
    std::vector<float> single = runStream(fixturePath(), opts, stream, 1);
    std::vector<float> chunked = runStream(fixturePath(), opts, stream, 37);
    EXPECT_EQ(single, chunked) << rill_policy_name(policy);
  }
}

TEST(SessionFeed, SplitsChunksAtMaxChunk) {
  // The chunk3 fixture fails any call with more than 3 tokens, so equal
  // logits show that librill split the 50-token feeds.
  std::vector<int32_t> stream = makeStream(100, 5);
  for (rill_policy policy : {RILL_POLICY_SINKS, RILL_POLICY_RECOMPUTE}) {
    rill_session_options opts = options(policy, 20);
    std::vector<float> reference = runStream(fixturePath(), opts, stream, 1);
    std::vector<float> split = runStream(fixturePath("chunk3"), opts, stream, 50);
    EXPECT_EQ(reference, split) << rill_policy_name(policy);
  }
}

TEST(SessionFeed, NullLogitsAdvancesStream) {
  Model model;
  ASSERT_TRUE(model.load(fixturePath()).ok());
  Session session;
  ASSERT_TRUE(session.create(model, options(RILL_POLICY_SINKS, 16, 4)).ok());
  std::vector<int32_t> stream = makeStream(600, 9);
  ASSERT_TRUE(session.feed(stream.data(), 599, nullptr).ok());
  std::vector<float> logits(kFixtureVocab);
  ASSERT_TRUE(session.feed(stream.data() + 599, 1, logits.data()).ok());
  EXPECT_EQ(Probe::fromLogits(logits.data()), expectedProbe(RILL_POLICY_SINKS, 4, 16, 599, stream));
}

TEST(SessionFeed, TokenOutOfRangeLeavesStateUnchanged) {
  Model model;
  ASSERT_TRUE(model.load(fixturePath()).ok());
  Session session;
  ASSERT_TRUE(session.create(model, options(RILL_POLICY_SINKS)).ok());
  int32_t tokens[4] = {10, 20, 512, 30};
  Error error = session.feed(tokens, 4, nullptr);
  EXPECT_EQ(error.status(), RILL_ERROR_TOKEN_OUT_OF_RANGE);
  EXPECT_NE(error.message().find("token id 512"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("index 2"), std::string::npos) << error.message();
  EXPECT_EQ(session.positions()[0], 0);

  tokens[2] = -1;
  EXPECT_EQ(session.feed(tokens, 4, nullptr).status(), RILL_ERROR_TOKEN_OUT_OF_RANGE);
  EXPECT_EQ(session.positions()[0], 0);
}

TEST(SessionFeed, BadChunkAndBatchRejected) {
  Model model;
  ASSERT_TRUE(model.load(fixturePath()).ok());
  rill_model *handle = model.get();
  rill_session *session = nullptr;
  rill_session_options opts = options(RILL_POLICY_SINKS, 0, -1, 2);
  ASSERT_EQ(rill_session_create(handle, &opts, &session, nullptr), RILL_OK);
  int32_t tokens[4] = {10, 11, 12, 13};

  rill_error *error = nullptr;
  EXPECT_EQ(rill_session_feed(session, tokens, 2, 0, nullptr, &error), RILL_ERROR_CHUNK);
  EXPECT_NE(std::string(rill_error_message(error)).find("chunk = 0"), std::string::npos);
  rill_error_free(error);

  error = nullptr;
  EXPECT_EQ(rill_session_feed(session, tokens, 1, 4, nullptr, &error), RILL_ERROR_CHUNK);
  EXPECT_NE(std::string(rill_error_message(error)).find("batch = 2"), std::string::npos);
  rill_error_free(error);

  EXPECT_EQ(rill_session_feed(session, nullptr, 2, 2, nullptr, nullptr),
            RILL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(rill_session_feed(nullptr, tokens, 2, 2, nullptr, nullptr),
            RILL_ERROR_INVALID_ARGUMENT);
  rill_session_free(session);
}

TEST(SessionFeed, DenseStopsWhenFull) {
  Model model;
  ASSERT_TRUE(model.load(fixturePath()).ok());
  Session session;
  ASSERT_TRUE(session.create(model, options(RILL_POLICY_DENSE, 10)).ok());
  std::vector<int32_t> stream = makeStream(12, 1);
  ASSERT_TRUE(session.feed(stream.data(), 8, nullptr).ok());

  Error error = session.feed(stream.data() + 8, 3, nullptr);
  EXPECT_EQ(error.status(), RILL_ERROR_STREAM_FULL);
  EXPECT_NE(error.message().find("capacity 10"), std::string::npos) << error.message();
  EXPECT_EQ(session.positions()[0], 8);

  // Exactly filling the cache is fine; one more token is not.
  ASSERT_TRUE(session.feed(stream.data() + 8, 2, nullptr).ok());
  EXPECT_EQ(session.feed(stream.data() + 10, 1, nullptr).status(), RILL_ERROR_STREAM_FULL);
  ASSERT_TRUE(session.reset().ok());
  EXPECT_TRUE(session.feed(stream.data(), 1, nullptr).ok());
}

TEST(SessionFeed, StepFailureReported) {
  Model model;
  ASSERT_TRUE(model.load(fixturePath("chunk3")).ok());
  Session session;
  ASSERT_TRUE(session.create(model, options(RILL_POLICY_SINKS, 16)).ok());
  // Token 500 poisons the chunk3 fixture; it sits in the third call of 3.
  int32_t tokens[8] = {10, 11, 12, 13, 14, 15, 500, 17};
  Error error = session.feed(tokens, 8, nullptr);
  EXPECT_EQ(error.status(), RILL_ERROR_STEP_FAILED);
  EXPECT_NE(error.message().find("returned 3"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("6 tokens of this feed"), std::string::npos) << error.message();
  EXPECT_EQ(session.positions()[0], 6);
}

// Three sequences, one of them reset mid-stream: each keeps its own
// positions, cache rows and eviction.
TEST(SessionBatch, PerSequencePositionsAfterReset) {
  for (rill_policy policy : {RILL_POLICY_SINKS, RILL_POLICY_WINDOW, RILL_POLICY_RECOMPUTE}) {
    Model model;
    ASSERT_TRUE(model.load(fixturePath()).ok());
    Session session;
    const int64_t capacity = 12, batch = 3;
    ASSERT_TRUE(session.create(model, options(policy, capacity, -1, batch)).ok());
    const int64_t sinks = session.info().sinks;

    std::vector<std::vector<int32_t>> streams(batch);
    std::vector<int32_t> source = makeStream(400, 11);
    std::vector<int32_t> tokens(batch * 5);
    std::vector<float> logits(batch * 5 * kFixtureVocab);
    size_t next = 0;
    for (int round = 0; round < 12; ++round) {
      if (round == 5) {
        ASSERT_TRUE(session.reset(1).ok());
        streams[1].clear();
      }
      int64_t chunk = 1 + round % 5;
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t j = 0; j < chunk; ++j) {
          tokens[b * chunk + j] = source[next++ % source.size()];
          streams[b].push_back(tokens[b * chunk + j]);
        }
      Error error = session.feed(tokens.data(), chunk, logits.data());
      ASSERT_TRUE(error.ok()) << error.message();

      for (int64_t b = 0; b < batch; ++b) {
        for (int64_t j = 0; j < chunk; ++j) {
          int64_t t = static_cast<int64_t>(streams[b].size()) - chunk + j;
          Probe actual = Probe::fromLogits(logits.data() + (b * chunk + j) * kFixtureVocab);
          Probe expected = expectedProbe(policy, sinks, capacity, t, streams[b]);
          ASSERT_EQ(actual, expected) << rill_policy_name(policy) << " sequence " << b
                                      << " token " << t << ": got " << describe(actual);
        }
      }
    }
    std::vector<int64_t> positions = session.positions();
    EXPECT_EQ(positions[0], int64_t(streams[0].size()));
    EXPECT_EQ(positions[1], int64_t(streams[1].size()));
    EXPECT_LT(positions[1], positions[0]);

    EXPECT_EQ(session.reset(3).status(), RILL_ERROR_INVALID_ARGUMENT);
    ASSERT_TRUE(session.reset(-1).ok());
    EXPECT_EQ(session.positions(), std::vector<int64_t>(batch, 0));
  }
}

TEST(SessionMemory, MatchesGeometryAndStaysFlat) {
  Model model;
  ASSERT_TRUE(model.load(fixturePath()).ok());
  rill_session_options opts = options(RILL_POLICY_SINKS, 64, 4, 2);
  opts.step_chunk = 8;
  Session session;
  ASSERT_TRUE(session.create(model, opts).ok());

  // Fixture: 2 layers, 2 kv heads, head_dim 4, value_dim 3, vocab 512.
  size_t caches = 2 * 2 * 2 * 64 * (4 + 3) * sizeof(float);
  size_t scratch = 2 * 8 * 512 * sizeof(float) + 2 * 8 * sizeof(int64_t) + 2 * sizeof(int64_t);
  EXPECT_EQ(session.memory(), caches + scratch);

  std::vector<int32_t> stream = makeStream(2 * 1000, 2);
  ASSERT_TRUE(session.feed(stream.data(), 1000, nullptr).ok());
  EXPECT_EQ(session.memory(), caches + scratch);
  EXPECT_EQ(session.info().memory_bytes, session.memory());
}

TEST(SessionMemory, RecomputeCountsHistory) {
  Model model;
  ASSERT_TRUE(model.load(fixturePath()).ok());
  Session window, recompute;
  ASSERT_TRUE(window.create(model, options(RILL_POLICY_WINDOW, 32)).ok());
  ASSERT_TRUE(recompute.create(model, options(RILL_POLICY_RECOMPUTE, 32)).ok());
  // Recompute's step_chunk is clamped to the window (32 instead of 256) and
  // it keeps 32 token ids of history.
  size_t windowScratch = 256 * 512 * sizeof(float) + 256 * sizeof(int64_t);
  size_t recomputeScratch = 32 * 512 * sizeof(float) + 32 * sizeof(int64_t) + 32 * sizeof(int32_t);
  EXPECT_EQ(window.memory() - windowScratch, recompute.memory() - recomputeScratch);
}

TEST(SessionThreads, ThreadOptionReachesLibrary) {
  Model model;
  ASSERT_TRUE(model.load(fixturePath()).ok());
  rill_session_options opts = options(RILL_POLICY_SINKS);
  opts.threads = 3;
  Session session;
  ASSERT_TRUE(session.create(model, opts).ok());
  int32_t token = 10;
  ASSERT_TRUE(session.feed(&token, 1, nullptr).ok());

  // The fixture records the last rill_model_set_num_threads value.
  void *handle = dlopen(fixturePath().c_str(), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr);
  auto threads = reinterpret_cast<int32_t (*)()>(dlsym(handle, "rill_fixture_threads"));
  ASSERT_NE(threads, nullptr);
  EXPECT_EQ(threads(), 3);
  dlclose(handle);
}

// Several sessions on one model, each fed from its own thread, give the
// same logits as the same streams fed one after another.
TEST(SessionThreads, ConcurrentSessionsMatchSerial) {
  Model model;
  ASSERT_TRUE(model.load(fixturePath()).ok());
  const int kThreads = 4;
  const int64_t length = 300;

  auto run = [&](int index, std::vector<float> &out) {
    rill_session_options opts = options(index % 2 ? RILL_POLICY_SINKS : RILL_POLICY_RECOMPUTE, 24);
    opts.threads = index + 1;
    Session session;
    if (!session.create(model, opts).ok())
      return;
    std::vector<int32_t> stream = makeStream(length, 100 + index);
    out.assign(length * kFixtureVocab, 0.0f);
    for (int64_t start = 0; start < length; start += 7) {
      int64_t n = std::min<int64_t>(7, length - start);
      if (!session.feed(stream.data() + start, n, out.data() + start * kFixtureVocab).ok()) {
        out.clear();
        return;
      }
    }
  };

  std::vector<std::vector<float>> serial(kThreads), parallel(kThreads);
  for (int i = 0; i < kThreads; ++i)
    run(i, serial[i]);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back(run, i, std::ref(parallel[i]));
  for (std::thread &thread : threads)
    thread.join();
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_EQ(serial[i].size(), size_t(length * kFixtureVocab)) << "thread " << i;
    EXPECT_EQ(serial[i], parallel[i]) << "thread " << i;
  }
}

} // namespace
