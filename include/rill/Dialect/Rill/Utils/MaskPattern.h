//===- MaskPattern.h - Text syntax for rill mask attributes -----*- C++ -*-===//
//
// Declares the parser and printer of the mask pattern language, the short
// text that command-line options use to name an attention mask, for example
// `sinks(4)|window(1020)` or `[causal, window(128)&causal]`. The language is
// the one `rill.reference.masks.parse_mask` reads, and docs/mask-patterns.md
// gives the grammar and the meaning of each primitive.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_DIALECT_RILL_UTILS_MASKPATTERN_H
#define RILL_DIALECT_RILL_UTILS_MASKPATTERN_H

#include "rill/Dialect/Rill/IR/RillAttrs.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

#include <string>

namespace mlir::rill {

/// Receives the message of a mask pattern error. The message starts with
/// "invalid mask pattern '<text>': " and has no trailing period.
using MaskPatternErrorFn = llvm::function_ref<void(const llvm::Twine &)>;

/// Parses `text` in the mask pattern language and returns the equivalent
/// mask attribute: `|` builds #rill.union, `&` #rill.intersect (binding
/// tighter), `[m0, m1, ...]` #rill.per_head, and each primitive its
/// attribute. Every #rill.bigbird gets `layer = 0`. On invalid text, calls
/// `emitError` once with a message that names the offending token or
/// parameter, its value, its 1-based column and what was expected, and
/// returns failure.
///
/// Besides everything the Python parser rejects, this parser rejects
/// integers outside the 64-bit range of the attribute parameters and masks
/// that the attribute verifiers reject: a per-head list inside another
/// per-head list, and per-head lists of different lengths combined with `|`
/// or `&`.
FailureOr<MaskAttrInterface> parseMaskPattern(MLIRContext *context,
                                              llvm::StringRef text,
                                              MaskPatternErrorFn emitError);

/// Prints `mask` in the mask pattern language, so that `parseMaskPattern`
/// of the result returns `mask` again. Returns an empty string when `mask`
/// or one of its members is not a rill mask attribute.
///
/// NOTE: the language has no spelling for two attribute details, so these
/// do not survive the round trip: the `layer` of a #rill.bigbird (the text
/// omits it and parsing gives 0), and a union or intersection with a single
/// member, which prints as that member.
std::string printMaskPattern(Attribute mask);

} // namespace mlir::rill

#endif // RILL_DIALECT_RILL_UTILS_MASKPATTERN_H
