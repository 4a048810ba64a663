//===- rill-step-harness.cpp - Stream tokens through @step -----------------===//
//
// JIT-compiles a module that contains the streaming step function of
// docs/streaming.md once (reference pipeline) and calls it many times: the
// caches stay in this process between calls, so a stream of thousands of
// tokens costs one compilation. It runs the four runtime policies the way
// the runtime does (chunks for `sinks`, `window` and `dense`, a fresh
// scratch cache per token for `recompute`) and writes the logits of every
// token to an .npz archive. The numerics tests compare them with the
// float64 numpy reference.
//
//===----------------------------------------------------------------------===//

#include "rill/ExecutionEngine/JitRunner.h"
#include "rill/ExecutionEngine/NumpyIO.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstring>

using namespace mlir;
using namespace mlir::rill;

namespace cl = llvm::cl;

static cl::OptionCategory category("rill-step-harness options");

static cl::opt<std::string> modulePath(cl::Positional, cl::Required,
                                       cl::desc("<step.mlir>"),
                                       cl::cat(category));
static cl::opt<std::string>
    tokensPath("tokens",
               cl::desc("Token ids: an .npz archive with an int64 array "
                        "'tokens' [n]"),
               cl::value_desc("file.npz"), cl::Required, cl::cat(category));
static cl::opt<std::string> outputPath(
    "output", cl::desc("Write 'logits' [count, vocab] float32 here"),
    cl::value_desc("file.npz"), cl::Required, cl::cat(category));
static cl::opt<std::string>
    policy("policy",
           cl::desc("'sinks', 'window', 'dense' or 'recompute' (default "
                    "sinks); the last re-runs the latest capacity tokens "
                    "on a fresh cache per token"),
           cl::init("sinks"), cl::cat(category));
static cl::opt<int64_t> sinks("sinks", cl::desc("Sink slots (default 4)"),
                              cl::init(4), cl::cat(category));
static cl::opt<int64_t> capacity("capacity",
                                 cl::desc("Cache slots (default 64)"),
                                 cl::init(64), cl::cat(category));
static cl::opt<int64_t> chunk("chunk",
                              cl::desc("Tokens per call (default 1)"),
                              cl::init(1), cl::cat(category));
static cl::opt<int64_t> count("count",
                              cl::desc("Tokens to stream, 0 = all (default)"),
                              cl::init(0), cl::cat(category));
static cl::opt<int64_t> kvHeads("kv-heads",
                                cl::desc("Key/value heads of every cache"),
                                cl::Required, cl::cat(category));
static cl::opt<int64_t> headDim("head-dim",
                                cl::desc("Key and value width per head"),
                                cl::Required, cl::cat(category));
static cl::opt<int64_t> jumpAfter(
    "jump-after",
    cl::desc("Token index from which stream positions are shifted by "
             "--jump-by (default: never)"),
    cl::init(-1), cl::cat(category));
static cl::opt<int64_t>
    jumpBy("jump-by", cl::desc("Stream position shift after --jump-after"),
           cl::init(0), cl::cat(category));

static int reportError(llvm::Error error) {
  llvm::WithColor::error(llvm::errs(), "rill-step-harness")
      << llvm::toString(std::move(error)) << "\n";
  return 1;
}

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

namespace {
/// The state of one stream: its caches and the step function's session.
class Stream {
public:
  Stream(JitSession &session, int64_t numLayers)
      : session(session), numLayers(numLayers) {
    reset();
  }

  /// Empties every cache.
  void reset() {
    caches.clear();
    for (int64_t i = 0; i < 2 * numLayers; ++i)
      caches.emplace_back(NumpyDType::Float32,
                          llvm::ArrayRef<int64_t>{1, kvHeads, capacity,
                                                  headDim});
  }

  /// Runs `tokens` as one chunk whose first token is at `position`.
  /// Returns the logits [chunk, vocab] and keeps the updated caches.
  llvm::Expected<NumpyArray> step(llvm::ArrayRef<int64_t> tokens,
                                  int64_t position) {
    std::vector<NumpyArray> arguments;
    arguments.push_back(NumpyArray::fromValues<int64_t>(
        NumpyDType::Int64, {1, static_cast<int64_t>(tokens.size())},
        tokens));
    arguments.push_back(
        NumpyArray::fromValues<int64_t>(NumpyDType::Int64, {1}, {position}));
    int64_t sinkCount = sinks;
    int64_t slotCount = capacity;
    arguments.push_back(
        NumpyArray::fromValues<int64_t>(NumpyDType::Int64, {}, {sinkCount}));
    arguments.push_back(
        NumpyArray::fromValues<int64_t>(NumpyDType::Int64, {}, {slotCount}));
    for (NumpyArray &cache : caches)
      arguments.push_back(std::move(cache));

    llvm::Expected<std::vector<NamedArray>> results =
        session.call("step", arguments);
    if (!results)
      return results.takeError();
    if (results->size() != 1 + caches.size())
      return makeError("expected @step to return the logits and " +
                       llvm::Twine(caches.size()) + " caches (got " +
                       llvm::Twine(results->size()) + " results)");
    for (size_t i = 0; i < caches.size(); ++i)
      caches[i] = std::move((*results)[1 + i].array);
    return std::move(results->front().array);
  }

private:
  JitSession &session;
  int64_t numLayers;
  std::vector<NumpyArray> caches;
};
} // namespace

