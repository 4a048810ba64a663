# ===- rill/runtime.py - ctypes binding of librill -------------------=== #
"""Python binding of librill, Rill's streaming runtime, through ctypes.

`Model` loads a library compiled by `rillc`, `Session` owns the fixed-size
key/value caches of one cache policy and feeds numpy token arrays through
the model, `Tokenizer` reads llama2.c `tokenizer.bin` and SentencePiece
`.model` files, and `read_token_file` reads token-id files. Every failure
raises `RillError`, which carries librill's status name and message.

librill is found at `$RILL_LIBRARY`, else at `lib/librill.so` under
`$RILL_BUILD_DIR`, else under the repository's `build/`.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import os
from pathlib import Path

import numpy as np

__all__ = [
    "POLICIES",
    "Metadata",
    "Model",
    "RillError",
    "Session",
    "SessionInfo",
    "Tokenizer",
    "find_library",
    "read_token_file",
]

POLICIES = ("default", "sinks", "window", "dense", "recompute")
_POLICY_IDS = {name: index for index, name in enumerate(POLICIES)}
_TOKENIZER_KINDS = {"auto": 0, "llama2c": 1, "sentencepiece": 2}
_TOKEN_FILE_FORMATS = {"text": 0, "int32": 1}

_ENCODE_BOS = 1
_ENCODE_EOS = 2
_ENCODE_NO_DUMMY_PREFIX = 4
_BUFFER_TOO_SMALL = 14


class RillError(RuntimeError):
    """A librill call failed; `status` is the rill_status name, e.g. "ERROR_CAPACITY"."""

    def __init__(self, status: str, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class _TensorInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("dtype", ctypes.c_int32),
        ("rank", ctypes.c_int32),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
    ]


class _Metadata(ctypes.Structure):
    _fields_ = [
        ("abi_version", ctypes.c_uint32),
        ("model_name", ctypes.c_char_p),
        ("source_file", ctypes.c_char_p),
        ("is_streaming", ctypes.c_int32),
        ("vocab_size", ctypes.c_int64),
        ("num_layers", ctypes.c_int64),
        ("num_kv_heads", ctypes.c_int64),
        ("head_dim", ctypes.c_int64),
        ("value_dim", ctypes.c_int64),
        ("max_capacity", ctypes.c_int64),
        ("max_chunk", ctypes.c_int64),
        ("default_sinks", ctypes.c_int64),
        ("default_capacity", ctypes.c_int64),
        ("trained_length", ctypes.c_int64),
        ("mask_pattern", ctypes.c_char_p),
        ("position_policy", ctypes.c_char_p),
        ("default_policy", ctypes.c_char_p),
        ("num_inputs", ctypes.c_int32),
        ("inputs", ctypes.POINTER(_TensorInfo)),
        ("num_outputs", ctypes.c_int32),
        ("outputs", ctypes.POINTER(_TensorInfo)),
    ]


class _SessionOptions(ctypes.Structure):
    _fields_ = [
        ("policy", ctypes.c_int32),
        ("threads", ctypes.c_int32),
        ("sinks", ctypes.c_int64),
        ("capacity", ctypes.c_int64),
        ("batch", ctypes.c_int64),
        ("step_chunk", ctypes.c_int64),
    ]


class _SessionInfo(ctypes.Structure):
    _fields_ = [
        ("policy", ctypes.c_int32),
        ("threads", ctypes.c_int32),
        ("sinks", ctypes.c_int64),
        ("capacity", ctypes.c_int64),
        ("window", ctypes.c_int64),
        ("batch", ctypes.c_int64),
        ("step_chunk", ctypes.c_int64),
        ("vocab_size", ctypes.c_int64),
        ("memory_bytes", ctypes.c_size_t),
    ]


@dataclasses.dataclass(frozen=True)
class Metadata:
    """Metadata that a compiled model library declares (rill_model_metadata)."""

    abi_version: int
    model_name: str
    source_file: str
    is_streaming: bool
    vocab_size: int
    num_layers: int
    num_kv_heads: int
    head_dim: int
    value_dim: int
    max_capacity: int
    max_chunk: int
    default_sinks: int
    default_capacity: int
    trained_length: int
    mask_pattern: str
    position_policy: str
    default_policy: str


@dataclasses.dataclass(frozen=True)
class SessionInfo:
    """A session's resolved cache geometry and memory (rill_session_info)."""

    policy: str
    threads: int
    sinks: int
    capacity: int
    window: int
    batch: int
    step_chunk: int
    vocab_size: int
    memory_bytes: int


