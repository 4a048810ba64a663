# ===- tests/test_exec_attention.py - JIT attention and RoPE vs numpy --=== #
"""Run rill.attention and rill.rotary through rill-exec and compare with numpy.

Each case writes a small MLIR module, random inputs as .npz, runs `rill-exec`
(the reference pipeline: rill-decompose-attention, bufferization, loops, LLVM
JIT) and compares the result with the float64 reference in
`rill.reference.attention` and `rill.reference.rope`. The tests skip when no
rill-exec binary is found on PATH, in $RILL_BUILD_DIR/bin or in build/bin.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

from rill.reference.attention import attention
from rill.reference.rope import rotary, rotation_angles

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def find_rill_exec() -> str | None:
    """Return the path of rill-exec, or None when it is not built."""
    candidates = []
    if os.environ.get("RILL_BUILD_DIR"):
        candidates.append(pathlib.Path(os.environ["RILL_BUILD_DIR"]) / "bin" / "rill-exec")
    on_path = shutil.which("rill-exec")
    if on_path:
        candidates.append(pathlib.Path(on_path))
    candidates.append(REPO_ROOT / "build" / "bin" / "rill-exec")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


RILL_EXEC = find_rill_exec()
pytestmark = pytest.mark.skipif(RILL_EXEC is None, reason="rill-exec is not built")


def run_rill_exec(tmp_path: pathlib.Path, module: str, entry: str, inputs: dict) -> dict:
    """Run `entry` of `module` on `inputs` and return the outputs by name."""
    module_path = tmp_path / "module.mlir"
    module_path.write_text(module)
    inputs_path = tmp_path / "inputs.npz"
    outputs_path = tmp_path / "outputs.npz"
    np.savez(inputs_path, **inputs)
    completed = subprocess.run(
        [RILL_EXEC, str(module_path), "--entry", entry, "--inputs", str(inputs_path),
         "--outputs", str(outputs_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    with np.load(outputs_path) as outputs:
        return {name: outputs[name] for name in outputs.files}


def tensor_type(shape, element: str, dynamic: bool) -> str:
    dims = "x".join("?" if dynamic else str(dim) for dim in shape)
    return f"tensor<{dims}x{element}>"


def attention_module(shapes: dict, element: str, mask: str, dynamic: bool = True,
                     scale: float | None = None, softcap: float | None = None) -> str:
    """Return a module with @attention over the operands named in `shapes`."""
    types = {name: tensor_type(shape, element, dynamic) for name, shape in shapes.items()}
    arguments = [f'%q: {types["q"]} {{rill.name = "q"}}',
                 f'%k: {types["k"]} {{rill.name = "k"}}',
                 f'%v: {types["v"]} {{rill.name = "v"}}',
                 '%q_pos: index {rill.name = "q_pos"}',
                 '%k_pos: index {rill.name = "k_pos"}']
    extras = ""
    if scale is not None:
        extras += f" scale({scale!r})"
    if softcap is not None:
        extras += f" softcap({softcap!r})"
    if "bias" in shapes:
        arguments.append(f'%bias: {types["bias"]} {{rill.name = "bias"}}')
        extras += f' bias(%bias : {types["bias"]})'
    if "sinks" in shapes:
        arguments.append(f'%sinks: {types["sinks"]} {{rill.name = "sinks"}}')
        extras += f' sinks(%sinks : {types["sinks"]})'
    result_shape = shapes["q"][:3] + shapes["v"][3:]
    result_type = tensor_type(result_shape, element, dynamic)
    return f"""
