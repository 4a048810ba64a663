//===- MaskPattern.cpp - Text syntax for rill mask attributes ----*- C++
//-*-===//
//
// Implements the mask pattern language: a recursive-descent parser that turns
// text such as `sinks(4)|window(1020)` into rill mask attributes, and the
// printer that turns an attribute back into text. The parser accepts the
// language of `rill.reference.masks.parse_mask` token for token and reports
// the same errors, with the column of the offending token added.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/Utils/MaskPattern.h"
#include "rill/Dialect/Rill/IR/RillDialect.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/APInt.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <limits>
#include <optional>

using namespace mlir;
using namespace mlir::rill;

namespace {

//===----------------------------------------------------------------------===//
// Tokens and parameter values
//===----------------------------------------------------------------------===//

enum class TokenKind { Integer, Name, Punctuation };

struct Token {
  TokenKind kind;
  StringRef text;
  /// 1-based column of the first character, counted in characters.
  int64_t column;
};

/// A parameter value as written: an integer literal or `true`/`false`.
struct ParamValue {
  Token token = {TokenKind::Integer, StringRef(), 0};
  bool isBool = false;
  bool boolValue = false;
  bool isNegative = false;
  /// The absolute value of an integer literal, as wide as it needs to be.
  APInt magnitude;

  /// Formats the value for messages: decimal digits or `true`/`false`.
  std::string str() const {
    if (isBool)
      return boolValue ? "true" : "false";
    std::string digits = llvm::toString(magnitude, 10, /*Signed=*/false);
    if (isNegative && !magnitude.isZero())
      return "-" + digits;
    return digits;
  }
};

/// The parenthesized arguments of a primitive, keywords in written order.
struct Arguments {
  SmallVector<ParamValue> positional;
  SmallVector<std::pair<Token, ParamValue>> keywords;

  const ParamValue *findKeyword(StringRef name) const {
    for (const auto &[key, value] : keywords)
      if (key.text == name)
        return &value;
    return nullptr;
  }
};

/// Returns a string literal as Python's repr writes a short string.
std::string quote(StringRef text) {
  char delimiter = text.contains('\'') ? '"' : '\'';
  return (Twine(delimiter) + text + Twine(delimiter)).str();
}

/// Returns whether `c` is one of the punctuation characters of the language.
bool isPunctuation(char c) { return StringRef("()[],=|&").contains(c); }

//===----------------------------------------------------------------------===//
// PatternParser
//===----------------------------------------------------------------------===//

/// Recursive-descent parser for
///   expression := term ('|' term)*
///   term       := factor ('&' factor)*
///   factor     := '(' expression ')' | '[' expression (',' expression)* ']'
///               | name ['(' [argument (',' argument)*] ')']
///   argument   := [name '='] (integer | 'true' | 'false')
/// mirroring the Python reference parser so that both report the same first
/// error for the same text.
class PatternParser {
public:
  PatternParser(MLIRContext *context, StringRef text,
                MaskPatternErrorFn emitError)
      : context(context), text(text), emitError(emitError) {}

  FailureOr<MaskAttrInterface> parse();

private:
  // Diagnostics.
  LogicalResult error(const Twine &message);
  std::string describe(const Token *token) const;
  int64_t columnOf(size_t offset) const;

  // Tokens.
  LogicalResult tokenize();
  const Token *peek(size_t ahead = 0) const;
  bool accept(StringRef punctuation);
  LogicalResult expect(StringRef value);

  // Grammar.
  FailureOr<MaskAttrInterface> parseExpression();
  FailureOr<MaskAttrInterface> parseTerm();
  FailureOr<MaskAttrInterface> parseFactor();
  FailureOr<MaskAttrInterface> parsePerHeadList(const Token &open);
  FailureOr<Arguments> parseArguments();
  FailureOr<ParamValue> parseValue();

