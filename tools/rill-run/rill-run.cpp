//===- rill-run.cpp - Stream text through a compiled model ----------------===//
//
// rill-run loads a library compiled by `rillc`, opens one librill session
// with the chosen cache policy and streams its input through it. The mode
// `perplexity` scores every token, `generate` continues a prompt, `chat`
// continues after every input line, and `tokenize` prints token ids. The
// cache never grows (except up to the dense policy's capacity), so inputs
// far longer than the cache run in constant memory.
//
//===----------------------------------------------------------------------===//

#include "Options.h"
#include "Report.h"
#include "TokenInput.h"

#include "rill/Runtime/Runtime.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

using namespace rill;
using namespace rill::run;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// The model, tokenizer and session of one run, with the feeding loop.
class Runner {
public:
  explicit Runner(const Options &options) : options_(options) {
    if (!options.tokenizer.empty()) {
      Error error = tokenizer_.load(options.tokenizer);
      if (!error.ok())
        fail(error.message() + " (option --tokenizer)");
    }
    if (options.mode == Mode::Tokenize)
      return;

    Error error = model_.load(options.model);
    if (!error.ok())
      fail(error.message() + " (option --model)");
    if (!model_.metadata().is_streaming)
      fail("model '" + options.model +
           "' is not a streaming library (compiled with --no-streaming, or from a graph without a KV cache); "
           "recompile it with rillc from an ONNX export with past_key_values (option --model)");
    vocab_ = model_.metadata().vocab_size;
    if (tokenizer_ && tokenizer_.vocabSize() != vocab_)
      fail("tokenizer '" + options.tokenizer + "' has " + std::to_string(tokenizer_.vocabSize()) +
           " tokens but model '" + options.model + "' has vocab_size " + std::to_string(vocab_) +
           "; pass the tokenizer the model was trained with");

    rill_session_options sessionOptions;
    rill_session_options_init(&sessionOptions);
    rill_policy policy = RILL_POLICY_DEFAULT;
    rill_policy_from_name(options.policy.c_str(), &policy, nullptr);
    sessionOptions.policy = policy;
    sessionOptions.sinks = options.sinks;
    sessionOptions.capacity = options.capacity;
    sessionOptions.threads = options.threads;
    error = session_.create(model_, sessionOptions);
    if (!error.ok())
      fail(error.message() + " (options --policy, --sinks, --capacity, --threads)");

    logits_.resize(static_cast<size_t>(options.chunk * vocab_));
    lastRow_.resize(static_cast<size_t>(vocab_));
  }

  /// Feeds `count` tokens in --chunk pieces. Afterwards lastRow_ contains
  /// the logits of the last token. `score` is called per token with the
  /// logits row of the token before it (nullptr for the stream's first).
  /// Returns the runtime's error, after which fed_ counts the tokens fed.
  template <typename ScoreFn>
  Error tryFeed(const int32_t *tokens, int64_t count, ScoreFn &&score) {
    const rill_session_info &info = session_.info();
    for (int64_t start = 0; start < count;) {
      int64_t n = std::min(options_.chunk, count - start);
      // The dense policy rejects a whole feed that does not fit, so the
      // last feed is cut to the room left and the stream stops exactly
      // when the cache is full.
      if (info.policy == RILL_POLICY_DENSE && fed_ < info.capacity)
        n = std::min(n, info.capacity - fed_);

      auto begin = Clock::now();
      Error error = session_.feed(tokens + start, n, logits_.data());
      feedSeconds_ += secondsSince(begin);
      if (!error.ok())
        return error;

      for (int64_t j = 0; j < n; ++j) {
        const float *previous = j == 0 ? (fed_ > 0 ? lastRow_.data() : nullptr)
                                       : logits_.data() + (j - 1) * vocab_;
        score(tokens[start + j], previous);
      }
      std::copy(logits_.data() + (n - 1) * vocab_, logits_.data() + n * vocab_, lastRow_.begin());
      fed_ += n;
      start += n;
    }
    return Error();
  }

  /// Feeds like tryFeed and ends the program on an error.
  void feed(const int32_t *tokens, int64_t count) {
    Error error = tryFeed(tokens, count, [](int32_t, const float *) {});
    if (!error.ok())
      fail(error.message());
  }

  /// Decodes one generated token after `previous`, or its id without a tokenizer.
  std::string piece(int32_t previous, int32_t token) const {
    if (!tokenizer_)
      return std::to_string(token) + " ";
    std::string text;
    Error error = tokenizer_.decode(&token, 1, text, previous);
    if (!error.ok())
      fail(error.message());
    return text;
  }

