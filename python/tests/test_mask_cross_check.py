# ===- tests/test_mask_cross_check.py - C++ masks versus numpy masks --=== #
"""Cross-check the rill mask attributes (C++) against rill.reference.masks.

For every mask kind, the test writes an .mlir file whose functions carry
`rill.test.mask` attributes, runs `rill-opt -rill-test-mask-visibility` on it
and compares each printed visibility row and visible-key count with the numpy
reference's `matrix()`. Both sides define the same semantics independently,
so any disagreement (including BigBird random blocks, which must be bit
identical) fails here.

rill-opt is found under `$RILL_BUILD_DIR/bin` (default: build/ in the checkout); the
test skips when it is missing.
"""

import os
import pathlib
import re
import subprocess

import numpy as np
import pytest

from rill.reference import masks as ref

BUILD_DIR = pathlib.Path(os.environ.get("RILL_BUILD_DIR", pathlib.Path(__file__).resolve().parents[2] / "build"))
RILL_OPT = BUILD_DIR / "bin" / "rill-opt"

requires_rill_opt = pytest.mark.skipif(
    not RILL_OPT.is_file(),
    reason=f"rill-opt not found at {RILL_OPT}; build it or set RILL_BUILD_DIR",
)

UINT64_MAX = (1 << 64) - 1

# (name, MLIR attribute, numpy mask, heads, layer). The layer only matters
# for BigBird, whose MLIR attribute carries it as a parameter.
CASES = [
    ("full", "#rill.full", ref.Full(), [0], 0),
    ("causal", "#rill.causal", ref.Causal(), [0], 0),
    ("window_1", "#rill.window<1>", ref.window(1), [0], 0),
    ("window_5", "#rill.window<5>", ref.window(5), [0], 0),
    ("window_two_sided", "#rill.window<left = 3, right = 2>", ref.Window(3, 2), [0], 0),
    ("window_right_only", "#rill.window<left = 0, right = 4>", ref.Window(0, 4), [0], 0),
    ("sinks_0", "#rill.sinks<0>", ref.Sinks(0), [0], 0),
    ("sinks_4", "#rill.sinks<4>", ref.Sinks(4), [0], 0),
    ("dilated", "#rill.dilated<window = 3, dilation = 4>", ref.Dilated(3, 4), [0], 0),
    ("chunked", "#rill.chunked<7>", ref.Chunked(7), [0], 0),
    (
        "bigbird",
        "#rill.bigbird<block = 4, global = 1, window = 3, random = 2, seed = 42>",
        ref.BigBird(block=4, global_blocks=1, window=3, random=2, seed=42),
        [0, 1, 5],
        0,
    ),
    (
        "bigbird_causal_layer",
        f"#rill.bigbird<block = 3, global = 2, window = 1, random = 3, seed = {UINT64_MAX}, "
        "layer = 3, causal>",
        ref.BigBird(block=3, global_blocks=2, window=1, random=3, seed=UINT64_MAX, causal=True),
        [0, 2],
        3,
    ),
    (
        "bigbird_no_random",
        "#rill.bigbird<block = 2, global = 0, window = 5, random = 0, seed = 7>",
        ref.BigBird(block=2, global_blocks=0, window=5, random=0, seed=7),
        [0],
        0,
    ),
    (
        "streaming_llm",
        "#rill.union<[#rill.sinks<4>, #rill.window<6>]>",
        ref.streaming_llm(4, 6),
        [0],
        0,
    ),
    (
        "intersect",
        "#rill.intersect<[#rill.causal, #rill.window<left = 5, right = 5>, #rill.chunked<16>]>",
        ref.Intersect((ref.Causal(), ref.Window(5, 5), ref.Chunked(16))),
        [0],
        0,
    ),
    (
        "per_head",
        "#rill.per_head<[#rill.window<3>, #rill.bigbird<block = 4, global = 0, window = 1, "
        "random = 2, seed = 5, causal>, #rill.union<[#rill.sinks<2>, "
        "#rill.dilated<window = 4, dilation = 2>]>]>",
        ref.PerHead(
            (
                ref.window(3),
                ref.BigBird(block=4, global_blocks=0, window=1, random=2, seed=5, causal=True),
                ref.Union((ref.Sinks(2), ref.Dilated(4, 2))),
            )
        ),
        [0, 1, 2],
        0,
    ),
]

