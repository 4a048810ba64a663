//===- Options.h - Command line of rill-run ---------------------*- C++ -*-===//
//
// The parsed command line of rill-run and the parser. Option values are
// validated here, so every mode can trust them. A bad value ends the
// program with a message that names the option and the expected unit.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_TOOLS_RILL_RUN_OPTIONS_H
#define RILL_TOOLS_RILL_RUN_OPTIONS_H

#include <cstdint>
#include <string>

namespace rill::run {

enum class Mode { Perplexity, Generate, Chat, Tokenize };
enum class InputFormat { Text, Ids, Int32 };

struct Options {
  Mode mode = Mode::Perplexity;
  std::string input;       // a file, or "-" for standard input
  bool inputGiven = false; // whether a positional input was named
  std::string model;
  std::string tokenizer;
  InputFormat inputFormat = InputFormat::Text;
  std::string policy = "default";
  int64_t sinks = -1;    // -1: the policy's default
  int64_t capacity = 0;  // 0: the model's default
  int32_t threads = 0;   // 0: the library's default
  int64_t chunk = 64;    // tokens per feed call
  int64_t maxTokens = -1; // -1: the mode's default
  uint64_t seed = 0;
  double temperature = 0.0; // 0: greedy
  double topP = 1.0;        // 1: no nucleus cut
  std::string prompt;
  bool promptGiven = false;
  int64_t segment = 1024; // tokens per CSV row in perplexity mode
  std::string csv;
  bool json = false;
  bool rawText = false;   // keep blank-line runs instead of collapsing them
  bool ignoreEos = false; // keep generating past EOS and BOS
};

/// Parses argv; prints help or an error and exits on --help or bad input.
Options parseOptions(int argc, char **argv);

/// Prints an error naming what failed and exits with status 1.
[[noreturn]] void fail(const std::string &message);

} // namespace rill::run

#endif // RILL_TOOLS_RILL_RUN_OPTIONS_H
