# ===- tests/test_tile_attention.py - Tiled attention vs the references -=== #
"""Numerics of the tiled attention lowering (`rill-tile-attention` inside
`rill-cpu-pipeline`) against the numpy reference and the reference lowering.

Each case compiles one rill.attention function ahead of time (rill-opt,
mlir-translate, clang-22; see bench/attention/aot.py) and runs it on random
inputs. Positions are either constants, which selects the compile-time tile
schedule, or function arguments, which selects the run-time schedule. Small
tiles (4 query rows, 8 keys) make every shape span many partial tiles and
tails; the default tiles are checked too.
"""

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "bench" / "attention"))

import aot  # noqa: E402
from rill.reference import masks  # noqa: E402
from rill.reference.attention import attention as reference_attention  # noqa: E402

try:
    aot.find_rill_opt()
    _MISSING = None if shutil.which(aot.CLANG) else f"{aot.CLANG} not found"
except FileNotFoundError as error:
    _MISSING = str(error)
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")

SMALL_TILES = "rill-cpu-pipeline{query-tile=4 key-tile=8}"
DEFAULT_TILES = "rill-cpu-pipeline"

BIGBIRD = "#rill.bigbird<block = 8, global = 1, window = 3, random = 2, seed = 42>"
BIGBIRD_CAUSAL = ("#rill.bigbird<block = 8, global = 1, window = 3, random = 1, "
                  "seed = 7, causal>")

# (name, MLIR mask text, numpy reference mask). per_head masks need Hq = 4.
MASKS = [
    ("sinks_window", "#rill.union<[#rill.sinks<4>, #rill.window<24>]>",
     masks.union([masks.sinks(4), masks.window(24)])),
    ("window", "#rill.window<16>", masks.window(16)),
    ("window_two_sided", "#rill.window<left = 5, right = 7>", masks.Window(5, 7)),
    ("dilated", "#rill.dilated<window = 6, dilation = 3>", masks.dilated(6, 3)),
    ("chunked", "#rill.chunked<10>", masks.chunked(10)),
    ("causal", "#rill.causal", masks.causal()),
    ("full", "#rill.full", masks.full()),
    ("bigbird", BIGBIRD, masks.bigbird(8, 1, 3, 2, seed=42)),
    ("bigbird_causal", BIGBIRD_CAUSAL, masks.bigbird(8, 1, 3, 1, seed=7, causal=True)),
    ("per_head",
     "#rill.per_head<[#rill.causal, #rill.window<8>, "
     "#rill.union<[#rill.sinks<2>, #rill.window<4>]>, " + BIGBIRD_CAUSAL + "]>",
     masks.per_head([masks.causal(), masks.window(8),
                     masks.union([masks.sinks(2), masks.window(4)]),
                     masks.bigbird(8, 1, 3, 1, seed=7, causal=True)])),
    ("intersect", "#rill.intersect<[#rill.causal, #rill.window<left = 12, right = 12>]>",
     masks.intersect([masks.causal(), masks.Window(12, 12)])),
    ("union_chunked_sinks", "#rill.union<[#rill.chunked<9>, #rill.sinks<3>]>",
     masks.union([masks.chunked(9), masks.sinks(3)])),
]
MASK_IDS = [name for name, _, _ in MASKS]


def _random_inputs(q_shape, k_shape, v_shape, seed):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(q_shape, dtype=np.float32)
    k = rng.standard_normal(k_shape, dtype=np.float32)
    v = rng.standard_normal(v_shape, dtype=np.float32)
    return q, k, v


def _run_tiled(pipeline, q, k, v, mask_text, q_pos, k_pos, static_positions,
               bias=None, sink_logits=None, scale=None, softcap=None):
    source = aot.attention_source(
        q.shape, k.shape, v.shape, mask_text,
        q_pos=q_pos if static_positions else None,
        k_pos=k_pos if static_positions else None,
        bias_shape=None if bias is None else bias.shape,
        sink_logits=sink_logits is not None, scale=scale, softcap=softcap)
    kernel = aot.Kernel(aot.compile_mlir(source, pipeline), "attention")
    arguments = [q, k, v]
    if bias is not None:
        arguments.append(bias)
    if sink_logits is not None:
        arguments.append(sink_logits)
    if not static_positions:
        arguments += [q_pos, k_pos]
    return kernel(*arguments)


