//===- MaskTest.cpp - Tests of the rill mask attribute interface -*- C++ -*-===//
//
// Checks MaskAttrInterface against its own brute-force predicate. Tile
// classification runs on thousands of random and all small tiles for every
// mask kind and for nested compositions. BigBird random blocks are checked
// for determinism and bit-identity with the numpy reference, and the IR
// that buildVisible emits is evaluated by folding on a grid of positions.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/IR/RillAttrs.h"
#include "rill/Dialect/Rill/IR/RillDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/DenseMap.h"

#include "gtest/gtest.h"

#include <random>
#include <string>

using namespace mlir;
using namespace mlir::rill;

namespace {

class MaskTest : public ::testing::Test {
protected:
  MaskTest() {
    context.loadDialect<RillDialect, arith::ArithDialect, scf::SCFDialect>();
  }

  /// Parses `text` as a mask attribute, failing the test if it is not one.
  MaskAttrInterface parseMask(const std::string &text) {
    Attribute attr = parseAttribute(text, &context);
    auto mask = dyn_cast_or_null<MaskAttrInterface>(attr);
    EXPECT_TRUE(mask) << "not a mask attribute: " << text;
    return mask;
  }

  MLIRContext context;
};

/// Masks whose tile classification is exact: the primitives and the
/// StreamingLLM union.
const char *const kExactMasks[] = {
    "#rill.full",
    "#rill.causal",
    "#rill.window<1>",
    "#rill.window<3>",
    "#rill.window<17>",
    "#rill.window<left = 0, right = 4>",
    "#rill.window<left = 5, right = 2>",
    "#rill.sinks<0>",
    "#rill.sinks<4>",
    "#rill.dilated<window = 4, dilation = 3>",
    "#rill.dilated<window = 5, dilation = 1>",
    "#rill.dilated<window = 1, dilation = 7>",
    "#rill.chunked<1>",
    "#rill.chunked<5>",
    "#rill.bigbird<block = 4, global = 1, window = 3, random = 2, seed = 3>",
    "#rill.bigbird<block = 3, global = 0, window = 1, random = 1, seed = 11, "
    "layer = 2, causal>",
    "#rill.bigbird<block = 2, global = 2, window = 5, random = 0, seed = 0, "
    "causal>",
    // StreamingLLM: cutting tiles at the sink boundary makes it exact.
    "#rill.union<[#rill.sinks<4>, #rill.window<6>]>",
    "#rill.union<[#rill.sinks<1>, #rill.window<1>]>",
};

/// Compositions, whose tile classification is only required to be sound.
const char *const kCompositeMasks[] = {
    "#rill.union<[#rill.sinks<4>, #rill.window<6>]>",
    "#rill.intersect<[#rill.causal, #rill.window<left = 3, right = 3>]>",
    "#rill.union<[#rill.intersect<[#rill.chunked<8>, #rill.window<3>]>, "
    "#rill.dilated<window = 3, dilation = 4>, #rill.sinks<2>]>",
    "#rill.intersect<[#rill.union<[#rill.window<5>, #rill.sinks<3>]>, "
    "#rill.union<[#rill.chunked<6>, #rill.window<left = 1, right = 1>]>]>",
    "#rill.per_head<[#rill.causal, #rill.window<4>, "
    "#rill.bigbird<block = 4, global = 1, window = 1, random = 1, seed = 5>, "
    "#rill.union<[#rill.sinks<2>, #rill.dilated<window = 3, dilation = 2>]>]>",
    "#rill.union<[#rill.per_head<[#rill.full, #rill.sinks<1>, #rill.causal, "
    "#rill.window<2>]>, #rill.window<3>]>",
};

/// Returns the textual form of `attr`, for failure messages.
std::string toString(Attribute attr) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << attr;
  return text;
}

struct TileCounts {
  int64_t visible = 0;
  int64_t total = 0;
};

TileCounts countVisible(MaskAttrInterface mask, int64_t qBegin, int64_t qEnd,
                        int64_t kBegin, int64_t kEnd, int64_t head) {
  TileCounts counts;
  for (int64_t q = qBegin; q < qEnd; ++q) {
    for (int64_t k = kBegin; k < kEnd; ++k) {
      ++counts.total;
      counts.visible += mask.isVisible(q, k, head) ? 1 : 0;
    }
  }
  return counts;
}

