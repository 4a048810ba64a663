# ===- tests/test_rillc.py - rillc libraries against golden outputs -===== #
"""End-to-end tests of rillc and the libraries it writes.

Every model under data/onnx is compiled with `rillc` into a shared library,
loaded with ctypes and run through `rill_model_run` on the inputs of its
golden.npz. Every output must match the golden output to 1e-4 (max abs).
Further tests cover the metadata, the other artifacts (`--emit=mlir`,
`llvm`, `obj`, `glue`), argument checks of `rill_model_run`, the absence
of MLIR and LLVM libraries in `ldd`, and rillc's error messages. The build
folder comes from $RILL_BUILD_DIR (default build/); the tests are skipped
when it has no bin/rillc.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RILL_BUILD_DIR", ROOT / "build"))
RILLC = BUILD / "bin" / "rillc"
DATA = ROOT / "data" / "onnx"
MODELS = ["stories260K_nocache", "stories260K", "gpt2_tiny", "bert_tiny", "attention23_tiny", "gqa_tiny"]
TOLERANCE = 1e-4

pytestmark = pytest.mark.skipif(not RILLC.is_file(), reason=f"rillc is not built under {BUILD}")

DTYPES = {1: np.float32, 2: np.float16, 3: np.int64, 4: np.int32, 5: np.bool_}


class TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64))]


class Metadata(ctypes.Structure):
    """rill_model_metadata of ABI version 2."""

    _fields_ = [
        ("abi_version", ctypes.c_uint32), ("model_name", ctypes.c_char_p), ("source_file", ctypes.c_char_p),
        ("is_streaming", ctypes.c_int32), ("vocab_size", ctypes.c_int64), ("num_layers", ctypes.c_int64),
        ("num_kv_heads", ctypes.c_int64), ("head_dim", ctypes.c_int64), ("value_dim", ctypes.c_int64),
        ("max_capacity", ctypes.c_int64), ("max_chunk", ctypes.c_int64), ("default_sinks", ctypes.c_int64),
        ("default_capacity", ctypes.c_int64), ("trained_length", ctypes.c_int64),
        ("mask_pattern", ctypes.c_char_p), ("position_policy", ctypes.c_char_p),
        ("default_policy", ctypes.c_char_p), ("num_inputs", ctypes.c_int32),
        ("inputs", ctypes.POINTER(TensorInfo)), ("num_outputs", ctypes.c_int32),
        ("outputs", ctypes.POINTER(TensorInfo)), ("default_threads", ctypes.c_int32),
        ("target_cpu", ctypes.c_char_p), ("pipeline", ctypes.c_char_p),
    ]


class CompiledModel:
    """A library written by rillc, called through rill_model_run."""

    def __init__(self, path: Path):
        self.library = ctypes.CDLL(str(path))
        self.library.rill_model_metadata_get.restype = ctypes.POINTER(Metadata)
        self.library.rill_model_run.restype = ctypes.c_int32
        self.library.rill_model_last_error.restype = ctypes.c_char_p
        self.library.rill_model_free_output.argtypes = [ctypes.c_void_p]
        self.metadata = self.library.rill_model_metadata_get().contents

    def tensors(self, kind: str) -> list[tuple[str, int, list[int]]]:
        count = getattr(self.metadata, f"num_{kind}")
        table = getattr(self.metadata, kind)
        return [(table[i].name.decode(), table[i].dtype, [table[i].shape[d] for d in range(table[i].rank)])
                for i in range(count)]

    def run_raw(self, arrays: list[np.ndarray], shapes: list[list[int]] | None = None):
        """Calls rill_model_run; returns (status, outputs)."""
        inputs = [np.ascontiguousarray(a) for a in arrays]
        shapes = shapes if shapes is not None else [list(a.shape) for a in inputs]
        shape_arrays = [np.array(s, dtype=np.int64) for s in shapes]
        input_pointers = (ctypes.c_void_p * max(len(inputs), 1))(*[a.ctypes.data for a in inputs])
        shape_pointers = (ctypes.POINTER(ctypes.c_int64) * max(len(inputs), 1))(
            *[s.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)) for s in shape_arrays])
        outputs_info = self.tensors("outputs")
        output_pointers = (ctypes.c_void_p * len(outputs_info))()
        output_shapes = [np.zeros(max(len(shape), 1), dtype=np.int64) for _, _, shape in outputs_info]
        output_shape_pointers = (ctypes.POINTER(ctypes.c_int64) * len(outputs_info))(
            *[s.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)) for s in output_shapes])
        status = self.library.rill_model_run(input_pointers, shape_pointers, output_pointers, output_shape_pointers)
        results = {}
        if status == 0:
            for index, (name, dtype, shape) in enumerate(outputs_info):
                dims = [int(d) for d in output_shapes[index][:len(shape)]]
                count = int(np.prod(dims)) if dims else 1
                buffer = (ctypes.c_char * (count * np.dtype(DTYPES[dtype]).itemsize)).from_address(
                    output_pointers[index])
                results[name] = np.frombuffer(buffer, dtype=DTYPES[dtype]).reshape(dims).copy()
                self.library.rill_model_free_output(output_pointers[index])
        return status, results

    def run(self, named: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        arrays = [named[name].astype(DTYPES[dtype]) for name, dtype, _ in self.tensors("inputs")]
        status, results = self.run_raw(arrays)
        assert status == 0, self.library.rill_model_last_error().decode()
        return results


def rillc(*arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(RILLC), *arguments], capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def golden(name: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    model = onnx.load(str(DATA / name / "model.onnx"), load_external_data=False)
    with np.load(DATA / name / "golden.npz") as archive:
        arrays = dict(archive)
    inputs = {value.name: arrays[value.name] for value in model.graph.input}
    outputs = {value.name: arrays[value.name] for value in model.graph.output}
    return inputs, outputs


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """Compiles each model once per pipeline, on first use."""
    cache: dict[tuple[str, str], Path] = {}
    folder = tmp_path_factory.mktemp("rillc")

    def get(name: str, pipeline: str = "reference") -> Path:
        key = (name, pipeline)
        if key not in cache:
            output = folder / f"{name}_{pipeline}.so"
            # The golden data is for the plain graph, so decoders are not streamified.
            rillc(str(DATA / name / "model.onnx"), f"--pipeline={pipeline}", "--no-streaming", "-o", str(output))
            cache[key] = output
        return cache[key]

    return get


@pytest.mark.parametrize("pipeline", ["reference", "cpu"])
@pytest.mark.parametrize("name", MODELS)
def test_outputs_match_golden(compiled, name, pipeline):
    model = CompiledModel(compiled(name, pipeline))
    inputs, expected = golden(name)

    outputs = model.run(inputs)

    assert sorted(outputs) == sorted(expected)
    for output_name, value in expected.items():
        assert outputs[output_name].shape == value.shape, output_name
        difference = np.max(np.abs(outputs[output_name].astype(np.float64) - value.astype(np.float64)), initial=0.0)
        assert difference < TOLERANCE, f"{output_name}: max |diff| {difference:.3g}"


def test_repeated_runs_agree(compiled):
    model = CompiledModel(compiled("stories260K_nocache"))
    inputs, _ = golden("stories260K_nocache")

    first = model.run(inputs)["logits"]
    second = model.run(inputs)["logits"]

    assert np.array_equal(first, second)


def test_other_sequence_length(compiled):
    model = CompiledModel(compiled("stories260K_nocache"))
    inputs, expected = golden("stories260K_nocache")
    prefix = {name: array[:, :5] for name, array in inputs.items()}

    logits = model.run(prefix)["logits"]

    # Causal attention: the logits of a prefix equal the prefix of the logits.
    assert logits.shape == (2, 5, 512)
    assert np.max(np.abs(logits - expected["logits"][:, :5])) < TOLERANCE


def test_metadata_describes_graph(compiled):
    model = CompiledModel(compiled("stories260K_nocache"))
    meta = model.metadata

    assert meta.abi_version == 2
    assert meta.model_name == b"torch_jit"
    assert meta.source_file.decode().endswith("stories260K_nocache/model.onnx")
    assert meta.is_streaming == 0
    assert meta.pipeline == b"reference"
    assert meta.target_cpu == b"x86-64-v3"
    assert model.tensors("inputs") == [("input_ids", 3, [-1, -1]), ("attention_mask", 3, [-1, -1]),
                                       ("position_ids", 3, [-1, -1])]
    assert model.tensors("outputs") == [("logits", 1, [-1, -1, 512])]


def test_metadata_records_options(tmp_path):
    output = tmp_path / "m.so"
    rillc(str(DATA / "gpt2_tiny" / "model.onnx"), "--pipeline=cpu", "--no-streaming", "--threads", "3",
          "--policy", "recompute", "--mask", "sinks(4)|window(12)", "-o", str(output))

    meta = CompiledModel(output).metadata

    assert meta.default_threads == 3
    assert meta.default_policy == b"recompute"
    assert meta.mask_pattern == b"sinks(4)|window(12)"
    assert meta.pipeline == b"cpu"


def test_default_policy_follows_mask(tmp_path):
    output = tmp_path / "m.so"
    rillc(str(DATA / "attention23_tiny" / "model.onnx"), "--pipeline=reference", "--mask", "window(8)",
          "-o", str(output))

    assert CompiledModel(output).metadata.default_policy == b"window"


def test_set_num_threads_keeps_results(compiled):
    model = CompiledModel(compiled("bert_tiny"))
    inputs, expected = golden("bert_tiny")

    for threads in (1, 2, 0):
        model.library.rill_model_set_num_threads(threads)
        outputs = model.run(inputs)
        assert np.max(np.abs(outputs["last_hidden_state"] - expected["last_hidden_state"])) < TOLERANCE


def test_run_rejects_wrong_rank(compiled):
    model = CompiledModel(compiled("stories260K_nocache"))
    arrays = [np.zeros((2, 4), dtype=np.int64)] * 3

    status, _ = model.run_raw(arrays, shapes=[[2, 4], [2, 4], [2, -4]])

    assert status == 1
    message = model.library.rill_model_last_error().decode()
    assert "position_ids" in message
    assert "dimension 1 is -4" in message


def test_run_rejects_wrong_static_dimension(compiled):
    model = CompiledModel(compiled("attention23_tiny"))
    inputs, _ = golden("attention23_tiny")
    arrays = [inputs[name].astype(DTYPES[dtype]) for name, dtype, _ in model.tensors("inputs")]
    shapes = [list(a.shape) for a in arrays]
    shapes[0][2] = 31

    status, _ = model.run_raw(arrays, shapes=shapes)

    assert status == 1
    assert "dimension 2 is 31 (expected 32)" in model.library.rill_model_last_error().decode()


def test_run_rejects_null_inputs(compiled):
    model = CompiledModel(compiled("stories260K_nocache"))

    status = model.library.rill_model_run(None, None, None, None)

    assert status == 1
    assert b"must not be NULL" in model.library.rill_model_last_error()


def test_library_needs_no_mlir_or_llvm(compiled):
    listing = subprocess.run(["ldd", str(compiled("stories260K_nocache"))], capture_output=True, text=True,
                             check=True).stdout

    assert "libMLIR" not in listing
    assert "libLLVM" not in listing
    assert "not found" not in listing


def test_library_exports_the_abi(compiled):
    symbols = subprocess.run(["nm", "-D", "--defined-only", str(compiled("stories260K_nocache"))],
                             capture_output=True, text=True, check=True).stdout

    for symbol in ["rill_model_metadata_get", "rill_model_run", "rill_model_free_output",
                   "rill_model_last_error", "rill_model_set_num_threads"]:
        assert f" T {symbol}\n" in symbols, symbol


@pytest.mark.parametrize("emit,suffix,marker", [
    ("mlir", ".mlir", b"func.func @torch_jit"),
    ("llvm", ".ll", b"define "),
    ("glue", ".c", b"int32_t rill_model_run("),
])
def test_emit_text_artifacts(tmp_path, emit, suffix, marker):
    output = tmp_path / f"out{suffix}"

    rillc(str(DATA / "stories260K_nocache" / "model.onnx"), f"--emit={emit}", "-o", str(output))

    assert marker in output.read_bytes()


def test_emit_object(tmp_path):
    output = tmp_path / "model.o"

    rillc(str(DATA / "stories260K_nocache" / "model.onnx"), "-o", str(output))

    header = output.read_bytes()[:18]
    assert header[:4] == b"\x7fELF"
    assert int.from_bytes(header[16:18], "little") == 1  # ET_REL


def test_emit_kind_overrides_extension(tmp_path):
    output = tmp_path / "model.bin"

    rillc(str(DATA / "gqa_tiny" / "model.onnx"), "--emit=mlir", "-o", str(output))

    assert output.read_bytes().startswith(b"module") or b"func.func" in output.read_bytes()


def test_march_native_is_recorded(tmp_path):
    output = tmp_path / "m.so"
    rillc(str(DATA / "gqa_tiny" / "model.onnx"), "--march=native", "-o", str(output))

    model = CompiledModel(output)
    inputs, expected = golden("gqa_tiny")

    assert model.metadata.target_cpu not in (b"", b"native", b"x86-64-v3")
    assert np.max(np.abs(model.run(inputs)["y"] - expected["y"])) < TOLERANCE


@pytest.mark.parametrize("arguments,message", [
    (["missing.onnx"], "cannot open 'missing.onnx': no such file"),
    (["{model}", "--mask", "window(0"], "--mask: invalid mask pattern"),
    (["{model}", "--mask", "sinks(x)"], "--mask: invalid mask pattern"),
    (["{model}", "--policy", "fastest"], "invalid --policy 'fastest' (expected dense, window, recompute or sinks)"),
    (["{model}", "--threads", "-2"], "invalid --threads -2"),
    (["{model}", "--pipeline", "gpu"], "invalid --pipeline 'gpu' (expected cpu or reference)"),
    (["{model}", "--emit", "exe"], "invalid --emit 'exe'"),
    (["{model}", "--march", "pentium9000"], "unknown target CPU 'pentium9000'"),
    (["{model}", "--max-capacity", "-1"], "invalid --max-capacity -1"),
    (["{model}", "-O7"], "invalid -O7 (expected 0 to 3)"),
    (["{model}", "--streaming", "--no-streaming"], "--streaming and --no-streaming contradict"),
    (["{model}", "--cc", "/nonexistent/cc"], "cannot find the C compiler '/nonexistent/cc'"),
    ([], "no input file"),
    (["{folder}"], "is a directory"),
])
def test_errors_name_the_option(tmp_path, arguments, message):
    model = str(DATA / "gqa_tiny" / "model.onnx")
    arguments = [a.format(model=model, folder=str(DATA)) for a in arguments]

    result = rillc(*arguments, "-o", str(tmp_path / "out.so"), check=False)

    assert result.returncode != 0
    assert "rillc: " in result.stderr
    assert message in result.stderr
    assert "Stack dump" not in result.stderr


def test_invalid_onnx_file(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not a protobuf")

    result = rillc(str(broken), "-o", str(tmp_path / "out.so"), check=False)

    assert result.returncode != 0
    assert "cannot import" in result.stderr
    assert "broken.onnx" in result.stderr


def test_unwritable_output(tmp_path):
    result = rillc(str(DATA / "gqa_tiny" / "model.onnx"), "--emit=mlir", "-o",
                   str(tmp_path / "no" / "such" / "dir" / "x.mlir"), check=False)

    assert result.returncode != 0
    assert "cannot open" in result.stderr
    assert "for writing" in result.stderr


def test_decoder_compiles_to_streaming_library(tmp_path):
    output = tmp_path / "stream.so"
    rillc(str(DATA / "stories260K" / "model.onnx"), "--mask", "sinks(4)|window(60)", "-o", str(output))

    model = CompiledModel(output)
    meta = model.metadata

    assert meta.is_streaming == 1
    assert meta.num_layers == 5
    assert meta.num_kv_heads == 4
    assert meta.head_dim == 8
    assert meta.vocab_size == 512
    assert meta.default_sinks == 4
    assert meta.default_capacity == 64
    assert meta.default_policy == b"sinks"
    assert hasattr(model.library, "rill_model_step")