func.func @attention({", ".join(arguments)}) -> ({result_type} {{rill.name = "out"}}) {{
  %out = rill.attention %q, %k, %v at %q_pos, %k_pos mask({mask}){extras}
      : {types["q"]}, {types["k"]}, {types["v"]} -> {result_type}
  return %out : {result_type}
}}
"""


def random_attention_inputs(rng, batch, q_heads, kv_heads, q_len, k_len, head_dim,
                            value_dim=None, dtype=np.float32):
    value_dim = head_dim if value_dim is None else value_dim
    return {
        "q": rng.standard_normal((batch, q_heads, q_len, head_dim)).astype(dtype),
        "k": rng.standard_normal((batch, kv_heads, k_len, head_dim)).astype(dtype),
        "v": rng.standard_normal((batch, kv_heads, k_len, value_dim)).astype(dtype),
    }


def check_attention(tmp_path, inputs, q_pos, k_pos, mlir_mask, reference_mask, element="f32",
                    dynamic=True, tolerance=1e-5, **options):
    shapes = {name: array.shape for name, array in inputs.items()}
    module = attention_module(shapes, element, mlir_mask, dynamic, options.get("scale"),
                              options.get("softcap"))
    feed = dict(inputs, q_pos=np.array(q_pos, np.int64), k_pos=np.array(k_pos, np.int64))
    out = run_rill_exec(tmp_path, module, "attention", feed)["out"]
    expected = attention(inputs["q"], inputs["k"], inputs["v"], q_pos, k_pos, reference_mask,
                         bias=inputs.get("bias"), sink_logits=inputs.get("sinks"),
                         scale=options.get("scale"), softcap=options.get("softcap"))
    assert out.shape == expected.shape
    assert out.dtype == inputs["q"].dtype
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, expected, rtol=tolerance, atol=tolerance)
    return out, expected


SINKS_AND_WINDOW = "#rill.union<[#rill.sinks<2>, #rill.window<3>]>"


def test_attention_gqa_sinks_window(tmp_path):
    rng = np.random.default_rng(1)
    inputs = random_attention_inputs(rng, batch=2, q_heads=4, kv_heads=2, q_len=9, k_len=9,
                                     head_dim=8, value_dim=6)
    check_attention(tmp_path, inputs, 0, 0, SINKS_AND_WINDOW, "sinks(2) | window(3)")


def test_attention_gqa_static_shapes(tmp_path):
    rng = np.random.default_rng(2)
    inputs = random_attention_inputs(rng, batch=1, q_heads=6, kv_heads=2, q_len=5, k_len=11,
                                     head_dim=4)
    check_attention(tmp_path, inputs, 6, 0, SINKS_AND_WINDOW, "sinks(2) | window(3)",
                    dynamic=False)


def test_attention_decode_step(tmp_path):
    # One query at stream position 40 over a cache whose keys sit at 30..41.
    rng = np.random.default_rng(3)
    inputs = random_attention_inputs(rng, batch=1, q_heads=4, kv_heads=1, q_len=1, k_len=12,
                                     head_dim=8)
    check_attention(tmp_path, inputs, 40, 30, "#rill.window<5>", "window(5)")


def test_attention_fully_masked_rows(tmp_path):
    # Keys start one position after the first query, so with window<2> no
    # key is visible to query row 0, which must return zeros, not NaN.
    rng = np.random.default_rng(4)
    inputs = random_attention_inputs(rng, batch=1, q_heads=2, kv_heads=2, q_len=4, k_len=4,
                                     head_dim=8)
    out, _ = check_attention(tmp_path, inputs, 10, 11, "#rill.window<2>", "window(2)")
    assert np.all(out[:, :, 0, :] == 0.0)
    assert np.any(out[:, :, 1, :] != 0.0)


def test_attention_everything_masked(tmp_path):
    # All keys lie after every query under a causal mask.
    rng = np.random.default_rng(5)
    inputs = random_attention_inputs(rng, batch=1, q_heads=2, kv_heads=1, q_len=3, k_len=5,
                                     head_dim=4)
    out, _ = check_attention(tmp_path, inputs, 0, 3, "#rill.causal", "causal")
    assert np.all(out == 0.0)


def test_attention_masked_row_with_sinks(tmp_path):
    # Sink logits only enlarge the denominator: an empty row stays zero.
    rng = np.random.default_rng(6)
    inputs = random_attention_inputs(rng, batch=1, q_heads=2, kv_heads=2, q_len=3, k_len=3,
                                     head_dim=4)
    inputs["sinks"] = rng.standard_normal(2).astype(np.float32)
    out, _ = check_attention(tmp_path, inputs, 0, 1, "#rill.causal", "causal")
    assert np.all(out[:, :, 0, :] == 0.0)


def test_attention_softcap_bias_sinks(tmp_path):
    rng = np.random.default_rng(7)
    inputs = random_attention_inputs(rng, batch=2, q_heads=4, kv_heads=2, q_len=6, k_len=6,
                                     head_dim=8)
    inputs["bias"] = rng.standard_normal((1, 4, 6, 6)).astype(np.float32)
    inputs["sinks"] = rng.standard_normal(4).astype(np.float32)
    check_attention(tmp_path, inputs, 0, 0, SINKS_AND_WINDOW, "sinks(2) | window(3)",
                    scale=0.5, softcap=2.5)


def test_attention_bias_batch_broadcast(tmp_path):
    rng = np.random.default_rng(8)
    inputs = random_attention_inputs(rng, batch=2, q_heads=2, kv_heads=2, q_len=4, k_len=5,
                                     head_dim=4)
    inputs["bias"] = rng.standard_normal((2, 1, 4, 5)).astype(np.float32)
    check_attention(tmp_path, inputs, 1, 0, "#rill.causal", "causal")


def test_attention_bias_minus_infinity(tmp_path):
    # An additive -inf bias hides keys as the mask does, so a row hidden
    # entirely by the bias returns zeros.
    rng = np.random.default_rng(9)
    inputs = random_attention_inputs(rng, batch=1, q_heads=2, kv_heads=1, q_len=3, k_len=3,
                                     head_dim=4)
    bias = np.zeros((1, 1, 3, 3), np.float32)
    bias[0, 0, 1, :] = -np.inf
    bias[0, 0, 2, 0] = -np.inf
    inputs["bias"] = bias
    out, _ = check_attention(tmp_path, inputs, 0, 0, "#rill.full", "full")
    assert np.all(out[:, :, 1, :] == 0.0)


def test_attention_per_head_masks(tmp_path):
    rng = np.random.default_rng(10)
    inputs = random_attention_inputs(rng, batch=1, q_heads=4, kv_heads=2, q_len=7, k_len=7,
                                     head_dim=4)
    check_attention(tmp_path, inputs, 0, 0,
                    "#rill.per_head<[#rill.causal, #rill.window<2>, #rill.full, #rill.sinks<1>]>",
                    "[causal, window(2), full, sinks(1)]", dynamic=False)


def test_attention_float64(tmp_path):
    rng = np.random.default_rng(11)
    inputs = random_attention_inputs(rng, batch=1, q_heads=2, kv_heads=1, q_len=5, k_len=8,
                                     head_dim=16, dtype=np.float64)
    inputs["sinks"] = rng.standard_normal(2)
    check_attention(tmp_path, inputs, 3, 0, SINKS_AND_WINDOW, "sinks(2) | window(3)",
                    element="f64", tolerance=1e-12, softcap=5.0)


def test_attention_float16(tmp_path):
    # f16 operands are computed in f32 and rounded once, so the result is
    # within f16 rounding of the reference.
    rng = np.random.default_rng(12)
    inputs = random_attention_inputs(rng, batch=1, q_heads=2, kv_heads=2, q_len=4, k_len=6,
                                     head_dim=8, dtype=np.float16)
    check_attention(tmp_path, inputs, 2, 0, "#rill.causal", "causal", element="f16",
                    tolerance=2e-3)


def rotary_module(x_shape, positions_shape, positions_element, attributes="",
                  table_shape=None) -> str:
    x_type = tensor_type(x_shape, "f32", dynamic=True)
    positions_type = tensor_type(positions_shape, positions_element, dynamic=True)
    arguments = [f'%x: {x_type} {{rill.name = "x"}}',
                 f'%positions: {positions_type} {{rill.name = "positions"}}']
    tables = ""
    if table_shape is not None:
        table_type = tensor_type(table_shape, "f32", dynamic=True)
        arguments += [f'%cos: {table_type} {{rill.name = "cos"}}',
                      f'%sin: {table_type} {{rill.name = "sin"}}']
        tables = f" tables(%cos, %sin : {table_type}, {table_type})"
    return f"""
