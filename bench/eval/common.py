# ===- bench/eval/common.py - Shared pieces of the evaluation scripts ----=== #
"""Models, texts, tool discovery and subprocess helpers shared by bench/eval.

The evaluation scripts compare Rill (`rillc` + `rill-run`) with two peers,
`bench/peers/torch_streaming.py` (PyTorch eager, StreamingLLM reference cache) and
`bench/peers/ort_stream.js` (ONNX Runtime 1.30 with a truncated past_key_values
cache). Every generated file goes under `build/eval/` (ignored by git); only
plots under `docs/img/` are meant to be committed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "python"))

BUILD = REPO_ROOT / "build" / "eval"
CHECKPOINTS = REPO_ROOT / "data" / "checkpoints"
TEXTS = REPO_ROOT / "data" / "text"
TORCH_PEER = REPO_ROOT / "bench" / "peers" / "torch_streaming.py"
ORT_PEER = REPO_ROOT / "bench" / "peers" / "ort_stream.js"
PYTHON = "/usr/bin/python3"  # Debian's interpreter, which has numpy, torch 1.13 and onnx 1.12


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A real checkpoint with its tokenizer and the two cache sizes the quality runs use."""

    name: str
    checkpoint: Path
    tokenizer: Path
    trained_length: int
    cache_sizes: tuple[int, int]


# Cache sizes are half of and equal to the trained context (at most 512), so every
# bounded policy stays inside the positions the model was trained on.
MODELS = {
    "stories260K": ModelSpec("stories260K", CHECKPOINTS / "stories260K.bin", CHECKPOINTS / "tok512.bin", 512, (256, 512)),
    "stories260K_q8": ModelSpec("stories260K_q8", CHECKPOINTS / "stories260K_q8.bin", CHECKPOINTS / "tok512.bin", 512, (256, 512)),
    "aidreams260K": ModelSpec("aidreams260K", CHECKPOINTS / "aidreams260K.bin", CHECKPOINTS / "aidreams260K_tok512.bin", 128, (64, 128)),
    "books-llama-2.8M": ModelSpec("books-llama-2.8M", CHECKPOINTS / "books-llama-2.8M.bin", CHECKPOINTS / "tok512.bin", 256, (128, 256)),
}

TEXT_FILES = {
    "tinystories": TEXTS / "tinystories_valid_head.txt",
    "frankenstein": TEXTS / "pg84_frankenstein.txt",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def token_ids(tokenizer: Path, text: str) -> np.ndarray:
    """Return BOS + the token ids of a text (blank-line runs collapsed), cached under build/eval/tokens."""
    from rill.models.llama2c import load_tokenizer, read_text

    cache = BUILD / "tokens" / f"{tokenizer.stem}__{TEXT_FILES[text].stem}.npy"
    if cache.is_file():
        return np.load(cache).astype(np.int64)
    log(f"tokenizing {TEXT_FILES[text].name} with {tokenizer.name}")
    ids = np.array(load_tokenizer(tokenizer).encode(read_text(TEXT_FILES[text])), dtype=np.int32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, ids)
    return ids.astype(np.int64)


def find_tool(name: str) -> str | None:
    """Return the path of a Rill tool: $RILLC / $RILL_RUN, then PATH, then build*/bin, or None."""
    override = os.environ.get(name.upper().replace("-", "_"))
    if override:
        return override if os.access(override, os.X_OK) else None
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(REPO_ROOT.glob("build*/bin")):
        candidate = folder / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def rill_unavailable_reason() -> str | None:
    """Return why Rill rows cannot be produced here, or None when rillc and rill-run exist."""
    missing = [name for name in ("rillc", "rill-run") if find_tool(name) is None]
    if missing:
        return f"{' and '.join(missing)} not found (set $RILLC / $RILL_RUN or build the tools)"
    return None


def compile_with_rillc(onnx_path: Path, output: Path, timeout: float = 1200, extra_args: list[str] = ()) -> Path:
    """Compile an ONNX model with rillc into a shared library, unless a newer one is already there.

    Delete the library to pick up a new `rillc`: only the ONNX file's time stamp is compared.
    """
    if output.is_file() and output.stat().st_mtime > onnx_path.stat().st_mtime:
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    log(f"compiling {onnx_path} with rillc into {output}")
    completed = subprocess.run([find_tool("rillc"), str(onnx_path), "-o", str(output), *extra_args],
                               capture_output=True, text=True, timeout=timeout)
    if completed.returncode != 0:
        raise RuntimeError(f"rillc failed on {onnx_path}: {completed.stderr.strip()[-2000:]}")
    return output


def librill_path() -> Path | None:
    """Return librill.so: $RILL_LIBRARY, else the one next to the rillc in use (BUILD/lib), or None."""
    if os.environ.get("RILL_LIBRARY"):
        return Path(os.environ["RILL_LIBRARY"])
    rillc = find_tool("rillc")
    candidate = Path(rillc).resolve().parents[1] / "lib" / "librill.so" if rillc else None
    return candidate if candidate is not None and candidate.is_file() else None


def run_json(command: list[str], timeout: float | None = None, env: dict | None = None) -> dict:
    """Run a command that prints one JSON object on its last stdout line; raise with its stderr on failure."""
    completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                               env=None if env is None else {**os.environ, **env})
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} ... failed (exit {completed.returncode}): {completed.stderr.strip()[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def onnx_export(checkpoint: Path, max_positions: int) -> Path:
    """Export a checkpoint to the optimum-layout ONNX model with a cache, under build/eval/onnx."""
    from rill.export.llama2c_onnx import export_onnx
    from rill.models.llama2c import load_checkpoint

    path = BUILD / "onnx" / f"{checkpoint.stem}_p{max_positions}" / "model.onnx"
    if not path.is_file():
        log(f"exporting {checkpoint.name} to {path}")
        export_onnx(load_checkpoint(checkpoint), path, use_cache=True, max_positions=max_positions)
    return path


def write_json(path: Path, document) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n")
