//===- Streamify.cpp - The rill-streamify pass -----------------*- C++ -*-===//
//
// Rewrites a decoder whose attention layers are rill.attention ops with
// rill.rotary on queries and keys into the streaming step function of
// docs/streaming.md. The rewrite first analyses every layer (rotary ops,
// cache layout, bias, position tables) and reports the first failed
// precondition before it changes anything. It then replaces each layer by
// rill.cache_attention and rill.cache_update, rebuilds the signature and
// removes the code that only computed masks and positions.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/Transforms/Streamify.h"

#include "rill/Dialect/Rill/IR/RillOps.h"
#include "rill/Dialect/Rill/Transforms/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/STLExtras.h"

#define DEBUG_TYPE "rill-streamify"

namespace mlir::rill {
#define GEN_PASS_DEF_RILLSTREAMIFYPASS
#include "rill/Dialect/Rill/Transforms/Passes.h.inc"
} // namespace mlir::rill

using namespace mlir;
using namespace mlir::rill;

/// Returns the name that the options and the function attribute use.
static StringRef getPositionPolicyName(PositionPolicy policy) {
  switch (policy) {
  case PositionPolicy::Rotary:
    return "rotary";
  case PositionPolicy::ClampedAbsolute:
    return "clamped-absolute";
  case PositionPolicy::Original:
    return "original";
  }
  llvm_unreachable("unknown position policy");
}


static constexpr llvm::StringLiteral kNameAttrName = "rill.name";

namespace {

/// Parameters of the theta-based angles of one rotary op.
struct RotaryParameters {
  double theta = 10000.0;
  int64_t rotaryDim = 0;
  bool interleaved = false;
};

/// Analysis result for one attention layer.
struct StreamingLayer {
  AttentionOp attention;
  /// The unrotated query, key and the chunk's value.
  Value query, key, value;
  /// The rotary parameters, when the layer uses RoPE.
  std::optional<RotaryParameters> rotary;
  /// Optimum layout: the past-key/value arguments and the concatenations
  /// that the function returns as presents.
  BlockArgument pastKey, pastValue;
  Value presentKey, presentValue;
};

} // namespace

/// Returns the `rill.name` of argument `index` of `func`, or "".
static StringRef getArgumentName(func::FuncOp func, unsigned index) {
  if (auto name = func.getArgAttrOfType<StringAttr>(index, kNameAttrName))
    return name.getValue();
  return "";
}

/// Returns the argument named `name`, or null.
static BlockArgument findArgument(func::FuncOp func, StringRef name) {
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (getArgumentName(func, i) == name)
      return func.getArgument(i);
  return nullptr;
}

/// Returns the token-id argument: the one named `input_ids`, else the first
/// argument if it is a rank-2 integer tensor.
static BlockArgument findTokenArgument(func::FuncOp func) {
  if (BlockArgument named = findArgument(func, "input_ids"))
    return named;
  if (func.getNumArguments() == 0)
    return nullptr;
  auto type = dyn_cast<RankedTensorType>(func.getArgument(0).getType());
  if (type && type.getRank() == 2 && type.getElementType().isInteger())
    return func.getArgument(0);
  return nullptr;
}

/// Returns the op that reads a learned absolute position table with
/// `positionIds`: a linalg.generic fed (directly or through reshapes and
/// casts) by the position ids whose body extracts from a rank-2 constant
/// defined outside it. Returns null when there is none.
static Operation *findLearnedPositionTable(Value positionIds) {
  SmallVector<Value> worklist = {positionIds};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (isa<RotaryOp>(user))
        continue;
      auto generic = dyn_cast<linalg::GenericOp>(user);
      if (!generic) {
        if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp,
                arith::IndexCastOp>(user))
          llvm::append_range(worklist, user->getResults());
        continue;
      }
      Operation *found = nullptr;
      generic.getBody()->walk([&](tensor::ExtractOp extract) {
        Operation *tableOp = extract.getTensor().getDefiningOp();
        if (tableOp && tableOp->hasTrait<OpTrait::ConstantLike>() &&
            extract.getTensor().getType().getRank() == 2 &&
            !generic->isProperAncestor(tableOp))
          found = generic;
      });
      if (found)
        return found;
    }
  }
  return nullptr;
}