/// Classifies one tile and compares the result with the brute-force count;
/// exactness is required when `exact` is set.
void checkTile(MaskAttrInterface mask, bool exact, int64_t qBegin,
               int64_t qEnd, int64_t kBegin, int64_t kEnd, int64_t head) {
  TileKind kind = mask.classifyTile(qBegin, qEnd, kBegin, kEnd, head);
  TileCounts counts = countVisible(mask, qBegin, qEnd, kBegin, kEnd, head);

  SCOPED_TRACE(testing::Message()
               << "mask " << toString(mask) << " query [" << qBegin << ", "
               << qEnd << ") key [" << kBegin << ", " << kEnd << ") head "
               << head << " classified " << stringifyTileKind(kind).str()
               << " with " << counts.visible << " of " << counts.total
               << " visible");
  if (kind == TileKind::Empty)
    ASSERT_EQ(counts.visible, 0);
  if (kind == TileKind::Full)
    ASSERT_EQ(counts.visible, counts.total);
  if (exact && counts.total > 0) {
    if (counts.visible == 0)
      ASSERT_EQ(kind, TileKind::Empty);
    if (counts.visible == counts.total)
      ASSERT_EQ(kind, TileKind::Full);
  }
}

/// Classifies `numTiles` random tiles of `mask` with checkTile.
void checkRandomTiles(MaskAttrInterface mask, bool exact, int numTiles,
                      unsigned seed) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<int64_t> start(0, 80);
  // Keys mostly start near the queries, where tiles are neither empty nor
  // full and the boundary cases sit.
  std::uniform_int_distribution<int64_t> keyOffset(-24, 8);
  std::uniform_int_distribution<int64_t> length(0, 9);
  std::uniform_int_distribution<int64_t> headChoice(0, 3);

  for (int tile = 0; tile < numTiles; ++tile) {
    int64_t qBegin = start(generator);
    int64_t qEnd = qBegin + length(generator);
    int64_t kBegin = std::max<int64_t>(0, qBegin + keyOffset(generator));
    int64_t kEnd = kBegin + length(generator);
    int64_t head = headChoice(generator);
    checkTile(mask, exact, qBegin, qEnd, kBegin, kEnd, head);
    if (testing::Test::HasFatalFailure())
      return;
  }
}

/// Classifies every tile with ranges of 1 to 4 positions starting in
/// [0, 24), for all heads in [0, 4).
void checkAllSmallTiles(MaskAttrInterface mask, bool exact) {
  for (int64_t head = 0; head < 4; ++head)
    for (int64_t qBegin = 0; qBegin < 24; ++qBegin)
      for (int64_t kBegin = 0; kBegin < 24; ++kBegin)
        for (int64_t qLength = 1; qLength <= 4; ++qLength)
          for (int64_t kLength = 1; kLength <= 4; ++kLength) {
            checkTile(mask, exact, qBegin, qBegin + qLength, kBegin,
                      kBegin + kLength, head);
            if (testing::Test::HasFatalFailure())
              return;
          }
}

TEST_F(MaskTest, ExactMasksClassifyExactly) {
  for (const char *text : kExactMasks) {
    MaskAttrInterface mask = parseMask(text);
    ASSERT_TRUE(mask);
    checkRandomTiles(mask, /*exact=*/true, /*numTiles=*/5000, /*seed=*/1);
    checkAllSmallTiles(mask, /*exact=*/true);
  }
}

TEST_F(MaskTest, CompositeTilesSound) {
  for (const char *text : kCompositeMasks) {
    MaskAttrInterface mask = parseMask(text);
    ASSERT_TRUE(mask);
    checkRandomTiles(mask, /*exact=*/false, /*numTiles=*/5000, /*seed=*/2);
    checkAllSmallTiles(mask, /*exact=*/false);
  }
}

