//===- RillAttrs.cpp - rill mask attributes: syntax and checks -*- C++ -*-===//
//
// Parses, prints and verifies the mask attributes of the rill dialect. The
// semantics (visibility, tile classification, cache bounds) live in
// MaskSemantics.cpp and the IR emission of the predicate in
// MaskPredicate.cpp.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/IR/RillAttrs.h"
#include "rill/Dialect/Rill/IR/RillDialect.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;
using namespace mlir::rill;

#include "rill/Dialect/Rill/IR/RillAttrInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "rill/Dialect/Rill/IR/RillAttrs.cpp.inc"

void RillDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "rill/Dialect/Rill/IR/RillAttrs.cpp.inc"
      >();
}

llvm::StringRef mlir::rill::stringifyTileKind(TileKind kind) {
  switch (kind) {
  case TileKind::Empty:
    return "empty";
  case TileKind::Full:
    return "full";
  case TileKind::Partial:
    return "partial";
  }
  llvm_unreachable("unknown TileKind");
}

uint64_t mlir::rill::splitmix64(uint64_t value) {
  uint64_t z = value + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Emits "expects <mask> parameter '<name>' to be <requirement> (got <value>)"
/// unless `ok`.
static LogicalResult
checkParameter(function_ref<InFlightDiagnostic()> emitError, bool ok,
               StringRef mask, StringRef name, StringRef requirement,
               int64_t value) {
  if (ok)
    return success();
  return emitError() << "expects " << mask << " parameter '" << name
                     << "' to be " << requirement << " (got " << value << ")";
}

//===----------------------------------------------------------------------===//
// WindowAttr
//===----------------------------------------------------------------------===//

LogicalResult WindowAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t left, int64_t right) {
  if (failed(checkParameter(emitError, left >= 0, "window", "left", ">= 0",
                            left)))
    return failure();
  return checkParameter(emitError, right >= 0, "window", "right", ">= 0",
                        right);
}

// Syntax: `<W>` for the causal window of W keys, or
// `<left = L [, right = R]>` with R defaulting to 0.
Attribute WindowAttr::parse(AsmParser &parser, Type) {
  if (parser.parseLess())
    return {};

  SMLoc loc = parser.getCurrentLocation();
  auto emitError = [&] { return parser.emitError(loc); };
  if (succeeded(parser.parseOptionalKeyword("left"))) {
    int64_t left = 0;
    int64_t right = 0;
    if (parser.parseEqual() || parser.parseInteger(left))
      return {};
    if (succeeded(parser.parseOptionalComma())) {
      if (parser.parseKeyword("right") || parser.parseEqual() ||
          parser.parseInteger(right))
        return {};
    }
    if (parser.parseGreater())
      return {};
    return getChecked(emitError, parser.getContext(), left, right);
  }

  int64_t size = 0;
  if (parser.parseInteger(size) || parser.parseGreater())
    return {};
  if (size < 1) {
    parser.emitError(loc) << "expects window size to be >= 1 (got " << size
                          << ")";
    return {};
  }
  return getChecked(emitError, parser.getContext(), size - 1, int64_t(0));
}

void WindowAttr::print(AsmPrinter &printer) const {
  if (getRight() == 0) {
    printer << "<" << getLeft() + 1 << ">";
    return;
  }
  printer << "<left = " << getLeft() << ", right = " << getRight() << ">";
}

//===----------------------------------------------------------------------===//
// SinksAttr, DilatedAttr, ChunkedAttr
//===----------------------------------------------------------------------===//

LogicalResult SinksAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t count) {
  return checkParameter(emitError, count >= 0, "sinks", "count", ">= 0",
                        count);
}

LogicalResult DilatedAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t window, int64_t dilation) {
  if (failed(checkParameter(emitError, window >= 1, "dilated", "window",
                            ">= 1", window)) ||
      failed(checkParameter(emitError, dilation >= 1, "dilated", "dilation",
                            ">= 1", dilation)))
    return failure();

  // The predicate compares q - k with window * dilation.
  if (window > std::numeric_limits<int64_t>::max() / dilation)
    return emitError() << "expects dilated 'window' * 'dilation' to fit in "
                          "64 bits (got "
                       << window << " * " << dilation << ")";
  return success();
}

LogicalResult ChunkedAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t size) {
  return checkParameter(emitError, size >= 1, "chunked", "size", ">= 1", size);
}

//===----------------------------------------------------------------------===//
// BigBirdAttr
//===----------------------------------------------------------------------===//