def _check(actual, expected):
    assert actual.shape == expected.shape
    assert np.all(np.isfinite(actual))
    np.testing.assert_allclose(actual, expected, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("static_positions", [True, False], ids=["static", "dynamic"])
@pytest.mark.parametrize("name,mask_text,mask", MASKS, ids=MASK_IDS)
def test_prefill_masks_small_tiles(name, mask_text, mask, static_positions):
    # Tq = 13 and Tk = 37 are not multiples of the tiles, D = 24 and Dv = 20
    # not multiples of the vector width; Hq = 4 shares Hkv = 2 heads.
    q, k, v = _random_inputs((2, 4, 13, 24), (2, 2, 37, 24), (2, 2, 37, 20), seed=1)
    q_pos, k_pos = 24, 0
    actual = _run_tiled(SMALL_TILES, q, k, v, mask_text, q_pos, k_pos, static_positions)
    _check(actual, reference_attention(q, k, v, q_pos, k_pos, mask))


@pytest.mark.parametrize("static_positions", [True, False], ids=["static", "dynamic"])
@pytest.mark.parametrize("name,mask_text,mask", MASKS, ids=MASK_IDS)
def test_decode_masks(name, mask_text, mask, static_positions):
    q, k, v = _random_inputs((1, 4, 1, 32), (1, 1, 70, 32), (1, 1, 70, 32), seed=2)
    q_pos, k_pos = 75, 6
    actual = _run_tiled(SMALL_TILES, q, k, v, mask_text, q_pos, k_pos, static_positions)
    _check(actual, reference_attention(q, k, v, q_pos, k_pos, mask))


@pytest.mark.parametrize("static_positions", [True, False], ids=["static", "dynamic"])
@pytest.mark.parametrize("name,mask_text,mask", MASKS, ids=MASK_IDS)
def test_default_tiles(name, mask_text, mask, static_positions):
    q, k, v = _random_inputs((1, 4, 40, 64), (1, 4, 150, 64), (1, 4, 150, 64), seed=3)
    q_pos, k_pos = 110, 0
    actual = _run_tiled(DEFAULT_TILES, q, k, v, mask_text, q_pos, k_pos, static_positions)
    _check(actual, reference_attention(q, k, v, q_pos, k_pos, mask))


@pytest.mark.parametrize("static_positions", [True, False], ids=["static", "dynamic"])
def test_bias_softcap_sinks_scale(static_positions):
    q, k, v = _random_inputs((2, 4, 9, 24), (2, 2, 30, 24), (2, 2, 30, 24), seed=4)
    rng = np.random.default_rng(5)
    bias = rng.standard_normal((1, 4, 9, 30), dtype=np.float32)
    sink_logits = rng.standard_normal(4, dtype=np.float32)
    mask_text = "#rill.union<[#rill.sinks<2>, #rill.window<7>]>"
    mask = masks.union([masks.sinks(2), masks.window(7)])
    actual = _run_tiled(SMALL_TILES, q, k, v, mask_text, 21, 0, static_positions, bias=bias,
                        sink_logits=sink_logits, scale=0.3, softcap=4.0)
    expected = reference_attention(q, k, v, 21, 0, mask, bias=bias, sink_logits=sink_logits,
                                   scale=0.3, softcap=4.0)
    _check(actual, expected)


def test_bias_broadcast_over_heads():
    q, k, v = _random_inputs((2, 2, 5, 16), (2, 2, 12, 16), (2, 2, 12, 16), seed=6)
    bias = np.random.default_rng(7).standard_normal((2, 1, 5, 12), dtype=np.float32)
    actual = _run_tiled(SMALL_TILES, q, k, v, "#rill.causal", 7, 0, True, bias=bias)
    _check(actual, reference_attention(q, k, v, 7, 0, masks.causal(), bias=bias))


@pytest.mark.parametrize("static_positions", [True, False], ids=["static", "dynamic"])
def test_fully_masked_rows_are_zero(static_positions):
    # Queries at positions 0..5 and keys from position 10: no query sees a
    # key under a causal mask, so every row is zero, even with sink logits.
    q, k, v = _random_inputs((1, 2, 6, 16), (1, 2, 20, 16), (1, 2, 20, 16), seed=8)
    sink_logits = np.array([0.5, -1.0], dtype=np.float32)
    for logits in (None, sink_logits):
        actual = _run_tiled(SMALL_TILES, q, k, v, "#rill.causal", 0, 10, static_positions,
                            sink_logits=logits)
        assert np.all(actual == 0.0)


def test_some_rows_masked():
    # With a window of 2 and keys starting at position 4, query rows at
    # positions 0..2 see nothing and the later ones see one or two keys.
    q, k, v = _random_inputs((1, 1, 8, 16), (1, 1, 8, 16), (1, 1, 8, 16), seed=9)
    actual = _run_tiled(SMALL_TILES, q, k, v, "#rill.window<2>", 0, 4, False)
    expected = reference_attention(q, k, v, 0, 4, masks.window(2))
    assert np.all(actual[:, :, :3] == 0.0)
    _check(actual, expected)


@pytest.mark.parametrize("num_keys", [1, 5])
def test_fewer_keys_than_one_tile(num_keys):
    q, k, v = _random_inputs((1, 2, 3, 16), (1, 2, num_keys, 16), (1, 2, num_keys, 16),
                             seed=10)
    actual = _run_tiled(DEFAULT_TILES, q, k, v, "#rill.causal", num_keys, 0, True)
    _check(actual, reference_attention(q, k, v, num_keys, 0, masks.causal()))


def test_empty_sinks_mask():
    q, k, v = _random_inputs((1, 2, 3, 16), (1, 2, 9, 16), (1, 2, 9, 16), seed=11)
    actual = _run_tiled(SMALL_TILES, q, k, v, "#rill.sinks<0>", 9, 0, False)
    assert np.all(actual == 0.0)


@pytest.mark.parametrize("shape", [
    ((1, 3, 1, 17), (1, 1, 33, 17), (1, 1, 33, 9)),
    ((3, 2, 11, 40), (3, 1, 26, 40), (3, 1, 26, 48)),
    ((1, 6, 7, 8), (1, 3, 100, 8), (1, 3, 100, 8)),
], ids=["decode_odd", "prefill_odd", "tiny_head"])
def test_odd_shapes_match_reference_lowering(shape):
    q_shape, k_shape, v_shape = shape
    q, k, v = _random_inputs(q_shape, k_shape, v_shape, seed=12)
    mask_text = "#rill.union<[#rill.sinks<3>, #rill.window<10>]>"
    q_pos = k_shape[2] - q_shape[2]
    tiled = _run_tiled(SMALL_TILES, q, k, v, mask_text, q_pos, 0, False)
    reference = _run_tiled("rill-reference-pipeline", q, k, v, mask_text, q_pos, 0, True)
    _check(tiled, reference)
    expected = reference_attention(q, k, v, q_pos, 0,
                                   masks.union([masks.sinks(3), masks.window(10)]))
    _check(tiled, expected)


@pytest.mark.parametrize("name,mask_text,mask", MASKS, ids=MASK_IDS)
def test_matches_reference_lowering(name, mask_text, mask):
    q, k, v = _random_inputs((1, 4, 10, 16), (1, 2, 30, 16), (1, 2, 30, 16), seed=13)
    tiled = _run_tiled(SMALL_TILES, q, k, v, mask_text, 20, 0, True)
    reference = _run_tiled("rill-reference-pipeline", q, k, v, mask_text, 20, 0, True)
    _check(tiled, reference)


def test_sequential_loops_match_parallel():
    q, k, v = _random_inputs((2, 4, 12, 32), (2, 2, 40, 32), (2, 2, 40, 32), seed=14)
    mask_text = "#rill.causal"
    parallel = _run_tiled(SMALL_TILES, q, k, v, mask_text, 28, 0, False)
    sequential = _run_tiled("rill-cpu-pipeline{query-tile=4 key-tile=8 openmp=false}",
                            q, k, v, mask_text, 28, 0, False)
    np.testing.assert_array_equal(parallel, sequential)


@pytest.mark.parametrize("width", [4, 8])
def test_other_vector_widths(width):
    q, k, v = _random_inputs((1, 2, 5, 20), (1, 2, 23, 20), (1, 2, 23, 20), seed=15)
    pipeline = f"rill-cpu-pipeline{{query-tile=2 key-tile=6 vector-width={width}}}"
    actual = _run_tiled(pipeline, q, k, v, "#rill.window<9>", 18, 0, True)
    _check(actual, reference_attention(q, k, v, 18, 0, masks.window(9)))


def test_prefetch_option_matches():
    q, k, v = _random_inputs((1, 4, 1, 32), (1, 2, 300, 32), (1, 2, 300, 32), seed=16)
    mask_text = "#rill.union<[#rill.sinks<4>, #rill.window<100>]>"
    actual = _run_tiled("rill-cpu-pipeline{prefetch=true}", q, k, v, mask_text, 299, 0, False)
    expected = reference_attention(q, k, v, 299, 0,
                                   masks.union([masks.sinks(4), masks.window(100)]))
    _check(actual, expected)


@pytest.mark.parametrize("static_positions", [True, False], ids=["static", "dynamic"])
def test_row_lanes_softcap_sinks(static_positions):
    # 40 query rows without a bias take the query-row lane layout.
    q, k, v = _random_inputs((1, 4, 40, 32), (1, 2, 90, 32), (1, 2, 90, 24), seed=17)
    sink_logits = np.random.default_rng(18).standard_normal(4, dtype=np.float32)
    mask_text = "#rill.union<[#rill.sinks<3>, #rill.window<20>]>"
    mask = masks.union([masks.sinks(3), masks.window(20)])
    actual = _run_tiled(DEFAULT_TILES, q, k, v, mask_text, 50, 0, static_positions,
                        sink_logits=sink_logits, scale=0.2, softcap=3.0)
    expected = reference_attention(q, k, v, 50, 0, mask, sink_logits=sink_logits, scale=0.2,
                                   softcap=3.0)
    _check(actual, expected)