def find_library() -> Path:
    """Return the path of librill.so, or raise FileNotFoundError naming the places searched."""
    candidates = []
    if os.environ.get("RILL_LIBRARY"):
        candidates.append(Path(os.environ["RILL_LIBRARY"]))
    if os.environ.get("RILL_BUILD_DIR"):
        candidates.append(Path(os.environ["RILL_BUILD_DIR"]) / "lib" / "librill.so")
    candidates.append(Path(__file__).resolve().parents[2] / "build" / "lib" / "librill.so")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"librill.so not found (searched {searched}); build it with ninja, or set "
        "RILL_LIBRARY to the file or RILL_BUILD_DIR to the build folder"
    )


def _declare(lib: ctypes.CDLL) -> None:
    """Set argument and result types of the C API functions the binding calls."""
    p, i32, i64, u32, size = ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64, ctypes.c_uint32, ctypes.c_size_t
    error_out = ctypes.POINTER(ctypes.c_void_p)
    signatures = {
        "rill_error_status": (i32, [p]),
        "rill_error_message": (ctypes.c_char_p, [p]),
        "rill_error_free": (None, [p]),
        "rill_status_name": (ctypes.c_char_p, [i32]),
        "rill_free": (None, [p]),
        "rill_model_load": (i32, [ctypes.c_char_p, ctypes.POINTER(p), error_out]),
        "rill_model_free": (None, [p]),
        "rill_model_get_metadata": (ctypes.POINTER(_Metadata), [p]),
        "rill_policy_name": (ctypes.c_char_p, [i32]),
        "rill_session_options_init": (None, [ctypes.POINTER(_SessionOptions)]),
        "rill_session_create": (i32, [p, ctypes.POINTER(_SessionOptions), ctypes.POINTER(p), error_out]),
        "rill_session_free": (None, [p]),
        "rill_session_get_info": (None, [p, ctypes.POINTER(_SessionInfo)]),
        "rill_session_feed": (i32, [p, p, i64, i64, p, error_out]),
        "rill_session_reset": (i32, [p, i64, error_out]),
        "rill_session_positions": (None, [p, p]),
        "rill_session_memory": (size, [p]),
        "rill_tokenizer_load": (i32, [ctypes.c_char_p, i32, ctypes.POINTER(p), error_out]),
        "rill_tokenizer_free": (None, [p]),
        "rill_tokenizer_get_kind": (i32, [p]),
        "rill_tokenizer_vocab_size": (i64, [p]),
        "rill_tokenizer_bos": (i32, [p]),
        "rill_tokenizer_eos": (i32, [p]),
        "rill_tokenizer_encode": (i32, [p, ctypes.c_char_p, size, u32, p, i64, ctypes.POINTER(i64), error_out]),
        "rill_tokenizer_decode": (i32, [p, i32, p, i64, p, size, ctypes.POINTER(size), error_out]),
        "rill_token_file_read": (i32, [ctypes.c_char_p, i32, ctypes.POINTER(p), ctypes.POINTER(i64), error_out]),
    }
    for name, (result, arguments) in signatures.items():
        function = getattr(lib, name)
        function.restype = result
        function.argtypes = arguments


@functools.lru_cache(maxsize=None)
def _library(path: str | None = None) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path or find_library()))
    _declare(lib)
    return lib


def _check(lib: ctypes.CDLL, status: int, error: ctypes.c_void_p) -> None:
    """Raise RillError for a failed call and free its rill_error."""
    if status == 0:
        return
    name = lib.rill_status_name(status).decode()
    message = lib.rill_error_message(error).decode("utf-8", "replace") if error else ""
    if error:
        lib.rill_error_free(error)
    raise RillError(name, message)


def _text(value: bytes | None) -> str:
    return value.decode("utf-8", "replace") if value else ""


class Model:
    """A compiled model library; usable as a context manager."""

    def __init__(self, path: str | os.PathLike, library: str | os.PathLike | None = None):
        self._lib = _library(str(library) if library else None)
        self._handle = ctypes.c_void_p()
        error = ctypes.c_void_p()
        status = self._lib.rill_model_load(os.fsencode(path), ctypes.byref(self._handle), ctypes.byref(error))
        _check(self._lib, status, error)
        self.path = Path(path)

    @property
    def metadata(self) -> Metadata:
        raw = self._lib.rill_model_get_metadata(self._require()).contents
        return Metadata(
            abi_version=raw.abi_version,
            model_name=_text(raw.model_name),
            source_file=_text(raw.source_file),
            is_streaming=bool(raw.is_streaming),
            vocab_size=raw.vocab_size,
            num_layers=raw.num_layers,
            num_kv_heads=raw.num_kv_heads,
            head_dim=raw.head_dim,
            value_dim=raw.value_dim,
            max_capacity=raw.max_capacity,
            max_chunk=raw.max_chunk,
            default_sinks=raw.default_sinks,
            default_capacity=raw.default_capacity,
            trained_length=raw.trained_length,
            mask_pattern=_text(raw.mask_pattern),
            position_policy=_text(raw.position_policy),
            default_policy=_text(raw.default_policy),
        )

    def _require(self) -> ctypes.c_void_p:
        if not self._handle:
            raise ValueError(f"model {self.path} is closed")
        return self._handle

    def close(self) -> None:
        """Release this reference; open sessions keep the library loaded."""
        if self._handle:
            self._lib.rill_model_free(self._handle)
            self._handle = ctypes.c_void_p()

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_handle", None):
            self.close()