func.func @rotary({", ".join(arguments)}) -> ({x_type} {{rill.name = "out"}}) {{
  %out = rill.rotary %x at %positions{tables} {attributes} : {x_type}, {positions_type}
  return %out : {x_type}
}}
"""


def test_rotary_half_split(tmp_path):
    rng = np.random.default_rng(20)
    x = rng.standard_normal((2, 3, 5, 8)).astype(np.float32)
    positions = np.arange(5, dtype=np.int64)[None, :] + 7
    module = rotary_module(x.shape, positions.shape, "i64")
    out = run_rill_exec(tmp_path, module, "rotary", {"x": x, "positions": positions})["out"]
    expected = rotary(x, positions[:, None, :])
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_rotary_interleaved_partial(tmp_path):
    # rotary_dim < D, per-batch i32 positions past 10^6, theta 500000.
    rng = np.random.default_rng(21)
    x = rng.standard_normal((2, 2, 4, 12)).astype(np.float32)
    positions = np.array([[1_000_000, 1_000_001, 1_000_002, 1_000_003],
                          [0, 5, 17, 2_000_000_000]], dtype=np.int32)
    module = rotary_module(x.shape, positions.shape, "i32",
                           "{theta = 5.0e+05 : f64, rotary_dim = 8 : i64, interleaved}")
    out = run_rill_exec(tmp_path, module, "rotary", {"x": x, "positions": positions})["out"]
    expected = rotary(x, positions[:, None, :], theta=500000.0, rotary_dim=8, interleaved=True)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out[..., 8:], x[..., 8:])


def test_rotary_half_split_partial(tmp_path):
    rng = np.random.default_rng(22)
    x = rng.standard_normal((1, 2, 3, 10)).astype(np.float32)
    positions = np.array([[3, 9, 4]], dtype=np.int64)
    module = rotary_module(x.shape, positions.shape, "i64", "{rotary_dim = 6 : i64}")
    out = run_rill_exec(tmp_path, module, "rotary", {"x": x, "positions": positions})["out"]
    expected = rotary(x, positions[:, None, :], rotary_dim=6)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out[..., 6:], x[..., 6:])


def test_rotary_tables(tmp_path):
    # Tables built from a different theta than the default prove that the
    # tables, not theta, decide the angles.
    rng = np.random.default_rng(23)
    x = rng.standard_normal((1, 2, 4, 8)).astype(np.float32)
    positions = np.array([[0, 3, 15, 7]], dtype=np.int64)
    angles = rotation_angles(np.arange(16), 8, theta=100.0)
    cos = np.cos(angles).astype(np.float32)
    sin = np.sin(angles).astype(np.float32)
    module = rotary_module(x.shape, positions.shape, "i64", "", table_shape=cos.shape)
    out = run_rill_exec(tmp_path, module, "rotary",
                        {"x": x, "positions": positions, "cos": cos, "sin": sin})["out"]
    expected = rotary(x, positions[:, None, :], theta=100.0)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_rotary_interleaved_tables_index_positions(tmp_path):
    rng = np.random.default_rng(24)
    x = rng.standard_normal((2, 1, 3, 6)).astype(np.float32)
    positions = np.array([[1, 2, 3], [4, 0, 5]], dtype=np.int64)
    angles = rotation_angles(np.arange(6), 4)
    cos = np.cos(angles).astype(np.float32)
    sin = np.sin(angles).astype(np.float32)
    module = rotary_module(x.shape, positions.shape, "index",
                           "{rotary_dim = 4 : i64, interleaved}", table_shape=cos.shape)
    out = run_rill_exec(tmp_path, module, "rotary",
                        {"x": x, "positions": positions, "cos": cos, "sin": sin})["out"]
    expected = rotary(x, positions[:, None, :], rotary_dim=4, interleaved=True)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_attention_bigbird_random_blocks(tmp_path):
    # BigBird's predicate replays its random-block draws in an scf.while
    # inside the linalg.generic body, which the pipeline must lower too.
    rng = np.random.default_rng(13)
    inputs = random_attention_inputs(rng, batch=1, q_heads=2, kv_heads=2, q_len=12, k_len=12,
                                     head_dim=4)
    check_attention(tmp_path, inputs, 0, 0,
                    "#rill.bigbird<block = 2, global = 1, window = 3, random = 1, seed = 5>",
                    "bigbird(block=2,global=1,window=3,random=1,seed=5)")


def test_attention_dilated_and_chunked(tmp_path):
    rng = np.random.default_rng(14)
    inputs = random_attention_inputs(rng, batch=1, q_heads=2, kv_heads=1, q_len=10, k_len=10,
                                     head_dim=4)
    check_attention(tmp_path, inputs, 0, 0,
                    "#rill.intersect<[#rill.dilated<window = 3, dilation = 2>, #rill.chunked<6>]>",
                    "dilated(window=3,dilation=2) & chunked(6)")
