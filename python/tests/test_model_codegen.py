# ===- tests/test_model_codegen.py - Matrix-product kernel vs numpy -=== #
"""Numerics of `rill-model-codegen`, the register-blocked matrix-product
kernel of `rill-cpu-pipeline`, against numpy in float64.

Each case compiles one function ahead of time with rill-opt,
mlir-translate and clang-22 (see bench/attention/aot.py). The function has
the form the ONNX importer gives MatMul and Gemm: a contraction
linalg.generic with a [batch, rows, K] left-hand side, a static [K, N]
weight and a zero or bias-initialised output. Sizes straddle the register block (6 rows x 16 columns by
default): one row (a decode step), remainders of rows and of columns,
fewer columns than one vector, and K = 1.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "bench" / "attention"))

import aot  # noqa: E402

try:
    aot.find_rill_opt()
    _MISSING = None if shutil.which(aot.CLANG) else f"{aot.CLANG} not found"
except FileNotFoundError as error:
    _MISSING = str(error)
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")

CPU = "rill-cpu-pipeline"
SEQUENTIAL = "rill-cpu-pipeline{openmp=false}"


def product_source(k: int, n: int) -> str:
    """Return `%x @ %w` accumulated into `%f`, as the importer writes MatMul."""
    return f"""linalg.generic {{indexing_maps = [#lhs, #rhs, #out],
                        iterator_types = ["parallel", "parallel", "parallel", "reduction"]}}
      ins(%x, %w : tensor<?x?x{k}xf32>, tensor<{k}x{n}xf32>) outs(%f : tensor<?x?x{n}xf32>) {{
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }} -> tensor<?x?x{n}xf32>"""


def matmul_source(k: int, n: int, bias: bool) -> str:
    """`out[b, m, :] = (bias or 0) + lhs[b, m, :] @ weight` with dynamic b and m."""
    init = f"""
  %z = arith.constant 0.0 : f32
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<?x?x{n}xf32>) -> tensor<?x?x{n}xf32>"""
    if bias:
        init = f"""
  %f = linalg.generic {{indexing_maps = [affine_map<(b, m, n) -> (n)>,
                                          affine_map<(b, m, n) -> (b, m, n)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}}
      ins(%bias : tensor<{n}xf32>) outs(%e : tensor<?x?x{n}xf32>) {{
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }} -> tensor<?x?x{n}xf32>"""
    bias_argument = f", %bias: tensor<{n}xf32>" if bias else ""
    return f"""
#lhs = affine_map<(b, m, n, k) -> (b, m, k)>
#rhs = affine_map<(b, m, n, k) -> (k, n)>
#out = affine_map<(b, m, n, k) -> (b, m, n)>
func.func @matmul(%x: tensor<?x?x{k}xf32>, %w: tensor<{k}x{n}xf32>{bias_argument})
    -> tensor<?x?x{n}xf32> attributes {{llvm.emit_c_interface}} {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %batch = tensor.dim %x, %c0 : tensor<?x?x{k}xf32>
  %rows = tensor.dim %x, %c1 : tensor<?x?x{k}xf32>
  %e = tensor.empty(%batch, %rows) : tensor<?x?x{n}xf32>{init}
  %r = {product_source(k, n)}
  return %r : tensor<?x?x{n}xf32>
}}
"""


def _run(pipeline, batch, rows, k, n, bias, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, rows, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    library = aot.compile_mlir(matmul_source(k, n, bias), pipeline)
    kernel = aot.Kernel(library, "matmul", result_rank=3)
    actual = kernel(x, w, b) if bias else kernel(x, w)
    expected = x.astype(np.float64) @ w.astype(np.float64)
    if bias:
        expected = expected + b
    return actual, expected


def _check(actual, expected):
    assert actual.shape == expected.shape
    assert np.all(np.isfinite(actual))
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4)


# (batch, rows, K, N): decode rows, whole and partial row blocks, whole
# and partial column blocks, N below one vector, K = 1, the stories260K
# projections (64 -> 172, 172 -> 64, 64 -> 512).
SHAPES = [
    (1, 1, 64, 64), (1, 6, 64, 64), (1, 7, 64, 64), (1, 13, 17, 33),
    (2, 5, 9, 3), (1, 64, 64, 172), (1, 64, 172, 64), (1, 3, 64, 512),
    (3, 11, 1, 40), (1, 1, 5, 1), (2, 1, 128, 24),
]


@pytest.mark.parametrize("batch,rows,k,n", SHAPES, ids=lambda value: str(value))
def test_matches_numpy(batch, rows, k, n):
    _check(*_run(CPU, batch, rows, k, n, bias=False))


@pytest.mark.parametrize("batch,rows,k,n", [(1, 7, 16, 20), (2, 1, 64, 172)],
                         ids=lambda value: str(value))
def test_bias_initialised_output(batch, rows, k, n):
    _check(*_run(CPU, batch, rows, k, n, bias=True))


def test_sequential_loops_match_parallel():
    actual, expected = _run(SEQUENTIAL, 2, 13, 40, 50, bias=True)
    _check(actual, expected)


@pytest.mark.parametrize("options", ["row-tile=1 column-vectors=1 vector-width=4",
                                     "row-tile=4 column-vectors=3 vector-width=16"])
def test_other_block_sizes(options):
    pipeline = f"func.func(rill-model-codegen{{{options}}}),{CPU}"
    _check(*_run(pipeline, 1, 9, 31, 45, bias=True))


def test_empty_rows():
    actual, expected = _run(CPU, 1, 0, 8, 16, bias=False)
    assert actual.shape == (1, 0, 16)


STRIDED_SOURCE = """
func.func @strided(%x: tensor<?x?x32xf32>, %w: tensor<16x40xf32>) -> tensor<?x?x20xf32>
    attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %batch = tensor.dim %x, %c0 : tensor<?x?x32xf32>
  %rows = tensor.dim %x, %c1 : tensor<?x?x32xf32>
  %xs = tensor.extract_slice %x[0, 0, 0] [%batch, %rows, 16] [1, 1, 2]
      : tensor<?x?x32xf32> to tensor<?x?x16xf32>
  %ws = tensor.extract_slice %w[0, 1] [16, 20] [1, 2] : tensor<16x40xf32> to tensor<16x20xf32>
  %e = tensor.empty(%batch, %rows) : tensor<?x?x20xf32>
  %z = arith.constant 0.0 : f32
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<?x?x20xf32>) -> tensor<?x?x20xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>,
                                        affine_map<(b, m, n, k) -> (k, n)>,
                                        affine_map<(b, m, n, k) -> (b, m, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%xs, %ws : tensor<?x?x16xf32>, tensor<16x20xf32>) outs(%f : tensor<?x?x20xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x?x20xf32>
  return %r : tensor<?x?x20xf32>
}
"""


def test_strided_slice_operands():
    """Operands read through slices with steps (ONNX Slice with steps = 2)
    are copied to plain buffers first."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 7, 32)).astype(np.float32)
    w = rng.standard_normal((16, 40)).astype(np.float32)
    kernel = aot.Kernel(aot.compile_mlir(STRIDED_SOURCE, CPU), "strided", result_rank=3)
    expected = x[:, :, ::2].astype(np.float64) @ w[:, 1::2].astype(np.float64)
    _check(kernel(x, w), expected)