/// Returns true if the backward slice of `value` reads the argument `arg`.
static bool dependsOn(Value value, BlockArgument arg) {
  if (value == arg)
    return true;
  Operation *root = value.getDefiningOp();
  if (!root)
    return false;
  BackwardSliceOptions options;
  options.omitUsesFromAbove = false;
  SetVector<Operation *> slice;
  (void)getBackwardSlice(root, &slice, options);
  slice.insert(root);
  for (Operation *op : slice) {
    bool found = false;
    op->walk([&](Operation *nested) {
      if (llvm::is_contained(nested->getOperands(), Value(arg)))
        found = true;
    });
    if (found)
      return true;
  }
  return false;
}

/// Reads the rotary parameters of `rotary`, turning tables into theta.
static FailureOr<RotaryParameters> analyzeRotary(RotaryOp rotary,
                                                 StringRef role) {
  RotaryParameters parameters;
  parameters.rotaryDim = rotary.getEffectiveRotaryDim();
  parameters.interleaved = rotary.getInterleaved();
  parameters.theta = rotary.getTheta().convertToDouble();
  if (ShapedType::isDynamic(parameters.rotaryDim))
    return rotary.emitError()
           << "rill-streamify: expected a static rotary dimension on the "
           << role << " rill.rotary (set rotary_dim or a static head size)";
  if (!rotary.getCosTable())
    return parameters;

  std::string reason;
  FailureOr<double> theta =
      recoverRotaryTheta(rotary.getCosTable(), rotary.getSinTable(),
                         parameters.rotaryDim, reason);
  if (failed(theta))
    return rotary.emitError()
           << "rill-streamify: cannot stream the " << role
           << " rill.rotary with cos/sin tables: " << reason;
  parameters.theta = *theta;
  return parameters;
}

/// Splits `operand` into an optional past argument and the chunk's part:
/// either the chunk's tensor itself, or `tensor.concat dim(2) %past,
/// %chunk` with `%past` a function argument.
static LogicalResult splitCacheOperand(AttentionOp attention, Value operand,
                                       StringRef role, BlockArgument &past,
                                       Value &chunk, Value &present) {
  chunk = operand;
  auto concat = operand.getDefiningOp<tensor::ConcatOp>();
  if (!concat)
    return success();
  auto pastArgument = dyn_cast<BlockArgument>(concat.getInputs().front());
  if (concat.getDim() != 2 || concat.getInputs().size() != 2 ||
      !pastArgument)
    return attention.emitError()
           << "rill-streamify: unsupported cache layout for the " << role
           << " of rill.attention: expected the chunk's " << role
           << "s or 'tensor.concat dim(2)' of a past-" << role
           << " function argument and the chunk's " << role << "s";
  past = pastArgument;
  chunk = concat.getInputs()[1];
  present = operand;
  return success();
}