// Tiles far from the origin and tiles larger than a BigBird block, where
// the per-block walk and the chunk shortcuts matter.
TEST_F(MaskTest, LargeTilesSound) {
  std::mt19937 generator(3);
  std::uniform_int_distribution<int64_t> start(0, 5000);
  std::uniform_int_distribution<int64_t> length(1, 64);
  for (const char *text : kExactMasks) {
    MaskAttrInterface mask = parseMask(text);
    ASSERT_TRUE(mask);
    for (int tile = 0; tile < 300; ++tile) {
      int64_t qBegin = start(generator);
      int64_t kBegin = qBegin - length(generator) * 2;
      int64_t qEnd = qBegin + length(generator);
      int64_t kEnd = kBegin + length(generator);
      TileKind kind = mask.classifyTile(qBegin, qEnd, kBegin, kEnd, 0);
      TileCounts counts = countVisible(mask, qBegin, qEnd, kBegin, kEnd, 0);
      SCOPED_TRACE(testing::Message()
                   << text << " query [" << qBegin << ", " << qEnd
                   << ") key [" << kBegin << ", " << kEnd << ")");
      EXPECT_EQ(kind == TileKind::Empty, counts.visible == 0);
      EXPECT_EQ(kind == TileKind::Full, counts.visible == counts.total);
    }
  }
}

TEST_F(MaskTest, EmptyRangeIsEmptyTile) {
  MaskAttrInterface mask = parseMask("#rill.full");
  ASSERT_TRUE(mask);
  EXPECT_EQ(mask.classifyTile(5, 5, 0, 4, 0), TileKind::Empty);
  EXPECT_EQ(mask.classifyTile(0, 4, 7, 3, 0), TileKind::Empty);
}

TEST_F(MaskTest, WindowCounts) {
  MaskAttrInterface mask = parseMask("#rill.window<3>");
  ASSERT_TRUE(mask);
  const int64_t expected[] = {1, 2, 3, 3, 3, 3};
  for (int64_t q = 0; q < 6; ++q)
    EXPECT_EQ(countVisible(mask, q, q + 1, 0, 6, 0).visible, expected[q])
        << "query " << q;
}

TEST_F(MaskTest, WindowPrintsCausalForm) {
  Attribute window = WindowAttr::get(&context, int64_t(5));
  EXPECT_EQ(window, parseAttribute("#rill.window<left = 4, right = 0>",
                                   &context));
  EXPECT_EQ(toString(window), "#rill.window<5>");
}

TEST_F(MaskTest, CacheBounds) {
  struct Case {
    const char *mask;
    int64_t sinks;
    std::optional<int64_t> lookback;
    bool causal;
  };
  const Case cases[] = {
      {"#rill.full", 0, std::nullopt, false},
      {"#rill.causal", 0, std::nullopt, true},
      {"#rill.window<8>", 0, 8, true},
      {"#rill.window<left = 3, right = 2>", 0, 4, false},
      {"#rill.sinks<4>", 4, 0, true},
      {"#rill.union<[#rill.sinks<4>, #rill.window<1020>]>", 4, 1020, true},
      {"#rill.dilated<window = 4, dilation = 3>", 0, 10, true},
      {"#rill.chunked<16>", 0, 16, true},
      {"#rill.bigbird<block = 8, global = 2, window = 3, random = 0, seed = 0, "
       "causal>",
       16, 16, true},
      {"#rill.bigbird<block = 8, global = 2, window = 3, random = 1, seed = 0>",
       16, std::nullopt, false},
      {"#rill.intersect<[#rill.causal, #rill.window<left = 9, right = 9>]>", 0,
       10, true},
      {"#rill.per_head<[#rill.window<4>, #rill.union<[#rill.sinks<2>, "
       "#rill.window<3>]>]>",
       2, 4, true},
  };
  for (const Case &c : cases) {
    MaskAttrInterface mask = parseMask(c.mask);
    ASSERT_TRUE(mask);
    EXPECT_EQ(mask.getNumSinkKeys(), c.sinks) << c.mask;
    EXPECT_EQ(mask.getMaxLookback(), c.lookback) << c.mask;
    EXPECT_EQ(mask.isCausal(), c.causal) << c.mask;
  }
}

// The bounds must hold: every visible key is a sink or within the lookback.
TEST_F(MaskTest, CacheBoundsHold) {
  SmallVector<std::string> masks(std::begin(kExactMasks),
                                 std::end(kExactMasks));
  masks.append(std::begin(kCompositeMasks), std::end(kCompositeMasks));
  for (const std::string &text : masks) {
    MaskAttrInterface mask = parseMask(text);
    ASSERT_TRUE(mask);
    std::optional<int64_t> lookback = mask.getMaxLookback();
    if (!lookback)
      continue;

    int64_t sinks = mask.getNumSinkKeys();
    for (int64_t head = 0; head < 4; ++head)
      for (int64_t q = 0; q < 64; ++q)
        for (int64_t k = 0; k <= q; ++k)
          if (mask.isVisible(q, k, head))
            ASSERT_TRUE(k < sinks || k > q - *lookback)
                << text << " query " << q << " key " << k;
  }
}

