# ===- tests/test_mask_pattern_cross_check.py - C++ vs Python patterns -=== #
"""Cross-check the C++ mask pattern parser against `parse_mask`.

Each pattern goes through `rill-opt --rill-set-mask="pattern=..."` on a small
function with `rill.attention` ops. The test then checks three things:

- the printed mask attribute, read back into `rill.reference.masks`
  dataclasses, equals `parse_mask(pattern)`;
- the attribute's visibility table, printed by
  `rill-opt -rill-test-mask-visibility`, equals `parse_mask(pattern).matrix()`
  for every head (and, for BigBird, for the layer the pass stamps);
- invalid patterns fail in both parsers with the same message, apart from
  the columns that only the C++ parser adds.

rill-opt is found under `$RILL_BUILD_DIR/bin` (default: build/ in the checkout); the
tests skip with the reason when it or one of its passes is missing.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess

import numpy as np
import pytest

from rill.reference import masks as ref

BUILD_DIR = pathlib.Path(os.environ.get("RILL_BUILD_DIR", pathlib.Path(__file__).resolve().parents[2] / "build"))
RILL_OPT = BUILD_DIR / "bin" / "rill-opt"


def _registered_passes() -> str:
    if not RILL_OPT.is_file():
        return ""
    result = subprocess.run([str(RILL_OPT), "--help"], capture_output=True, text=True,
                            check=False)
    return result.stdout


_HELP = _registered_passes()

requires_set_mask = pytest.mark.skipif(
    "--rill-set-mask" not in _HELP,
    reason=f"rill-opt with --rill-set-mask not found at {RILL_OPT}; "
    "build it or set RILL_BUILD_DIR",
)
requires_visibility = pytest.mark.skipif(
    "--rill-test-mask-visibility" not in _HELP,
    reason=f"rill-opt at {RILL_OPT} is missing or has no --rill-test-mask-visibility "
    "test pass; build it or set RILL_BUILD_DIR",
)

# Query and key positions of every visibility table: three 64-key blocks, so
# that `bigbird(block=64, ...)` and `window(128)` are not trivially full.
POSITIONS = list(range(0, 192, 3))

VALID_PATTERNS = [
    "causal",
    "full",
    "window(1)",
    "window(5)",
    "window(size=7)",
    "window(128)",
    "window(left=3,right=2)",
    "window(left=0,right=4)",
    "window(left=5)",
    "sinks(0)",
    "sinks(4)",
    "dilated(window=4,dilation=3)",
    "dilated(3, 1)",
    "chunked(8)",
    "chunked(1)",
    "bigbird(block=4,global=1,window=3,random=2,seed=0)",
    "bigbird(block=8,global=2,window=1,random=1,seed=123456789)",
    "bigbird(block=4,global=0,window=5,random=3,seed=7,causal=true)",
    "bigbird(block=64,global=2,window=3,random=3,seed=0)",
    "bigbird(4, 1, 3, 2, 18446744073709551615, true)|sinks(1)",
    "sinks(4)|window(8)",
    "sinks(4)|window(1020)",
    " sinks( 4 ) | window( 16 ) ",
    "window(128)&causal",
    "window(left=6,right=6)&causal",
    "causal|full&sinks(2)",
    "(causal|full)&sinks(2)",
    "sinks(1)|window(2)|chunked(16)",
    "(sinks(2)|window(4))&chunked(16)",
    "dilated(4,2)|sinks(3)",
    "[causal, window(4)]",
    "[sinks(2)|window(6), full, chunked(4), bigbird(block=4,global=1,window=3,random=1,seed=5)]",
    "[causal, full]|sinks(2)",
    "[window(3), causal]&[full, window(left=2,right=2)]",
]

# Invalid patterns whose messages both parsers share. Each C++ message has
# the Python message's text plus " at column N" in places.
INVALID_PATTERNS = [
    "windo(3)",
    "window(0)",
    "window(-3)",
    "window(3,left=2)",
    "window(size=3,left=2)",
    "window(right=2)",
    "window(left=2,up=1)",
    "window(left=-1)",
    "sinks(-1)",
    "sinks()",
    "sinks(4,5)",
    "sinks(count=1,count=2)",
    "sinks(4,)",
    "causal(1)",
    "full(x=1)",
    "dilated(window=8)",
    "dilated(window=8,dilation=2,x=1)",
    "dilated(window=8,2)",
    "dilated(2,window=8)",
    "chunked(0)",
    "chunked(x)",
    "bigbird(block=4)",
    "bigbird(block=4,global=1,window=2,random=1)",
    "bigbird(block=4,global=1,window=3,random=1,seed=-1)",
    "bigbird(block=4,global=1,window=3,random=1,seed=18446744073709551616)",
    "bigbird(block=4,global=1,window=3,random=1,causal=1)",
    "causal &",
    "causal causal",
    "window(3",
    "(causal",
    "causal $",
    "[causal, full",
    "[]",
    "causal)",
]

# Patterns that the Python reference accepts but the attributes cannot hold,
# with the text of the C++ error.
CPP_ONLY_INVALID = [
    ("window(9223372036854775808)", "must be at most 9223372036854775807"),
    ("[[causal, full], causal]", "has another per-head list as its member #0"),
    ("[causal, full]|[causal, full, sinks(1)]", "must have the same length (got 2 and 3 heads)"),
]


# ---------------------------------------------------------------------------
# Running rill-opt
# ---------------------------------------------------------------------------


def _attention_function(name: str, num_heads: int, num_layers: int) -> str:
    """Return a function with `num_layers` chained causal rill.attention ops."""
    q_type = f"tensor<1x{num_heads}x4x8xf32>"
    kv_type = "tensor<1x1x4x8xf32>"
    lines = [
        f"func.func @{name}(%q: {q_type}, %k: {kv_type}, %v: {kv_type}, %pos: index)"
        f" -> {q_type} {{",
    ]
    value = "%q"
    for layer in range(num_layers):
        lines.append(
            f"  %a{layer} = rill.attention {value}, %k, %v at %pos, %pos mask(#rill.causal)"
            f" : {q_type}, {kv_type}, {kv_type} -> {q_type}"
        )
        value = f"%a{layer}"
    lines += [f"  return {value} : {q_type}", "}"]
    return "\n".join(lines) + "\n"


def _run_rill_opt(tmp_path: pathlib.Path, source: str, *options: str):
    path = tmp_path / "input.mlir"
    path.write_text(source)
    return subprocess.run([str(RILL_OPT), str(path), *options], capture_output=True,
                          text=True, check=False)


def _set_mask(tmp_path: pathlib.Path, pattern: str, num_heads: int, num_layers: int = 1):
    """Run rill-set-mask with `pattern` and return the mask text of each op."""
    result = _run_rill_opt(tmp_path, _attention_function("f", num_heads, num_layers),
                           f"--rill-set-mask=pattern='{pattern}'")
    assert result.returncode == 0, result.stderr
    masks = [_extract_mask(line) for line in result.stdout.splitlines()
             if "rill.attention" in line]
    assert len(masks) == num_layers, result.stdout
    return masks


def _extract_mask(line: str) -> str:
    """Return the attribute inside `mask(...)` of a printed rill.attention line."""
    start = line.index(" mask(") + len(" mask(")
    depth = 1
    for index in range(start, len(line)):
        if line[index] in "(<[":
            depth += 1
        elif line[index] in ")>]":
            depth -= 1
            if depth == 0:
                return line[start:index]
    raise AssertionError(f"unbalanced mask in {line!r}")


def _visibility_tables(tmp_path: pathlib.Path, masks: list[tuple[str, int]]):
    """Print the visibility of each (attribute, number of heads) with rill-opt.

    Returns, per mask, a dict from head to a bool array [query, key].
    """
    positions = ", ".join(str(position) for position in POSITIONS)
    functions = []
    for index, (attribute, num_heads) in enumerate(masks):
        heads = ", ".join(str(head) for head in range(num_heads))
        functions.append(
            f"func.func private @m{index}() attributes {{rill.test.mask = {attribute}, "
            f"rill.test.queries = array<i64: {positions}>, "
            f"rill.test.keys = array<i64: {positions}>, "
            f"rill.test.heads = array<i64: {heads}>}}"
        )
    result = _run_rill_opt(tmp_path, "\n".join(functions) + "\n",
                           "-rill-test-mask-visibility", "-o", "/dev/null")
    assert result.returncode == 0, result.stderr

    tables: dict[int, dict[int, list[list[bool]]]] = {}
    current = None
    row_pattern = re.compile(r"^\s+head (\d+) query (\d+): ([x.]+) count=")
    for line in result.stdout.splitlines():
        header = re.match(r"^mask @m(\d+) = ", line)
        if header:
            current = tables.setdefault(int(header.group(1)), {})
            continue
        row = row_pattern.match(line)
        if row:
            current.setdefault(int(row.group(1)), []).append(
                [symbol == "x" for symbol in row.group(3)])
    return [{head: np.array(rows, dtype=bool) for head, rows in tables[index].items()}
            for index in range(len(masks))]


# ---------------------------------------------------------------------------
# Reading printed attributes back into reference masks
# ---------------------------------------------------------------------------

_ATTRIBUTE_TOKEN = re.compile(r"\s*(#rill\.[a-z_]+|[A-Za-z_]+|\d+|[<>\[\],=])")


def _tokenize_attribute(text: str) -> list[str]:
    tokens = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _ATTRIBUTE_TOKEN.match(text, position)
        assert match is not None, f"cannot read {text!r} at {position}"
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def attribute_to_mask(text: str) -> tuple[ref.Mask, list[int]]:
    """Read a printed rill mask attribute into reference dataclasses.

    Returns the mask and the `layer` of each BigBird attribute in print order,
    because the reference passes the layer to `matrix()` instead of storing it.
    """
    tokens = _tokenize_attribute(text)
    layers: list[int] = []
    index = 0

    def take(expected: str | None = None) -> str:
        nonlocal index
        token = tokens[index]
        assert expected is None or token == expected, f"expected {expected} in {text!r}"
        index += 1
        return token

    def keyword_values() -> dict[str, int | bool]:
        values: dict[str, int | bool] = {}
        while True:
            name = take()
            if tokens[index] == "=":
                take("=")
                values[name] = int(take())
            else:
                values[name] = True
            if take() == ">":
                return values

    def mask() -> ref.Mask:
        kind = take()
        if kind == "#rill.full":
            return ref.Full()
        if kind == "#rill.causal":
            return ref.Causal()
        take("<")
        if kind in ("#rill.union", "#rill.intersect", "#rill.per_head"):
            take("[")
            members = [mask()]
            while take() == ",":
                members.append(mask())
            take(">")
            build = {"#rill.union": ref.Union, "#rill.intersect": ref.Intersect,
                     "#rill.per_head": ref.PerHead}[kind]
            return build(tuple(members))
        if kind in ("#rill.sinks", "#rill.chunked"):
            value = int(take())
            take(">")
            return ref.Sinks(value) if kind == "#rill.sinks" else ref.Chunked(value)
        if kind == "#rill.window" and tokens[index].isdigit():
            size = int(take())
            take(">")
            return ref.window(size)

        values = keyword_values()
        if kind == "#rill.window":
            return ref.Window(values["left"], values["right"])
        if kind == "#rill.dilated":
            return ref.Dilated(values["window"], values["dilation"])
        assert kind == "#rill.bigbird", f"unknown attribute {kind} in {text!r}"
        layers.append(values.get("layer", 0))
        return ref.BigBird(block=values["block"], global_blocks=values["global"],
                           window=values["window"], random=values["random"],
                           seed=values["seed"], causal=values.get("causal", False))

    result = mask()
    assert index == len(tokens), f"trailing text in {text!r}"
    return result, layers


def _num_heads(mask: ref.Mask) -> int | None:
    """Return the length of the per-head lists in `mask`, if it has any."""
    if isinstance(mask, ref.PerHead):
        return len(mask.masks)
    for member in getattr(mask, "masks", ()):
        heads = _num_heads(member)
        if heads is not None:
            return heads
    return None


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


def test_pattern_lists_are_large():
    assert len(VALID_PATTERNS) >= 30
    assert len(INVALID_PATTERNS) >= 30


@requires_set_mask
@pytest.mark.parametrize("pattern", VALID_PATTERNS)
def test_set_mask_matches_parse_mask(tmp_path, pattern):
    expected = ref.parse_mask(pattern)
    num_heads = _num_heads(expected) or 2
    (attribute,) = _set_mask(tmp_path, pattern, num_heads)

    mask, layers = attribute_to_mask(attribute)
    assert mask == expected, attribute
    assert all(layer == 0 for layer in layers), attribute


@requires_set_mask
@requires_visibility
def test_visibility_matches_parse_mask(tmp_path):
    cases = []
    for pattern in VALID_PATTERNS:
        expected = ref.parse_mask(pattern)
        num_heads = _num_heads(expected) or 2
        (attribute,) = _set_mask(tmp_path, pattern, num_heads)
        cases.append((pattern, expected, attribute, num_heads))

    tables = _visibility_tables(tmp_path, [(attribute, heads)
                                           for _, _, attribute, heads in cases])
    for (pattern, expected, attribute, num_heads), table in zip(cases, tables):
        assert sorted(table) == list(range(num_heads)), pattern
        for head in range(num_heads):
            reference = expected.matrix(POSITIONS, POSITIONS, head=head, layer=0)
            assert table[head].shape == reference.shape, pattern
            mismatches = np.argwhere(table[head] != reference)
            assert mismatches.size == 0, (
                f"{pattern} ({attribute}) head {head}: first differing (q, k) "
                f"{[POSITIONS[i] for i in mismatches[0]]}"
            )


@requires_set_mask
@requires_visibility
def test_bigbird_layers_match_reference(tmp_path):
    pattern = "[bigbird(block=4,global=1,window=3,random=2,seed=3), sinks(1)|bigbird(8,0,1,3)]"
    expected = ref.parse_mask(pattern)
    attributes = _set_mask(tmp_path, pattern, num_heads=2, num_layers=3)

    for layer, attribute in enumerate(attributes):
        mask, layers = attribute_to_mask(attribute)
        assert mask == expected, attribute
        assert layers == [layer, layer], attribute

    tables = _visibility_tables(tmp_path, [(attribute, 2) for attribute in attributes])
    for layer, table in enumerate(tables):
        for head in range(2):
            reference = expected.matrix(POSITIONS, POSITIONS, head=head, layer=layer)
            np.testing.assert_array_equal(table[head], reference,
                                          err_msg=f"layer {layer} head {head}")
    # The layers draw different random blocks, so the check above can fail.
    assert not np.array_equal(tables[0][0], tables[1][0])


def _normalize(message: str) -> str:
    """Drop the columns that only the C++ parser reports and Python's bool spelling."""
    message = re.sub(r" at column \d+", "", message)
    return message.replace("(got True)", "(got true)").replace("(got False)", "(got false)")