  // Primitives.
  FailureOr<MaskAttrInterface> buildPrimitive(const Token &name,
                                              const Arguments &arguments);
  FailureOr<MaskAttrInterface> buildWindow(const Token &name,
                                           const Arguments &arguments);
  FailureOr<SmallVector<std::optional<ParamValue>>>
  bindArguments(const Token &name, ArrayRef<StringRef> names,
                size_t numRequired, const Arguments &arguments);
  FailureOr<int64_t> getInteger(StringRef mask, StringRef parameter,
                                const ParamValue &value, int64_t minimum);
  FailureOr<uint64_t> getSeed(const ParamValue &value);

  // Attribute construction.
  FailureOr<MaskAttrInterface> buildComposition(const Token &anchor,
                                                StringRef kind,
                                                ArrayRef<Attribute> members);
  template <typename AttrT, typename... Args>
  FailureOr<MaskAttrInterface> getChecked(int64_t column, Args... args);

  MLIRContext *context;
  StringRef text;
  MaskPatternErrorFn emitError;
  SmallVector<Token> tokens;
  size_t index = 0;
};

} // namespace

LogicalResult PatternParser::error(const Twine &message) {
  emitError("invalid mask pattern " + quote(text) + ": " + message);
  return failure();
}

int64_t PatternParser::columnOf(size_t offset) const {
  // Count characters, not bytes: UTF-8 continuation bytes do not start one.
  int64_t column = 1;
  for (char c : text.take_front(offset))
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
      ++column;
  return column;
}

std::string PatternParser::describe(const Token *token) const {
  if (!token)
    return "end of input";
  return quote(token->text) + " at column " + std::to_string(token->column);
}

LogicalResult PatternParser::tokenize() {
  size_t position = 0;
  while (position < text.size()) {
    char c = text[position];
    if (llvm::isSpace(c)) {
      ++position;
      continue;
    }

    size_t start = position;
    TokenKind kind;
    if (llvm::isDigit(c) || (c == '-' && position + 1 < text.size() &&
                             llvm::isDigit(text[position + 1]))) {
      kind = TokenKind::Integer;
      ++position;
      while (position < text.size() && llvm::isDigit(text[position]))
        ++position;
    } else if (llvm::isAlpha(c) || c == '_') {
      kind = TokenKind::Name;
      while (position < text.size() &&
             (llvm::isAlnum(text[position]) || text[position] == '_'))
        ++position;
    } else if (isPunctuation(c)) {
      kind = TokenKind::Punctuation;
      ++position;
    } else {
      // Report the whole UTF-8 sequence of a non-ASCII character.
      size_t length = 1;
      while (start + length < text.size() &&
             (static_cast<unsigned char>(text[start + length]) & 0xC0) == 0x80)
        ++length;
      return error("unexpected character " + quote(text.substr(start, length)) +
                   " at column " + Twine(columnOf(start)));
    }
    tokens.push_back({kind, text.slice(start, position), columnOf(start)});
  }
  return success();
}

const Token *PatternParser::peek(size_t ahead) const {
  if (index + ahead < tokens.size())
    return &tokens[index + ahead];
  return nullptr;
}

bool PatternParser::accept(StringRef punctuation) {
  const Token *token = peek();
  if (!token || token->kind != TokenKind::Punctuation ||
      token->text != punctuation)
    return false;
  ++index;
  return true;
}

LogicalResult PatternParser::expect(StringRef value) {
  const Token *token = peek();
  if (!token || token->text != value)
    return error("expected " + quote(value) + " (got " + describe(token) + ")");
  ++index;
  return success();
}

FailureOr<MaskAttrInterface> PatternParser::parse() {
  if (failed(tokenize()))
    return failure();
  if (tokens.empty())
    return error("expected a mask (got empty text)");

  FailureOr<MaskAttrInterface> mask = parseExpression();
  if (failed(mask))
    return failure();
  if (const Token *token = peek())
    return error("expected '|', '&' or end of input (got " + describe(token) +
                 ")");
  return mask;
}

