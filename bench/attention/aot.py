# ===- bench/attention/aot.py - Compile and call Rill kernels ahead of time -=== #
"""Compile tensor-level Rill IR to a shared library and call it from numpy.

The attention benchmarks and the tiled-lowering tests use this module to run
a function through `rill-opt` with a lowering pipeline (by default
`rill-cpu-pipeline`), `mlir-translate --mlir-to-llvmir` and `clang-22 -O3
-march=native -shared`, linked against LLVM 22's libomp. The function must
carry `llvm.emit_c_interface`, take ranked f32 tensors and `index` scalars,
and return one ranked f32 tensor; `Kernel` calls its C wrapper through
ctypes with memref descriptors built from numpy arrays.

Tools are looked up in $RILL_BUILD_DIR/bin (default: the first of
build-tile, build under the repository root that has rill-opt) and
/usr/lib/llvm-22/bin.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
LLVM_BIN = Path("/usr/lib/llvm-22/bin")
LLVM_LIB = Path("/usr/lib/llvm-22/lib")
CLANG = os.environ.get("RILL_CLANG", "clang-22")


def find_rill_opt() -> Path:
    """Return the rill-opt executable of $RILL_BUILD_DIR or a build folder."""
    override = os.environ.get("RILL_BUILD_DIR")
    candidates = [Path(override)] if override else [
        REPO_ROOT / "build-tile", REPO_ROOT / "build"]
    for build in candidates:
        tool = build / "bin" / "rill-opt"
        if tool.is_file():
            return tool
    raise FileNotFoundError(
        f"rill-opt not found under {', '.join(str(c) for c in candidates)}; "
        "build it or set RILL_BUILD_DIR")


def _run(command: Sequence[str], what: str) -> None:
    completed = subprocess.run(list(command), capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {completed.returncode}): "
                           f"{' '.join(map(str, command))}\n{completed.stderr}")


def compile_mlir(source: str, pipeline: str = "rill-cpu-pipeline",
                 cache_dir: Optional[Path] = None) -> Path:
    """Lower `source` with `pipeline` and return the path of the shared library.

    Libraries are cached by a hash of the rill-opt build, source and pipeline in `cache_dir`
    (default: a folder under the system temporary directory).
    """
    cache = Path(cache_dir or Path(tempfile.gettempdir()) / "rill-aot-cache")
    cache.mkdir(parents=True, exist_ok=True)
    # The rill-opt build is part of the key, so a rebuilt compiler (new
    # defaults, new code) never reuses a stale library.
    tool = find_rill_opt().stat()
    identity = f"{tool.st_mtime_ns}:{tool.st_size}\n{pipeline}\n{source}"
    key = hashlib.sha256(identity.encode()).hexdigest()[:24]
    library = cache / f"kernel-{key}.so"
    if library.is_file():
        return library

    source_file = cache / f"kernel-{key}.mlir"
    lowered = cache / f"kernel-{key}.llvm.mlir"
    llvm_ir = cache / f"kernel-{key}.ll"
    source_file.write_text(source)
    _run([str(find_rill_opt()), str(source_file), f"--pass-pipeline=builtin.module({pipeline})",
          "-o", str(lowered)], "rill-opt")
    _run([str(LLVM_BIN / "mlir-translate"), "--mlir-to-llvmir", str(lowered), "-o",
          str(llvm_ir)], "mlir-translate")
    temporary = library.with_suffix(".tmp.so")
    _run([CLANG, "-O3", "-march=native", "-shared", "-fPIC", "-Wno-override-module",
          str(llvm_ir), "-o", str(temporary), f"-L{LLVM_LIB}", "-lomp",
          f"-Wl,-rpath,{LLVM_LIB}", "-lm"], "clang")
    temporary.rename(library)
    return library


def _descriptor_type(rank: int):
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
              ("offset", ctypes.c_int64)]
    if rank > 0:
        fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
    return type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})


def _descriptor(array: np.ndarray):
    descriptor = _descriptor_type(array.ndim)()
    pointer = array.ctypes.data_as(ctypes.c_void_p)
    descriptor.allocated = pointer
    descriptor.aligned = pointer
    descriptor.offset = 0
    for axis in range(array.ndim):
        descriptor.sizes[axis] = array.shape[axis]
        descriptor.strides[axis] = array.strides[axis] // array.itemsize
    return descriptor


_LIBC = ctypes.CDLL(None)
_LIBC.free.argtypes = [ctypes.c_void_p]


class Kernel:
    """A compiled function `name(tensors..., index scalars...) -> tensor<f32>`."""

    def __init__(self, library: Path, name: str, result_rank: int = 4):
        self.library = ctypes.CDLL(str(library))
        self.function = getattr(self.library, f"_mlir_ciface_{name}")
        self.function.restype = None
        self.result_rank = result_rank

    def __call__(self, *arguments) -> np.ndarray:
        keep_alive = []
        call_arguments = []
        result = _descriptor_type(self.result_rank)()
        call_arguments.append(ctypes.byref(result))
        for argument in arguments:
            if isinstance(argument, (int, np.integer)):
                call_arguments.append(ctypes.c_int64(int(argument)))
                continue
            array = np.ascontiguousarray(argument, dtype=np.float32)
            keep_alive.append(array)
            descriptor = _descriptor(array)
            keep_alive.append(descriptor)
            call_arguments.append(ctypes.byref(descriptor))
        self.function(*call_arguments)

        shape = tuple(result.sizes[axis] for axis in range(self.result_rank))
        strides = tuple(result.strides[axis] for axis in range(self.result_rank))
        count = int(np.prod(shape))
        base = ctypes.cast(result.aligned, ctypes.POINTER(ctypes.c_float))
        if count == 0:
            output = np.zeros(shape, dtype=np.float32)
        else:
            span = result.offset + sum((s - 1) * t for s, t in zip(shape, strides)) + 1
            flat = np.ctypeslib.as_array(base, shape=(span,))
            output = np.lib.stride_tricks.as_strided(
                flat[result.offset:], shape=shape,
                strides=tuple(t * 4 for t in strides)).copy()
        _LIBC.free(result.allocated)
        return output


def _tensor(shape: Sequence[int]) -> str:
    return "tensor<" + "x".join(str(extent) for extent in shape) + "xf32>"


def attention_source(q_shape, k_shape, v_shape, mask: str, *, q_pos: Optional[int] = None,
                     k_pos: Optional[int] = None, bias_shape=None, sink_logits: bool = False,
                     scale: Optional[float] = None, softcap: Optional[float] = None,
                     name: str = "attention") -> str:
    """Return MLIR source of `name`, a function around one rill.attention.

    Arguments, in order: q, k, v, then bias and sink logits when requested, then
    `index` arguments for the positions left as None (q_pos first). Positions
    given as integers become constants, which enables the compile-time tile
    schedule.
    """
    result_shape = list(q_shape[:3]) + [v_shape[3]]
    arguments = [f"%q: {_tensor(q_shape)}", f"%k: {_tensor(k_shape)}",
                 f"%v: {_tensor(v_shape)}"]
    if bias_shape is not None:
        arguments.append(f"%bias: {_tensor(bias_shape)}")
    if sink_logits:
        arguments.append(f"%sinks: {_tensor([q_shape[1]])}")
    body = []
    for label, value in (("qp", q_pos), ("kp", k_pos)):
        if value is None:
            arguments.append(f"%{label}: index")
        else:
            body.append(f"  %{label} = arith.constant {int(value)} : index")

    clauses = f"mask({mask})"
    if scale is not None:
        clauses += f" scale({float(scale)!r})"
    if softcap is not None:
        clauses += f" softcap({float(softcap)!r})"
    if bias_shape is not None:
        clauses += f" bias(%bias : {_tensor(bias_shape)})"
    if sink_logits:
        clauses += f" sinks(%sinks : {_tensor([q_shape[1]])})"
    body.append(
        f"  %out = rill.attention %q, %k, %v at %qp, %kp {clauses} : "
        f"{_tensor(q_shape)}, {_tensor(k_shape)}, {_tensor(v_shape)} -> "
        f"{_tensor(result_shape)}")
    body.append(f"  return %out : {_tensor(result_shape)}")
    return (f"func.func @{name}({', '.join(arguments)}) -> {_tensor(result_shape)} "
            "attributes {llvm.emit_c_interface} {\n" + "\n".join(body) + "\n}\n")
