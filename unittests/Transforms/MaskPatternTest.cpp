//===- MaskPatternTest.cpp - Tests of the mask pattern language -*- C++ -*-===//
//
// Checks parseMaskPattern and printMaskPattern: the attribute each pattern
// builds, that printing and parsing again gives the same attribute, that
// every invalid pattern of the Python reference tests is rejected with the
// same message, and the mask edits of rill-set-mask (Transforms.h).
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/Utils/MaskPattern.h"
#include "rill/Dialect/Rill/IR/RillDialect.h"
#include "rill/Dialect/Rill/Transforms/Transforms.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/SmallVector.h"

#include "gtest/gtest.h"

#include <random>
#include <string>

using namespace mlir;
using namespace mlir::rill;

namespace {

class MaskPatternTest : public ::testing::Test {
protected:
  MaskPatternTest() { context.loadDialect<RillDialect>(); }

  /// Parses `text`, failing the test with the error message on failure.
  MaskAttrInterface parse(llvm::StringRef text) {
    std::string message;
    FailureOr<MaskAttrInterface> mask =
        parseMaskPattern(&context, text, [&](const llvm::Twine &error) {
          message = error.str();
        });
    EXPECT_TRUE(succeeded(mask)) << text.str() << ": " << message;
    return succeeded(mask) ? *mask : MaskAttrInterface();
  }

  /// Parses `text`, expecting failure, and returns the error message.
  std::string parseError(llvm::StringRef text) {
    std::string message;
    int numErrors = 0;
    FailureOr<MaskAttrInterface> mask =
        parseMaskPattern(&context, text, [&](const llvm::Twine &error) {
          message = error.str();
          ++numErrors;
        });
    EXPECT_TRUE(failed(mask)) << "accepted '" << text.str() << "'";
    EXPECT_EQ(numErrors, 1) << text.str();
    return message;
  }

  Attribute window(int64_t size) {
    return WindowAttr::get(&context, size - 1, 0);
  }
  Attribute sinks(int64_t count) { return SinksAttr::get(&context, count); }
  Attribute causal() { return CausalAttr::get(&context); }
  Attribute full() { return FullAttr::get(&context); }
  Attribute unionOf(llvm::ArrayRef<Attribute> masks) {
    return UnionAttr::get(&context, ArrayAttr::get(&context, masks));
  }
  Attribute intersectOf(llvm::ArrayRef<Attribute> masks) {
    return IntersectAttr::get(&context, ArrayAttr::get(&context, masks));
  }
  Attribute perHead(llvm::ArrayRef<Attribute> masks) {
    return PerHeadAttr::get(&context, ArrayAttr::get(&context, masks));
  }