FailureOr<MaskAttrInterface> PatternParser::parseExpression() {
  const Token *first = peek();
  SmallVector<Attribute> members;
  do {
    FailureOr<MaskAttrInterface> member = parseTerm();
    if (failed(member))
      return failure();
    members.push_back(*member);
  } while (accept("|"));

  if (members.size() == 1)
    return cast<MaskAttrInterface>(members.front());
  return buildComposition(*first, "union", members);
}

FailureOr<MaskAttrInterface> PatternParser::parseTerm() {
  const Token *first = peek();
  SmallVector<Attribute> members;
  do {
    FailureOr<MaskAttrInterface> member = parseFactor();
    if (failed(member))
      return failure();
    members.push_back(*member);
  } while (accept("&"));

  if (members.size() == 1)
    return cast<MaskAttrInterface>(members.front());
  return buildComposition(*first, "intersect", members);
}

FailureOr<MaskAttrInterface> PatternParser::parseFactor() {
  const Token *token = peek();
  if (accept("(")) {
    FailureOr<MaskAttrInterface> mask = parseExpression();
    if (failed(mask) || failed(expect(")")))
      return failure();
    return mask;
  }
  if (accept("["))
    return parsePerHeadList(*token);

  if (!token || token->kind != TokenKind::Name)
    return error("expected a mask name (got " + describe(token) + ")");
  ++index;

  FailureOr<Arguments> arguments = parseArguments();
  if (failed(arguments))
    return failure();
  return buildPrimitive(*token, *arguments);
}

FailureOr<MaskAttrInterface>
PatternParser::parsePerHeadList(const Token &open) {
  SmallVector<Attribute> heads;
  do {
    FailureOr<MaskAttrInterface> head = parseExpression();
    if (failed(head))
      return failure();
    heads.push_back(*head);
  } while (accept(","));

  if (failed(expect("]")))
    return failure();
  return buildComposition(open, "per_head", heads);
}

FailureOr<Arguments> PatternParser::parseArguments() {
  Arguments arguments;
  if (!accept("(") || accept(")"))
    return arguments;

  while (true) {
    const Token *token = peek();
    const Token *following = peek(1);
    if (token && token->kind == TokenKind::Name && following &&
        following->text == "=") {
      index += 2;
      if (arguments.findKeyword(token->text))
        return error("parameter " + quote(token->text) +
                     " is given twice at column " + Twine(token->column));
      FailureOr<ParamValue> value = parseValue();
      if (failed(value))
        return failure();
      arguments.keywords.emplace_back(*token, *value);
    } else {
      if (!arguments.keywords.empty())
        return error("positional value after keyword parameters (got " +
                     describe(token) + ")");
      FailureOr<ParamValue> value = parseValue();
      if (failed(value))
        return failure();
      arguments.positional.push_back(*value);
    }

    if (accept(")"))
      return arguments;
    if (!accept(","))
      return error("expected ',' or ')' (got " + describe(peek()) + ")");
  }
}

FailureOr<ParamValue> PatternParser::parseValue() {
  const Token *token = peek();
  if (token && token->kind == TokenKind::Integer) {
    ++index;
    ParamValue value;
    value.token = *token;
    StringRef digits = token->text;
    value.isNegative = digits.consume_front("-");
    // getAsInteger sizes the APInt to the literal, so no digit is lost.
    if (digits.getAsInteger(10, value.magnitude))
      return error("invalid integer " + describe(token));
    return value;
  }
  if (token && (token->text == "true" || token->text == "false")) {
    ++index;
    ParamValue value;
    value.token = *token;
    value.isBool = true;
    value.boolValue = token->text == "true";
    return value;
  }
  return error("expected an integer or true/false (got " + describe(token) +
               ")");
}

//===----------------------------------------------------------------------===//
// Primitives
//===----------------------------------------------------------------------===//

