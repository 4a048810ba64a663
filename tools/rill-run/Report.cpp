//===- Report.cpp - Memory, JSON, progress and sampling for rill-run ------===//
//
// Implements Report.h. Softmax, log-likelihood and sampling run in double
// precision over the float32 logits the model writes.
//
//===----------------------------------------------------------------------===//

#include "Report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sys/resource.h>
#include <unistd.h>

namespace rill::run {

int64_t peakResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, 6, "VmHWM:") == 0)
      return std::atoll(line.c_str() + 6) * 1024; // reported in kB
  }
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) == 0)
    return static_cast<int64_t>(usage.ru_maxrss) * 1024; // kB on Linux
  return -1;
}

namespace {

// Length of the valid UTF-8 sequence at text[i], or 0 if it is invalid.
size_t utf8Length(const std::string &text, size_t i) {
  unsigned char c = static_cast<unsigned char>(text[i]);
  size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (length == 0 || i + length > text.size())
    return 0;
  for (size_t k = 1; k < length; ++k)
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80)
      return 0;
  return length;
}

} // namespace

std::string jsonString(const std::string &text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t length = utf8Length(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (length > 1) {
      out.append(text, i, length);
      i += length;
      continue;
    }
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20) {
        char escaped[8];
        std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
        out += escaped;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    ++i;
  }
  return out + "\"";
}

std::string number(double value) {
  if (std::isnan(value) || std::isinf(value))
    return "null";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.10g", value);
  return buffer;
}

Progress::Progress(const char *label)
    : label_(label), enabled_(isatty(STDOUT_FILENO) && isatty(STDERR_FILENO)) {}

Progress::~Progress() {
  if (drawn_)
    std::fprintf(stderr, "\r\033[K");
}

void Progress::update(int64_t tokens, double fraction, double tokensPerSecond) {
  if (!enabled_)
    return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(200))
    return;
  last_ = now;
  drawn_ = true;

  if (fraction >= 0) {
    int filled = static_cast<int>(std::min(1.0, fraction) * 30);
    std::fprintf(stderr, "\r%s [%.*s%.*s] %3d%%  %lld tokens  %.0f tokens/s\033[K", label_,
                 filled, "##############################", 30 - filled,
                 "                              ", static_cast<int>(fraction * 100),
                 static_cast<long long>(tokens), tokensPerSecond);
  } else {
    std::fprintf(stderr, "\r%s %lld tokens  %.0f tokens/s\033[K", label_,
                 static_cast<long long>(tokens), tokensPerSecond);
  }
  std::fflush(stderr);
}

double Sampler::uniform() { return static_cast<double>(random_() >> 11) * 0x1.0p-53; }

int32_t Sampler::sample(const float *logits, int64_t vocab) {
  if (temperature_ == 0.0)
    return static_cast<int32_t>(std::max_element(logits, logits + vocab) - logits);

  double maximum = *std::max_element(logits, logits + vocab);
  candidates_.resize(static_cast<size_t>(vocab));
  double total = 0.0;
  for (int64_t v = 0; v < vocab; ++v) {
    double weight = std::exp((logits[v] - maximum) / temperature_);
    candidates_[v] = {weight, static_cast<int32_t>(v)};
    total += weight;
  }

  // Keep the smallest prefix of tokens sorted by probability (ties by id)
  // whose mass reaches top_p.
  size_t kept = candidates_.size();
  if (topP_ < 1.0) {
    std::sort(candidates_.begin(), candidates_.end(), [](const auto &a, const auto &b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    double mass = 0.0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
      mass += candidates_[i].first / total;
      if (mass >= topP_) {
        kept = i + 1;
        break;
      }
    }
    total = 0.0;
    for (size_t i = 0; i < kept; ++i)
      total += candidates_[i].first;
  }

  double threshold = uniform() * total;
  double cumulative = 0.0;
  for (size_t i = 0; i < kept; ++i) {
    cumulative += candidates_[i].first;
    if (threshold < cumulative)
      return candidates_[i].second;
  }
  return candidates_[kept - 1].second;
}

double negativeLogLikelihood(const float *logits, int64_t vocab, int32_t target) {
  double maximum = *std::max_element(logits, logits + vocab);
  double sum = 0.0;
  for (int64_t v = 0; v < vocab; ++v)
    sum += std::exp(static_cast<double>(logits[v]) - maximum);
  return maximum + std::log(sum) - static_cast<double>(logits[target]);
}

} // namespace rill::run
