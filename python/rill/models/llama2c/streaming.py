# ===- rill/models/llama2c/streaming.py - Token-by-token cache policies -=== #
"""Run a llama2.c model token by token under a streaming cache policy.

The index bookkeeping (which tokens each step keeps, and at which positions they
are rotated) comes from `rill.reference.streaming`, so this module only supplies
the model arithmetic. The policies are:

- `dense`: the cache grows;
- `window`: the cache keeps the most recent `window` tokens;
- `recompute`: every step re-encodes the last `window` tokens from scratch at
  positions 0..n-1;
- `sinks` (StreamingLLM): the first `sinks` tokens plus the most recent `window`,
  with keys cached before RoPE and rotated every step at their positions inside
  the cache.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from rill.models.llama2c.model import Llama2cModel, apply_rope_interleaved
from rill.reference.streaming import POLICIES, StreamingKVCache, plan


def _cached_step(model: Llama2cModel, token: int, cache) -> np.ndarray:
    """Run one token through every layer against the policy's cache; return logits [vocab]."""
    x = model.embed(np.array([token]))
    for layer in range(model.config.n_layers):
        q, k, v = model.qkv(layer, x)
        cache.append(layer, k[0], v[0])
        keys, values, positions, query_position = cache.keys_values(layer)

        # The cache returns [kv_heads, n, head_size]; the model works token-major.
        keys = apply_rope_interleaved(np.transpose(keys, (1, 0, 2)), positions)
        values = np.transpose(np.asarray(values, dtype=np.float64), (1, 0, 2))
        q = apply_rope_interleaved(q, np.array([query_position]))
        visible = np.ones((1, len(positions)), dtype=bool)
        x = model.finish_layer(layer, x, model.attention(q, keys, values, visible))
    return model.classify(x)[0]


def streaming_logits(
    model: Llama2cModel,
    tokens: np.ndarray | list[int],
    policy: str,
    sinks: int = 0,
    window: int | None = None,
    progress: Callable[[int], None] | None = None,
    positions: str = "cache",
) -> np.ndarray:
    """Return float64 logits [n, vocab]; row t is the prediction after token t under `policy`.

    `sinks` matters only for the `sinks` policy and `window` is ignored by `dense`;
    `positions="original"` keeps every key at its stream position (the ablation of
    `rill.reference.streaming`). Invalid arguments raise ValueError from
    `rill.reference.streaming.plan`.
    `progress`, when given, is called with each finished step's index.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    n = len(tokens)
    logits = np.empty((n, model.config.vocab_size), dtype=np.float64)
    steps = plan(policy, n, sinks, window, positions)
    cache = None if policy == "recompute" else StreamingKVCache(policy, sinks, window, model.config.n_layers,
                                                                positions)

    for t, step in enumerate(steps):
        if step.recompute:
            # Re-encode the kept tokens from scratch; the last row is the prediction.
            kept = np.asarray(step.tokens, dtype=np.int64)
            logits[t] = model.forward(tokens[kept], positions=np.asarray(step.positions))[-1]
        else:
            cache.begin_step(t)
            logits[t] = _cached_step(model, int(tokens[t]), cache)
        if progress is not None:
            progress(t)
    return logits