FailureOr<int64_t> PatternParser::getInteger(StringRef mask,
                                             StringRef parameter,
                                             const ParamValue &value,
                                             int64_t minimum) {
  std::string where = " at column " + std::to_string(value.token.column);
  std::string requirement = "must be an integer >= " + std::to_string(minimum);
  bool isNegative = value.isNegative && !value.magnitude.isZero();
  bool belowMinimum =
      isNegative || value.magnitude.ult(static_cast<uint64_t>(minimum));
  if (value.isBool || belowMinimum)
    return error(mask + " parameter " + quote(parameter) + " " + requirement +
                 " (got " + value.str() + ")" + where);

  // NOTE: the Python reference accepts any integer, but the attributes
  // store int64_t. Every minimum here is >= 0, so negative values failed above.
  if (value.magnitude.getActiveBits() > 63)
    return error(mask + " parameter " + quote(parameter) + " must be at most " +
                 Twine(std::numeric_limits<int64_t>::max()) + " (got " +
                 value.str() + ")" + where);
  return static_cast<int64_t>(value.magnitude.getZExtValue());
}

FailureOr<uint64_t> PatternParser::getSeed(const ParamValue &value) {
  if (value.isBool || (value.isNegative && !value.magnitude.isZero()))
    return error("bigbird parameter 'seed' must be an integer >= 0 "
                 "(got " +
                 value.str() + ") at column " + Twine(value.token.column));
  if (value.magnitude.getActiveBits() > 64)
    return error("bigbird parameter 'seed' must be below 2**64 (got " +
                 value.str() + ") at column " + Twine(value.token.column));
  return value.magnitude.getZExtValue();
}

FailureOr<SmallVector<std::optional<ParamValue>>>
PatternParser::bindArguments(const Token &name, ArrayRef<StringRef> names,
                             size_t numRequired, const Arguments &arguments) {
  if (arguments.positional.size() > names.size())
    return error(name.text + " takes at most " + Twine(names.size()) +
                 " parameters (got " + Twine(arguments.positional.size()) +
                 ") at column " + Twine(name.column));

  SmallVector<std::optional<ParamValue>> values(names.size());
  for (auto [slot, value] : llvm::zip(values, arguments.positional))
    slot = value;

  for (const auto &[key, value] : arguments.keywords) {
    const auto *found = llvm::find(names, key.text);
    if (found == names.end()) {
      std::string expected = names.empty() ? "none" : llvm::join(names, ", ");
      return error("unknown parameter " + quote(key.text) + " of " + name.text +
                   " at column " + Twine(key.column) +
                   " (expected one of: " + expected + ")");
    }
    std::optional<ParamValue> &slot = values[found - names.begin()];
    if (slot)
      return error("parameter " + quote(key.text) + " of " + name.text +
                   " is given twice at column " + Twine(key.column));
    slot = value;
  }

  for (auto [position, slot] : llvm::enumerate(values))
    if (!slot && position < numRequired)
      return error("missing parameter " + quote(names[position]) + " of " +
                   name.text + " at column " + Twine(name.column));
  return values;
}