/// Analyses one layer; emits an error and fails on a precondition.
static FailureOr<StreamingLayer>
analyzeLayer(AttentionOp attention, BlockArgument attentionMask,
             const StreamifyOptions &options) {
  StreamingLayer layer;
  layer.attention = attention;
  if (failed(splitCacheOperand(attention, attention.getKey(), "key",
                               layer.pastKey, layer.key, layer.presentKey)) ||
      failed(splitCacheOperand(attention, attention.getValue(), "value",
                               layer.pastValue, layer.value,
                               layer.presentValue)))
    return failure();
  if (!layer.pastKey != !layer.pastValue)
    return attention.emitError()
           << "rill-streamify: unsupported cache layout: expected both or "
              "neither of the key and value of rill.attention to be "
              "concatenated with past arguments";

  // NOTE: the mask only has to be causal. Its sinks and window (per layer
  // or per head) are replaced by the run-time sinks and capacity.
  if (!attention.getMask().isCausal())
    return attention.emitError()
           << "rill-streamify: expected a causal mask on rill.attention "
              "(got "
           << attention.getMask() << ")";
  if (!attention.getScale() &&
      ShapedType::isDynamic(attention.getQuery().getType().getDimSize(3)))
    return attention.emitError()
           << "rill-streamify: expected a scale attribute or a static head "
              "size on rill.attention";
  // NOTE: any bias that reads attention_mask is taken for a padding mask
  // and dropped, even one that also adds real scores (ALiBi-style).
  if (Value bias = attention.getBias()) {
    if (!attentionMask || !dependsOn(bias, attentionMask))
      return attention.emitError()
             << "rill-streamify: expected rill.attention without bias, or "
                "with a padding bias computed from 'attention_mask' (which "
                "a stream does not have)";
  }

  auto queryRotary = attention.getQuery().getDefiningOp<RotaryOp>();
  auto keyRotary = layer.key.getDefiningOp<RotaryOp>();
  if (!queryRotary || !keyRotary) {
    if (options.positionPolicy == PositionPolicy::ClampedAbsolute &&
        !queryRotary && !keyRotary) {
      layer.query = attention.getQuery();
      return layer;
    }
    return attention.emitError()
           << "rill-streamify: expected the query and the key of "
              "rill.attention to be rill.rotary results (no rotary found on "
              "the "
           << (queryRotary ? "key" : "query")
           << "); run rill-fuse-attention first, use "
              "'position-policy=clamped-absolute' (rillc "
              "--position-policy=clamped-absolute) for a model without RoPE, "
              "or compile the plain graph (rillc --no-streaming)";
  }

  FailureOr<RotaryParameters> queryParameters =
      analyzeRotary(queryRotary, "query");
  if (failed(queryParameters))
    return failure();
  FailureOr<RotaryParameters> keyParameters = analyzeRotary(keyRotary, "key");
  if (failed(keyParameters))
    return failure();
  if (queryParameters->rotaryDim != keyParameters->rotaryDim ||
      queryParameters->interleaved != keyParameters->interleaved ||
      queryParameters->theta != keyParameters->theta)
    return attention.emitError()
           << "rill-streamify: expected the same rotary embedding on the "
              "query and the key of rill.attention";
  layer.rotary = *queryParameters;
  layer.query = queryRotary.getInput();
  layer.key = keyRotary.getInput();
  return layer;
}

/// Returns a `[B, T]` i64 tensor whose element (b, t) `fn` computes from
/// the chunk start of batch b and t, both `index`.
static Value
buildPositionTensor(OpBuilder &builder, Location loc, Value tokens,
                    Value positions,
                    llvm::function_ref<Value(OpBuilder &, Location, Value,
                                             Value)>
                        fn) {
  Value batch = tensor::DimOp::create(builder, loc, tokens, 0);
  Value length = tensor::DimOp::create(builder, loc, tokens, 1);
  Value init = tensor::EmptyOp::create(
      builder, loc, ArrayRef<OpFoldResult>{batch, length},
      builder.getI64Type());
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(2, builder.getContext())};
  SmallVector<utils::IteratorType> iterators(2, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             builder, loc, init.getType(), ValueRange{}, ValueRange{init},
             maps, iterators,
             [&](OpBuilder &b, Location l, ValueRange) {
               Value batchIndex = linalg::IndexOp::create(b, l, 0);
               Value token = linalg::IndexOp::create(b, l, 1);
               Value start = arith::IndexCastOp::create(
                   b, l, b.getIndexType(),
                   tensor::ExtractOp::create(b, l, positions,
                                             ValueRange{batchIndex}));
               Value position = fn(b, l, start, token);
               linalg::YieldOp::create(
                   b, l,
                   arith::IndexCastOp::create(b, l, b.getI64Type(), position)
                       .getResult());
             })
      .getResult(0);
}