LogicalResult BigBirdAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t block, int64_t global,
                                  int64_t window, int64_t random,
                                  uint64_t seed, int64_t layer, bool causal) {
  if (failed(checkParameter(emitError, block >= 1, "bigbird", "block", ">= 1",
                            block)) ||
      failed(checkParameter(emitError, global >= 0, "bigbird", "global",
                            ">= 0", global)) ||
      failed(checkParameter(emitError, window >= 1, "bigbird", "window",
                            ">= 1", window)) ||
      failed(checkParameter(emitError, window % 2 == 1, "bigbird", "window",
                            "odd", window)) ||
      failed(checkParameter(emitError, random >= 0, "bigbird", "random",
                            ">= 0", random)) ||
      failed(checkParameter(emitError, layer >= 0, "bigbird", "layer", ">= 0",
                            layer)))
    return failure();
  return success();
}

// Syntax: `<block = B, global = G, window = W, random = R[, seed = S]
// [, layer = L][, causal]>` with the keys in any order. Seed and layer
// default to 0.
Attribute BigBirdAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLess())
    return {};

  int64_t block = 0, global = 0, window = 0, random = 0, layer = 0;
  uint64_t seed = 0;
  bool causal = false;
  llvm::StringSet<> seen;
  auto parseItem = [&]() -> ParseResult {
    SMLoc keyLoc = parser.getCurrentLocation();
    StringRef key;
    if (parser.parseKeyword(&key))
      return failure();
    if (!seen.insert(key).second)
      return parser.emitError(keyLoc)
             << "bigbird parameter '" << key << "' is given twice";
    if (key == "causal") {
      causal = true;
      return success();
    }
    if (parser.parseEqual())
      return failure();
    if (key == "seed")
      return parser.parseInteger(seed);
    int64_t *target = llvm::StringSwitch<int64_t *>(key)
                          .Case("block", &block)
                          .Case("global", &global)
                          .Case("window", &window)
                          .Case("random", &random)
                          .Case("layer", &layer)
                          .Default(nullptr);
    if (!target)
      return parser.emitError(keyLoc)
             << "unknown bigbird parameter '" << key
             << "' (expected block, global, window, random, seed, layer or "
                "causal)";
    return parser.parseInteger(*target);
  };
  if (parser.parseCommaSeparatedList(parseItem) || parser.parseGreater())
    return {};

  for (StringRef required : {"block", "global", "window", "random"}) {
    if (!seen.contains(required)) {
      parser.emitError(loc) << "missing bigbird parameter '" << required
                            << "'";
      return {};
    }
  }
  return getChecked([&] { return parser.emitError(loc); },
                    parser.getContext(), block, global, window, random, seed,
                    layer, causal);
}

void BigBirdAttr::print(AsmPrinter &printer) const {
  printer << "<block = " << getBlock() << ", global = " << getGlobal()
          << ", window = " << getWindow() << ", random = " << getRandom()
          << ", seed = " << getSeed();
  if (getLayer() != 0)
    printer << ", layer = " << getLayer();
  if (getCausal())
    printer << ", causal";
  printer << ">";
}

//===----------------------------------------------------------------------===//
// UnionAttr, IntersectAttr, PerHeadAttr
//===----------------------------------------------------------------------===//

/// Checks that `masks` is a non-empty list of masks whose members agree on
/// the number of heads, and rejects per_head members when `forbidPerHead`.
static LogicalResult
verifyMaskList(function_ref<InFlightDiagnostic()> emitError, StringRef owner,
               ArrayAttr masks, bool forbidPerHead) {
  if (!masks || masks.empty())
    return emitError() << "expects " << owner
                       << " to have at least one member mask (got 0)";

  std::optional<int64_t> numHeads;
  for (auto [index, member] : llvm::enumerate(masks)) {
    auto mask = dyn_cast<MaskAttrInterface>(member);
    if (!mask)
      return emitError() << "expects " << owner << " member #" << index
                         << " to be a mask attribute (got " << member << ")";
    if (forbidPerHead && isa<PerHeadAttr>(member))
      return emitError() << "expects " << owner << " member #" << index
                         << " not to be a per_head mask (nested per_head "
                            "masks are ambiguous)";

    std::optional<int64_t> memberHeads = mask.getNumHeads();
    if (!memberHeads)
      continue;
    if (numHeads && *numHeads != *memberHeads)
      return emitError() << "expects the per_head members of " << owner
                         << " to agree on the number of heads (got "
                         << *numHeads << " and " << *memberHeads << ")";
    numHeads = memberHeads;
  }
  return success();
}

LogicalResult UnionAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                ArrayAttr masks) {
  return verifyMaskList(emitError, "union", masks, /*forbidPerHead=*/false);
}

LogicalResult
IntersectAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      ArrayAttr masks) {
  return verifyMaskList(emitError, "intersect", masks,
                        /*forbidPerHead=*/false);
}

LogicalResult PerHeadAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  ArrayAttr masks) {
  return verifyMaskList(emitError, "per_head", masks, /*forbidPerHead=*/true);
}