FailureOr<MaskAttrInterface>
PatternParser::buildWindow(const Token &name, const Arguments &arguments) {
  const ParamValue *size = arguments.findKeyword("size");
  if (!arguments.positional.empty() || size) {
    if (arguments.positional.size() + arguments.keywords.size() != 1) {
      SmallVector<StringRef> keys;
      for (const auto &[key, value] : arguments.keywords)
        keys.push_back(key.text);
      llvm::sort(keys);
      std::string keyList;
      for (StringRef key : keys)
        keyList += (keyList.empty() ? "" : ", ") + quote(key);
      return error("window takes either one size or left= and right= (got " +
                   Twine(arguments.positional.size()) +
                   " positional and keywords [" + keyList + "]) at column " +
                   Twine(name.column));
    }
    const ParamValue &value = size ? *size : arguments.positional.front();
    FailureOr<int64_t> windowSize = getInteger("window", "size", value, 1);
    if (failed(windowSize))
      return failure();
    return getChecked<WindowAttr>(name.column, *windowSize - 1, int64_t(0));
  }

  for (const auto &[key, value] : arguments.keywords)
    if (key.text != "left" && key.text != "right")
      return error("unknown parameter " + quote(key.text) +
                   " of window at column " + Twine(key.column) +
                   " (expected size, left or right)");

  const ParamValue *leftValue = arguments.findKeyword("left");
  if (!leftValue)
    return error("missing parameter 'left' of window at column " +
                 Twine(name.column));
  FailureOr<int64_t> left = getInteger("window", "left", *leftValue, 0);
  if (failed(left))
    return failure();

  int64_t right = 0;
  if (const ParamValue *rightValue = arguments.findKeyword("right")) {
    FailureOr<int64_t> parsed = getInteger("window", "right", *rightValue, 0);
    if (failed(parsed))
      return failure();
    right = *parsed;
  }
  return getChecked<WindowAttr>(name.column, *left, right);
}

FailureOr<MaskAttrInterface>
PatternParser::buildPrimitive(const Token &name, const Arguments &arguments) {
  if (name.text == "window")
    return buildWindow(name, arguments);

  // Parameter names in positional order. The leading `numRequired` have no
  // default.
  SmallVector<StringRef> names;
  size_t numRequired = 0;
  if (name.text == "full" || name.text == "causal") {
    numRequired = 0;
  } else if (name.text == "sinks") {
    names = {"count"};
    numRequired = 1;
  } else if (name.text == "chunked") {
    names = {"size"};
    numRequired = 1;
  } else if (name.text == "dilated") {
    names = {"window", "dilation"};
    numRequired = 2;
  } else if (name.text == "bigbird") {
    names = {"block", "global", "window", "random", "seed", "causal"};
    numRequired = 4;
  } else {
    return error(
        "unknown mask " + quote(name.text) + " at column " +
        Twine(name.column) +
        " (expected one of: bigbird, causal, chunked, dilated, full, sinks, "
        "window)");
  }

  FailureOr<SmallVector<std::optional<ParamValue>>> values =
      bindArguments(name, names, numRequired, arguments);
  if (failed(values))
    return failure();

  if (name.text == "full")
    return cast<MaskAttrInterface>(FullAttr::get(context));
  if (name.text == "causal")
    return cast<MaskAttrInterface>(CausalAttr::get(context));

  if (name.text == "sinks") {
    FailureOr<int64_t> count = getInteger("sinks", "count", *(*values)[0], 0);
    if (failed(count))
      return failure();
    return getChecked<SinksAttr>(name.column, *count);
  }

  if (name.text == "chunked") {
    FailureOr<int64_t> size = getInteger("chunked", "size", *(*values)[0], 1);
    if (failed(size))
      return failure();
    return getChecked<ChunkedAttr>(name.column, *size);
  }

  if (name.text == "dilated") {
    FailureOr<int64_t> window =
        getInteger("dilated", "window", *(*values)[0], 1);
    if (failed(window))
      return failure();
    FailureOr<int64_t> dilation =
        getInteger("dilated", "dilation", *(*values)[1], 1);
    if (failed(dilation))
      return failure();
    return getChecked<DilatedAttr>(name.column, *window, *dilation);
  }

  // bigbird: the checks run in the order of the Python dataclass.
  FailureOr<int64_t> block = getInteger("bigbird", "block", *(*values)[0], 1);
  if (failed(block))
    return failure();
  FailureOr<int64_t> global = getInteger("bigbird", "global", *(*values)[1], 0);
  if (failed(global))
    return failure();
  FailureOr<int64_t> window = getInteger("bigbird", "window", *(*values)[2], 1);
  if (failed(window))
    return failure();
  FailureOr<int64_t> random = getInteger("bigbird", "random", *(*values)[3], 0);
  if (failed(random))
    return failure();

  const std::optional<ParamValue> &seedValue = (*values)[4];
  // Python checks the sign of the seed before the parity of the window and
  // the upper bound of the seed after it.
  if (seedValue && (seedValue->isBool || seedValue->isNegative) &&
      failed(getSeed(*seedValue)))
    return failure();
  if (*window % 2 != 1)
    return error("bigbird parameter 'window' must be odd (got " +
                 Twine(*window) + ") at column " +
                 Twine((*values)[2]->token.column));
  uint64_t seed = 0;
  if (seedValue) {
    FailureOr<uint64_t> parsed = getSeed(*seedValue);
    if (failed(parsed))
      return failure();
    seed = *parsed;
  }

  bool causal = false;
  if (const std::optional<ParamValue> &causalValue = (*values)[5]) {
    if (!causalValue->isBool)
      return error("bigbird parameter 'causal' must be a bool (got " +
                   causalValue->str() + ") at column " +
                   Twine(causalValue->token.column));
    causal = causalValue->boolValue;
  }
  return getChecked<BigBirdAttr>(name.column, *block, *global, *window, *random,
                                 seed, int64_t(0), causal);
}

