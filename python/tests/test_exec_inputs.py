# ===- tests/test_exec_inputs.py - rill-exec input and output handling -=== #
"""Check how rill-exec reads inputs, writes outputs and reports bad input.

Covers compressed and stored .npz inputs, a single .npy input, every numpy
dtype the runner maps to MLIR types, compressed outputs that numpy reads
back and --print. Each kind of mismatched input has one error case, which
must exit with status 1 and a message naming the argument. The tests skip
when rill-exec is not built.
"""

from __future__ import annotations

import pathlib
import subprocess

import numpy as np
import pytest

from test_exec_attention import RILL_EXEC

pytestmark = pytest.mark.skipif(RILL_EXEC is None, reason="rill-exec is not built")

IDENTITY_MODULE = """
func.func @echo(%x: tensor<?x?x{element}> {{rill.name = "x"}}) -> (tensor<?x?x{element}> {{rill.name = "y"}}) {{
  return %x : tensor<?x?x{element}>
}}
"""

SCALE_MODULE = """
func.func @scale(%x: tensor<?x3xf32> {rill.name = "x"}, %factor: f32 {rill.name = "factor"})
    -> (tensor<?x3xf32> {rill.name = "y"}) {
  %c0 = arith.constant 0 : index
  %rows = tensor.dim %x, %c0 : tensor<?x3xf32>
  %init = tensor.empty(%rows) : tensor<?x3xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<?x3xf32>) outs(%init : tensor<?x3xf32>) {
  ^bb0(%in: f32, %unused: f32):
    %scaled = arith.mulf %in, %factor : f32
    linalg.yield %scaled : f32
  } -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}
"""


def run(tmp_path: pathlib.Path, module: str, *arguments: str) -> subprocess.CompletedProcess:
    module_path = tmp_path / "module.mlir"
    module_path.write_text(module)
    return subprocess.run([RILL_EXEC, str(module_path), *arguments], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("dtype, element", [
    (np.float16, "f16"), (np.float32, "f32"), (np.float64, "f64"), (np.int64, "i64"),
    (np.int32, "i32"), (np.int16, "i16"), (np.int8, "i8"), (np.uint8, "ui8"),
    (np.bool_, "i1"), (np.uint32, "ui32"),
])
def test_echo_round_trips_dtype(tmp_path, dtype, element):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, 5)) * 50).astype(dtype)
    inputs = tmp_path / "in.npz"
    outputs = tmp_path / "out.npz"
    np.savez_compressed(inputs, x=x)
    completed = run(tmp_path, IDENTITY_MODULE.format(element=element), "--entry", "echo",
                    "--inputs", str(inputs), "--outputs", str(outputs), "--compress")
    assert completed.returncode == 0, completed.stderr
    with np.load(outputs) as loaded:
        assert loaded.files == ["y"]
        assert loaded["y"].dtype == x.dtype
        np.testing.assert_array_equal(loaded["y"], x)


def test_uint8_feeds_signless_i8(tmp_path):
    x = np.arange(6, dtype=np.uint8).reshape(2, 3) * 40
    inputs = tmp_path / "in.npz"
    outputs = tmp_path / "out.npz"
    np.savez(inputs, x=x)
    completed = run(tmp_path, IDENTITY_MODULE.format(element="i8"), "--entry", "echo",
                    "--inputs", str(inputs), "--outputs", str(outputs))
    assert completed.returncode == 0, completed.stderr
    with np.load(outputs) as loaded:
        np.testing.assert_array_equal(loaded["y"].view(np.uint8), x)


def test_unsigned_arrays_feed_signless_integers(tmp_path):
    x = np.array([[1, 65535, 40000]], dtype=np.uint16)
    inputs = tmp_path / "in.npz"
    outputs = tmp_path / "out.npz"
    np.savez(inputs, x=x)
    completed = run(tmp_path, IDENTITY_MODULE.format(element="i16"), "--entry", "echo",
                    "--inputs", str(inputs), "--outputs", str(outputs))
    assert completed.returncode == 0, completed.stderr
    with np.load(outputs) as loaded:
        assert loaded["y"].dtype == np.int16
        np.testing.assert_array_equal(loaded["y"].view(np.uint16), x)