def constant_weight_source(k: int, n: int, weight: np.ndarray, resource: bool) -> str:
    """Two products that share one constant weight, as the ONNX importer
    writes initializers: a dense attribute, or a dense_resource blob (the
    importer's form for large tensors). The function returns
    `lhs @ weight + lhs @ weight`, so the shared packed copy is used twice."""
    if resource:
        # A blob is its alignment as a little-endian uint32, then the bytes.
        blob = (np.uint32(64).tobytes() + weight.astype("<f4").tobytes()).hex()
        attribute = f"dense_resource<shared_weight> : tensor<{k}x{n}xf32>"
        trailer = f"""
{{-#
  dialect_resources: {{ builtin: {{ shared_weight: "0x{blob}" }} }}
#-}}"""
    else:
        rows = ", ".join("[" + ", ".join(repr(float(v)) for v in row) + "]"
                         for row in weight)
        attribute = f"dense<[{rows}]> : tensor<{k}x{n}xf32>"
        trailer = ""
    product = product_source(k, n)
    return f"""
#lhs = affine_map<(b, m, n, k) -> (b, m, k)>
#rhs = affine_map<(b, m, n, k) -> (k, n)>
#out = affine_map<(b, m, n, k) -> (b, m, n)>
#id = affine_map<(b, m, n) -> (b, m, n)>
func.func @matmul(%x: tensor<?x?x{k}xf32>) -> tensor<?x?x{n}xf32>
    attributes {{llvm.emit_c_interface}} {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %w = arith.constant {attribute}
  %batch = tensor.dim %x, %c0 : tensor<?x?x{k}xf32>
  %rows = tensor.dim %x, %c1 : tensor<?x?x{k}xf32>
  %e = tensor.empty(%batch, %rows) : tensor<?x?x{n}xf32>
  %z = arith.constant 0.0 : f32
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<?x?x{n}xf32>) -> tensor<?x?x{n}xf32>
  %r1 = {product}
  %r2 = {product}
  %sum = linalg.generic {{indexing_maps = [#id, #id, #id],
                          iterator_types = ["parallel", "parallel", "parallel"]}}
      ins(%r1, %r2 : tensor<?x?x{n}xf32>, tensor<?x?x{n}xf32>) outs(%e : tensor<?x?x{n}xf32>) {{
  ^bb0(%a: f32, %b: f32, %c: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }} -> tensor<?x?x{n}xf32>
  return %sum : tensor<?x?x{n}xf32>
}}{trailer}
"""