/// The defaults recorded for the runtime. `capacity` is unset when neither
/// the options nor the mask bound the window (a plain causal model).
struct StreamingDefaults {
  int64_t sinks = 0;
  std::optional<int64_t> capacity;
};

/// Resolves the default geometry recorded for the runtime.
static FailureOr<StreamingDefaults>
resolveDefaults(func::FuncOp func, AttentionOp first,
                const StreamifyOptions &options) {
  MaskAttrInterface mask = first.getMask();
  std::optional<int64_t> lookback = mask.getMaxLookback();
  bool sinksPolicy = options.policy == "sinks";
  StreamingDefaults defaults;
  defaults.sinks = options.sinks.value_or(
      lookback && mask.getNumSinkKeys() > 0 ? mask.getNumSinkKeys()
                                            : (sinksPolicy ? 4 : 0));
  if (!sinksPolicy && defaults.sinks != 0)
    return func.emitError() << "rill-streamify: policy '" << options.policy
                            << "' needs sinks=0 (got " << defaults.sinks
                            << ")";

  std::optional<int64_t> window = options.window;
  if (!window && options.capacity)
    window = *options.capacity - defaults.sinks;
  if (!window && lookback)
    window = *lookback;
  if (!window)
    return defaults;
  defaults.capacity = options.capacity.value_or(defaults.sinks + *window);
  if (defaults.sinks < 0 || *window < 1 ||
      *defaults.capacity != defaults.sinks + *window)
    return func.emitError()
           << "rill-streamify: expected sinks >= 0, window >= 1 and capacity "
              "= sinks + window (got sinks "
           << defaults.sinks << ", window " << *window << ", capacity "
           << *defaults.capacity << ")";
  return defaults;
}

/// Erases the ops of `func` whose results are unused and that have no side
/// effects, until none is left.
static void eraseDeadOps(RewriterBase &rewriter, func::FuncOp func) {
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<Operation *> dead;
    func.getBody().walk<WalkOrder::PostOrder>([&](Operation *op) {
      if (op != func && op->getParentOp() == func && isOpTriviallyDead(op))
        dead.push_back(op);
    });
    for (Operation *op : llvm::reverse(dead)) {
      if (!isOpTriviallyDead(op))
        continue;
      rewriter.eraseOp(op);
      changed = true;
    }
  }
}