def test_bf16_as_uint16_bits(tmp_path):
    # Truncating float32 bits gives bfloat16 bits; extf back to f32 must
    # reproduce the truncated values exactly.
    values = np.array([[1.0, -2.5, 3.140625]], dtype=np.float32)
    bits = (values.view(np.uint32) >> 16).astype(np.uint16)
    module = """
func.func @widen(%x: tensor<1x3xbf16>) -> tensor<1x3xf32> {
  %init = tensor.empty() : tensor<1x3xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<1x3xbf16>) outs(%init : tensor<1x3xf32>) {
  ^bb0(%in: bf16, %unused: f32):
    %wide = arith.extf %in : bf16 to f32
    linalg.yield %wide : f32
  } -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}
"""
    inputs = tmp_path / "in.npz"
    outputs = tmp_path / "out.npz"
    np.savez(inputs, arg0=bits)
    completed = run(tmp_path, module, "--entry", "widen", "--inputs", str(inputs),
                    "--outputs", str(outputs))
    assert completed.returncode == 0, completed.stderr
    with np.load(outputs) as loaded:
        np.testing.assert_array_equal(loaded["result0"], values)


def test_single_npy_input_and_print(tmp_path):
    x = np.array([[1.5, 2.0, -3.0]], dtype=np.float32)
    inputs = tmp_path / "values.npy"
    np.save(inputs, x)
    completed = run(tmp_path, IDENTITY_MODULE.format(element="f32"), "--entry", "echo",
                    "--inputs", str(inputs), "--print")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "y: float32[1, 3]\n[[1.5, 2, -3]]\n"


def test_scalar_argument_by_name(tmp_path):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    inputs = tmp_path / "in.npz"
    outputs = tmp_path / "out.npz"
    np.savez(inputs, x=x, factor=np.float32(2.5))
    completed = run(tmp_path, SCALE_MODULE, "--entry", "scale", "--inputs", str(inputs),
                    "--outputs", str(outputs))
    assert completed.returncode == 0, completed.stderr
    with np.load(outputs) as loaded:
        np.testing.assert_array_equal(loaded["y"], x * np.float32(2.5))


@pytest.mark.parametrize("inputs, message", [
    ({"x": np.zeros((2, 3), np.float64), "factor": np.float32(1)},
     "function @scale, argument 0 ('x', tensor<?x3xf32>): expected float32 elements, "
     "got float64[2, 3]"),
    ({"x": np.zeros((2, 3, 1), np.float32), "factor": np.float32(1)},
     "function @scale, argument 0 ('x', tensor<?x3xf32>): expected rank 2 [?, 3], "
     "got float32[2, 3, 1]"),
    ({"x": np.zeros((2, 4), np.float32), "factor": np.float32(1)},
     "function @scale, argument 0 ('x', tensor<?x3xf32>): expected dimension 1 to be 3, "
     "got float32[2, 4]"),
    ({"x": np.zeros((2, 3), np.float32), "factor": np.ones(1, np.float32)},
     "function @scale, argument 1 ('factor', f32): expected a 0-d array for the scalar, "
     "got float32[1]"),
    ({"x": np.zeros((2, 3), np.float32)},
     "function @scale: missing input 'factor' for argument 1 (f32); the inputs are: x"),
    ({"x": np.zeros((2, 3), np.float32), "factor": np.float32(1), "extra": np.float32(1)},
     "input 'extra' matches no argument of @scale (arguments: x, factor)"),
])
def test_rejects_bad_inputs(tmp_path, inputs, message):
    path = tmp_path / "in.npz"
    np.savez(path, **inputs)
    completed = run(tmp_path, SCALE_MODULE, "--entry", "scale", "--inputs", str(path))
    assert completed.returncode == 1
    assert message in completed.stderr
    assert completed.stderr.count("error:") == 1


def test_rejects_unsupported_dtype(tmp_path):
    path = tmp_path / "in.npz"
    np.savez(path, x=np.zeros((2, 3), np.complex64), factor=np.float32(1))
    completed = run(tmp_path, SCALE_MODULE, "--entry", "scale", "--inputs", str(path))
    assert completed.returncode == 1
    assert "unsupported dtype '<c8'" in completed.stderr


def test_rejects_corrupt_archive(tmp_path):
    path = tmp_path / "in.npz"
    path.write_bytes(b"PK\x03\x04 definitely not a zip archive")
    completed = run(tmp_path, SCALE_MODULE, "--entry", "scale", "--inputs", str(path))
    assert completed.returncode == 1
    assert "invalid .npz archive" in completed.stderr


def test_rejects_invalid_module(tmp_path):
    completed = run(tmp_path, "func.func @broken(", "--entry", "broken")
    assert completed.returncode == 1
    assert "cannot parse" in completed.stderr
    assert "module.mlir:1:" in completed.stderr