@requires_set_mask
@pytest.mark.parametrize("pattern", INVALID_PATTERNS)
def test_invalid_pattern_messages_agree(tmp_path, pattern):
    with pytest.raises(ValueError) as raised:
        ref.parse_mask(pattern)
    python_prefix = f"invalid mask {pattern!r}: "
    python_message = str(raised.value)
    assert python_message.startswith(python_prefix)

    result = _run_rill_opt(tmp_path, _attention_function("f", 2, 1),
                           f"--rill-set-mask=pattern='{pattern}'")
    assert result.returncode != 0
    cpp_prefix = f"invalid mask pattern '{pattern}': "
    match = re.search(re.escape(cpp_prefix) + r"(.*)", result.stderr)
    assert match is not None, result.stderr
    assert _normalize(match.group(1)) == _normalize(python_message[len(python_prefix):])


@requires_set_mask
@pytest.mark.parametrize("pattern, message", CPP_ONLY_INVALID)
def test_cpp_rejects_what_attributes_cannot_hold(tmp_path, pattern, message):
    ref.parse_mask(pattern)
    result = _run_rill_opt(tmp_path, _attention_function("f", 2, 1),
                           f"--rill-set-mask=pattern='{pattern}'")
    assert result.returncode != 0
    assert message in result.stderr