//===----------------------------------------------------------------------===//
// Attribute construction
//===----------------------------------------------------------------------===//

FailureOr<MaskAttrInterface>
PatternParser::buildComposition(const Token &anchor, StringRef kind,
                                ArrayRef<Attribute> members) {
  // The attribute verifiers reject these two cases too, but with messages
  // about attributes, while these name the pattern syntax.
  std::optional<int64_t> numHeads;
  for (auto [position, member] : llvm::enumerate(members)) {
    if (kind == "per_head" && isa<PerHeadAttr>(member))
      return error(
          "per-head list at column " + Twine(anchor.column) +
          " has another per-head list as its member #" + Twine(position) +
          " (nested per-head lists are ambiguous, so write one flat list)");

    std::optional<int64_t> memberHeads =
        cast<MaskAttrInterface>(member).getNumHeads();
    if (!memberHeads)
      continue;
    if (numHeads && *numHeads != *memberHeads)
      return error("per-head lists combined by the " + kind + " at column " +
                   Twine(anchor.column) + " must have the same length (got " +
                   Twine(*numHeads) + " and " + Twine(*memberHeads) +
                   " heads)");
    numHeads = memberHeads;
  }

  ArrayAttr array = ArrayAttr::get(context, members);
  if (kind == "union")
    return getChecked<UnionAttr>(anchor.column, array);
  if (kind == "intersect")
    return getChecked<IntersectAttr>(anchor.column, array);
  return getChecked<PerHeadAttr>(anchor.column, array);
}

/// Builds an attribute through its verifier and turns a verifier diagnostic
/// into a pattern error at `column`. The checks above mirror the verifiers,
/// so this path is only a safety net.
template <typename AttrT, typename... Args>
FailureOr<MaskAttrInterface> PatternParser::getChecked(int64_t column,
                                                       Args... args) {
  std::string message;
  {
    // NOTE: a diagnostic handler is visible to every thread that uses the
    // context, so call the parser outside multi-threaded pass execution.
    ScopedDiagnosticHandler capture(context, [&](Diagnostic &diagnostic) {
      if (message.empty())
        message = diagnostic.str();
      return success();
    });
    auto attr = AttrT::getChecked(
        [&] { return mlir::emitError(UnknownLoc::get(context)); }, context,
        args...);
    if (attr)
      return cast<MaskAttrInterface>(attr);
  }
  return error(message + " at column " + Twine(column));
}

FailureOr<MaskAttrInterface>
mlir::rill::parseMaskPattern(MLIRContext *context, StringRef text,
                             MaskPatternErrorFn emitError) {
  context->getOrLoadDialect<RillDialect>();
  return PatternParser(context, text, emitError).parse();
}

