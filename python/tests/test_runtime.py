# ===- tests/test_runtime.py - librill through the ctypes binding ----=== #
"""Tests of `rill.runtime` on the librill test fixture library.

The fixture (unittests/Runtime/FixtureModel.cpp) implements the model ABI in
plain C++ and writes into the first logits of each query what it saw: the
count, sum and extremes of the visible stream positions and the sum of their
token ids. These tests compare that against `rill.reference.streaming`'s
step plans, an implementation of the policies written independently of
librill, and check errors, batching, resets and memory through the binding.
The tests are skipped when librill or the fixture is not built.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from rill.reference.streaming import step_plan

runtime = pytest.importorskip("rill.runtime")

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RILL_BUILD_DIR", ROOT / "build"))
FIXTURE = BUILD / "lib" / "librill_fixture_model.so"
VOCAB = 512


def _library_available() -> bool:
    try:
        runtime.find_library()
    except FileNotFoundError:
        return False
    return FIXTURE.is_file()


pytestmark = pytest.mark.skipif(not _library_available(),
                                reason=f"librill or its test fixture is not built under {BUILD}")


def fixture(variant: str = "") -> Path:
    return BUILD / "lib" / (f"librill_fixture_model_{variant}.so" if variant else "librill_fixture_model.so")


def probe(row: np.ndarray) -> dict[str, int]:
    """Decode the fixture's probe logits, each stored as -(1 + value)."""
    values = np.rint(-row[:7].astype(np.float64) - 1).astype(np.int64)
    names = ("count", "sum_positions", "sum_tokens", "query", "sinks_seen", "min_position", "max_position")
    return dict(zip(names, values.tolist()))


def expected_probe(policy: str, sinks: int, capacity: int, t: int, stream: list[int]) -> dict[str, int]:
    """The probe that `rill.reference.streaming.step_plan` predicts for token t."""
    window = capacity - sinks if policy == "sinks" else capacity
    plan = step_plan(policy, t, sinks, window)
    # Recompute re-encodes the window at positions 0..len-1; the cached
    # policies keep keys at their stream positions.
    positions = list(plan.positions) if policy == "recompute" else list(plan.tokens)
    kept_sinks = sinks if policy == "sinks" else 0
    return {
        "count": len(plan.tokens),
        "sum_positions": sum(positions),
        "sum_tokens": sum(stream[p] for p in plan.tokens),
        "query": positions[-1],
        "sinks_seen": sum(1 for p in positions if p < kept_sinks),
        "min_position": min(positions),
        "max_position": max(positions),
    }


def make_stream(length: int, seed: int) -> list[int]:
    return np.random.default_rng(seed).integers(10, VOCAB - 10, size=length).tolist()


@pytest.fixture(scope="module")
def model():
    with runtime.Model(FIXTURE) as loaded:
        yield loaded


def test_metadata(model):
    meta = model.metadata
    assert meta.is_streaming
    assert meta.vocab_size == VOCAB
    assert (meta.default_sinks, meta.default_capacity, meta.max_capacity) == (4, 64, 1024)
    assert meta.default_policy == "sinks"
    assert meta.mask_pattern == "sinks(4)|window(60)"


@pytest.mark.parametrize("policy, capacity, sinks, chunk", [
    ("sinks", 16, 4, 1),
    ("sinks", 16, 4, 6),
    ("sinks", 10, 1, 25),
    ("window", 16, -1, 1),
    ("window", 16, -1, 9),
    ("dense", 48, -1, 5),
    ("recompute", 12, -1, 1),
    ("recompute", 12, -1, 7),
])
def test_policy_matches_reference_plan(model, policy, capacity, sinks, chunk):
    session = runtime.Session(model, policy=policy, capacity=capacity, sinks=sinks)
    used_sinks = session.info.sinks
    length = capacity if policy == "dense" else 3 * capacity + 4
    stream = make_stream(length, seed=capacity + chunk)
    for start in range(0, length, chunk):
        tokens = np.array(stream[start:start + chunk], dtype=np.int64)
        logits = session.feed(tokens)
        assert logits.shape == (len(tokens), VOCAB)
        for j in range(len(tokens)):
            t = start + j
            assert probe(logits[j]) == expected_probe(policy, used_sinks, capacity, t, stream), f"token {t}"
    assert session.positions.tolist() == [length]


