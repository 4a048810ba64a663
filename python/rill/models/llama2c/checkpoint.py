# ===- rill/models/llama2c/checkpoint.py - llama2.c checkpoint readers === #
"""Readers for llama2.c model checkpoints.

Two on-disk formats exist. The legacy format is a 7-int32 header followed by
float32 tensors. The "version 2" format starts with the magic 0x616b3432 ("ak42"),
pads its header to 256 bytes, stores the RMSNorm weights as float32 and every
matrix as Q8_0 (int8 values followed by one float32 scale per group of
`group_size` values). Both load into the same `Weights`, with int8 matrices
dequantised to float32; the raw int8 data stays available in `Checkpoint.q8`.
"""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import numpy as np

Q8_MAGIC = 0x616B3432
Q8_VERSION = 2
Q8_HEADER_BYTES = 256


@dataclasses.dataclass(frozen=True)
class Config:
    """Model hyperparameters from a llama2.c checkpoint header."""

    dim: int
    hidden_dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    vocab_size: int
    seq_len: int
    shared_classifier: bool

    @property
    def head_size(self) -> int:
        return self.dim // self.n_heads

    @property
    def kv_dim(self) -> int:
        return self.head_size * self.n_kv_heads

    def validate(self, path: Path) -> None:
        """Raise ValueError if the header cannot describe a llama2.c model."""
        fields = dataclasses.asdict(self)
        for name in ("dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"):
            if fields[name] <= 0:
                raise ValueError(f"{path}: invalid checkpoint header, {name} = {fields[name]} (expected > 0)")
        if self.dim % self.n_heads != 0:
            raise ValueError(f"{path}: dim {self.dim} is not a multiple of n_heads {self.n_heads}")
        if self.n_heads % self.n_kv_heads != 0:
            raise ValueError(f"{path}: n_heads {self.n_heads} is not a multiple of n_kv_heads {self.n_kv_heads}")
        if self.head_size % 2 != 0:
            raise ValueError(f"{path}: head size {self.head_size} is odd, but RoPE needs pairs")


@dataclasses.dataclass
class Weights:
    """Float32 model weights, laid out as in llama2.c (matrices are [out, in])."""

    token_embedding: np.ndarray  # [vocab, dim]
    rms_att: np.ndarray  # [layers, dim]
    wq: np.ndarray  # [layers, dim, dim]
    wk: np.ndarray  # [layers, kv_dim, dim]
    wv: np.ndarray  # [layers, kv_dim, dim]
    wo: np.ndarray  # [layers, dim, dim]
    rms_ffn: np.ndarray  # [layers, dim]
    w1: np.ndarray  # [layers, hidden, dim]
    w2: np.ndarray  # [layers, dim, hidden]
    w3: np.ndarray  # [layers, hidden, dim]
    rms_final: np.ndarray  # [dim]
    wcls: np.ndarray  # [vocab, dim]; the same array as token_embedding when shared


@dataclasses.dataclass
class Q8Tensor:
    """One Q8_0 tensor: int8 values and a float32 scale per group along the last axis."""

    values: np.ndarray  # int8, the tensor's shape
    scales: np.ndarray  # float32, shape[:-1] + (shape[-1] // group_size,)
    group_size: int

    def dequantize(self) -> np.ndarray:
        shape = self.values.shape
        grouped = self.values.reshape(*shape[:-1], shape[-1] // self.group_size, self.group_size)
        return (grouped.astype(np.float32) * self.scales[..., None]).reshape(shape)


@dataclasses.dataclass
class Checkpoint:
    """A loaded checkpoint: its config, float32 weights and, for int8 files, the raw Q8 tensors."""

    config: Config
    weights: Weights
    path: Path
    q8: dict[str, Q8Tensor] | None = None
    group_size: int | None = None


def _matrix_shapes(config: Config) -> dict[str, tuple[int, ...]]:
    """Return the shape of every matrix in file order (the norms are stored apart)."""
    c = config
    return {
        "token_embedding": (c.vocab_size, c.dim),
        "wq": (c.n_layers, c.dim, c.dim),
        "wk": (c.n_layers, c.kv_dim, c.dim),
        "wv": (c.n_layers, c.kv_dim, c.dim),
        "wo": (c.n_layers, c.dim, c.dim),
        "w1": (c.n_layers, c.hidden_dim, c.dim),
        "w2": (c.n_layers, c.dim, c.hidden_dim),
        "w3": (c.n_layers, c.hidden_dim, c.dim),
    }


class _Reader:
    """Sequential reader over a checkpoint's bytes with bounds checks."""

    def __init__(self, data: bytes, path: Path, offset: int = 0):
        self.data = data
        self.path = path
        self.offset = offset

    def take(self, dtype: type, count: int) -> np.ndarray:
        nbytes = np.dtype(dtype).itemsize * count
        if self.offset + nbytes > len(self.data):
            raise ValueError(
                f"{self.path}: file is truncated: expected {nbytes} more bytes at offset "
                f"{self.offset}, but the file has {len(self.data)} bytes"
            )
        array = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.offset)
        self.offset += nbytes
        return array

    def take_f32(self, shape: tuple[int, ...]) -> np.ndarray:
        return self.take(np.float32, int(np.prod(shape))).reshape(shape).copy()


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load a llama2.c checkpoint, detecting the format from its first four bytes."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) < 28:
        raise ValueError(f"{path}: file has {len(data)} bytes, too short for a llama2.c header")

    (magic,) = struct.unpack_from("<I", data, 0)
    if magic == Q8_MAGIC:
        return _load_q8(data, path)
    return _load_fp32(data, path)


