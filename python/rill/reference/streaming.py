# ===- rill/reference/streaming.py - StreamingLLM cache policies ------=== #
"""Token-by-token simulator of the four StreamingLLM cache policies.

The simulator is independent of any model. For each step `t`, the query of
stream token `t`, it lists which tokens' keys the query attends and the RoPE
position each of those keys has. Positions follow the StreamingLLM reference
implementation (mit-han-lab/streaming-llm). It caches keys before rotation and
rotates them at every step at their position inside the cache, `0..len-1`:
sinks first, then the window in stream order, the newest token last. The query
takes the last position.

Policies, with capacity `C`:

- `dense`: no eviction, the cache grows, positions are stream positions `0..t`.
- `window`: `C = window`, the most recent `window` tokens.
- `recompute`: `C = window`, the same tokens as `window`, but every step
  re-encodes the whole window from its tokens at positions `0..len-1`, so no
  cached key or value is reused.
- `sinks` (StreamingLLM): `C = sinks + window`, the first `sinks` tokens plus the
  most recent `window` tokens.

Eviction happens before token `t` is processed, so once the cache is full it
contains the sinks plus the most recent `C - sinks` tokens including `t`.

With `positions="original"` every key keeps its stream position and the query
takes `t`, so the distance to the sinks grows with the stream. That is the
StreamingLLM paper's ablation of sinks kept at their original positions (and
what truncating a cache of rotated keys does); it is not one of the policies.

`StreamingKVCache` stores pre-rotation keys and values per layer following the
same plan. `sinks_scores_reference` and `sinks_scores_rotate_once` show that
rotating each key once at its stream position, with the query rotated per
segment, gives the reference's scores without rewriting the cache.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rill.reference.rope import rotary

__all__ = [
    "POLICIES",
    "POSITIONS",
    "StepPlan",
    "StreamingKVCache",
    "capacity",
    "plan",
    "sinks_scores_reference",
    "sinks_scores_rotate_once",
    "step_plan",
]

POLICIES = ("dense", "window", "recompute", "sinks")
POSITIONS = ("cache", "original")


@dataclasses.dataclass(frozen=True)
class StepPlan:
    """Cache contents seen by the query of stream token `step`."""

    # Stream index of the current token.
    step: int
    # Stream indices of the attended tokens in cache order, the current token last.
    tokens: tuple[int, ...]
    # RoPE position of each attended key at this step, aligned with `tokens`.
    positions: tuple[int, ...]
    # RoPE position of the query, the last entry of `positions`.
    query_position: int
    # True when the whole window is re-encoded from its tokens at this step.
    recompute: bool


def _check_int(name: str, value, minimum: int) -> None:
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not is_int or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum} (got {value!r})")


def capacity(policy: str, sinks: int, window: int | None) -> int | None:
    """Return the cache capacity of `policy`, or None for the unbounded `dense` policy.

    `sinks` only counts for the `sinks` policy, and `window` is ignored by `dense`.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown cache policy {policy!r} (expected one of: {', '.join(POLICIES)})")
    if policy == "dense":
        return None

    _check_int("window", window, 1)
    if policy == "sinks":
        _check_int("sinks", sinks, 0)
        return sinks + window
    return window


def step_plan(policy: str, step: int, sinks: int, window: int | None, positions: str = "cache") -> StepPlan:
    """Plan one step of `policy` in O(capacity) time, for any stream position `step`.

    `positions` is "cache" (positions inside the cache, the reference's) or
    "original" (stream positions, the ablation); recompute always uses "cache".
    """
    cache_capacity = capacity(policy, sinks, window)
    _check_int("step", step, 0)
    if positions not in POSITIONS:
        raise ValueError(f"unknown positions {positions!r} (expected one of: {', '.join(POSITIONS)})")

    if cache_capacity is None or step < cache_capacity:
        tokens = tuple(range(step + 1))
    else:
        kept_sinks = sinks if policy == "sinks" else 0
        recent = cache_capacity - kept_sinks
        tokens = tuple(range(kept_sinks)) + tuple(range(step - recent + 1, step + 1))

    rope_positions = tokens if positions == "original" and policy != "recompute" else tuple(range(len(tokens)))
    return StepPlan(
        step=step,
        tokens=tokens,
        positions=rope_positions,
        query_position=rope_positions[-1],
        recompute=(policy == "recompute"),
    )


