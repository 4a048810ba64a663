# ===- tests/test_golden_streaming.py - Golden streaming logits in data/golden -=== #
"""Tests of the golden streaming files that `python3 -m rill.export.golden` writes.

They check each file's layout and parameters, that the stored tokens are the
tokenization of the evaluation text, and that the float64 streaming model still
produces the stored logits over a prefix that spans several evictions.
"""

from pathlib import Path

import numpy as np
import pytest

from rill.export import golden as golden_export
from rill.models.llama2c import Llama2cModel, load_checkpoint, streaming_logits

DATA = Path(__file__).resolve().parents[2] / "data"
GOLDEN_DIR = DATA / "golden"
CHECKPOINT = DATA / "checkpoints" / "stories260K.bin"
PREFIX = 160

CASES = [
    (policy, sinks, window, GOLDEN_DIR / golden_export.golden_file_name("stories260K", policy, sinks, window))
    for policy, sinks, window in golden_export.GOLDEN_POLICIES
]
CASE_IDS = [case[0] for case in CASES]


def load(path):
    with np.load(path) as data:
        return {name: data[name] for name in data.files}


@pytest.fixture(scope="module")
def model():
    return Llama2cModel(load_checkpoint(CHECKPOINT))


@pytest.fixture(scope="module")
def stream():
    return golden_export.stream_tokens(
        DATA / "checkpoints" / "tok512.bin", DATA / "text" / "tinystories_valid_head.txt", 2000
    )


@pytest.mark.parametrize("policy, sinks, window, path", CASES, ids=CASE_IDS)
def test_golden_layout(policy, sinks, window, path):
    golden = load(path)
    assert golden["logits"].dtype == np.float32
    assert golden["logits"].shape == (2000, 512)
    assert golden["tokens"].dtype == np.int64
    assert golden["tokens"].shape == (2000,)
    assert str(golden["policy"]) == policy
    assert int(golden["sinks"]) == sinks
    assert int(golden["window"]) == window
    assert int(golden["capacity"]) == (0 if policy == "dense" else 64)
    assert str(golden["checkpoint"]) == "stories260K.bin"


@pytest.mark.parametrize("policy, sinks, window, path", CASES, ids=CASE_IDS)
def test_golden_tokens_match_text(stream, policy, sinks, window, path):
    np.testing.assert_array_equal(load(path)["tokens"], stream)


@pytest.mark.parametrize("policy, sinks, window, path", CASES, ids=CASE_IDS)
def test_golden_prefix_reproduces(model, stream, policy, sinks, window, path):
    expected = streaming_logits(model, stream[:PREFIX], policy, sinks, window if policy != "dense" else None)
    stored = load(path)["logits"][:PREFIX]
    # Stored logits are float64 results rounded once to float32.
    np.testing.assert_allclose(stored, expected, rtol=1e-6, atol=1e-5)


def test_golden_policies_agree_until_cache_fills():
    logits = [load(path)["logits"] for *_, path in CASES]
    for other in logits[1:]:
        np.testing.assert_array_equal(other[:64], logits[0][:64])
        assert np.abs(other[64:] - logits[0][64:]).max() > 1e-2


def test_golden_total_size():
    total = sum(path.stat().st_size for *_, path in CASES)
    assert total < 20 * 1024 * 1024