def _load_fp32(data: bytes, path: Path) -> Checkpoint:
    dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack_from("<7i", data, 0)

    # A negative vocabulary size marks a checkpoint with its own classifier matrix.
    config = Config(dim, hidden, layers, heads, kv_heads, abs(vocab), seq_len, shared_classifier=vocab > 0)
    config.validate(path)
    reader = _Reader(data, path, offset=28)
    shapes = _matrix_shapes(config)

    token_embedding = reader.take_f32(shapes["token_embedding"])
    rms_att = reader.take_f32((layers, dim))
    wq = reader.take_f32(shapes["wq"])
    wk = reader.take_f32(shapes["wk"])
    wv = reader.take_f32(shapes["wv"])
    wo = reader.take_f32(shapes["wo"])
    rms_ffn = reader.take_f32((layers, dim))
    w1 = reader.take_f32(shapes["w1"])
    w2 = reader.take_f32(shapes["w2"])
    w3 = reader.take_f32(shapes["w3"])
    rms_final = reader.take_f32((dim,))

    # Legacy files still carry the RoPE tables freq_cis_real and freq_cis_imag,
    # [seq_len, head_size / 2] each; the model recomputes them, so skip both.
    reader.take(np.float32, 2 * seq_len * (config.head_size // 2))
    wcls = token_embedding if config.shared_classifier else reader.take_f32((config.vocab_size, dim))
    if reader.offset != len(data):
        raise ValueError(f"{path}: {len(data) - reader.offset} unexpected bytes after the last tensor")

    weights = Weights(token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, wcls)
    return Checkpoint(config, weights, path)


def _load_q8(data: bytes, path: Path) -> Checkpoint:
    (version,) = struct.unpack_from("<i", data, 4)
    if version != Q8_VERSION:
        raise ValueError(f"{path}: int8 checkpoint version {version} is not supported (expected {Q8_VERSION})")
    dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack_from("<7i", data, 8)
    shared = data[36] != 0
    (group_size,) = struct.unpack_from("<i", data, 37)

    config = Config(dim, hidden, layers, heads, kv_heads, vocab, seq_len, shared_classifier=shared)
    config.validate(path)
    if group_size <= 0:
        raise ValueError(f"{path}: invalid group size {group_size} (expected > 0)")
    reader = _Reader(data, path, offset=Q8_HEADER_BYTES)

    rms_att = reader.take_f32((layers, dim))
    rms_ffn = reader.take_f32((layers, dim))
    rms_final = reader.take_f32((dim,))

    shapes = _matrix_shapes(config)
    if not shared:
        shapes["wcls"] = (vocab, dim)
    q8 = {name: _read_q8(reader, shape, group_size) for name, shape in shapes.items()}
    if reader.offset != len(data):
        raise ValueError(f"{path}: {len(data) - reader.offset} unexpected bytes after the last tensor")

    dense = {name: tensor.dequantize() for name, tensor in q8.items()}
    wcls = dense["token_embedding"] if shared else dense["wcls"]
    weights = Weights(
        dense["token_embedding"], rms_att, dense["wq"], dense["wk"], dense["wv"], dense["wo"],
        rms_ffn, dense["w1"], dense["w2"], dense["w3"], rms_final, wcls,
    )
    return Checkpoint(config, weights, path, q8=q8, group_size=group_size)


def _read_q8(reader: _Reader, shape: tuple[int, ...], group_size: int) -> Q8Tensor:
    """Read a Q8_0 tensor; per-layer matrices are stored one layer at a time, each as values then scales."""
    per_layer = shape if len(shape) == 2 else shape[1:]
    n_layers = 1 if len(shape) == 2 else shape[0]
    count = int(np.prod(per_layer))
    if count % group_size != 0:
        raise ValueError(f"{reader.path}: tensor of {count} values is not a multiple of group size {group_size}")

    values, scales = [], []
    for _ in range(n_layers):
        values.append(reader.take(np.int8, count).reshape(per_layer))
        scales.append(reader.take(np.float32, count // group_size).reshape(*per_layer[:-1], -1))
    if len(shape) == 2:
        return Q8Tensor(values[0].copy(), scales[0].copy(), group_size)
    return Q8Tensor(np.stack(values), np.stack(scales), group_size)
