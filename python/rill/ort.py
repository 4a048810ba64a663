# ===- rill/ort.py - ONNX Runtime reference through Node.js -----------=== #
"""ONNX Runtime as an independent reference, run through Node.js.

Debian ships no ONNX Runtime for Python, so Rill's numerics tests run ONNX
Runtime 1.30 (CPU) through the onnxruntime-node package and the driver
`ort/run_model.js`. `run` writes the inputs as raw little-endian tensor files
into a temporary directory, runs the driver there and reads the outputs back.
The `node` executable comes from $RILL_NODE or PATH, and the folder that contains
`node_modules/onnxruntime-node` from $RILL_ORT_DIR or the repository's `ort/`.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable, Mapping, Optional, Union

import numpy as np

__all__ = ["available", "find_node", "find_ort_dir", "run", "unavailable_reason"]

# The driver lives in the repository's ort/ folder even when $RILL_ORT_DIR points
# the package lookup elsewhere.
_REPO_ORT_DIR = Path(__file__).resolve().parents[2] / "ort"
_DRIVER = _REPO_ORT_DIR / "run_model.js"

# numpy dtype -> dtype name shared with run_model.js (ONNX Runtime's tensor type names).
_DTYPE_NAMES = {
    np.dtype(np.float32): "float32",
    np.dtype(np.float16): "float16",
    np.dtype(np.int64): "int64",
    np.dtype(np.int32): "int32",
    np.dtype(np.bool_): "bool",
    np.dtype(np.uint8): "uint8",
}
_NAME_DTYPES = {name: dtype for dtype, name in _DTYPE_NAMES.items()}

ModelLike = Union[str, os.PathLike, bytes, "onnx.ModelProto"]  # noqa: F821


def find_node() -> Optional[str]:
    """Return the path of the `node` executable ($RILL_NODE, else PATH), or None."""
    override = os.environ.get("RILL_NODE")
    if override:
        return override if os.access(override, os.X_OK) else None
    return shutil.which("node")


def find_ort_dir() -> Path:
    """Return the folder whose node_modules contains onnxruntime-node ($RILL_ORT_DIR, else ort/)."""
    override = os.environ.get("RILL_ORT_DIR")
    return Path(override) if override else _REPO_ORT_DIR


@functools.lru_cache(maxsize=None)
def _probe(node: Optional[str], ort_dir: Path) -> Optional[str]:
    if node is None:
        return "node executable not found on PATH (set RILL_NODE to its path)"
    if not _DRIVER.is_file():
        return f"driver script not found: {_DRIVER}"
    if not (ort_dir / "node_modules" / "onnxruntime-node").is_dir():
        return (f"onnxruntime-node not found under {ort_dir}/node_modules; run "
                f"'npm install --ignore-scripts' in {ort_dir} or set RILL_ORT_DIR")

    # Loading the package also loads its native binding and libonnxruntime.so.1,
    # which is the part that fails on an unsupported platform.
    script = ("const r = require.resolve('onnxruntime-node', {paths: [process.argv[1]]});"
              "process.stdout.write(require(r).env.versions.node);")
    try:
        probe = subprocess.run([node, "-e", script, str(ort_dir)], capture_output=True,
                               text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"failed to start {node}: {error}"
    if probe.returncode != 0:
        return f"onnxruntime-node failed to load: {probe.stderr.strip()}"
    return None


def unavailable_reason() -> Optional[str]:
    """Return why ONNX Runtime cannot run here, or None when it can."""
    return _probe(find_node(), find_ort_dir())


def available() -> bool:
    """Return whether node and a loadable onnxruntime-node package were found."""
    return unavailable_reason() is None


def _dtype_name(name: str, array: np.ndarray) -> str:
    dtype_name = _DTYPE_NAMES.get(array.dtype.newbyteorder("="))
    if dtype_name is None:
        supported = ", ".join(_NAME_DTYPES)
        raise TypeError(f"input '{name}' has unsupported dtype {array.dtype} "
                        f"(supported: {supported})")
    return dtype_name


def _write_inputs(directory: Path, inputs: Mapping[str, np.ndarray]) -> None:
    manifest = {}
    for index, (name, value) in enumerate(inputs.items()):
        array = np.asarray(value)
        dtype_name = _dtype_name(name, array)
        little_endian = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
        file_name = f"input_{index}.bin"
        little_endian.tofile(directory / file_name)
        manifest[name] = {"dtype": dtype_name, "shape": list(array.shape), "file": file_name}
    (directory / "inputs.json").write_text(json.dumps(manifest, indent=2))


def _read_outputs(directory: Path) -> dict[str, np.ndarray]:
    manifest = json.loads((directory / "outputs.json").read_text())
    outputs = {}
    for name, entry in manifest.items():
        dtype = _NAME_DTYPES[entry["dtype"]].newbyteorder("<")
        data = np.fromfile(directory / entry["file"], dtype=dtype)
        outputs[name] = data.reshape(entry["shape"]).astype(dtype.newbyteorder("="), copy=False)
    return outputs


def run(model_path: ModelLike, inputs: Mapping[str, np.ndarray],
        output_names: Optional[Iterable[str]] = None, threads: int = 1,
        optimization: str = "all", timeout: Optional[float] = None) -> dict[str, np.ndarray]:
    """Run an ONNX model with ONNX Runtime and return its outputs by name.

    `model_path` is a file path, serialized model bytes or an `onnx.ModelProto`.
    `inputs` maps each graph input name to an array of dtype float32, float16,
    int64, int32, bool or uint8. `output_names` selects outputs (default: all
    graph outputs, in graph order). `threads` sets ONNX Runtime's intra-op thread
    count and `optimization` its graph optimization level (disabled, basic,
    extended or all). Raises RuntimeError with the driver's message when ONNX
    Runtime is missing or the model fails to load or run, TypeError for an
    unsupported input dtype and subprocess.TimeoutExpired past `timeout` seconds.
    """
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"ONNX Runtime is not available: {reason}")
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer (got {threads!r})")

    with tempfile.TemporaryDirectory(prefix="rill-ort-") as temporary:
        directory = Path(temporary)
        if isinstance(model_path, (str, os.PathLike)):
            model_file = Path(model_path).resolve()
            if not model_file.is_file():
                raise FileNotFoundError(f"ONNX model not found: {model_file}")
        else:
            model_bytes = model_path if isinstance(model_path, bytes) else model_path.SerializeToString()
            model_file = directory / "model.onnx"
            model_file.write_bytes(model_bytes)

        _write_inputs(directory, inputs)
        command = [find_node(), str(_DRIVER), str(directory), "--model", str(model_file),
                   "--threads", str(threads), "--optimization", optimization]
        if output_names is not None:
            names = list(output_names)
            if any("," in name for name in names):
                raise ValueError(f"output names must not contain commas (got {names})")
            command += ["--outputs", ",".join(names)]

        environment = dict(os.environ, RILL_ORT_DIR=str(find_ort_dir()))
        completed = subprocess.run(command, capture_output=True, text=True, env=environment,
                                   timeout=timeout)
        if completed.returncode != 0:
            message = completed.stderr.strip() or f"exit status {completed.returncode}"
            raise RuntimeError(f"ONNX Runtime run of {model_file} failed: {message}")
        return _read_outputs(directory)