  bool isStop(int32_t token) const {
    if (options_.ignoreEos || !tokenizer_)
      return false;
    return token == tokenizer_.eos() || token == tokenizer_.bos();
  }

  /// Prints the policy and cache fields shared by every JSON object.
  std::string sessionJson() const {
    const rill_session_info &info = session_.info();
    return "\"model\": " + jsonString(options_.model) + ", \"policy\": " +
           jsonString(rill_policy_name(static_cast<rill_policy>(info.policy))) +
           ", \"sinks\": " + std::to_string(info.sinks) +
           ", \"capacity\": " + std::to_string(info.capacity) +
           ", \"session_memory_bytes\": " + std::to_string(info.memory_bytes) +
           ", \"peak_rss_bytes\": " + std::to_string(peakResidentBytes());
  }

  std::string sessionText() const {
    const rill_session_info &info = session_.info();
    return std::string("policy ") + rill_policy_name(static_cast<rill_policy>(info.policy)) +
           ", sinks " + std::to_string(info.sinks) + ", capacity " +
           std::to_string(info.capacity) + ", cache and scratch memory " +
           std::to_string(info.memory_bytes) + " bytes";
  }

  const Options &options_;
  Model model_;
  Tokenizer tokenizer_;
  Session session_;
  int64_t vocab_ = 0;
  std::vector<float> logits_;  // [chunk, vocab]
  std::vector<float> lastRow_; // logits of the last token fed
  int64_t fed_ = 0;            // tokens fed so far
  double feedSeconds_ = 0.0;   // time spent in rill_session_feed
};

/// One CSV row per --segment scored tokens.
class SegmentWriter {
public:
  explicit SegmentWriter(const std::string &path) {
    if (path.empty())
      return;
    file_ = std::fopen(path.c_str(), "w");
    if (!file_)
      fail("cannot write --csv file '" + path + "': " + std::strerror(errno));
    std::fprintf(file_, "segment,tokens,mean_nll,perplexity,tokens_per_second\n");
  }
  ~SegmentWriter() {
    if (file_)
      std::fclose(file_);
  }

  void write(int64_t index, int64_t tokens, double nll, double seconds) {
    if (!file_ || tokens == 0)
      return;
    double mean = nll / double(tokens);
    std::fprintf(file_, "%lld,%lld,%s,%s,%s\n", (long long)index, (long long)tokens,
                 number(mean).c_str(), number(std::exp(mean)).c_str(),
                 number(seconds > 0 ? double(tokens) / seconds : 0.0).c_str());
  }

private:
  std::FILE *file_ = nullptr;
};

int runPerplexity(const Options &options) {
  Runner runner(options);
  TokenInput input(options, runner.tokenizer_);
  SegmentWriter csv(options.csv);
  Progress progress("perplexity");

  double totalNll = 0.0, segmentNll = 0.0, segmentFeedStart = 0.0;
  int64_t scored = 0, segmentTokens = 0, segmentIndex = 0;
  const int64_t limit = options.maxTokens; // tokens to score, 0 = all
  bool done = false;

  auto score = [&](int32_t token, const float *previous) {
    if (!previous)
      return;
    double nll = negativeLogLikelihood(previous, runner.vocab_, token);
    totalNll += nll;
    segmentNll += nll;
    ++scored;
    if (++segmentTokens == options.segment) {
      csv.write(segmentIndex++, segmentTokens, segmentNll, runner.feedSeconds_ - segmentFeedStart);
      segmentFeedStart = runner.feedSeconds_;
      segmentNll = 0.0;
      segmentTokens = 0;
    }
  };

  std::vector<int32_t> block;
  Error stopped;
  while (!done && stopped.ok() && input.next(block)) {
    int64_t count = static_cast<int64_t>(block.size());
    if (limit > 0 && runner.fed_ + count > limit + 1) {
      count = limit + 1 - runner.fed_;
      done = true;
    }
    for (int64_t start = 0; start < count && stopped.ok(); start += 4096) {
      int64_t n = std::min<int64_t>(4096, count - start);
      stopped = runner.tryFeed(block.data() + start, n, score);
      progress.update(runner.fed_, input.progress(),
                      runner.feedSeconds_ > 0 ? runner.fed_ / runner.feedSeconds_ : 0.0);
    }
  }
  // The last partial segment is timed up to the end of feeding.
  csv.write(segmentIndex, segmentTokens, segmentNll, runner.feedSeconds_ - segmentFeedStart);

  double meanNll = scored > 0 ? totalNll / double(scored) : NAN;
  double speed = runner.feedSeconds_ > 0 ? double(runner.fed_) / runner.feedSeconds_ : 0.0;
  if (options.json) {
    std::printf("{\"mode\": \"perplexity\", %s, \"tokens\": %lld, \"scored_tokens\": %lld, "
                "\"mean_nll\": %s, \"perplexity\": %s, \"tokens_per_second\": %s}\n",
                runner.sessionJson().c_str(), (long long)runner.fed_, (long long)scored,
                number(meanNll).c_str(), number(std::exp(meanNll)).c_str(),
                number(speed).c_str());
  } else {
    std::printf("tokens: %lld (%lld scored)\n", (long long)runner.fed_, (long long)scored);
    std::printf("mean NLL: %.6f nats\n", meanNll);
    std::printf("perplexity: %.4f\n", std::exp(meanNll));
    std::printf("tokens/s: %.1f\n", speed);
    std::printf("peak resident memory: %.1f MiB (VmHWM)\n",
                double(peakResidentBytes()) / (1024.0 * 1024.0));
    std::printf("%s\n", runner.sessionText().c_str());
  }

  // A full dense cache ends the stream early: the scores so far are printed
  // above, and the non-zero exit status reports that the input was cut short.
  if (!stopped.ok())
    fail(stopped.message() + "; the results above cover the first " +
         std::to_string(runner.fed_) + " tokens");
  return 0;
}

