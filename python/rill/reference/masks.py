# ===- rill/reference/masks.py - Attention masks over stream positions -=== #
"""Attention masks of the numpy reference, as visibility predicates.

A mask decides whether the query at stream position `q` may attend to the key at
stream position `k` (token `t` is the `t`-th token of the stream, 0-based). Each
mask is a small frozen dataclass with `visible(q, k, head=0, layer=0)` for one
pair and `matrix(q_positions, k_positions, head=0, layer=0)` for a boolean
`[len(q_positions), len(k_positions)]` array. The compiler's mask attributes and
the C++ runtime must agree with these definitions.

Primitive masks:

- `Full()`: every key is visible.
- `Causal()`: `k <= q`.
- `Window(left, right)`: `q - left <= k <= q + right`. The one-sided
  `window(W)` is `Window(left=W - 1, right=0)`, that is `q - W < k <= q`, so
  exactly `W` keys are visible once `q >= W - 1`, the query's own key included.
- `Sinks(count)`: `k < count` and `k <= q`. The causal condition is part of the
  mask, so `sinks(N)` alone is causal.
- `Dilated(window, dilation)`: `0 <= q - k < window * dilation` and
  `(q - k) % dilation == 0`, which is causal and shows `window` keys spaced
  `dilation` apart, the query's own key included.
- `Chunked(size)`: `q // size == k // size` and `k <= q`.
- `BigBird(block, global_blocks, window, random, seed, causal=False)`: a
  block-level pattern, see `BigBird`.

Composition: `Union(masks)` (any member visible), `Intersect(masks)` (all
members visible) and `PerHead(masks)` (member `head` decides for that head).
Python's `|` and `&` operators on masks build `Union` and `Intersect`.
Lower-case constructors (`full()`, `causal()`, `window(W)`, `sinks(N)`,
`dilated(...)`, `chunked(...)`, `bigbird(...)`, `union([...])`,
`intersect([...])`, `per_head([...])`) build the same dataclasses.

Causality rule: every primitive except `Full`, a `Window` with `right > 0` and a
non-causal `BigBird` is causal by itself, and a union or intersection of causal
masks is causal. StreamingLLM, `causal & (sinks(N) | window(W))`, is therefore
written `sinks(N) | window(W)` with no explicit `causal`, and
`streaming_llm(N, W)` builds it.

`parse_mask(text)` reads the command-line syntax: `causal`, `full`,
`window(128)`, `window(left=3,right=2)`, `sinks(4)`, `dilated(window=8,
dilation=2)`, `chunked(64)`, `bigbird(block=64,global=2,window=3,random=3,
seed=0)` and `bigbird(..., causal=true)`, combined with `&` (intersection,
binds tighter), `|` (union), parentheses, and `[m0, m1, ...]` for one mask per
head. Invalid text or parameters raise `ValueError` naming the token or
parameter and its value.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Sequence

import numpy as np

__all__ = [
    "BigBird",
    "Causal",
    "Chunked",
    "Dilated",
    "Full",
    "Intersect",
    "Mask",
    "PerHead",
    "Sinks",
    "Union",
    "Window",
    "bigbird",
    "bigbird_random_blocks",
    "causal",
    "chunked",
    "dilated",
    "full",
    "intersect",
    "parse_mask",
    "per_head",
    "sinks",
    "splitmix64",
    "streaming_llm",
    "union",
    "window",
]

_UINT64_MASK = (1 << 64) - 1


def _check_int(owner: str, name: str, value, minimum: int) -> None:
    """Raise ValueError unless `value` is an integer (not a bool) >= minimum."""
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not is_int or value < minimum:
        raise ValueError(
            f"{owner} parameter '{name}' must be an integer >= {minimum} "
            f"(got {value!r})"
        )


def _as_positions(values, name: str) -> np.ndarray:
    """Convert stream positions to a 1-D int64 array, rejecting non-integers."""
    array = np.asarray(values)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of positions (got shape {array.shape})")
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise ValueError(f"{name} must contain integer positions (got {array!r})")
    elif array.dtype.kind not in "iu":
        raise ValueError(f"{name} must contain integer positions (got dtype {array.dtype})")
    return array.astype(np.int64)


class Mask:
    """Base class of all masks: a predicate over (query, key) stream positions."""

    def matrix(self, q_positions, k_positions, head: int = 0, layer: int = 0) -> np.ndarray:
        """Evaluate the mask on all pairs and return a bool array [len(q), len(k)]."""
        _check_int("mask", "head", head, 0)
        _check_int("mask", "layer", layer, 0)
        q = _as_positions(q_positions, "q_positions")[:, None]
        k = _as_positions(k_positions, "k_positions")[None, :]
        result = self._visible(q, k, head, layer)
        return np.array(np.broadcast_to(result, (q.shape[0], k.shape[1])), dtype=bool)

    def visible(self, q: int, k: int, head: int = 0, layer: int = 0) -> bool:
        """Return whether the query at position q may attend the key at position k."""
        return bool(self.matrix([q], [k], head, layer)[0, 0])

    def _visible(self, q: np.ndarray, k: np.ndarray, head: int, layer: int) -> np.ndarray:
        """Evaluate on broadcastable int64 arrays `q` [Tq, 1] and `k` [1, Tk]."""
        raise NotImplementedError

    def __or__(self, other: Mask) -> Mask:
        return Union((self, other))

    def __and__(self, other: Mask) -> Mask:
        return Intersect((self, other))


@dataclasses.dataclass(frozen=True)
class Full(Mask):
    """Every key is visible, in both directions."""

    def _visible(self, q, k, head, layer):
        return np.ones(np.broadcast_shapes(q.shape, k.shape), dtype=bool)


@dataclasses.dataclass(frozen=True)
class Causal(Mask):
    """Keys at or before the query: `k <= q`."""

    def _visible(self, q, k, head, layer):
        return k <= q


@dataclasses.dataclass(frozen=True)
class Window(Mask):
    """Two-sided window `q - left <= k <= q + right` (FlashAttention's convention).

    `window(W)` builds the causal window `Window(left=W - 1, right=0)`.
    """

    left: int
    right: int = 0

    def __post_init__(self):
        _check_int("window", "left", self.left, 0)
        _check_int("window", "right", self.right, 0)

    def _visible(self, q, k, head, layer):
        return (k >= q - self.left) & (k <= q + self.right)


def window(size: int) -> Window:
    """Build the causal window of `size` keys: `q - size < k <= q`."""
    _check_int("window", "size", size, 1)
    return Window(left=size - 1, right=0)


@dataclasses.dataclass(frozen=True)
class Sinks(Mask):
    """The first `count` tokens of the stream, with causality: `k < count and k <= q`."""

    count: int

    def __post_init__(self):
        _check_int("sinks", "count", self.count, 0)

    def _visible(self, q, k, head, layer):
        return (k < self.count) & (k <= q)


@dataclasses.dataclass(frozen=True)
class Dilated(Mask):
    """Causal dilated window of `window` keys spaced `dilation` apart.

    Visible when `0 <= q - k < window * dilation` and `(q - k) % dilation == 0`,
    so the keys are `q, q - dilation, ..., q - (window - 1) * dilation`.
    `Dilated(W, 1)` equals `window(W)`.
    """

    window: int
    dilation: int

    def __post_init__(self):
        _check_int("dilated", "window", self.window, 1)
        _check_int("dilated", "dilation", self.dilation, 1)

    def _visible(self, q, k, head, layer):
        distance = q - k
        in_span = (distance >= 0) & (distance < self.window * self.dilation)
        return in_span & (distance % self.dilation == 0)


@dataclasses.dataclass(frozen=True)
class Chunked(Mask):
    """Causal attention inside fixed chunks: `q // size == k // size and k <= q`."""

    size: int

    def __post_init__(self):
        _check_int("chunked", "size", self.size, 1)

    def _visible(self, q, k, head, layer):
        return (q // self.size == k // self.size) & (k <= q)


def splitmix64(value: int) -> int:
    """Return the splitmix64 finalizer of a 64-bit unsigned integer.

    All arithmetic is modulo 2**64:
    `z = value + 0x9E3779B97F4A7C15`, `z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9`,
    `z = (z ^ (z >> 27)) * 0x94D049BB133111EB`, result `z ^ (z >> 31)`.
    """
    z = (int(value) + 0x9E3779B97F4A7C15) & _UINT64_MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _UINT64_MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _UINT64_MASK
    return z ^ (z >> 31)


def bigbird_random_blocks(
    seed: int, layer: int, head: int, query_block: int, count: int
) -> tuple[int, ...]:
    """Draw the random key blocks of one BigBird query block, deterministically.

    The candidates are key blocks `0..query_block`. When there are at most
    `count` candidates, all of them are returned. Otherwise, with all arithmetic
    on unsigned 64-bit integers (wrapping):

        state = splitmix64(seed)
        state = splitmix64(state ^ layer)
        state = splitmix64(state ^ head)
        state = splitmix64(state ^ query_block)
        draw = 0, chosen = []
        while len(chosen) < count:
            block = splitmix64(state ^ draw) % (query_block + 1)
            draw += 1
            if block not in chosen: chosen.append(block)

    The result is `chosen` in draw order. A C++ implementation that follows these
    lines reproduces the blocks bit for bit.
    """
    for name, value in (("seed", seed), ("layer", layer), ("head", head),
                        ("query_block", query_block), ("count", count)):
        _check_int("bigbird", name, value, 0)
    if seed > _UINT64_MASK:
        raise ValueError(f"bigbird parameter 'seed' must be below 2**64 (got {seed})")

    # Python ints, because numpy's fixed-width integers would overflow or reject
    # the 64-bit unsigned arithmetic below.
    seed, layer, head, query_block, count = map(int, (seed, layer, head, query_block, count))
    candidates = query_block + 1
    if candidates <= count:
        return tuple(range(candidates))

    state = splitmix64(seed)
    for part in (layer, head, query_block):
        state = splitmix64(state ^ part)

    chosen: list[int] = []
    draw = 0
    while len(chosen) < count:
        block = splitmix64(state ^ draw) % candidates
        draw += 1
        if block not in chosen:
            chosen.append(block)
    return tuple(chosen)


@dataclasses.dataclass(frozen=True)
class BigBird(Mask):
    """Block-level BigBird pattern: global, sliding-window and random blocks.

    With query block `qb = q // block` and key block `kb = k // block`, the key
    is visible when any of these holds:

    - global: `qb < global_blocks` or `kb < global_blocks` (the first
      `global_blocks` blocks attend to everything and everything attends to them);
    - window: `abs(qb - kb) <= window // 2`, with `window` counted in blocks and odd;
    - random: `kb` is one of `bigbird_random_blocks(seed, layer, head, qb, random)`.

    The causal variant additionally requires `k <= q`.

    NOTE: random blocks are drawn from blocks `0..qb` only, so the pattern is
    defined for every position without knowing the sequence length. The
    original BigBird draws from the whole sequence minus the window and global
    blocks, so its random blocks differ from these in both variants.
    """

    block: int
    global_blocks: int
    window: int
    random: int
    seed: int = 0
    causal: bool = False

    def __post_init__(self):
        _check_int("bigbird", "block", self.block, 1)
        _check_int("bigbird", "global", self.global_blocks, 0)
        _check_int("bigbird", "window", self.window, 1)
        _check_int("bigbird", "random", self.random, 0)
        _check_int("bigbird", "seed", self.seed, 0)
        if self.window % 2 != 1:
            raise ValueError(f"bigbird parameter 'window' must be odd (got {self.window})")
        if self.seed > _UINT64_MASK:
            raise ValueError(f"bigbird parameter 'seed' must be below 2**64 (got {self.seed})")
        if not isinstance(self.causal, bool):
            raise ValueError(f"bigbird parameter 'causal' must be a bool (got {self.causal!r})")

    def random_blocks(self, query_block: int, head: int = 0, layer: int = 0) -> tuple[int, ...]:
        """Return the random key blocks of `query_block` for this head and layer."""
        return bigbird_random_blocks(self.seed, layer, head, query_block, self.random)

    def _visible(self, q, k, head, layer):
        q_block = q // self.block
        k_block = k // self.block
        result = (q_block < self.global_blocks) | (k_block < self.global_blocks)
        result = result | (np.abs(q_block - k_block) <= self.window // 2)

        if self.random > 0:
            for query_block in np.unique(q_block):
                chosen = self.random_blocks(int(query_block), head, layer)
                result = result | ((q_block == query_block) & np.isin(k_block, chosen))

        if self.causal:
            result = result & (k <= q)
        return result


def _as_mask_tuple(owner: str, masks: Sequence[Mask]) -> tuple[Mask, ...]:
    masks = tuple(masks)
    if not masks:
        raise ValueError(f"{owner} needs at least one mask (got none)")
    for member in masks:
        if not isinstance(member, Mask):
            raise ValueError(f"{owner} members must be masks (got {member!r})")
    return masks


@dataclasses.dataclass(frozen=True)
class Union(Mask):
    """Visible when any member mask is visible."""

    masks: tuple[Mask, ...]

    def __post_init__(self):
        object.__setattr__(self, "masks", _as_mask_tuple("union", self.masks))

    def _visible(self, q, k, head, layer):
        result = self.masks[0]._visible(q, k, head, layer)
        for member in self.masks[1:]:
            result = result | member._visible(q, k, head, layer)
        return result


@dataclasses.dataclass(frozen=True)
class Intersect(Mask):
    """Visible when every member mask is visible."""

    masks: tuple[Mask, ...]

    def __post_init__(self):
        object.__setattr__(self, "masks", _as_mask_tuple("intersect", self.masks))

    def _visible(self, q, k, head, layer):
        result = self.masks[0]._visible(q, k, head, layer)
        for member in self.masks[1:]:
            result = result & member._visible(q, k, head, layer)
        return result


@dataclasses.dataclass(frozen=True)
class PerHead(Mask):
    """One mask per attention head: head `h` uses `masks[h]`."""

    masks: tuple[Mask, ...]

    def __post_init__(self):
        object.__setattr__(self, "masks", _as_mask_tuple("per_head", self.masks))

    def _visible(self, q, k, head, layer):
        if head >= len(self.masks):
            raise ValueError(
                f"per_head mask has {len(self.masks)} heads (got head={head})"
            )
        return self.masks[head]._visible(q, k, head, layer)


def streaming_llm(sinks: int, window_size: int) -> Mask:
    """Build the StreamingLLM mask `causal & (sinks(sinks) | window(window_size))`."""
    return Union((Sinks(sinks), window(window_size)))


# Lower-case constructors that read like the mask text syntax.


def full() -> Full:
    return Full()


def causal() -> Causal:
    return Causal()


def sinks(count: int) -> Sinks:
    return Sinks(count)


def dilated(window: int, dilation: int) -> Dilated:
    return Dilated(window, dilation)


def chunked(size: int) -> Chunked:
    return Chunked(size)


def bigbird(block: int, global_blocks: int, window: int, random: int, seed: int = 0,
            causal: bool = False) -> BigBird:
    return BigBird(block, global_blocks, window, random, seed, causal)


def union(masks: Sequence[Mask]) -> Union:
    return Union(tuple(masks))


def intersect(masks: Sequence[Mask]) -> Intersect:
    return Intersect(tuple(masks))


def per_head(masks: Sequence[Mask]) -> PerHead:
    return PerHead(tuple(masks))


# ---------------------------------------------------------------------------
# Parser for the command-line syntax.
# ---------------------------------------------------------------------------

_TOKEN_PATTERN = re.compile(
    r"\s*(?:(?P<int>-?\d+)|(?P<name>[A-Za-z_][A-Za-z_0-9]*)|(?P<punct>[()\[\],=|&]))"
)

# Parameter names of each mask kind, in positional order, and the defaults of
# the optional ones.
_PARAMETERS = {
    "full": ((), {}),
    "causal": ((), {}),
    "sinks": (("count",), {}),
    "chunked": (("size",), {}),
    "dilated": (("window", "dilation"), {}),
    "bigbird": (("block", "global", "window", "random", "seed", "causal"),
                {"seed": 0, "causal": False}),
}


class _Parser:
    """Recursive-descent parser: expr := term ('|' term)*, term := factor ('&' factor)*."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = self._tokenize(text)
        self.index = 0

    def _error(self, message: str) -> ValueError:
        return ValueError(f"invalid mask {self.text!r}: {message}")

    def _tokenize(self, text: str) -> list[tuple[str, str, int]]:
        tokens = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = _TOKEN_PATTERN.match(text, position)
            if match is None:
                column = len(text) - len(text[position:].lstrip()) + 1
                raise self._error(
                    f"unexpected character {text[column - 1]!r} at column {column}"
                )
            kind = match.lastgroup
            tokens.append((kind, match.group(kind), match.start(kind) + 1))
            position = match.end()
        return tokens

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _describe(self, token) -> str:
        return "end of input" if token is None else f"{token[1]!r} at column {token[2]}"

    def _expect(self, value: str) -> None:
        token = self._peek()
        if token is None or token[1] != value:
            raise self._error(f"expected {value!r} (got {self._describe(token)})")
        self.index += 1

    def _accept(self, value: str) -> bool:
        token = self._peek()
        if token is not None and token[0] == "punct" and token[1] == value:
            self.index += 1
            return True
        return False

    def parse(self) -> Mask:
        if not self.tokens:
            raise self._error("expected a mask (got empty text)")
        mask = self._expression()
        token = self._peek()
        if token is not None:
            raise self._error(f"expected '|', '&' or end of input (got {self._describe(token)})")
        return mask

    def _expression(self) -> Mask:
        members = [self._term()]
        while self._accept("|"):
            members.append(self._term())
        return members[0] if len(members) == 1 else Union(tuple(members))

    def _term(self) -> Mask:
        members = [self._factor()]
        while self._accept("&"):
            members.append(self._factor())
        return members[0] if len(members) == 1 else Intersect(tuple(members))

    def _factor(self) -> Mask:
        if self._accept("("):
            mask = self._expression()
            self._expect(")")
            return mask

        if self._accept("["):
            heads = [self._expression()]
            while self._accept(","):
                heads.append(self._expression())
            self._expect("]")
            return PerHead(tuple(heads))

        token = self._peek()
        if token is None or token[0] != "name":
            raise self._error(f"expected a mask name (got {self._describe(token)})")
        self.index += 1
        return self._primitive(token[1], self._arguments())

    def _arguments(self) -> tuple[list[tuple[str, int]], dict[str, object]]:
        positional: list[tuple[str, int]] = []
        keywords: dict[str, object] = {}
        if not self._accept("("):
            return positional, keywords
        if self._accept(")"):
            return positional, keywords

        while True:
            token = self._peek()
            following = self.tokens[self.index + 1] if self.index + 1 < len(self.tokens) else None
            if token is not None and token[0] == "name" and following and following[1] == "=":
                self.index += 2
                if token[1] in keywords:
                    raise self._error(f"parameter {token[1]!r} is given twice")
                keywords[token[1]] = self._value()
            else:
                if keywords:
                    raise self._error(
                        f"positional value after keyword parameters (got {self._describe(token)})"
                    )
                positional.append(self._value())
            if self._accept(")"):
                return positional, keywords
            if not self._accept(","):
                raise self._error(f"expected ',' or ')' (got {self._describe(self._peek())})")

    def _value(self) -> object:
        token = self._peek()
        if token is not None and token[0] == "int":
            self.index += 1
            return int(token[1])
        if token is not None and token[1] in ("true", "false"):
            self.index += 1
            return token[1] == "true"
        raise self._error(f"expected an integer or true/false (got {self._describe(token)})")

    def _bind(self, name: str, positional, keywords) -> dict[str, object]:
        names, defaults = _PARAMETERS[name]
        if len(positional) > len(names):
            raise self._error(
                f"{name} takes at most {len(names)} parameters (got {len(positional)})"
            )
        values = dict(zip(names, positional))
        for key, value in keywords.items():
            if key not in names:
                expected = ", ".join(names) if names else "none"
                raise self._error(
                    f"unknown parameter {key!r} of {name} (expected one of: {expected})"
                )
            if key in values:
                raise self._error(f"parameter {key!r} of {name} is given twice")
            values[key] = value
        for key in names:
            if key not in values:
                if key not in defaults:
                    raise self._error(f"missing parameter {key!r} of {name}")
                values[key] = defaults[key]
        return values

    def _window(self, positional, keywords) -> Mask:
        if positional or "size" in keywords:
            if len(positional) + len(keywords) != 1:
                raise self._error(
                    "window takes either one size or left= and right= "
                    f"(got {len(positional)} positional and keywords {sorted(keywords)})"
                )
            size = positional[0] if positional else keywords["size"]
            return window(size)

        for key in keywords:
            if key not in ("left", "right"):
                raise self._error(
                    f"unknown parameter {key!r} of window (expected size, left or right)"
                )
        if "left" not in keywords:
            raise self._error("missing parameter 'left' of window")
        return Window(left=keywords["left"], right=keywords.get("right", 0))

    def _primitive(self, name: str, arguments) -> Mask:
        positional, keywords = arguments
        try:
            if name == "window":
                return self._window(positional, keywords)
            if name not in _PARAMETERS:
                known = ", ".join(sorted(set(_PARAMETERS) | {"window"}))
                raise self._error(f"unknown mask {name!r} (expected one of: {known})")

            values = self._bind(name, positional, keywords)
            if name == "full":
                return Full()
            if name == "causal":
                return Causal()
            if name == "sinks":
                return Sinks(values["count"])
            if name == "chunked":
                return Chunked(values["size"])
            if name == "dilated":
                return Dilated(values["window"], values["dilation"])
            return BigBird(
                block=values["block"],
                global_blocks=values["global"],
                window=values["window"],
                random=values["random"],
                seed=values["seed"],
                causal=values["causal"],
            )
        except ValueError as error:
            if str(error).startswith("invalid mask"):
                raise
            raise self._error(str(error)) from None


def parse_mask(text: str) -> Mask:
    """Parse the command-line mask syntax described in this module's docstring.

    Raises ValueError naming the offending token or parameter and its value.
    """
    if not isinstance(text, str):
        raise ValueError(f"mask text must be a string (got {text!r})")
    return _Parser(text).parse()