FailureOr<func::FuncOp>
mlir::rill::streamifyFunction(RewriterBase &rewriter, func::FuncOp func,
                              const StreamifyOptions &options) {
  MLIRContext *context = func.getContext();
  BlockArgument tokens = findTokenArgument(func);
  if (!tokens)
    return func.emitError() << "rill-streamify: expected an argument named "
                               "'input_ids' or a first argument of token ids "
                               "[batch, sequence]";
  BlockArgument positionIds = findArgument(func, "position_ids");
  BlockArgument attentionMask = findArgument(func, "attention_mask");

  // A learned absolute position table cannot be re-positioned after
  // eviction, so it only streams under the named approximation.
  Operation *positionTable =
      positionIds ? findLearnedPositionTable(positionIds) : nullptr;
  if (positionTable &&
      options.positionPolicy != PositionPolicy::ClampedAbsolute)
    return positionTable->emitError()
           << "rill-streamify: this op reads a learned absolute position "
              "table with 'position_ids'; absolute positions cannot be "
              "re-positioned after eviction, so the model cannot stream "
              "exactly. Pass 'position-policy=clamped-absolute' (rillc "
              "--position-policy=clamped-absolute) to read the table at "
              "min(t, capacity - 1) instead (an approximation), or compile "
              "the plain graph (rillc --no-streaming)";

  // Analyse every layer before changing anything.
  SmallVector<StreamingLayer> layers;
  WalkResult walk = func.walk([&](AttentionOp attention) {
    FailureOr<StreamingLayer> layer =
        analyzeLayer(attention, attentionMask, options);
    if (failed(layer))
      return WalkResult::interrupt();
    layers.push_back(*layer);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  if (layers.empty())
    return func.emitError() << "rill-streamify: expected rill.attention ops "
                               "in the function (run rill-fuse-attention)";
  FailureOr<StreamingDefaults> defaults =
      resolveDefaults(func, layers.front().attention, options);
  if (failed(defaults))
    return failure();

  // New arguments after the token ids: positions, sinks and capacity, then
  // one key and one value cache per layer.
  Location loc = func.getLoc();
  unsigned originalArguments = func.getNumArguments();
  auto nameAttr = [&](StringRef name) {
    return DictionaryAttr::get(
        context, {NamedAttribute(StringAttr::get(context, kNameAttrName),
                                 StringAttr::get(context, name))});
  };
  Type indexType = rewriter.getIndexType();
  auto positionsType =
      RankedTensorType::get({ShapedType::kDynamic}, rewriter.getI64Type());
  Type elementType =
      layers.front().attention.getQuery().getType().getElementType();
  auto cacheType = RankedTensorType::get(
      SmallVector<int64_t>(4, ShapedType::kDynamic), elementType);
  unsigned base = func.getNumArguments();
  if (failed(func.insertArguments(
          {base, base, base},
          {positionsType, indexType, indexType},
          {nameAttr("positions"), nameAttr("sinks"), nameAttr("capacity")},
          {loc, loc, loc})))
    return failure();
  Value positions = func.getArgument(base);
  Value sinks = func.getArgument(base + 1);
  Value capacity = func.getArgument(base + 2);
  for (auto [index, layer] : llvm::enumerate(layers)) {
    unsigned at = func.getNumArguments();
    std::string suffix = std::to_string(index);
    if (failed(func.insertArguments(
            {at, at}, {cacheType, cacheType},
            {nameAttr("key_cache_" + suffix), nameAttr("value_cache_" + suffix)},
            {loc, loc})))
      return failure();
  }

  // Stream positions, the sink-segment query positions and, for learned
  // tables, the clamped positions; all [B, T] i64.
  rewriter.setInsertionPointToStart(&func.getBody().front());
  Value streamPositions = buildPositionTensor(
      rewriter, loc, tokens, positions,
      [](OpBuilder &b, Location l, Value start, Value token) -> Value {
        return arith::AddIOp::create(b, l, start, token);
      });
  auto buildClamped = [&](OpBuilder &b, Location l, Value start,
                          Value token) -> Value {
    Value one = arith::ConstantIndexOp::create(b, l, 1);
    Value last = arith::SubIOp::create(b, l, capacity, one);
    Value position = arith::AddIOp::create(b, l, start, token);
    return arith::MinSIOp::create(b, l, position, last);
  };
  Value sinkQueryPositions;
  if (options.prefill == StreamingPrefill::MaskExact) {
    sinkQueryPositions =
        buildPositionTensor(rewriter, loc, tokens, positions, buildClamped);
  } else {
    // The reference's cache holds min(s, capacity) tokens before the chunk
    // and appends the chunk after them.
    sinkQueryPositions = buildPositionTensor(
        rewriter, loc, tokens, positions,
        [&](OpBuilder &b, Location l, Value start, Value token) -> Value {
          Value filled = arith::MinSIOp::create(b, l, start, capacity);
          return arith::AddIOp::create(b, l, filled, token);
        });
  }

  // Learned tables read the clamped positions.
  if (positionIds &&
      options.positionPolicy == PositionPolicy::ClampedAbsolute) {
    Value clamped =
        buildPositionTensor(rewriter, loc, tokens, positions, buildClamped);
    if (clamped.getType() != positionIds.getType())
      clamped = tensor::CastOp::create(rewriter, loc, positionIds.getType(),
                                       clamped);
    rewriter.replaceUsesWithIf(positionIds, clamped, [](OpOperand &use) {
      return !isa<RotaryOp>(use.getOwner());
    });
  }

  // Replace every layer.
  SmallVector<Value> newCaches;
  UnitAttr denseWithinChunk =
      options.prefill == StreamingPrefill::DenseWithinChunk
          ? rewriter.getUnitAttr()
          : UnitAttr();
  for (auto [index, layer] : llvm::enumerate(layers)) {
    AttentionOp attention = layer.attention;
    rewriter.setInsertionPoint(attention);
    Location layerLoc = attention.getLoc();
    Value query = layer.query, querySink = layer.query, key = layer.key;
    if (layer.rotary) {
      const RotaryParameters &rotary = *layer.rotary;
      auto rotate = [&](Value input, Value at) -> Value {
        return RotaryOp::create(rewriter, layerLoc, input, at, rotary.theta,
                                rotary.rotaryDim, rotary.interleaved);
      };
      query = rotate(layer.query, streamPositions);
      querySink = options.positionPolicy == PositionPolicy::Original
                      ? query
                      : rotate(layer.query, sinkQueryPositions);
      key = rotate(layer.key, streamPositions);
    }

    Value keyCache = func.getArgument(base + 3 + 2 * index);
    Value valueCache = func.getArgument(base + 4 + 2 * index);
    auto cacheAttention = CacheAttentionOp::create(
        rewriter, layerLoc, attention.getType(), query, querySink, key,
        layer.value, keyCache, valueCache, positions, sinks, capacity,
        attention.getSinkLogits(),
        rewriter.getF32FloatAttr(
            static_cast<float>(attention.getEffectiveScale())),
        attention.getSoftcapAttr(), denseWithinChunk);
    auto update = CacheUpdateOp::create(
        rewriter, layerLoc, TypeRange{cacheType, cacheType}, key, layer.value,
        keyCache, valueCache, positions, sinks, capacity);
    rewriter.replaceOp(attention, cacheAttention.getResult());
    newCaches.push_back(update.getNewKeyCache());
    newCaches.push_back(update.getNewValueCache());
  }

  // Results: everything but the presents, then the caches.
  auto returnOp = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  SmallVector<Value> presents;
  for (const StreamingLayer &layer : layers)
    if (layer.presentKey)
      presents.append({layer.presentKey, layer.presentValue});
  SmallVector<Value> results;
  SmallVector<DictionaryAttr> resultNames;
  for (auto [index, operand] : llvm::enumerate(returnOp.getOperands())) {
    if (llvm::is_contained(presents, operand))
      continue;
    results.push_back(operand);
    resultNames.push_back(func.getResultAttrDict(index));
  }
  for (auto [index, cache] : llvm::enumerate(newCaches)) {
    results.push_back(cache);
    resultNames.push_back(nameAttr(
        (index % 2 == 0 ? "key_cache_" : "value_cache_") +
        std::to_string(index / 2)));
  }
  rewriter.setInsertionPoint(returnOp);
  func::ReturnOp::create(rewriter, returnOp.getLoc(), results);
  rewriter.eraseOp(returnOp);
  eraseDeadOps(rewriter, func);

  if (positionIds && !positionIds.use_empty())
    return (*positionIds.getUsers().begin())->emitError()
           << "rill-streamify: expected 'position_ids' to be used only by "
              "rill.rotary ops and learned position tables";

  // The original arguments other than the token ids must be dead now.
  llvm::BitVector erase(func.getNumArguments());
  for (unsigned i = 0; i < originalArguments; ++i) {
    BlockArgument argument = func.getArgument(i);
    if (argument == tokens)
      continue;
    if (!argument.use_empty())
      return (*argument.getUsers().begin())->emitError()
             << "rill-streamify: expected argument '"
             << getArgumentName(func, i)
             << "' to be used only by the attention, rotary and mask "
                "computations that the step function replaces";
    erase.set(i);
  }
  if (failed(func.eraseArguments(erase)))
    return failure();

  SmallVector<Type> resultTypes = llvm::to_vector(ValueRange(results).getTypes());
  func.setType(FunctionType::get(context, func.getArgumentTypes(), resultTypes));
  func.setAllResultAttrs(resultNames);
  func.setSymName("step");

  func->setAttr(kStreamingSinksAttrName,
                rewriter.getI64IntegerAttr(defaults->sinks));
  if (defaults->capacity)
    func->setAttr(kStreamingCapacityAttrName,
                  rewriter.getI64IntegerAttr(*defaults->capacity));
  func->setAttr(kStreamingPolicyAttrName, rewriter.getStringAttr(options.policy));
  func->setAttr(kStreamingPrefillAttrName,
                rewriter.getStringAttr(options.prefill ==
                                               StreamingPrefill::MaskExact
                                           ? "mask-exact"
                                           : "dense-within-chunk"));
  func->setAttr(kStreamingPositionPolicyAttrName,
                rewriter.getStringAttr(
                    getPositionPolicyName(options.positionPolicy)));
  return func;
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {

struct RillStreamifyPass
    : rill::impl::RillStreamifyPassBase<RillStreamifyPass> {
  using RillStreamifyPassBase::RillStreamifyPassBase;

  /// Converts the pass options; emits an error naming a bad option.
  FailureOr<StreamifyOptions> getOptions() {
    StreamifyOptions result;
    ModuleOp module = getOperation();
    if (!llvm::is_contained({"sinks", "window", "dense", "recompute"},
                            StringRef(policy)))
      return module.emitError()
             << "rill-streamify: invalid 'policy' option '" << policy
             << "'; expected 'sinks', 'window', 'dense' or 'recompute'";
    result.policy = policy;

    if (prefill == "mask-exact")
      result.prefill = StreamingPrefill::MaskExact;
    else if (prefill == "dense-within-chunk")
      result.prefill = StreamingPrefill::DenseWithinChunk;
    else
      return module.emitError()
             << "rill-streamify: invalid 'prefill' option '" << prefill
             << "'; expected 'mask-exact' or 'dense-within-chunk'";

    if (positionPolicy == "rotary")
      result.positionPolicy = PositionPolicy::Rotary;
    else if (positionPolicy == "clamped-absolute")
      result.positionPolicy = PositionPolicy::ClampedAbsolute;
    else if (positionPolicy == "original")
      result.positionPolicy = PositionPolicy::Original;
    else
      return module.emitError()
             << "rill-streamify: invalid 'position-policy' option '"
             << positionPolicy
             << "'; expected 'rotary', 'clamped-absolute' or 'original'";

    if (sinks >= 0)
      result.sinks = sinks;
    if (window >= 0)
      result.window = window;
    if (capacity >= 0)
      result.capacity = capacity;
    return result;
  }

  void runOnOperation() override {
    FailureOr<StreamifyOptions> options = getOptions();
    if (failed(options))
      return signalPassFailure();

    SmallVector<func::FuncOp> candidates;
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      bool hasAttention = false;
      func.walk([&](AttentionOp) { hasAttention = true; });
      if (hasAttention && !func.isExternal())
        candidates.push_back(func);
    }
    if (candidates.size() != 1) {
      getOperation().emitError()
          << "rill-streamify: expected exactly one function with "
             "rill.attention ops (got "
          << candidates.size() << ")";
      return signalPassFailure();
    }

    IRRewriter rewriter(&getContext());
    if (failed(streamifyFunction(rewriter, candidates.front(), *options)))
      return signalPassFailure();
  }
};

} // namespace