/// Feeds the prompt of generate mode: --prompt, INPUT, or BOS alone.
int32_t feedPrompt(Runner &runner, const Options &options) {
  Progress progress("prompt");
  std::vector<int32_t> tokens;
  int32_t last = -1;

  if (options.inputGiven) {
    TokenInput input(options, runner.tokenizer_);
    while (input.next(tokens)) {
      if (tokens.empty())
        continue;
      runner.feed(tokens.data(), static_cast<int64_t>(tokens.size()));
      last = tokens.back();
      progress.update(runner.fed_, input.progress(), 0.0);
    }
  } else {
    if (!runner.tokenizer_)
      fail("generate needs a prompt: pass --prompt TEXT with --tokenizer, or an INPUT file");
    Error error = runner.tokenizer_.encode(options.prompt, RILL_ENCODE_BOS, tokens);
    if (!error.ok())
      fail("cannot tokenize --prompt: " + error.message());
    runner.feed(tokens.data(), static_cast<int64_t>(tokens.size()));
    last = tokens.back();
  }
  if (runner.fed_ == 0)
    fail("the prompt in '" + options.input + "' has no tokens; pass a non-empty prompt");
  return last;
}

int runGenerate(const Options &options) {
  Runner runner(options);
  int32_t previous = feedPrompt(runner, options);
  int64_t promptTokens = runner.fed_;
  double promptSeconds = runner.feedSeconds_;

  Sampler sampler(options.temperature, options.topP, options.seed);
  std::string text;
  std::vector<int32_t> generated;
  const char *stopReason = "max_tokens";
  for (int64_t i = 0; i < options.maxTokens; ++i) {
    int32_t token = sampler.sample(runner.lastRow_.data(), runner.vocab_);
    if (runner.isStop(token)) {
      stopReason = "eos";
      break;
    }
    std::string piece = runner.piece(previous, token);
    generated.push_back(token);
    if (options.json) {
      text += piece;
    } else {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    runner.feed(&token, 1);
    previous = token;
  }

  double decodeSeconds = runner.feedSeconds_ - promptSeconds;
  double speed = decodeSeconds > 0 ? double(generated.size()) / decodeSeconds : 0.0;
  if (options.json) {
    std::string ids;
    for (size_t i = 0; i < generated.size(); ++i)
      ids += (i ? ", " : "") + std::to_string(generated[i]);
    std::printf("{\"mode\": \"generate\", %s, \"prompt_tokens\": %lld, \"generated_tokens\": "
                "%zu, \"stop_reason\": \"%s\", \"text\": %s, \"tokens\": [%s], "
                "\"tokens_per_second\": %s}\n",
                runner.sessionJson().c_str(), (long long)promptTokens, generated.size(),
                stopReason, jsonString(text).c_str(), ids.c_str(), number(speed).c_str());
  } else {
    std::printf("\n");
    std::fprintf(stderr,
                 "rill-run: %zu tokens generated after a prompt of %lld tokens (%s), %.1f "
                 "tokens/s, peak resident memory %.1f MiB; %s\n",
                 generated.size(), (long long)promptTokens, stopReason, speed,
                 double(peakResidentBytes()) / (1024.0 * 1024.0), runner.sessionText().c_str());
  }
  return 0;
}

int runChat(const Options &options) {
  Runner runner(options);
  Sampler sampler(options.temperature, options.topP, options.seed);
  bool interactive = options.input == "-" && isatty(STDIN_FILENO);

  std::FILE *input = options.input == "-" ? stdin : std::fopen(options.input.c_str(), "rb");
  if (!input)
    fail("cannot open input '" + options.input + "': " + std::strerror(errno));

  // The conversation is one stream: each line (with its newline) follows the
  // previous reply, and only the first turn starts with BOS. SentencePiece
  // adds its dummy-prefix space to every turn.
  bool sentencePiece = runner.tokenizer_.kind() == RILL_TOKENIZER_SENTENCEPIECE;
  BlankLineCollapser collapser;
  int64_t turn = 0;
  int32_t previous = -1;
  std::string line = options.promptGiven ? options.prompt + "\n" : "";
  bool fromPrompt = options.promptGiven;

  for (;;) {
    if (!fromPrompt) {
      if (interactive)
        std::fprintf(stderr, "> ");
      line.clear();
      int c;
      while ((c = std::fgetc(input)) != EOF) {
        line.push_back(static_cast<char>(c));
        if (c == '\n')
          break;
      }
      if (line.empty())
        break;
      if (line.back() != '\n')
        line.push_back('\n');
    }
    fromPrompt = false;
    if (!options.rawText)
      collapser.apply(line);

    uint32_t flags = turn == 0 ? RILL_ENCODE_BOS : 0;
    if (turn > 0 && !sentencePiece)
      flags |= RILL_ENCODE_NO_DUMMY_PREFIX;
    std::vector<int32_t> tokens;
    Error error = runner.tokenizer_.encode(line, flags, tokens);
    if (!error.ok())
      fail("cannot tokenize chat line " + std::to_string(turn + 1) + ": " + error.message());
    if (tokens.empty())
      continue;
    runner.feed(tokens.data(), static_cast<int64_t>(tokens.size()));
    previous = tokens.back();
    double before = runner.feedSeconds_;

    // The reply ends at a stop token, after a newline, or at --max-tokens.
    std::string reply;
    int64_t replyTokens = 0;
    for (int64_t i = 0; i < options.maxTokens; ++i) {
      int32_t token = sampler.sample(runner.lastRow_.data(), runner.vocab_);
      if (runner.isStop(token))
        break;
      std::string piece = runner.piece(previous, token);
      runner.feed(&token, 1);
      previous = token;
      ++replyTokens;
      reply += piece;
      if (!options.json) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
      }
      if (piece.find('\n') != std::string::npos)
        break;
    }

    double seconds = runner.feedSeconds_ - before;
    if (options.json) {
      std::printf("{\"mode\": \"chat\", \"turn\": %lld, \"input_tokens\": %zu, "
                  "\"reply_tokens\": %lld, \"stream_position\": %lld, \"reply\": %s, "
                  "\"tokens_per_second\": %s, %s}\n",
                  (long long)turn, tokens.size(), (long long)replyTokens, (long long)runner.fed_,
                  jsonString(reply).c_str(),
                  number(seconds > 0 ? replyTokens / seconds : 0.0).c_str(),
                  runner.sessionJson().c_str());
    } else if (reply.empty() || reply.back() != '\n') {
      std::printf("\n");
    }
    std::fflush(stdout);
    ++turn;
  }

  if (input != stdin)
    std::fclose(input);
  if (!options.json)
    std::fprintf(stderr, "rill-run: %lld turns, %lld tokens streamed; %s\n", (long long)turn,
                 (long long)runner.fed_, runner.sessionText().c_str());
  return 0;
}

int runTokenize(const Options &options) {
  Runner runner(options);
  TokenInput input(options, runner.tokenizer_);
  std::vector<int32_t> block;
  bool first = true;
  int64_t count = 0;
  if (options.json)
    std::printf("{\"mode\": \"tokenize\", \"tokens\": [");
  while (input.next(block)) {
    for (int32_t token : block) {
      std::printf(options.json ? "%s%d" : "%s%d", first ? "" : (options.json ? ", " : " "), token);
      first = false;
    }
    count += static_cast<int64_t>(block.size());
  }
  if (options.json)
    std::printf("], \"count\": %lld}", (long long)count);
  std::printf("\n");
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Options options = parseOptions(argc, argv);
  try {
    switch (options.mode) {
    case Mode::Perplexity:
      return runPerplexity(options);
    case Mode::Generate:
      return runGenerate(options);
    case Mode::Chat:
      return runChat(options);
    case Mode::Tokenize:
      return runTokenize(options);
    }
  } catch (const std::exception &) {
    // bad_alloc or length_error: rill-run's own buffers scale with --chunk
    // times the vocabulary.
    fail("out of memory; choose a smaller --chunk (now " + std::to_string(options.chunk) + ")");
  }
  return 1;
}