class Session:
    """A streaming session: `batch` streams with their own caches and positions.

    `policy` is one of POLICIES; `sinks` -1 and `capacity` 0 take the model's
    defaults (see docs/runtime.md). A session must not be fed from two
    threads at once; separate sessions may run in parallel.
    """

    def __init__(self, model: Model, policy: str = "default", sinks: int = -1, capacity: int = 0,
                 batch: int = 1, threads: int = 0, step_chunk: int = 0):
        if policy not in _POLICY_IDS:
            raise ValueError(f"unknown policy {policy!r} (expected one of: {', '.join(POLICIES)})")
        self._lib = model._lib
        self.model = model
        options = _SessionOptions()
        self._lib.rill_session_options_init(ctypes.byref(options))
        options.policy = _POLICY_IDS[policy]
        options.sinks, options.capacity, options.batch = sinks, capacity, batch
        options.threads, options.step_chunk = threads, step_chunk

        self._handle = ctypes.c_void_p()
        error = ctypes.c_void_p()
        status = self._lib.rill_session_create(model._require(), ctypes.byref(options),
                                               ctypes.byref(self._handle), ctypes.byref(error))
        _check(self._lib, status, error)
        self.info = self._read_info()

    def _read_info(self) -> SessionInfo:
        raw = _SessionInfo()
        self._lib.rill_session_get_info(self._handle, ctypes.byref(raw))
        return SessionInfo(
            policy=_text(self._lib.rill_policy_name(raw.policy)),
            threads=raw.threads, sinks=raw.sinks, capacity=raw.capacity, window=raw.window,
            batch=raw.batch, step_chunk=raw.step_chunk, vocab_size=raw.vocab_size,
            memory_bytes=raw.memory_bytes,
        )

    def feed(self, tokens, logits: bool = True) -> np.ndarray | None:
        """Feed token ids and return float32 logits.

        `tokens` is [batch, chunk], or [chunk] for a batch of 1; the logits
        have the same leading shape plus the vocabulary. With `logits=False`
        the stream advances and nothing is returned.
        """
        array = np.asarray(tokens)
        if array.ndim == 1 and self.info.batch == 1:
            array = array[None, :]
            squeeze = True
        elif array.ndim == 2:
            squeeze = False
        else:
            raise ValueError(f"tokens must be [batch, chunk] or [chunk] for batch 1 (got shape {array.shape})")
        if not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"tokens must be integers (got {array.dtype})")
        if array.size and (array.min() < np.iinfo(np.int32).min or array.max() > np.iinfo(np.int32).max):
            raise RillError("ERROR_TOKEN_OUT_OF_RANGE", "a token id does not fit in int32")
        ids = np.ascontiguousarray(array, dtype=np.int32)

        batch, chunk = ids.shape
        out = np.empty((batch, chunk, self.info.vocab_size), dtype=np.float32) if logits else None
        error = ctypes.c_void_p()
        status = self._lib.rill_session_feed(
            self._require(), ids.ctypes.data, batch, chunk,
            out.ctypes.data if out is not None else None, ctypes.byref(error))
        _check(self._lib, status, error)
        if out is None:
            return None
        return out[0] if squeeze else out

    def reset(self, sequence: int | None = None) -> None:
        """Restart one sequence of the batch at position 0, or all when `sequence` is None."""
        error = ctypes.c_void_p()
        status = self._lib.rill_session_reset(self._require(), -1 if sequence is None else sequence,
                                              ctypes.byref(error))
        _check(self._lib, status, error)

    @property
    def positions(self) -> np.ndarray:
        """Stream position (tokens seen) of each sequence, int64 [batch]."""
        out = np.zeros(self.info.batch, dtype=np.int64)
        self._lib.rill_session_positions(self._require(), out.ctypes.data)
        return out

    @property
    def memory(self) -> int:
        """Bytes held in caches and scratch buffers; constant for the session's life."""
        return int(self._lib.rill_session_memory(self._require()))

    def _require(self) -> ctypes.c_void_p:
        if not self._handle:
            raise ValueError("session is closed")
        return self._handle

    def close(self) -> None:
        if self._handle:
            self._lib.rill_session_free(self._handle)
            self._handle = ctypes.c_void_p()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_handle", None):
            self.close()