# Query and key position ranges, half-open: the start of a stream and a
# stretch far into it.
RANGES = [((0, 48), (0, 48)), ((1000, 1024), (960, 1030))]

ROW_PATTERN = re.compile(r"^\s+head (\d+) query (-?\d+): ([x.]+) count=(\d+) keys=")


def write_module(path: pathlib.Path) -> None:
    """Write one function per (case, range) with the test attributes."""
    functions = []
    for name, attribute, _, heads, _ in CASES:
        for index, ((q_begin, q_end), (k_begin, k_end)) in enumerate(RANGES):
            head_list = ", ".join(str(head) for head in heads)
            functions.append(
                f"func.func @{name}_{index}() attributes {{\n"
                f"    rill.test.mask = {attribute},\n"
                f"    rill.test.query_range = array<i64: {q_begin}, {q_end}>,\n"
                f"    rill.test.key_range = array<i64: {k_begin}, {k_end}>,\n"
                f"    rill.test.heads = array<i64: {head_list}>}} {{\n"
                f"  return\n}}\n"
            )
    path.write_text("\n".join(functions))


def run_rill_opt(path: pathlib.Path) -> dict[str, dict[tuple[int, int], tuple[str, int]]]:
    """Run the test pass and return {function: {(head, query): (row, count)}}."""
    result = subprocess.run(
        [str(RILL_OPT), str(path), "-rill-test-mask-visibility", "-o", os.devnull],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"rill-opt failed on {path}:\n{result.stderr}"

    tables: dict[str, dict[tuple[int, int], tuple[str, int]]] = {}
    current = None
    for line in result.stdout.splitlines():
        header = re.match(r"^mask @(\w+) = ", line)
        if header:
            current = tables.setdefault(header.group(1), {})
            continue
        row = ROW_PATTERN.match(line)
        if row:
            assert current is not None, f"row before any mask header: {line!r}"
            head, query, cells, count = row.groups()
            current[(int(head), int(query))] = (cells, int(count))
    return tables


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    path = tmp_path_factory.mktemp("masks") / "masks.mlir"
    write_module(path)
    return run_rill_opt(path)


@requires_rill_opt
@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
@pytest.mark.parametrize("range_index", range(len(RANGES)))
def test_mask_table_matches_reference(tables, case, range_index):
    name, attribute, mask, heads, layer = case
    (q_begin, q_end), (k_begin, k_end) = RANGES[range_index]
    function = f"{name}_{range_index}"
    assert function in tables, f"rill-opt printed no table for @{function} ({attribute})"
    table = tables[function]

    queries = np.arange(q_begin, q_end)
    keys = np.arange(k_begin, k_end)
    for head in heads:
        expected = mask.matrix(queries, keys, head=head, layer=layer)
        for row_index, query in enumerate(queries):
            key = (head, int(query))
            assert key in table, f"@{function}: no row for head {head} query {query}"
            cells, count = table[key]
            expected_cells = "".join("x" if visible else "." for visible in expected[row_index])
            assert cells == expected_cells, (
                f"{attribute} head {head} query {query}:\n"
                f"  rill-opt {cells}\n  numpy    {expected_cells}"
            )
            assert count == int(expected[row_index].sum())


def test_every_mask_kind_covered():
    kinds = {re.match(r"#rill\.(\w+)", attribute).group(1) for _, attribute, _, _, _ in CASES}
    assert kinds == {
        "full", "causal", "window", "sinks", "dilated", "chunked", "bigbird",
        "union", "intersect", "per_head",
    }