/// Returns the stream position of token `index`.
static int64_t getStreamPosition(int64_t index) {
  if (jumpAfter >= 0 && index >= jumpAfter)
    return index + jumpBy;
  return index;
}

/// Copies row `row` of `logits` [1, chunk, vocab] to row `target` of `out`.
static void copyRow(const NumpyArray &logits, int64_t row, NumpyArray &out,
                    int64_t target) {
  int64_t vocab = logits.shape.back();
  std::memcpy(out.bytes.data() + target * vocab * sizeof(float),
              logits.bytes.data() + row * vocab * sizeof(float),
              vocab * sizeof(float));
}

static llvm::Error run() {
  llvm::Expected<std::vector<NamedArray>> inputs = readArrayFile(tokensPath);
  if (!inputs)
    return inputs.takeError();
  auto tokensIt = llvm::find_if(
      *inputs, [](const NamedArray &array) { return array.name == "tokens"; });
  if (tokensIt == inputs->end() ||
      tokensIt->array.dtype != NumpyDType::Int64 ||
      tokensIt->array.getRank() != 1)
    return makeError("expected an int64 array 'tokens' [n] in " + tokensPath);
  llvm::ArrayRef<int64_t> tokens = tokensIt->array.getValues<int64_t>();
  int64_t total = count > 0 ? std::min<int64_t>(count, tokens.size())
                            : static_cast<int64_t>(tokens.size());
  if (chunk < 1 || capacity < 1 || sinks < 0 || sinks >= capacity)
    return makeError("expected chunk >= 1 and 0 <= sinks < capacity");

  llvm::Expected<std::unique_ptr<JitSession>> session =
      JitSession::createFromFile(modulePath);
  if (!session)
    return session.takeError();
  const JitFunction *function = (*session)->lookupFunction("step");
  if (!function)
    return makeError("no public function @step in " + modulePath);
  int64_t numLayers =
      (static_cast<int64_t>(function->arguments.size()) - 4) / 2;
  Stream stream(**session, numLayers);

  NumpyArray logits;
  for (int64_t begin = 0; begin < total;) {
    if (policy == "recompute") {
      // The last min(t + 1, capacity) tokens at positions 0.. on a fresh
      // cache; only the last row is kept.
      int64_t first = std::max<int64_t>(0, begin + 1 - capacity);
      stream.reset();
      llvm::Expected<NumpyArray> rows =
          stream.step(tokens.slice(first, begin + 1 - first), 0);
      if (!rows)
        return rows.takeError();
      if (logits.bytes.empty())
        logits = NumpyArray(NumpyDType::Float32, {total, rows->shape.back()});
      copyRow(*rows, rows->shape[1] - 1, logits, begin);
      ++begin;
      continue;
    }

    // A chunk never straddles the position jump.
    int64_t end = std::min<int64_t>(begin + chunk, total);
    if (jumpAfter > begin && jumpAfter < end)
      end = jumpAfter;
    llvm::Expected<NumpyArray> rows = stream.step(
        tokens.slice(begin, end - begin), getStreamPosition(begin));
    if (!rows)
      return rows.takeError();
    if (logits.bytes.empty())
      logits = NumpyArray(NumpyDType::Float32, {total, rows->shape.back()});
    for (int64_t row = 0; row < end - begin; ++row)
      copyRow(*rows, row, logits, begin + row);
    begin = end;
  }
  return writeNpzFile(outputPath, {NamedArray{"logits", std::move(logits)}});
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "Stream token ids through a step function\n");
  if (policy != "sinks" && policy != "window" && policy != "dense" &&
      policy != "recompute") {
    llvm::WithColor::error(llvm::errs(), "rill-step-harness")
        << "invalid --policy '" << policy
        << "'; expected sinks, window, dense or recompute\n";
    return 1;
  }
  if (llvm::Error error = run())
    return reportError(std::move(error));
  return 0;
}
