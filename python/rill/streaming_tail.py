# ===- rill/streaming_tail.py - Reference logits deep into a sinks stream -=== #
"""Compute the float64 reference's logits at late positions of a long sinks-policy stream.

`rill.models.llama2c.streaming_logits` replays a stream token by token, which
took 5 to 12 ms per token for stories260K on a shared 2-core machine, so it
cannot reach stream position 10^6.
Under the `sinks` policy it does not have to. Once the cache is full, step `t`
of the reference (mit-han-lab/streaming-llm behaviour, as modelled by
`rill.reference.streaming`) attends the first `sinks` tokens and the window
`t - window + 1 .. t`, and rotates them at their positions inside the cache,
`0 .. capacity - 1`. Those positions do not depend on `t`, so nothing in the
state names the stream position, and the state is a function of the tokens
it was built from.

Which tokens? Layer 0's keys and values of a token depend on that token
only. Layer `l`'s output at step `t` reads the keys and values of layer `l`
at the sinks and at `t - window + 1 .. t`, and layer `l`'s keys and values of
a token come from layer `l - 1`'s output at that token. By induction the
logits at step `t` depend on the sink tokens and on the tokens
`t - n_layers * (window - 1) .. t`, and on nothing else. The sinks' own keys
and values come from steps `0 .. sinks - 1`, which see only each other.

So `sinks_tail_logits` replays the short stream made of the sink tokens
followed by the stream's tokens from `first - n_layers * (window - 1)` to
`last`. Step `j >= capacity` of the replay attends the same tokens as the
original step it stands for, at the same in-cache positions. Every state in
the dependency cone of the compared steps is therefore computed by the same
float64 operations on the same inputs as in a full replay, and the returned
logits equal the full replay's bit for bit. The replay's first steps see a
shorter window than the original ones did, which is why the warm-up spans
`n_layers` windows. Shorter warm-ups are not exact: at step 1,699 of the
TinyStories stream, stories260K's logits moved by up to 0.06 with a warm-up of
one window (251 tokens) and by 2e-10 with four windows.

This shortcut holds for the reference's in-cache rotation. Rill rotates each
key once, at its stream position (docs/streaming.md), which gives the same
scores in exact arithmetic. Comparing Rill's logits at position 10^6 with
these logits therefore also checks Rill's rotary angles at large positions.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from rill.models.llama2c.model import Llama2cModel
from rill.models.llama2c.streaming import streaming_logits

__all__ = ["replay_positions", "sinks_tail_logits", "sinks_warmup_tokens"]


def sinks_warmup_tokens(n_layers: int, window: int) -> int:
    """Return how many stream tokens before a step its sinks-policy logits depend on.

    The count excludes the sink tokens, which every step also depends on.
    """
    if n_layers < 1 or window < 1:
        raise ValueError(f"n_layers and window must be >= 1 (got {n_layers} and {window})")
    return n_layers * (window - 1)


def replay_positions(first: int, last: int, n_layers: int, sinks: int, window: int) -> np.ndarray:
    """Return the stream positions whose tokens the reference replays for steps `first..last`.

    The result is the sinks `0..sinks-1` followed by the contiguous run that
    ends at `last`, or every position `0..last` when the warm-up reaches back
    to the sinks.
    """
    if not 0 <= first <= last:
        raise ValueError(f"expected 0 <= first <= last (got first {first}, last {last})")
    start = first - sinks_warmup_tokens(n_layers, window)
    if start <= sinks:
        return np.arange(last + 1, dtype=np.int64)
    return np.concatenate([np.arange(sinks, dtype=np.int64), np.arange(start, last + 1, dtype=np.int64)])


def sinks_tail_logits(
    model: Llama2cModel,
    tokens_at: Callable[[np.ndarray], np.ndarray],
    first: int,
    last: int,
    sinks: int,
    window: int,
) -> np.ndarray:
    """Return the reference's float64 logits [last - first + 1, vocab] for steps `first..last`.

    `tokens_at` maps an int64 array of stream positions to the token ids at
    those positions. Row `i` is the prediction after the token at position
    `first + i`, exactly as `streaming_logits(model, stream, "sinks", sinks,
    window)` would return it for the whole stream.
    """
    positions = replay_positions(first, last, model.config.n_layers, sinks, window)
    tokens = np.asarray(tokens_at(positions), dtype=np.int64)
    if tokens.shape != positions.shape:
        raise ValueError(f"tokens_at returned shape {tokens.shape} for {len(positions)} positions")
    logits = streaming_logits(model, tokens, "sinks", sinks, window)
    return logits[len(positions) - (last - first + 1):]
