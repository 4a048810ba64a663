//===- Options.cpp - Command-line parsing and help of rill-run ------------===//
//
// A small parser for `--name value` and `--name=value` options, so that
// rill-run links only librill. The help text lists every option with what
// it sets and its unit.
//
//===----------------------------------------------------------------------===//

#include "Options.h"

#include "rill/Runtime/rill_runtime.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace rill::run {

namespace {

const char *kHelp = R"(rill-run - stream text through a model compiled by rillc

usage: rill-run MODE [options] [INPUT]

MODE
  perplexity   score every token of INPUT; print perplexity, speed and memory
  generate     continue a prompt (--prompt or INPUT) for --max-tokens tokens
  chat         read lines from INPUT (default: standard input); after each
               line the model continues the conversation
  tokenize     print the token ids of INPUT, one line, separated by spaces

INPUT is a text file, or '-' for standard input (the default).

Model and cache
  --model FILE        the shared library written by `rillc model.onnx -o FILE`
                      (required except for tokenize)
  --policy NAME       cache policy: sinks (StreamingLLM), window, dense or
                      recompute; default: the model's default policy
  --sinks N           pinned attention-sink slots (tokens) of the sinks policy;
                      default: the compiled pattern's
  --capacity N        cache slots (tokens) per sequence, at most the model's
                      max_capacity; default: the compiled pattern's capacity,
                      or the trained length for dense
  --threads N         threads of the model's parallel loops; 0 = the library's
                      default (default 0)
  --chunk N           tokens per call into the runtime when feeding input and
                      prompts (default 64); results do not depend on it

Input
  --tokenizer FILE    llama2.c tokenizer.bin, or a SentencePiece .model file;
                      required for text input and for printing generated text
  --input-format F    text (default), ids (decimal token ids separated by
                      whitespace) or int32 (raw little-endian int32 ids)
  --raw-text          keep runs of blank lines; by default every run of
                      newlines becomes one newline, as Rill's evaluations do

Generation
  --prompt TEXT       prompt text for generate and the first chat turn
  --max-tokens N      perplexity: tokens to score, 0 = all (default 0);
                      generate: tokens to generate (default 256);
                      chat: tokens per reply (default 128)
  --temperature T     sampling temperature; 0 = greedy argmax (default 0)
  --top-p P           nucleus sampling: sample from the smallest set of tokens
                      whose probability reaches P, in (0, 1] (default 1 = all)
  --seed N            seed of the sampler's random numbers (default 0)
  --ignore-eos        keep generating after an end-of-sequence token

Output
  --json              print results as JSON (one object; one per turn in chat)
  --csv FILE          perplexity: write one row per segment to FILE with
                      segment, tokens, mean_nll, perplexity, tokens_per_second
  --segment N         tokens per CSV segment (default 1024)
  --help              print this help
  --version           print the runtime and model ABI versions

A progress line goes to standard error only when standard output is a
terminal. Exit status: 0 on success, 1 on a runtime error, 2 on a usage error.
)";

[[noreturn]] void usageError(const std::string &message) {
  std::fprintf(stderr, "rill-run: error: %s\nrun 'rill-run --help' for the options\n",
               message.c_str());
  std::exit(2);
}

int64_t parseInteger(const std::string &option, const std::string &text, int64_t minimum,
                     const char *unit) {
  errno = 0;
  char *end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    usageError("option " + option + ": '" + text + "' is not an integer; pass " + unit);
  if (value < minimum)
    usageError("option " + option + ": " + text + " is too small (expected >= " +
               std::to_string(minimum) + " " + unit + ")");
  return value;
}

double parseReal(const std::string &option, const std::string &text) {
  errno = 0;
  char *end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    usageError("option " + option + ": '" + text + "' is not a number");
  return value;
}

Mode parseMode(const std::string &text) {
  if (text == "perplexity")
    return Mode::Perplexity;
  if (text == "generate")
    return Mode::Generate;
  if (text == "chat")
    return Mode::Chat;
  if (text == "tokenize")
    return Mode::Tokenize;
  usageError("unknown mode '" + text + "' (expected perplexity, generate, chat or tokenize)");
}

} // namespace

void fail(const std::string &message) {
  std::fprintf(stderr, "rill-run: error: %s\n", message.c_str());
  std::exit(1);
}

