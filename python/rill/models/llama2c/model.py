# ===- rill/models/llama2c/model.py - Float64 numpy forward pass -----=== #
"""Reference forward pass for llama2.c checkpoints.

The model is the Llama architecture as llama2.c runs it. RMSNorm with epsilon
1e-5 precedes attention and the feed-forward block. Attention is grouped-query
attention with rotary position embeddings (RoPE) applied to interleaved pairs
(2i, 2i + 1) at frequency 10000^(-2i / head_size). The feed-forward block is
SwiGLU, w2(silu(w1 x) * w3 x), and a final RMSNorm precedes the classifier. Weights are the
checkpoint's float32 values; every computation runs in float64, so this model
serves as the reference that float32 implementations are measured against.

The pieces (`qkv`, `attention`, `finish_layer`, `classify`) are public so that
streaming cache policies can run the same arithmetic with their own key sets.
"""

from __future__ import annotations

import numpy as np

from rill.models.llama2c.checkpoint import Checkpoint, Config
from rill.reference.rope import rotary

RMS_NORM_EPS = 1e-5
ROPE_THETA = 10000.0


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float = RMS_NORM_EPS) -> np.ndarray:
    """Normalise the last axis by its root mean square, then scale by `weight`."""
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def apply_rope_interleaved(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Rotate x [n, heads, head_size] at `positions` [n], pairing elements (2i, 2i + 1).

    The angles come from `rill.reference.rope`, which computes them in float64 at
    frequency 10000^(-2i / head_size).
    """
    positions = np.asarray(positions, dtype=np.int64)
    return rotary(x, positions[:, None], theta=ROPE_THETA, interleaved=True)


def silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


class Llama2cModel:
    """A llama2.c model evaluated in float64.

    Tensors use llama2.c's row layout: per-head vectors are [heads, head_size] and
    sequences put the token axis first.
    """

    def __init__(self, checkpoint: Checkpoint):
        self.config: Config = checkpoint.config
        w = checkpoint.weights
        as64 = lambda a: np.asarray(a, dtype=np.float64)

        # Matrices are kept transposed to [in, out] and contiguous, because x @ W
        # is about twice as fast as x @ W.T with Debian's reference BLAS.
        as64_t = lambda a: np.ascontiguousarray(np.swapaxes(as64(a), -1, -2))
        self.token_embedding = as64(w.token_embedding)
        self.rms_att = as64(w.rms_att)
        self.wq_t, self.wk_t, self.wv_t, self.wo_t = as64_t(w.wq), as64_t(w.wk), as64_t(w.wv), as64_t(w.wo)
        self.rms_ffn = as64(w.rms_ffn)
        self.w1_t, self.w2_t, self.w3_t = as64_t(w.w1), as64_t(w.w2), as64_t(w.w3)
        self.rms_final = as64(w.rms_final)
        self.wcls_t = as64_t(w.wcls)

    # Layer pieces.

    def embed(self, tokens: np.ndarray) -> np.ndarray:
        tokens = np.asarray(tokens, dtype=np.int64)
        if tokens.size and (tokens.min() < 0 or tokens.max() >= self.config.vocab_size):
            raise ValueError(f"token ids must lie in [0, {self.config.vocab_size}) (got {tokens.min()}..{tokens.max()})")
        return self.token_embedding[tokens]

    def qkv(self, layer: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return q [n, heads, hs], k and v [n, kv_heads, hs] for hidden states x [n, dim], before RoPE."""
        c = self.config
        h = rms_norm(x, self.rms_att[layer])
        q = (h @ self.wq_t[layer]).reshape(-1, c.n_heads, c.head_size)
        k = (h @ self.wk_t[layer]).reshape(-1, c.n_kv_heads, c.head_size)
        v = (h @ self.wv_t[layer]).reshape(-1, c.n_kv_heads, c.head_size)
        return q, k, v

    def attention(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, visible: np.ndarray) -> np.ndarray:
        """Attend rotated queries q [n, heads, hs] to rotated keys k [m, kv_heads, hs] and values v.

        `visible` [n, m] is the boolean mask. Query head h reads key/value head
        h // (heads / kv_heads). A query row with no visible key returns zeros.
        Returns the concatenated head outputs [n, dim].
        """
        c = self.config
        group = c.n_heads // c.n_kv_heads
        k_heads = np.repeat(k, group, axis=1)
        v_heads = np.repeat(v, group, axis=1)

        scores = np.einsum("qhd,khd->hqk", q, k_heads) / np.sqrt(c.head_size)
        scores = np.where(visible[None, :, :], scores, -np.inf)
        row_max = scores.max(axis=-1, keepdims=True)
        row_max = np.where(np.isfinite(row_max), row_max, 0.0)
        weights = np.exp(scores - row_max)
        total = weights.sum(axis=-1, keepdims=True)
        weights = weights / np.where(total > 0, total, 1.0)

        out = np.einsum("hqk,khd->qhd", weights, v_heads)
        return out.reshape(q.shape[0], c.dim)

    def finish_layer(self, layer: int, x: np.ndarray, attended: np.ndarray) -> np.ndarray:
        """Apply the output projection, the residual connections and the SwiGLU block."""
        x = x + attended @ self.wo_t[layer]
        h = rms_norm(x, self.rms_ffn[layer])
        gated = silu(h @ self.w1_t[layer]) * (h @ self.w3_t[layer])
        return x + gated @ self.w2_t[layer]

    def classify(self, x: np.ndarray) -> np.ndarray:
        """Return logits [n, vocab] for final hidden states x [n, dim]."""
        return rms_norm(x, self.rms_final) @ self.wcls_t

    # Whole passes.

    def forward(
        self,
        tokens: np.ndarray,
        positions: np.ndarray | None = None,
        return_cache: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """Run dense causal attention over `tokens` and return logits [n, vocab].

        `positions` (default 0..n-1) are the RoPE positions of the tokens; the mask
        is causal in sequence order whatever the positions are. With `return_cache`
        also return, per layer, the rotated keys and the values, each
        [n, kv_heads, head_size].
        """
        tokens = np.asarray(tokens, dtype=np.int64)
        n = len(tokens)
        positions = np.arange(n) if positions is None else np.asarray(positions, dtype=np.int64)
        if positions.shape != (n,):
            raise ValueError(f"positions must have shape ({n},) to match the tokens (got {positions.shape})")
        visible = np.tril(np.ones((n, n), dtype=bool))

        x = self.embed(tokens)
        cache = []
        for layer in range(self.config.n_layers):
            q, k, v = self.qkv(layer, x)
            q = apply_rope_interleaved(q, positions)
            k = apply_rope_interleaved(k, positions)
            cache.append((k, v))
            x = self.finish_layer(layer, x, self.attention(q, k, v, visible))

        logits = self.classify(x)
        return (logits, cache) if return_cache else logits

    def step(self, token: int, position: int, cache: list[list[np.ndarray]]) -> np.ndarray:
        """Run one token at `position` against a growing dense cache and return its logits [vocab].

        `cache` contains one [rotated keys, values] list pair per layer, arrays
        [m, kv_heads, head_size]; this call appends the token's entries.
        """
        x = self.embed(np.array([token]))
        positions = np.array([position])
        for layer in range(self.config.n_layers):
            q, k, v = self.qkv(layer, x)
            keys, values = cache[layer]
            keys.append(apply_rope_interleaved(k, positions))
            values.append(v)
            all_keys, all_values = np.concatenate(keys), np.concatenate(values)
            visible = np.ones((1, len(all_keys)), dtype=bool)
            q = apply_rope_interleaved(q, positions)
            x = self.finish_layer(layer, x, self.attention(q, all_keys, all_values, visible))
        return self.classify(x)[0]

    def new_cache(self) -> list[list[list[np.ndarray]]]:
        return [[[], []] for _ in range(self.config.n_layers)]

    def generate_greedy(self, prompt: list[int], max_tokens: int) -> list[int]:
        """Extend `prompt` by argmax sampling; returns prompt plus generated ids.

        Stops once the sequence has `max_tokens` ids or the model emits BOS (id 1),
        which llama2.c's `run` treats as the end of a story. The BOS that ends a
        story is not included.
        """
        if not prompt:
            raise ValueError("prompt must contain at least one token (usually BOS = 1)")
        tokens = list(prompt)
        cache = self.new_cache()
        for position in range(max_tokens - 1):
            logits = self.step(tokens[position], position, cache)
            if position + 1 < len(prompt):
                continue
            next_token = int(np.argmax(logits))
            if next_token == 1:
                break
            tokens.append(next_token)
        return tokens