def test_batch_reset_keeps_sequences_apart(model):
    session = runtime.Session(model, policy="sinks", capacity=12, sinks=2, batch=2)
    streams: list[list[int]] = [[], []]
    source = make_stream(200, seed=5)
    cursor = 0
    for step in range(10):
        if step == 4:
            session.reset(0)
            streams[0] = []
        tokens = np.array(source[cursor:cursor + 6], dtype=np.int32).reshape(2, 3)
        cursor += 6
        logits = session.feed(tokens)
        assert logits.shape == (2, 3, VOCAB)
        for b in range(2):
            streams[b].extend(tokens[b].tolist())
            for j in range(3):
                t = len(streams[b]) - 3 + j
                assert probe(logits[b, j]) == expected_probe("sinks", 2, 12, t, streams[b]), (b, t)
    assert session.positions.tolist() == [len(streams[0]), len(streams[1])]
    session.reset()
    assert session.positions.tolist() == [0, 0]


def test_token_out_of_range(model):
    session = runtime.Session(model)
    with pytest.raises(runtime.RillError) as raised:
        session.feed(np.array([3, VOCAB]))
    assert raised.value.status == "ERROR_TOKEN_OUT_OF_RANGE"
    assert "vocab_size = 512" in raised.value.message
    assert session.positions.tolist() == [0]


def test_capacity_above_maximum(model):
    with pytest.raises(runtime.RillError) as raised:
        runtime.Session(model, capacity=4096)
    assert raised.value.status == "ERROR_CAPACITY"
    assert "capacity = 4096" in raised.value.message
    assert "1024" in raised.value.message


def test_dense_stream_full(model):
    session = runtime.Session(model, policy="dense", capacity=8)
    session.feed(np.arange(10, 18), logits=False)
    with pytest.raises(runtime.RillError) as raised:
        session.feed(np.array([20]))
    assert raised.value.status == "ERROR_STREAM_FULL"
    assert session.positions.tolist() == [8]


def test_bad_shapes_rejected(model):
    session = runtime.Session(model, batch=2)
    with pytest.raises(ValueError):
        session.feed(np.array([1, 2, 3]))
    with pytest.raises(runtime.RillError) as raised:
        session.feed(np.zeros((3, 2), dtype=np.int32))
    assert raised.value.status == "ERROR_CHUNK"
    with pytest.raises(TypeError):
        session.feed(np.zeros((2, 2), dtype=np.float32))


def test_memory_flat(model):
    session = runtime.Session(model, policy="sinks", capacity=64)
    before = session.memory
    session.feed(np.array(make_stream(5000, seed=1)), logits=False)
    assert session.memory == before
    assert session.info.memory_bytes == before


def test_abi_mismatch():
    with pytest.raises(runtime.RillError) as raised:
        runtime.Model(fixture("abi999"))
    assert raised.value.status == "ERROR_ABI_MISMATCH"
    assert "librill_fixture_model_abi999.so" in raised.value.message


def test_missing_file():
    with pytest.raises(runtime.RillError) as raised:
        runtime.Model("/nonexistent/model.so")
    assert raised.value.status == "ERROR_NOT_FOUND"


def test_unknown_policy(model):
    with pytest.raises(ValueError, match="unknown policy"):
        runtime.Session(model, policy="sink")


def test_token_file_formats(tmp_path):
    text = tmp_path / "ids.txt"
    text.write_text("1 2\n3\n")
    assert runtime.read_token_file(text).tolist() == [1, 2, 3]
    binary = tmp_path / "ids.bin"
    np.array([7, -1, 70000], dtype="<i4").tofile(binary)
    assert runtime.read_token_file(binary, format="int32").tolist() == [7, -1, 70000]
    text.write_text("1 two")
    with pytest.raises(runtime.RillError) as raised:
        runtime.read_token_file(text)
    assert raised.value.status == "ERROR_INVALID_FILE"
