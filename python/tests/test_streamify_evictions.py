# ===- tests/test_streamify_evictions.py - Streaming after 10^5 evictions -=== #
"""The streamified stories260K, lowered by the reference pipeline, after
more than 10^5 cache evictions.

`rillc --pipeline=reference --mask 'sinks(4)|window(60)'` compiles the
streaming step with scalar loops. One `rill.runtime` session per policy
(sinks, and window, both capacity 64) streams 100,040 tokens of the held-out TinyStories text, so
99,976 tokens are evicted from the ring buffer and the window slots wrap
about 1,660 times. The bulk goes in chunks of 64. The last 8 tokens go one
at a time, and their logits must match the float64 numpy reference within
1e-4, the tolerance of the golden streams.

The reference cannot replay 10^5 tokens in a test, and does not need to.
Under the sinks policy the logits at a step depend only on the sink tokens
and on the last `n_layers * (window - 1)` tokens (the window policy is the
case without sinks), so
`rill.streaming_tail.sinks_tail_logits` replays those and returns the full
replay's logits bit for bit (see that module; test_runtime_long_stream.py
checks the shortcut against a full replay).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from rill.models.llama2c import load_checkpoint, load_tokenizer
from rill.models.llama2c.model import Llama2cModel
from rill.perplexity import read_text
from rill.models.llama2c.streaming import streaming_logits
from rill.streaming_tail import replay_positions, sinks_tail_logits

runtime = pytest.importorskip("rill.runtime")

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RILL_BUILD_DIR", ROOT / "build"))
RILLC = BUILD / "bin" / "rillc"
ONNX = ROOT / "data" / "onnx" / "stories260K" / "model.onnx"
CHECKPOINT = ROOT / "data" / "checkpoints" / "stories260K.bin"
TOKENIZER = ROOT / "data" / "checkpoints" / "tok512.bin"
TEXT = ROOT / "data" / "text" / "tinystories_valid_head.txt"

SINKS, WINDOW = 4, 60
CAPACITY = SINKS + WINDOW
BULK_TOKENS = 100_032  # a multiple of the bulk chunk
BULK_CHUNK = 64
LAST_TOKENS = 8
TOTAL_TOKENS = BULK_TOKENS + LAST_TOKENS
# The tolerance of the golden streaming tests of the streamified model.
LOGITS_TOLERANCE = 1e-4


def _built() -> bool:
    try:
        runtime.find_library()
    except FileNotFoundError:
        return False
    return RILLC.is_file()


pytestmark = pytest.mark.skipif(not _built(), reason=f"librill or rillc is not built under {BUILD}")


@pytest.fixture(scope="module")
def stream() -> np.ndarray:
    """BOS and the text's token ids, repeated without BOS up to TOTAL_TOKENS."""
    text = read_text(TEXT)
    prefix = text[:text.index("\n", 40_000) + 1]
    ids = np.array(load_tokenizer(TOKENIZER).encode(prefix), dtype=np.int64)
    body = ids[1:]
    positions = np.arange(TOTAL_TOKENS)
    return np.where(positions == 0, ids[0], body[(positions - 1) % len(body)])


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("evictions") / "stories260K_reference.so"
    result = subprocess.run([str(RILLC), str(ONNX), "--pipeline=reference", "--mask", f"sinks({SINKS})|window({WINDOW})",
                             "-o", str(output)], capture_output=True, text=True)
    assert result.returncode == 0, f"rillc failed on {ONNX}: {result.stderr[-2000:]}"
    return output


@pytest.mark.parametrize("policy", ["sinks", "window"])
def test_logits_after_100k_evictions_match_reference(library, stream, policy):
    sinks = SINKS if policy == "sinks" else 0
    session = runtime.Session(runtime.Model(library), policy=policy, sinks=sinks if sinks else -1,
                              capacity=CAPACITY, threads=1)
    for start in range(0, BULK_TOKENS, BULK_CHUNK):
        logits = session.feed(stream[start:start + BULK_CHUNK])
        assert np.all(np.isfinite(logits)), f"non-finite logits in the chunk at position {start}"
    last = np.concatenate([session.feed(stream[position:position + 1])
                           for position in range(BULK_TOKENS, TOTAL_TOKENS)])
    assert session.positions.tolist() == [TOTAL_TOKENS]

    model = Llama2cModel(load_checkpoint(CHECKPOINT))
    if policy == "sinks":
        reference = sinks_tail_logits(model, lambda positions: stream[positions], BULK_TOKENS,
                                      TOTAL_TOKENS - 1, SINKS, WINDOW)
    else:
        # The window policy is the sinks policy without sinks (both rotate
        # at in-cache positions), so the same tail replay is exact.
        positions = replay_positions(BULK_TOKENS, TOTAL_TOKENS - 1, model.config.n_layers, 0, CAPACITY)
        reference = streaming_logits(model, stream[positions], "window", 0, CAPACITY)[-LAST_TOKENS:]
    assert last.shape == reference.shape
    difference = np.abs(last.astype(np.float64) - reference)
    print(f"{policy}: max |logit diff| after {TOTAL_TOKENS - CAPACITY} evictions: {difference.max():.3g}")
    assert difference.max() < LOGITS_TOLERANCE, f"max |logit diff| {difference.max():.3g} after 10^5 evictions"