def plan(policy: str, n_tokens: int, sinks: int, window: int | None, positions: str = "cache") -> list[StepPlan]:
    """Plan steps `0..n_tokens-1` of `policy` and return one `StepPlan` per step.

    `policy` is one of `dense`, `window`, `recompute` or `sinks`. The capacity is
    `sinks + window` for `sinks` and `window` for `window` and `recompute`, which
    ignore `sinks`. The `dense` policy ignores both.
    """
    _check_int("n_tokens", n_tokens, 0)
    capacity(policy, sinks, window)
    return [step_plan(policy, t, sinks, window, positions) for t in range(n_tokens)]


class StreamingKVCache:
    """Per-layer cache of pre-rotation keys and values that follows `step_plan`.

    The constructor takes the `policy`, `sinks` and `window` of `plan` and the
    number of layers.
    Usage per token `t`: `begin_step(t)` evicts what the plan drops, then
    `append(layer, k, v)` stores token t's key and value [Hkv, D] for each layer,
    and `keys_values(layer)` returns the attended keys, values and their RoPE
    positions. It runs the cached policies `dense`, `window` and `sinks`. A
    cache built for `recompute` raises in `begin_step`, because that policy
    re-encodes its window every step instead of caching.
    """

    def __init__(self, policy: str, sinks: int, window: int | None, n_layers: int, positions: str = "cache"):
        capacity(policy, sinks, window)
        _check_int("n_layers", n_layers, 1)
        if positions not in POSITIONS:
            raise ValueError(f"unknown positions {positions!r} (expected one of: {', '.join(POSITIONS)})")
        self.positions = positions
        self.policy = policy
        self.n_layers = n_layers
        self.sinks = sinks
        self.window = window
        self.current: StepPlan | None = None
        # One dict per layer: stream index -> (key, value), each [Hkv, D].
        self._entries: list[dict[int, tuple[np.ndarray, np.ndarray]]] = [
            {} for _ in range(n_layers)
        ]

    def begin_step(self, t: int) -> StepPlan:
        """Start token `t` (which must follow the previous step), evicting dropped tokens."""
        if self.policy == "recompute":
            raise ValueError(
                "StreamingKVCache cannot run policy 'recompute', which re-encodes its "
                "window every step. Re-encode the tokens of step_plan() instead"
            )
        expected = 0 if self.current is None else self.current.step + 1
        if t != expected:
            raise ValueError(f"begin_step expects token {expected} next (got {t})")

        self.current = step_plan(self.policy, t, self.sinks, self.window, self.positions)
        retained = set(self.current.tokens)
        for entries in self._entries:
            for token in [token for token in entries if token not in retained]:
                del entries[token]
        return self.current

    def append(self, layer: int, k, v) -> None:
        """Store the current token's pre-rotation key and value [Hkv, D] for `layer`."""
        if self.current is None:
            raise ValueError("append called before begin_step")
        self._check_layer(layer)
        entries = self._entries[layer]
        if self.current.step in entries:
            raise ValueError(f"layer {layer} already has token {self.current.step}")
        k = np.array(k, dtype=np.float64)
        v = np.array(v, dtype=np.float64)
        if k.ndim != 2 or v.ndim != 2 or k.shape[0] != v.shape[0]:
            raise ValueError(f"k and v must be [Hkv, D] with equal Hkv (got {k.shape} and {v.shape})")
        entries[self.current.step] = (k, v)

    def keys_values(self, layer: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Return (K [Hkv, n, D] pre-rotation, V [Hkv, n, Dv], positions int64 [n], query_position).

        Entries are in cache order, the current token last, and `positions` are
        the RoPE positions of the keys at this step.
        """
        if self.current is None:
            raise ValueError("keys_values called before begin_step")
        self._check_layer(layer)
        entries = self._entries[layer]
        missing = [token for token in self.current.tokens if token not in entries]
        if missing:
            raise ValueError(f"layer {layer} has no key/value for tokens {missing[:8]}; call append first")

        keys = np.stack([entries[token][0] for token in self.current.tokens], axis=1)
        values = np.stack([entries[token][1] for token in self.current.tokens], axis=1)
        positions = np.asarray(self.current.positions, dtype=np.int64)
        return keys, values, positions, self.current.query_position

    def stored_tokens(self, layer: int) -> tuple[int, ...]:
        """Return the stream indices whose key and value `layer` currently stores, sorted."""
        self._check_layer(layer)
        return tuple(sorted(self._entries[layer]))

    def _check_layer(self, layer: int) -> None:
        if not 0 <= layer < self.n_layers:
            raise ValueError(f"layer must be in [0, {self.n_layers}) (got {layer})")


def sinks_scores_reference(q, keys, theta: float = 10000.0, rotary_dim: int | None = None,
                           interleaved: bool = False) -> np.ndarray:
    """Compute unscaled scores [H, n] the way the StreamingLLM reference does.

    `q` [H, D] is the current token's pre-rotation query and `keys` [H, n, D]
    the pre-rotation cached keys in cache order. Every key is rotated at its
    in-cache position `j` and the query at the last position `n - 1`.
    """
    keys = np.asarray(keys, dtype=np.float64)
    n = keys.shape[1]
    rotated_keys = rotary(keys, np.arange(n), theta, rotary_dim, interleaved)
    rotated_query = rotary(np.asarray(q, dtype=np.float64), n - 1, theta, rotary_dim, interleaved)
    return np.einsum("hd,hnd->hn", rotated_query, rotated_keys)


def sinks_scores_rotate_once(q, keys_rotated, tokens, sinks: int, theta: float = 10000.0,
                             rotary_dim: int | None = None,
                             interleaved: bool = False) -> np.ndarray:
    """Compute the same scores as `sinks_scores_reference` from keys rotated once.

    `keys_rotated` [H, n, D] contains each cached key rotated once, at insertion,
    at its stream position `tokens[j]`. RoPE scores depend only on the query
    position minus the key position, and the reference's distance for entry `j`
    is `(n - 1) - j`. The query therefore rotates at `tokens[j] + (n - 1) - j`,
    which is constant per segment:

    - sink entries (`j < sinks`) have `tokens[j] == j`, so the query rotates at
      `n - 1`, its in-cache position;
    - window entries are contiguous and end at the current token `t`, so the
      query rotates at its stream position `t`, and the distance is the stream
      distance `t - tokens[j]`.

    Before the cache fills, `tokens` is `0..t` and both rules give `t`.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    keys_rotated = np.asarray(keys_rotated, dtype=np.float64)
    n = tokens.shape[0]
    if keys_rotated.ndim != 3 or keys_rotated.shape[1] != n:
        raise ValueError(f"keys_rotated must be [H, {n}, D] (got {keys_rotated.shape})")
    _check_int("sinks", sinks, 0)

    n_sinks = min(sinks, n)
    current = int(tokens[-1])
    window_tokens = tokens[n_sinks:]
    if not np.array_equal(tokens[:n_sinks], np.arange(n_sinks)):
        raise ValueError(f"sink entries must be tokens 0..{n_sinks - 1} (got {tokens[:n_sinks]})")
    if not np.array_equal(window_tokens, np.arange(current - len(window_tokens) + 1, current + 1)):
        raise ValueError("window entries must be contiguous stream tokens ending at the current token")

    q = np.asarray(q, dtype=np.float64)
    query_for_sinks = rotary(q, n - 1, theta, rotary_dim, interleaved)
    query_for_window = rotary(q, current, theta, rotary_dim, interleaved)

    sink_scores = np.einsum("hd,hnd->hn", query_for_sinks, keys_rotated[:, :n_sinks])
    window_scores = np.einsum("hd,hnd->hn", query_for_window, keys_rotated[:, n_sinks:])
    return np.concatenate([sink_scores, window_scores], axis=1)