  MLIRContext context;
};

//===----------------------------------------------------------------------===//
// Parsing valid patterns
//===----------------------------------------------------------------------===//

TEST_F(MaskPatternTest, PrimitivesBuildTheirAttributes) {
  EXPECT_EQ(Attribute(parse("causal")), causal());
  EXPECT_EQ(Attribute(parse("causal()")), causal());
  EXPECT_EQ(Attribute(parse("full")), full());
  EXPECT_EQ(Attribute(parse("window(128)")), window(128));
  EXPECT_EQ(Attribute(parse("window(size=128)")), window(128));
  EXPECT_EQ(Attribute(parse("window(left=3,right=2)")),
            WindowAttr::get(&context, 3, 2));
  EXPECT_EQ(Attribute(parse("window(left=3)")),
            WindowAttr::get(&context, 3, 0));
  EXPECT_EQ(Attribute(parse("window(right=2,left=0)")),
            WindowAttr::get(&context, 0, 2));
  EXPECT_EQ(Attribute(parse("sinks(4)")), sinks(4));
  EXPECT_EQ(Attribute(parse("sinks(count=0)")), sinks(0));
  EXPECT_EQ(Attribute(parse("dilated(window=8,dilation=2)")),
            DilatedAttr::get(&context, 8, 2));
  EXPECT_EQ(Attribute(parse("dilated(8, 2)")),
            DilatedAttr::get(&context, 8, 2));
  EXPECT_EQ(Attribute(parse("dilated(8, dilation=2)")),
            DilatedAttr::get(&context, 8, 2));
  EXPECT_EQ(Attribute(parse("chunked(64)")), ChunkedAttr::get(&context, 64));
}

TEST_F(MaskPatternTest, BigBirdParameters) {
  EXPECT_EQ(Attribute(parse("bigbird(block=64,global=2,window=3,random=3,"
                            "seed=0)")),
            BigBirdAttr::get(&context, 64, 2, 3, 3, 0, 0, false));
  EXPECT_EQ(Attribute(parse("bigbird(block=64,global=2,window=3,random=3)")),
            BigBirdAttr::get(&context, 64, 2, 3, 3, 0, 0, false));
  EXPECT_EQ(Attribute(parse("bigbird(block=16,global=1,window=5,random=2,"
                            "seed=9,causal=true)")),
            BigBirdAttr::get(&context, 16, 1, 5, 2, 9, 0, true));
  EXPECT_EQ(Attribute(parse("bigbird(16, 1, 5, 2, 9, false)")),
            BigBirdAttr::get(&context, 16, 1, 5, 2, 9, 0, false));
  // The seed is unsigned 64-bit, so 2**64 - 1 is its largest value.
  EXPECT_EQ(Attribute(parse("bigbird(block=1,global=0,window=1,random=1,"
                            "seed=18446744073709551615)")),
            BigBirdAttr::get(&context, 1, 0, 1, 1, ~uint64_t(0), 0, false));
}

TEST_F(MaskPatternTest, IntegerLiteralForms) {
  EXPECT_EQ(Attribute(parse("window(007)")), window(7));
  EXPECT_EQ(Attribute(parse("sinks(-0)")), sinks(0));
  EXPECT_EQ(Attribute(parse("window(9223372036854775807)")),
            window(9223372036854775807));
}

TEST_F(MaskPatternTest, OperatorsAndPrecedence) {
  EXPECT_EQ(Attribute(parse("sinks(4)|window(1020)")),
            unionOf({sinks(4), window(1020)}));
  EXPECT_EQ(Attribute(parse(" sinks( 4 ) | window( 1020 ) ")),
            unionOf({sinks(4), window(1020)}));
  EXPECT_EQ(Attribute(parse("causal|full&sinks(2)")),
            unionOf({causal(), intersectOf({full(), sinks(2)})}));
  EXPECT_EQ(Attribute(parse("(causal|full)&sinks(2)")),
            intersectOf({unionOf({causal(), full()}), sinks(2)}));
  EXPECT_EQ(Attribute(parse("sinks(1)|window(2)|chunked(3)")),
            unionOf({sinks(1), window(2), ChunkedAttr::get(&context, 3)}));
  // Parentheses keep a nested union nested, as the Python parser does.
  EXPECT_EQ(Attribute(parse("(sinks(1)|window(2))|causal")),
            unionOf({unionOf({sinks(1), window(2)}), causal()}));
  EXPECT_EQ(Attribute(parse("((causal))")), causal());
  EXPECT_EQ(Attribute(parse("window(128)&causal")),
            intersectOf({window(128), causal()}));
}

TEST_F(MaskPatternTest, PerHeadLists) {
  EXPECT_EQ(Attribute(parse("[causal, sinks(2)|window(4)]")),
            perHead({causal(), unionOf({sinks(2), window(4)})}));
  EXPECT_EQ(Attribute(parse("[causal]")), perHead({causal()}));
  EXPECT_EQ(Attribute(parse("[causal, full] | sinks(1)")),
            unionOf({perHead({causal(), full()}), sinks(1)}));
  EXPECT_EQ(
      Attribute(parse("[causal, full] & [full, causal]")),
      intersectOf({perHead({causal(), full()}), perHead({full(), causal()})}));
}

//===----------------------------------------------------------------------===//
// Round trip
//===----------------------------------------------------------------------===//

TEST_F(MaskPatternTest, PrintThenParseIsIdentity) {
  const char *patterns[] = {
      "causal",
      "full",
      "window(1)",
      "window(128)",
      "window(left=0)",
      "window(left=3,right=2)",
      "window(left=0,right=5)",
      "sinks(0)",
      "sinks(4)",
      "dilated(window=1,dilation=1)",
      "dilated(window=8,dilation=4)",
      "chunked(1)",
      "chunked(8192)",
      "bigbird(block=64,global=2,window=3,random=3,seed=0)",
      "bigbird(block=1,global=0,window=1,random=0)",
      "bigbird(block=16,global=1,window=5,random=2,seed=9,causal=true)",
      "bigbird(block=2,global=1,window=3,random=1,seed=18446744073709551615)",
      "sinks(4)|window(1020)",
      "causal&window(left=64,right=64)",
      "causal|full&sinks(2)",
      "(causal|full)&sinks(2)",
      "(sinks(1)|window(2))|causal",
      "causal|(sinks(1)|window(2))",
      "(causal&full)&sinks(3)",
      "causal&(full&sinks(3))",
      "sinks(1)|window(2)|chunked(3)|dilated(2,2)",
      "window(4)&causal|sinks(1)&full|chunked(2)",
      "(window(4)|sinks(2))&(chunked(8)|full)",
      "[causal, full]",
      "[causal]",
      "[sinks(4)|window(8), window(4)&causal, full, chunked(2)]",
      "[causal, full]|sinks(2)",
      "[causal, full]&[window(3), sinks(1)|window(2)]",
      "([causal, full]|sinks(2))&window(9)",
      "[bigbird(block=4,global=1,window=3,random=1,seed=5), causal]",
      "[(causal|full)|sinks(1), window(left=1,right=1)]",
  };

  for (const char *text : patterns) {
    SCOPED_TRACE(text);
    MaskAttrInterface mask = parse(text);
    ASSERT_TRUE(mask);

    std::string printed = printMaskPattern(mask);
    ASSERT_FALSE(printed.empty());
    MaskAttrInterface reparsed = parse(printed);
    EXPECT_EQ(Attribute(reparsed), Attribute(mask)) << "printed " << printed;
    EXPECT_EQ(printMaskPattern(reparsed), printed);
  }
}

/// Builds a random mask attribute of at most `depth` levels of unions and
/// intersections, with per-head lists of `numHeads` members where allowed.
Attribute buildRandomMask(MLIRContext &context, std::mt19937_64 &random,
                          int depth, int64_t numHeads, bool allowPerHead) {
  auto pick = [&](int64_t count) {
    return static_cast<int64_t>(random() % static_cast<uint64_t>(count));
  };

  int64_t kind = pick(depth > 0 ? 10 : 7);
  if (kind == 9 && !allowPerHead)
    kind = pick(7);
  switch (kind) {
  case 0:
    return FullAttr::get(&context);
  case 1:
    return CausalAttr::get(&context);
  case 2:
    return WindowAttr::get(&context, pick(1000), pick(2) ? pick(50) : 0);
  case 3:
    return SinksAttr::get(&context, pick(16));
  case 4:
    return DilatedAttr::get(&context, 1 + pick(64), 1 + pick(8));
  case 5:
    return ChunkedAttr::get(&context, 1 + pick(4096));
  case 6:
    return BigBirdAttr::get(&context, 1 + pick(128), pick(4), 1 + 2 * pick(4),
                            pick(4), random(), /*layer=*/0, pick(2) == 1);
  default:
    break;
  }

  // Compositions have at least two members, because a single member prints
  // as the member itself.
  SmallVector<Attribute> members;
  int64_t numMembers = kind == 9 ? numHeads : 2 + pick(3);
  for (int64_t index = 0; index < numMembers; ++index)
    members.push_back(buildRandomMask(context, random, depth - 1, numHeads,
                                      /*allowPerHead=*/kind != 9));
  ArrayAttr array = ArrayAttr::get(&context, members);
  if (kind == 7)
    return UnionAttr::get(&context, array);
  if (kind == 8)
    return IntersectAttr::get(&context, array);
  return PerHeadAttr::get(&context, array);
}

TEST_F(MaskPatternTest, RandomMasksRoundTrip) {
  std::mt19937_64 random(20261204);
  for (int iteration = 0; iteration < 2000; ++iteration) {
    Attribute mask = buildRandomMask(context, random, /*depth=*/3,
                                     /*numHeads=*/3, /*allowPerHead=*/true);
    std::string printed = printMaskPattern(mask);
    SCOPED_TRACE(printed);
    ASSERT_FALSE(printed.empty());
    EXPECT_EQ(Attribute(parse(printed)), mask);
  }
}

TEST_F(MaskPatternTest, PrintsCanonicalText) {
  EXPECT_EQ(printMaskPattern(parse(" sinks( 4 ) | window( size = 1020 ) ")),
            "sinks(4)|window(1020)");
  EXPECT_EQ(printMaskPattern(parse("window(left=7,right=0)")), "window(8)");
  EXPECT_EQ(printMaskPattern(parse("dilated(8,2)")),
            "dilated(window=8,dilation=2)");
  EXPECT_EQ(printMaskPattern(parse("bigbird(64,2,3,3)")),
            "bigbird(block=64,global=2,window=3,random=3,seed=0)");
  EXPECT_EQ(printMaskPattern(parse("[causal,full]")), "[causal, full]");
  EXPECT_EQ(printMaskPattern(parse("(causal|full)&sinks(2)")),
            "(causal|full)&sinks(2)");
  EXPECT_EQ(printMaskPattern(parse("causal|(full&sinks(2))")),
            "causal|full&sinks(2)");
}

TEST_F(MaskPatternTest, PrintsAttributesWithoutPatternSpelling) {
  // A single-member composition prints as its member.
  EXPECT_EQ(printMaskPattern(unionOf({causal()})), "causal");
  EXPECT_EQ(printMaskPattern(intersectOf({unionOf({causal(), full()})})),
            "causal|full");
  EXPECT_EQ(printMaskPattern(intersectOf(
                {unionOf({causal()}), unionOf({full(), causal()})})),
            "causal&(full|causal)");
  // The layer of a BigBird mask has no spelling.
  EXPECT_EQ(
      printMaskPattern(BigBirdAttr::get(&context, 4, 1, 3, 1, 2, 7, true)),
      "bigbird(block=4,global=1,window=3,random=1,seed=2,causal=true)");
}

TEST_F(MaskPatternTest, PrintRejectsNonMasks) {
  Builder builder(&context);
  EXPECT_EQ(printMaskPattern(Attribute()), "");
  EXPECT_EQ(printMaskPattern(builder.getI64IntegerAttr(3)), "");
  EXPECT_EQ(printMaskPattern(
                PerHeadAttr::get(&context, builder.getArrayAttr({causal()}))),
            "[causal]");
}

//===----------------------------------------------------------------------===//
// Invalid patterns
//===----------------------------------------------------------------------===//

struct InvalidPattern {
  const char *text;
  /// Text the message must contain.
  const char *message;
};

// Every invalid example of python/tests/test_reference_mask_parser.py, with
// the text that its regular expression matches.
const InvalidPattern kPythonInvalidPatterns[] = {
    {"", "expected a mask (got empty text)"},
    {"windo(3)", "unknown mask 'windo'"},
    {"window(0)", "'size' must be an integer >= 1 (got 0)"},
    {"window(-3)", "'size' must be an integer >= 1 (got -3)"},
    {"window(3,left=2)", "either one size or left= and right="},
    {"window(right=2)", "missing parameter 'left'"},
    {"window(left=2,up=1)", "unknown parameter 'up' of window"},
    {"sinks(-1)", "'count' must be an integer >= 0 (got -1)"},
    {"sinks()", "missing parameter 'count' of sinks"},
    {"sinks(4,5)", "sinks takes at most 1 parameters (got 2)"},
    {"sinks(count=1,count=2)", "'count' is given twice"},
    {"dilated(window=8)", "missing parameter 'dilation' of dilated"},
    {"dilated(window=8,dilation=2,x=1)", "unknown parameter 'x' of dilated"},
    {"dilated(window=8,2)", "positional value after keyword"},
    {"bigbird(block=4)", "missing parameter 'global' of bigbird"},
    {"bigbird(block=4,global=1,window=2,random=1)",
     "'window' must be odd (got 2)"},
    {"chunked(x)", "expected an integer or true/false (got 'x' at column 9)"},
    {"causal &", "expected a mask name (got end of input)"},
    {"causal causal",
     "expected '|', '&' or end of input (got 'causal' at column 8)"},
    {"window(3", "expected ',' or ')' (got end of input)"},
    {"(causal", "expected ')' (got end of input)"},
    {"causal $", "unexpected character '$' at column 8"},
    {"[causal, full", "expected ']'"},
};

TEST_F(MaskPatternTest, RejectsPythonInvalidExamples) {
  for (const InvalidPattern &invalid : kPythonInvalidPatterns) {
    SCOPED_TRACE(invalid.text);
    std::string message = parseError(invalid.text);
    EXPECT_NE(message.find(invalid.message), std::string::npos) << message;
    EXPECT_EQ(message.rfind("invalid mask pattern '" +
                                std::string(invalid.text) + "': ",
                            0),
              0u)
        << message;
  }
}

TEST_F(MaskPatternTest, ErrorsNameTheColumn) {
  EXPECT_EQ(parseError("window(0)"),
            "invalid mask pattern 'window(0)': window parameter 'size' must "
            "be an integer >= 1 (got 0) at column 8");
  EXPECT_EQ(parseError("sinks(4)|windo(3)"),
            "invalid mask pattern 'sinks(4)|windo(3)': unknown mask 'windo' at "
            "column 10 (expected one of: bigbird, causal, chunked, dilated, "
            "full, sinks, window)");
  EXPECT_EQ(parseError("sinks(count=1,count=2)"),
            "invalid mask pattern 'sinks(count=1,count=2)': parameter 'count' "
            "is given twice at column 15");
  EXPECT_EQ(parseError("dilated(2, window=8)"),
            "invalid mask pattern 'dilated(2, window=8)': parameter 'window' "
            "of dilated is given twice at column 12");
}

TEST_F(MaskPatternTest, RejectsMoreInvalidPatterns) {
  const InvalidPattern cases[] = {
      {"   ", "expected a mask (got empty text)"},
      {"causal(3)", "causal takes at most 0 parameters (got 1)"},
      {"full(x=1)", "unknown parameter 'x' of full at column 6 (expected "
                    "one of: none)"},
      {"window", "missing parameter 'left' of window"},
      {"window()", "missing parameter 'left' of window"},
      {"window(3,4)", "(got 2 positional and keywords [])"},
      {"window(size=3,left=2)",
       "(got 0 positional and keywords ['left', 'size'])"},
      {"window(left=-1)", "window parameter 'left' must be an integer >= 0 "
                          "(got -1)"},
      {"window(left=1,right=-2)", "window parameter 'right' must be an "
                                  "integer >= 0 (got -2)"},
      {"window(true)", "window parameter 'size' must be an integer >= 1 "
                       "(got true)"},
      {"sinks(4,)", "expected an integer or true/false (got ')' at column 9)"},
      {"sinks(4 5)", "expected ',' or ')' (got '5' at column 9)"},
      {"chunked(0)", "chunked parameter 'size' must be an integer >= 1 "
                     "(got 0)"},
      {"dilated(0,1)", "dilated parameter 'window' must be an integer >= 1"},
      {"dilated(1,0)", "dilated parameter 'dilation' must be an integer >= 1"},
      {"bigbird(block=0,global=0,window=1,random=0)",
       "bigbird parameter 'block' must be an integer >= 1 (got 0)"},
      {"bigbird(block=1,global=-1,window=1,random=0)",
       "bigbird parameter 'global' must be an integer >= 0 (got -1)"},
      {"bigbird(block=1,global=0,window=1,random=-1)",
       "bigbird parameter 'random' must be an integer >= 0 (got -1)"},
      {"bigbird(block=1,global=0,window=1,random=0,seed=-1)",
       "bigbird parameter 'seed' must be an integer >= 0 (got -1)"},
      {"bigbird(block=1,global=0,window=1,random=0,causal=1)",
       "bigbird parameter 'causal' must be a bool (got 1)"},
      {"bigbird(block=1,global=0,window=1,random=0,layer=2)",
       "unknown parameter 'layer' of bigbird"},
      {"bigbird(block=1,global=0,window=1,random=0,seed=0,causal=true,x=1)",
       "unknown parameter 'x' of bigbird"},
      {"bigbird(1,0,1,0,0,false,3)", "bigbird takes at most 6 parameters"},
      {"[]", "expected a mask name (got ']' at column 2)"},
      {"()", "expected a mask name (got ')' at column 2)"},
      {"causal|", "expected a mask name (got end of input)"},
      {"|causal", "expected a mask name (got '|' at column 1)"},
      {"causal)", "expected '|', '&' or end of input (got ')' at column 7)"},
      {"[causal; full]", "unexpected character ';' at column 8"},
      {"window(- 3)", "unexpected character '-' at column 8"},
      {"window(3.5)", "unexpected character '.' at column 9"},
      {"causal & \xc3\xa9", "unexpected character '\xc3\xa9' at column 10"},
      {"true", "unknown mask 'true'"},
      {"sinks(true=1)", "unknown parameter 'true' of sinks"},
  };
  for (const InvalidPattern &invalid : cases) {
    SCOPED_TRACE(invalid.text);
    std::string message = parseError(invalid.text);
    EXPECT_NE(message.find(invalid.message), std::string::npos) << message;
  }
}

TEST_F(MaskPatternTest, RejectsWhatAttributesCannotHold) {
  const InvalidPattern cases[] = {
      {"window(9223372036854775808)",
       "window parameter 'size' must be at most 9223372036854775807 (got "
       "9223372036854775808) at column 8"},
      {"sinks(100000000000000000000000)",
       "sinks parameter 'count' must be at most 9223372036854775807"},
      {"bigbird(block=1,global=0,window=1,random=0,"
       "seed=18446744073709551616)",
       "bigbird parameter 'seed' must be below 2**64 (got "
       "18446744073709551616)"},
      {"dilated(window=4611686018427387904,dilation=4)",
       "expects dilated 'window' * 'dilation' to fit in 64 bits"},
      {"[[causal, full], causal]",
       "per-head list at column 1 has another per-head list as its member #0"},
      {"[causal, full]|[causal, full, sinks(1)]",
       "per-head lists combined by the union at column 1 must have the same "
       "length (got 2 and 3 heads)"},
      {"sinks(1)&[causal]&[causal, full]",
       "per-head lists combined by the intersect at column 1 must have the "
       "same length (got 1 and 2 heads)"},
  };
  for (const InvalidPattern &invalid : cases) {
    SCOPED_TRACE(invalid.text);
    std::string message = parseError(invalid.text);
    EXPECT_NE(message.find(invalid.message), std::string::npos) << message;
  }
}

//===----------------------------------------------------------------------===//
// Mask edits of rill-set-mask
//===----------------------------------------------------------------------===//

TEST_F(MaskPatternTest, SetBigBirdLayerReachesNestedMasks) {
  MaskAttrInterface mask = parse("[bigbird(4,1,3,1)|sinks(1), "
                                 "causal&bigbird(8,0,1,2,seed=3,causal=true)]");
  MaskAttrInterface stamped = setBigBirdLayer(mask, 5);
  EXPECT_EQ(
      Attribute(stamped),
      perHead({unionOf({BigBirdAttr::get(&context, 4, 1, 3, 1, 0, 5, false),
                        sinks(1)}),
               intersectOf({causal(), BigBirdAttr::get(&context, 8, 0, 1, 2, 3,
                                                       5, true)})}));
  EXPECT_EQ(Attribute(setBigBirdLayer(parse("sinks(4)|window(8)"), 5)),
            Attribute(parse("sinks(4)|window(8)")));
}

TEST_F(MaskPatternTest, SelectHeadMaskThroughCompositions) {
  MaskAttrInterface mask = parse("[causal, full]|sinks(2)");
  EXPECT_EQ(Attribute(selectHeadMask(mask, 0)), unionOf({causal(), sinks(2)}));
  EXPECT_EQ(Attribute(selectHeadMask(mask, 1)), unionOf({full(), sinks(2)}));
  EXPECT_EQ(Attribute(selectHeadMask(parse("window(4)"), 3)), window(4));
}

TEST_F(MaskPatternTest, ReplaceHeadMasksKeepsOtherHeads) {
  FailureOr<MaskAttrInterface> merged = replaceHeadMasks(
      parse("causal"), parse("window(8)"), /*heads=*/{1, 3}, /*numHeads=*/4);
  ASSERT_TRUE(succeeded(merged));
  EXPECT_EQ(Attribute(*merged),
            perHead({causal(), window(8), causal(), window(8)}));

  merged = replaceHeadMasks(parse("[causal, full, sinks(1)]"), parse("full"),
                            /*heads=*/{0}, /*numHeads=*/3);
  ASSERT_TRUE(succeeded(merged));
  EXPECT_EQ(Attribute(*merged), perHead({full(), full(), sinks(1)}));
}

TEST_F(MaskPatternTest, ReplaceHeadMasksCollapsesEqualMembers) {
  FailureOr<MaskAttrInterface> merged = replaceHeadMasks(
      parse("causal"), parse("window(8)"), /*heads=*/{0, 1}, /*numHeads=*/2);
  ASSERT_TRUE(succeeded(merged));
  EXPECT_EQ(Attribute(*merged), window(8));

  merged = replaceHeadMasks(parse("[full, causal]"), parse("full"),
                            /*heads=*/{1}, /*numHeads=*/2);
  ASSERT_TRUE(succeeded(merged));
  EXPECT_EQ(Attribute(*merged), full());
}

TEST_F(MaskPatternTest, ReplaceHeadMasksRejectsBadArguments) {
  EXPECT_TRUE(failed(replaceHeadMasks(parse("causal"), parse("full"),
                                      /*heads=*/{4}, /*numHeads=*/4)));
  EXPECT_TRUE(failed(replaceHeadMasks(parse("causal"), parse("[full, full]"),
                                      /*heads=*/{0}, /*numHeads=*/2)));
  EXPECT_TRUE(failed(replaceHeadMasks(parse("[causal, full]"), parse("full"),
                                      /*heads=*/{0}, /*numHeads=*/3)));
  EXPECT_TRUE(failed(replaceHeadMasks(parse("causal"), parse("full"),
                                      /*heads=*/{0}, /*numHeads=*/0)));
}

} // namespace
