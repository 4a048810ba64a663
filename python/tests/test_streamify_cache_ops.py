# ===- tests/test_streamify_cache_ops.py - Cache ops against a stream simulation -=== #
"""Run rill.cache_attention and rill.cache_update through rill-exec.

The expected values come from simulating the stream directly. Keys and values
are generated per stream position, and the cache is filled by writing every
position before the chunk into its slot in order. Attention then enumerates
the visible positions with the rule of docs/streaming.md. The compiled ops
instead derive slot contents from the chunk start alone, so the two sides
share no code. Cases cover sink and window slots, wrapped rings, positions
past 10^6, a chunk longer than the window and both prefill modes.

Every case runs through both lowerings of rill-exec: the reference one (the
ops rewritten to one rill.attention with a visibility bias, and an elementwise
cache rebuild) and the CPU one (the tiled kernel walking sink slots, the
window ring and the chunk, and row writes into the cache). The larger cases
span several key tiles and query blocks of the CPU kernel.

rill-exec is found in $RILL_BUILD_DIR/bin, on PATH or in build/bin.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import zlib

import numpy as np
import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def find_rill_exec() -> pathlib.Path | None:
    candidates = []
    if os.environ.get("RILL_BUILD_DIR"):
        candidates.append(pathlib.Path(os.environ["RILL_BUILD_DIR"]) / "bin" / "rill-exec")
    on_path = shutil.which("rill-exec")
    if on_path:
        candidates.append(pathlib.Path(on_path))
    candidates.append(REPO_ROOT / "build" / "bin" / "rill-exec")
    return next((path for path in candidates if path.is_file()), None)


RILL_EXEC = find_rill_exec()
pytestmark = pytest.mark.skipif(RILL_EXEC is None, reason="rill-exec is not built")

HQ, HKV, D = 4, 2, 8

MODULE = """
func.func @run(%q: tensor<?x4x?x8xf32> {{rill.name = "q"}}, %qs: tensor<?x4x?x8xf32> {{rill.name = "qs"}},
               %k: tensor<?x2x?x8xf32> {{rill.name = "k"}}, %v: tensor<?x2x?x8xf32> {{rill.name = "v"}},
               %kc: tensor<?x2x?x8xf32> {{rill.name = "kc"}}, %vc: tensor<?x2x?x8xf32> {{rill.name = "vc"}},
               %pos: tensor<?xi64> {{rill.name = "pos"}}, %sinks: index {{rill.name = "sinks"}},
               %cap: index {{rill.name = "cap"}})
    -> (tensor<?x4x?x8xf32> {{rill.name = "out"}}, tensor<?x2x?x8xf32> {{rill.name = "new_kc"}},
        tensor<?x2x?x8xf32> {{rill.name = "new_vc"}}) {{
  %out = rill.cache_attention %q, %qs, %k, %v, %kc, %vc at %pos sinks(%sinks) capacity(%cap) {attributes}
      : tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>,
        tensor<?x2x?x8xf32>, tensor<?xi64> -> tensor<?x4x?x8xf32>
  %nk, %nv = rill.cache_update %k, %v into %kc, %vc at %pos sinks(%sinks) capacity(%cap)
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?xi64>
  return %out, %nk, %nv : tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
}}
"""


def slot(p: int, sinks: int, capacity: int) -> int:
    return p if p < sinks else sinks + (p - sinks) % (capacity - sinks)


def simulate(rng, starts, chunk, sinks, capacity, dense):
    """Return the op inputs and the expected outputs for chunks at `starts`."""
    batch = len(starts)
    window = capacity - sinks
    q = rng.standard_normal((batch, HQ, chunk, D)).astype(np.float32)
    qs = rng.standard_normal((batch, HQ, chunk, D)).astype(np.float32)
    k = rng.standard_normal((batch, HKV, chunk, D)).astype(np.float32)
    v = rng.standard_normal((batch, HKV, chunk, D)).astype(np.float32)
    kc = np.zeros((batch, HKV, capacity, D), np.float32)
    vc = np.zeros((batch, HKV, capacity, D), np.float32)
    out = np.zeros((batch, HQ, chunk, D), np.float64)
    new_kc, new_vc = kc.copy(), vc.copy()
    scale = 1.0 / np.sqrt(D)

    for b, start in enumerate(starts):
        # Keys by stream position: the cached ones whose slot still contains
        # them, then the chunk's.
        keys, values = {}, {}
        written = {}
        first = max(0, start - 4 * capacity)
        for p in list(range(min(sinks, start))) + list(range(max(first, sinks), start)):
            key = rng.standard_normal((HKV, D)).astype(np.float32)
            value = rng.standard_normal((HKV, D)).astype(np.float32)
            written[slot(p, sinks, capacity)] = p
            kc[b, :, slot(p, sinks, capacity)] = key
            vc[b, :, slot(p, sinks, capacity)] = value
        for s, p in written.items():
            keys[p], values[p] = kc[b, :, s], vc[b, :, s]
        cached = set(keys)
        for j in range(chunk):
            keys[start + j], values[start + j] = k[b, :, j], v[b, :, j]

        for i in range(chunk):
            t = start + i
            if dense:
                visible = [p for p in keys if p in cached or p <= t]
            else:
                visible = [p for p in keys if p <= t and (p < sinks or t - p < window)]
            for h in range(HQ):
                g = h // (HQ // HKV)
                scores = np.array([scale * np.dot((qs if p < sinks else q)[b, h, i].astype(np.float64),
                                                  keys[p][g].astype(np.float64)) for p in visible])
                weights = np.exp(scores - scores.max())
                weights /= weights.sum()
                out[b, h, i] = sum(w * values[p][g] for w, p in zip(weights, visible))

        new_kc[b], new_vc[b] = kc[b], vc[b]
        for j in range(chunk):
            new_kc[b, :, slot(start + j, sinks, capacity)] = k[b, :, j]
            new_vc[b, :, slot(start + j, sinks, capacity)] = v[b, :, j]

    inputs = dict(q=q, qs=qs, k=k, v=v, kc=kc, vc=vc, pos=np.asarray(starts, np.int64),
                  sinks=np.array(sinks, np.int64), cap=np.array(capacity, np.int64))
    return inputs, dict(out=out, new_kc=new_kc, new_vc=new_vc)


CASES = [
    # (name, chunk starts per batch row, chunk, sinks, capacity, dense)
    ("first_chunk", [0, 0], 3, 2, 6, False),
    ("sinks_and_wrapped_ring", [1, 23], 3, 2, 6, False),
    ("chunk_longer_than_window", [5, 40], 9, 2, 6, False),
    ("no_sinks", [17, 3], 4, 0, 5, False),
    ("past_one_million", [1_000_003, 2_000_017], 4, 4, 12, False),
    ("dense_within_chunk", [9, 30], 5, 2, 6, True),
    ("decode_wrapped_ring", [1000, 5], 1, 4, 68, False),
    ("decode_window_only", [300, 33], 1, 0, 64, False),
    ("ring_across_tiles", [200, 77], 5, 4, 70, False),
    ("chunk_across_blocks", [150, 10], 40, 4, 70, False),
    ("chunk_longer_than_window_tiles", [90, 0], 75, 3, 67, False),
    ("dense_across_tiles", [50, 0], 37, 0, 100, True),
]

PIPELINES = ("reference", "cpu")


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("name,starts,chunk,sinks,capacity,dense", CASES, ids=[case[0] for case in CASES])
def test_cache_ops_match_stream(tmp_path, name, starts, chunk, sinks, capacity, dense, pipeline):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    inputs, expected = simulate(rng, starts, chunk, sinks, capacity, dense)
    module = tmp_path / "cache_ops.mlir"
    module.write_text(MODULE.format(attributes="{dense_within_chunk}" if dense else ""))
    np.savez(tmp_path / "inputs.npz", **inputs)
    subprocess.run([str(RILL_EXEC), str(module), "--entry", "run", "--inputs", str(tmp_path / "inputs.npz"),
                    "--outputs", str(tmp_path / "outputs.npz"), f"--pipeline={pipeline}"], check=True)
    with np.load(tmp_path / "outputs.npz") as outputs:
        out_error = np.abs(outputs["out"] - expected["out"]).max()
        assert out_error < 1e-5, f"attention output off by {out_error}"
        assert np.array_equal(outputs["new_kc"], expected["new_kc"]), "key cache update differs"
        assert np.array_equal(outputs["new_vc"], expected["new_vc"]), "value cache update differs"