TEST_F(MaskTest, PerHeadNumHeads) {
  MaskAttrInterface mask =
      parseMask("#rill.per_head<[#rill.causal, #rill.window<2>]>");
  ASSERT_TRUE(mask);
  EXPECT_EQ(mask.getNumHeads(), 2);
  EXPECT_TRUE(mask.isVisible(3, 0, 0));
  EXPECT_FALSE(mask.isVisible(3, 0, 1));
  EXPECT_FALSE(mask.isVisible(3, 3, 2)) << "heads past the members see nothing";
  EXPECT_EQ(parseMask("#rill.causal").getNumHeads(), std::nullopt);
}

//===----------------------------------------------------------------------===//
// BigBird random blocks
//===----------------------------------------------------------------------===//

TEST_F(MaskTest, Splitmix64KnownValues) {
  EXPECT_EQ(splitmix64(0), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(splitmix64(12345), 0x22118258A9D111A0ULL);
}

// Expected blocks come from rill.reference.masks.bigbird_random_blocks
// (seed, layer, head, query_block, count), run with the numpy reference.
TEST_F(MaskTest, RandomBlocksMatchReference) {
  auto blocks = [&](uint64_t seed, int64_t layer, int64_t head,
                    int64_t queryBlock, int64_t count) {
    auto mask = BigBirdAttr::get(&context, 1, 0, 1, count, seed, layer,
                                 /*causal=*/false);
    return mask.getRandomBlocks(queryBlock, head);
  };
  EXPECT_EQ(blocks(42, 1, 2, 100, 4), (SmallVector<int64_t>{60, 28, 2, 34}));
  EXPECT_EQ(blocks(0, 0, 0, 7, 3), (SmallVector<int64_t>{6, 3, 5}));
  EXPECT_EQ(blocks(18446744073709551615ULL, 3, 5, 1000, 5),
            (SmallVector<int64_t>{689, 41, 213, 580, 189}));
  EXPECT_EQ(blocks(7, 0, 1, 2, 3), (SmallVector<int64_t>{0, 1, 2}));
}

TEST_F(MaskTest, RandomBlocksDeterministic) {
  const char *text =
      "#rill.bigbird<block = 4, global = 1, window = 3, random = 3, seed = 9>";
  auto first = cast<BigBirdAttr>(parseMask(text));
  auto second = BigBirdAttr::get(&context, 4, 1, 3, 3, 9, 0, false);
  auto otherSeed = BigBirdAttr::get(&context, 4, 1, 3, 3, 10, 0, false);

  int differences = 0;
  for (int64_t head = 0; head < 4; ++head) {
    for (int64_t queryBlock = 0; queryBlock < 200; ++queryBlock) {
      SmallVector<int64_t> blocks = first.getRandomBlocks(queryBlock, head);
      EXPECT_EQ(blocks, second.getRandomBlocks(queryBlock, head));
      EXPECT_EQ(static_cast<int64_t>(blocks.size()),
                std::min<int64_t>(3, queryBlock + 1));
      if (blocks != otherSeed.getRandomBlocks(queryBlock, head))
        ++differences;
    }
  }
  // With more than 3 candidates, two seeds agree on a query block with a
  // small probability; over 800 blocks most must differ.
  EXPECT_GT(differences, 600);
}

//===----------------------------------------------------------------------===//
// buildVisible
//===----------------------------------------------------------------------===//

/// Evaluates the ops of `block` in order by constant folding, with `values`
/// holding the constants of values defined so far. Supports scf.while with
/// scf.condition and scf.yield, which is all buildVisible emits besides
/// arith ops.
LogicalResult evaluateBlock(Block &block, DenseMap<Value, Attribute> &values,
                            SmallVectorImpl<Attribute> *terminatorOperands);

LogicalResult evaluateWhile(scf::WhileOp whileOp,
                            DenseMap<Value, Attribute> &values) {
  SmallVector<Attribute> loopValues;
  for (Value init : whileOp.getInits())
    loopValues.push_back(values.lookup(init));

  for (int iteration = 0; iteration < 100000; ++iteration) {
    Block &before = whileOp.getBefore().front();
    for (auto [arg, value] : llvm::zip(before.getArguments(), loopValues))
      values[arg] = value;
    SmallVector<Attribute> forwarded;
    if (failed(evaluateBlock(before, values, &forwarded)))
      return failure();
    auto condition =
        cast<scf::ConditionOp>(before.getTerminator()).getCondition();
    auto keepGoing = dyn_cast_or_null<IntegerAttr>(values.lookup(condition));
    if (!keepGoing)
      return failure();

    if (!keepGoing.getValue().getBoolValue()) {
      for (auto [result, value] : llvm::zip(whileOp.getResults(), forwarded))
        values[result] = value;
      return success();
    }
    Block &after = whileOp.getAfter().front();
    for (auto [arg, value] : llvm::zip(after.getArguments(), forwarded))
      values[arg] = value;
    loopValues.clear();
    if (failed(evaluateBlock(after, values, &loopValues)))
      return failure();
  }
  return failure();
}

LogicalResult evaluateBlock(Block &block, DenseMap<Value, Attribute> &values,
                            SmallVectorImpl<Attribute> *terminatorOperands) {
  for (Operation &op : block) {
    if (auto whileOp = dyn_cast<scf::WhileOp>(op)) {
      if (failed(evaluateWhile(whileOp, values)))
        return failure();
      continue;
    }
    if (isa<scf::ConditionOp, scf::YieldOp>(op)) {
      ValueRange forwarded = isa<scf::ConditionOp>(op)
                                 ? cast<scf::ConditionOp>(op).getArgs()
                                 : ValueRange(op.getOperands());
      for (Value operand : forwarded)
        terminatorOperands->push_back(values.lookup(operand));
      continue;
    }

    SmallVector<Attribute> operands;
    for (Value operand : op.getOperands())
      operands.push_back(values.lookup(operand));
    SmallVector<OpFoldResult> results;
    if (failed(op.fold(operands, results)) ||
        results.size() != op.getNumResults())
      return op.emitError("failed to fold");
    for (auto [result, folded] : llvm::zip(op.getResults(), results)) {
      if (auto attr = dyn_cast<Attribute>(folded))
        values[result] = attr;
      else
        values[result] = values.lookup(cast<Value>(folded));
    }
  }
  return success();
}

TEST_F(MaskTest, BuildVisibleMatchesIsVisible) {
  OpBuilder builder(&context);
  Location loc = builder.getUnknownLoc();
  Type indexType = builder.getIndexType();

  SmallVector<std::string> masks(std::begin(kExactMasks),
                                 std::end(kExactMasks));
  masks.append(std::begin(kCompositeMasks), std::end(kCompositeMasks));
  for (const std::string &text : masks) {
    MaskAttrInterface mask = parseMask(text);
    ASSERT_TRUE(mask);

    // Emit the predicate once into a detached block whose arguments are q,
    // k and head, then evaluate it for every position on the grid.
    Block block;
    Value q = block.addArgument(indexType, loc);
    Value k = block.addArgument(indexType, loc);
    Value head = block.addArgument(indexType, loc);
    builder.setInsertionPointToEnd(&block);
    Value visible = mask.buildVisible(builder, loc, q, k, head);
    ASSERT_TRUE(visible.getType().isInteger(1)) << text;

    for (int64_t h = 0; h < 4; ++h) {
      for (int64_t qPos = 0; qPos < 40; ++qPos) {
        for (int64_t kPos = 0; kPos < 40; ++kPos) {
          DenseMap<Value, Attribute> values;
          values[q] = builder.getIndexAttr(qPos);
          values[k] = builder.getIndexAttr(kPos);
          values[head] = builder.getIndexAttr(h);
          ASSERT_TRUE(succeeded(evaluateBlock(block, values, nullptr)))
              << text;
          auto result = dyn_cast_or_null<IntegerAttr>(values.lookup(visible));
          ASSERT_TRUE(result) << text;
          ASSERT_EQ(result.getValue().getBoolValue(),
                    mask.isVisible(qPos, kPos, h))
              << text << " query " << qPos << " key " << kPos << " head "
              << h;
        }
      }
    }
    // The block owns the ops; drop uses before it is destroyed.
    block.dropAllDefinedValueUses();
  }
}

} // namespace