//===----------------------------------------------------------------------===//
// Printer
//===----------------------------------------------------------------------===//

namespace {

/// Binding strength of a printed mask: how tightly its text holds together.
enum class Precedence { Union, Intersect, Atom };

/// Prints masks into one string. `failed` is set by any member that is not a
/// rill mask attribute.
struct PatternPrinter {
  llvm::raw_string_ostream os;
  bool failed = false;

  explicit PatternPrinter(std::string &buffer) : os(buffer) {}

  static Precedence precedenceOf(Attribute mask) {
    if (auto unionAttr = dyn_cast<UnionAttr>(mask))
      return unionAttr.getMasks().size() == 1
                 ? precedenceOf(unionAttr.getMasks()[0])
                 : Precedence::Union;
    if (auto intersect = dyn_cast<IntersectAttr>(mask))
      return intersect.getMasks().size() == 1
                 ? precedenceOf(intersect.getMasks()[0])
                 : Precedence::Intersect;
    return Precedence::Atom;
  }

  /// Prints `mask`, in parentheses unless it binds tighter than `context`,
  /// which keeps nested compositions nested after parsing.
  void printOperand(Attribute mask, Precedence context) {
    if (precedenceOf(mask) > context) {
      print(mask);
      return;
    }
    os << "(";
    print(mask);
    os << ")";
  }

  void printList(ArrayAttr masks, StringRef separator, Precedence context) {
    if (masks.size() == 1) {
      print(masks[0]);
      return;
    }
    llvm::interleave(
        masks, os, [&](Attribute member) { printOperand(member, context); },
        separator);
  }

  void print(Attribute mask) {
    llvm::TypeSwitch<Attribute>(mask)
        .Case([&](FullAttr) { os << "full"; })
        .Case([&](CausalAttr) { os << "causal"; })
        .Case([&](WindowAttr window) {
          if (window.getRight() == 0)
            os << "window(" << window.getLeft() + 1 << ")";
          else
            os << "window(left=" << window.getLeft()
               << ",right=" << window.getRight() << ")";
        })
        .Case(
            [&](SinksAttr sinks) { os << "sinks(" << sinks.getCount() << ")"; })
        .Case([&](DilatedAttr dilated) {
          os << "dilated(window=" << dilated.getWindow()
             << ",dilation=" << dilated.getDilation() << ")";
        })
        .Case([&](ChunkedAttr chunked) {
          os << "chunked(" << chunked.getSize() << ")";
        })
        .Case([&](BigBirdAttr bigBird) {
          os << "bigbird(block=" << bigBird.getBlock()
             << ",global=" << bigBird.getGlobal()
             << ",window=" << bigBird.getWindow()
             << ",random=" << bigBird.getRandom()
             << ",seed=" << bigBird.getSeed();
          if (bigBird.getCausal())
            os << ",causal=true";
          os << ")";
        })
        .Case([&](UnionAttr unionAttr) {
          // A nested union needs parentheses, but an intersection does not.
          printList(unionAttr.getMasks(), "|", Precedence::Union);
        })
        .Case([&](IntersectAttr intersect) {
          printList(intersect.getMasks(), "&", Precedence::Intersect);
        })
        .Case([&](PerHeadAttr perHead) {
          os << "[";
          llvm::interleave(
              perHead.getMasks(), os, [&](Attribute member) { print(member); },
              ", ");
          os << "]";
        })
        .Default([&](Attribute) { failed = true; });
  }
};

} // namespace

std::string mlir::rill::printMaskPattern(Attribute mask) {
  std::string buffer;
  if (!mask)
    return buffer;

  PatternPrinter printer(buffer);
  printer.print(mask);
  printer.os.flush();
  if (printer.failed)
    return std::string();
  return buffer;
}