# (batch, rows, K, N): one row with K a multiple of the four partial sums,
# K with a remainder (17) and K below one split (3), a partial column panel
# (33, 20), several row blocks, and the 100M model's 768 -> 2048 shape
# reduced in K.
PACKED_SHAPES = [
    (1, 1, 64, 64), (1, 1, 17, 33), (1, 1, 3, 20), (2, 7, 17, 33),
    (1, 13, 40, 50), (1, 25, 24, 130), (1, 1, 96, 2048),
]


# Large weights come from the importer as dense_resource only, so they are
# not written out as dense attributes.
PACKED_CASES = [(*shape, resource) for shape in PACKED_SHAPES for resource in (False, True)
                if resource or shape[2] * shape[3] <= 4096]


@pytest.mark.parametrize("batch,rows,k,n,resource", PACKED_CASES, ids=lambda value: str(value))
def test_packed_constant_weights(batch, rows, k, n, resource):
    """Constant weights are repacked into column panels at compile time;
    the products must still match numpy, for both attribute kinds."""
    rng = np.random.default_rng(k * 1000 + n)
    x = rng.standard_normal((batch, rows, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    source = constant_weight_source(k, n, w, resource)
    # The AVX-512 blocks: rillc's default for that target (6 x 4 vectors),
    # and 8 x 2.
    for pipeline in (CPU, "rill-cpu-pipeline{matmul-vector-width=16 matmul-row-tile=6 matmul-column-vectors=4}",
                     "rill-cpu-pipeline{matmul-vector-width=16 matmul-row-tile=8}", SEQUENTIAL):
        kernel = aot.Kernel(aot.compile_mlir(source, pipeline), "matmul", result_rank=3)
        expected = 2 * (x.astype(np.float64) @ w.astype(np.float64))
        _check(kernel(x), expected)


def test_packing_is_visible_in_ir():
    """The packed copy replaces the K x N weight in the kernel: one panel
    of 16 columns per column block, the last padded."""
    w = np.arange(17 * 33, dtype=np.float32).reshape(17, 33)
    source = constant_weight_source(17, 33, w, resource=True)

    def lower(options: str) -> str:
        return subprocess.run(
            [str(aot.find_rill_opt()), f"--pass-pipeline=builtin.module(func.func(rill-model-codegen{{{options}}}))"],
            input=source, capture_output=True, text=True, check=True).stdout

    assert "tensor<3x17x16xf32>" in lower("")
    assert "tensor<3x17x16xf32>" not in lower("pack-weights=false")