Options parseOptions(int argc, char **argv) {
  Options options;
  bool modeGiven = false;

  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kHelp, stdout);
      std::exit(0);
    }
    if (arg == "--version") {
      std::printf("rill-run: runtime C API %d, model ABI %d\n", RILL_RUNTIME_API_VERSION,
                  RILL_MODEL_ABI_VERSION);
      std::exit(0);
    }

    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0 || arg == "-") {
      if (!arg.empty() && arg[0] == '-' && arg != "-")
        usageError("unknown option '" + arg + "'");
      if (!modeGiven) {
        options.mode = parseMode(arg);
        modeGiven = true;
      } else if (!options.inputGiven) {
        options.input = arg;
        options.inputGiven = true;
      } else {
        usageError("unexpected argument '" + arg + "': only one INPUT file is read");
      }
      continue;
    }

    // Flags without a value.
    if (arg == "--json") {
      options.json = true;
      continue;
    }
    if (arg == "--raw-text") {
      options.rawText = true;
      continue;
    }
    if (arg == "--ignore-eos") {
      options.ignoreEos = true;
      continue;
    }

    std::string name = arg, value;
    size_t equals = arg.find('=');
    if (equals != std::string::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usageError("option " + arg + " needs a value");
    }

    if (name == "--model") {
      options.model = value;
    } else if (name == "--tokenizer") {
      options.tokenizer = value;
    } else if (name == "--input-format") {
      if (value == "text")
        options.inputFormat = InputFormat::Text;
      else if (value == "ids")
        options.inputFormat = InputFormat::Ids;
      else if (value == "int32")
        options.inputFormat = InputFormat::Int32;
      else
        usageError("option --input-format: unknown format '" + value +
                   "' (expected text, ids or int32)");
    } else if (name == "--policy") {
      rill_policy policy;
      if (rill_policy_from_name(value.c_str(), &policy, nullptr) != RILL_OK)
        usageError("option --policy: unknown policy '" + value +
                   "' (expected sinks, window, dense or recompute)");
      options.policy = value;
    } else if (name == "--sinks") {
      options.sinks = parseInteger(name, value, 0, "sink tokens");
    } else if (name == "--capacity") {
      options.capacity = parseInteger(name, value, 1, "cache slots");
    } else if (name == "--threads") {
      options.threads = static_cast<int32_t>(parseInteger(name, value, 0, "threads"));
    } else if (name == "--chunk") {
      options.chunk = parseInteger(name, value, 1, "tokens");
      if (options.chunk > INT32_MAX)
        usageError("option --chunk: " + value + " is too large (expected <= " +
                   std::to_string(INT32_MAX) + " tokens)");
    } else if (name == "--max-tokens") {
      options.maxTokens = parseInteger(name, value, 0, "tokens");
    } else if (name == "--seed") {
      options.seed = static_cast<uint64_t>(parseInteger(name, value, 0, "a seed"));
    } else if (name == "--temperature") {
      options.temperature = parseReal(name, value);
      if (options.temperature < 0)
        usageError("option --temperature: " + value + " is negative (expected >= 0, 0 = greedy)");
    } else if (name == "--top-p") {
      options.topP = parseReal(name, value);
      if (!(options.topP > 0 && options.topP <= 1))
        usageError("option --top-p: " + value + " is outside (0, 1]");
    } else if (name == "--prompt") {
      options.prompt = value;
      options.promptGiven = true;
    } else if (name == "--segment") {
      options.segment = parseInteger(name, value, 1, "tokens");
    } else if (name == "--csv") {
      options.csv = value;
    } else {
      usageError("unknown option '" + name + "'");
    }
  }

  if (!modeGiven)
    usageError("missing MODE (perplexity, generate, chat or tokenize)");
  if (!options.inputGiven)
    options.input = "-";
  if (options.mode != Mode::Tokenize && options.model.empty())
    usageError("missing --model: pass the .so file that rillc wrote");
  if (options.inputFormat == InputFormat::Text && options.tokenizer.empty() &&
      !(options.mode == Mode::Generate && !options.inputGiven && !options.promptGiven))
    usageError("missing --tokenizer: text input needs the model's tokenizer.bin or "
               ".model file (or pass --input-format ids)");
  if (options.mode == Mode::Chat && options.inputFormat != InputFormat::Text)
    usageError("chat reads text lines, so --input-format must be text");
  if (options.mode == Mode::Generate && options.inputGiven && options.promptGiven)
    usageError("generate takes its prompt from --prompt or from INPUT, not both");
  if (options.mode != Mode::Perplexity && !options.csv.empty())
    usageError("option --csv applies only to perplexity mode");
  if (options.sinks > 0 && options.policy != "sinks" && options.policy != "default")
    usageError("option --sinks applies only to --policy sinks");
  if (options.maxTokens < 0)
    options.maxTokens = options.mode == Mode::Generate ? 256
                        : options.mode == Mode::Chat   ? 128
                                                       : 0;
  return options;
}

} // namespace rill::run