class Tokenizer:
    """A llama2.c or SentencePiece tokenizer loaded by librill."""

    def __init__(self, path: str | os.PathLike, kind: str = "auto", library: str | os.PathLike | None = None):
        if kind not in _TOKENIZER_KINDS:
            raise ValueError(f"unknown tokenizer kind {kind!r} (expected one of: {', '.join(_TOKENIZER_KINDS)})")
        self._lib = _library(str(library) if library else None)
        self._handle = ctypes.c_void_p()
        error = ctypes.c_void_p()
        status = self._lib.rill_tokenizer_load(os.fsencode(path), _TOKENIZER_KINDS[kind],
                                               ctypes.byref(self._handle), ctypes.byref(error))
        _check(self._lib, status, error)
        self.path = Path(path)

    @property
    def kind(self) -> str:
        return {1: "llama2c", 2: "sentencepiece"}[self._lib.rill_tokenizer_get_kind(self._handle)]

    @property
    def vocab_size(self) -> int:
        return int(self._lib.rill_tokenizer_vocab_size(self._handle))

    @property
    def bos(self) -> int:
        return int(self._lib.rill_tokenizer_bos(self._handle))

    @property
    def eos(self) -> int:
        return int(self._lib.rill_tokenizer_eos(self._handle))

    def encode(self, text: str | bytes, bos: bool = True, eos: bool = False, dummy_prefix: bool = True) -> list[int]:
        """Encode text (str is UTF-8 encoded) into token ids."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        flags = 0
        if bos:
            flags |= _ENCODE_BOS
        if eos:
            flags |= _ENCODE_EOS
        if not dummy_prefix:
            flags |= _ENCODE_NO_DUMMY_PREFIX
        capacity = len(data) + 3
        while True:
            out = np.empty(max(capacity, 1), dtype=np.int32)
            count = ctypes.c_int64()
            error = ctypes.c_void_p()
            status = self._lib.rill_tokenizer_encode(self._handle, data, len(data), flags, out.ctypes.data,
                                                     capacity, ctypes.byref(count), ctypes.byref(error))
            if status == _BUFFER_TOO_SMALL:
                self._lib.rill_error_free(error)
                capacity = count.value
                continue
            _check(self._lib, status, error)
            return out[: count.value].tolist()

    def decode_bytes(self, ids, previous: int = -1) -> bytes:
        """Decode ids that follow `previous` (-1: the start of a text) to bytes."""
        array = np.ascontiguousarray(np.asarray(ids, dtype=np.int64), dtype=np.int32)
        capacity = 8 * len(array) + 16
        while True:
            out = ctypes.create_string_buffer(capacity)
            length = ctypes.c_size_t()
            error = ctypes.c_void_p()
            status = self._lib.rill_tokenizer_decode(self._handle, previous, array.ctypes.data, len(array),
                                                     out, capacity, ctypes.byref(length), ctypes.byref(error))
            if status == _BUFFER_TOO_SMALL:
                self._lib.rill_error_free(error)
                capacity = length.value
                continue
            _check(self._lib, status, error)
            return out.raw[: length.value]

    def decode(self, ids, previous: int = -1, errors: str = "replace") -> str:
        """Decode ids to text, treating invalid UTF-8 as `bytes.decode` does with `errors`."""
        return self.decode_bytes(ids, previous).decode("utf-8", errors=errors)

    def close(self) -> None:
        if self._handle:
            self._lib.rill_tokenizer_free(self._handle)
            self._handle = ctypes.c_void_p()

    def __del__(self) -> None:
        if getattr(self, "_handle", None):
            self.close()


def read_token_file(path: str | os.PathLike, format: str = "text",
                    library: str | os.PathLike | None = None) -> np.ndarray:
    """Read a token-id file: "text" (decimal ids and whitespace) or "int32" (little-endian)."""
    if format not in _TOKEN_FILE_FORMATS:
        raise ValueError(f"unknown token file format {format!r} (expected text or int32)")
    lib = _library(str(library) if library else None)
    pointer = ctypes.c_void_p()
    count = ctypes.c_int64()
    error = ctypes.c_void_p()
    status = lib.rill_token_file_read(os.fsencode(path), _TOKEN_FILE_FORMATS[format], ctypes.byref(pointer),
                                      ctypes.byref(count), ctypes.byref(error))
    _check(lib, status, error)
    try:
        view = ctypes.cast(pointer, ctypes.POINTER(ctypes.c_int32))
        return np.ctypeslib.as_array(view, shape=(count.value,)).copy() if count.value else np.zeros(0, np.int32)
    finally:
        lib.rill_free(pointer)
